"""Project and demand-line rules: derived dates, type and voltage, references, the line checks."""

from __future__ import annotations

from datetime import date

import pytest

from catalogs.parse import MaterialRef
from supply.calendar import WorkCalendar, default_calendar, library_arrangements
from supply.core.errors import InvalidInput
from supply.policy import DeadlinePolicy, ProjectType
from supply.projects.rules import (
    FieldProblem,
    check_line,
    check_location,
    check_package,
    check_voltage,
    derive_dates,
    derive_project,
)

CALENDAR = default_calendar()
POLICY = DeadlinePolicy()


def derive(kind: ProjectType, approved: date, completion: date | None = None) -> object:
    return derive_dates(
        kind, approved_on=approved, completion_date=completion, calendar=CALENDAR, policy=POLICY
    )


def test_a_new_transformer_area_approved_before_national_day_counts_only_working_days() -> None:
    # Sep 29, 30, (Oct 1-7 off), Oct 8, 9, Sat Oct 10 worked, 12 ... 23: the 15th working day.
    assert derive(ProjectType.area_new, date(2026, 9, 28)) == (
        date(2026, 10, 23),
        date(2026, 10, 16),
    )


def test_five_day_work_approved_on_a_friday_skips_the_weekend() -> None:
    assert derive(ProjectType.lv_extension, date(2026, 11, 27)) == (
        date(2026, 12, 4),
        date(2026, 12, 2),
    )


def test_35kv_counts_back_from_the_customer_completion_date() -> None:
    deadline, need_by = derive(ProjectType.hv_35kv, date(2026, 10, 15), date(2026, 12, 31))  # type: ignore[misc]
    assert deadline == date(2026, 12, 30)  # the last working day before the completion date
    assert CALENDAR.working_days_between(need_by, deadline) == 20  # installation, 35 kV


def test_a_deadline_in_a_year_not_loaded_is_a_clear_error_naming_the_year() -> None:
    # Approved 2026-12-28: the 5th working day after it is in January 2027, not yet published.
    problem = derive(ProjectType.lv_extension, date(2026, 12, 28))
    assert isinstance(problem, FieldProblem) and problem.field == "approved_on"
    assert "2027" in problem.zh and "2027" in problem.en
    assert "gridsupply calendar load" in problem.en


def test_a_missing_year_in_a_calendar_without_2026_names_2026() -> None:
    only_2025 = WorkCalendar.from_arrangements(a for a in library_arrangements() if a.year == 2025)
    problem = derive_dates(
        ProjectType.area_new,
        approved_on=date(2025, 12, 15),
        completion_date=None,
        calendar=only_2025,
        policy=POLICY,
    )
    assert isinstance(problem, FieldProblem) and "2026" in problem.message


@pytest.mark.parametrize(
    ("kind", "completion", "field", "words"),
    [
        (ProjectType.hv_110kv, None, "completion_date", "completion date"),
        (ProjectType.mv_10kv, date(2026, 12, 31), "completion_date", "leave the completion date"),
        (ProjectType.hv_35kv, date(2026, 11, 2), "completion_date", "must fall after approval"),
    ],
)
def test_completion_dates_belong_to_35_and_110_kv_only_and_after_approval(
    kind: ProjectType, completion: date | None, field: str, words: str
) -> None:
    problem = derive(kind, date(2026, 11, 2), completion)
    assert isinstance(problem, FieldProblem)
    assert problem.field == field and words in problem.en
    assert not problem.conflict  # a rule of the project itself: 422


def test_a_completion_date_whose_working_day_falls_before_approval_conflicts_with_the_calendar() -> (
    None
):
    # Approved on Saturday 2026-11-07, to be completed on Sunday: the last working day before
    # completion is Friday, before approval. Only the calendar's working days say so: a 409.
    problem = derive(ProjectType.hv_35kv, date(2026, 11, 7), date(2026, 11, 8))
    assert isinstance(problem, FieldProblem)
    assert problem.field == "completion_date" and "before approval" in problem.en
    assert problem.conflict


def test_implausible_years_are_refused_before_counting() -> None:
    problem = derive(ProjectType.lv_extension, date(1999, 12, 31))
    assert isinstance(problem, FieldProblem) and problem.field == "approved_on"
    assert "1999" in problem.zh


