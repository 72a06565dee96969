"""`gridsupply whatif BATCH --change FILE [-o DIR]` on the what-if tests' world in a SQLite file:
the KPIs and changed lines printed, the scenario saved, the workbook and JSON files written; a bad
change file refused with every row named (exit 2); a batch without a run (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from api.cli import app
from supply.core.db import make_engine
from supply.whatif import Scenario
from tests.conftest import xlsx_bytes
from tests.whatif.world import CABLE_SUPPLIER, build_world, run_batch, settings_of


@pytest.fixture
def workdir(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "cli.db"
    database.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        build_world(session)
        run_batch(session, settings_of(session, tmp_path))
    engine.dispose()
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("GRIDSUPPLY_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("GRIDSUPPLY_FROZEN_NOW", "2026-11-30T11:30:00+08:00")
    monkeypatch.setenv("GRIDSUPPLY_USER", "物资部 李工")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _count(workdir: Path) -> int:
    engine = make_engine(f"sqlite:///{workdir / 'cli.db'}")
    with Session(engine) as session:
        found = session.exec(select(func.count()).select_from(Scenario)).one()
    engine.dispose()
    return found


def test_a_delay_from_a_json_file_is_shown_saved_and_written(workdir: Path) -> None:
    change = workdir / "delay.json"
    change.write_text(
        json.dumps([{"kind": "supplier_delay", "supplier": CABLE_SUPPLIER, "days": 10}]),
        encoding="utf-8",
    )
    done = CliRunner().invoke(app, ["whatif", "2026-W49", "--change", str(change), "-o", "out"])
    assert done.exit_code == 0, done.output
    out = done.output
    assert "假设分析 what-if #1" in out and "第 1 次运行 run #1" in out
    assert f"供应商 {CABLE_SUPPLIER} 交货延迟 10 天" in out
    assert "按时行数 lines on time" in out and "P-CABLE/1" in out and "E:CB10-300" in out
    files = {p.name for p in (workdir / "out").iterdir()}
    assert {"假设分析_2026-W49_1.xlsx", "instance.json", "plan.json", "changes.json"} <= files
    book = load_workbook(workdir / "out" / "假设分析_2026-W49_1.xlsx")
    rows = list(book["变化明细"].iter_rows(values_only=True))
    cable = next(row for row in rows if row[0] == "P-CABLE")
    assert "交货延迟 10 天" in str(cable[-2]) and "E:CB10-300" in str(cable[-1])
    assert _count(workdir) == 1


def test_a_bad_change_workbook_names_every_row_and_saves_nothing(workdir: Path) -> None:
    rows = [
        ["类型", "对象", "物料编码", "数值"],
        ["供应商延迟", CABLE_SUPPLIER, None, "很久"],
        ["库存增减", "WH-NOWHERE", "DT-400", 1],
    ]
    (workdir / "变更.xlsx").write_bytes(xlsx_bytes(rows, title="变更"))
    done = CliRunner().invoke(app, ["whatif", "2026-W49", "--change", "变更.xlsx"])
    assert done.exit_code == 2
    assert "变更表 第 2 行 数值" in done.output
    assert _count(workdir) == 0
    # The rows are good now; the warehouse is named as one that does not exist.
    rows[1][3] = 3
    (workdir / "变更.xlsx").write_bytes(xlsx_bytes(rows, title="变更"))
    done = CliRunner().invoke(app, ["whatif", "2026-W49", "--change", "变更.xlsx"])
    assert done.exit_code == 2 and "变更表 第 3 行 对象: 没有仓库 WH-NOWHERE" in done.output
    assert _count(workdir) == 0


def test_a_batch_without_a_run_and_no_changes(workdir: Path) -> None:
    change = workdir / "delay.json"
    change.write_text(json.dumps([{"kind": "warehouse_closed", "warehouse": "WH-WD"}]))
    done = CliRunner().invoke(app, ["whatif", "2026-W50", "--change", str(change)])
    assert done.exit_code == 1 and "2026-W50" in done.output
    done = CliRunner().invoke(app, ["whatif", "2026-W49"])
    assert done.exit_code == 2 and "--change" in done.output
    current = CliRunner().invoke(
        app, ["whatif", "2026-W49", "--change", str(change), "--base", "current"]
    )
    assert current.exit_code == 0 and "当前状态 current state" in current.output
