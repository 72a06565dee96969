"""Every command that reads the time runs by GRIDSUPPLY_FROZEN_NOW when it is set.

The week of the small world is replayed from the command line with the clock frozen at Friday
2026-11-27 10:00 (batch 2026-W49): every stamp written (import, confirmation, project lines,
urgent request, hold events, run, approval, filing, province matching) is that moment, and every
date used (the batch, the summary's day, whether a filing is overdue) is that day's — never the
machine's clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from api.cli import app
from catalogs.models import ImportRecord, QuotaCatalog
from supply.core.clock import SHANGHAI
from supply.core.db import dispose_engines
from supply.core.settings import Settings
from supply.demand.models import DemandLine
from supply.holds.models import HoldEvent
from supply.packages.models import Filing
from supply.projects.models import Project
from supply.requests.models import SupplyRequest
from supply.weekly.models import LineKind, PlanLine, PlanRun, ProvinceMatch
from tests.conftest import xlsx_bytes
from tests.db.test_projects_import import workbook
from tests.requests.conftest import new_project

FROZEN = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def cli(
    db_url: str, world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDSUPPLY_FROZEN_NOW", FROZEN.isoformat())
    monkeypatch.setenv("GRIDSUPPLY_CALENDAR_DIR", str(tmp_path / "calendars"))
    monkeypatch.setenv("GRIDSUPPLY_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.chdir(tmp_path)
    yield CliRunner()
    dispose_engines()


def _ok(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result.output


def test_every_command_that_reads_the_time_runs_by_the_frozen_clock(
    cli: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    assert "batch: 2026-W49" in _ok(cli, "cutoff")

    (tmp_path / "reserve.xlsx").write_bytes(
        xlsx_bytes([["仓库编码", "物料编码", "库存数量"], ["WH-CENTRAL", "MTR-1P", 60]])
    )
    _ok(cli, "catalogs", "import", "reserve", "reserve.xlsx", "--by", "李工")
    (tmp_path / "quotas.xlsx").write_bytes(
        xlsx_bytes([["年度", "仓库编码", "物料编码", "储备定额"], [2026, "WH-WD", "DT-400", 1]])
    )
    _ok(cli, "catalogs", "import", "quotas", "quotas.xlsx")
    _ok(cli, "catalogs", "confirm-quotas", "2026", "--by", "营销部")
    assert "2026-11-27" in _ok(cli, "catalogs", "summary")  # the day it is for

    (tmp_path / "projects.xlsx").write_bytes(
        workbook(
            {
                "项目包": [["项目包编号", "项目包名称", "年度", "预算(元)"], ["PK-T", "小包", 2026, 1000]],
                "项目": [
                    ["项目编号", "项目名称", "工程类型", "所在地点", "行政审批日期", "项目包编号"],
                    ["P-T", "测试台区", "新建台区", "wendeng", "2026-11-25", "PK-T"],
                ],
                "需求明细": [
                    ["项目编号", "行号", "物料编码", "需求数量"],
                    ["P-T", 1, "DT-400", 1],
                    ["P-T", 2, "CB10-300", 100],
                ],
            }
        )
    )  # fmt: skip
    _ok(cli, "projects", "import", "projects.xlsx", "--by", "李工")

    (tmp_path / "request.json").write_text(json.dumps(new_project("U-F", [("MTR-1P", 2)])))
    answer = json.loads(_ok(cli, "request", "request.json", "--json"))
    assert answer["batch_id"] == "2026-W49"
    assert datetime.fromisoformat(answer["answered_at"]) == FROZEN
    hold = answer["lines"][0]["allocations"][0]["hold_id"]
    _ok(cli, "holds", "issue", str(hold), "--quantity", "1")

    assert "2026-W49" in _ok(cli, "plan", "run")  # no --at: the frozen moment's batch
    _ok(cli, "plan", "approve", "2026-W49", "--by", "物资部")

    with Session(engine) as session:
        agreement = session.exec(
            select(PlanLine).where(PlanLine.kind == LineKind.AGREEMENT)
        ).first()
        filing = session.exec(select(Filing).where(Filing.project_id == "P-T")).one()
    assert agreement is not None and filing.id is not None
    listed = _ok(cli, "filings")  # due 2026-12-01: not overdue on the frozen day
    assert "P-T" in listed and "待备案" in listed and "已逾期" not in listed
    _ok(cli, "filings", "file", str(filing.id), "--reference", "鲁电发展备〔2026〕1号")

    (tmp_path / "match.xlsx").write_bytes(
        xlsx_bytes(
            [
                ["物料编码", "交货仓库", "协议编号", "行号", "数量", "预计到货日期"],
                [agreement.material_code, agreement.warehouse_id, "SD-2026-01", 2,
                 agreement.quantity, "2026-12-20"],
            ]
        )
    )  # fmt: skip
    _ok(cli, "plan", "import-match", "2026-W49", "match.xlsx")

    with Session(engine) as session:
        stamps = {
            "catalog imports": {r.imported_at for r in session.exec(select(ImportRecord))
                                if r.imported_by != "tester"},
            "quota confirmation": {c.confirmed_at for c in session.exec(select(QuotaCatalog))
                                   if c.confirmed_by == "营销部" and c.version > 1},
            "project": {session.exec(select(Project.created_at).where(Project.id == "P-T")).one()},
            "lines submitted": set(session.exec(
                select(DemandLine.submitted_at).where(DemandLine.project_id == "P-T"))),
            "request": set(session.exec(select(SupplyRequest.created_at))),
            "hold events": set(session.exec(select(HoldEvent.at))),
            "run": set(session.exec(select(PlanRun.run_at))),
            "approval": set(session.exec(select(PlanRun.approved_at))),
            "filing": set(session.exec(select(Filing.created_at))),
            "filed": set(session.exec(select(Filing.filed_at))),
            "province match": set(session.exec(select(ProvinceMatch.imported_at))),
        }  # fmt: skip
        assert session.exec(select(col(PlanRun.batch_id))).all() == ["2026-W49"]
    assert stamps == {what: {FROZEN} for what in stamps}
