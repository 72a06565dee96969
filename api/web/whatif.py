"""假设分析 (beside 周计划): try changes on a weekly plan — rows typed into the form (the change
sheet's columns), a change file, extra projects — and see the what-if beside its base: the KPIs,
spend by source, the lines that changed with why; replay it, download it. The same service calls
as /api/v1/scenarios."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.deps import CalendarDep, ClockDep, PolicyDep, SessionDep, SettingsDep
from api.downloads import xlsx_download
from api.web.render import PageRoute, is_htmx, render
from api.web.session import PageActor, page_require
from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.calendar import CalendarError, WorkCalendar
from supply.core.clock import Clock
from supply.core.errors import ImportRejected, RowProblem
from supply.core.paging import Page
from supply.core.settings import Settings
from supply.policy import DeadlinePolicy, batch_for
from supply.weekly import queries
from supply.whatif import (
    KIND_ZH,
    ScenarioPublic,
    ScenarioReplay,
    ScenarioSummary,
    WhatIf,
    create_scenario,
    get_scenario,
    list_scenarios,
    read_changes,
    read_projects,
    replay_scenario,
    scenario_file,
    scenario_workbook,
    template_workbook,
)
from supply.whatif.files import sheet_rows
from supply.whatif.models import LineChange
from supply.whatif.sheet import read_change_sheet

BATCH_ID = re.compile(r"^\d{4}-W\d{2}$")
router = APIRouter(prefix="/weekly/whatif", route_class=PageRoute, include_in_schema=False)
ROWS = 5  # change rows the form offers
FIELDS = ("kind", "target", "material", "to", "value")
PER_PAGE = 20
LINES_PER_PAGE = 50
MAX_OFFSET = 10**7
MAX_ID = 2_000_000_000
FRAGMENTS = {"scenarios": "whatif/_scenarios.html"}
DETAIL_FRAGMENTS = {"lines": "whatif/_lines.html", "replay": "whatif/_replay.html"}
KINDS = [(code, label) for code, label in KIND_ZH.items() if code != "extra_projects"]
VERDICT_ZH = {"new": "新增", "worse": "变差", "changed": "有变化", "better": "变好"}
SOURCES = (
    ("reserve", "实物储备"),
    ("consignment", "供应商寄存"),
    ("agreement", "协议库存"),
    ("emergency", "紧急采购"),
)
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
ScenarioId = Annotated[int, Path(ge=1, le=MAX_ID)]


@dataclass
class WhatIfForm:
    """The form as sent (or to show): batch, base, name, the change rows, the files' names, and
    what is wrong — with a field, or the changes' problems by row and column."""

    batch: str = ""
    base: str = "run"
    name: str = ""
    rows: list[dict[str, str]] = field(
        default_factory=lambda: [dict.fromkeys(FIELDS, "") for _ in range(ROWS)]
    )
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    message: str = ""


def _batches(
    with_runs: list[str], now: Any, calendar: WorkCalendar, policy: DeadlinePolicy
) -> list[str]:
    """The batches to choose from: this week's, then every batch with a run, newest first."""
    try:
        current = batch_for(now, calendar=calendar, policy=policy).id
    except CalendarError:  # a year no calendar covers: the batches with runs are still there
        return with_runs
    return [current, *[b for b in with_runs if b != current]]


def index_context(
    session: Session,
    *,
    actor: Actor,
    now: Any,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    form: WhatIfForm | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """What the what-if page shows: the form (for who may run one) and the saved what-ifs."""
    with_runs = list(dict.fromkeys(run.batch_id for run in queries.list_runs(session=session)))
    batches = _batches(with_runs, now, calendar, policy)
    form = form or WhatIfForm()
    if not form.batch:
        form.batch = next((b for b in batches if b in with_runs), batches[0] if batches else "")
    scenarios: Page[ScenarioSummary] = list_scenarios(
        session=session, offset=offset, limit=PER_PAGE
    )
    return {
        "form": form,
        "batches": batches,
        "with_runs": with_runs,
        "kinds": KINDS,
        "can_run": actor.can(Permission.SCENARIOS_RUN),
        "scenarios": scenarios,
        "params": {},
    }


@router.get("", dependencies=[page_require("scenarios.read")])
def whatif_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    actor: PageActor,
    offset: Offset = 0,
) -> Response:
    """The what-if page: the form, and the saved what-ifs (htmx asks for `#scenarios` alone)."""
    context = index_context(
        session, actor=actor, now=clock.now(), calendar=calendar, policy=policy, offset=offset
    )
    return render(request, "whatif/index.html", context, fragments=FRAGMENTS)


