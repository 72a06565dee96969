"""周计划: the batch of this week and its cutoff, running and approving its plan, the plan's
lines, its exports and the earlier runs — the same service calls as /api/v1/plans."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.responses import Response

from api.deps import CalendarDep, ClockDep, PolicyDep, SessionDep, SettingsDep
from api.downloads import xlsx_download
from api.web.render import PageRoute, is_htmx, render
from api.web.session import PageActor, page_require
from supply.auth.actor import Actor, ProjectScope
from supply.auth.roles import Permission
from supply.calendar import CalendarError, WorkCalendar
from supply.core.clock import Clock
from supply.core.errors import ImportRejected, NotFound, RowProblem
from supply.core.money import line_amount
from supply.core.paging import Page
from supply.core.settings import Settings
from supply.jobs.models import JobRunPublic, JobStatus
from supply.jobs.service import JobOutcome, Step, get_job, start_job
from supply.labels import KIND_ZH, REPLENISHMENT
from supply.policy import PROJECT_TYPE_ZH, Batch, DeadlinePolicy, batch_for
from supply.projects.scope import check_visible
from supply.projects.service import summary_by_type
from supply.weekly import queries
from supply.weekly.approval import approve_run
from supply.weekly.export import EXPORTS
from supply.weekly.kpis import NO_PACKAGE
from supply.weekly.list_sheets import lines_workbook, runs_workbook
from supply.weekly.models import LineKind, PlanRunPublic, RunApproval, RunStatus
from supply.weekly.province import MatchImport, import_province_match
from supply.weekly.run import run_weekly

router = APIRouter(prefix="/weekly", route_class=PageRoute, include_in_schema=False)
BATCH_ID = re.compile(r"^\d{4}-W\d{2}$")
LINES_PER_PAGE = 50
RUNS_PER_PAGE = 10
MAX_OFFSET = 10**7
# The fragments htmx asks for by the id it swaps: the same templates the page includes.
FRAGMENTS = {"lines": "weekly/_lines.html", "runs": "weekly/_runs.html"}
BATCH_FRAGMENTS = {"batch": "weekly/_batch.html"}
RUN_JOB = "weekly_plan"  # the job a page's 运行周计划 starts


@dataclass
class LineFilter:
    """The plan lines' filters as the page's form sends them, and what is wrong with them."""

    kind: str = ""
    project: str = ""
    late: bool = False
    sort: str = ""
    offset: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        return {"kind": self.kind, "project": self.project, "late": self.late, "sort": self.sort}

    def query(self, scope: ProjectScope | None) -> queries.LineQuery:
        return queries.LineQuery(
            kind=LineKind(self.kind) if self.kind else None,
            project_id=self.project or None,
            late_only=self.late,
            scope=scope,
            sort=self.sort or None,
        )


def line_filter(
    kind: str | None, project: str | None, late: str | None, offset: int, sort: str | None = None
) -> LineFilter:
    """Read the filters: a kind that is no source kind, or a project id past 32 characters, is
    named under its field and not applied; a sort by no column is dropped."""
    found = LineFilter(offset=offset, late=late in ("1", "true", "on"))
    if sort and sort.removeprefix("-") in queries.LINE_SORTS:
        found.sort = sort
    if kind:
        if kind in set(LineKind):
            found.kind = kind
        else:
            found.errors["kind"] = f"没有来源类别 {kind[:40]} / no such source kind"
    if project:
        project = project.strip()
        if len(project) > 32:
            found.errors["project"] = (
                "项目编号最多 32 个字符 / a project id has at most 32 characters"
            )
        else:
            found.project = project
    return found


def kpi_comparison(kpis: dict[str, Any]) -> list[dict[str, Any]]:
    """The run against the hand planner's rule (earliest need-by first, cheapest on-time
    source): each measure, ours, theirs, its unit, and whether ours is better, equal or worse
    (none for a run saved before its KPIs held all of these)."""
    try:
        base, totals, below = kpis["baseline"], kpis["totals"], kpis["reserve_below_quota"]
        ours, theirs = kpis["objective"], base["objective"]
        rows = [
            ("按时行数", totals["on_time_lines"], base["on_time_lines"], "count", True),
            ("按时金额", totals["on_time_value"], base["on_time_value"], "money", True),
            ("加权缺口（数量）", ours["unmet_weighted"], theirs["unmet_weighted"], "count", False),
            ("加权延迟（数量×天）", ours["lateness_weighted"], theirs["lateness_weighted"],
             "count", False),
            ("支出", kpis["spend"], base["spend"], "money", False),
            ("低于定额罚金（不实际支付）", below["penalty"], base["penalty"], "money", False),
        ]  # fmt: skip
    except KeyError:
        return []
    found = []
    for label, mine, hand, unit, higher_is_better in rows:
        delta = float(mine) - float(hand)
        verdict = "same" if delta == 0 else "better" if (delta > 0) == higher_is_better else "worse"
        found.append({"label": label, "ours": mine, "hand": hand, "unit": unit, "verdict": verdict})
    return found


def by_type_rows(kpis: dict[str, Any]) -> list[dict[str, Any]]:
    """Lines by project type (and the total): on time, late, unmet, value on time."""
    rows = [{"type": code, **row} for code, row in kpis.get("by_project_type", {}).items()]
    return [*rows, {"type": "", **kpis["totals"]}] if "totals" in kpis else rows


def _type_name(code: str) -> str:
    names = {str(k): v for k, v in PROJECT_TYPE_ZH.items()}
    return names.get(code, code)


def chart_data(kpis: dict[str, Any]) -> dict[str, Any]:
    """The lines-by-type chart's data: one category per project type, a series per outcome."""
    types = list(kpis.get("by_project_type", {}).items())
    return {
        "categories": [_type_name(code) for code, _ in types],
        "series": [
            {"name": "按时", "key": "on_time", "data": [r["on_time_lines"] for _, r in types]},
            {"name": "延迟", "key": "late", "data": [r["late_lines"] for _, r in types]},
            {"name": "未满足", "key": "unmet", "data": [r["unmet_lines"] for _, r in types]},
        ],
    }


