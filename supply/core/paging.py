"""One page of a list: the items, the total that matched, and where the page starts."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Page(BaseModel, Generic[T]):
    """A page of results / 分页结果."""

    items: list[T]
    total: int = Field(description="行数合计 / rows matching the filters")
    offset: int = Field(description="本页起始位置 / index of the first item")
    limit: int = Field(description="每页行数上限 / page size asked for")
