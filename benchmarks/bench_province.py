"""Benchmark the province's central matching at province scale: files in → files out.

Run: `.venv/bin/python benchmarks/bench_province.py [--lines-per-city 5000]
[--agreement-lines 3000] [--dry] [--keep DIR]`.

Writes the province's sample (`supply.province.sample`: 16 cities' requirement plans of
`--lines-per-city` project lines each, a provincial catalog of `--agreement-lines` lines, the
transport days) into a temporary folder — timed and printed, but not part of the target — then
runs, in a fresh process,

    gridsupply province match --batch 2026-W49 --agreements AGREEMENTS --transport TRANSPORT
        CITY_FILE… -o OUT

and prints its wall time (from starting the process to its exit, reading and writing files
included) and its peak resident memory (the child's own `rusage`, from `os.wait4`). Target:
≤ 15 s and ≤ 2 GB on 2 cores. Figures are printed, not asserted; the exit status is the
command's. `--dry` writes the sample and prints its figures only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from supply.province.sample import DEMO_BATCH, SEED, ProvinceSample, write_province_sample

GRIDSUPPLY = Path(sys.executable).with_name("gridsupply")
TARGET_SECONDS = 15
TARGET_BYTES = 2 * 1024**3


def megabytes(size: int) -> str:
    return f"{size / 1024**2:.1f} MB"


def generate(folder: Path, args: argparse.Namespace) -> ProvinceSample:
    """Write the sample and print what it holds and how long it took."""
    start = time.perf_counter()
    sample = write_province_sample(
        folder,
        batch_id=args.batch,
        seed=args.seed,
        lines_per_city=args.lines_per_city,
        agreement_lines=args.agreement_lines,
        workers=args.workers,
    )
    took = time.perf_counter() - start
    plans = sum(p.stat().st_size for p in sample.cities.values())
    print(f"== sample for {sample.batch_id} (matching day {sample.matching_day}) in {folder}")
    print(f"generation: {took:.1f} s (not timed for the target)")
    print(
        f"  {len(sample.cities)} requirement plans: {sum(sample.lines.values()):,} project lines "
        f"({min(sample.lines.values()):,}–{max(sample.lines.values()):,} a city), "
        f"{megabytes(plans)}"
    )
    print(
        f"  provincial catalog: {sample.agreement_lines:,} agreement lines, "
        f"{megabytes(sample.agreements.stat().st_size)}"
    )
    print(
        f"  transport days: {sample.sites} delivery sites × {len(sample.cities)} cities, "
        f"{megabytes(sample.transport.stat().st_size)}"
    )
    return sample


def match(sample: ProvinceSample, folder: Path) -> int:
    """Run `gridsupply province match` on the sample in a fresh process; print time and memory."""
    out = folder / "out"
    command = [
        str(GRIDSUPPLY), "province", "match", "--batch", sample.batch_id,
        "--agreements", str(sample.agreements), "--transport", str(sample.transport),
        *(str(path) for path in sample.cities.values()), "-o", str(out),
    ]  # fmt: skip
    # Nothing of the caller's: a database and runs folder of its own, should the command want one.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDSUPPLY_")}
    env |= {
        "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{folder / 'gridsupply.db'}",
        "GRIDSUPPLY_RUNS_DIR": str(folder / "runs"),
    }
    log = folder / "match.log"
    print(f"\n== gridsupply province match ({os.cpu_count()} CPUs, load {_load()})")
    with log.open("wb") as output:
        start = time.perf_counter()
        child = subprocess.Popen(command, env=env, cwd=folder, stdout=output, stderr=output)
        _pid, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - start
    child.returncode = code = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss * 1024  # kilobytes on Linux
    print(f"files in → files out: {took:.1f} s (target ≤ {TARGET_SECONDS} s)")
    print(f"peak memory (RSS): {megabytes(peak)} (target ≤ {megabytes(TARGET_BYTES)})")
    print(f"exit status: {code}")
    written = sorted(out.rglob("*")) if out.is_dir() else [out] if out.exists() else []
    for path in written:
        if path.is_file():
            print(f"  wrote {path.relative_to(folder)}: {megabytes(path.stat().st_size)}")
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        print("the command failed; the end of its output:", *tail, sep="\n  ")
    return code


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines-per-city", type=int, default=5000)
    parser.add_argument("--agreement-lines", type=int, default=3000)
    parser.add_argument("--batch", default=DEMO_BATCH)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workers", type=int, default=None, help="processes writing the files")
    parser.add_argument("--dry", action="store_true", help="write the sample only, run no match")
    parser.add_argument("--keep", type=Path, help="write into this folder and keep it")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        sample = generate(args.keep, args)
        sys.exit(0 if args.dry else match(sample, args.keep))
    with tempfile.TemporaryDirectory(prefix="bench-province-") as folder:
        sample = generate(Path(folder), args)
        sys.exit(0 if args.dry else match(sample, Path(folder)))


if __name__ == "__main__":
    main()
