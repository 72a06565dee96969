"""`gridsupply province match` from the command line: files in, files out; a bad file exits 2
naming its file, sheet, row and column, and writes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from tests.province.test_matching import small_province

runner = CliRunner()


def write(directory: Path) -> list[str]:
    cities, agreements, transport = small_province()
    args = []
    for upload in [agreements, transport, *cities]:
        (directory / upload.name).write_bytes(upload.content)
        args.append(str(directory / upload.name))
    return args


def test_the_command_matches_and_writes_every_file(tmp_path: Path) -> None:
    agreements, transport, *cities = write(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["province", "match", "--batch", "2026-W49", "--agreements", agreements,
         "--transport", transport, *cities, "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "济南" in result.output and "optimal" in result.output
    # Every city's amount to the fen, and the province's total as the figures kept say.
    figures = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for row in [*figures["cities"], {"city": "合计", **figures["totals"]}]:
        line = next(x for x in result.output.splitlines() if f" {row['city']} " in x)
        assert f"{Decimal(row['amount']):,.2f}" in line and f" {row['lines']:,} " in line
    assert figures["totals"]["amount"] == str(
        sum((Decimal(c["amount"]) for c in figures["cities"]), Decimal(0))
    )
    names = {p.name for p in out.iterdir()}
    assert names == {
        "2026-W49_济南_省公司匹配结果.xlsx", "2026-W49_青岛_省公司匹配结果.xlsx",
        "2026-W49_威海_省公司匹配结果.xlsx", "2026-W49_省公司匹配汇总.xlsx", "instance.json",
        "plan.json", "summary.json",
    }  # fmt: skip
    # The instance replays to the same plan with the engine's own command.
    replay = runner.invoke(
        app, ["solve", str(out / "instance.json"), "-o", str(tmp_path / "r.json")]
    )
    assert replay.exit_code == 0, replay.output
    again, first = (json.loads(p.read_text()) for p in (tmp_path / "r.json", out / "plan.json"))
    assert {k: v for k, v in again.items() if k != "stats"} == {
        k: v for k, v in first.items() if k != "stats"
    }  # everything but the timings


def test_a_bad_city_file_exits_2_and_names_the_cell(tmp_path: Path) -> None:
    agreements, transport, *cities = write(tmp_path)
    Path(cities[0]).write_bytes(b"\x00 not a workbook")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["province", "match", "--batch", "2026-W49", "--agreements", agreements,
         "--transport", transport, *cities, "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert Path(cities[0]).name in result.output
    assert not out.exists()
