"""Benchmark a national run: one instance of 27 provinces' week, solved whole in one process and
split by material into K parts solved in a process pool (1 and 2 workers), then merged.

Run: `.venv/bin/python benchmarks/bench_national.py [province national] [--parts K]
[--workers 1 2] [--no-whole] [--no-check]`. Figures are printed, not asserted.

The problem separates by material (the engine already solves one network per material), so a part
is a whole instance of its own: the demands and sources of its materials and the transport rows
between their locations. Parts are balanced by the arcs they will hold (demand lines × sources of
each material, largest first onto the lightest part). The pool's workers are started and have
imported the engine before the clock starts (a queue's workers are long-lived); each reads its
part's JSON, solves it, writes its plan's JSON and returns its objective and peak memory. Merging
reads the part plans, concatenates their lines, sums their objectives exactly and writes the
national plan.

Checks: the independent checker (`optimizer.check_plan`, exact fractions, no solver) recomputes
the merged plan's three tiers from the whole instance, and they must equal the sum of the parts'
objectives exactly; and the whole one-process solve must reach the same tiers (and, the scales
being the same, the same allocations).

Memory: peaks are each process's own VmHWM (from exec on: `ru_maxrss` would carry the parent's
over a vfork and exec): the whole run's, and each worker's. The parent holds the generated
instance (its figure is printed apart). Workers are spawned, not forked, so that none counts the
parent's pages as its own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_solve import run_measured
from benchmarks.generate import SIZES, generate
from optimizer import (
    Instance,
    check_plan,
    parse_instance,
    plan_to_json,
    read_plan,
    solve_instance_text,
)
from optimizer.contract import Objective

TIERS = ("unmet_weighted", "lateness_weighted", "cost")
Tiers = tuple[Fraction, Fraction, Fraction]


def _exact(value: float) -> Fraction:
    # A tier is written as the shortest decimal that reads back as its float: exact here (whole
    # numbers and cents, well under 15 significant digits).
    return Fraction(Decimal(repr(value)))


def tiers_of(objective: Objective | dict[str, Any]) -> Tiers:
    """A plan's three tiers as exact fractions."""
    read = objective if isinstance(objective, dict) else objective.model_dump()
    return (_exact(read[TIERS[0]]), _exact(read[TIERS[1]]), _exact(read[TIERS[2]]))


def _status_mb(key: str) -> float:
    """A size from this process's /proc status (VmRSS: now; VmHWM: its peak), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


# --- split ------------------------------------------------------------------------------------


@dataclass
class Part:
    """The materials of one part and what it holds."""

    materials: list[str] = field(default_factory=list)
    arcs: int = 0
    lines: int = 0


def split(doc: dict[str, Any], k: int) -> list[dict[str, Any]]:
    """Split an instance by material into k instances of about as many arcs each."""
    lines: dict[str, int] = defaultdict(int)
    for d in doc["demands"]:
        lines[d["material"]] += 1
    sources: dict[str, int] = defaultdict(int)
    for s in doc["sources"]:
        sources[s["material"]] += 1
    weight = {m: lines[m] * max(1, sources[m]) + lines[m] for m in lines.keys() | sources.keys()}
    parts = [Part() for _ in range(k)]
    part_of: dict[str, int] = {}
    for material in sorted(weight, key=lambda m: (-weight[m], m)):
        i = min(range(k), key=lambda j: (parts[j].arcs, j))
        parts[i].materials.append(material)
        parts[i].arcs += weight[material]
        parts[i].lines += lines[material]
        part_of[material] = i
    demands: list[list[dict[str, Any]]] = [[] for _ in range(k)]
    for d in doc["demands"]:
        demands[part_of[d["material"]]].append(d)
    part_sources: list[list[dict[str, Any]]] = [[] for _ in range(k)]
    for s in doc["sources"]:
        part_sources[part_of[s["material"]]].append(s)
    out = []
    for i in range(k):
        froms = {s["location"] for s in part_sources[i]}
        tos = {d["location"] for d in demands[i]}
        transport = [t for t in doc["transport"] if t["from"] in froms and t["to"] in tos]
        out.append(
            {
                "version": doc["version"],
                "plan_date": doc["plan_date"],
                "demands": demands[i],
                "sources": part_sources[i],
                "transport": transport,
                "policy": doc["policy"],
            }
        )
    return out


# --- the pool's work --------------------------------------------------------------------------


def warm(_: int) -> int:
    """Let a worker start and import the engine before the clock starts; return its id."""
    time.sleep(0.5)  # long enough that every worker of the pool is started to take one
    return os.getpid()


def solve_part(instance: str, plan: str) -> dict[str, Any]:
    """Solve one part's instance file and write its plan file (in a worker)."""
    start, cpu = time.perf_counter(), time.process_time()
    text = Path(instance).read_bytes()
    result = solve_instance_text(text)
    del text
    Path(plan).write_text(plan_to_json(result), encoding="utf-8")
    if result.status != "optimal":
        raise RuntimeError(f"{instance}: status {result.status}")
    return {
        "plan": plan,
        "objective": result.objective.model_dump(),
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "solve_seconds": result.stats["solve_seconds"],
        "pid": os.getpid(),
        "peak_mb": _status_mb("VmHWM"),  # its own since exec: workers are spawned
    }


