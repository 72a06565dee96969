"""The what-if tests' world: the weekly tests' small supply world, three projects, and the weekly
run of batch 2026-W49 — the base a what-if starts from.

- P-CABLE: 500 m of 10 kV cable at huancui, needed by 2026-12-22 (set by hand): the cable
  supplier's agreement line (某电缆厂, SD-2026-01/2, ready 12-17 at lingang, a day's trip) is on
  time; emergency procurement would arrive 12-26.
- P-LATE: 100 m of the same cable for a 5-day job, needed by 12-02: late in the base (12-18).
- P-CAP: a transformer from the wendeng reserve, on time; no cable.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.weekly.run import RunOutcome, run_weekly
from tests.weekly.world import (
    BEFORE_CUTOFF,
    CALENDAR,
    POLICY,
    add_on_time_and_late,
    add_project,
    load_world,
    settings_for,
)

CABLE_SUPPLIER = "某电缆厂"
CABLE_LINE = "SD-2026-01/2"
NEED_BY = date(2026, 12, 22)


def build_world(session: Session) -> None:
    """Load the world and the three projects."""
    load_world(session)
    add_on_time_and_late(session)
    add_project(session, "P-CABLE", kind="mv_10kv", approved=date(2026, 11, 20),
                location="huancui", lines=[("CB10-300", 500)])  # fmt: skip
    line = session.exec(select(DemandLine).where(DemandLine.project_id == "P-CABLE")).one()
    line.need_by_override, line.override_reason = NEED_BY, "业主要求提前"
    session.add(line)
    session.commit()


def settings_of(session: Session, tmp_path: Path) -> Settings:
    """Settings on this test's database and run folder."""
    return settings_for(session, str(tmp_path / "runs"))


def run_batch(session: Session, settings: Settings) -> RunOutcome:
    """The weekly run of batch 2026-W49 (a draft)."""
    return run_weekly(
        engine=session.get_bind(),  # type: ignore[arg-type]
        at=BEFORE_CUTOFF,
        now=BEFORE_CUTOFF,
        user="物资部 李工",
        calendar=CALENDAR,
        policy=POLICY,
        settings=settings,
    )


__all__ = ["BEFORE_CUTOFF", "CALENDAR", "POLICY", "build_world", "run_batch", "settings_of"]