def _runs_page(session: Session, offset: int) -> Page[PlanRunPublic]:
    runs = queries.list_runs(session=session)  # a few a week: paged here
    return Page[PlanRunPublic](
        items=runs[offset : offset + RUNS_PER_PAGE],
        total=len(runs),
        offset=offset,
        limit=RUNS_PER_PAGE,
    )


def _batch_or_404(batch: str) -> str:
    if not BATCH_ID.match(batch):
        raise NotFound(f"没有批次 {batch[:20]} / no batch {batch[:20]!r} (e.g. 2026-W49)")
    return batch


def weekly_context(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    batch: str | None = None,
    lines: LineFilter | None = None,
    runs_offset: int = 0,
    steps: list[dict[str, Any]] | None = None,
    approval: RunApproval | None = None,
    notice: str = "",
    problem: str = "",
    job: JobRunPublic | None = None,
    province: ProvinceUpload | None = None,
) -> dict[str, Any]:
    """Everything the weekly page shows, read through the weekly run's own queries."""
    try:
        current: Batch | None = batch_for(now, calendar=calendar, policy=policy)
        calendar_problem = ""
    except CalendarError as exc:  # a year no calendar covers: the runs are still shown
        current, calendar_problem = None, exc.message
    runs = _runs_page(session, runs_offset)
    latest = runs.items[0].batch_id if runs.items else ""
    batch_id = _batch_or_404(batch) if batch else current.id if current else latest
    lines = lines or LineFilter()
    scope = actor.project_scope
    if lines.project and scope is not None:
        check_visible(session, lines.project, scope)  # another unit's project: 404
    run = queries.live_run(session, batch_id)
    page = None
    if run is not None:
        page = queries.list_plan_lines(
            session=session, batch_id=batch_id, offset=lines.offset, limit=LINES_PER_PAGE,
            query=lines.query(scope),
        )  # fmt: skip
    is_current = current is not None and batch_id == current.id
    summary = summary_by_type(session=session, cutoff=current.cutoff) if current else []
    kpis = run.kpis if run is not None else {}
    draft = run is not None and run.status == RunStatus.DRAFT
    return {
        "now": now,
        "current": current,
        "calendar_problem": calendar_problem,
        "cutoff_moved": current is not None and current.cutoff.date() != current.named_for,
        "province_days": policy.province_match_working_days,
        "filing_days": policy.filing_working_days,
        "batch_id": batch_id,
        "is_current": is_current,
        "run": run,
        "summary": summary,
        "can_run": actor.can(Permission.PLANS_RUN) and is_current and (run is None or draft),
        "can_approve": actor.can(Permission.PLANS_APPROVE) and draft,
        "kpis": kpis,
        "comparison": kpi_comparison(kpis) if kpis else [],
        "by_type": by_type_rows(kpis) if kpis else [],
        "by_source": kpis.get("by_source", {}),
        "by_package": kpis.get("by_package", {}),
        "no_package": NO_PACKAGE,
        "replenishment": kpis.get("replenishment", {}).get("totals"),
        "replenishment_code": REPLENISHMENT,
        "chart": chart_data(kpis) if kpis else None,
        "exports": list(EXPORTS.items()) if run is not None else [],
        "lines": page,
        "line_rows": [(line, line_amount(line.unit_cost, line.quantity)) for line in page.items]
        if page is not None
        else [],
        "filters": lines,
        "kinds": list(KIND_ZH.items()),
        "runs": runs,
        "steps": steps or [],
        "approval": approval,
        "notice": notice,
        "problem": problem,
        "job": job,
        "province": province or ProvinceUpload(),
        "matches": queries.province_matches(session, run.id) if run and run.id else [],
        "can_import": actor.can(Permission.PLANS_IMPORT)
        and run is not None
        and run.status == RunStatus.APPROVED,
    }