@router.get("/template.xlsx", dependencies=[page_require("scenarios.read")])
def download_template() -> Response:
    """变更模板: the sheet 变更 (headers), 说明, and 项目/需求明细 for extra projects."""
    return xlsx_download(template_workbook(), "假设分析变更模板.xlsx")


def _form_rows(values: FormData) -> list[dict[str, str]]:
    rows = []
    for i in range(ROWS):
        rows.append({f: str(values.get(f"{f}_{i}", "")).strip()[:200] for f in FIELDS})
    return rows


async def _file(values: FormData, name: str, limit: int) -> tuple[str, bytes] | None:
    upload = values.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return upload.filename[:255], await upload.read(limit + 1)


@router.post("", dependencies=[page_require("scenarios.run")])
async def make_whatif(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    settings: SettingsDep,
    actor: PageActor,
) -> Response:
    """假设分析: as POST /api/v1/scenarios — the rows of the form, a change file, extra projects;
    the what-if's page, or the form again with every problem by row and column (422)."""
    async with request.form() as values:  # its files are closed once the what-if is made
        return await _make(request, values, session, clock, calendar, policy, settings, actor)


async def _make(
    request: Request,
    values: FormData,
    session: Session,
    clock: Clock,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
    actor: Actor,
) -> Response:
    limit = settings.max_upload_bytes
    form = WhatIfForm(
        batch=str(values.get("batch", "")).strip()[:10],
        base=str(values.get("base", "run")).strip()[:10],
        name=str(values.get("name", "")).strip()[:200],
        rows=_form_rows(values),
    )
    if not BATCH_ID.match(form.batch):
        form.errors["batch"] = "请选择批次，如 2026-W49 / choose a batch"
    if form.base not in ("run", "current"):
        form.errors["base"] = "基准应为 批次计划 或 当前状态 / run or current"
    what = WhatIf(batch_id=form.batch, base=form.base, name=form.name)
    typed = [
        (number, [row[f] or None for f in FIELDS])
        for number, row in enumerate(form.rows, start=1)
        if any(row.values())
    ]
    try:
        if typed:
            rows, problems = read_change_sheet(sheet_rows(typed))
            what = replace(what, changes=rows, problems=problems)
        change_file = await _file(values, "changes", limit)
        if change_file is not None:
            found = read_changes(change_file[1], change_file[0], max_bytes=limit)
            what = replace(
                what,
                changes=[*what.changes, *found.changes],
                problems=[*what.problems, *found.problems],
                projects=found.projects,
                projects_file=change_file[0],
            )
        projects = await _file(values, "projects", limit)
        if projects is not None:
            sheets = read_projects(projects[1], projects[0], max_bytes=limit)
            what = replace(what, projects=sheets, projects_file=projects[0])
        if form.errors:
            return _form_again(request, session, actor, clock.now(), calendar, policy, form)
        engine = session.get_bind()
        assert isinstance(engine, Engine)  # sessions are bound to the engine, never a connection
        scenario = await run_in_threadpool(
            create_scenario, engine=engine, what=what, now=clock.now(), user=actor.login,
            calendar=calendar, policy=policy, settings=settings,
        )  # fmt: skip
    except ImportRejected as rejected:
        form.problems, form.message = list(rejected.problems), rejected.message
        return _form_again(request, session, actor, clock.now(), calendar, policy, form)
    return RedirectResponse(f"/weekly/whatif/{scenario.id}", status_code=303)


