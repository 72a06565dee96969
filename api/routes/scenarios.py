"""What-if on a weekly plan (假设分析): make a scenario (JSON changes, or a change file), list
them, read one (KPIs side by side, the lines that changed), replay it, download its files."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ValidationError
from pydantic import Field as PydanticField
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData, UploadFile

from api.deps import (
    CalendarDep,
    ClockDep,
    PageDep,
    PolicyDep,
    SessionDep,
    SettingsDep,
    UserDep,
    require,
)
from api.downloads import xlsx_download
from supply.core.errors import ImportRejected
from supply.core.paging import Page
from supply.core.text import Text200
from supply.whatif import (
    Located,
    ScenarioCreate,
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
)
from supply.whatif.service import FILES

router = APIRouter(tags=["scenarios"])
ScenarioId = Annotated[int, Path(ge=1, le=2_000_000_000, description="假设分析编号 / scenario id")]
BATCH = r"^\d{4}-W\d{2}$"


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema with its `$defs` written in place (the request body of an operation that
    takes two media types is documented by hand, without components of its own)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]))
            return {k: resolve(v) for k, v in node.items() if k != "discriminator"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


class UploadFields(BaseModel):
    """The form fields of a multipart what-if (its files apart)."""

    batch: Annotated[str, PydanticField(pattern=BATCH)]
    base: Annotated[str, PydanticField(pattern=r"^(run|current)$")] = "run"
    run_id: Annotated[int, PydanticField(ge=1, le=2_000_000_000)] | None = None
    name: Text200 = ""


MULTIPART = {
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {"type": "string", "pattern": BATCH, "description": "批次 / batch id"},
        "base": {"type": "string", "enum": ["run", "current"], "default": "run"},
        "run_id": {"type": "integer", "minimum": 1, "maximum": 2_000_000_000},
        "name": {"type": "string", "maxLength": 200, "pattern": r"^[^\x00-\x1f\x7f]*$"},
        "changes": {
            "type": "string",
            "format": "binary",
            "description": "变更文件: JSON 或工作簿(变更表, 可含 项目、需求明细 表) / the change "
            "file: JSON, or a workbook (sheet 变更; the sheets 项目 and 需求明细 for extra "
            "projects)",
        },
        "projects": {
            "type": "string",
            "format": "binary",
            "description": "新增项目(项目导入格式) / extra projects, the projects import format",
        },
    },
}
REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": _inline(ScenarioCreate.model_json_schema()),
            # The demo's batch and one of its cable suppliers (`gridsupply demo`).
            "example": {
                "batch": "2026-W49",
                "name": "电缆供应商延迟 10 天",
                "changes": [
                    {"kind": "supplier_delay", "supplier": "淄博华正电缆有限公司", "days": 10}
                ],
            },
        },
        "multipart/form-data": {"schema": MULTIPART},
    },
}


def _invalid(errors: Sequence[Any], *, prefix: tuple[str | int, ...] = ("body",)) -> Any:
    return RequestValidationError([{**e, "loc": (*prefix, *e["loc"])} for e in errors])


async def _from_form(form: FormData, max_upload: int) -> WhatIf:
    """A what-if from a form: its fields, a change file and/or a projects workbook."""
    fields = {
        k: v for k, v in form.items() if isinstance(v, str) and k in UploadFields.model_fields
    }
    try:
        read = UploadFields.model_validate(fields)
    except ValidationError as exc:
        raise _invalid(exc.errors(include_url=False, include_context=False)) from None
    change_file, projects = form.get("changes"), form.get("projects")
    what = WhatIf(batch_id=read.batch, base=read.base, run_id=read.run_id, name=read.name)
    if isinstance(change_file, UploadFile):
        found = read_changes(
            await change_file.read(max_upload + 1),
            change_file.filename or "changes",
            max_bytes=max_upload,
        )
        what = replace(
            what,
            changes=found.changes,
            problems=found.problems,
            projects=found.projects,
            projects_file=change_file.filename or "",
        )
    if isinstance(projects, UploadFile):
        sheets = read_projects(
            await projects.read(max_upload + 1),
            projects.filename or "projects",
            max_bytes=max_upload,
        )
        what = replace(what, projects=sheets, projects_file=projects.filename or "")
    return what


async def _what_if(request: Request, max_upload: int) -> tuple[WhatIf, bool]:
    """Read the request: a JSON `ScenarioCreate`, or a form with a change file and/or a projects
    workbook. Says whether it was JSON (its problems are then named by the body's fields)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
        async with request.form() as form:  # its files are closed when read
            return await _from_form(form, max_upload), False
    try:
        body = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid(
            [{"type": "json_invalid", "loc": (), "msg": "请求体不是 UTF-8 编码的 JSON / the "
              "body is not UTF-8 encoded JSON"}]
        ) from None  # fmt: skip
    try:
        asked = ScenarioCreate.model_validate_json(body or "null")
    except ValidationError as exc:
        raise _invalid(exc.errors(include_url=False, include_context=False)) from None
    changes = [Located(change, number) for number, change in enumerate(asked.changes, start=1)]
    return WhatIf(asked.batch, changes, asked.base, asked.run_id, asked.name), True


@router.post(
    "/scenarios",
    response_model=ScenarioPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("scenarios.run")],
    openapi_extra={"requestBody": REQUEST_BODY},
    responses={
        404: {"description": "批次没有计划 / the batch has no run (base run), or no such run"},
        422: {
            "description": "请求或变更不合法, 逐项列出 / the request or a change is invalid: "
            "every problem named (change, field; a file's sheet, row and column)"
        },
    },
)
async def create(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: UserDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    policy: PolicyDep,
) -> ScenarioPublic:
    """假设分析 / Make a what-if on a weekly plan: changes applied to the base, solved, compared.

    The body is JSON (`batch`, `base`, `run_id`, `name`, `changes`: docs/whatif.md) or a form
    with a change file (JSON, or a workbook with the sheet 变更) and/or extra projects (the
    projects import format). Nothing in the database changes but the scenario, which is kept
    (audited `scenario.create`) with its instances and plans to share and replay."""
    what, from_json = await _what_if(request, settings.max_upload_bytes)
    engine = session.get_bind()
    assert isinstance(engine, Engine)  # sessions are bound to the engine, never a connection
    try:
        return await run_in_threadpool(
            create_scenario,
            engine=engine,
            what=what,
            now=clock.now(),
            user=user,
            calendar=calendar,
            policy=policy,
            settings=settings,
        )
    except ImportRejected as rejected:
        if not from_json:
            raise
        raise RequestValidationError(
            [
                {
                    "type": "invalid_change",
                    "loc": ("body", "changes", (p.row or 1) - 1, *p.column_en.split(".")),
                    "msg": p.text,
                }
                if p.row
                else {"type": "invalid_change", "loc": ("body", "changes"), "msg": p.text}
                for p in rejected.problems
            ]
        ) from None


