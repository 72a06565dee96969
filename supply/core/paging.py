"""One page of a list: the items, the total that matched, and where the page starts;
`paginate`, the one way a service reads a page of a query; and `sort_order`, the one way a list
is sorted by a column its caller names."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlmodel import Session, func, select

from supply.core.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Page(BaseModel, Generic[T]):
    """A page of results / 分页结果."""

    items: list[T]
    total: int = Field(description="行数合计 / rows matching the filters")
    offset: int = Field(description="本页起始位置 / index of the first item")
    limit: int = Field(description="每页行数上限 / page size asked for")


def check_page(*, offset: int, limit: int) -> None:
    """Refuse a page that starts before 0 or asks for too many rows."""
    if offset < 0:
        raise InvalidInput("offset 不能为负 / offset must not be negative", loc=("offset",))
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit 应在 1–{MAX_LIMIT} 之间 / limit must be between 1 and {MAX_LIMIT}",
            loc=("limit",),
        )


def paginate(
    session: Session,
    statement: Any,
    *,
    order_by: Sequence[Any],
    offset: int,
    limit: int,
    convert: Callable[[Any], T],
) -> Page[T]:
    """A page of `statement`'s rows in `order_by` order, each made an item by `convert`, with
    the total that matched (a row of several entities comes as a tuple)."""
    check_page(offset=offset, limit=limit)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = session.exec(statement.order_by(*order_by).offset(offset).limit(limit)).all()
    return Page[Any](items=[convert(r) for r in rows], total=total, offset=offset, limit=limit)


def sort_order(
    sort: str | None,
    columns: Mapping[str, Any],
    *,
    default: Sequence[Any],
    tiebreak: Any,
    blanks: Literal["last", "smallest"] = "last",
) -> list[Any]:
    """The ORDER BY of a list sorted by the caller's `sort`: a key of `columns` (ascending) or
    `-key` (descending), then `tiebreak` so that pages never overlap (empty values last, or as the smallest); `default` when none is
    asked for. An unknown key is refused, naming the keys there are."""
    if not sort:
        return [*default, tiebreak]
    key = sort.removeprefix("-")
    if key not in columns:
        raise InvalidInput(
            f"不能按 {key} 排序，可选：{'、'.join(columns)} / cannot sort by {key!r}; "
            f"one of: {', '.join(columns)}",
            loc=("sort",),
        )
    column = columns[key]
    descending = sort.startswith("-")
    order = column.desc() if descending else column.asc()
    # Empty values at the end either way, or (`smallest`) first going up — on every database.
    if blanks == "smallest" and not descending:
        return [order.nulls_first(), tiebreak]
    return [order.nulls_last(), tiebreak]


def every(page_of: Callable[[int, int], Page[T]], *, cap: int) -> list[T]:
    """All the items a paged read gives (`page_of(offset, limit)`), page after page, at most
    `cap` — for a download of a whole list in its order."""
    found: list[T] = []
    while len(found) < cap:
        page = page_of(len(found), MAX_LIMIT)
        found += page.items
        if not page.items or len(found) >= page.total:
            break
    return found[:cap]
