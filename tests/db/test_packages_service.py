"""Project packages on SQLite and PostgreSQL: create, read, list; exact budgets; upsert counts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlmodel import Session

from supply.core.errors import Conflict, InvalidInput, NotFound
from supply.packages.models import PackageCreate
from supply.packages.service import (
    create_package,
    get_package_or_raise,
    list_packages,
    upsert_packages,
)


def package(package_id: str, year: int = 2026, budget: str = "1000000") -> PackageCreate:
    return PackageCreate(id=package_id, name=f"{package_id} 项目包", year=year, budget=budget)  # type: ignore[arg-type]


def test_a_package_keeps_its_budget_exactly_and_its_id_once(
    session: Session, now: datetime
) -> None:
    create_package(
        session=session, package=package("PK-1", budget="12345678.901234"), now=now, user="test"
    )
    session.expire_all()
    stored = get_package_or_raise(session=session, package_id="PK-1")
    assert stored.budget == Decimal("12345678.901234") and stored.updated_at == now
    with pytest.raises(Conflict, match="PK-1 already exists"):
        create_package(session=session, package=package("PK-1"), now=now, user="test")
    with pytest.raises(NotFound, match="PK-2"):
        get_package_or_raise(session=session, package_id="PK-2")


def test_a_budget_must_be_an_exact_non_negative_amount() -> None:
    for budget in ("-1", "1.0000001", "1000000000000"):
        with pytest.raises(ValidationError):
            package("PK-1", budget=budget)


def test_packages_are_listed_newest_year_first_and_paged(session: Session, now: datetime) -> None:
    for package_id, year in (("B", 2025), ("A", 2026), ("C", 2026)):
        create_package(session=session, package=package(package_id, year), now=now, user="test")
    assert [p.id for p in list_packages(session=session).items] == ["A", "C", "B"]
    assert [p.id for p in list_packages(session=session, year=2025).items] == ["B"]
    page = list_packages(session=session, offset=1, limit=1)
    assert (page.total, [p.id for p in page.items]) == (3, ["C"])
    with pytest.raises(InvalidInput):
        list_packages(session=session, offset=-1)


def test_upserting_packages_counts_inserted_updated_unchanged(
    session: Session, now: datetime
) -> None:
    rows = [package("A").model_dump(), package("B").model_dump()]
    assert upsert_packages(session=session, rows=rows, now=now) == (2, 0, 0)
    rows[1]["budget"] = Decimal(2_000_000)
    assert upsert_packages(session=session, rows=rows, now=now) == (0, 1, 1)
    session.commit()
    assert get_package_or_raise(session=session, package_id="B").budget == Decimal(2_000_000)
