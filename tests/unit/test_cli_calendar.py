"""`gridsupply calendar …`, `gridsupply deadline` and `gridsupply cutoff` through the CLI runner.

Every test stores operator years in its own GRIDSUPPLY_CALENDAR_DIR. The 2027 rows are
synthetic, made for the tests; they are not the published 2027 arrangement.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from api.cli import app
from supply.calendar_data import example_path

runner = CliRunner()

SYNTHETIC_2027 = """\
# synthetic 2027 for tests — not the State Council's arrangement
date,type,name
2027-01-01,holiday,元旦
2027-01-09,workday,synthetic make-up Saturday
"""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "calendars"
    monkeypatch.setenv("GRIDSUPPLY_CALENDAR_DIR", str(directory))
    return directory


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def lines(result: Result) -> list[str]:
    return result.stdout.splitlines()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- deadline -----------------------------------------------------------------------------------


def test_deadline_prints_the_issues_example(store: Path) -> None:
    result = run("deadline", "--type", "area_new", "--approved", "2026-09-28")
    assert result.exit_code == 0, result.output
    assert lines(result) == ["deadline: 2026-10-23", "need_by: 2026-10-16", "working_days: 15"]


def test_deadline_as_json(store: Path) -> None:
    result = run("deadline", "--type", "lv_extension", "--approved", "2025-09-26", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "project_type": "lv_extension",
        "approved": "2025-09-26",
        "completion": None,
        "install_working_days": 2,
        "deadline": "2025-10-10",
        "need_by": "2025-09-30",
        "working_days": 5,
    }


def test_deadline_for_hv_from_the_completion_date(store: Path) -> None:
    result = run(
        "deadline", "--type", "hv_35kv", "--approved", "2026-09-01", "--completion", "2026-10-08"
    )
    assert result.exit_code == 0, result.output
    assert lines(result) == ["deadline: 2026-09-30", "need_by: 2026-09-02", "working_days: 21"]


def test_deadline_with_an_arrival_date(store: Path) -> None:
    result = run(
        "deadline", "--type", "area_new", "--approved", "2026-09-28", "--arrival", "2026-10-19"
    )
    assert result.exit_code == 0, result.output
    assert lines(result)[3:] == [
        "arrival: 2026-10-19",
        "earliest_completion: 2026-10-26",
        "working_days_late: 1",
    ]


def test_deadline_outside_the_loaded_calendar_exits_2_with_the_message(store: Path) -> None:
    # A year far ahead: no library release will have it (2027 may be published any day).
    result = run("deadline", "--type", "area_new", "--approved", "2099-12-25")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "2099" in result.stderr
    assert "gridsupply calendar load FILE" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--type", "substation", "--approved", "2026-09-28"], "unknown project type"),
        (["--type", "area_new", "--approved", "28/09/2026"], "--approved"),
        (["--type", "hv_110kv", "--approved", "2026-09-28"], "completion"),
        (
            ["--type", "area_new", "--approved", "2026-09-28", "--completion", "2026-12-01"],
            "hv_35kv",
        ),
    ],
)
def test_deadline_input_errors_exit_2(store: Path, args: list[str], words: str) -> None:
    result = run("deadline", *args)
    assert result.exit_code == 2
    assert words in result.stderr


# --- cutoff ---------------------------------------------------------------------------------------


def test_cutoff_prints_the_issues_example(store: Path) -> None:
    result = run("cutoff", "--at", "2026-11-30T11:59:00+08:00")
    assert result.exit_code == 0, result.output
    assert lines(result) == [
        "batch: 2026-W49",
        "cutoff: 2026-11-30T12:00:00+08:00",
        "province_match: 2026-12-02",
    ]


@pytest.mark.parametrize(
    ("moment", "batch"),
    [
        ("2026-11-30T12:00:00+08:00", "batch: 2026-W50"),
        ("2026-11-30T03:59:59Z", "batch: 2026-W49"),
        ("2026-11-30T04:00:00Z", "batch: 2026-W50"),
        ("2026-10-05T10:00:00+08:00", "batch: 2026-W41"),
    ],
)
def test_cutoff_at_other_moments(store: Path, moment: str, batch: str) -> None:
    result = run("cutoff", "--at", moment)
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == batch


def test_cutoff_on_a_holiday_monday_as_json(store: Path) -> None:
    result = run("cutoff", "--at", "2026-10-05T10:00:00+08:00", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "at": "2026-10-05T10:00:00+08:00",
        "named_for": "2026-10-05",
        "batch": "2026-W41",
        "cutoff": "2026-10-08T12:00:00+08:00",
        "province_match": "2026-10-10",
    }


@pytest.mark.parametrize("moment", ["2026-11-30T11:59:00", "next monday"])
def test_cutoff_refuses_a_moment_without_a_zone_or_not_a_moment(store: Path, moment: str) -> None:
    result = run("cutoff", "--at", moment)
    assert result.exit_code == 2
    assert "+08:00" in result.stderr


# --- calendar workdays / add ----------------------------------------------------------------------


def test_workdays_counts_and_lists(store: Path) -> None:
    result = run("calendar", "workdays", "2026-09-28", "2026-10-12")
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == "working_days: 6"
    days = [line.split()[0] for line in lines(result)[1:]]
    assert days == [
        "2026-09-29",
        "2026-09-30",
        "2026-10-08",
        "2026-10-09",
        "2026-10-10",
        "2026-10-12",
    ]
    assert "make-up" in lines(result)[5]
    assert "次日起算" in result.stderr


def test_workdays_backwards_is_negative(store: Path) -> None:
    result = run("calendar", "workdays", "2026-10-12", "2026-09-28")
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == "working_days: -6"
    assert len(lines(result)) == 7  # the same six days are listed
    assert "negated" in result.stderr


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-09-28", "15", "date: 2026-10-23"),
        ("2026-10-23", "-5", "date: 2026-10-16"),
        ("2026-10-03", "0", "date: 2026-10-03"),
        ("2025-09-26", "1", "date: 2025-09-28"),
    ],
)
def test_add(store: Path, start: str, n: str, expected: str) -> None:
    result = run("calendar", "add", start, n)
    assert result.exit_code == 0, result.output
    assert lines(result) == [expected]


def test_add_into_an_unloaded_year_exits_2(store: Path) -> None:
    result = run("calendar", "add", "2099-12-31", "1")
    assert result.exit_code == 2
    assert "2100" in result.stderr


# --- calendar load / years / show -----------------------------------------------------------------


def test_load_adds_a_year_that_later_runs_use(store: Path, tmp_path: Path) -> None:
    source = write(tmp_path, "2027-draft.csv", SYNTHETIC_2027)
    result = run("calendar", "load", str(source))
    assert result.exit_code == 0, result.output
    assert lines(result)[0].startswith("2027: 1 weekday holidays")
    assert (store / "2027.csv").is_file()
    assert f"stored: {store / '2027.csv'}" in lines(result)
    assert "2027" in result.stderr  # the warning: too few weekday holidays for a whole year

    result = run("deadline", "--type", "area_new", "--approved", "2026-12-25")
    assert result.exit_code == 0, result.output
    # Dec 28–31, Jan 4–8, Saturday 9 (worked in the file), 11–15.
    assert lines(result) == ["deadline: 2027-01-15", "need_by: 2027-01-09", "working_days: 15"]

    result = run("cutoff", "--at", "2026-12-28T12:00:00+08:00")
    assert lines(result)[0] == "batch: 2027-W01"

    result = run("calendar", "years")
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == f"stored years 已加载的年份文件: {store}"
    assert any(line.startswith("│ 2027") for line in lines(result))


def test_load_says_a_year_is_new(store: Path, tmp_path: Path) -> None:
    source = write(tmp_path, "2099.csv", "date,type\n2099-01-01,holiday\n")
    result = run("calendar", "load", str(source), "--check")
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == (
        "2099: 1 weekday holidays 工作日放假, 0 make-up working days 调休上班 — new year 新增"
    )


def test_load_corrects_a_library_year(store: Path, tmp_path: Path) -> None:
    text = Path(example_path(2026)).read_text(encoding="utf-8")
    source = write(tmp_path, "fix.csv", text + "2026-10-09,holiday,synthetic extra day off\n")
    result = run("calendar", "load", str(source))
    assert result.exit_code == 0, result.output
    assert "1 day(s) differ" in lines(result)[0]
    assert "2026-10-09" in lines(result)[0]

    result = run("deadline", "--type", "area_new", "--approved", "2026-09-28")
    # Without Friday Oct 9: Sep 29, 30, Oct 8, 10, 12–16, 19–23, 26.
    assert lines(result) == ["deadline: 2026-10-26", "need_by: 2026-10-19", "working_days: 15"]


def test_load_of_the_published_year_says_it_is_the_same(store: Path) -> None:
    result = run("calendar", "load", example_path(2025), "--check")
    assert result.exit_code == 0, result.output
    assert "same as chinesecalendar" in lines(result)[0]
    assert "checked, not stored" in result.stdout
    assert not store.exists()


def test_load_names_every_bad_row_and_stores_nothing(store: Path, tmp_path: Path) -> None:
    source = write(
        tmp_path,
        "bad.csv",
        "date,type,name\n2027-01-01,holiday,ok\n2027-02-30,holiday,x\n2027-02-10,workday,x\n",
    )
    result = run("calendar", "load", str(source))
    assert result.exit_code == 2
    assert "row 3, date:" in result.stderr
    assert "row 4, type:" in result.stderr
    assert "2 problem(s)" in result.stderr
    assert not store.exists()


def test_load_of_a_missing_file_exits_1(store: Path, tmp_path: Path) -> None:
    result = run("calendar", "load", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1
    assert "cannot read" in result.stderr


def test_a_broken_stored_year_is_reported_and_can_be_replaced(store: Path, tmp_path: Path) -> None:
    store.mkdir()
    (store / "2027.csv").write_text("date,type\n2027-01-01,sometimes\n", encoding="utf-8")
    result = run("calendar", "add", "2026-09-28", "1")
    assert result.exit_code == 1
    assert "2027.csv" in result.stderr
    assert "row 2, type" in result.stderr

    result = run("calendar", "load", str(write(tmp_path, "good.csv", SYNTHETIC_2027)))
    assert result.exit_code == 0, result.output
    assert lines(run("calendar", "add", "2026-12-31", "1")) == ["date: 2027-01-04"]


def test_show_prints_a_loadable_file(store: Path, tmp_path: Path) -> None:
    result = run("calendar", "show", "2026")
    assert result.exit_code == 0, result.output
    assert "2026-10-10,workday," in result.stdout
    copy = write(tmp_path, "copy.csv", result.stdout)
    again = run("calendar", "load", str(copy), "--check")
    assert again.exit_code == 0, again.output
    assert "same as chinesecalendar" in again.stdout


def test_show_an_unloaded_year_exits_2(store: Path) -> None:
    result = run("calendar", "show", "2031")
    assert result.exit_code == 2
    assert "2031" in result.stderr
