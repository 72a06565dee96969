"""Benchmark `gridsupply solve` at three sizes: end to end, by part, peak memory, and the tiers;
and the engine against a bare OR-Tools solve of the same arcs.

Run: `.venv/bin/python benchmarks/bench_solve.py [small city province] [--repeat N] [--no-floors]`.
Figures are printed, not asserted. Targets (2 cores): province ≤ 3 s end to end and ≤ 1.5 GB,
city ≤ 1 s. The generated instances have floors on a third of their agreement lines (the
province's central matching), `--no-floors` leaves them out.

Bare: one `SimpleMinCostFlow` per material (not one for all: that is 5-7 times slower, see
docs/optimizer.md) over exactly the arcs the engine builds (`optimizer.model`), with one combined
integer cost — the engine's first stage: all three tiers big-M combined where they fit int64
(most materials), else the leading tiers that do — timed from adding the arcs to reading the
flows; the arrays are made beforehand, untimed. It is what the engine would cost if the network
were all it did: the ratio engine / bare is the price of proven lexicographic optimality (the
second stages), of validation, of reading and writing JSON and of the reasons.

Wall seconds depend on what else the machine runs: the load average is printed beside them, and
the CPU seconds of the `gridsupply solve` process (user + system), which depend on it less.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from ortools.graph.python import min_cost_flow

from benchmarks.generate import SIZES, generate
from optimizer import Instance, load_json, plan_to_json, solve_document, validate_instance
from optimizer.lexmin import _stage
from optimizer.model import material_models
from optimizer.network import EXACT_LIMIT
from optimizer.validate import checked_matching

# `gridsupply solve` as its console script runs it, and at exit its peak resident set (VmHWM:
# this process's own, from exec on). `ru_maxrss` would not do: Linux carries the peak of the
# memory a process had before exec over into it, and a child made by vfork had its parent's.
_MEASURED = """
import os, sys
from api.cli import main
sys.argv = ["gridsupply", *sys.argv[1:]]
try:
    main()
finally:
    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["BENCH_PEAK_FILE"], "w", encoding="ascii") as out:
        out.write(peak)
"""


def run_measured(args: list[str]) -> tuple[float, float, float]:
    """Run `gridsupply ARGS` in a fresh process: (seconds, CPU seconds, peak resident MB)."""
    with tempfile.NamedTemporaryFile(suffix=".peak") as peak_file:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURED, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "BENCH_PEAK_FILE": peak_file.name},
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            error = proc.stderr.read().decode()[-500:] if proc.stderr else ""
            raise SystemExit(f"gridsupply {args[0]} failed ({code}): {error}")
        if proc.stderr:
            proc.stderr.close()
        peak_kb = int(Path(peak_file.name).read_text(encoding="ascii"))
    return seconds, usage.ru_utime + usage.ru_stime, peak_kb / 1024


def end_to_end(instance: Path, plan: Path) -> tuple[float, float, float]:
    """Run `gridsupply solve` in a fresh process; return (seconds, peak resident MB, CPU s)."""
    seconds, cpu, peak = run_measured(["solve", str(instance), "-o", str(plan)])
    return seconds, peak, cpu


def bare_flow(instance: Instance) -> dict[str, float]:
    """Solve the engine's arcs once per material with one combined cost, as bare OR-Tools."""
    m = checked_matching(instance)
    assert not isinstance(m, list)
    prepared = []
    all_tiers = 0
    for _, model in material_models(m):
        p = model.problem
        live = np.flatnonzero(p.capacity > 0)
        tiers, capacity = p.tiers[:, live], p.capacity[live]
        group, multipliers = _stage(tiers, capacity, p.n_nodes, EXACT_LIMIT)
        cost = np.zeros(len(live), dtype=np.int64)
        for k, factor in zip(group, multipliers, strict=True):
            cost += tiers[k] * np.int64(factor)
        all_tiers += len(group) == 3 or not group
        prepared.append((p.n_nodes, p.tail[live], p.head[live], capacity, cost, p.supply))
    start = time.perf_counter()
    for n_nodes, tail, head, capacity, cost, supply in prepared:
        solver = min_cost_flow.SimpleMinCostFlow()
        solver.add_arcs_with_capacity_and_unit_cost(tail, head, capacity, cost)
        solver.set_nodes_supplies(np.arange(n_nodes, dtype=np.int64), supply)
        if solver.solve() != solver.OPTIMAL:
            raise SystemExit("the bare min-cost flow failed")
        solver.flows(np.arange(len(tail), dtype=np.int64))
    return {
        "bare": time.perf_counter() - start,
        "networks": len(prepared),
        "all_tiers": all_tiers,
        "bare_arcs": sum(len(p[1]) for p in prepared),
    }


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
    bare = min((bare_flow(instance) for _ in range(3)), key=lambda b: b["bare"])
    return {
        **bare,
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
    parser.add_argument("--no-floors", action="store_true", help="no floors on agreement lines")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cpus; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sizes:
            size = SIZES[name]
            instance = Path(tmp) / f"{name}.json"
            doc = generate(**size, floors=not args.no_floors)
            floors = sum(1 for s in doc["sources"] if s.get("floor"))
            instance.write_text(json.dumps(doc), encoding="utf-8")
            del doc
            runs = [
                end_to_end(instance, Path(tmp) / f"{name}-plan.json") for _ in range(args.repeat)
            ]
            seconds = min(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            cpu = min(r[2] for r in runs)
            load = os.getloadavg()[0]
            p = parts(instance.read_bytes())
            print(
                f"\n== {name}: {size['lines']} lines, {size['materials']} materials, "
                f"{size['warehouses']} warehouses, {p['arcs']} arcs, {floors} agreement lines "
                f"with a floor ({instance.stat().st_size / 1e6:.1f} MB instance)"
            )
            print(
                f"end to end `gridsupply solve`: {seconds:.2f} s (best of {args.repeat}; "
                f"load average {load:.1f} on {os.cpu_count()} cpus), CPU {cpu:.2f} s, "
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
            print(
                f"bare OR-Tools, one SimpleMinCostFlow per material, one combined cost: "
                f"{p['bare']:.3f} s for {p['networks']} networks, {p['bare_arcs']} arcs "
                f"(all three tiers in one cost: {p['all_tiers']}); engine / bare: solve "
                f"{p['solve'] / p['bare']:.1f}x, whole solve() {p['solve_total'] / p['bare']:.1f}x, "
                f"end to end {seconds / p['bare']:.1f}x"
            )
            print(f"optimal tiers (unmet, lateness, cost): {p['tiers']}")
            print(f"greedy  tiers (unmet, lateness, cost): {p['greedy_tiers']}")


if __name__ == "__main__":
    main()
