"""项目: a project manager's projects (planner and viewer read all), one project with its lines
and holds (issue, release), and the urgent-request form — the same service calls as
/api/v1/projects, /api/v1/requests and /api/v1/holds. A project manager reaches only their
unit's projects (`actor.project_scope`): another unit's project is a 404 page."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from api.coalesce import Context, coalescer
from api.deps import CalendarDep, ClockDep, PolicyDep, SessionDep, SettingsDep, TodayDep
from api.downloads import xlsx_download
from api.web.render import PageRoute, render
from api.web.session import PageActor, page_require
from catalogs.queries import list_materials
from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.core.errors import Conflict, DomainError, InvalidInput, NotFound
from supply.demand import service as demand
from supply.holds import service as holds
from supply.holds.models import HoldStatus
from supply.policy import PROJECT_TYPE_ZH, ProjectType
from supply.projects import service as projects
from supply.projects.list_sheet import projects_workbook
from supply.projects.models import PROJECT_STATUS_ZH, ProjectStatus
from supply.projects.scope import check_visible
from supply.requests.asks import Ask
from supply.requests.models import SupplyRequestIn
from supply.timeline import at_risk_among, at_risk_projects, project_timeline

router = APIRouter(prefix="/projects", route_class=PageRoute, include_in_schema=False)
PER_PAGE = 50
MAX_OFFSET = 10**7
HOLDS_SHOWN = 200
PROJECTS_OFFERED = 500  # the request form's project list (a unit's active projects)
MATERIALS_OFFERED = 1000  # the request form's material <datalist>
MAX_FORM_LINES = 50
BLANK_ROWS = 5  # empty line rows on a fresh form
FRAGMENTS = {"projects": "projects/_table.html"}
Text = Annotated[str | None, Query(max_length=200)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


# ------------------------------------------------------------------ the list


@dataclass
class ProjectFilter:
    """The project list's filters as the form sends them, and what is wrong with them."""

    form: dict[str, str]
    q: str | None = None
    project_type: str | None = None
    status: str | None = None
    sort: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def selects(self, actor: Actor) -> dict[str, Any]:
        """The filters as `list_projects` takes them: without a sort, at-risk projects first."""
        return {
            "q": self.q, "project_type": self.project_type, "status": self.status,
            "scope": actor.project_scope, "sort": self.sort,
            "first": None if self.sort else at_risk_projects(),
        }  # fmt: skip


def project_filter(q: str, project_type: str, status: str, sort: str = "") -> ProjectFilter:
    """Read the filters: a type or status that does not exist is named and not applied; a sort
    by no column is dropped."""
    form = {"q": q.strip()[:100], "type": project_type.strip()[:40], "status": status.strip()[:20]}
    form["sort"] = sort if sort.removeprefix("-") in projects.PROJECT_SORTS else ""
    found = ProjectFilter(form=form, q=form["q"] or None, sort=form["sort"] or None)
    if form["type"]:
        if form["type"] in {t.value for t in ProjectType}:
            found.project_type = form["type"]
        else:
            found.errors["type"] = f"没有工程类型 {form['type']} / no such project type"
    if form["status"]:
        if form["status"] in {s.value for s in ProjectStatus}:
            found.status = form["status"]
        else:
            found.errors["status"] = f"没有状态 {form['status']} / no such status"
    return found


def _choices() -> dict[str, Any]:
    return {
        "project_types": [(t.value, PROJECT_TYPE_ZH[t]) for t in ProjectType],
        "project_statuses": [(s.value, PROJECT_STATUS_ZH[s]) for s in ProjectStatus],
    }


@router.get("", dependencies=[page_require("projects.read")])
def projects_page(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    actor: PageActor,
    q: Text = None,
    type: Text = None,
    status: Text = None,
    sort: Text = None,
    offset: Offset = 0,
) -> Response:
    """My projects (all for a planner or viewer): those at risk first, then the earliest
    materials need-by (or as sorted); htmx asks for the table alone (`#projects`)."""
    found = project_filter(q or "", type or "", status or "", sort or "")
    page = projects.list_projects(
        session=session, offset=offset, limit=PER_PAGE, **found.selects(actor)
    )
    context = {
        "filters": found,
        "page": page,
        "at_risk": at_risk_among(session, [p.id for p in page.items]),
        "today": today,
        "active": ProjectStatus.ACTIVE.value,
        "can_request": actor.can(Permission.REQUESTS_CREATE),
        **_choices(),
    }
    return render(request, "projects/index.html", context, fragments=FRAGMENTS)


@router.get("/list.xlsx", dependencies=[page_require("projects.read")])
def download_projects(
    session: SessionDep,
    today: TodayDep,
    actor: PageActor,
    q: Text = None,
    type: Text = None,
    status: Text = None,
    sort: Text = None,
) -> Response:
    """下载项目清单: the projects the list's filters select, in its order, as Excel."""
    found = project_filter(q or "", type or "", status or "", sort or "")
    shown = projects.all_projects(session=session, **found.selects(actor))
    at_risk = at_risk_among(session, [p.id for p in shown])
    name = f"项目清单_{today.isoformat()}.xlsx"
    return xlsx_download(projects_workbook(shown, at_risk), name)


