"""`gridsupply projects …` and `packages …` on a real SQLite file holding the sample catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_sample_templates: dict[str, Path]
) -> Path:
    shutil.copy(sqlite_sample_templates["catalogs"], tmp_path / "cli.db")
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("GRIDSUPPLY_CALENDAR_DIR", str(tmp_path / "calendars"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_sample_week_is_written_loaded_listed_and_shown(workdir: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["projects", "sample", "week", "--load"])
    assert done.exit_code == 0, done.output
    assert (workdir / "week" / "projects-2026-W49.xlsx").exists()
    assert "projects by type, cutoff 2026-11-30 12:00" in done.output
    assert "lv_extension" in done.output and "hv_110kv" in done.output
    listed = runner.invoke(app, ["projects", "list", "--type", "hv_35kv"])
    assert listed.exit_code == 0
    assert "YK26-SD-904" in listed.output and "YK26-WD-905" in listed.output
    assert "2 of 2" in listed.output
    shown = runner.invoke(app, ["projects", "show", "YK26-NH-901"])
    assert shown.exit_code == 0
    for expected in ("2026-11-04", "省级重点", "SVG-10-2000", "可研列明 listed", "待匹配"):
        assert expected in shown.output
    missing = runner.invoke(app, ["projects", "show", "NOPE"])
    assert missing.exit_code == 1 and "project NOPE does not exist" in missing.output
    packages = runner.invoke(app, ["packages", "list", "--year", "2026"])
    assert packages.exit_code == 0 and "PK2026-GY" in packages.output
    assert "68,000,000.00" in packages.output
    again = runner.invoke(app, ["projects", "sample", "week", "--load"])
    assert again.exit_code == 1 and "already exists" in again.output


def test_import_rejects_a_bad_file_with_every_problem_then_takes_a_good_one(
    workdir: Path,
) -> None:
    runner = CliRunner()
    bad = workdir / "bad.csv"
    bad.write_text(
        "项目编号,项目名称,工程类型,所在地点,行政审批日期\n"
        "P-1,甲,新建台区,huancui,2026-11-16\n"
        "P-2,乙,变电站,huancui,2026-13-01\n",
        encoding="utf-8",
    )
    which = runner.invoke(app, ["projects", "import", str(bad)])
    assert which.exit_code == 2 and "say which" in which.output
    rejected = runner.invoke(app, ["projects", "import", str(bad), "--sheet", "projects"])
    assert rejected.exit_code == 2
    assert (
        "项目表 第 3 行 工程类型" in rejected.output and "unknown project type" in rejected.output
    )
    assert "sheet projects row 3 approved_on" in rejected.output
    good = workdir / "good.csv"
    good.write_text(
        bad.read_text(encoding="utf-8").splitlines()[0] + "\nP-1,甲,新建台区,huancui,2026-11-16\n",
        encoding="utf-8",
    )
    done = runner.invoke(
        app, ["projects", "import", str(good), "--sheet", "projects", "--by", "李工"]
    )
    assert done.exit_code == 0, done.output
    assert "项目 projects" in done.output
    exported = runner.invoke(app, ["projects", "export", "out.xlsx"])
    assert exported.exit_code == 0, exported.output
    book = load_workbook(workdir / "out.xlsx")
    assert book.sheetnames == ["项目包", "项目", "需求明细"]
    assert book["项目"]["A2"].value == "P-1" and book["项目"]["L2"].value is not None
    assert runner.invoke(app, ["projects", "export", "out.txt"]).exit_code == 1
    assert runner.invoke(app, ["projects", "export", "out.csv"]).exit_code == 2
    assert runner.invoke(app, ["projects", "import", "nowhere.xlsx"]).exit_code == 1
    assert runner.invoke(app, ["projects", "import", str(good), "--sheet", "x"]).exit_code == 1


@pytest.mark.slow
def test_the_demo_loads_the_sample_week_after_the_catalogs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("GRIDSUPPLY_CALENDAR_DIR", str(tmp_path / "calendars"))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["demo"])
    assert done.exit_code == 0, done.output
    assert "2026-11-30 08:01 营销部" in done.output  # catalogs as of the sample day, every day
    assert "sample week loaded: 73 projects" in done.output
    assert "projects by type, cutoff 2026-11-30 12:00" in done.output
    assert "area_capacity_increase" in done.output
