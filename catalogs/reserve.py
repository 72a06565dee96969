"""The physical reserve: stock on hand, the yearly quota catalogs it should hold, the two compared.

A quota catalog is imported as a draft version of its year (`catalogs.importing`) and confirmed by
a person (`confirm_quota_catalog`, one use case, one commit, one audit event); the year's
confirmed version is the only one planning uses (`current_quota_catalog`). `reserve_positions`
compares what is on hand with it. Plain functions with keyword-only arguments; the caller passes
the session and the date.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalogs.models import (
    Material,
    Quota,
    QuotaCatalog,
    QuotaCatalogPublic,
    QuotaCatalogStatus,
    QuotaPublic,
    ReservePosition,
    ReserveStock,
    ReserveStockPublic,
)
from supply.core.audit import record
from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.core.money import fen
from supply.core.paging import DEFAULT_LIMIT, Page, check_page, paginate


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


def reserve_positions(
    *,
    session: Session,
    today: date,
    warehouse_id: str | None = None,
    material_code: str | None = None,
    below_quota_only: bool = False,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[ReservePosition]:
    """Compare reserve on hand with `today`'s year's confirmed quota; largest shortfall first."""
    check_page(offset=offset, limit=limit)
    catalog = current_quota_catalog(session=session, today=today)
    on_hand: dict[tuple[str, str], int] = {
        (s.warehouse_id, s.material_code): s.quantity for s in session.exec(select(ReserveStock))
    }
    quotas: dict[tuple[str, str], int] = {}
    if catalog is not None:
        quotas = {
            (q.warehouse_id, q.material_code): q.quantity
            for q in session.exec(select(Quota).where(Quota.catalog_id == catalog.id))
        }
    materials = {m.code: m for m in session.exec(select(Material))}
    positions = []
    for key in on_hand.keys() | quotas.keys():
        warehouse, code = key
        if (warehouse_id and warehouse != warehouse_id) or (
            material_code and code != material_code
        ):
            continue
        material = materials[code]
        have, quota = on_hand.get(key, 0), quotas.get(key, 0)
        shortfall = max(0, quota - have)
        if below_quota_only and not shortfall:
            continue
        positions.append(
            ReservePosition(
                warehouse_id=warehouse,
                material_code=code,
                material_name=material.name_zh,
                unit=material.unit,
                on_hand=have,
                quota=quota,
                shortfall=shortfall,
                shortfall_value=fen(material.standard_price * shortfall),
            )
        )
    positions.sort(key=lambda p: (-p.shortfall_value, p.warehouse_id, p.material_code))
    return Page(
        items=positions[offset : offset + limit], total=len(positions), offset=offset, limit=limit
    )