@dataclass
class PoolRun:
    """What one pool run measured."""

    workers: int
    seconds: float
    results: list[dict[str, Any]]

    def worker_peaks(self) -> dict[int, float]:
        peaks: dict[int, float] = defaultdict(float)
        for r in self.results:
            peaks[r["pid"]] = max(peaks[r["pid"]], r["peak_mb"])
        return dict(peaks)

    def tiers(self) -> Tiers:
        total = [Fraction(0)] * 3
        for r in self.results:
            total = [a + b for a, b in zip(total, tiers_of(r["objective"]), strict=True)]
        return (total[0], total[1], total[2])


def run_pool(paths: Sequence[tuple[Path, Path]], workers: int) -> PoolRun:
    """Solve the parts in a pool of `workers` spawned processes, largest part first."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # Start every worker and let it import the engine: a queue's workers are long-lived.
        started = set(pool.map(warm, range(workers)))
        assert len(started) == workers, started
        start = time.perf_counter()
        futures = [pool.submit(solve_part, str(i), str(p)) for i, p in paths]
        results = [f.result() for f in as_completed(futures)]
        seconds = time.perf_counter() - start
    return PoolRun(workers, seconds, results)


def merge(plans: Sequence[str], merged: Path) -> tuple[Tiers, float]:
    """Read the part plans, concatenate their lines, sum their objectives, write the whole plan
    (as JSON: the parts were checked as they were written, and the checker reads the whole)."""
    start = time.perf_counter()
    total = [Fraction(0)] * 3
    lists: dict[str, list[Any]] = {"allocations": [], "unmet": [], "late": []}
    statuses = set()
    for path in plans:
        part = json.loads(Path(path).read_bytes())
        statuses.add(part["status"])
        total = [a + b for a, b in zip(total, tiers_of(part["objective"]), strict=True)]
        for key, items in lists.items():
            items += part[key]
    whole = {
        "version": 1,
        "status": "optimal" if statuses == {"optimal"} else "feasible",
        "objective": {name: _number(v) for name, v in zip(TIERS, total, strict=True)},
        **lists,
        "stats": {"parts": len(plans)},
    }
    dump = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    with merged.open("w", encoding="utf-8") as out:  # one list item per line, as plans are
        out.write("{\n")
        for i, (key, value) in enumerate(whole.items()):
            out.write(",\n" if i else "")
            if isinstance(value, list) and value:
                out.write(f" {dump(key)}: [\n  ")
                out.write(",\n  ".join(map(dump, value)))
                out.write("\n ]")
            else:
                out.write(f" {dump(key)}: {dump(value)}")
        out.write("\n}\n")
    return (total[0], total[1], total[2]), time.perf_counter() - start


def _number(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


# --- the whole, in one process ----------------------------------------------------------------


def whole_run(instance: Path, plan: Path) -> tuple[float, float, float]:
    """`gridsupply solve` of the whole instance: (seconds, CPU seconds, peak MB) of its process."""
    return run_measured(["solve", str(instance), "-o", str(plan)])


def _show(tiers: Tiers) -> str:
    return ", ".join(f"{float(t):,.2f}" for t in tiers)


def bench(name: str, args: argparse.Namespace, tmp: Path) -> None:
    """Generate one size, solve it whole and split, check and print."""
    size = SIZES[name]
    start = time.perf_counter()
    doc = generate(**size)
    generated = time.perf_counter() - start
    instance = tmp / f"{name}.json"
    instance.write_text(json.dumps(doc), encoding="utf-8")
    print(
        f"\n== {name}: {len(doc['demands']):,} lines, {size['materials']:,} materials, "
        f"{len(doc['sources']):,} sources, {len(doc['transport']):,} transport rows "
        f"({instance.stat().st_size / 1e6:.0f} MB instance; generated in {generated:.1f} s)",
        flush=True,
    )

    start = time.perf_counter()
    parts = split(doc, args.parts)
    paths = []
    for i, part in enumerate(parts):
        path = tmp / f"{name}-part{i}.json"
        path.write_text(json.dumps(part), encoding="utf-8")
        paths.append((path, tmp / f"{name}-part{i}-plan.json"))
    split_seconds = time.perf_counter() - start
    sizes = ", ".join(f"{len(p['demands']):,}" for p in parts)
    del doc, parts
    print(
        f"split by material into {args.parts} parts in {split_seconds:.1f} s "
        f"(lines per part: {sizes}); parent holds {_status_mb('VmRSS'):,.0f} MB",
        flush=True,
    )

    whole_tiers = None
    if not args.no_whole:
        seconds, cpu, peak = whole_run(instance, tmp / f"{name}-plan.json")
        whole_plan = read_plan((tmp / f"{name}-plan.json").read_bytes())
        whole_tiers = tiers_of(whole_plan.objective)
        print(
            f"one process, whole instance (`gridsupply solve`): {seconds:.1f} s "
            f"(CPU {cpu:.1f} s; load average {os.getloadavg()[0]:.1f}), "
            f"peak RSS {peak:,.0f} MB; engine solve {whole_plan.stats['solve_seconds']:.1f} s, "
            f"explain {whole_plan.stats['explain_seconds']:.1f} s",
            flush=True,
        )
        whole_allocations = {(a.demand, a.source): a.quantity for a in whole_plan.allocations}
        del whole_plan

    merged = tmp / f"{name}-merged.json"
    parts_tiers = None
    for workers in args.workers:
        run = run_pool(paths, workers)
        merged_tiers, merge_seconds = merge([r["plan"] for r in run.results], merged)
        peaks = run.worker_peaks()
        slowest = max(run.results, key=lambda r: r["cpu"])
        cpu = sum(r["cpu"] for r in run.results)
        print(
            f"pool of {workers} worker(s), {args.parts} parts: {run.seconds:.1f} s "
            f"(load average {os.getloadavg()[0]:.1f}); split {split_seconds:.1f} + pool "
            f"{run.seconds:.1f} + merge {merge_seconds:.1f} = "
            f"{split_seconds + run.seconds + merge_seconds:.1f} s; parts' CPU {cpu:.1f} s in "
            f"all, the largest {slowest['cpu']:.1f} s (engine solve "
            f"{slowest['solve_seconds']:.1f} s); worker peak RSS "
            f"{', '.join(f'{p:,.0f}' for p in sorted(peaks.values()))} MB "
            f"(sum {sum(peaks.values()):,.0f} MB)",
            flush=True,
        )
        parts_tiers = run.tiers()
        if merged_tiers != parts_tiers:
            raise SystemExit("the merged objective is not the sum of the parts")
        if whole_tiers is not None:
            same = "equal" if parts_tiers == whole_tiers else "DIFFERENT"
            print(f"  sum of the parts' tiers: {_show(parts_tiers)}; whole solve's: {same}")
            if parts_tiers != whole_tiers:
                raise SystemExit("split and whole disagree")
    if parts_tiers is None:
        return
    start = time.perf_counter()
    merged_plan = read_plan(merged.read_bytes())
    print(f"  the merged plan read back in {time.perf_counter() - start:.1f} s", flush=True)
    if whole_tiers is not None:
        merged_allocations = {(a.demand, a.source): a.quantity for a in merged_plan.allocations}
        print(
            f"  allocations of the merged plan and the whole plan identical: "
            f"{merged_allocations == whole_allocations} ({len(merged_allocations):,})",
            flush=True,
        )
        del merged_allocations, whole_allocations
    if not args.no_check:
        start = time.perf_counter()
        whole = parse_instance(instance.read_bytes())
        assert isinstance(whole, Instance), whole
        report = check_plan(whole, merged_plan)
        checked = (report.unmet_weighted, report.lateness_weighted, report.cost)
        if report.problems:
            raise SystemExit(f"the merged plan breaks the contract: {report.problems[:5]}")
        if checked != parts_tiers:
            raise SystemExit(f"checker's tiers {_show(checked)} ≠ sum of parts")
        print(
            f"  the checker (exact, no solver) on the whole instance: merged plan feasible, its "
            f"tiers equal the sum of the parts exactly ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )


def main() -> None:
    """Benchmark each requested size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", default=["province", "national"])
    parser.add_argument("--parts", type=int, default=8, help="parts to split into (K)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-whole", action="store_true", help="skip the one-process solve")
    parser.add_argument("--no-check", action="store_true", help="skip the independent checker")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cpus, {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GB; "
        f"python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sizes:
            bench(name, args, Path(tmp))


if __name__ == "__main__":
    main()
