"""Customer-connection projects and their demand lines; the project workbook upload and download."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, File, Path, Query, Request, UploadFile, status
from fastapi.responses import RedirectResponse, Response

from api.deps import (
    MAX_ID,
    ActorDep,
    CalendarDep,
    ClockDep,
    PageDep,
    PolicyDep,
    ProjectVisible,
    SessionDep,
    SettingsDep,
    TodayDep,
    UserDep,
    require,
)
from catalogs.export import MEDIA_TYPES
from supply.core.dates import IsoMoment
from supply.core.errors import InvalidInput
from supply.core.paging import Page
from supply.demand import service as demand
from supply.demand.models import DemandLineCreate, DemandLinePublic, DemandLineUpdate, DemandStatus
from supply.policy import ProjectType
from supply.projects import importing
from supply.projects import service as projects
from supply.projects.files import SheetKind
from supply.projects.models import (
    Priority,
    ProjectCreate,
    ProjectDetail,
    ProjectPublic,
    ProjectStatus,
    ProjectUpdate,
)
from supply.timeline import ProjectTimelinePublic, project_timeline, timeline_public

router = APIRouter(tags=["projects"])
READ = [require("projects.read")]
WRITE = [require("projects.write")]
# On one project: also 404 for a project the actor may not reach (another unit's).
READ_ONE = [*READ, ProjectVisible]
WRITE_ONE = [*WRITE, ProjectVisible]

ProjectId = Annotated[str, Path(max_length=32, description="项目编号 / project id")]
LineNo = Annotated[int, Path(ge=1, le=MAX_ID, description="行号 / line number")]
Sheet = Annotated[
    SheetKind | None,
    Query(description="只导入/导出这一张表(CSV 必填) / just this sheet (required for CSV)"),
]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "状态不允许 / not allowed in the project's or line's state"}
}


@router.get("/projects", response_model=Page[ProjectPublic], dependencies=READ)
def list_projects(
    session: SessionDep,
    page: PageDep,
    q: Annotated[
        str | None, Query(max_length=100, description="编号、名称或客户包含 / text in id or names")
    ] = None,
    project_type: Annotated[ProjectType | None, Query(description="工程类型 / type")] = None,
    status: Annotated[ProjectStatus | None, Query(description="状态 / status")] = None,
    location: Annotated[str | None, Query(max_length=32, description="所在地点 / location")] = None,
    package_id: Annotated[
        str | None, Query(max_length=32, description="项目包 / project package")
    ] = None,
    priority: Annotated[Priority | None, Query(description="重点工程 / priority")] = None,
    *,
    actor: ActorDep,
) -> Page[ProjectPublic]:
    """项目列表，需到货日期早者在前 / List projects, earliest materials need-by first."""
    return projects.list_projects(
        session=session,
        q=q,
        project_type=project_type,
        status=status,
        location=location,
        package_id=package_id,
        priority=priority,
        offset=page.offset,
        limit=page.limit,
        scope=actor.project_scope,
    )


@router.post(
    "/projects/import",
    response_model=importing.ProjectImportReport,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("projects.import")],
    responses={
        422: {"description": "文件被拒绝，逐行列出所有问题 / rejected: every problem, row by row"}
    },
)
def import_projects(
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    settings: SettingsDep,
    user: UserDep,
    file: Annotated[
        UploadFile,
        File(description="项目工作簿 .xlsx(项目包/项目/需求明细)或单表 CSV / workbook or CSV"),
    ],
    sheet: Sheet = None,
) -> importing.ProjectImportReport:
    """导入项目与需求明细，全部行通过才写入 / Import projects and lines: all valid, or none."""
    return importing.import_projects(
        session=session,
        content=file.file.read(settings.max_upload_bytes + 1),
        file_name=file.filename or "upload",
        sheet=sheet,
        calendar=calendar,
        policy=policy,
        now=clock.now(),
        user=user,
        max_bytes=settings.max_upload_bytes,
    )


ExportStatus = Annotated[
    ProjectStatus | None, Query(description="只导出此状态的项目 / only projects in this status")
]


def _download(content: bytes, name: str, fmt: Literal["xlsx", "csv"]) -> Response:
    return Response(
        content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/projects/export",
    response_class=Response,
    dependencies=READ,
    responses={
        200: {"content": {MEDIA_TYPES["xlsx"]: {}}},
        308: {
            "description": "旧客户端的 format=csv&sheet=…: 转到 /projects/export/{sheet}.csv / an "
            "old client's format=csv&sheet=…: redirected to /projects/export/{sheet}.csv"
        },
    },
)
def export_projects(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    sheet: Annotated[
        SheetKind | None, Query(description="只导出这一张表 / just this sheet")
    ] = None,
    status: ExportStatus = None,
    *,
    actor: ActorDep,
) -> Response:
    """导出项目工作簿(.xlsx)，格式与导入相同；CSV 见 /projects/export/{sheet}.csv / Export the
    project workbook (.xlsx) in the format import reads; one sheet as CSV:
    /projects/export/{sheet}.csv."""
    if request.query_params.get("format", "").lower() == "csv":
        return _csv_moved(request, sheet=sheet, status=status)
    content = importing.export_projects(
        session=session, fmt="xlsx", sheet=sheet, status=status, scope=actor.project_scope
    )
    name = f"projects{'-' + sheet.value if sheet else ''}-{today.isoformat()}.xlsx"
    return _download(content, name, "xlsx")


def _csv_moved(
    request: Request, *, sheet: SheetKind | None, status: ProjectStatus | None
) -> Response:
    """Send `format=csv` (how CSV was asked for before it had its own path) to that path."""
    if sheet is None:
        raise InvalidInput(
            "CSV 只含一张表，请用 /projects/export/{sheet}.csv（projects、lines 或 packages） / "
            "a CSV file holds one sheet: GET /projects/export/{sheet}.csv with projects, lines "
            "or packages",
            loc=("query", "format"),
        )
    target = request.url_for("export_projects_sheet", sheet=sheet.value)
    if status is not None:
        target = target.include_query_params(status=status.value)
    return RedirectResponse(str(target), status_code=308)


@router.get(
    "/projects/export/{sheet}.csv",
    response_class=Response,
    dependencies=READ,
    responses={200: {"content": {MEDIA_TYPES["csv"]: {}}}},
)
def export_projects_sheet(
    session: SessionDep,
    today: TodayDep,
    sheet: Annotated[SheetKind, Path(description="导出哪一张表 / which sheet")],
    status: ExportStatus = None,
    *,
    actor: ActorDep,
) -> Response:
    """导出项目工作簿的一张表为 CSV / Export one sheet of the project workbook as CSV."""
    content = importing.export_projects(
        session=session, fmt="csv", sheet=sheet, status=status, scope=actor.project_scope
    )
    return _download(content, f"projects-{sheet.value}-{today.isoformat()}.csv", "csv")


@router.get(
    "/projects/{project_id}/timeline",
    response_model=ProjectTimelinePublic,
    dependencies=READ_ONE,
    responses={404: {"description": "项目不存在 / no such project (or another unit's)"}},
)
def get_timeline(session: SessionDep, project_id: ProjectId) -> ProjectTimelinePublic:
    """项目供应时间线 / Each line's sources (held, promised, planned, draft, unmet) and when
    they arrive, against the line's need-by and the project's deadline."""
    return timeline_public(project_timeline(session=session, project_id=project_id))


@router.get("/projects/{project_id}", response_model=ProjectDetail, dependencies=READ_ONE)
def get_project(session: SessionDep, project_id: ProjectId) -> ProjectDetail:
    """查看项目及其需求明细 / Get a project with its demand lines."""
    return demand.project_detail(session=session, project_id=project_id)


@router.post(
    "/projects",
    response_model=ProjectPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=WRITE,
    responses={409: {"description": "项目编号已存在 / the project id is taken"}},
)
def create_project(
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    actor: ActorDep,
    body: ProjectCreate,
) -> ProjectPublic:
    """新建项目，建设期限与需到货日期自动推算 / Create a project; its dates are derived.

    A project manager who creates a project is its manager (it stays theirs to see and act on).
    """
    project = projects.create_project(
        session=session, project=body, calendar=calendar, policy=policy, now=clock.now(),
        user=actor.login, manager=actor.login if actor.project_scope else None,
    )  # fmt: skip
    return ProjectPublic.model_validate(project)


@router.patch(
    "/projects/{project_id}",
    response_model=ProjectPublic,
    dependencies=WRITE_ONE,
    responses=CONFLICT,
)
def update_project(
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    user: UserDep,
    project_id: ProjectId,
    body: ProjectUpdate,
) -> ProjectPublic:
    """修改在建项目，期限重新推算 / Change an active project; its dates are derived again."""
    project = projects.update_project(
        session=session,
        project_id=project_id,
        changes=body,
        calendar=calendar,
        policy=policy,
        now=clock.now(),
        user=user,
    )
    return ProjectPublic.model_validate(project)


@router.post(
    "/projects/{project_id}/cancel",
    response_model=ProjectPublic,
    dependencies=WRITE_ONE,
    responses=CONFLICT,
)
def cancel_project(
    session: SessionDep, clock: ClockDep, user: UserDep, project_id: ProjectId
) -> ProjectPublic:
    """取消项目及其未预留的需求行 / Cancel a project and its open and planned lines."""
    return ProjectPublic.model_validate(
        projects.cancel_project(session=session, project_id=project_id, now=clock.now(), user=user)
    )


@router.post(
    "/projects/{project_id}/complete",
    response_model=ProjectPublic,
    dependencies=WRITE_ONE,
    responses=CONFLICT,
)
def complete_project(
    session: SessionDep, clock: ClockDep, user: UserDep, project_id: ProjectId
) -> ProjectPublic:
    """项目完工(需求行须已出库或取消) / Mark a project completed (lines issued or cancelled)."""
    return ProjectPublic.model_validate(
        projects.complete_project(
            session=session, project_id=project_id, now=clock.now(), user=user
        )
    )


@router.get(
    "/projects/{project_id}/lines", response_model=Page[DemandLinePublic], dependencies=READ_ONE
)
def list_project_lines(
    session: SessionDep,
    page: PageDep,
    project_id: ProjectId,
    status: Annotated[DemandStatus | None, Query(description="状态 / line status")] = None,
) -> Page[DemandLinePublic]:
    """一个项目的需求明细 / List the demand lines of one project."""
    projects.get_project_or_raise(session=session, project_id=project_id)
    return demand.list_lines(
        session=session,
        project_id=project_id,
        status=status,
        offset=page.offset,
        limit=page.limit,
    )


@router.post(
    "/projects/{project_id}/lines",
    response_model=list[DemandLinePublic],
    status_code=status.HTTP_201_CREATED,
    dependencies=WRITE_ONE,
    responses=CONFLICT,
)
def add_lines(
    session: SessionDep,
    clock: ClockDep,
    user: UserDep,
    project_id: ProjectId,
    lines: Annotated[
        list[DemandLineCreate],
        Body(min_length=1, max_length=1000, description="需求行 / the lines to add"),
    ],
) -> list[DemandLinePublic]:
    """提报需求行(现在提报) / Submit demand lines for a project, submitted now."""
    added = demand.add_lines(
        session=session, project_id=project_id, lines=lines, now=clock.now(), user=user
    )
    project = projects.get_project_or_raise(session=session, project_id=project_id)
    return [demand.line_public(line, project) for line in added]


@router.patch(
    "/projects/{project_id}/lines/{line_no}",
    response_model=DemandLinePublic,
    dependencies=WRITE_ONE,
    responses=CONFLICT,
)
def update_line(
    session: SessionDep,
    clock: ClockDep,
    user: UserDep,
    project_id: ProjectId,
    line_no: LineNo,
    body: DemandLineUpdate,
) -> DemandLinePublic:
    """修改待匹配的需求行(指定需到货日期须说明原因) / Change an open line (override needs a reason)."""
    line = demand.update_line(
        session=session, project_id=project_id, line_no=line_no, changes=body, now=clock.now(),
        user=user,
    )  # fmt: skip
    project = projects.get_project_or_raise(session=session, project_id=project_id)
    return demand.line_public(line, project)


@router.post(
    "/projects/{project_id}/lines/{line_no}/cancel",
    response_model=DemandLinePublic,
    dependencies=WRITE_ONE,
    responses=CONFLICT,
)
def cancel_line(
    session: SessionDep, clock: ClockDep, user: UserDep, project_id: ProjectId, line_no: LineNo
) -> DemandLinePublic:
    """取消需求行(已预留或已出库的不能取消) / Cancel a line that is open or planned."""
    line = demand.cancel_line(
        session=session, project_id=project_id, line_no=line_no, now=clock.now(), user=user
    )
    project = projects.get_project_or_raise(session=session, project_id=project_id)
    return demand.line_public(line, project)


@router.get("/demand-lines", response_model=Page[DemandLinePublic], dependencies=READ)
def list_lines(
    session: SessionDep,
    page: PageDep,
    project_id: Annotated[
        str | None, Query(max_length=32, description="项目编号 / project id")
    ] = None,
    status: Annotated[DemandStatus | None, Query(description="状态 / line status")] = None,
    material_code: Annotated[
        str | None, Query(max_length=64, description="物料编码 / material code")
    ] = None,
    submitted_before: Annotated[
        IsoMoment | None,
        Query(description="提报时间早于(含时区) / submitted strictly before (with a time zone)"),
    ] = None,
    *,
    actor: ActorDep,
) -> Page[DemandLinePublic]:
    """全部需求行，按项目与行号 / List demand lines across projects, by project and line."""
    return demand.list_lines(
        session=session,
        project_id=project_id,
        status=status,
        material_code=material_code,
        submitted_before=submitted_before,
        offset=page.offset,
        limit=page.limit,
        scope=actor.project_scope,
    )
