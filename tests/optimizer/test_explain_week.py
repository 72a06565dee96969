"""The sample week (batch 2026-W49, what `make demo` plans): every reason of its plans is true."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from optimizer import parse_instance, read_plan
from optimizer.contract import Instance, Plan
from supply.calendar import default_calendar
from supply.core.clock import SHANGHAI
from supply.core.db import make_engine
from supply.core.settings import Settings
from supply.policy import DeadlinePolicy
from supply.weekly.run import run_weekly
from tests.conftest import copy_database
from tests.optimizer.truth import facts_of, false_statements, idle_stock

RUN_AT = datetime(2026, 11, 30, 11, 0, tzinfo=SHANGHAI)  # the demo's Monday run, before noon


@pytest.fixture(scope="module")
def week_run(
    sqlite_sample_templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The weekly run of the sample week, as the demo makes it: its folder of files."""
    folder = tmp_path_factory.mktemp("week")
    (url,) = copy_database(folder, sqlite=sqlite_sample_templates["week"])  # nothing to drop
    engine = make_engine(url)
    try:
        outcome = run_weekly(
            engine=engine,
            at=RUN_AT,
            now=RUN_AT,
            user="物资部",
            calendar=default_calendar(),
            policy=DeadlinePolicy(),
            settings=Settings(database_url=url, runs_dir=str(folder / "runs")),
        )
    finally:
        engine.dispose()
    return outcome.run_dir


def _files(run_dir: Path, prefix: str) -> tuple[Instance, Plan]:
    instance = parse_instance((run_dir / f"{prefix}instance.json").read_bytes())
    assert not isinstance(instance, list), instance
    return instance, read_plan((run_dir / f"{prefix}plan.json").read_bytes())


@pytest.mark.parametrize("prefix", ["", "replenishment-"])
def test_every_reason_of_the_sample_week_is_true(week_run: Path, prefix: str) -> None:
    instance, plan = _files(week_run, prefix)
    assert plan.status == "optimal"
    assert false_statements(instance, plan) == []
    assert idle_stock(facts_of(instance, plan)) == []
    if not prefix:
        assert len(plan.late) > 100  # a week with plenty to explain


def test_the_issues_line_is_told_of_the_cheaper_consignment(week_run: Path) -> None:
    # Issue 12 item 5: YK26-GQ-002/1 was told the central reserve "was used up by
    # YK26-HC-005/1" while the plan left 3,270 of its 3,399 (quota 3,000).
    _, plan = _files(week_run, "")
    late = {e.demand: e for e in plan.late}["YK26-GQ-002/1"]
    assert late.cause == "none_in_time"
    assert "used up" not in late.reason
    assert (
        "earliest other source reserve R:WH-CENTRAL:CBLV-4x50 arrives 12-01; consignment C:36 "
        "arrives the same day at a lower cost (138.45 vs 140 per unit) and served this line"
    ) in late.reason
    assert "占用" not in late.reason_zh
    assert (
        "最早的其他来源为实物储备 R:WH-CENTRAL:CBLV-4x50，12-01 到货；"
        "供应商寄存 C:36 同日到货且单价更低（138.45 对 140 元/单位），已供本行"
    ) in late.reason_zh
