"""省公司匹配 (/province): the province's central matching as a page — upload the provincial
agreement catalog, the transport days and the cities' requirement plans; every problem of a
refused file named by file, sheet, row and column; the matching followed while it runs, then by
city, by supplier and the agreement lines at risk, and its files to download. The same service
calls as /api/v1/province/matches; the sample province to try it comes as one zip."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.deps import CalendarDep, ClockDep, PolicyDep, SessionDep, SettingsDep
from api.web.render import PageRoute, render
from api.web.session import PageActor, page_require
from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.calendar import CalendarError, WorkCalendar
from supply.core.errors import Conflict, ImportRejected, InvalidInput, RowProblem
from supply.core.settings import Settings
from supply.policy import DeadlinePolicy, batch_for
from supply.province.matching import Upload
from supply.province.outputs import CITY_RESULT, SUMMARY
from supply.province.sample import sample_zip
from supply.province.service import (
    MATCH_ID_PATTERN,
    get_match,
    list_matches,
    match_file,
    match_in_background,
)

BATCH_ID = re.compile(r"^\d{4}-W\d{2}$")
router = APIRouter(prefix="/province", route_class=PageRoute, include_in_schema=False)
READ = [page_require("province.read")]
SHOWN = 50  # matchings listed
FRAGMENTS = {"match": "province/_match.html"}
MatchId = Annotated[str, Path(pattern=MATCH_ID_PATTERN)]


@dataclass
class MatchForm:
    """The form as sent (or to show): the batch, and what is wrong — with a field, or the files'
    problems by file, sheet, row and column."""

    batch: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    message: str = ""


def _current_batch(now: datetime, calendar: WorkCalendar, policy: DeadlinePolicy) -> str:
    try:
        return batch_for(now, calendar=calendar, policy=policy).id
    except CalendarError:  # a year no calendar covers: the planner types the batch
        return ""


def index_context(
    *,
    actor: Actor,
    settings: Settings,
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    form: MatchForm | None = None,
) -> dict[str, Any]:
    """What the page shows: the form (for who may match) and the matchings kept, newest first."""
    form = form or MatchForm()
    current = _current_batch(now, calendar, policy)
    form.batch = form.batch or current
    matches = list_matches(settings, now=now)
    return {
        "form": form,
        "current_batch": current,
        "can_match": actor.can(Permission.PROVINCE_MATCH),
        "matches": matches[:SHOWN],
        "total": len(matches),
    }


@router.get("", dependencies=READ)
def province_page(
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    actor: PageActor,
) -> Response:
    """The province's matchings, and the form to start one."""
    context = index_context(
        actor=actor, settings=settings, now=clock.now(), calendar=calendar, policy=policy
    )
    return render(request, "province/index.html", context)


@router.get("/sample.zip", dependencies=READ)
async def download_sample(
    batch: Annotated[str, Query(pattern=r"^\d{4}-W\d{2}$", max_length=8)],
) -> Response:
    """示例文件: the sample province for `batch` (16 cities' plans, the provincial catalog, the
    transport days), as `gridsupply province sample` writes it, in one zip."""
    content = await run_in_threadpool(sample_zip, batch)
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{batch}_province_sample.zip",
            "Cache-Control": "no-store",
        },
    )


async def _upload(values: FormData, name: str, limit: int) -> list[Upload]:
    found = []
    for item in values.getlist(name):
        if isinstance(item, UploadFile) and item.filename:
            found.append(Upload(item.filename[:255], await item.read(limit + 1)))
    return found


@router.post("", dependencies=[page_require("province.match")])
async def start(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    settings: SettingsDep,
    actor: PageActor,
) -> Response:
    """开始匹配: as POST /api/v1/province/matches — the matching's page, following it; or the
    form again with every problem of the files (422), or another matching running (409)."""
    limit = settings.max_upload_bytes
    async with request.form() as values:  # its files are closed once they are read
        form = MatchForm(batch=str(values.get("batch", "")).strip()[:10])
        agreements = await _upload(values, "agreements", limit)
        transport = await _upload(values, "transport", limit)
        cities = await _upload(values, "cities", limit)
    if not BATCH_ID.match(form.batch):
        form.errors["batch"] = "请填写批次，如 2026-W49 / a batch id such as 2026-W49"
    if len(agreements) != 1:
        form.errors["agreements"] = "请选择省级协议库存目录文件 / choose the agreement catalog"
    if len(transport) != 1:
        form.errors["transport"] = "请选择省内运输天数文件 / choose the transport days"
    if not cities:
        form.errors["cities"] = "请选择各地市的协议库存需求计划 / choose the cities' plans"
    status = 422
    if not form.errors:
        engine = session.get_bind()
        assert isinstance(engine, Engine)  # sessions are bound to the engine, never a connection
        try:
            started = await run_in_threadpool(
                match_in_background, engine=engine, batch_id=form.batch,
                agreements=agreements[0], transport=transport[0], cities=cities,
                settings=settings, user=actor.login, clock=clock.now,
            )  # fmt: skip
        except ImportRejected as rejected:
            form.problems, form.message = list(rejected.problems), rejected.message
        except InvalidInput as invalid:
            form.message = invalid.message
        except Conflict as busy:
            form.message, status = busy.message, 409
        else:
            return RedirectResponse(f"/province/{started['id']}", status_code=303)
    context = index_context(
        actor=actor, settings=settings, now=clock.now(), calendar=calendar, policy=policy,
        form=form,
    )  # fmt: skip
    return render(request, "province/index.html", context, status=status)


@router.get("/{match_id}", dependencies=READ)
def match_page(
    request: Request, settings: SettingsDep, clock: ClockDep, match_id: MatchId
) -> Response:
    """One matching: followed while it runs (htmx asks for `#match` again), then its figures
    by city, by supplier, the agreement lines at risk, and its files."""
    found = get_match(settings, match_id, now=clock.now())
    context = {"m": found, "files": _files(found)}
    return render(request, "province/detail.html", context, fragments=FRAGMENTS)


def _files(found: dict[str, Any]) -> dict[str, Any]:
    """A done matching's files as the page lists them: the summary, each city's result by its
    city, and the JSON for replay."""
    names: list[str] = found.get("files", [])
    prefix, suffix = f"{found['batch']}_", f"_{CITY_RESULT}.xlsx"
    return {
        "summary": [n for n in names if n.endswith(f"_{SUMMARY}.xlsx")],
        "cities": [
            (n.removeprefix(prefix).removesuffix(suffix), n) for n in names if n.endswith(suffix)
        ],
        "data": [n for n in names if n.endswith(".json")],
    }


@router.get("/{match_id}/files/{name}", dependencies=READ)
def download_file(
    settings: SettingsDep, match_id: MatchId, name: Annotated[str, Path(max_length=120)]
) -> Response:
    """A file of a matching, as the API serves it."""
    path = match_file(settings, match_id, name)
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "no-store"})
