"""Benchmark the quota advisor: the sample year replayed through the engine, current against
recommended quotas.

Run: `.venv/bin/python benchmarks/bench_quotas.py [--workers 2] [--service-level 0.95]`.
Builds a fresh SQLite database in a temporary folder (the sample catalogs as of the demo's
Monday, 2026-11-30, and the generated year of demand history: about 4,000 projects), then times
`recommend_quotas` end to end at the demo's moment — reading the 52 weeks, advising, replaying
the year with the current quotas and with the recommended ones (each through `optimizer.solve`:
every urgent request and every weekly batch), saving — and prints the figures. Target (2
cores): the replay of the sample year in ≤ 60 s; exits 1 beyond it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session

from supply.calendar import default_calendar
from supply.core import migrate
from supply.core.db import make_engine
from supply.core.settings import Settings
from supply.policy import DeadlinePolicy
from supply.quotas.advisor import recommend
from supply.quotas.inputs import quota_catalog, read_history, read_world, window
from supply.quotas.service import compute, recommend_quotas
from supply.sample.catalogs import load_sample
from supply.sample.history import load_sample_history, sample_history
from supply.sample.week import SAMPLE_CATALOGS_AT, SAMPLE_DAY

NOW = datetime.fromisoformat("2026-11-30T11:00:00+08:00")  # the demo's moment: batch 2026-W49
TARGET_SECONDS = 60.0


def main() -> int:
    """Build the sample year, recommend, replay, print; 1 if the replay is over its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, choices=(1, 2), default=2)
    parser.add_argument("--service-level", default="0.95")
    args = parser.parse_args()
    level = Decimal(args.service_level)
    calendar, policy = default_calendar(), DeadlinePolicy()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        settings = Settings(database_url=url)
        started = time.perf_counter()
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            load_sample(session=session, now=SAMPLE_CATALOGS_AT, today=SAMPLE_DAY)
            history = sample_history(calendar=calendar, policy=policy)
            loaded = load_sample_history(session=session, history=history, now=SAMPLE_CATALOGS_AT)
        built = time.perf_counter() - started

        # The parts, in this process: read, advise.
        t0 = time.perf_counter()
        start, batches = window(NOW, calendar=calendar, policy=policy)
        with Session(engine) as session:
            catalog = quota_catalog(session, year=NOW.year, today=NOW.date())
            world = read_world(
                session, catalog=catalog, batches=batches, start=start, today=NOW.date(),
                central_warehouse=settings.default_delivery_warehouse,
                penalty=settings.reserve_below_quota_penalty,
            )  # fmt: skip
            lines = read_history(
                session, start=start, end=world.end, materials=set(world.materials)
            )
        t1 = time.perf_counter()
        recommend(world, lines, level)
        t2 = time.perf_counter()

        # The replay of both quota sets (the figure the target is about), then end to end.
        t3 = time.perf_counter()
        replayed = compute(world, lines, level, workers=args.workers)
        t4 = time.perf_counter()
        done = recommend_quotas(
            engine=engine, year=NOW.year, service_level=level, now=NOW, calendar=calendar,
            policy=policy, settings=settings, user="bench", workers=args.workers,
        )  # fmt: skip
        t5 = time.perf_counter()
        engine.dispose()

    current, future = replayed.current, replayed.recommended
    print(f"sample year: {loaded.projects:,} projects, {loaded.lines:,} lines (generated), "
          f"loaded with the catalogs in {built:.1f} s")  # fmt: skip
    print(f"window: {len(batches)} weekly runs {batches[0].id}..{batches[-1].id}, "
          f"{len(lines):,} lines of reserve materials ({current.lines:,} short-deadline)")  # fmt: skip
    print(f"cores: {os.cpu_count()}, replay processes: {args.workers}")
    print(f"read {t1 - t0:.2f} s · advise {t2 - t1:.2f} s")
    print(
        f"replay, both quota sets: {t4 - t3:.1f} s wall (current {current.seconds:.1f} s, "
        f"{current.solves:,} solves; recommended {future.seconds:.1f} s, {future.solves:,} solves)"
    )
    print(f"recommend end to end (read, advise, replay, save): {t5 - t4:.1f} s")
    print(f"{'':34}{'current':>16}{'recommended':>16}")
    rows = (
        ("short-deadline lines on time", f"{current.on_time_rate:.1%}", f"{future.on_time_rate:.1%}"),
        ("average stock value (CNY)", f"{current.average_value:,.0f}", f"{future.average_value:,.0f}"),
        ("value at quota (CNY)", f"{current.quota_value:,.0f}", f"{future.quota_value:,.0f}"),
        (
            "other lines on time (batch)",
            f"{current.other_on_time / max(1, current.other_lines):.1%}",
            f"{future.other_on_time / max(1, future.other_lines):.1%}",
        ),
    )  # fmt: skip
    for label, now_value, then_value in rows:
        print(f"{label:34}{now_value:>16}{then_value:>16}")
    print(f"target {level:.1%} met: {future.on_time_rate >= float(level)}; saved #{done.id}")
    over = t4 - t3 > TARGET_SECONDS
    print(f"replay {'OVER' if over else 'within'} its target of {TARGET_SECONDS:.0f} s")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
