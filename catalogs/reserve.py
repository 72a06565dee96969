"""The physical reserve: stock on hand, the yearly quota catalogs it should hold, the two compared.

A quota catalog is imported as a draft version of its year (`catalogs.importing`) and confirmed by
a person (`confirm_quota_catalog`, one use case, one commit, one audit event); the year's
confirmed version is the only one planning uses (`current_quota_catalog`). `reserve_positions`
compares what is on hand with it. Plain functions with keyword-only arguments; the caller passes
the session and the date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, or_, union
from sqlmodel import Session, col, select

from catalogs.models import (
    Material,
    Quota,
    QuotaCatalog,
    QuotaCatalogPublic,
    QuotaCatalogStatus,
    QuotaChange,
    QuotaPublic,
    ReservePosition,
    ReserveStock,
    ReserveStockPublic,
)
from catalogs.queries import contains
from supply.core.audit import record
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.money import fen
from supply.core.paging import DEFAULT_LIMIT, Page, paginate, sort_order


def list_reserve_stock(
    *,
    session: Session,
    warehouse_id: str | None = None,
    material_code: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[ReserveStockPublic]:
    """List reserve on hand per warehouse and material."""
    statement = select(ReserveStock)
    if warehouse_id:
        statement = statement.where(ReserveStock.warehouse_id == warehouse_id)
    if material_code:
        statement = statement.where(ReserveStock.material_code == material_code)
    return paginate(
        session,
        statement,
        order_by=[ReserveStock.warehouse_id, ReserveStock.material_code],
        offset=offset,
        limit=limit,
        convert=ReserveStockPublic.model_validate,
    )


def catalog_public(session: Session, catalog: QuotaCatalog) -> QuotaCatalogPublic:
    """Return a quota catalog version with its number of lines."""
    lines = session.exec(select(func.count()).where(Quota.catalog_id == catalog.id)).one()
    return QuotaCatalogPublic.model_validate(catalog, update={"lines": lines})


def list_quota_catalogs(*, session: Session, year: int | None = None) -> list[QuotaCatalogPublic]:
    """List quota catalog versions, newest year and version first."""
    statement = select(QuotaCatalog)
    if year is not None:
        statement = statement.where(QuotaCatalog.year == year)
    catalogs = session.exec(
        statement.order_by(col(QuotaCatalog.year).desc(), col(QuotaCatalog.version).desc())
    ).all()
    return [catalog_public(session, c) for c in catalogs]


def get_quota_catalog_or_raise(*, session: Session, catalog_id: int) -> QuotaCatalog:
    """Return the quota catalog version `catalog_id`, or raise NotFound."""
    catalog = session.get(QuotaCatalog, catalog_id)
    if catalog is None:
        raise NotFound(
            f"定额目录 {catalog_id} 不存在 / quota catalog {catalog_id} does not exist",
            loc=("catalog_id",),
        )
    return catalog


def get_quota_catalog_public(*, session: Session, catalog_id: int) -> QuotaCatalogPublic:
    """Return one quota catalog version with its line count, or raise NotFound."""
    return catalog_public(
        session, get_quota_catalog_or_raise(session=session, catalog_id=catalog_id)
    )


def find_quota_catalog(
    *, session: Session, year: int, version: int | None = None
) -> QuotaCatalog | None:
    """Return version `version` of `year`'s quota catalog (default: the latest), or None."""
    statement = select(QuotaCatalog).where(QuotaCatalog.year == year)
    if version is not None:
        statement = statement.where(QuotaCatalog.version == version)
    return session.exec(statement.order_by(col(QuotaCatalog.version).desc()).limit(1)).first()


def current_quota_catalog(*, session: Session, today: date) -> QuotaCatalog | None:
    """Return the confirmed quota catalog of `today`'s year: the only one planning uses."""
    return session.exec(
        select(QuotaCatalog).where(
            QuotaCatalog.year == today.year, QuotaCatalog.status == QuotaCatalogStatus.CONFIRMED
        )
    ).first()