# ------------------------------------------------------------------ the urgent request


@dataclass
class RequestForm:
    """The urgent-request form as sent: the project (existing or new), the lines, the errors."""

    project_id: str = ""
    new: dict[str, str] = field(
        default_factory=lambda: dict.fromkeys(("id", "name", "type", "location", "approved_on"), "")
    )
    lines: list[tuple[str, str]] = field(default_factory=list)
    key: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def creating(self) -> bool:
        return not self.project_id and any(self.new.values())


def _new_key() -> str:
    return secrets.token_urlsafe(16)


def read_request_form(values: Any) -> RequestForm:
    """The form's fields (line i: `material_code` and `quantity`, repeated) as sent, trimmed."""
    form = RequestForm(project_id=str(values.get("project_id", "")).strip()[:100])
    for name in form.new:
        form.new[name] = str(values.get(f"new_{name}", "")).strip()[:200]
    codes = [str(v).strip()[:100] for v in values.getlist("material_code")]
    quantities = [str(v).strip()[:20] for v in values.getlist("quantity")]
    quantities += [""] * (len(codes) - len(quantities))
    form.lines = [(c, n) for c, n in zip(codes, quantities, strict=False) if c or n]
    form.key = str(values.get("key", "")).strip()[:200] or _new_key()
    return form


# Where a problem the request model names goes on the form.
_FIELD_OF = {
    "project_id": "project_id",
    "id": "new_id",
    "name": "new_name",
    "project_type": "new_type",
    "location": "new_location",
    "approved_on": "new_approved_on",
}


def _field_for(loc: tuple[Any, ...]) -> str:
    """The form field a validation or domain error's location points at ('' for the form)."""
    parts = [p for p in loc if p not in ("body",)]
    if len(parts) >= 2 and parts[0] == "lines" and isinstance(parts[1], int):
        return f"line-{parts[1]}"
    if parts and parts[0] == "lines":
        return "lines"
    for part in reversed(parts):
        if isinstance(part, str) and part in _FIELD_OF:
            return _FIELD_OF[part]
    return "form"


def request_body(form: RequestForm) -> SupplyRequestIn | None:
    """The request the form asks for, or None with its problems named in `form.errors`."""
    if form.project_id and form.creating:
        form.errors["project_id"] = (
            "选择已有项目或新建项目，二者取一 / pick a project or create one"
        )
    elif not form.project_id and not form.creating:
        form.errors["project_id"] = "请选择项目或填写新项目 / pick a project or create one"
    if not form.lines:
        form.errors["lines"] = "至少填写一行物料与数量 / add at least one line"
    elif len(form.lines) > MAX_FORM_LINES:
        form.errors["lines"] = f"一次最多 {MAX_FORM_LINES} 行 / at most {MAX_FORM_LINES} lines"
    lines: list[dict[str, Any]] = []
    for i, (code, quantity) in enumerate(form.lines):
        if not code:
            form.errors[f"line-{i}"] = "请填写物料编码 / the material code is missing"
        elif not quantity.isdigit() or int(quantity) <= 0:
            form.errors[f"line-{i}"] = "数量应为正整数 / the quantity is a whole number above 0"
        lines.append({"material_code": code, "quantity": quantity})
    if form.errors:
        return None
    body: dict[str, Any] = {"lines": lines}
    if form.project_id:
        body["project_id"] = form.project_id
    else:
        new = form.new
        body["project"] = {
            "id": new["id"], "name": new["name"], "project_type": new["type"],
            "location": new["location"], "approved_on": new["approved_on"],
        }  # fmt: skip
    try:
        return SupplyRequestIn.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            name = _field_for(tuple(error["loc"]))
            form.errors.setdefault(name, f"{error['msg']} / {'.'.join(map(str, error['loc']))}")
        return None


def request_form_context(session: Session, actor: Actor, form: RequestForm) -> dict[str, Any]:
    """What the form offers: the actor's active projects and the catalog's materials."""
    offered = projects.list_projects(
        session=session, status=ProjectStatus.ACTIVE, limit=PROJECTS_OFFERED,
        scope=actor.project_scope,
    )  # fmt: skip
    materials = list_materials(session=session, limit=MATERIALS_OFFERED)
    rows = form.lines or [("", "")] * BLANK_ROWS
    return {
        "form": form,
        "rows": rows,
        "max_lines": MAX_FORM_LINES,
        "offered": offered.items,
        "materials": materials.items,
        "answer": None,
        "answer_holds": [],
        **_choices(),
    }


