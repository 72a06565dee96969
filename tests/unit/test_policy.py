"""Build deadlines, need-by dates, arrival outcomes and filing due dates (DESIGN.md R3, R7).

Expected dates are counted by hand on the published 2024–2026 arrangements: the deadline is the
n-th working day after approval (次日起算), need-by is the install-th working day before it.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from pydantic import ValidationError

from supply.calendar import (
    WorkCalendar,
    YearNotLoaded,
    default_calendar,
    library_arrangements,
    parse_calendar_csv,
)
from supply.policy import (
    DEFAULT_POLICY,
    DeadlineError,
    DeadlinePolicy,
    ProjectType,
    build_deadline,
    filing_due,
    outcome_if_arriving,
)

CAL = default_calendar()
# Only the years published when these tests were written (a later library may add 2027).
PUBLISHED = WorkCalendar.from_arrangements(a for a in library_arrangements() if a.year <= 2026)


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("kind", "approved", "deadline", "need_by"),
    [
        # The example: Monday before National Day 2026; Oct 1–7 off, Saturday Oct 10 worked.
        ("area_new", "2026-09-28", "2026-10-23", "2026-10-16"),
        # Friday before National Day 2025: Sunday Sep 28 worked, Oct 1–8 off, Saturday Oct 11 worked
        ("lv_extension", "2025-09-26", "2025-10-10", "2025-09-30"),
        ("area_capacity_increase", "2025-09-26", "2025-10-14", "2025-10-10"),
        ("area_new", "2025-09-26", "2025-10-23", "2025-10-16"),
        ("mv_10kv", "2025-09-26", "2025-10-30", "2025-10-21"),
        ("mv_10kv_civil", "2025-09-26", "2025-11-13", "2025-10-30"),
        # Friday Sep 18 2026: Sunday Sep 20 worked, Mid-Autumn Sep 25, National Day Oct 1–7.
        ("lv_extension", "2026-09-18", "2026-09-24", "2026-09-22"),
        ("area_capacity_increase", "2026-09-18", "2026-09-30", "2026-09-24"),
        ("area_new", "2026-09-18", "2026-10-15", "2026-10-09"),
        # Spring Festival 2025: Sunday Jan 26 worked, Jan 28–Feb 4 off, Saturday Feb 8 worked.
        ("lv_extension", "2025-01-24", "2025-02-07", "2025-02-05"),
        ("area_capacity_increase", "2025-01-24", "2025-02-11", "2025-02-07"),
        # Spring Festival 2026: Saturday Feb 14 worked, Feb 15–23 off, Saturday Feb 28 worked.
        ("lv_extension", "2026-02-13", "2026-02-27", "2026-02-25"),
        ("area_capacity_increase", "2026-02-13", "2026-03-03", "2026-02-27"),
        ("area_new", "2026-02-13", "2026-03-12", "2026-03-05"),
        # Labour Day 2025: Sunday Apr 27 worked, May 1–5 off.
        ("lv_extension", "2025-04-25", "2025-05-06", "2025-04-29"),
        ("area_capacity_increase", "2025-04-25", "2025-05-09", "2025-05-06"),
        # Labour Day 2026: May 1–5 off, Saturday May 9 worked.
        ("lv_extension", "2026-04-30", "2026-05-11", "2026-05-08"),
        ("area_capacity_increase", "2026-04-30", "2026-05-14", "2026-05-11"),
        # Year boundaries: New Year 2026 Jan 1–3 off, Sunday Jan 4 worked; 2025 only Jan 1.
        ("lv_extension", "2025-12-31", "2026-01-08", "2026-01-06"),
        ("lv_extension", "2024-12-31", "2025-01-08", "2025-01-06"),
        # Approved on a day off (inside the 2025 National Day holiday).
        ("lv_extension", "2025-10-04", "2025-10-14", "2025-10-11"),
        # The deadline is the last day of the loaded calendar: no need to know 2027.
        ("lv_extension", "2026-12-24", "2026-12-31", "2026-12-29"),
    ],
)
def test_build_deadline_and_need_by(kind: str, approved: str, deadline: str, need_by: str) -> None:
    result = build_deadline(kind, approved=d(approved), calendar=PUBLISHED)
    assert (result.deadline, result.need_by) == (d(deadline), d(need_by))
    assert result.working_days == DEFAULT_POLICY.build_working_days[ProjectType(kind)]


def test_the_deadline_table_is_the_founding_documents() -> None:
    assert {k.value: v for k, v in DEFAULT_POLICY.build_working_days.items()} == {
        "lv_extension": 5,
        "area_capacity_increase": 8,
        "area_new": 15,
        "mv_10kv": 20,
        "mv_10kv_civil": 30,
    }


def test_a_deadline_in_an_unloaded_year_is_an_error() -> None:
    with pytest.raises(YearNotLoaded) as caught:
        build_deadline("area_new", approved=d("2026-12-25"), calendar=PUBLISHED)
    assert caught.value.year == 2027


def test_a_loaded_year_makes_the_deadline_computable() -> None:
    synthetic = "date,type\n2027-01-01,holiday\n2027-01-09,workday\n"  # not the published 2027
    calendar = default_calendar(parse_calendar_csv(synthetic, source="t"))
    result = build_deadline("area_new", approved=d("2026-12-25"), calendar=calendar)
    # Dec 28 29 30 31, Jan 4 5 6 7 8, Sat 9 (worked), 11 12 13 14 15.
    assert result.deadline == d("2027-01-15")
    assert result.need_by == d("2027-01-09")


# --- 35 kV and 110 kV: backwards from the customer's completion date --------------------------


def test_hv_deadline_is_the_last_working_day_before_completion() -> None:
    result = build_deadline(
        "hv_35kv", approved=d("2026-09-01"), completion=d("2026-10-08"), calendar=CAL
    )
    assert result.deadline == d("2026-09-30")  # Oct 1–7 off
    # Sep 2–4, 7–11, 14–18, Sunday 20 (worked), 21–24, 28–30: Friday 25 is Mid-Autumn.
    assert result.working_days == 21
    assert result.need_by == d("2026-09-02")  # 20 working days before Sep 30
    assert result.completion == d("2026-10-08")


def test_hv_need_by_never_precedes_approval() -> None:
    result = build_deadline(
        "hv_110kv", approved=d("2026-09-01"), completion=d("2026-10-08"), calendar=CAL
    )
    assert result.install_working_days == 30 > result.working_days
    assert result.need_by == d("2026-09-01")


@pytest.mark.parametrize(
    ("completion", "deadline"),
    [
        ("2026-10-12", "2026-10-10"),  # Monday after the worked Saturday
        ("2025-10-05", "2025-09-30"),  # completion date inside a holiday
        ("2026-09-02", "2026-09-01"),  # the approval day itself: no working day to spare
    ],
)
def test_hv_deadlines(completion: str, deadline: str) -> None:
    result = build_deadline(
        "hv_110kv", approved=d("2025-09-01"), completion=d(completion), calendar=CAL
    )
    assert result.deadline == d(deadline)


def test_hv_completion_with_no_working_day_from_approval_is_refused() -> None:
    with pytest.raises(DeadlineError, match="2026-09-30, before approval on 2026-10-05"):
        build_deadline(
            "hv_35kv", approved=d("2026-10-05"), completion=d("2026-10-08"), calendar=CAL
        )


def test_hv_completion_right_after_approval_leaves_zero_working_days() -> None:
    result = build_deadline(
        "hv_35kv", approved=d("2026-09-30"), completion=d("2026-10-08"), calendar=CAL
    )
    assert (result.deadline, result.need_by, result.working_days) == (
        d("2026-09-30"),
        d("2026-09-30"),
        0,
    )


def test_hv_needs_a_completion_date() -> None:
    with pytest.raises(DeadlineError, match="completion"):
        build_deadline("hv_35kv", approved=d("2026-09-01"), calendar=CAL)


def test_a_counted_type_refuses_a_completion_date() -> None:
    with pytest.raises(DeadlineError, match="hv_35kv and hv_110kv"):
        build_deadline(
            "area_new", approved=d("2026-09-01"), completion=d("2026-12-01"), calendar=CAL
        )


def test_an_unknown_type_lists_the_valid_ones() -> None:
    with pytest.raises(DeadlineError, match="area_capacity_increase"):
        build_deadline("substation", approved=d("2026-09-01"), calendar=CAL)


# --- need-by overrides and clamping ------------------------------------------------------------


def test_install_days_can_be_overridden_per_type() -> None:
    policy = DeadlinePolicy(install_working_days={ProjectType.area_new: 8})
    result = build_deadline("area_new", approved=d("2026-09-28"), calendar=CAL, policy=policy)
    assert result.deadline == d("2026-10-23")
    assert result.need_by == d("2026-10-13")  # 22 21 20 19 16 15 14 13
    assert policy.install_working_days[ProjectType.lv_extension] == 2  # the rest stay default


def test_need_by_is_clamped_to_the_approval_date() -> None:
    policy = DeadlinePolicy(install_working_days={ProjectType.lv_extension: 9})
    result = build_deadline("lv_extension", approved=d("2025-09-26"), calendar=CAL, policy=policy)
    assert result.need_by == d("2025-09-26")


def test_zero_install_days_means_needed_by_the_deadline() -> None:
    policy = DeadlinePolicy(install_working_days={ProjectType.lv_extension: 0})
    result = build_deadline("lv_extension", approved=d("2025-09-26"), calendar=CAL, policy=policy)
    assert result.need_by == result.deadline == d("2025-10-10")


# --- the earliest completion for a given arrival -----------------------------------------------


@pytest.mark.parametrize(
    ("arrival", "completion", "late"),
    [
        ("2026-10-16", "2026-10-23", 0),  # on the need-by date: exactly the deadline
        ("2026-10-17", "2026-10-23", 0),  # a Saturday off: no site day is lost
        ("2026-10-19", "2026-10-26", 1),
        ("2026-10-23", "2026-10-30", 5),
        ("2026-09-20", "2026-10-10", 0),  # before approval: work starts after Sep 28
    ],
)
def test_outcome_if_arriving(arrival: str, completion: str, late: int) -> None:
    deadline = build_deadline("area_new", approved=d("2026-09-28"), calendar=CAL)
    outcome = outcome_if_arriving(deadline, d(arrival), calendar=CAL)
    assert outcome.earliest_completion == d(completion)
    assert outcome.working_days_late == late
    assert outcome.on_time is (late == 0)


# --- filings (先实施、后备案) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("review", "due"),
    [
        ("2025-09-26", "2025-09-29"),  # Sunday Sep 28 is worked
        ("2025-09-30", "2025-10-10"),  # over National Day
        ("2026-02-13", "2026-02-24"),  # Saturday Feb 14, then over Spring Festival
        ("2026-12-28", "2026-12-30"),
    ],
)
def test_filing_due(review: str, due: str) -> None:
    assert filing_due(d(review), calendar=CAL) == d(due)


def test_filing_days_follow_the_policy() -> None:
    policy = DeadlinePolicy(filing_working_days=3)
    assert filing_due(d("2026-02-13"), calendar=CAL, policy=policy) == d("2026-02-25")


# --- the policy object ---------------------------------------------------------------------------


def test_default_policy() -> None:
    policy = DeadlinePolicy()
    assert policy.province_match_working_days == 2
    assert policy.filing_working_days == 2
    assert (policy.cutoff_weekday, policy.cutoff_time, policy.timezone) == (
        0,
        time(12, 0),
        "Asia/Shanghai",
    )
    assert set(policy.install_working_days) == set(ProjectType)


@pytest.mark.parametrize(
    "overrides",
    [
        {"install_working_days": {"area_new": -1}},
        {"install_working_days": {"substation": 3}},
        {"build_working_days": {"hv_35kv": 40}},
        {"build_working_days": {"area_new": 0}},
        {"province_match_working_days": -2},
        {"cutoff_weekday": 7},
        {"timezone": "Asia/Beijing"},
        {"cutoff_time": "12:00+08:00"},
        {"cutoff_hour": 12},
    ],
)
def test_invalid_policies_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DeadlinePolicy(**overrides)  # type: ignore[arg-type]


def test_the_policy_is_frozen() -> None:
    with pytest.raises(ValidationError):
        DEFAULT_POLICY.province_match_working_days = 3  # type: ignore[misc]


def test_the_policy_reads_from_plain_data() -> None:
    policy = DeadlinePolicy.model_validate(
        {"install_working_days": {"mv_10kv": "9"}, "cutoff_time": "10:30"}
    )
    assert policy.install_working_days[ProjectType.mv_10kv] == 9
    assert policy.cutoff_time == time(10, 30)
