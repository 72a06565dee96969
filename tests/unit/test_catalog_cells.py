"""Reading single cells the way planners type them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from catalogs.cells import read_level, read_voltage
from supply.core.sheets.cells import (
    CellError,
    read_bool,
    read_code,
    read_date,
    read_integer,
    read_location,
    read_number,
    read_percent,
    read_text,
    read_unit,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1234, Decimal(1234)),
        (0.1, Decimal("0.1")),
        ("1,234", Decimal(1234)),
        ("1,234,567.89", Decimal("1234567.89")),
        ("１２３", Decimal(123)),  # full-width digits
        ("１，２３４．５", Decimal("1234.5")),  # full-width comma and point
        ("¥1,200", Decimal(1200)),
        ("1200元", Decimal(1200)),
        (" 42 ", Decimal(42)),
        ("-3", Decimal(-3)),
    ],
)
def test_numbers_are_read_with_separators_full_width_and_currency(
    raw: object, expected: Decimal
) -> None:
    assert read_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("1,2,3", "thousands separators misplaced"),
        ("12,34", "thousands separators misplaced"),
        ("abc", "is not a number"),
        ("1e30", "too large"),
        ("NaN", "is not a number"),
        (True, "is not a number"),
        (datetime(2026, 1, 1), "is not a number"),
    ],
)
def test_unreadable_numbers_say_why(raw: object, fragment: str) -> None:
    with pytest.raises(CellError) as caught:
        read_number(raw)
    assert fragment in caught.value.en
    assert caught.value.zh  # there is always a Chinese message too


def test_integers_must_be_whole_non_negative_and_in_range() -> None:
    assert read_integer("2,026") == 2026
    assert read_integer(12.0) == 12
    with pytest.raises(CellError, match="whole number"):
        read_integer("1.5")
    with pytest.raises(CellError, match="negative") as caught:
        read_integer(-3)
    assert caught.value.zh == "-3 不能为负"
    with pytest.raises(CellError, match="outside"):
        read_integer(5000, high=3650)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(80, 80), ("80%", 80), ("１２０％", 120), (0.8, 80), ("1.2", 120), (30, 30), ("0.25", 25)],
)
def test_percentages_are_whole_numbers_or_fractions(raw: object, expected: int) -> None:
    assert read_percent(raw) == expected


def test_a_fractional_percentage_is_refused() -> None:
    with pytest.raises(CellError, match="whole percentage"):
        read_percent("12.5")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (datetime(2026, 3, 1, 0, 0), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 1)),
        ("2026-03-01", date(2026, 3, 1)),
        ("2026/3/1", date(2026, 3, 1)),
        ("2026.3.1", date(2026, 3, 1)),
        ("2026年3月1日", date(2026, 3, 1)),
        ("２０２６－０３－０１", date(2026, 3, 1)),
        ("20260301", date(2026, 3, 1)),
        (20260301, date(2026, 3, 1)),
        (46082, date(2026, 3, 1)),  # an Excel serial date in a cell formatted as a number
    ],
)
def test_dates_in_every_common_form(raw: object, expected: date) -> None:
    assert read_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("2026-02-30", "not a real calendar date"),
        ("next week", "cannot read date"),
        (1.5, "not a date"),
    ],
)
def test_bad_dates_are_refused(raw: object, fragment: str) -> None:
    with pytest.raises(CellError, match=fragment):
        read_date(raw)


def test_yes_no_voltage_level_and_units() -> None:
    assert [read_bool(v) for v in ("是", "否", "Y", "no", True, 0, "√", "×")] == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
    ]
    with pytest.raises(CellError, match="yes or no"):
        read_bool("maybe")
    assert [read_voltage(v) for v in ("10kV", "10KV", "低压", "400V", 35, "110kv")] == [
        "10kV",
        "10kV",
        "0.4kV",
        "0.4kV",
        "35kV",
        "110kV",
    ]
    with pytest.raises(CellError, match="voltage class"):
        read_voltage("12kV")
    assert [read_level(v) for v in ("市级中心库", "周转库", "仓储点", "county")] == [
        "central",
        "county",
        "storage_point",
        "county",
    ]
    km = read_unit("ＫＭ")
    assert (km.name, km.base, km.factor) == ("km", "米", 1000)
    assert read_unit("千米").factor == 1000 and read_unit("吨").base == "千克"
    with pytest.raises(CellError, match="unknown unit"):
        read_unit("箩筐")


def test_codes_locations_and_text() -> None:
    assert read_code(" ＷＨ－ＷＤ ") == "WH-WD"
    assert read_code(1001.0) == "1001"
    with pytest.raises(CellError, match="spaces"):
        read_code("WH WD")
    assert read_location("LinGang") == "lingang"
    with pytest.raises(CellError, match="location id"):
        read_location("临港")
    with pytest.raises(CellError, match="control characters"):
        read_text("a\x07b")
    with pytest.raises(CellError, match="longer than"):
        read_text("x" * 201)
