"""库存与定额: reserve on hand, held and quota per warehouse and material (a chart and a table)
with the newest quota recommendation below (`api.web.advice_charts`; its own tab:
`api.web.quota_advice`),
framework agreements against their execution band and the ones expiring soon, vendor consignment
by supplier, and the year's quota catalog with marketing's confirmation — the same service calls
as /api/v1/reserve, /api/v1/agreements and /api/v1/consignment (`supply.stock`,
`catalogs.reserve`). Every list downloads as Excel with the filters it is shown with."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from api.deps import MAX_ID, ClockDep, SessionDep, TodayDep
from api.downloads import xlsx_download
from api.web.advice_charts import advice_card
from api.web.render import PageRoute, render
from api.web.session import PageActor, page_require
from catalogs.models import QUOTA_CATALOG_STATUS_ZH, QuotaCatalogPublic, QuotaCatalogStatus
from catalogs.queries import AGREEMENT_SORTS, list_warehouses
from catalogs.reserve import (
    POSITION_SORTS,
    catalog_public,
    confirm_quota_catalog,
    current_quota_catalog,
    list_quota_catalogs,
    quota_changes,
)
from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.stock.export import (
    export_agreements,
    export_consignment,
    export_positions,
    export_quota_catalogs,
)
from supply.stock.models import (
    BAND_ZH,
    CONSIGNMENT_SORTS,
    EXPIRING_DAYS,
    AgreementFilter,
    Band,
    ConsignmentFilter,
    PositionFilter,
    StockPosition,
)
from supply.stock.queries import (
    agreement_execution,
    consignment_by_supplier,
    expiring_agreements,
    stock_positions,
)

router = APIRouter(prefix="/stock", route_class=PageRoute, include_in_schema=False)
READ = [page_require("catalogs.read")]
POSITIONS_PER_PAGE = 20  # the chart draws the rows of the page: 20 fit its width
AGREEMENTS_PER_PAGE = 50
SUPPLIERS_PER_PAGE = 5
MAX_OFFSET = 10**7
WAREHOUSES_OFFERED = 1000
YEAR = re.compile(r"^\d{4}$")
TRUE = ("1", "true", "on")
Text = Annotated[str | None, Query(max_length=200)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
TABS = (
    ("/stock", "库存对照定额"),
    ("/stock/agreements", "协议库存执行"),
    ("/stock/consignment", "寄售库存"),
    ("/stock/quotas", "储备定额目录"),
    ("/stock/advice", "定额建议"),
)


@dataclass
class Filters:
    """A list's filters as its form sent them (`form`, for the links that keep them), and the
    problems of those not applied (`errors`, by field)."""

    form: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def _text(value: str | None, limit: int = 100) -> str:
    return (value or "").strip()[:limit]


def _sort(value: str | None, keys: tuple[str, ...]) -> str:
    """The sort asked for if it is one of `keys` (`-key` descending), else none."""
    return value if value and value.removeprefix("-") in keys else ""


def _warehouse(value: str, known: list[str], errors: dict[str, str]) -> str | None:
    if not value:
        return None
    if value in known:
        return value
    errors["warehouse"] = f"没有仓库 {value[:32]} / no such warehouse"
    return None


def _warehouse_ids(session: Session) -> list[str]:
    return [w.id for w in list_warehouses(session=session, limit=WAREHOUSES_OFFERED).items]


def head_context(session: Session, today: date, tab: str) -> dict[str, Any]:
    """What every tab shows on top: the tabs, the quota catalog in force and a draft waiting."""
    in_force = current_quota_catalog(session=session, today=today)
    drafts = [
        c
        for c in list_quota_catalogs(session=session, year=today.year)
        if c.status == QuotaCatalogStatus.DRAFT
    ]
    return {
        "tabs": TABS,
        "tab": tab,
        "today": today,
        "in_force": catalog_public(session, in_force) if in_force is not None else None,
        "drafts": drafts,
    }


# ------------------------------------------------------------------ reserve against quota


def position_filter(
    known: list[str], warehouse: str | None, q: str | None, below: str | None, sort: str | None
) -> tuple[Filters, PositionFilter]:
    """Read the positions' filters: a warehouse that does not exist is named, not applied."""
    form = {
        "warehouse": _text(warehouse, 32),
        "q": _text(q),
        "below": "1" if (below or "") in TRUE else "",
        "sort": _sort(sort, POSITION_SORTS),
    }
    found = Filters(form=form)
    where = PositionFilter(
        warehouse_id=_warehouse(form["warehouse"], known, found.errors),
        q=form["q"] or None,
        below_quota_only=bool(form["below"]),
        sort=form["sort"] or None,
    )
    return found, where


