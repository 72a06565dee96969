"""The last step of a weekly run: save it and its plan lines in one transaction.

The batch's live draft, if any, is superseded by the new run — provided it is still the draft the
run read (`RunInputs.previous`): a run of the same batch saved while this one was solving, or at
the same moment, is a conflict, and this one is not saved. The lines go in with one executemany.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from threading import Event, Thread
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from optimizer import Plan
from supply.core.audit import record
from supply.core.errors import Conflict
from supply.core.money import exact
from supply.weekly.inputs import RunInputs
from supply.weekly.lines import LineRow
from supply.weekly.models import PlanLine, PlanRun, PlanRunPublic, RunStatus
from supply.weekly.queries import live_run

FIELDS = tuple(f.name for f in fields(LineRow))  # the plan line's columns, but its run and id


def insert_lines(connection: Connection, run_id: int, lines: list[LineRow]) -> None:
    """Insert a run's plan lines in bulk: COPY on PostgreSQL, one executemany of tuples on
    SQLite, in the connection's transaction.

    A week has some 50,000 lines: no ORM object, nor a dictionary of parameters, per line. Each
    column's values are converted by the column's own type (money to its stored form, dates on
    SQLite to text), as an ORM insert would convert them, but a column at a time."""
    table: Table = PlanLine.__table__  # type: ignore[attr-defined]  # SQLModel's table
    dialect = connection.dialect
    values = attrgetter(*FIELDS)
    columns: list[Any] = [(run_id,) * len(lines), *zip(*map(values, lines), strict=True)]
    for position, name in enumerate(("run_id", *FIELDS)):
        convert = table.c[name].type.bind_processor(dialect)
        if convert is not None:
            columns[position] = list(map(convert, columns[position]))
    rows = list(zip(*columns, strict=True))
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in ("run_id", *FIELDS))
    if dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    elif dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", rows
        )
    else:  # any other database: SQLAlchemy's own executemany
        keys = ("run_id", *FIELDS)
        connection.execute(insert(table), [dict(zip(keys, row, strict=True)) for row in rows])


def save_run(
    engine: Engine,
    *,
    read: RunInputs,
    plan: Plan,
    lines: list[LineRow],
    kpis: dict[str, Any],
    run_dir: Path,
    now: datetime,
    user: str,
    before_commit: Callable[[], None] = lambda: None,
) -> PlanRunPublic:
    """Save the run and its lines; the batch's live draft (still the one read) is superseded.
    `before_commit` is called last, in the transaction: raising there leaves nothing saved."""
    with Session(engine) as session:
        current = live_run(session, read.batch.id)
        if (current.id if current else None) != read.previous:
            raise Conflict(
                f"批次 {read.batch.id} 在本次运行期间已有新计划 / another run of batch {read.batch.id} "
                "was saved while this one was solving; look at it, or re-run",
                loc=("batch_id",),
            )
        if current is not None:
            current.status = RunStatus.SUPERSEDED
            session.add(current)
            session.flush()
        run = PlanRun(
            batch_id=read.batch.id,
            cutoff=read.batch.cutoff,
            plan_date=read.problem.instance.plan_date,
            province_match_on=read.batch.province_match,
            solve_status=plan.status,
            run_at=now,
            run_by=user,
            run_dir=str(run_dir),
            demand_lines=sum(1 for d in read.problem.demands.values() if d.demand_line_id),
            replenishment_lines=sum(
                1 for d in read.problem.demands.values() if d.replenish_warehouse_id
            ),
            # Sums of a whole week, of any size (Total columns): exact at every magnitude.
            unmet_weighted=exact(Decimal(str(plan.objective.unmet_weighted))),
            lateness_weighted=exact(Decimal(str(plan.objective.lateness_weighted))),
            cost=exact(Decimal(str(plan.objective.cost))),
            supersedes_id=read.previous,
            kpis=kpis,
            stats={k: v for k, v in plan.stats.items() if k != "scale"},
        )
        session.add(run)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise Conflict(
                f"批次 {read.batch.id} 同时有另一次运行保存 / another run of batch {read.batch.id} "
                "was saved at the same moment; look at it, or re-run",
                loc=("batch_id",),
            ) from None
        if lines:
            insert_lines(session.connection(), run.id or 0, lines)
        record(
            session, actor=user, action="plan.run", object_type="plan_run", object_id=run.id or "",
            after={"batch_id": run.batch_id, "solve_status": run.solve_status,
                   "lines": len(lines), "supersedes_id": run.supersedes_id},
            at=now,
        )  # fmt: skip
        before_commit()
        session.commit()
        session.refresh(run)
        return PlanRunPublic.model_validate(run)


class BackgroundSave:
    """`save_run` on a thread of its own, committed only when the caller says so: the run's
    files are written meanwhile, and a run whose files fail is not saved (`abandon`).

    The database does most of the saving's work on its own (PostgreSQL in its own process,
    SQLite without the interpreter lock), so it costs the run little time. The caller writes
    nothing else to the database until `commit` or `abandon` returns (SQLite has one writer)."""

    def __init__(self, engine: Engine, **run: Any) -> None:
        self._decided = Event()
        self._keep = False
        self._saved: PlanRunPublic | None = None
        self._error: BaseException | None = None
        # In the caller's context: the audit event carries its request (supply.core.audit).
        context = contextvars.copy_context()
        self._thread = Thread(
            target=context.run,
            args=(self._save, engine),
            kwargs=run,
            name="weekly-run-save",
            daemon=True,
        )
        self._thread.start()

    def _save(self, engine: Engine, **run: Any) -> None:
        try:
            self._saved = save_run(engine, before_commit=self._wait, **run)
        except BaseException as exc:  # handed to the caller's thread by `commit`
            self._error = exc

    def _wait(self) -> None:
        self._decided.wait()
        if not self._keep:
            raise _Abandoned

    def commit(self) -> PlanRunPublic:
        """Commit the run (once its files are written) and return it; raise what saving
        raised (a `Conflict`: another run of the batch was saved meanwhile)."""
        self._keep = True
        self._decided.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._saved is not None
        return self._saved

    def abandon(self) -> None:
        """Roll the save back (or let it fail on its own) and wait for the thread to end."""
        self._decided.set()
        self._thread.join()


class _Abandoned(Exception):
    """The run's files could not be written: its save is rolled back."""