@router.get("/request", dependencies=[page_require("requests.create")])
def request_page(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    project: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The urgent-request form (a project already chosen with `?project=`)."""
    form = RequestForm(project_id=(project or "").strip(), key=_new_key())
    if form.project_id:
        check_visible(session, form.project_id, actor.project_scope)
    return render(request, "projects/request.html", request_form_context(session, actor, form))


@router.post("/request", dependencies=[page_require("requests.create")])
async def submit_request(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    actor: PageActor,
) -> Response:
    """紧急需求: as POST /api/v1/requests (the same coalescer, the form's key as the idempotency
    key); the answer per line and its holds, or the problems next to their fields."""
    form = read_request_form(await request.form())
    body = request_body(form)
    answer = None
    if body is not None:
        try:
            answer = await coalescer().submit(
                Ask(body, form.key, actor.login, actor.project_scope),
                Context(
                    engine=session.get_bind(),  # type: ignore[arg-type]
                    clock=clock,
                    calendar=calendar,
                    policy=policy,
                    settings=settings,
                ),
            )
        except DomainError as exc:  # InvalidInput, Conflict, NotFound: said on the form
            if not isinstance(exc, NotFound | Conflict | InvalidInput):
                raise
            form.errors[_field_for(tuple(exc.loc))] = exc.message
    context = request_form_context(session, actor, form)
    if answer is None:
        return render(request, "projects/request.html", context, status=422)
    session.rollback()  # end the read that began before the write: see what it wrote
    found = holds.list_holds(
        session=session, request_id=answer.request_id, limit=HOLDS_SHOWN,
        scope=actor.project_scope,
    )  # fmt: skip
    context.update(
        answer=answer,
        answer_holds=found.items,
        form=RequestForm(key=_new_key()),
        rows=[("", "")] * BLANK_ROWS,
    )
    return render(request, "projects/request.html", context, status=201)


# ------------------------------------------------------------------ one project


def project_context(
    session: Session, actor: Actor, project_id: str, notice: str = ""
) -> dict[str, Any]:
    """One project with its lines and holds (another unit's project: NotFound)."""
    check_visible(session, project_id, actor.project_scope)
    detail = demand.project_detail(session=session, project_id=project_id)
    held = holds.list_holds(
        session=session, project_id=project_id, limit=HOLDS_SHOWN, scope=actor.project_scope
    )
    timeline = project_timeline(session=session, project_id=project_id)
    return {
        "project": detail,
        "timeline": timeline,
        "holds": held,
        "can_issue": actor.can(Permission.HOLDS_ISSUE),
        "can_release": actor.can(Permission.HOLDS_RELEASE),
        "can_request": actor.can(Permission.REQUESTS_CREATE)
        and detail.status == ProjectStatus.ACTIVE,
        "held_status": HoldStatus.HELD.value,
        "notice": notice,
    }


DONE_ZH = {"issued": "已出库", "released": "已释放，库存可供他用"}


@router.get("/{project_id}", dependencies=[page_require("projects.read")])
def project_page(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    project_id: str,
    done: Annotated[str | None, Query(max_length=10)] = None,
    hold: Annotated[int | None, Query(ge=1, le=MAX_OFFSET * 10**6)] = None,
) -> Response:
    """One project: its dates, its lines (status, material, quantity, need-by), its holds; after
    出库 or 释放 (`?done=issued&hold=…`) a notice saying what was done."""
    context = project_context(session, actor, project_id[:32])
    shown = [h for h in context["holds"].items if h.id == hold and h.status == done]
    if shown and done in DONE_ZH:
        h = shown[0]
        context["notice"] = f"保留 {h.id} {DONE_ZH[done]}：{h.material_code} × {h.quantity}。"
    return render(request, "projects/detail.html", context)


def _done(project_id: str, done: str, hold_id: int) -> Response:
    """Back to the project's page (a reload does not send the form again)."""
    target = f"/projects/{quote(project_id, safe='')}?done={done}&hold={hold_id}"
    return RedirectResponse(target, status_code=303)


def _hold_of_project(session: Session, actor: Actor, project_id: str, hold_id: int) -> None:
    check_visible(session, project_id, actor.project_scope)
    holds.check_hold_visible(session, hold_id, actor.project_scope)


@router.post("/{project_id}/holds/{hold_id}/issue", dependencies=[page_require("holds.issue")])
def issue(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    today: TodayDep,
    actor: PageActor,
    project_id: str,
    hold_id: int,
) -> Response:
    """出库: the whole hold, as POST /api/v1/holds/{id}/issue; then back to the project."""
    _hold_of_project(session, actor, project_id[:32], hold_id)
    holds.issue_hold(
        engine=session.get_bind(),  # type: ignore[arg-type]
        hold_id=hold_id, quantity=None, now=clock.now(), user=actor.login, today=today,
    )  # fmt: skip
    return _done(project_id[:32], "issued", hold_id)


@router.post("/{project_id}/holds/{hold_id}/release", dependencies=[page_require("holds.release")])
async def release(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    today: TodayDep,
    actor: PageActor,
    project_id: str,
    hold_id: int,
) -> Response:
    """释放: give the hold back, as POST /api/v1/holds/{id}/release (with the form's reason);
    then back to the project."""
    reason = str((await request.form()).get("reason", "")).strip()[:200]
    _hold_of_project(session, actor, project_id[:32], hold_id)
    holds.release_hold(
        engine=session.get_bind(),  # type: ignore[arg-type]
        hold_id=hold_id, reason=reason, now=clock.now(), user=actor.login, today=today,
    )  # fmt: skip
    return _done(project_id[:32], "released", hold_id)