@router.get(
    "/scenarios", response_model=Page[ScenarioSummary], dependencies=[require("scenarios.read")]
)
def read_scenarios(
    session: SessionDep,
    page: PageDep,
    batch: Annotated[str | None, Query(pattern=BATCH, description="批次 / batch id")] = None,
) -> Page[ScenarioSummary]:
    """假设分析记录 / The saved what-ifs, newest first."""
    return list_scenarios(session=session, offset=page.offset, limit=page.limit, batch_id=batch)


@router.get(
    "/scenarios/{scenario_id}",
    response_model=ScenarioPublic,
    dependencies=[require("scenarios.read")],
)
def read_scenario(session: SessionDep, scenario_id: ScenarioId) -> ScenarioPublic:
    """一次假设分析 / A what-if: KPIs beside the base's, and the lines that changed, with why."""
    return get_scenario(session=session, scenario_id=scenario_id)


@router.post(
    "/scenarios/{scenario_id}/replay",
    response_model=ScenarioReplay,
    dependencies=[require("scenarios.run")],
)
def replay(session: SessionDep, scenario_id: ScenarioId) -> ScenarioReplay:
    """重算 / Solve a what-if again from its saved instance: the same plan (nothing is saved)."""
    return replay_scenario(session=session, scenario_id=scenario_id)


@router.get(
    "/scenarios/{scenario_id}/workbook",
    response_class=Response,
    dependencies=[require("scenarios.read")],
    responses={
        200: {
            "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
            "description": "假设分析.xlsx: 指标对比, 变化明细, 变更",
        }
    },
)
def download_workbook(session: SessionDep, scenario_id: ScenarioId) -> Response:
    """下载假设分析(Excel) / A what-if as a workbook: KPIs, the changed lines, the changes."""
    found = get_scenario(session=session, scenario_id=scenario_id)
    return xlsx_download(scenario_workbook(found), f"假设分析_{found.batch_id}_{found.id}.xlsx")


@router.get(
    "/scenarios/{scenario_id}/files/{name}",
    response_class=FileResponse,
    dependencies=[require("scenarios.read")],
    responses={200: {"content": {"application/json": {}}}},
)
def download_file(
    session: SessionDep,
    scenario_id: ScenarioId,
    name: Annotated[str, Path(max_length=40, description="文件 / " + ", ".join(FILES))],
) -> FileResponse:
    """下载假设分析文件 / A file of a what-if: its changes, instances and plans (the matching
    contract's JSON: `gridsupply solve instance.json` replays it), KPIs, lines."""
    path = scenario_file(session=session, scenario_id=scenario_id, name=name)
    return FileResponse(path, filename=path.name, media_type="application/json")
