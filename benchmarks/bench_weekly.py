"""Benchmark the weekly run at city scale: database → instance → solve → check → save → exports.

Run: `.venv/bin/python benchmarks/bench_weekly.py [--lines 5000] [--postgres URL] [--fresh]`.
Sets up a fresh database with the sample Weihai catalogs and about `--lines` open demand lines
(set-up is not timed), then times `run_weekly` end to end and prints its steps. Target: ≤ 10 s
on 2 cores, on SQLite and on PostgreSQL, at city scale and at province scale (`--lines 50000`).
Figures are printed, not asserted.

Each step is shown in wall seconds and in the CPU seconds of this process (all its threads:
the exports' compression and the save run beside the main thread), with the load average
before and after: on a shared machine the wall seconds say as much about the neighbours as
about the run. The step "写出计划与报表" includes saving the run, which goes on meanwhile; "保存"
is what is left once the files are written (the commit).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlmodel import Session, select

from catalogs.models import Material, Transport
from supply.calendar_store import load_calendar, policy_from_settings
from supply.core import migrate
from supply.core.clock import SHANGHAI
from supply.core.db import make_engine
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.policy import ProjectType, build_deadline
from supply.projects.models import Project
from supply.sample.catalogs import load_sample
from supply.weekly.run import run_weekly

AT = datetime(2026, 11, 30, 11, 0, tzinfo=SHANGHAI)
TYPES = [
    (ProjectType.lv_extension, "0.4kV", 68, (20, 27)),
    (ProjectType.area_capacity_increase, "10kV", 10, (16, 25)),
    (ProjectType.area_new, "10kV", 8, (5, 20)),
    (ProjectType.mv_10kv, "10kV", 7, (2, 13)),
    (ProjectType.mv_10kv_civil, "10kV", 7, (2, 6)),
]


def populate(url: str, lines: int, seed: int = 11) -> None:
    """Migrate, load the sample catalogs, and add projects with about `lines` demand lines."""
    migrate.upgrade(url)
    engine = make_engine(url)
    calendar, policy = load_calendar(), policy_from_settings(Settings())
    rng = random.Random(seed)
    with Session(engine) as session:
        load_sample(session=session, now=AT - timedelta(days=3), today=date(2026, 11, 27))
        codes = [
            m.code for m in session.exec(select(Material)) if m.voltage_class in ("0.4kV", "10kV")
        ]
        places = sorted({t.to_location for t in session.exec(select(Transport))})
        made, n = 0, 0
        while made < lines:
            kind, voltage, _, (first, last) = rng.choices(TYPES, weights=[t[2] for t in TYPES])[0]
            approved = date(2026, 11, rng.randint(first, last))
            deadline = build_deadline(kind, approved=approved, calendar=calendar, policy=policy)
            project = Project(
                id=f"B{n:05d}",
                name=f"基准项目 {n}",
                project_type=kind,
                voltage_class=voltage,
                location=rng.choice(places),
                approved_on=approved,
                priority="normal",
                deadline=deadline.deadline,
                need_by=deadline.need_by,
                created_at=AT - timedelta(days=2),
                created_by="bench",
                updated_at=AT - timedelta(days=2),
            )
            session.add(project)
            session.flush()  # the project row first: its lines refer to it
            for line_no, code in enumerate(rng.sample(codes, rng.randint(3, 10)), start=1):
                session.add(
                    DemandLine(
                        project_id=project.id,
                        line_no=line_no,
                        material_code=code,
                        quantity=rng.choice([1, 1, 2, 3, 5, 10, 30, 100]),
                        submitted_at=AT - timedelta(days=1),
                        submitted_by="bench",
                    )
                )
                made += 1
            n += 1
        session.commit()
    engine.dispose()


def bench(url: str, lines: int, label: str, *, fresh: bool = False) -> None:
    """Populate a database, then time one weekly run on it: in this process, or with `fresh`
    in a process of its own, as `gridsupply plan run` runs it (the set-up's heap left behind)."""
    start = time.perf_counter()
    populate(url, lines)
    print(f"\n== {label}: set-up {time.perf_counter() - start:.1f} s")
    if fresh:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            report = pool.submit(timed_run, url).result()
        print(f"(the run in a fresh process) {report}")
    else:
        print(timed_run(url))


def timed_run(url: str) -> str:
    """Time one weekly run on the database at `url`; return the figures, step by step."""
    engine = make_engine(url)
    steps: list[tuple[str, float, float]] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as runs:
        settings = Settings(database_url=url, runs_dir=runs)
        t0, c0 = time.perf_counter(), time.process_time()
        outcome = run_weekly(
            engine=engine,
            at=AT,
            now=AT,
            user="bench",
            calendar=load_calendar(),
            policy=policy_from_settings(settings),
            settings=settings,
            progress=lambda s: steps.append((s, time.perf_counter(), time.process_time())),
        )
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.dispose()
    marks = [(t, c) for _, t, c in steps] + [(t0 + total, c0 + cpu)]
    totals = outcome.run.kpis["totals"]
    return "\n".join(
        [
            f"weekly run end to end: {total:.2f} s, CPU {cpu:.2f} s ({outcome.run.demand_lines} "
            f"demand lines, {outcome.run.replenishment_lines} replenishment lines; load average "
            f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after)",
            *(
                f"  {ended - began:6.2f} s  CPU {cpu_ended - cpu_began:6.2f} s  {name}"
                for (name, began, cpu_began), (ended, cpu_ended) in zip(
                    steps, marks[1:], strict=True
                )
            ),
            f"on time {totals['on_time_lines']}, late {totals['late_lines']}, "
            f"unmet {totals['unmet_lines']}; solver {outcome.plan.stats['solve_seconds']} s",
        ]
    )


def main() -> None:
    """Run the benchmark on SQLite, and on PostgreSQL if reachable."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="time the run in a fresh process (as the command line runs it), not the set-up's",
    )
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{tmp}/bench.db", args.lines, "SQLite", fresh=args.fresh)
    with scratch_postgres(args.postgres) as url:
        if url is not None:
            bench(url, args.lines, "PostgreSQL", fresh=args.fresh)


@contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str | None]:
    """A new PostgreSQL database for one benchmark, dropped afterwards; None (and a note) if
    the server cannot be reached."""
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"gridsupply_bench_{uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"\n== PostgreSQL: skipped ({str(exc).splitlines()[0]})")
        admin.dispose()
        yield None
        return
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
