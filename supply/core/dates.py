"""Dates and moments in request bodies and query parameters, written as the OpenAPI document says.

pydantic, lax, would also take a number as a Unix timestamp (`submitted_before=0.5` meant 1970);
here a date is `YYYY-MM-DD` in the years the service plans for, and a moment is RFC 3339 with its
offset (`2026-11-30T11:00:00+08:00`), exactly what the JSON schema states.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, WithJsonSchema

FIRST_YEAR, LAST_YEAR = 2000, 2100
DATE_PATTERN = r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"
MOMENT_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
_DATE = re.compile(DATE_PATTERN)
_MOMENT = re.compile(MOMENT_PATTERN)


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.match(value):
        return value
    raise ValueError(
        f"日期写作 YYYY-MM-DD，年份在 {FIRST_YEAR}–{LAST_YEAR} 之间 / a date is written "
        f"YYYY-MM-DD, in the years {FIRST_YEAR}–{LAST_YEAR}"
    )


def _iso_moment(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _MOMENT.match(value)):
        return value
    raise ValueError(
        "时刻写作 RFC 3339，带时区，如 2026-11-30T11:00:00+08:00 / a moment is written as RFC "
        "3339 with its offset, e.g. 2026-11-30T11:00:00+08:00"
    )


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
IsoMoment = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_moment),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