def chart_data(positions: list[StockPosition]) -> dict[str, Any]:
    """The chart of the rows shown: a category per warehouse and material, a bar each for on
    hand, held and quota; `below` marks the on-hand bars below quota (drawn red)."""
    return {
        "categories": [f"{p.material_code}\n{p.warehouse_id}" for p in positions],
        "names": [f"{p.material_name}（{p.unit}）" for p in positions],
        "below": [p.below_quota for p in positions],
        "series": [
            {"name": "实物库存", "key": "on_hand", "data": [p.on_hand for p in positions]},
            {"name": "已保留", "key": "held", "data": [p.held for p in positions]},
            {"name": "储备定额", "key": "quota", "data": [p.quota for p in positions]},
        ],
    }


def _positions(
    session: SessionDep,
    warehouse: Text = None,
    q: Text = None,
    below: Text = None,
    sort: Text = None,
) -> tuple[Filters, PositionFilter]:
    return position_filter(_warehouse_ids(session), warehouse, q, below, sort)


Positions = Annotated[tuple[Filters, PositionFilter], Depends(_positions)]


@router.get("", dependencies=READ)
def stock_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    today: TodayDep,
    chosen: Positions,
    offset: Offset = 0,
) -> Response:
    """Reserve on hand, held and quota per warehouse and material: a chart of the rows shown and
    the table, largest shortfall value first; htmx asks for the part alone (`#positions`)."""
    warehouses = _warehouse_ids(session)
    found, where = chosen
    page = stock_positions(
        session=session, today=today, where=where, offset=offset, limit=POSITIONS_PER_PAGE
    )
    context = {
        **head_context(session, today, "/stock"),
        "filters": found,
        "page": page,
        "chart": chart_data(page.items),
        "warehouses": warehouses,
        **advice_card(session, clock.now()),  # the newest quota recommendation, below
    }
    return render(
        request, "stock/index.html", context, fragments={"positions": "stock/_positions.html"}
    )


@router.get("/export", dependencies=READ)
def stock_export(session: SessionDep, today: TodayDep, chosen: Positions) -> Response:
    """库存对照定额.xlsx: every position the filters select, in the table's order."""
    _, where = chosen
    return xlsx_download(
        export_positions(session=session, today=today, where=where), "库存对照定额.xlsx"
    )


# ------------------------------------------------------------------ agreements


def agreement_filter(
    supplier: str | None, q: str | None, expiring: str | None, sort: str | None
) -> tuple[Filters, AgreementFilter]:
    """Read the agreement lines' filters."""
    form = {
        "supplier": _text(supplier),
        "q": _text(q),
        "expiring": "1" if (expiring or "") in TRUE else "",
        "sort": _sort(sort, AGREEMENT_SORTS),
    }
    where = AgreementFilter(
        supplier=form["supplier"] or None,
        q=form["q"] or None,
        expiring_within=EXPIRING_DAYS if form["expiring"] else None,
        sort=form["sort"] or None,
    )
    return Filters(form=form), where


def _agreements(
    supplier: Text = None, q: Text = None, expiring: Text = None, sort: Text = None
) -> tuple[Filters, AgreementFilter]:
    return agreement_filter(supplier, q, expiring, sort)


Agreements = Annotated[tuple[Filters, AgreementFilter], Depends(_agreements)]


@router.get("/agreements", dependencies=READ)
def agreements_page(
    request: Request, session: SessionDep, today: TodayDep, chosen: Agreements, offset: Offset = 0
) -> Response:
    """Agreement lines against their 80–120 % band (ordered, and with what is promised), and
    the lines whose validity ends within 30 days; htmx asks for the table alone."""
    found, where = chosen
    page = agreement_execution(
        session=session, today=today, where=where, offset=offset, limit=AGREEMENTS_PER_PAGE
    )
    context = {
        **head_context(session, today, "/stock/agreements"),
        "filters": found,
        "page": page,
        "expiring": expiring_agreements(session=session, today=today),
        "expiring_days": EXPIRING_DAYS,
        "bands": {str(k): v for k, v in BAND_ZH.items()},
        "under": Band.UNDER.value,
        "over": Band.OVER.value,
    }
    return render(
        request,
        "stock/agreements.html",
        context,
        fragments={"agreements": "stock/_agreements.html"},
    )


@router.get("/agreements/export", dependencies=READ)
def agreements_export(session: SessionDep, today: TodayDep, chosen: Agreements) -> Response:
    """协议库存执行.xlsx: every agreement line the filters select."""
    _, where = chosen
    return xlsx_download(
        export_agreements(session=session, today=today, where=where), "协议库存执行.xlsx"
    )


# ------------------------------------------------------------------ consignment


def consignment_filter(
    known: list[str], supplier: str | None, warehouse: str | None, q: str | None, sort: str | None
) -> tuple[Filters, ConsignmentFilter]:
    """Read the consignment filters: a warehouse that does not exist is named, not applied."""
    form = {
        "supplier": _text(supplier),
        "warehouse": _text(warehouse, 32),
        "q": _text(q),
        "sort": _sort(sort, CONSIGNMENT_SORTS),
    }
    found = Filters(form=form)
    where = ConsignmentFilter(
        supplier=form["supplier"] or None,
        warehouse_id=_warehouse(form["warehouse"], known, found.errors),
        q=form["q"] or None,
        sort=form["sort"] or None,
    )
    return found, where


