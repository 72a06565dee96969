"""导入: upload a catalog file or a project workbook and see every problem (by sheet, row and
column) or what was imported; the record of imports, filtered, sorted, paged and as Excel; one
record with its problems; each kind's file in the format its import reads — the same service
calls as /api/v1/imports, /api/v1/projects/import and their exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.deps import CalendarDep, ClockDep, PolicyDep, SessionDep, SettingsDep, TodayDep
from api.downloads import xlsx_download
from api.web.render import PageRoute, render
from api.web.session import PageActor, page_require
from catalogs import importing as catalog_imports
from catalogs import records
from catalogs.columns import SPECS
from catalogs.models import CatalogKind, ImportKind, ImportReport, ImportStatus
from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.core.errors import ImportRejected
from supply.core.sheets import MEDIA_TYPES
from supply.projects import importing as project_imports
from supply.projects.files import ORDER
from supply.projects.files import SPECS as SHEETS

router = APIRouter(prefix="/imports", route_class=PageRoute, include_in_schema=False)
PER_PAGE = 50
MAX_OFFSET = 10**7
MAX_ID = 2**31 - 1
FRAGMENTS = {"records": "imports/_records.html"}
EXPORT_NAME = "导入记录.xlsx"
Text = Annotated[str | None, Query(max_length=200)]
CATALOG_KINDS = [(kind.value, SPECS[kind].sheet) for kind in CatalogKind]


# ------------------------------------------------------------------ the record of imports


@dataclass
class RecordFilter:
    """The record list's filters as the form sends them, what they select, what is wrong."""

    form: dict[str, str]
    kind: ImportKind | None = None
    status: ImportStatus | None = None
    sort: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def record_filter(kind: str, status: str, sort: str) -> RecordFilter:
    """Read the filters: a kind or status that does not exist is named under its field and not
    applied; a sort key the list does not have is dropped."""
    form = {
        "kind": kind.strip()[:20],
        "status": status.strip()[:20],
        "sort": sort if sort.removeprefix("-") in records.SORTABLE else "",
    }
    found = RecordFilter(form=form, sort=form["sort"] or None)
    if form["kind"]:
        if form["kind"] in set(ImportKind):
            found.kind = ImportKind(form["kind"])
        else:
            found.errors["kind"] = f"没有导入类别 {form['kind']} / no such kind of import"
    if form["status"]:
        if form["status"] in set(ImportStatus):
            found.status = ImportStatus(form["status"])
        else:
            found.errors["status"] = f"没有状态 {form['status']} / no such status"
    return found


def _filters(kind: Text = None, status: Text = None, sort: Text = None) -> RecordFilter:
    return record_filter(kind or "", status or "", sort or "")


Filters = Annotated[RecordFilter, Depends(_filters)]


def _choices() -> dict[str, Any]:
    return {
        "kind_labels": {str(k): v for k, v in records.IMPORT_KIND_ZH.items()},
        "status_labels": {str(k): v for k, v in records.IMPORT_STATUS_ZH.items()},
    }


def _upload_context(actor: Actor) -> dict[str, Any]:
    """What the actor may upload, with each kind's file to start from."""
    return {
        "catalog_kinds": CATALOG_KINDS,
        "can_import_catalogs": actor.can(Permission.CATALOGS_IMPORT),
        "can_import_projects": actor.can(Permission.PROJECTS_IMPORT),
        "can_read_projects": actor.can(Permission.PROJECTS_READ),
        "catalog_form": UploadForm(),
        "projects_form": UploadForm(kind=ImportKind.PROJECTS.value),
        "result": None,
        **_choices(),
    }


@router.get("", dependencies=[page_require("catalogs.import")])
def imports_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: PageActor,
    found: Filters,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    """The upload forms and the record of imports, newest first; htmx asks for the record list
    alone (`#records`)."""
    page = records.list_imports(
        session=session, kind=found.kind, status=found.status, sort=found.sort, offset=offset,
        limit=PER_PAGE,
    )  # fmt: skip
    context = {
        **_upload_context(actor),
        "filters": found,
        "page": page,
        "max_size": _size(settings.max_upload_bytes),
    }
    return render(request, "imports/index.html", context, fragments=FRAGMENTS)


