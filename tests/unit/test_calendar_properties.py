"""Properties of working-day arithmetic over the loaded official years (2024–2026)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from supply.calendar import default_calendar

CAL = default_calendar()
# Far enough from the end of 2026 that adding up to 120 working days stays in loaded years.
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 6, 30))
counts = st.integers(min_value=0, max_value=120)
working_days = days.filter(CAL.is_working_day)


@given(days, counts.filter(lambda n: n > 0))
def test_adding_lands_on_a_working_day(start: date, n: int) -> None:
    assert CAL.is_working_day(CAL.add_working_days(start, n))


@given(days, counts)
def test_add_then_count_round_trips(start: date, n: int) -> None:
    assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n


@given(days, counts.filter(lambda n: n > 0))
def test_adding_gives_the_first_day_the_count_is_reached(start: date, n: int) -> None:
    end = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, end - timedelta(days=1)) == n - 1


@given(days, days)
def test_count_then_add_round_trips_forwards(start: date, end: date) -> None:
    start, end = min(start, end), max(start, end)
    landed = CAL.add_working_days(start, CAL.working_days_between(start, end))
    if end == start or CAL.is_working_day(end):
        assert landed == end
    else:  # a day off is reached on the last working day before it (or start itself)
        assert start <= landed < end
        assert CAL.working_days_between(landed, end) == 0


@given(working_days, working_days)
def test_count_then_add_round_trips_between_working_days(start: date, end: date) -> None:
    assert CAL.add_working_days(start, CAL.working_days_between(start, end)) == end


@given(working_days, st.integers(min_value=-120, max_value=120))
def test_adding_back_returns_to_a_working_day(start: date, n: int) -> None:
    assert CAL.add_working_days(CAL.add_working_days(start, n), -n) == start


@given(days, days, days)
def test_counts_add_up(a: date, b: date, c: date) -> None:
    assert CAL.working_days_between(a, b) + CAL.working_days_between(b, c) == (
        CAL.working_days_between(a, c)
    )
    assert CAL.working_days_between(b, a) == -CAL.working_days_between(a, b)


@given(days)
def test_next_working_day_skips_only_days_off(start: date) -> None:
    following = CAL.next_working_day(start)
    assert following > start
    assert CAL.is_working_day(following)
    day = start + timedelta(days=1)
    while day < following:
        assert not CAL.is_working_day(day)
        day += timedelta(days=1)
    assert CAL.previous_working_day(following) <= start