def list_quotas(
    *,
    session: Session,
    catalog_id: int,
    warehouse_id: str | None = None,
    material_code: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[QuotaPublic]:
    """List the quota lines of one catalog version."""
    get_quota_catalog_or_raise(session=session, catalog_id=catalog_id)
    statement = select(Quota).where(Quota.catalog_id == catalog_id)
    if warehouse_id:
        statement = statement.where(Quota.warehouse_id == warehouse_id)
    if material_code:
        statement = statement.where(Quota.material_code == material_code)
    return paginate(
        session,
        statement,
        order_by=[Quota.warehouse_id, Quota.material_code],
        offset=offset,
        limit=limit,
        convert=QuotaPublic.model_validate,
    )


def quota_changes(*, session: Session, catalog_id: int) -> list[QuotaChange]:
    """The lines where version `catalog_id` differs from its year's confirmed version (every
    line, when none is confirmed), by warehouse and material; nothing for the confirmed one."""
    catalog = get_quota_catalog_or_raise(session=session, catalog_id=catalog_id)
    confirmed = session.exec(
        select(QuotaCatalog).where(
            QuotaCatalog.year == catalog.year, QuotaCatalog.status == QuotaCatalogStatus.CONFIRMED
        )
    ).first()

    def lines(of: QuotaCatalog | None) -> dict[tuple[str, str], int]:
        if of is None:
            return {}
        rows = session.exec(select(Quota).where(Quota.catalog_id == of.id))
        return {(q.warehouse_id, q.material_code): q.quantity for q in rows}

    before, after = lines(confirmed), lines(catalog)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    materials = {
        m.code: m
        for m in session.exec(
            select(Material).where(col(Material.code).in_({code for _, code in changed}))
        )
    }
    return [
        QuotaChange(
            warehouse_id=warehouse,
            material_code=code,
            material_name=materials[code].name_zh,
            unit=materials[code].unit,
            before=before.get((warehouse, code)),
            after=after.get((warehouse, code)),
            difference=after.get((warehouse, code), 0) - before.get((warehouse, code), 0),
        )
        for warehouse, code in changed
    ]


def confirm_quota_catalog(
    *, session: Session, catalog_id: int, confirmed_by: str, now: datetime
) -> QuotaCatalogPublic:
    """Confirm a draft quota catalog; the year's previously confirmed version is superseded."""
    confirmed_by = confirmed_by.strip()
    if not confirmed_by:
        raise InvalidInput("请填写确认人 / say who confirms the catalog", loc=("confirmed_by",))
    catalog = get_quota_catalog_or_raise(session=session, catalog_id=catalog_id)
    label = (
        f"{catalog.year} 年第 {catalog.version} 版定额目录 / "
        f"quota catalog {catalog.year} v{catalog.version}"
    )
    if catalog.status != QuotaCatalogStatus.DRAFT:
        raise Conflict(
            f"{label}: 状态为 {catalog.status}，只有草稿可以确认 / only a draft can be confirmed"
        )
    if not session.exec(select(func.count()).where(Quota.catalog_id == catalog.id)).one():
        raise Conflict(f"{label}: 没有定额行，不能确认 / has no quota lines to confirm")
    for previous in session.exec(
        select(QuotaCatalog).where(
            QuotaCatalog.year == catalog.year, QuotaCatalog.status == QuotaCatalogStatus.CONFIRMED
        )
    ):
        previous.status = QuotaCatalogStatus.SUPERSEDED
        session.add(previous)
    catalog.status = QuotaCatalogStatus.CONFIRMED
    catalog.confirmed_by = confirmed_by
    catalog.confirmed_at = now
    session.add(catalog)
    record(
        session, actor=confirmed_by, action="quotas.confirm", object_type="quota_catalog",
        object_id=catalog.id or "", before={"status": QuotaCatalogStatus.DRAFT},
        after={"status": catalog.status, "year": catalog.year, "version": catalog.version},
        at=now,
    )  # fmt: skip
    session.commit()
    session.refresh(catalog)
    return catalog_public(session, catalog)


# What the positions may be sorted by (`sort_order`): a key, or `-key` for descending.
POSITION_SORTS = ("warehouse", "material", "on_hand", "quota", "shortfall", "value")


def reserve_positions(
    *,
    session: Session,
    today: date,
    warehouse_id: str | None = None,
    material_code: str | None = None,
    q: str | None = None,
    below_quota_only: bool = False,
    sort: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[ReservePosition]:
    """Compare reserve on hand with `today`'s year's confirmed quota; largest shortfall value
    first, or by `sort` (a key of POSITION_SORTS, `-key` descending). `q` is text in the
    material's code or name."""
    catalog = current_quota_catalog(session=session, today=today)
    keys: Any = select(
        col(ReserveStock.warehouse_id).label("warehouse_id"),
        col(ReserveStock.material_code).label("material_code"),
    )
    quota_rows = select(Quota).where(Quota.catalog_id == (catalog.id if catalog else -1))
    if catalog is not None:
        keys = union(keys, select(col(Quota.warehouse_id), col(Quota.material_code)).where(
            Quota.catalog_id == catalog.id
        ))  # fmt: skip
    pair = keys.subquery("pair")
    quota = quota_rows.subquery("quota")
    on_hand = func.coalesce(ReserveStock.quantity, 0)
    wanted = func.coalesce(quota.c.quantity, 0)
    shortfall = case((wanted > on_hand, wanted - on_hand), else_=0)
    statement = (
        select(  # type: ignore[call-overload]  # eight columns: past sqlmodel's typed overloads
            pair.c.warehouse_id,
            pair.c.material_code,
            Material.name_zh,
            Material.unit,
            Material.standard_price,
            on_hand.label("on_hand"),
            wanted.label("quota"),
            shortfall.label("shortfall"),
        )
        .select_from(pair)
        .join(Material, col(Material.code) == pair.c.material_code)
        .outerjoin(
            ReserveStock,
            (col(ReserveStock.warehouse_id) == pair.c.warehouse_id)
            & (col(ReserveStock.material_code) == pair.c.material_code),
        )
        .outerjoin(
            quota,
            (quota.c.warehouse_id == pair.c.warehouse_id)
            & (quota.c.material_code == pair.c.material_code),
        )
    )
    if warehouse_id:
        statement = statement.where(pair.c.warehouse_id == warehouse_id)
    if material_code:
        statement = statement.where(pair.c.material_code == material_code)
    if q:
        statement = statement.where(
            or_(contains(pair.c.material_code, q), contains(col(Material.name_zh), q))
        )
    if below_quota_only:
        statement = statement.where(wanted > on_hand)
    value = col(Material.standard_price) * shortfall
    columns = {
        "warehouse": pair.c.warehouse_id,
        "material": pair.c.material_code,
        "on_hand": on_hand,
        "quota": wanted,
        "shortfall": shortfall,
        "value": value,
    }
    order = [
        *sort_order(sort, columns, default=[value.desc()], tiebreak=pair.c.warehouse_id),
        pair.c.material_code,
    ]
    return paginate(
        session, statement, order_by=order, offset=offset, limit=limit, convert=_position
    )


def _position(row: Any) -> ReservePosition:
    warehouse, code, name, unit, price, have, quota, shortfall = row
    return ReservePosition(
        warehouse_id=warehouse,
        material_code=code,
        material_name=name,
        unit=unit,
        on_hand=int(have),
        quota=int(quota),
        shortfall=int(shortfall),
        shortfall_value=fen(price * int(shortfall)),
    )
