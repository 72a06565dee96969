"""Catalog import (upload) and export (download), and the record of imports."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Path, Query, UploadFile, status
from fastapi.responses import Response

from api.deps import (
    MAX_ID,
    ClockDep,
    PageDep,
    SessionDep,
    SettingsDep,
    TodayDep,
    UserDep,
    require,
)
from catalogs import importing, records
from catalogs.export import MEDIA_TYPES
from catalogs.models import (
    CatalogKind,
    ImportKind,
    ImportRecordPublic,
    ImportReport,
    ImportStatus,
)
from supply.core.paging import Page

router = APIRouter(tags=["imports"])
Kind = Annotated[CatalogKind, Path(description="目录类别 / catalog kind")]
RecordKind = Annotated[
    ImportKind | None,
    Query(
        description="类别:目录、项目工作簿或省公司匹配结果 / catalog kind, projects or "
        "province_match"
    ),
]
RecordStatus = Annotated[
    ImportStatus | None, Query(description="accepted 已导入 / rejected 被拒绝")
]
RecordSort = Annotated[
    str | None,
    Query(
        pattern=f"^-?({'|'.join(records.SORTABLE)})$",
        description="排序列, 前加 - 为降序; 默认最新在前 / sort key, `-key` descending",
    ),
]
EXPORT_NAME = "导入记录.xlsx"


@router.post(
    "/imports/{kind}",
    response_model=ImportReport,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("catalogs.import")],
    responses={
        422: {"description": "文件被拒绝，逐行列出所有问题 / rejected: every problem, row by row"}
    },
)
def import_catalog(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    user: UserDep,
    kind: Kind,
    file: Annotated[
        UploadFile, File(description="Excel (.xlsx) 或 CSV，表头中文或英文 / .xlsx or CSV")
    ],
) -> ImportReport:
    """导入目录文件，全部行通过才写入 / Import a catalog file: all rows valid, or none written."""
    return importing.import_catalog(
        session=session,
        kind=kind,
        content=file.file.read(settings.max_upload_bytes + 1),
        file_name=file.filename or "upload",
        imported_by=user,
        now=clock.now(),
        default_delivery_warehouse=settings.default_delivery_warehouse,
        max_bytes=settings.max_upload_bytes,
    )


@router.get(
    "/imports", response_model=Page[ImportRecordPublic], dependencies=[require("catalogs.read")]
)
def list_imports(
    session: SessionDep,
    page: PageDep,
    kind: RecordKind = None,
    status: RecordStatus = None,
    sort: RecordSort = None,
) -> Page[ImportRecordPublic]:
    """导入记录(谁、何时、文件、是否被拒、新增/更新/未变) / List recorded imports, newest first
    (or sorted by a column): accepted ones with what they changed, rejected ones with their
    problems."""
    return records.list_imports(
        session=session, kind=kind, status=status, sort=sort, offset=page.offset,
        limit=page.limit,
    )  # fmt: skip


@router.get(
    "/imports/export",
    response_class=Response,
    dependencies=[require("catalogs.read")],
    responses={200: {"content": {MEDIA_TYPES["xlsx"]: {}}}},
)
def export_imports(
    session: SessionDep,
    kind: RecordKind = None,
    status: RecordStatus = None,
    sort: RecordSort = None,
) -> Response:
    """导出导入记录为 Excel，筛选与排序同列表 / The import records as an Excel workbook, filtered
    and sorted as the list."""
    return Response(
        records.export_imports(session=session, kind=kind, status=status, sort=sort),
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(EXPORT_NAME)}"},
    )


@router.get(
    "/imports/records/{import_id}",
    response_model=ImportRecordPublic,
    dependencies=[require("catalogs.read")],
)
def get_import(
    session: SessionDep,
    import_id: Annotated[int, Path(ge=1, le=MAX_ID, description="导入记录编号 / record id")],
) -> ImportRecordPublic:
    """一条导入记录(被拒时含前几个问题) / One import record (a rejected one with its first
    problems)."""
    return records.get_import(session=session, import_id=import_id)


@router.get(
    "/exports/{kind}",
    response_class=Response,
    dependencies=[require("catalogs.read")],
    responses={200: {"content": {MEDIA_TYPES["xlsx"]: {}, MEDIA_TYPES["csv"]: {}}}},
)
def export_catalog(
    session: SessionDep,
    today: TodayDep,
    kind: Kind,
    format: Annotated[Literal["xlsx", "csv"], Query(description="文件格式 / file format")] = "xlsx",
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="定额年度,默认本年 / quota year")
    ] = None,
    version: Annotated[
        int | None, Query(ge=1, le=10_000, description="定额版本,默认最新 / quota version")
    ] = None,
) -> Response:
    """导出目录，格式与导入相同 / Export a catalog in the format its import reads."""
    year = year or today.year
    content = importing.export_catalog(
        session=session, kind=kind, fmt=format, year=year, version=version
    )
    name = f"{kind.value}-{year if kind is CatalogKind.QUOTAS else today.isoformat()}.{format}"
    return Response(
        content,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
