"""Text fields of request bodies: one line, no control characters, bounded; names trimmed;
and the one rule for user text in CSV cells (`csv_text`).

PostgreSQL refuses a NUL character in text, and a stray tab or line break in a name breaks the
Excel exports; refusing them at the edge keeps both out of the database. Each type states its
rule in the JSON schema too (the same pattern the validator applies, lengths of the text as sent),
so that what the OpenAPI document calls valid is exactly what is accepted.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints, WithJsonSchema

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What spreadsheet programs read as the start of a formula in a CSV cell (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPACE = re.compile(r"\s")
# The same rules as JSON-schema patterns (Python `re` syntax, as the validators use).
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
NOT_BLANK = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
CODE = r"^[^\s\x00-\x1f\x7f]+$"
BLANK = r"^[^\S\x00-\x1f\x7f]*$"  # empty, or spaces only (one line)


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(
            "不能含控制字符或换行 / must not contain control characters or line breaks"
        )
    return value


def _code(value: str) -> str:
    if _SPACE.search(value):
        raise ValueError(f"编码 {value!r} 不能含空格 / code {value!r} must not contain spaces")
    return _single_line(value)


def _name(value: str) -> str:
    value = _single_line(value).strip()
    if not value:
        raise ValueError("不能为空白 / must not be blank")
    return value


def _text(value: str) -> str:
    return _single_line(value).strip()


def _schema(min_length: int, max_length: int, pattern: str) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": pattern}
    if min_length:
        schema["minLength"] = min_length
    return WithJsonSchema(schema)


# Identifiers: no spaces, bounded by the database column they are stored in.
Code32 = Annotated[
    str, StringConstraints(min_length=1, max_length=32), AfterValidator(_code), _schema(1, 32, CODE)
]
Code64 = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_code), _schema(1, 64, CODE)
]
# A name that must be given (not only spaces), and free text that may be empty; one line each,
# stored without surrounding spaces.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_name),
    _schema(1, 200, NOT_BLANK),
]
Text200 = Annotated[
    str, StringConstraints(max_length=200), AfterValidator(_text), _schema(0, 200, ONE_LINE)
]
Text64 = Annotated[
    str, StringConstraints(max_length=64), AfterValidator(_text), _schema(0, 64, ONE_LINE)
]
# A location id such as `lingang`: lower-case letters, digits, '-' and '_' (as catalog files use).
Location = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


def csv_text(text: str) -> str:
    """Return `text` safe for a CSV cell: an apostrophe before a leading = + - @ TAB or CR, so
    that Excel or WPS shows it as text instead of running it as a formula (also before text
    that already starts with apostrophes and then one of those, so `uncsv_text` restores it)."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def uncsv_text(text: str) -> str:
    """Undo `csv_text` on a cell read back from a CSV file."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START) else text
