"""What the command line prints is printed as it is: names that look like Rich markup or emoji
codes — in a project, a package, a hold's note — come out verbatim, never parsed (before, a
project named `bad [/] name` made `gridsupply projects show` crash with a MarkupError)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from supply.core.db import dispose_engines
from supply.core.settings import Settings
from tests.requests.conftest import FRIDAY, new_project

PACKAGE = "PK-[b]"
PACKAGE_NAME = "[link=http://x]点我[/link] :smile: 包"
PROJECT = "U-[/]"
PROJECT_NAME = "bad [/] name [bold]粗[/bold]"
REASON = "[red]撤销[/] :warning:"


@pytest.fixture
def cli(
    db_url: str, world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDSUPPLY_FROZEN_NOW", FRIDAY.isoformat())
    monkeypatch.setenv("GRIDSUPPLY_CALENDAR_DIR", str(tmp_path / "calendars"))
    monkeypatch.setenv("GRIDSUPPLY_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("COLUMNS", "250")  # a table cell stays on one line
    yield CliRunner()
    dispose_engines()


def run(cli: CliRunner, *args: str) -> str:
    """Run a command; return its output with runs of white space as one space (a table's title
    wraps at the table's width)."""
    done = cli.invoke(app, list(args))
    assert done.exit_code == 0, (args, done.output, done.exception)
    return " ".join(done.output.split())


def test_user_text_that_looks_like_markup_is_printed_as_it_is(
    cli: CliRunner, tmp_path: Path
) -> None:
    packages = tmp_path / "packages.csv"
    packages.write_text(
        f"项目包编号,项目包名称,年度,预算(元)\n{PACKAGE},{PACKAGE_NAME},2026,100\n",
        encoding="utf-8",
    )
    run(cli, "projects", "import", str(packages), "--sheet", "packages")
    planned = tmp_path / "projects.csv"  # a project of the weekly plan, in the package
    planned.write_text(
        "项目编号,项目名称,工程类型,所在地点,行政审批日期,项目包编号\n"
        f"P-[x],{PROJECT_NAME},area_capacity_increase,wendeng,2026-11-26,{PACKAGE}\n",
        encoding="utf-8",
    )
    run(cli, "projects", "import", str(planned), "--sheet", "projects")
    lines = tmp_path / "lines.csv"
    lines.write_text("项目编号,行号,物料编码,需求数量\nP-[x],1,CB10-300,10\n", encoding="utf-8")
    run(cli, "projects", "import", str(lines), "--sheet", "lines")
    body = new_project(PROJECT, [("DT-400", 3)], name=PROJECT_NAME, package_id=PACKAGE)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")

    answered = run(cli, "request", str(request), "--by", "[i]张[/i]")
    assert f"项目 {PROJECT}" in answered
    shown = {
        "projects list": run(cli, "projects", "list"),
        "projects show": run(cli, "projects", "show", PROJECT),
        "packages list": run(cli, "packages", "list"),
        "packages show": run(cli, "packages", "show", PACKAGE),
    }
    for command, output in shown.items():
        assert PROJECT in output or PACKAGE in output, command
    assert PROJECT_NAME in shown["projects show"] and PROJECT in shown["projects list"]
    assert PACKAGE_NAME in shown["packages list"] and PACKAGE_NAME in shown["packages show"]
    assert PROJECT_NAME in shown["packages show"]

    holds = run(cli, "holds", "list", "--project", PROJECT)
    hold_id = holds.split("│")[1].strip()  # the first column of the first row
    assert f"{PROJECT}/1" in holds and hold_id.isdigit()
    released = run(cli, "holds", "release", hold_id, "--reason", REASON, "--by", "[/]")
    assert f"— {REASON}" in released and "by [/]" in released
    assert REASON in run(cli, "holds", "show", hold_id)

    planned = run(cli, "plan", "run", "--at", "2026-11-30T11:00:00+08:00")
    assert "2026-W49" in planned
    assert run(cli, "plan", "show", "2026-W49").count(PACKAGE) == 1  # by project package


def test_the_commands_print_only_through_the_consoles_that_read_no_markup() -> None:
    import api.commands

    for module in sorted(Path(api.commands.__file__).parent.glob("*.py")):
        text = module.read_text(encoding="utf-8")
        assert "rich.markup" not in text, module  # no escaping: nothing is parsed
        assert module.name == "render.py" or "Console(" not in text, module
