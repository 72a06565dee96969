"""`gridsupply solve` and `gridsupply check` as a user runs them: files, exit codes, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.optimizer.conftest import DATA

runner = CliRunner()
TINY = DATA / "tiny-reserve-vs-agreement.json"


def test_solve_then_check_in_a_real_process(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("gridsupply")
    plan = tmp_path / "plan.json"
    solved = subprocess.run(
        [exe, "solve", DATA / "small-60.json", "-o", plan], capture_output=True, text=True
    )
    assert solved.returncode == 0, solved.stderr
    assert json.loads(plan.read_text())["objective"]["lateness_weighted"] == 26006
    assert "status optimal" in solved.stderr and "26,006" in solved.stderr
    checked = subprocess.run(
        [exe, "check", DATA / "small-60.json", plan], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert "feasible" in checked.stdout and "122,207,973.74" in checked.stdout


def test_solve_writes_plan_to_stdout_without_output_option() -> None:
    result = runner.invoke(app, ["solve", str(TINY)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["objective"]["cost"] == 628150


def test_greedy_method_gives_the_baseline(tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", str(DATA / "small-60.json"), "--method", "greedy"])
    assert result.exit_code == 0
    plan = json.loads(result.stdout)
    assert plan["status"] == "feasible"
    assert plan["objective"]["lateness_weighted"] > 26006  # worse than the optimum


def test_invalid_instance_exits_2_and_the_plan_lists_errors(tmp_path: Path) -> None:
    doc = json.loads(TINY.read_text())
    doc["demands"][0]["quantity"] = -3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["solve", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    plan = json.loads(out.read_text())
    assert plan["status"] == "invalid"
    assert plan["errors"] == [
        {"id": "D1", "field": "quantity", "message": "must be greater than 0, got -3"}
    ]
    assert "D1 quantity" in result.stderr


@pytest.mark.parametrize(
    ("section", "index", "field", "value", "named"),
    [
        ("demands", 0, "quantity", 1e25, ("D1", "quantity")),  # past int64 once scaled
        ("sources", 0, "unit_cost", 4e17, ("R-HC-TR400", "unit_cost")),  # past the flow engine
        ("transport", 0, "days", 10**9, ("transport HC->RC", "days")),  # past 9999-12-31
    ],
)
def test_numbers_too_large_to_plan_exactly_are_an_invalid_instance(
    tmp_path: Path, section: str, index: int, field: str, value: float, named: tuple[str, str]
) -> None:
    doc = json.loads(TINY.read_text())
    doc[section][index][field] = value
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps(doc))
    exe = Path(sys.executable).with_name("gridsupply")
    result = subprocess.run(
        [exe, "solve", huge, "-o", tmp_path / "plan.json"], capture_output=True, text=True
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["status"] == "invalid"
    assert [(e["id"], e["field"]) for e in plan["errors"]] == [named]
    assert "too large to plan exactly" in plan["errors"][0]["message"] or (
        "past 9999-12-31" in plan["errors"][0]["message"]
    )
    assert result.stderr.startswith("invalid instance: 1 problem(s)")
    assert f"{named[0]} {named[1]}:" in result.stderr


def test_unreadable_input_exits_1_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{ nope")
    for path in (broken, tmp_path / "missing.json"):
        result = runner.invoke(app, ["solve", str(path)])
        assert result.exit_code == 1
        assert result.stderr.startswith("error: cannot read instance")
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 2  # one message (may wrap once)


def test_check_rejects_a_tampered_plan(tmp_path: Path) -> None:
    plan = json.loads(runner.invoke(app, ["solve", str(TINY)]).stdout)
    plan["allocations"][0]["quantity"] = 2  # D1 takes both reserve units: D2's too
    tampered = tmp_path / "plan.json"
    tampered.write_text(json.dumps(plan))
    result = runner.invoke(app, ["check", str(TINY), str(tampered)])
    assert result.exit_code == 1
    assert "R-HC-TR400: 3.0 taken but only 2" in result.stderr


def test_bad_options_are_refused() -> None:
    assert runner.invoke(app, ["solve", str(TINY), "--method", "best"]).exit_code == 1
    assert runner.invoke(app, ["solve", str(TINY), "--time-limit", "-1"]).exit_code == 1