def _consignment(
    session: SessionDep,
    supplier: Text = None,
    warehouse: Text = None,
    q: Text = None,
    sort: Text = None,
) -> tuple[Filters, ConsignmentFilter]:
    return consignment_filter(_warehouse_ids(session), supplier, warehouse, q, sort)


Consignment = Annotated[tuple[Filters, ConsignmentFilter], Depends(_consignment)]


@router.get("/consignment", dependencies=READ)
def consignment_page(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    chosen: Consignment,
    offset: Offset = 0,
) -> Response:
    """Vendor consignment by supplier (theirs until issued), the largest value first; htmx
    asks for the table alone (`#consignment`)."""
    warehouses = _warehouse_ids(session)
    found, where = chosen
    page = consignment_by_supplier(
        session=session, where=where, offset=offset, limit=SUPPLIERS_PER_PAGE
    )
    context = {
        **head_context(session, today, "/stock/consignment"),
        "filters": found,
        "page": page,
        "warehouses": warehouses,
    }
    return render(
        request,
        "stock/consignment.html",
        context,
        fragments={"consignment": "stock/_consignment.html"},
    )


@router.get("/consignment/export", dependencies=READ)
def consignment_export(session: SessionDep, chosen: Consignment) -> Response:
    """寄售库存.xlsx: every consignment row of the suppliers the filters select."""
    _, where = chosen
    return xlsx_download(export_consignment(session=session, where=where), "寄售库存.xlsx")


# ------------------------------------------------------------------ the quota catalog


def _year(value: str | None, today: date, errors: dict[str, str]) -> int:
    text = _text(value, 10)
    if not text:
        return today.year
    if YEAR.match(text) and 2000 <= int(text) <= 2100:
        return int(text)
    errors["year"] = "年度写作四位数字，如 2026 / a year such as 2026"
    return today.year


def quotas_context(
    session: Session, today: date, actor: Actor, year: int, errors: dict[str, str]
) -> dict[str, Any]:
    """The year's quota catalog versions, each draft's changes against the confirmed one, and
    whether the actor may confirm."""
    catalogs: list[QuotaCatalogPublic] = list_quota_catalogs(session=session, year=year)
    changes = {
        c.id: quota_changes(session=session, catalog_id=c.id)
        for c in catalogs
        if c.status == QuotaCatalogStatus.DRAFT
    }
    return {
        **head_context(session, today, "/stock/quotas"),
        "filters": Filters(form={"year": str(year)}, errors=errors),
        "year": year,
        "catalogs": catalogs,
        "changes": changes,
        "can_confirm": actor.can(Permission.QUOTAS_CONFIRM),
        "draft": QuotaCatalogStatus.DRAFT.value,
        "status_labels": {str(k): v for k, v in QUOTA_CATALOG_STATUS_ZH.items()},
        "confirmed": QuotaCatalogStatus.CONFIRMED.value,
        "notice": "",
    }


@router.get("/quotas", dependencies=READ)
def quotas_page(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    actor: PageActor,
    year: Text = None,
    done: Annotated[str | None, Query(max_length=10)] = None,
    catalog: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """储备定额目录 of the year: its versions (draft, confirmed, superseded) with who confirmed
    them when, and each draft's changes; 确认 for whoever may confirm (营销部)."""
    errors: dict[str, str] = {}
    context = quotas_context(session, today, actor, _year(year, today, errors), errors)
    confirmed = [c for c in context["catalogs"] if c.id == catalog]
    if done == "confirmed" and confirmed and confirmed[0].status == QuotaCatalogStatus.CONFIRMED:
        c = confirmed[0]
        context["notice"] = (
            f"{c.year} 年第 {c.version} 版定额目录已确认，自即日起用于周计划；原确认版本已替代。"
        )
    return render(request, "stock/quotas.html", context)


@router.get("/quotas/export", dependencies=READ)
def quotas_export(session: SessionDep, today: TodayDep, year: Text = None) -> Response:
    """储备定额目录.xlsx: the year's versions and each draft's changes."""
    chosen = _year(year, today, {})
    return xlsx_download(
        export_quota_catalogs(session=session, year=chosen), f"{chosen}年储备定额目录.xlsx"
    )


@router.post("/quotas/{catalog_id}/confirm", dependencies=[page_require("quotas.confirm")])
def confirm(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    actor: PageActor,
    catalog_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """确认: as POST /api/v1/reserve/quota-catalogs/{id}/confirm (the signed-in user is who
    confirmed it, audited); then back to the catalog (a reload does not send it again)."""
    done = confirm_quota_catalog(
        session=session, catalog_id=catalog_id, confirmed_by=actor.login, now=clock.now()
    )
    target = f"/stock/quotas?year={done.year}&done=confirmed&catalog={done.id}"
    return RedirectResponse(target, status_code=303)
