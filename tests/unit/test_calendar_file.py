"""The operator's calendar file: parsing, validation with row and column, and overriding years.

The 2027 rows here are a synthetic arrangement made for the tests, not the published one.
"""

from __future__ import annotations

from datetime import date

import pytest

from supply.calendar import (
    CalendarFileRejected,
    DayType,
    RowProblem,
    decode_calendar_bytes,
    default_calendar,
    differences,
    format_calendar_csv,
    parse_calendar_csv,
    parse_calendar_date,
    parse_day_type,
    plausibility_warnings,
)
from supply.calendar_data import example_path

SYNTHETIC_2027 = """\
# synthetic 2027 arrangement for tests — not the State Council's
date,type,name
2027-01-01,holiday,元旦
2027-01-09,workday,synthetic make-up Saturday
2027-02-08,holiday,synthetic
2027-02-09,holiday,synthetic
2027-02-10,holiday,synthetic
"""


def d(text: str) -> date:
    return date.fromisoformat(text)


def problems_of(text: str) -> list[tuple[int | None, str | None]]:
    with pytest.raises(CalendarFileRejected) as caught:
        parse_calendar_csv(text, source="test.csv")
    return [(p.row, p.column) for p in caught.value.problems]


def test_a_new_year_is_added() -> None:
    [year] = parse_calendar_csv(SYNTHETIC_2027, source="2027.csv")
    assert year.year == 2027
    assert year.source == "2027.csv"
    assert set(year.holidays) == {
        d("2027-01-01"),
        d("2027-02-08"),
        d("2027-02-09"),
        d("2027-02-10"),
    }
    assert dict(year.workdays) == {d("2027-01-09"): "synthetic make-up Saturday"}
    calendar = default_calendar([year])
    assert calendar.next_working_day(d("2026-12-31")) == d("2027-01-04")  # Jan 1 off, then weekend
    assert calendar.is_working_day(d("2027-01-09"))
    assert not calendar.is_working_day(d("2027-02-09"))
    assert calendar.add_working_days(d("2027-01-08"), 1) == d("2027-01-09")


def test_a_year_in_a_file_replaces_the_library_year() -> None:
    with open(example_path(2026), encoding="utf-8") as stream:
        text = stream.read() + "2026-10-09,holiday,synthetic extra day off\n"
    [corrected] = parse_calendar_csv(text, source="fix.csv")
    calendar = default_calendar([corrected])
    assert calendar.arrangement(2026).source == "fix.csv"
    assert differences(default_calendar().arrangement(2026), corrected) == [d("2026-10-09")]
    assert calendar.working_days_between(d("2026-09-30"), d("2026-10-12")) == 3  # 8, 10, 12


def test_headers_in_chinese_excel_dates_bom_and_comments() -> None:
    text = "\ufeff# 2027 备注\n\n日期,类型,名称\n2027/1/1,放假,元旦\n2027/1/9 0:00,上班,调休\n"
    [year] = parse_calendar_csv(text, source="excel.csv")
    assert set(year.holidays) == {d("2027-01-01")}
    assert set(year.workdays) == {d("2027-01-09")}


def test_extra_columns_are_ignored_and_name_is_optional() -> None:
    [year] = parse_calendar_csv("type,note,date\nholiday,x,2027-01-01\n", source="t")
    assert dict(year.holidays) == {d("2027-01-01"): ""}


def test_gb18030_files_from_chinese_excel_are_read() -> None:
    text = "日期,类型,名称\n2027-01-01,放假,元旦\n"
    assert decode_calendar_bytes(text.encode("gb18030")) == text
    assert decode_calendar_bytes(b"\xef\xbb\xbf" + text.encode("utf-8")) == text


def test_the_format_round_trips() -> None:
    with open(example_path(2025), encoding="utf-8") as stream:
        [original] = parse_calendar_csv(stream.read(), source="a")
    [again] = parse_calendar_csv(format_calendar_csv([original]), source="b")
    assert list(again.rows()) == list(original.rows())


def test_every_bad_row_is_named_with_its_row_and_column() -> None:
    text = (
        "date,type,name\n"  # row 1
        "2027-01-01,holiday,ok\n"  # row 2
        "2027-02-30,holiday,no such day\n"  # row 3
        "2027-02-08,,empty type\n"  # row 4
        "2027-02-09,maybe,unknown type\n"  # row 5
        "2027-02-10,workday,a Wednesday worked\n"  # row 6
        "2027-01-01,holiday,again\n"  # row 7
        ",holiday,no date\n"  # row 8
        "soon,sometimes,both wrong\n"  # row 9
    )
    assert problems_of(text) == [
        (3, "date"),
        (4, "type"),
        (5, "type"),
        (6, "type"),
        (7, "date"),
        (8, "date"),
        (9, "date"),
        (9, "type"),
    ]


def test_problem_messages_say_what_is_wrong() -> None:
    with pytest.raises(CalendarFileRejected) as caught:
        parse_calendar_csv(
            "date,type\n2027-01-01,holiday\n2027-02-10,workday\n2027-01-01,holiday\n",
            source="f.csv",
        )
    first, second = caught.value.problems
    assert str(first).startswith("row 3, type:")
    assert "Wednesday" in str(first)
    assert "周三" in str(first)
    assert str(second).startswith("row 4, date:")
    assert "row 2" in str(second)
    assert "f.csv" in str(caught.value)


def test_a_missing_column_is_named_on_the_header_row() -> None:
    assert problems_of("# note\ndate,kind,name\n2027-01-01,holiday,x\n") == [(2, "type")]


def test_an_empty_file_and_a_header_only_file_are_rejected() -> None:
    assert problems_of("") == [(None, None)]
    assert problems_of("date,type,name\n") == [(None, None)]


def test_a_year_without_weekday_holidays_is_rejected_as_incomplete() -> None:
    # A make-up day alone would otherwise wipe every holiday of 2026.
    with pytest.raises(CalendarFileRejected) as caught:
        parse_calendar_csv("date,type\n2026-10-17,workday\n", source="patch.csv")
    [problem] = caught.value.problems
    assert problem == RowProblem(None, "date", problem.message)
    assert "2026" in problem.message
    assert "whole" in problem.message


def test_a_rejected_file_loads_nothing_even_with_good_rows() -> None:
    with pytest.raises(CalendarFileRejected):
        parse_calendar_csv(SYNTHETIC_2027 + "2027-13-01,holiday,x\n", source="t")


def test_parse_cells() -> None:
    assert parse_calendar_date("2027-2-6") == d("2027-02-06")
    assert parse_calendar_date("2027.02.06") == d("2027-02-06")
    assert parse_calendar_date("06/02/2027") is None
    assert parse_calendar_date("2027-02-06T00:00") is None
    assert parse_day_type(" Holiday ") is DayType.holiday
    assert parse_day_type("调休上班") is DayType.workday
    assert parse_day_type("day off") is None


def test_an_incomplete_year_gets_a_warning_but_loads() -> None:
    [year] = parse_calendar_csv(SYNTHETIC_2027, source="t")
    [warning] = plausibility_warnings(year)
    assert "2027" in warning
    with open(example_path(2026), encoding="utf-8") as stream:
        [complete] = parse_calendar_csv(stream.read(), source="t")
    assert plausibility_warnings(complete) == []
