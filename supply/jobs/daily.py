"""The daily jobs: holds expiry, filings (and packages over budget), agreement lines, the
calendar. Each reads, perhaps changes (holds), tells the people concerned once, and says in its
outcome what it did."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, timedelta

from sqlmodel import Session, col, select

from supply.auth.roles import Role
from supply.calendar import LOAD_HINT, YearNotLoaded, format_years
from supply.demand.models import DemandLine
from supply.holds.models import Hold, HoldStatus
from supply.holds.service import expire_holds
from supply.jobs.context import JobContext, to_each
from supply.jobs.service import JobOutcome
from supply.notifications.service import Reminder, managers_of, people_with_roles
from supply.packages.filings import list_filings, working_days_left
from supply.packages.service import PackageFilter, package_summaries
from supply.projects.models import Project
from supply.stock.models import AgreementExecution, AgreementFilter, Band
from supply.stock.queries import agreement_execution, every_row


def not_a_working_day(ctx: JobContext) -> JobOutcome | None:
    """The outcome of a reminder job on a day off (nothing is reminded), else None."""
    if ctx.calendar.is_working_day(ctx.today):
        return None
    return JobOutcome(
        f"{ctx.today} 不是工作日，不发提醒 / {ctx.today} is not a working day: nothing reminded",
        {"today": ctx.today.isoformat()},
        skipped=True,
    )


# ---------------------------------------------------------------- holds


def holds_expiry(ctx: JobContext) -> JobOutcome:
    """Release the holds past their date; tell project managers of holds whose last day is
    today or the next working day."""
    ctx.step("释放到期保留 / releasing holds past their date")
    released = expire_holds(engine=ctx.engine, today=ctx.today, now=ctx.now)
    ctx.step("提醒即将到期的保留 / reminding of holds about to expire")
    try:
        last = ctx.calendar.next_working_day(ctx.today)
    except YearNotLoaded:  # late December without next year's calendar: warn of tomorrow's
        last = ctx.today + timedelta(days=1)
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(Hold, DemandLine.project_id)
            .join(DemandLine, col(DemandLine.id) == Hold.demand_line_id)
            .where(
                Hold.status == HoldStatus.HELD,
                col(Hold.expires_on) >= ctx.today,
                col(Hold.expires_on) <= last,
            )
            .order_by(col(Hold.id))
        ).all()
        groups: dict[tuple[str, date], list[Hold]] = defaultdict(list)
        for hold, project_id in rows:
            assert hold.expires_on is not None
            groups[project_id, hold.expires_on].append(hold)
        managers = managers_of(session, {project for project, _ in groups})
        names = _project_names(session, {project for project, _ in groups})
    pairs = []
    for (project, expires), holds in sorted(groups.items()):
        listed = "\n".join(
            f"- 保留 #{h.id}: {h.material_code} × {h.quantity} @ {h.warehouse_id}"
            for h in holds[:50]
        )
        reminder = Reminder(
            kind="hold.expiring",
            key=f"hold.expiring:{project}:{expires}",
            title=f"项目 {project} 有 {len(holds)} 项保留 {expires} 到期 / {len(holds)} holds of "
            f"{project} expire on {expires}",
            body=f"项目 {project} {names.get(project, '')} 的以下保留须在 {expires} 前出库，否则次日"
            f"自动释放 / these holds of {project} are released unless issued by {expires}:\n"
            + listed,
            link=f"/projects/{project}",
        )
        pairs += to_each(managers.get(project, []), reminder)
    told, mailed = ctx.tell(pairs)
    return JobOutcome(
        f"释放 {len(released)} 项到期保留，提醒 {told} 条 / released {len(released)} holds past "
        f"their date; {told} reminders ({mailed} e-mailed)",
        {"released": released, "expiring": sum(len(h) for h in groups.values()),
         "notified": told, "emailed": mailed},
    )  # fmt: skip


def _project_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.exec(select(Project.id, Project.name).where(col(Project.id).in_(sorted(ids))))
    return dict(rows.all())


# ---------------------------------------------------------------- filings and packages


def filings(ctx: JobContext) -> JobOutcome:
    """Tell the development department of filings overdue and of filings due within the next
    working days (`GRIDSUPPLY_REMIND_FILING_WORKING_DAYS`, counted on the calendar: a filing due
    after a holiday is reminded before it), and of packages whose forecast exceeds the budget."""
    off = not_a_working_day(ctx)
    if off is not None:
        return off
    ctx.step("查找逾期与将到期的备案 / finding filings overdue and due soon")
    window = ctx.settings.remind_filing_working_days
    with Session(ctx.engine) as session:
        open_filings = every_row(
            lambda offset, limit: list_filings(
                session=session, today=ctx.today, open_only=True, offset=offset, limit=limit
            )
        )
        development = people_with_roles(session, [Role.DEVELOPMENT])
        ctx.step("核对项目包预算 / checking package budgets")
        over = package_summaries(
            session=session, where=PackageFilter(year=ctx.today.year, over_only=True)
        )
    pairs = []
    overdue = due = 0
    for filing in open_filings:
        left = working_days_left(filing.due_on, today=ctx.today, calendar=ctx.calendar)
        what = f"项目 {filing.project_id} {filing.project_name}（项目包 {filing.package_id} {filing.package_name}，超支 {filing.overrun:,.2f} 元）"
        if filing.due_on < ctx.today:
            overdue += 1
            reminder = Reminder(
                kind="filing.overdue",
                key=f"filing.overdue:{filing.id}",
                title=f"备案 #{filing.id} 已逾期（应于 {filing.due_on} 前备案）/ filing "
                f"#{filing.id} is overdue (due {filing.due_on})",
                body=f"{what} 的备案应于 {filing.due_on} 前报省公司，至今未备案。/ The filing of "
                f"project {filing.project_id} (package {filing.package_id}) was due on "
                f"{filing.due_on} and is not filed. 办理: gridsupply filings file {filing.id} "
                "--reference 文号",
                link="/packages?view=filings",
            )
        elif left is not None and left <= window:
            due += 1
            reminder = Reminder(
                kind="filing.due",
                key=f"filing.due:{filing.id}",
                title=f"备案 #{filing.id} 将于 {filing.due_on} 到期 / filing #{filing.id} is due "
                f"on {filing.due_on}",
                body=f"{what} 须于 {filing.due_on} 前报省公司备案（还有 {left} 个工作日）。/ "
                f"The filing of project {filing.project_id} (package {filing.package_id}) is due "
                f"on {filing.due_on}: {left} working day(s) left. 办理: gridsupply filings file "
                f"{filing.id} --reference 文号",
                link="/packages?view=filings",
            )
        else:
            continue
        pairs += to_each(development, reminder)
    for package in over:
        pairs += to_each(
            development,
            Reminder(
                kind="package.over",
                key=f"package.over:{package.id}",
                title=f"项目包 {package.id} 预计超支 {package.overrun:,.2f} 元 / package "
                f"{package.id} is forecast {package.overrun:,.2f} CNY over budget",
                body=f"项目包 {package.id} {package.name}：预算 {package.budget:,.2f} 元，预计 "
                f"{package.forecast:,.2f} 元，超支 {package.overrun:,.2f} 元。/ Package "
                f"{package.id}: budget {package.budget:,.2f}, forecast {package.forecast:,.2f}, "
                f"over by {package.overrun:,.2f} CNY.",
                link=f"/packages/{package.id}",
            ),
        )
    ctx.step("发出提醒 / sending reminders")
    told, mailed = ctx.tell(pairs)
    return JobOutcome(
        f"逾期备案 {overdue} 项，将到期 {due} 项，超预算项目包 {len(over)} 个；新提醒 {told} 条 / "
        f"{overdue} filings overdue, {due} due within {window} working days, {len(over)} "
        f"packages over budget; {told} new reminders ({mailed} e-mailed)",
        {"overdue": overdue, "due": due, "packages_over": len(over), "notified": told,
         "emailed": mailed},
    )  # fmt: skip


# ---------------------------------------------------------------- agreement lines


def agreements(ctx: JobContext) -> JobOutcome:
    """Warn planners of agreement lines ending within `GRIDSUPPLY_AGREEMENT_WARN_DAYS` days below
    the lower end of their band (ordered and promised), and of lines past 100 % of their
    estimate."""
    off = not_a_working_day(ctx)
    if off is not None:
        return off
    ctx.step("核对协议执行 / checking agreement execution")
    today = ctx.today
    with Session(ctx.engine) as session:
        lines = every_row(
            lambda offset, limit: agreement_execution(
                session=session, today=today, where=AgreementFilter(sort="valid_to"),
                offset=offset, limit=limit,
            )
        )  # fmt: skip
        planners = people_with_roles(session, [Role.PLANNER])
    horizon = today + timedelta(days=ctx.settings.agreement_warn_days)
    valid = [a for a in lines if a.valid_from <= today <= a.valid_to]
    under = [a for a in valid if a.valid_to <= horizon and a.band == Band.UNDER]
    past = [a for a in valid if a.committed > a.estimated_quantity]
    pairs = []
    for (number, valid_to), group in _by_agreement(under, with_end=True).items():
        pairs += to_each(
            planners,
            Reminder(
                kind="agreement.under",
                key=f"agreement.under:{number}:{valid_to}",
                title=f"协议 {number} 将于 {valid_to} 到期，{len(group)} 行低于执行下限 / "
                f"agreement {number} ends {valid_to} with {len(group)} lines below their band",
                body=_lines_text(group),
                link="/stock?view=agreements",
            ),
        )
    for (number, _), group in _by_agreement(past, with_end=False).items():
        ids = ",".join(str(a.id) for a in group)
        pairs += to_each(
            planners,
            Reminder(
                kind="agreement.over",
                key=f"agreement.over:{number}:{_digest(ids)}",
                title=f"协议 {number} 有 {len(group)} 行已超过预估数量 100% / agreement {number}: "
                f"{len(group)} lines past 100 % of their estimate",
                body=_lines_text(group),
                link="/stock?view=agreements",
            ),
        )
    told, mailed = ctx.tell(pairs)
    return JobOutcome(
        f"{len(under)} 行协议 {ctx.settings.agreement_warn_days} 天内到期且低于执行下限，"
        f"{len(past)} 行超过 100%；新提醒 {told} 条 / {len(under)} lines ending within "
        f"{ctx.settings.agreement_warn_days} days below their band, {len(past)} past 100 %; "
        f"{told} new reminders ({mailed} e-mailed)",
        {"under": [a.id for a in under], "past_100": [a.id for a in past], "notified": told,
         "emailed": mailed},
    )  # fmt: skip


def _by_agreement(
    lines: list[AgreementExecution], *, with_end: bool
) -> dict[tuple[str, date | None], list[AgreementExecution]]:
    groups: dict[tuple[str, date | None], list[AgreementExecution]] = defaultdict(list)
    for line in lines:
        groups[line.agreement_no, line.valid_to if with_end else None].append(line)
    return dict(groups)


def _lines_text(lines: list[AgreementExecution]) -> str:
    return "\n".join(
        f"- {a.agreement_no}/{a.line_no} {a.material_code} {a.material_name}（{a.supplier}）："
        f"预估 {a.estimated_quantity:,}，已下单+待下单 {a.committed:,}（{a.committed_pct}%），执行区间 "
        f"{a.band_low_pct}–{a.band_high_pct}%，有效期至 {a.valid_to} / estimate "
        f"{a.estimated_quantity:,}, ordered and promised {a.committed:,} ({a.committed_pct} %), "
        f"valid to {a.valid_to}"
        for a in lines[:50]
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- the calendar


def missing_years(ctx: JobContext) -> dict[int, str]:
    """The years the calendar lacks that work needs now, each with the reason."""
    today, calendar = ctx.today, ctx.calendar
    found: dict[int, str] = {}
    if not calendar.covers(today.year):
        found[today.year] = f"今天 {today} 在其中 / today, {today}, is in it"
    if (today.month, today.day) >= (11, 1) and not calendar.covers(today.year + 1):
        found.setdefault(
            today.year + 1,
            "11 月 1 日起须加载下一年 / from 1 November next year's arrangement is needed",
        )
    longest = max(ctx.policy.build_working_days.values())
    try:
        calendar.add_working_days(today, longest)
    except YearNotLoaded as exc:
        found.setdefault(
            exc.year,
            f"今天审批的 {longest} 个工作日工程，其建设期限将落在 {exc.year} 年 / the deadline of a "
            f"{longest}-working-day project approved today falls in {exc.year}",
        )
    horizon = today + timedelta(days=ctx.settings.calendar_horizon_days)
    for year in range(today.year, horizon.year + 1):
        if not calendar.covers(year):
            found.setdefault(
                year,
                f"{ctx.settings.calendar_horizon_days} 天内的需到货日和期限会落在 {year} 年 / "
                f"need-by dates and deadlines within {ctx.settings.calendar_horizon_days} days "
                f"fall in {year}",
            )
    return dict(sorted(found.items()))


def calendar_check(ctx: JobContext) -> JobOutcome:
    """Warn the administrators and planners of a year the working-day calendar lacks, weeks
    before a deadline or need-by would fall in it; the warning names the command that loads
    the year."""
    ctx.step("核对工作日历 / checking the working-day calendar")
    missing = missing_years(ctx)
    loaded = format_years(ctx.calendar.years)
    if not missing:
        return JobOutcome(
            f"工作日历已覆盖所需年份（已加载 {loaded}）/ the calendar covers what work needs "
            f"(loaded: {loaded})",
            {"missing": [], "loaded": loaded},
        )
    with Session(ctx.engine) as session:
        people = people_with_roles(session, [Role.ADMIN, Role.PLANNER])
    pairs = []
    for year, reason in missing.items():
        pairs += to_each(
            people,
            Reminder(
                kind="calendar.missing",
                key=f"calendar.missing:{year}",
                title=f"{year} 年工作日历未加载 / the {year} working-day calendar is not loaded",
                body=f"{reason}。国务院公布 {year} 年节假日安排后，用 `{LOAD_HINT}` 加载（格式见 "
                f"docs/calendar.md；已加载 {loaded}）。/ Once the State Council publishes the "
                f"{year} arrangement, load it with `{LOAD_HINT}` (format: docs/calendar.md; "
                f"loaded: {loaded}). 未加载前，期限落在 {year} 年的工程无法推算期限与需到货日。",
                link="/projects",
            ),
        )
    told, mailed = ctx.tell(pairs)
    years = ", ".join(str(y) for y in missing)
    return JobOutcome(
        f"缺少 {years} 年工作日历：用 `{LOAD_HINT}` 加载；新提醒 {told} 条 / the calendar lacks "
        f"{years}: load it with `{LOAD_HINT}`; {told} new warnings ({mailed} e-mailed)",
        {"missing": list(missing), "reasons": {str(y): r for y, r in missing.items()},
         "loaded": loaded, "notified": told, "emailed": mailed},
    )  # fmt: skip