@router.get("/export", dependencies=[page_require("catalogs.read")])
def imports_export(session: SessionDep, found: Filters) -> Response:
    """The filtered, sorted records as an Excel workbook (as GET /api/v1/imports/export)."""
    return Response(
        records.export_imports(
            session=session, kind=found.kind, status=found.status, sort=found.sort
        ),
        media_type=MEDIA_TYPES["xlsx"],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(EXPORT_NAME)}",
            "Cache-Control": "no-store",
        },
    )


@router.get("/records/{import_id}", dependencies=[page_require("catalogs.read")])
def record_page(
    request: Request,
    session: SessionDep,
    import_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """One import record: who, when, what it changed, or the problems it was refused for."""
    record = records.get_import(session=session, import_id=import_id)
    problems = [line for line in record.first_problems.splitlines() if line.strip()]
    return render(
        request, "imports/record.html", {"record": record, "problems": problems, **_choices()}
    )


# ------------------------------------------------------------------ each kind's file


@router.get("/templates/projects", dependencies=[page_require("projects.read")])
def projects_template(session: SessionDep, today: TodayDep, actor: PageActor) -> Response:
    """The project workbook of the projects the actor reaches, in the format its import reads
    (as GET /api/v1/projects/export)."""
    content = project_imports.export_projects(
        session=session, fmt="xlsx", scope=actor.project_scope
    )
    return xlsx_download(content, f"项目工作簿-{today.isoformat()}.xlsx")


@router.get("/templates/{kind}", dependencies=[page_require("catalogs.read")])
def catalog_template(
    session: SessionDep,
    today: TodayDep,
    kind: Annotated[CatalogKind, Path(description="目录类别 / catalog kind")],
) -> Response:
    """A catalog as it stands, in the format its import reads (as GET /api/v1/exports/{kind});
    quotas: this year's newest version."""
    content = catalog_imports.export_catalog(
        session=session, kind=kind, fmt="xlsx", year=today.year
    )
    return xlsx_download(content, f"{SPECS[kind].sheet}-{today.isoformat()}.xlsx")


# ------------------------------------------------------------------ uploads


@dataclass
class UploadForm:
    """An upload form as sent: the kind of file, its name, and what is wrong with it."""

    kind: str = ""
    file_name: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _size(limit: int) -> str:
    return f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit:,} 字节"


async def read_upload(
    values: FormData, *, kinds: set[str], max_bytes: int, kind: str | None = None
) -> tuple[UploadForm, bytes]:
    """The form's kind (or `kind`, for a form of one kind) and file: a kind not in `kinds`, no
    file, a file that is not an .xlsx workbook by its name, or one over `max_bytes` (refused by
    its size, before it is read) are named under their field; the content is read only when
    nothing is wrong."""
    kind = kind if kind is not None else str(values.get("kind", "")).strip()[:40]
    upload = values.get("file")
    form = UploadForm(kind=kind)
    if kind not in kinds:
        form.errors["kind"] = (
            f"没有这种导入类别：{kind}" if kind else "请选择导入类别"
        ) + " / choose what the file holds"
    if not isinstance(upload, UploadFile) or not upload.filename:
        form.errors["file"] = "请选择要导入的文件 / choose a file to import"
        return form, b""
    form.file_name = upload.filename[:255]
    if not form.file_name.lower().endswith(".xlsx"):
        form.errors["file"] = (
            f"{form.file_name} 不是 Excel 工作簿（.xlsx），请另存为 .xlsx 后再导入 / "
            "not an Excel workbook (.xlsx): save it as .xlsx and try again"
        )
    elif upload.size is not None and upload.size > max_bytes:
        form.errors["file"] = (
            f"文件超过 {_size(max_bytes)}，未读取 / the file is over {_size(max_bytes)}; "
            "it was not read"
        )
    if form.errors:
        return form, b""
    return form, await upload.read(max_bytes + 1)  # the service refuses one byte over


