"""The rules a project and its demand lines must meet, as pure functions over plain values.

The services and the workbook import share them: each returns the problems it finds (a field and
a message in Chinese and English), so that a service can raise the first as `InvalidInput` and an
import can name every one with its row. A problem that comes from what is stored rather than from
the request itself (a location, package or material not known, a calendar year not loaded, dates
that do not fit the project's) is marked `conflict`: the service raises it as `ConflictingInput`. No session, no clock: the calendar, the policy, and what
the database knows (materials, catalogued materials) are passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from catalogs.parse import MaterialRef
from supply.calendar import CalendarError, WorkCalendar, YearNotLoaded
from supply.core.dates import FIRST_YEAR, LAST_YEAR
from supply.core.errors import ConflictingInput, InvalidInput
from supply.policy import (
    COMPLETION_TYPES,
    PROJECT_TYPE_ZH,
    DeadlineError,
    DeadlinePolicy,
    ProjectType,
    build_deadline,
)
from supply.projects.models import TYPE_VOLTAGES


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """What is wrong with one field, in Chinese and English."""

    field: str
    zh: str
    en: str
    conflict: bool = False  # the request meets what is stored, not a rule of its own
    reads: tuple[str, ...] = ()  # the fields a rule between fields looks at (default: `field`)

    @property
    def message(self) -> str:
        """Render as '中文 / English'."""
        return f"{self.zh} / {self.en}"

    def error(
        self, *, prefix: tuple[str | int, ...] = (), given: Collection[str] | None = None
    ) -> InvalidInput:
        """Return the error a service raises for this problem: `Conflict` if it comes from what is
        stored, or (for a change giving only the fields in `given`) if the rule also read a
        stored field; else `InvalidInput`."""
        read = set(self.reads or (self.field,))
        if self.conflict or (given is not None and not read <= set(given)):
            return ConflictingInput(self.message, loc=(*prefix, self.field))
        return InvalidInput(self.message, loc=(*prefix, self.field))


@dataclass(frozen=True, slots=True)
class Derived:
    """A project's voltage class (defaulted by type) and its derived dates."""

    voltage_class: str
    deadline: date
    need_by: date


def _type_label(kind: ProjectType) -> str:
    return f"{PROJECT_TYPE_ZH[kind]}（{kind.value}）"


def check_voltage(kind: ProjectType, voltage_class: str | None) -> tuple[str, FieldProblem | None]:
    """Return the project's voltage class (the type's default when none is given) or a problem."""
    allowed = [v.value for v in TYPE_VOLTAGES[kind]]
    if voltage_class is None:
        return allowed[0], None
    if voltage_class in allowed:
        return voltage_class, None
    return voltage_class, FieldProblem(
        "voltage_class",
        f"{_type_label(kind)} 的电压等级应为 {' 或 '.join(allowed)}，不是 {voltage_class}",
        f"a {kind.value} project is at {' or '.join(allowed)}, not {voltage_class}",
        reads=("project_type", "voltage_class"),
    )