@dataclass
class ProvinceUpload:
    """What an upload of the province's matching gave: what it changed, or why it was refused
    (the file's problems by row and column, or a field's error)."""

    imported: MatchImport | None = None
    problems: list[RowProblem] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


@router.get("", dependencies=[page_require("plans.read")])
def weekly_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    actor: PageActor,
    batch: Annotated[str | None, Query(max_length=10)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    project: Annotated[str | None, Query(max_length=100)] = None,
    late: Annotated[str | None, Query(max_length=10)] = None,
    sort: Annotated[str | None, Query(max_length=20)] = None,
    offset: Offset = 0,
    runs_offset: Offset = 0,
) -> Response:
    """The weekly plan page; htmx asks for the lines (`#lines`) or the runs (`#runs`) alone."""
    context = weekly_context(
        session, actor=actor, now=clock.now(), calendar=calendar, policy=policy, batch=batch,
        lines=line_filter(kind, project, late, offset, sort), runs_offset=runs_offset,
    )  # fmt: skip
    return render(request, "weekly/index.html", context, fragments=FRAGMENTS)


@dataclass
class WeekPage:
    """What the weekly page's actions share: who acts, when, on which calendar and policy, and
    how the page (or its `#batch` part, for htmx) is drawn after the action."""

    request: Request
    session: Session
    now: datetime
    clock: Clock
    calendar: WorkCalendar
    policy: DeadlinePolicy
    settings: Settings
    actor: Actor

    def render(self, *, status: int = 200, **values: Any) -> Response:
        context = weekly_context(
            self.session, actor=self.actor, now=self.now, calendar=self.calendar,
            policy=self.policy, **values,
        )  # fmt: skip
        return render(
            self.request, "weekly/index.html", context, status=status, fragments=BATCH_FRAGMENTS
        )


def week_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    actor: PageActor,
) -> WeekPage:
    return WeekPage(request, session, clock.now(), clock, calendar, policy, settings, actor)


WeekDep = Annotated[WeekPage, Depends(week_page)]


@router.post("/run", dependencies=[page_require("plans.run")])
def run_plan(week: WeekDep, rerun: Annotated[bool, Form()] = False) -> Response:
    """运行周计划: the batch of this moment, as POST /api/v1/plans/runs, started in the
    background; the answer is its progress, which the page follows step by step."""
    engine = week.session.get_bind()
    assert isinstance(engine, Engine)  # sessions are bound to the engine, never a connection

    def work(step: Step) -> JobOutcome:
        started = time.monotonic()
        run = run_weekly(
            engine=engine, at=week.now, now=week.now, user=week.actor.login,
            calendar=week.calendar, policy=week.policy, settings=week.settings, rerun=rerun,
            progress=step,
        ).run  # fmt: skip
        return JobOutcome(
            f"批次 {run.batch_id} 第 {run.id} 次运行完成（{run.solve_status}），用时 "
            f"{time.monotonic() - started:.1f} 秒；报表已生成，可下载。",
            {"batch_id": run.batch_id, "run_id": run.id},
        )

    job_id = start_job(engine, name=RUN_JOB, user=week.actor.login, clock=week.clock.now, work=work)
    if not is_htmx(week.request):  # a browser without scripts: the progress page, by hand
        return RedirectResponse(f"/weekly/jobs/{job_id}", status_code=303)
    return job_view(week, job_id)