@dataclass
class Counts:
    """What an accepted import did to one sheet or catalog."""

    label: str
    rows: int
    inserted: int
    updated: int
    unchanged: int


def _outcome(
    request: Request,
    actor: Actor,
    form: UploadForm,
    which: str,
    *,
    report: ImportReport | project_imports.ProjectImportReport | None = None,
    rejected: ImportRejected | None = None,
    max_bytes: int,
) -> Response:
    """The page after an upload: the form's problems (422), the file's problems (422), or what
    was imported (201)."""
    context = _upload_context(actor) | {"max_size": _size(max_bytes), "filters": None, "page": None}
    context[which] = form
    if form.errors:
        return render(request, "imports/index.html", context, status=422)
    if rejected is not None:
        context["result"] = {"form": form, "rejected": rejected, "problems": rejected.problems}
        return render(request, "imports/index.html", context, status=422)
    assert report is not None
    if isinstance(report, ImportReport):
        counts = [Counts(SPECS[CatalogKind(report.kind)].sheet, report.rows, report.inserted,
                         report.updated, report.unchanged)]  # fmt: skip
        import_id, note, ignored_sheets = report.id, report.note, []
    else:
        by_sheet = {"packages": report.packages, "projects": report.projects, "lines": report.lines}
        counts = [Counts(SHEETS[kind].sheet, c.rows, c.inserted, c.updated, c.unchanged)
                  for kind in ORDER if (c := by_sheet[kind.value]).rows]  # fmt: skip
        import_id, note, ignored_sheets = report.import_id, "", report.ignored_sheets
    context["result"] = {
        "form": form, "rejected": None, "counts": counts, "import_id": import_id, "note": note,
        "ignored_columns": report.ignored_columns, "ignored_sheets": ignored_sheets,
    }  # fmt: skip
    return render(request, "imports/index.html", context, status=201)


@router.post("/catalogs", dependencies=[page_require("catalogs.import")])
async def upload_catalog(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    actor: PageActor,
) -> Response:
    """导入目录: as POST /api/v1/imports/{kind} — every row valid and all written, or nothing
    written and every problem listed (the attempt is recorded either way)."""
    limit = settings.max_upload_bytes
    form, content = await read_upload(
        await request.form(), kinds={kind for kind, _ in CATALOG_KINDS}, max_bytes=limit
    )
    if form.errors:
        return _outcome(request, actor, form, "catalog_form", max_bytes=limit)
    try:
        report = catalog_imports.import_catalog(
            session=session,
            kind=CatalogKind(form.kind),
            content=content,
            file_name=form.file_name,
            imported_by=actor.login,
            now=clock.now(),
            default_delivery_warehouse=settings.default_delivery_warehouse,
            max_bytes=limit,
        )
    except ImportRejected as rejected:
        return _outcome(request, actor, form, "catalog_form", rejected=rejected, max_bytes=limit)
    return _outcome(request, actor, form, "catalog_form", report=report, max_bytes=limit)


@router.post("/projects", dependencies=[page_require("projects.import")])
async def upload_projects(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    settings: SettingsDep,
    actor: PageActor,
) -> Response:
    """导入项目工作簿: as POST /api/v1/projects/import — packages, projects and lines all
    written, or nothing written and every problem listed by sheet, row and column."""
    limit = settings.max_upload_bytes
    form, content = await read_upload(
        await request.form(),
        kinds={ImportKind.PROJECTS.value},
        max_bytes=limit,
        kind=ImportKind.PROJECTS.value,
    )
    if form.errors:
        return _outcome(request, actor, form, "projects_form", max_bytes=limit)
    try:
        report = project_imports.import_projects(
            session=session,
            content=content,
            file_name=form.file_name,
            calendar=calendar,
            policy=policy,
            now=clock.now(),
            user=actor.login,
            max_bytes=limit,
        )
    except ImportRejected as rejected:
        return _outcome(request, actor, form, "projects_form", rejected=rejected, max_bytes=limit)
    return _outcome(request, actor, form, "projects_form", report=report, max_bytes=limit)
