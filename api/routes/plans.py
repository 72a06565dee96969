"""The weekly plan: run a batch, read it, approve it, download its exports, import the province's
matching result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile, status
from fastapi.responses import FileResponse, Response

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
from supply.core.paging import Page
from supply.core.sheets import MEDIA_TYPES
from supply.weekly import queries
from supply.weekly.approval import approve_run
from supply.weekly.export import EXPORTS
from supply.weekly.list_sheets import lines_workbook
from supply.weekly.models import (
    LineKind,
    MatchImportPublic,
    PlanLinePublic,
    PlanRunPublic,
    RunApproval,
    RunCreated,
    RunRequest,
)
from supply.weekly.province import MatchImport, import_province_match
from supply.weekly.run import run_weekly

router = APIRouter(tags=["plans"])
BatchId = Annotated[
    str, Path(pattern=r"^\d{4}-W\d{2}$", description="批次 / batch id, e.g. 2026-W49")
]


@router.post(
    "/plans/runs",
    response_model=RunCreated,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("plans.run")],
)
def run_batch(
    request: RunRequest,
    session: SessionDep,
    clock: ClockDep,
    user: UserDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    policy: PolicyDep,
) -> RunCreated:
    """运行周计划(周一 12:00 批次) / Run the weekly plan for the batch a moment falls in."""
    now = clock.now()
    outcome = run_weekly(
        engine=session.get_bind(),  # type: ignore[arg-type]
        at=request.at or now,
        now=now,
        user=user,
        calendar=calendar,
        policy=policy,
        settings=settings,
        rerun=request.rerun,
    )
    return RunCreated(run=outcome.run, exports=sorted(outcome.exports))


@router.get("/plans/runs", response_model=list[PlanRunPublic], dependencies=[require("plans.read")])
def list_runs(
    session: SessionDep,
    batch_id: Annotated[
        str | None, Query(pattern=r"^\d{4}-W\d{2}$", description="批次 / batch id")
    ] = None,
) -> list[PlanRunPublic]:
    """计划运行历史(含被取代的) / List plan runs, newest first, superseded ones included."""
    return queries.list_runs(session=session, batch_id=batch_id)


@router.get(
    "/plans/batches/{batch_id}", response_model=PlanRunPublic, dependencies=[require("plans.read")]
)
def get_batch(session: SessionDep, batch_id: BatchId) -> PlanRunPublic:
    """批次当前计划及其指标 / Get the batch's live run with its KPIs."""
    return PlanRunPublic.model_validate(
        queries.get_run_or_raise(session=session, batch_id=batch_id)
    )


def line_query(
    kind: Annotated[LineKind | None, Query(description="来源 / source kind, or unmet")] = None,
    project_id: Annotated[str | None, Query(max_length=32, description="项目 / project")] = None,
    late_only: Annotated[bool, Query(description="只看延迟 / late lines only")] = False,
    sort: Annotated[
        str | None,
        Query(
            pattern=f"^-?({'|'.join(queries.LINE_SORTS)})$",
            description="排序列, 前加 - 为降序; 默认保存顺序 / sort key, `-key` descending",
        ),
    ] = None,
) -> queries.LineQuery:
    return queries.LineQuery(kind=kind, project_id=project_id, late_only=late_only, sort=sort)


LineQueryDep = Annotated[queries.LineQuery, Depends(line_query)]


@router.get(
    "/plans/batches/{batch_id}/lines",
    response_model=Page[PlanLinePublic],
    dependencies=[require("plans.read")],
)
def list_lines(
    session: SessionDep, page: PageDep, batch_id: BatchId, query: LineQueryDep
) -> Page[PlanLinePublic]:
    """批次计划明细 / List the batch's plan lines (allocations and unmet rests, with reasons)."""
    return queries.list_plan_lines(
        session=session, batch_id=batch_id, offset=page.offset, limit=page.limit, query=query
    )


@router.get(
    "/plans/batches/{batch_id}/lines.xlsx",
    response_class=Response,
    dependencies=[require("plans.read")],
    responses={
        200: {"content": {MEDIA_TYPES["xlsx"]: {}}, "description": "计划明细.xlsx"},
        404: {"description": "批次没有计划 / the batch has no plan run"},
    },
)
def export_lines(session: SessionDep, batch_id: BatchId, query: LineQueryDep) -> Response:
    """下载计划明细(Excel) / The batch's plan lines the filters select, in their order."""
    lines = queries.plan_lines(session=session, batch_id=batch_id, query=query)
    return xlsx_download(lines_workbook(lines, batch_id), f"计划明细_{batch_id}.xlsx")


@router.post(
    "/plans/batches/{batch_id}/approve",
    response_model=RunApproval,
    dependencies=[require("plans.approve")],
)
def approve(
    session: SessionDep,
    clock: ClockDep,
    user: UserDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    batch_id: BatchId,
) -> RunApproval:
    """批准并冻结批次计划(实物与寄存占用) / Approve and freeze the batch: its stock is held.

    The answer carries the budget warnings (packages the approval takes over budget; approval
    goes on) and the filings it opened or updated (项目包超支预警与备案).
    """
    return approve_run(
        session=session,
        batch_id=batch_id,
        user=user,
        now=clock.now(),
        calendar=calendar,
        policy=policy,
        settings=settings,
    )


@router.get(
    "/plans/batches/{batch_id}/exports/{name}",
    response_class=FileResponse,
    dependencies=[require("plans.read")],
    responses={
        200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}
    },
)
def download_export(
    session: SessionDep,
    batch_id: BatchId,
    name: Annotated[str, Path(description="报表 / " + ", ".join(EXPORTS))],
) -> FileResponse:
    """下载批次报表(Excel,中文表头) / Download one of the batch's exports (Excel)."""
    path = queries.export_file(session=session, batch_id=batch_id, name=name)
    return FileResponse(path, filename=path.name)


@router.post(
    "/plans/batches/{batch_id}/province-match",
    response_model=MatchImportPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("plans.import")],
)
def import_match(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    user: UserDep,
    batch_id: BatchId,
    file: Annotated[
        UploadFile, File(description="省公司匹配结果 / the province's matching (.xlsx/.csv)")
    ],
) -> MatchImport:
    """导入省公司集中匹配结果 / Import the province's matching result: all rows or none."""
    return import_province_match(
        session=session,
        batch_id=batch_id,
        content=file.file.read(settings.max_upload_bytes + 1),
        file_name=file.filename or "upload",
        user=user,
        now=clock.now(),
        max_bytes=settings.max_upload_bytes,
        settings=settings,
    )
