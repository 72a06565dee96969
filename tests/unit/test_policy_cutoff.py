"""The weekly agreement-stock cutoff: Monday 12:00 Asia/Shanghai, moved by holidays (R5).

Expected batches come from the published arrangements: which Mondays are days off, and the next
working day after them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supply.calendar import (
    WorkCalendar,
    YearNotLoaded,
    default_calendar,
    library_arrangements,
    parse_calendar_csv,
)
from supply.policy import Batch, DeadlinePolicy, NaiveDatetimeError, batch_for

CAL = default_calendar()
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def batch(moment: str) -> Batch:
    return batch_for(at(moment), calendar=CAL)


def summary(b: Batch) -> tuple[str, str, str]:
    return b.id, b.cutoff.isoformat(), b.province_match.isoformat()


W49 = ("2026-W49", "2026-11-30T12:00:00+08:00", "2026-12-02")
W50 = ("2026-W50", "2026-12-07T12:00:00+08:00", "2026-12-09")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-30T11:59:00+08:00", W49),  # the example
        ("2026-11-30T11:59:59+08:00", W49),
        ("2026-11-30T11:59:59.999999+08:00", W49),
        ("2026-11-30T12:00:00+08:00", W50),  # exactly at the cutoff: next week's
        ("2026-11-30T12:00:01+08:00", W50),
        ("2026-11-29T23:00:00+08:00", W49),  # Sunday night
        ("2026-11-24T09:00:00+08:00", W49),  # Tuesday of the week before
        ("2026-12-01T09:00:00+08:00", W50),
    ],
)
def test_the_monday_noon_cutoff(moment: str, expected: tuple[str, str, str]) -> None:
    assert summary(batch(moment)) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-30T03:59:59Z", W49),  # 11:59:59 in Shanghai
        ("2026-11-30T04:00:00Z", W50),  # 12:00:00 in Shanghai
        ("2026-11-30T04:00:01+00:00", W50),
        ("2026-11-29T20:00:00Z", W49),  # still Sunday in UTC, Monday 04:00 in Shanghai
        ("2026-11-29T19:59:59-08:00", W49),  # Los Angeles, Sunday evening = Monday 11:59:59
        ("2026-11-29T20:00:00-08:00", W50),
        ("2026-11-30T12:59:59+09:00", W49),  # Tokyo's 12:59:59 is 11:59:59 in Shanghai
        ("2026-11-30T13:00:00+09:00", W50),
    ],
)
def test_moments_in_other_time_zones(moment: str, expected: tuple[str, str, str]) -> None:
    assert summary(batch(moment)) == expected


def test_tzinfo_objects_other_than_fixed_offsets() -> None:
    moment = datetime(2026, 11, 29, 19, 59, 59, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert summary(batch_for(moment, calendar=CAL)) == W49
    moment = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    assert summary(batch_for(moment, calendar=CAL)) == W50


def test_the_cutoff_is_given_in_shanghai_time() -> None:
    b = batch("2026-11-30T03:00:00Z")
    assert b.cutoff.utcoffset() == timedelta(hours=8)
    assert b.cutoff == datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    assert b.named_for == date(2026, 11, 30)


# --- Mondays that are days off -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # National Day 2026: Monday Oct 5 is off, so are Oct 6 and 7; Thursday Oct 8 is worked.
        ("2026-09-28T12:00:00+08:00", ("2026-W41", "2026-10-08T12:00:00+08:00", "2026-10-10")),
        ("2026-10-05T12:30:00+08:00", ("2026-W41", "2026-10-08T12:00:00+08:00", "2026-10-10")),
        ("2026-10-08T11:59:59+08:00", ("2026-W41", "2026-10-08T12:00:00+08:00", "2026-10-10")),
        ("2026-10-08T12:00:00+08:00", ("2026-W42", "2026-10-12T12:00:00+08:00", "2026-10-14")),
        ("2026-10-08T03:59:59Z", ("2026-W41", "2026-10-08T12:00:00+08:00", "2026-10-10")),
        ("2026-10-08T04:00:00Z", ("2026-W42", "2026-10-12T12:00:00+08:00", "2026-10-14")),
        # National Day 2025: Monday Oct 6 is off through Wednesday Oct 8; Saturday Oct 11 worked.
        ("2025-10-01T10:00:00+08:00", ("2025-W41", "2025-10-09T12:00:00+08:00", "2025-10-11")),
        # Labour Day 2026: Monday May 4 and Tuesday May 5 off.
        ("2026-04-30T15:00:00+08:00", ("2026-W19", "2026-05-06T12:00:00+08:00", "2026-05-08")),
        # Labour Day 2025: Monday May 5 off.
        ("2025-05-05T11:00:00+08:00", ("2025-W19", "2025-05-06T12:00:00+08:00", "2025-05-08")),
        # Spring Festival 2025: Monday Feb 3 and Tuesday Feb 4 off.
        ("2025-01-27T12:00:00+08:00", ("2025-W06", "2025-02-05T12:00:00+08:00", "2025-02-07")),
        ("2025-01-27T11:59:59+08:00", ("2025-W05", "2025-01-27T12:00:00+08:00", "2025-02-06")),
        # Qingming 2026: Monday Apr 6 off.
        ("2026-04-06T09:00:00+08:00", ("2026-W15", "2026-04-07T12:00:00+08:00", "2026-04-09")),
    ],
)
def test_a_monday_off_moves_the_cutoff(moment: str, expected: tuple[str, str, str]) -> None:
    assert summary(batch(moment)) == expected


def test_two_mondays_off_in_one_holiday_make_one_batch() -> None:
    # Spring Festival 2026 runs Sunday Feb 15 – Monday Feb 23: both Mondays are off and both
    # cutoffs move to Tuesday Feb 24 noon; the batch is named for the later Monday.
    expected = ("2026-W09", "2026-02-24T12:00:00+08:00", "2026-02-26")
    assert summary(batch("2026-02-09T12:00:00+08:00")) == expected
    assert summary(batch("2026-02-16T12:30:00+08:00")) == expected
    assert summary(batch("2026-02-23T09:00:00+08:00")) == expected
    assert summary(batch("2026-02-24T12:00:00+08:00")) == (
        "2026-W10",
        "2026-03-02T12:00:00+08:00",
        "2026-03-04",
    )
    ids = {
        batch_for(datetime(2026, 2, 9, tzinfo=SHANGHAI) + timedelta(hours=h), calendar=CAL).id
        for h in range(0, 21 * 24)
    }
    assert ids == {"2026-W07", "2026-W09", "2026-W10"}  # Feb 9 to Mar 1: no 2026-W08


# --- year boundaries and missing years ------------------------------------------------------------


def test_iso_week_of_a_monday_in_december_can_belong_to_next_year() -> None:
    b = batch("2025-12-29T11:00:00+08:00")
    assert summary(b) == ("2026-W01", "2025-12-29T12:00:00+08:00", "2025-12-31")


def test_the_53rd_week_of_2026() -> None:
    assert summary(batch("2026-12-28T11:00:00+08:00")) == (
        "2026-W53",
        "2026-12-28T12:00:00+08:00",
        "2026-12-30",
    )


def test_the_batch_after_the_last_loaded_monday_needs_the_next_year() -> None:
    published = WorkCalendar.from_arrangements(a for a in library_arrangements() if a.year <= 2026)
    with pytest.raises(YearNotLoaded) as caught:
        batch_for(at("2026-12-28T12:00:00+08:00"), calendar=published)
    assert caught.value.year == 2027
    synthetic = "date,type\n2027-01-01,holiday\n"  # not the published 2027 arrangement
    calendar = default_calendar(parse_calendar_csv(synthetic, source="t"))
    assert summary(batch_for(at("2026-12-28T12:00:00+08:00"), calendar=calendar)) == (
        "2027-W01",
        "2027-01-04T12:00:00+08:00",
        "2027-01-06",
    )


# --- the rules' inputs ----------------------------------------------------------------------------


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError, match="no time zone"):
        batch_for(datetime(2026, 11, 30, 11, 59), calendar=CAL)


def test_the_policy_sets_matching_days_and_the_cutoff_time() -> None:
    policy = DeadlinePolicy(province_match_working_days=3, cutoff_time=time(10, 0))
    b = batch_for(at("2026-11-30T10:30:00+08:00"), calendar=CAL, policy=policy)
    assert summary(b) == ("2026-W50", "2026-12-07T10:00:00+08:00", "2026-12-10")
    b = batch_for(at("2026-10-05T10:30:00+08:00"), calendar=CAL, policy=policy)
    assert summary(b) == ("2026-W41", "2026-10-08T10:00:00+08:00", "2026-10-12")


# --- properties -----------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 20), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(moments, offsets)
def test_every_moment_falls_before_its_cutoff_and_after_the_previous(
    moment: datetime, zone: timezone
) -> None:
    b = batch_for(moment, calendar=CAL)
    assert b.cutoff > moment
    assert batch_for(b.cutoff - timedelta(microseconds=1), calendar=CAL) == b
    following = batch_for(b.cutoff, calendar=CAL)
    assert following.cutoff > b.cutoff
    assert following.named_for > b.named_for
    assert batch_for(moment.astimezone(zone), calendar=CAL) == b


@given(moments)
def test_a_cutoff_is_noon_on_a_working_day_of_the_named_week_or_later(moment: datetime) -> None:
    b = batch_for(moment, calendar=CAL)
    local = b.cutoff.astimezone(SHANGHAI)
    assert local.time().isoformat() == "12:00:00"
    assert CAL.is_working_day(local.date())
    assert b.named_for.weekday() == 0
    assert b.named_for <= local.date() < b.named_for + timedelta(weeks=1)
    assert b.id == "{}-W{:02d}".format(*b.named_for.isocalendar()[:2])
    assert CAL.working_days_between(local.date(), b.province_match) == 2
