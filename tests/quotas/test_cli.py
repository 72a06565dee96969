"""`gridsupply quotas …` on a SQLite file of the sample catalogs with a small history: recommend
writes the draft workbook the quotas import takes (two replay processes, or one), show reads it
back; a bad service level, no recommendation yet and an unwritable file are one line each."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app
from supply.core.db import dispose_engines, make_engine
from tests.quotas.small import small_history


@pytest.fixture
def workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_sample_templates: dict[str, Path]
) -> Path:
    database = tmp_path / "cli.db"
    shutil.copy(sqlite_sample_templates["catalogs"], database)
    engine = make_engine(f"sqlite:///{database}")
    small_history(engine)
    engine.dispose()
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("GRIDSUPPLY_FROZEN_NOW", "2026-11-30T11:00:00+08:00")
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    dispose_engines()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_recommend_writes_the_draft_workbook_and_show_reads_it_back(
    workdir: Path, workers: str
) -> None:
    runner = CliRunner()
    none_yet = runner.invoke(app, ["quotas", "show"])
    assert none_yet.exit_code == 1 and "gridsupply quotas recommend" in none_yet.output
    done = runner.invoke(
        app,
        ["quotas", "recommend", "--year", "2026", "--service-level", "0.9", "-o", "advice.xlsx",
         "--workers", workers, "--by", "营销部 孙营销"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "quota recommendation #1 for 2026: target 90 %" in done.output
    assert "batches 2025-W49 to 2026-W48" in done.output
    assert "短工期需求行按时" in done.output and "gridsupply catalogs import quotas" in done.output
    sheet = load_workbook(workdir / "advice.xlsx")["储备定额"]
    assert [c.value for c in sheet[1]][:6] == [
        "年度",
        "仓库编码",
        "物料编码",
        "物料名称",
        "单位",
        "储备定额",
    ]
    imported = runner.invoke(app, ["catalogs", "import", "quotas", "advice.xlsx", "--by", "李工"])
    assert imported.exit_code == 0, imported.output
    shown = runner.invoke(app, ["quotas", "show", "1", "-o", "again.xlsx"])
    assert shown.exit_code == 0 and "quota recommendation #1" in shown.output
    assert (workdir / "again.xlsx").read_bytes()[:2] == b"PK"
    assert runner.invoke(app, ["quotas", "show"]).exit_code == 0
    assert runner.invoke(app, ["quotas", "show", "9"]).exit_code == 1


def test_a_bad_service_level_or_file_is_one_line(workdir: Path) -> None:
    runner = CliRunner()
    for level in ("0.3", "1.2", "abc", "0.9555"):
        bad = runner.invoke(app, ["quotas", "recommend", "--service-level", level])
        assert bad.exit_code == 2 and "between 0.5 and 1" in bad.output, (level, bad.output)
    unwritable = runner.invoke(
        app, ["quotas", "recommend", "--workers", "1", "-o", str(workdir / "no" / "such.xlsx")]
    )
    assert unwritable.exit_code == 2 and "cannot write" in unwritable.output