def derive_dates(
    kind: ProjectType,
    *,
    approved_on: date,
    completion_date: date | None,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> tuple[date, date] | FieldProblem:
    """Return (deadline, need_by) by the policy, or the problem that prevents deriving them."""
    for name, day in (("approved_on", approved_on), ("completion_date", completion_date)):
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            return FieldProblem(
                name,
                f"日期 {day} 不合理（应在 {FIRST_YEAR}–{LAST_YEAR} 年间）",
                f"{day} is not a plausible date (years {FIRST_YEAR}–{LAST_YEAR})",
            )
    by_completion = kind in COMPLETION_TYPES
    if by_completion and completion_date is None:
        return FieldProblem(
            "completion_date",
            f"{_type_label(kind)} 须填写客户要求完工日期：建设期限为其前一个工作日",
            f"a {kind.value} project needs the customer's completion date: its deadline is the "
            "last working day before it",
            reads=("project_type", "completion_date"),
        )
    if not by_completion and completion_date is not None:
        return FieldProblem(
            "completion_date",
            f"{_type_label(kind)} 的期限自审批次日起算，不填客户要求完工日期（仅 35/110 千伏工程填写）",
            f"a {kind.value} project counts its deadline from approval; leave the completion date "
            "empty (it is for hv_35kv and hv_110kv only)",
            reads=("project_type", "completion_date"),
        )
    if by_completion and completion_date is not None and completion_date <= approved_on:
        return FieldProblem(
            "completion_date",
            f"客户要求完工日期 {completion_date} 应晚于审批日 {approved_on}",
            f"the completion date {completion_date} must fall after approval on {approved_on}",
            reads=("approved_on", "completion_date"),
        )
    field = "completion_date" if by_completion else "approved_on"
    try:
        deadline = build_deadline(
            kind,
            approved=approved_on,
            completion=completion_date,
            calendar=calendar,
            policy=policy,
        )
    except YearNotLoaded as exc:
        return FieldProblem(
            field,
            f"无法推算建设期限和需到货日期：{exc.year} 年的工作日历未加载，"
            "国务院公布当年节假日安排后用 gridsupply calendar load 加载",
            f"cannot derive the deadline and need-by: no working-day calendar is loaded for "
            f"{exc.year}; load it with `gridsupply calendar load FILE` once the State Council "
            "publishes it",
            conflict=True,
        )
    except (DeadlineError, CalendarError, OverflowError) as exc:
        # With the dates in order, what is left depends on the calendar's working days.
        zh, _, en = str(exc).partition(" / ")
        return FieldProblem(
            field,
            f"无法推算建设期限：{zh}",
            f"cannot derive the deadline: {en or zh}",
            conflict=True,
        )
    return deadline.deadline, deadline.need_by


def derive_project(
    kind: ProjectType,
    *,
    voltage_class: str | None,
    approved_on: date,
    completion_date: date | None,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> tuple[Derived | None, list[FieldProblem]]:
    """Check a project's type, voltage class and dates; derive its deadline and need-by."""
    voltage, problem = check_voltage(kind, voltage_class)
    problems = [problem] if problem else []
    dates = derive_dates(
        kind,
        approved_on=approved_on,
        completion_date=completion_date,
        calendar=calendar,
        policy=policy,
    )
    if isinstance(dates, FieldProblem):
        problems.append(dates)
    if problems:
        return None, problems
    assert not isinstance(dates, FieldProblem)
    return Derived(voltage_class=voltage, deadline=dates[0], need_by=dates[1]), []


def check_location(location: str, known: Collection[str]) -> FieldProblem | None:
    """Refuse a location no warehouse serves (the weekly plan needs its transport days)."""
    if location in known:
        return None
    return FieldProblem(
        "location",
        f"地点 {location} 不在运输天数表中，请先在运输天数表中补充从各仓库到此地点的天数",
        f"location {location} has no transport days from any warehouse; add them to the "
        "transport table first",
        conflict=True,
    )


def check_package(package_id: str | None, known: Collection[str]) -> FieldProblem | None:
    """Refuse a package that does not exist."""
    if package_id is None or package_id in known:
        return None
    return FieldProblem(
        "package_id",
        f"项目包 {package_id} 不存在，请先创建或在项目包表中列出",
        f"project package {package_id} does not exist; create it (or list it on the packages "
        "sheet) first",
        conflict=True,
    )


def check_line(
    *,
    material_code: str | None,
    materials: Mapping[str, MaterialRef],
    catalogued: Collection[str],
    feasibility_listed: bool,
    need_by_override: date | None,
    override_reason: str,
    approved_on: date | None,
    deadline: date | None,
) -> list[FieldProblem]:
    """Check a demand line: a known material, listed if outside every catalog, a sound override.

    `catalogued` holds the materials some source serves today: the reserve quota catalog, an
    agreement line with quantity left, or consignment. Any other material must have been listed
    at the feasibility stage (R1.4). The override check needs the project's approval date and
    deadline (None skips it: the project itself has problems).
    """
    problems = []
    if material_code is not None:
        if material_code not in materials:
            problems.append(
                FieldProblem(
                    "material_code",
                    f"物料编码 {material_code} 不在物料主数据中，请先导入物料",
                    f"material {material_code} is not in the material master; import it first",
                    conflict=True,
                )
            )
        elif material_code not in catalogued and not feasibility_listed:
            problems.append(
                FieldProblem(
                    "material_code",
                    f"物料 {material_code} 不在储备目录、协议库存或供应商寄存中：目录外物资须在"
                    "可研阶段列明，列明后将“可研已列明”填为 是",
                    f"material {material_code} is outside every catalog (reserve quota, an "
                    "agreement line with quantity left, consignment): such materials must be "
                    "listed at the feasibility stage (R1.4); once listed, set feasibility_listed "
                    "to yes",
                    conflict=True,
                )
            )
    if need_by_override is not None and not override_reason:
        problems.append(
            FieldProblem(
                "override_reason",
                "指定需到货日期须填写原因",
                "a need-by date set by hand needs a reason",
                reads=("need_by_override", "override_reason"),
            )
        )
    if need_by_override is None and override_reason:
        problems.append(
            FieldProblem(
                "override_reason",
                "未指定需到货日期时不填原因",
                "give a reason only with a need-by date set by hand",
                reads=("need_by_override", "override_reason"),
            )
        )
    if (
        need_by_override is not None
        and approved_on is not None
        and deadline is not None
        and not approved_on <= need_by_override <= deadline
    ):
        problems.append(
            FieldProblem(
                "need_by_override",
                f"指定需到货日期 {need_by_override} 应在审批日 {approved_on} 与建设期限 "
                f"{deadline} 之间",
                f"the need-by date {need_by_override} must fall between approval on "
                f"{approved_on} and the deadline {deadline}",
                conflict=True,
            )
        )
    return problems