@router.get("/jobs/{job_id}", dependencies=[page_require("plans.read")])
def job_view(week: WeekDep, job_id: Annotated[int, Path(ge=1, le=MAX_OFFSET)]) -> Response:
    """A run of the weekly plan as it goes: its steps so far (htmx asks again every half second),
    then, once it has ended, the batch with the run's steps and outcome."""
    job = get_job(session=week.session, job_id=job_id, now=week.now, name=RUN_JOB)
    if job.status == JobStatus.RUNNING:
        return week.render(job=job)
    failed = job.status == JobStatus.FAILED
    return week.render(
        batch=(job.result or {}).get("batch_id"), steps=job.steps,
        notice="" if failed else job.message, problem=job.message if failed else "",
    )  # fmt: skip


@router.post("/{batch}/approve", dependencies=[page_require("plans.approve")])
def approve(week: WeekDep, batch: str) -> Response:
    """审批: approve and freeze the batch's run, as POST /api/v1/plans/batches/{id}/approve;
    the answer shows the budget warnings it raised and the filings it opened."""
    approval = approve_run(
        session=week.session, batch_id=_batch_or_404(batch), user=week.actor.login,
        now=week.now, calendar=week.calendar, policy=week.policy, settings=week.settings,
    )  # fmt: skip
    notice = f"批次 {approval.batch_id} 已批准，计划已冻结，实物储备与寄存已占用。"
    return week.render(batch=approval.batch_id, approval=approval, notice=notice)


@router.post("/{batch}/province-match", dependencies=[page_require("plans.import")])
def import_match(
    week: WeekDep, batch: str, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    """导入省公司匹配结果, as POST /api/v1/plans/batches/{id}/province-match: all rows or none;
    the page shows each re-dated line before and after, or each problem by row and column."""
    batch_id, upload, status = _batch_or_404(batch), ProvinceUpload(), 200
    if file is None or not file.filename:
        upload.errors["file"] = "请选择省公司匹配结果文件（.xlsx 或 .csv） / choose the file"
        status = 422
    else:
        limit = week.settings.max_upload_bytes
        try:
            upload.imported = import_province_match(
                session=week.session, batch_id=batch_id, content=file.file.read(limit + 1),
                file_name=file.filename, user=week.actor.login, now=week.now, max_bytes=limit,
                settings=week.settings,
            )  # fmt: skip
        except ImportRejected as rejected:
            upload.problems, status = list(rejected.problems), 422
            upload.errors["file"] = rejected.message
    return week.render(status=status, batch=batch_id, province=upload)


@router.get("/runs.xlsx", dependencies=[page_require("plans.read")])
def download_runs(session: SessionDep) -> Response:
    """下载历次运行: every run, newest first, as Excel."""
    return xlsx_download(runs_workbook(queries.list_runs(session=session)), "历次运行.xlsx")


@router.get("/{batch}/lines.xlsx", dependencies=[page_require("plans.read")])
def download_lines(
    session: SessionDep,
    actor: PageActor,
    batch: str,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    project: Annotated[str | None, Query(max_length=100)] = None,
    late: Annotated[str | None, Query(max_length=10)] = None,
    sort: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """下载计划明细: the lines the page's filters select, in its order, as Excel (as GET
    /api/v1/plans/batches/{id}/lines.xlsx)."""
    batch_id = _batch_or_404(batch)
    found = line_filter(kind, project, late, 0, sort)
    scope = actor.project_scope
    if found.project and scope is not None:
        check_visible(session, found.project, scope)
    lines = queries.plan_lines(session=session, batch_id=batch_id, query=found.query(scope))
    return xlsx_download(lines_workbook(lines, batch_id), f"计划明细_{batch_id}.xlsx")


@router.get("/{batch}/exports/{name}", dependencies=[page_require("plans.read")])
def download_export(session: SessionDep, batch: str, name: str) -> Response:
    """下载报表: the file the batch's run wrote, as GET /api/v1/plans/batches/{id}/exports/{name}."""
    path = queries.export_file(session=session, batch_id=_batch_or_404(batch), name=name)
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "no-store"})
