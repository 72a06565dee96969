"""Text fields of request bodies (trimmed, one line, no control characters, bounded), and the
one rule for user text in CSV cells (`csv_text`).

PostgreSQL refuses a NUL character in text, and a stray tab or line break in a name breaks the
Excel exports; refusing them at the edge keeps both out of the database.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What spreadsheet programs read as the start of a formula in a CSV cell (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPACE = re.compile(r"\s")


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


def _bounded(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


# Identifiers: trimmed, no spaces, bounded by the database column they are stored in.
Code32 = Annotated[str, _bounded(1, 32), AfterValidator(_code)]
Code64 = Annotated[str, _bounded(1, 64), AfterValidator(_code)]
# A name that must be given, and free text that may be empty; one line each.
Name = Annotated[str, _bounded(1, 200), AfterValidator(_single_line)]
Text200 = Annotated[str, _bounded(0, 200), AfterValidator(_single_line)]
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