def _form_again(
    request: Request,
    session: Session,
    actor: Actor,
    now: Any,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    form: WhatIfForm,
) -> Response:
    context = index_context(
        session, actor=actor, now=now, calendar=calendar, policy=policy, form=form
    )
    return render(request, "whatif/index.html", context, status=422)


# ------------------------------------------------------------------ one what-if


def spend_chart(scenario: ScenarioPublic) -> dict[str, Any]:
    """Spend by source, base beside what-if (元), for the page's bar chart."""
    rows = {row.key: row for row in scenario.kpis}
    return {
        "title": "按来源支出（万元）",
        "categories": [label for _, label in SOURCES],
        "series": [
            {
                "key": "budget",
                "name": "基准",
                "data": [rows[f"spend.{k}"].base for k, _ in SOURCES],
            },
            {
                "key": "forecast",
                "name": "假设",
                "data": [rows[f"spend.{k}"].scenario for k, _ in SOURCES],
            },
        ],
    }


def detail_context(
    session: Session, scenario_id: int, *, offset: int = 0, replayed: ScenarioReplay | None = None
) -> dict[str, Any]:
    """What one what-if's page shows: its changes and what each did, the KPIs beside the base's,
    spend by source, a page of the lines that changed."""
    scenario = get_scenario(session=session, scenario_id=scenario_id)
    lines: list[LineChange] = scenario.lines
    page = Page[LineChange](
        items=lines[offset : offset + LINES_PER_PAGE],
        total=len(lines),
        offset=offset,
        limit=LINES_PER_PAGE,
    )
    counts = {v: sum(1 for line in lines if line.verdict == v) for v in VERDICT_ZH}
    return {
        "scenario": scenario,
        "kpis": [k for k in scenario.kpis if not k.key.startswith("spend.")],
        "chart": spend_chart(scenario),
        "lines": page,
        "counts": counts,
        "verdicts": VERDICT_ZH,
        "replayed": replayed,
        "params": {},
    }


@router.get("/{scenario_id}", dependencies=[page_require("scenarios.read")])
def scenario_page(
    request: Request, session: SessionDep, actor: PageActor, scenario_id: ScenarioId,
    offset: Offset = 0,
) -> Response:  # fmt: skip
    """One what-if beside its base; htmx asks for a page of its lines (`#lines`) alone."""
    context = detail_context(session, scenario_id, offset=offset)
    context["can_run"] = actor.can(Permission.SCENARIOS_RUN)
    return render(request, "whatif/detail.html", context, fragments=DETAIL_FRAGMENTS)


@router.post("/{scenario_id}/replay", dependencies=[page_require("scenarios.run")])
def replay(
    request: Request, session: SessionDep, actor: PageActor, scenario_id: ScenarioId
) -> Response:
    """重算: as POST /api/v1/scenarios/{id}/replay — its saved instance solved again."""
    replayed = replay_scenario(session=session, scenario_id=scenario_id)
    context = detail_context(session, scenario_id, replayed=replayed)
    context["can_run"] = actor.can(Permission.SCENARIOS_RUN)
    if is_htmx(request):
        return render(request, "whatif/_replay.html", context)
    return render(request, "whatif/detail.html", context)


@router.get("/{scenario_id}/workbook", dependencies=[page_require("scenarios.read")])
def download_workbook(session: SessionDep, scenario_id: ScenarioId) -> Response:
    """下载 Excel: as GET /api/v1/scenarios/{id}/workbook."""
    found = get_scenario(session=session, scenario_id=scenario_id)
    return xlsx_download(scenario_workbook(found), f"假设分析_{found.batch_id}_{found.id}.xlsx")


@router.get("/{scenario_id}/files/{name}", dependencies=[page_require("scenarios.read")])
def download_file(
    session: SessionDep, scenario_id: ScenarioId, name: Annotated[str, Path(max_length=40)]
) -> Response:
    """A file of the what-if (changes, instances, plans), as the API serves it."""
    path = scenario_file(session=session, scenario_id=scenario_id, name=name)
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "no-store"})