@pytest.mark.parametrize(
    ("kind", "given", "expected", "ok"),
    [
        (ProjectType.lv_extension, None, "0.4kV", True),
        (ProjectType.area_new, None, "10kV", True),
        (ProjectType.area_capacity_increase, "0.4kV", "0.4kV", True),
        (ProjectType.mv_10kv_civil, None, "10kV", True),
        (ProjectType.hv_110kv, None, "110kV", True),
        (ProjectType.lv_extension, "10kV", "10kV", False),
        (ProjectType.mv_10kv, "0.4kV", "0.4kV", False),
        (ProjectType.hv_35kv, "110kV", "110kV", False),
    ],
)
def test_type_and_voltage_class_agree_and_the_type_gives_the_default(
    kind: ProjectType, given: str | None, expected: str, ok: bool
) -> None:
    voltage, problem = check_voltage(kind, given)
    assert voltage == expected
    assert (problem is None) is ok


def test_derive_project_reports_every_problem_at_once() -> None:
    derived, problems = derive_project(
        ProjectType.lv_extension,
        voltage_class="35kV",
        approved_on=date(2026, 11, 2),
        completion_date=date(2026, 12, 1),
        calendar=CALENDAR,
        policy=POLICY,
    )
    assert derived is None
    assert [p.field for p in problems] == ["voltage_class", "completion_date"]


def test_derive_project_gives_the_defaulted_voltage_and_dates() -> None:
    derived, problems = derive_project(
        ProjectType.mv_10kv,
        voltage_class=None,
        approved_on=date(2026, 11, 12),
        completion_date=None,
        calendar=CALENDAR,
        policy=POLICY,
    )
    assert problems == [] and derived is not None
    assert (derived.voltage_class, derived.deadline, derived.need_by) == (
        "10kV",
        date(2026, 12, 10),
        date(2026, 12, 1),
    )


def test_a_field_problem_becomes_an_invalid_input_at_its_field() -> None:
    error = FieldProblem("location", "地点不对", "wrong place").error(prefix=("lines", 2))
    assert isinstance(error, InvalidInput)
    assert error.loc == ("lines", 2, "location") and error.message == "地点不对 / wrong place"


def test_locations_and_packages_must_be_known() -> None:
    assert check_location("huancui", {"huancui"}) is None
    unknown = check_location("mars", {"huancui"})
    assert unknown is not None and "mars" in unknown.en and "transport" in unknown.en
    assert check_package(None, set()) is None
    assert check_package("PK-1", {"PK-1"}) is None
    missing = check_package("PK-9", {"PK-1"})
    assert missing is not None and missing.field == "package_id" and "PK-9" in missing.zh


MATERIALS = {"DT-400": MaterialRef(unit="台"), "SVG-1": MaterialRef(unit="台")}


def line_problems(**changes: object) -> list[str]:
    values: dict[str, object] = {
        "material_code": "DT-400",
        "materials": MATERIALS,
        "catalogued": {"DT-400"},
        "feasibility_listed": False,
        "need_by_override": None,
        "override_reason": "",
        "approved_on": date(2026, 11, 2),
        "deadline": date(2026, 11, 30),
    } | changes
    return [f"{p.field}: {p.en}" for p in check_line(**values)]  # type: ignore[arg-type]


def test_a_catalogued_material_needs_no_listing() -> None:
    assert line_problems() == []


def test_a_material_outside_every_catalog_must_be_listed_at_the_feasibility_stage() -> None:
    [problem] = line_problems(material_code="SVG-1")
    assert problem.startswith("material_code: material SVG-1 is outside every catalog")
    assert "feasibility stage" in problem
    assert line_problems(material_code="SVG-1", feasibility_listed=True) == []


def test_an_unknown_material_is_named() -> None:
    assert line_problems(material_code="TR-999") == [
        "material_code: material TR-999 is not in the material master; import it first"
    ]


def test_a_need_by_set_by_hand_needs_a_reason_and_must_fall_in_the_build_window() -> None:
    assert line_problems(need_by_override=date(2026, 11, 20)) == [
        "override_reason: a need-by date set by hand needs a reason"
    ]
    assert line_problems(need_by_override=date(2026, 11, 20), override_reason="表计后装") == []
    late = line_problems(need_by_override=date(2026, 12, 1), override_reason="晚点")
    assert late == [
        "need_by_override: the need-by date 2026-12-01 must fall between approval on "
        "2026-11-02 and the deadline 2026-11-30"
    ]
    assert line_problems(override_reason="没有日期") == [
        "override_reason: give a reason only with a need-by date set by hand"
    ]
    # Without the project's dates (the project itself has problems) the window is not checked.
    assert (
        line_problems(
            need_by_override=date(2030, 1, 1), override_reason="x", approved_on=None, deadline=None
        )
        == []
    )
