"""The working-day calendar against the State Council's published arrangements, 2024–2026.

Expected dates are transcribed from the notices (国务院办公厅关于 YYYY 年部分节假日安排的通知),
never computed by the code under test.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from supply.calendar import (
    WorkCalendar,
    YearArrangement,
    YearNotLoaded,
    decode_calendar_bytes,
    default_calendar,
    differences,
    format_years,
    library_arrangements,
    parse_calendar_csv,
)
from supply.calendar_data import example_path

CAL = default_calendar()
# The years published when these tests were written: a later chinesecalendar may add 2027, and
# the tests of a missing year must not start failing when it does.
PUBLISHED = WorkCalendar.from_arrangements(a for a in library_arrangements() if a.year <= 2026)


def d(text: str) -> date:
    return date.fromisoformat(text)


def span(first: str, last: str) -> list[date]:
    days, day = [], d(first)
    while day <= d(last):
        days.append(day)
        day += timedelta(days=1)
    return days


# Each year: (holiday periods as first–last, weekend days worked), as the notice states them.
NOTICES: dict[int, tuple[list[tuple[str, str]], list[str]]] = {
    2024: (
        [
            ("2024-01-01", "2024-01-01"),  # 元旦
            ("2024-02-10", "2024-02-17"),  # 春节
            ("2024-04-04", "2024-04-06"),  # 清明节
            ("2024-05-01", "2024-05-05"),  # 劳动节
            ("2024-06-10", "2024-06-10"),  # 端午节
            ("2024-09-15", "2024-09-17"),  # 中秋节
            ("2024-10-01", "2024-10-07"),  # 国庆节
        ],
        [
            "2024-02-04",
            "2024-02-18",
            "2024-04-07",
            "2024-04-28",
            "2024-05-11",
            "2024-09-14",
            "2024-09-29",
            "2024-10-12",
        ],
    ),
    2025: (
        [
            ("2025-01-01", "2025-01-01"),
            ("2025-01-28", "2025-02-04"),
            ("2025-04-04", "2025-04-06"),
            ("2025-05-01", "2025-05-05"),
            ("2025-05-31", "2025-06-02"),
            ("2025-10-01", "2025-10-08"),  # 国庆节、中秋节
        ],
        ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    ),
    2026: (
        [
            ("2026-01-01", "2026-01-03"),
            ("2026-02-15", "2026-02-23"),
            ("2026-04-04", "2026-04-06"),
            ("2026-05-01", "2026-05-05"),
            ("2026-06-19", "2026-06-21"),
            ("2026-09-25", "2026-09-27"),
            ("2026-10-01", "2026-10-07"),
        ],
        ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
    ),
}


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_every_day_of_the_year_matches_the_notice(year: int) -> None:
    periods, worked = NOTICES[year]
    off = {day for first, last in periods for day in span(first, last)}
    makeup = {d(text) for text in worked}
    assert all(day.weekday() >= 5 for day in makeup), "the notice's make-up days are weekends"
    wrong = [
        day
        for day in span(f"{year}-01-01", f"{year}-12-31")
        if CAL.is_working_day(day) != (day in makeup or (day.weekday() < 5 and day not in off))
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-01-26", True),  # Sunday worked before Spring Festival 2025
        ("2025-01-27", True),  # the Monday between the make-up day and the holiday
        ("2025-01-28", False),  # 除夕, first day of the 2025 Spring Festival holiday
        ("2025-02-04", False),  # last day
        ("2025-02-05", True),
        ("2025-02-08", True),  # Saturday worked after it
        ("2025-04-27", True),  # Sunday worked before Labour Day 2025
        ("2025-05-05", False),  # Monday of Labour Day 2025
        ("2025-09-28", True),  # Sunday worked before National Day 2025
        ("2025-10-08", False),  # Wednesday, last day of the eight-day holiday
        ("2025-10-09", True),
        ("2025-10-11", True),  # Saturday worked after it
        ("2025-10-12", False),  # an ordinary Sunday
        ("2026-01-02", False),  # Friday of New Year 2026
        ("2026-01-04", True),  # Sunday worked for it
        ("2026-02-14", True),  # Saturday worked before Spring Festival 2026
        ("2026-02-23", False),  # Monday, ninth and last day of Spring Festival 2026
        ("2026-02-24", True),
        ("2026-02-28", True),  # Saturday worked after it
        ("2026-05-05", False),  # Tuesday of Labour Day 2026
        ("2026-05-09", True),  # Saturday worked for it
        ("2026-09-20", True),  # Sunday worked before National Day 2026
        ("2026-09-25", False),  # Mid-Autumn Festival 2026, a Friday
        ("2026-10-07", False),
        ("2026-10-08", True),
        ("2026-10-10", True),  # Saturday worked after National Day 2026
        ("2024-02-09", True),  # 2024's 除夕 was only "encouraged" off, not a holiday
    ],
)
def test_published_days(day: str, working: bool) -> None:
    assert CAL.is_working_day(d(day)) is working


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_the_bundled_transcriptions_agree_with_the_library(year: int) -> None:
    path = example_path(year)
    with open(path, "rb") as stream:
        [transcribed] = parse_calendar_csv(decode_calendar_bytes(stream.read()), source=path)
    assert transcribed.year == year
    assert differences(CAL.arrangement(year), transcribed) == []


def test_the_library_covers_2024_to_2026_at_least() -> None:
    years = {a.year for a in library_arrangements()}
    assert {2024, 2025, 2026} <= years
    assert all(CAL.covers(y) for y in (2024, 2025, 2026))


# --- counting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2025-09-26", 1, "2025-09-28"),  # Friday + 1 = the make-up Sunday
        ("2025-09-30", 1, "2025-10-09"),  # over the whole National Day holiday
        ("2025-10-04", 1, "2025-10-09"),  # from inside the holiday
        ("2025-10-09", -1, "2025-09-30"),
        ("2025-10-13", -1, "2025-10-11"),  # back onto the make-up Saturday
        ("2025-10-03", 0, "2025-10-03"),  # 0 keeps the date, even on a holiday
        ("2026-02-13", 2, "2026-02-24"),  # make-up Saturday, then over Spring Festival
        ("2026-02-24", -2, "2026-02-13"),
        ("2025-12-31", 1, "2026-01-04"),  # year boundary onto a make-up Sunday
        ("2024-12-31", 1, "2025-01-02"),
        ("2026-01-05", -2, "2025-12-31"),  # back across the year boundary
    ],
)
def test_add_working_days(start: str, n: int, expected: str) -> None:
    assert CAL.add_working_days(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-09-30", "2025-10-09", 1),  # start not counted, end counted
        ("2025-10-09", "2025-09-30", -1),  # antisymmetric
        ("2025-10-04", "2025-10-08", 0),  # all holiday
        ("2025-10-09", "2025-10-09", 0),
        ("2025-09-26", "2025-10-14", 8),  # Sep 28, 29, 30, Oct 9, 10, 11, 13, 14
        ("2025-12-31", "2026-01-09", 6),  # Jan 4 (Sunday worked), 5, 6, 7, 8, 9
        ("2026-02-13", "2026-03-03", 8),  # Feb 14, 24, 25, 26, 27, 28, Mar 2, 3
    ],
)
def test_working_days_between(start: str, end: str, expected: int) -> None:
    assert CAL.working_days_between(d(start), d(end)) == expected


def test_working_days_after_lists_what_between_counts() -> None:
    assert CAL.working_days_after(d("2025-09-26"), d("2025-10-11")) == [
        d("2025-09-28"),
        d("2025-09-29"),
        d("2025-09-30"),
        d("2025-10-09"),
        d("2025-10-10"),
        d("2025-10-11"),
    ]


def test_next_and_previous_working_day() -> None:
    assert CAL.next_working_day(d("2026-09-30")) == d("2026-10-08")
    assert CAL.next_working_day(d("2026-10-09")) == d("2026-10-10")  # make-up Saturday
    assert CAL.previous_working_day(d("2026-10-08")) == d("2026-09-30")
    assert CAL.on_or_after(d("2026-10-05")) == d("2026-10-08")
    assert CAL.on_or_after(d("2026-10-08")) == d("2026-10-08")


def test_make_up_days_are_marked() -> None:
    assert CAL.is_makeup_day(d("2026-10-10"))
    assert not CAL.is_makeup_day(d("2026-10-09"))
    assert not CAL.is_makeup_day(d("2026-10-17"))


# --- years no source covers --------------------------------------------------------------------


def test_a_date_in_an_unloaded_year_is_an_error_naming_the_year() -> None:
    with pytest.raises(YearNotLoaded) as caught:
        PUBLISHED.is_working_day(d("2027-01-04"))
    assert caught.value.year == 2027
    message = str(caught.value)
    assert "2027" in message
    assert "gridsupply calendar load FILE" in message


@pytest.mark.parametrize(
    "call",
    [
        lambda: PUBLISHED.add_working_days(d("2026-12-31"), 1),
        lambda: PUBLISHED.next_working_day(d("2026-12-31")),
        lambda: PUBLISHED.working_days_between(d("2026-12-30"), d("2027-01-05")),
        lambda: PUBLISHED.add_working_days(d("2026-12-24"), 6),
    ],
)
def test_counting_into_an_unloaded_year_is_an_error(call: object) -> None:
    with pytest.raises(YearNotLoaded) as caught:
        call()  # type: ignore[operator]
    assert caught.value.year == 2027


def test_counting_up_to_the_last_loaded_day_needs_no_next_year() -> None:
    assert PUBLISHED.add_working_days(d("2026-12-24"), 5) == d("2026-12-31")


def test_a_year_before_the_library_is_an_error_too() -> None:
    first = min(a.year for a in library_arrangements())
    with pytest.raises(YearNotLoaded) as caught:
        CAL.is_working_day(date(first - 1, 12, 31))
    assert caught.value.year == first - 1


def test_an_empty_calendar_covers_nothing() -> None:
    empty = WorkCalendar.from_arrangements([])
    with pytest.raises(YearNotLoaded, match="2025"):
        empty.is_working_day(d("2025-06-03"))


def test_a_later_arrangement_replaces_the_year() -> None:
    extra_day_off = YearArrangement(
        2026,
        {**CAL.arrangement(2026).holidays, d("2026-10-09"): "synthetic extra day off"},
        dict(CAL.arrangement(2026).workdays),
        "test",
    )
    corrected = default_calendar([extra_day_off])
    assert CAL.is_working_day(d("2026-10-09"))
    assert not corrected.is_working_day(d("2026-10-09"))
    assert corrected.next_working_day(d("2026-10-08")) == d("2026-10-10")
    assert corrected.arrangement(2025) is CAL.arrangement(2025)


def test_a_datetime_is_refused() -> None:
    with pytest.raises(TypeError, match="Asia/Shanghai"):
        CAL.is_working_day(datetime(2026, 10, 9, 12, 0))


def test_an_arrangement_rejects_a_weekday_make_up_day() -> None:
    with pytest.raises(ValueError, match="not a Saturday or Sunday"):
        YearArrangement(2026, {}, {d("2026-10-09"): "x"}, "test")


def test_an_arrangement_rejects_a_date_of_another_year() -> None:
    with pytest.raises(ValueError, match="not a date in 2026"):
        YearArrangement(2026, {d("2027-01-01"): "x"}, {}, "test")


def test_format_years() -> None:
    assert format_years([2026, 2004, 2005, 2006, 2028]) == "2004–2006, 2026, 2028"
    assert format_years([]) == ""
