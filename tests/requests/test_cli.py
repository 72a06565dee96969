"""`gridsupply request` and `gridsupply holds` on a database of the small world."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from api.cli import app
from supply.core.db import dispose_engines
from supply.core.settings import Settings
from tests.requests.conftest import FRIDAY, new_project


@pytest.fixture
def cli(
    db_url: str, world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDSUPPLY_FROZEN_NOW", FRIDAY.isoformat())
    monkeypatch.setenv("GRIDSUPPLY_CALENDAR_DIR", str(tmp_path / "calendars"))
    yield CliRunner()
    dispose_engines()


def test_request_then_issue_and_release_from_the_command_line(
    cli: CliRunner, tmp_path: Path, engine: Engine
) -> None:
    body = tmp_path / "request.json"
    body.write_text(json.dumps(new_project("U-1", [("DT-400", 3)])), encoding="utf-8")
    done = cli.invoke(app, ["request", str(body), "--key", "k1", "--json", "--by", "张经理"])
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    (line,) = answer["lines"]
    assert line["outcome"] == "partly_held" and answer["answered_by"] == "张经理"
    held = [p for p in line["allocations"] if p["state"] == "held"]
    assert [p["quantity"] for p in held] == [2]
    again = cli.invoke(app, ["request", str(body), "--key", "k1"])
    assert again.exit_code == 0 and "replayed" in again.output
    listed = cli.invoke(app, ["holds", "list", "--status", "held"])
    assert listed.exit_code == 0 and "U-1/1" in listed.output
    hold = str(held[0]["hold_id"])
    issued = cli.invoke(app, ["holds", "issue", hold, "--quantity", "1", "--by", "库管员"])
    assert issued.exit_code == 0 and "issued 1 by 库管员" in issued.output
    assert "2026-11-27 10:00" in issued.output  # events shown in Shanghai time
    assert cli.invoke(app, ["holds", "issue", hold]).exit_code == 1  # already issued
    rest = cli.invoke(app, ["holds", "list", "--status", "held"])
    rest_id = rest.output.split("│")[1].strip()
    released = cli.invoke(app, ["holds", "release", rest_id, "--reason", "方案变更"])
    assert released.exit_code == 0 and "released" in released.output


def test_bad_request_files_exit_2_with_the_problem(cli: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = cli.invoke(app, ["request", str(broken)])
    assert result.exit_code == 2 and "not JSON" in result.output
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"lines": []}), encoding="utf-8")
    result = cli.invoke(app, ["request", str(wrong)])
    assert result.exit_code == 2 and "project_id" in result.output
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(new_project("U-2", [("NOPE", 1)])), encoding="utf-8")
    result = cli.invoke(app, ["request", str(unknown)])
    assert result.exit_code == 2 and "NOPE" in result.output
    assert cli.invoke(app, ["holds", "list", "--status", "gone"]).exit_code == 2
