"""Benchmark `gridsupply solve` at three sizes: end to end, by part, peak memory, and the tiers.

Run: `.venv/bin/python benchmarks/bench_solve.py [small city province] [--repeat N]`.
Figures are printed, not asserted. Targets (2 cores): province ≤ 5 s end to end and ≤ 1.5 GB,
city ≤ 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import SIZES, generate
from optimizer import load_json, plan_to_json, solve_document, validate_instance

GRIDSUPPLY = Path(sys.executable).with_name("gridsupply")


def end_to_end(instance: Path, plan: Path) -> tuple[float, float]:
    """Run `gridsupply solve` in a fresh process; return (seconds, peak resident MB)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [str(GRIDSUPPLY), "solve", str(instance), "-o", str(plan)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"gridsupply solve failed ({proc.returncode}): {proc.stderr[-500:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb / 1024


def parts(text: bytes) -> dict[str, float]:
    """Time the parts of a solve in this process."""
    t0 = time.perf_counter()
    raw = load_json(text)
    t1 = time.perf_counter()
    instance = validate_instance(raw)
    t2 = time.perf_counter()
    assert not isinstance(instance, list)
    from optimizer import solve

    plan = solve(instance)
    t3 = time.perf_counter()
    plan_to_json(plan)
    t4 = time.perf_counter()
    greedy = solve_document(raw, method="greedy")
    return {
        "json_read": t1 - t0,
        "validate": t2 - t1,
        "build": plan.stats["build_seconds"],
        "solve": plan.stats["solve_seconds"],
        "explain": plan.stats["explain_seconds"],
        "solve_total": t3 - t2,
        "json_write": t4 - t3,
        "tiers": (
            plan.objective.unmet_weighted,
            plan.objective.lateness_weighted,
            plan.objective.cost,
        ),
        "greedy_tiers": (
            greedy.objective.unmet_weighted,
            greedy.objective.lateness_weighted,
            greedy.objective.cost,
        ),
        "arcs": plan.stats["arcs"],
        "stages": plan.stats["networks_by_stages"],
        "late": len(plan.late),
        "unmet": len(plan.unmet),
    }


def main() -> None:
    """Generate, solve and report each requested size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", default=list(SIZES))
    parser.add_argument(
        "--repeat", type=int, default=3, help="end-to-end runs per size (best is kept)"
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cpus; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sizes:
            size = SIZES[name]
            instance = Path(tmp) / f"{name}.json"
            instance.write_text(json.dumps(generate(**size)), encoding="utf-8")
            runs = [
                end_to_end(instance, Path(tmp) / f"{name}-plan.json") for _ in range(args.repeat)
            ]
            seconds = min(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            p = parts(instance.read_bytes())
            print(
                f"\n== {name}: {size['lines']} lines, {size['materials']} materials, "
                f"{size['warehouses']} warehouses, {p['arcs']} arcs "
                f"({instance.stat().st_size / 1e6:.1f} MB instance)"
            )
            print(
                f"end to end `gridsupply solve`: {seconds:.2f} s (best of {args.repeat}), "
                f"peak RSS {peak:.0f} MB"
            )
            print(
                "parts (in process): "
                + ", ".join(
                    f"{k} {p[k]:.3f} s"
                    for k in (
                        "json_read",
                        "validate",
                        "build",
                        "solve",
                        "explain",
                        "solve_total",
                        "json_write",
                    )
                )
            )
            print(
                f"networks by number of stages: {p['stages']}; late lines {p['late']}, "
                f"unmet lines {p['unmet']}"
            )
            print(f"optimal tiers (unmet, lateness, cost): {p['tiers']}")
            print(f"greedy  tiers (unmet, lateness, cost): {p['greedy_tiers']}")


if __name__ == "__main__":
    main()
