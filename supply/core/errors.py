"""Typed domain errors: what services raise, in words a user can act on.

Services never import FastAPI; `api/errors.py` maps each class here to an HTTP status in one table,
and the command line prints the message. Messages are Chinese first, English alongside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a user can cause; `message` says what is wrong and how to fix it."""

    type: str = "domain_error"

    def __init__(self, message: str, *, loc: Sequence[str | int] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.loc = tuple(loc)


class NotFound(DomainError):
    """The object asked for does not exist."""

    type = "not_found"


class Conflict(DomainError):
    """The request contradicts the current state (already confirmed, already exists, …)."""

    type = "conflict"


class InvalidInput(DomainError):
    """An argument is malformed or out of range."""

    type = "invalid_input"


class Unauthenticated(DomainError):
    """No valid sign-in: no token, an expired, forged or revoked one, a disabled user, or a
    wrong login or password (which of them is not said)."""

    type = "unauthenticated"


class Forbidden(DomainError):
    """Signed in, but the user's roles do not grant the permission the action needs."""

    type = "forbidden"

    def __init__(self, message: str, *, permission: str = "") -> None:
        super().__init__(message)
        self.permission = permission


class TooManyAttempts(DomainError):
    """Too many failed sign-ins for a login or from an address; `retry_after` seconds to wait."""

    type = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConflictingInput(Conflict, InvalidInput):
    """Input that is well formed but meets what is stored: it names a location, package or
    material that is not there, a calendar year not loaded, dates that do not fit the stored
    project, more than a hold holds. A conflict to the HTTP API (409: the request itself breaks
    no rule its schema states), invalid input to the command line (exit 2: the file or option)."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem in an imported file, at a row as the spreadsheet numbers it (header = row 1).

    `column_zh`/`column_en` name the column ("" for the whole row or file); the messages say what
    is wrong and what to do, each in its language. In a workbook of several sheets,
    `sheet_zh`/`sheet_en` name the sheet the row is on ("" for a one-table file).
    """

    row: int | None  # None: the file (or the sheet) as a whole
    column_zh: str
    column_en: str
    message_zh: str
    message_en: str
    sheet_zh: str = ""
    sheet_en: str = ""

    @property
    def text(self) -> str:
        """Render as '第 7 行 数量: -3 不能为负 / row 7 quantity: must not be negative'."""
        zh = "文件" if self.row is None else f"第 {self.row} 行"
        en = "file" if self.row is None else f"row {self.row}"
        if self.sheet_zh or self.sheet_en:
            zh = f"{self.sheet_zh}表" + ("" if self.row is None else f" {zh}")
            en = f"sheet {self.sheet_en}" + ("" if self.row is None else f" {en}")
        zh += f" {self.column_zh}" if self.column_zh else ""
        en += f" {self.column_en}" if self.column_en else ""
        return f"{zh}: {self.message_zh} / {en}: {self.message_en}"


class ImportRejected(DomainError):
    """A file was rejected as a whole; `problems` lists every problem found, row by row."""

    type = "import_rejected"

    def __init__(self, message: str, problems: Sequence[RowProblem]) -> None:
        super().__init__(message)
        self.problems = list(problems)

    def __str__(self) -> str:
        return self.message + "".join(f"\n  {p.text}" for p in self.problems)
