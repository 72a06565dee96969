"""`gridsupply catalogs …` on a real SQLite file: import, rejection, confirmation, export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_catalog_commands_share_the_import_path(
    workdir: Path, make_xlsx: Callable[..., bytes], materials_rows: list[list[object]]
) -> None:
    runner = CliRunner()
    not_migrated = runner.invoke(app, ["catalogs", "summary"])
    assert not_migrated.exit_code == 1 and "gridsupply db upgrade" in not_migrated.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0

    (workdir / "m.xlsx").write_bytes(make_xlsx(materials_rows))
    (workdir / "w.xlsx").write_bytes(
        make_xlsx(
            [
                ["仓库编码", "仓库名称", "仓库级别", "所在地点"],
                ["WH-WD", "文登周转库", "县级周转库", "wendeng"],
            ]
        )
    )
    for kind, name in (("materials", "m.xlsx"), ("warehouses", "w.xlsx")):
        done = runner.invoke(app, ["catalogs", "import", kind, name, "--by", "李工"])
        assert done.exit_code == 0, done.output

    bad = [
        ["年度", "仓库编码", "物料编码", "储备定额"],
        [2026, "WH-WD", "DT-400", -3],
        [2026, "WH-XX", "TR-9", 1],
    ]
    (workdir / "bad.xlsx").write_bytes(make_xlsx(bad))
    rejected = runner.invoke(app, ["catalogs", "import", "quotas", "bad.xlsx"])
    assert rejected.exit_code == 2
    assert "第 2 行 储备定额: -3 不能为负 / row 2 quota: must not be negative" in rejected.output
    assert "row 3 warehouse_id" in rejected.output and "row 3 material_code" in rejected.output

    (workdir / "q.csv").write_bytes(
        "年度,仓库编码,物料编码,储备定额\n2026,WH-WD,DT-400,3\n".encode()
    )
    assert runner.invoke(app, ["catalogs", "import", "quotas", "q.csv"]).exit_code == 0
    confirmed = runner.invoke(app, ["catalogs", "confirm-quotas", "2026", "--by", "营销部"])
    assert (
        confirmed.exit_code == 0 and "confirmed quota catalog 2026 v1 (1 lines)" in confirmed.output
    )
    again = runner.invoke(app, ["catalogs", "confirm-quotas", "2026", "--by", "营销部"])
    assert again.exit_code == 1 and "no draft quota catalog for 2026" in again.output

    exported = runner.invoke(app, ["catalogs", "export", "quotas", "out.csv", "--year", "2026"])
    assert exported.exit_code == 0
    assert (workdir / "out.csv").read_text(encoding="utf-8-sig").splitlines()[1] == (
        "2026,WH-WD,DT-400,10kV油浸式配电变压器 400kVA,台,3"
    )
    assert runner.invoke(app, ["catalogs", "export", "quotas", "out.txt"]).exit_code == 1
    wide = {"COLUMNS": "250"}  # one row per import
    history = runner.invoke(app, ["catalogs", "imports"], env=wide)
    assert "李工" in history.output and "rejected 已拒绝" in history.output
    assert "accepted 已导入" in history.output
    refused = runner.invoke(app, ["catalogs", "imports", "--status", "rejected"], env=wide)
    assert refused.exit_code == 0 and "导入记录 / imports (1)" in refused.output
    assert "accepted" not in refused.output and "3 problem(s): 第 2 行" in refused.output
