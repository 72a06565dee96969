"""The PRC working-day calendar (工作日历): weekends off, public holidays off, make-up days on.

A `WorkCalendar` is built from plain data, one `YearArrangement` per year: the official
arrangements bundled with the `chinesecalendar` library, then the operator's calendar files
(which replace whole years). A date in a year that no source covers raises `YearNotLoaded`;
the calendar never falls back to a weekend-only guess (DESIGN.md R4).

Counting convention, used everywhere (the founding document's 次日起算, "counting starts the
next day"): `working_days_between(a, b)` counts the working days after `a` up to and including
`b`, and `add_working_days(a, n)` is the day on which that count first reaches `n`.

Pure: no files, no clock, no settings. Reading and storing calendar files is the caller's job
(`api/commands/calendar.py`); this module parses their text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from types import MappingProxyType

from supply.core.errors import ConflictingInput, InvalidInput
from supply.core.text import csv_text, uncsv_text

ONE_DAY = timedelta(days=1)
SATURDAY = 5
WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LOAD_HINT = "gridsupply calendar load FILE"
# Statutory holidays falling on a weekend are given back on a weekday, so a complete year has
# at least as many weekday holidays as statutory holiday days: 11 until 2024, 13 from 2025.
MIN_WEEKDAY_HOLIDAYS = 11


class DayType(StrEnum):
    """What the official arrangement says about a date."""

    holiday = "holiday"  # 放假: a day off (a weekday, or a weekend day inside a holiday period)
    workday = "workday"  # 上班: a Saturday or Sunday worked in exchange (调休上班)


class CalendarError(InvalidInput, ValueError):
    """A working-day calendar problem a user can fix (HTTP 422)."""


class YearNotLoaded(ConflictingInput, CalendarError):
    """A date falls in a year that no loaded calendar source covers: a conflict with the calendar
    in force (HTTP 409) until an operator loads that year."""

    def __init__(self, year: int, loaded: Sequence[int]) -> None:
        self.year = year
        self.loaded = tuple(sorted(loaded))
        covered = format_years(self.loaded) or "无 none"
        super().__init__(
            f"{year} 年的工作日历未加载（已加载 {covered}）/ no working-day calendar is loaded "
            f"for {year} (loaded: {covered}). 国务院公布 {year} 年节假日安排后，用 `{LOAD_HINT}` "
            f"加载 / once the State Council publishes the {year} arrangement, load it with "
            f"`{LOAD_HINT}` (file format: docs/calendar.md)."
        )


@dataclass(frozen=True)
class RowProblem:
    """One problem in a calendar file: the row (1 = header) and column it is in."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [f"row {self.row}" if self.row is not None else "file"]
        if self.column:
            where.append(self.column)
        return f"{', '.join(where)}: {self.message}"


class CalendarFileRejected(CalendarError):
    """A calendar file has problems; nothing from it was loaded."""

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(
            f"日历文件 {source} 有 {len(self.problems)} 处错误，未加载 / calendar file {source} "
            f"has {len(self.problems)} problem(s); nothing was loaded: "
            + "; ".join(str(p) for p in self.problems)
        )


@dataclass(frozen=True)
class YearArrangement:
    """One year's official arrangement: the days off and the weekend days worked."""

    year: int
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    source: str

    def __post_init__(self) -> None:
        for day in (*self.holidays, *self.workdays):
            if type(day) is not date or day.year != self.year:
                raise ValueError(f"{day!r} is not a date in {self.year}")
        for day in self.workdays:
            if day.weekday() < SATURDAY:
                raise ValueError(f"make-up working day {day} is not a Saturday or Sunday")
            if day in self.holidays:
                raise ValueError(f"{day} is both a holiday and a make-up working day")
        # Copied into read-only views: an arrangement cannot change under a calendar built on it.
        object.__setattr__(self, "holidays", MappingProxyType(dict(sorted(self.holidays.items()))))
        object.__setattr__(self, "workdays", MappingProxyType(dict(sorted(self.workdays.items()))))

    def is_working_day(self, day: date) -> bool:
        """Say whether `day` (in this year) is a working day under this arrangement."""
        if day in self.workdays:
            return True
        return day.weekday() < SATURDAY and day not in self.holidays

    def weekday_holidays(self) -> list[date]:
        """List the Monday-to-Friday days off."""
        return [d for d in self.holidays if d.weekday() < SATURDAY]

    def rows(self) -> Iterator[tuple[date, DayType, str]]:
        """Yield (date, type, name) for every listed day, in date order."""
        entries = [(d, DayType.holiday, n) for d, n in self.holidays.items()]
        entries += [(d, DayType.workday, n) for d, n in self.workdays.items()]
        yield from sorted(entries)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days of the PRC official calendar for the years loaded."""

    years: Mapping[int, YearArrangement]

    @classmethod
    def from_arrangements(cls, arrangements: Iterable[YearArrangement]) -> WorkCalendar:
        """Build a calendar; a later arrangement for the same year replaces an earlier one."""
        by_year: dict[int, YearArrangement] = {}
        for arrangement in arrangements:
            by_year[arrangement.year] = arrangement
        return cls(years=MappingProxyType(dict(sorted(by_year.items()))))

    def covers(self, year: int) -> bool:
        """Say whether a year's arrangement is loaded."""
        return year in self.years

    def missing_years(self, start: date, end: date) -> list[int]:
        """The years from `start` to `end` (both included) that no arrangement covers."""
        return [year for year in range(start.year, end.year + 1) if year not in self.years]

    def arrangement(self, year: int) -> YearArrangement:
        """Return a year's arrangement or raise YearNotLoaded."""
        try:
            return self.years[year]
        except KeyError:
            raise YearNotLoaded(year, list(self.years)) from None

    def is_working_day(self, day: date) -> bool:
        """Say whether `day` is a working day."""
        _check_date(day)
        return self.arrangement(day.year).is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """Return the first working day strictly after `day`."""
        return self.add_working_days(day, 1)

    def previous_working_day(self, day: date) -> date:
        """Return the last working day strictly before `day`."""
        return self.add_working_days(day, -1)

    def on_or_after(self, day: date) -> date:
        """Return `day` if it is a working day, else the next working day."""
        return day if self.is_working_day(day) else self.next_working_day(day)

    def add_working_days(self, start: date, n: int) -> date:
        """Return the n-th working day after `start` (n > 0) or before it (n < 0).

        `start` itself is never counted, whether or not it is a working day. n = 0 returns
        `start` unchanged (even on a day off), so `working_days_between(d, add_working_days(d, n))
        == n` for every d and every n >= 0; from a working day d, adding n then -n returns d.
        """
        _check_date(start)
        step = ONE_DAY if n >= 0 else -ONE_DAY
        day, left = start, abs(n)
        while left:
            day += step
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days after `start` up to and including `end`; negative if end < start.

        Antisymmetric: `working_days_between(b, a) == -working_days_between(a, b)`, and
        `working_days_between(a, a) == 0`.
        """
        if end < start:
            return -self.working_days_between(end, start)
        return len(self.working_days_after(start, end))

    def working_days_after(self, start: date, end: date) -> list[date]:
        """List the working days after `start` up to and including `end`."""
        _check_date(start)
        _check_date(end)
        days: list[date] = []
        day = start + ONE_DAY
        while day <= end:
            if self.is_working_day(day):
                days.append(day)
            day += ONE_DAY
        return days

    def is_makeup_day(self, day: date) -> bool:
        """Say whether `day` is a weekend day worked by arrangement (调休上班)."""
        _check_date(day)
        return day in self.arrangement(day.year).workdays


def _check_date(day: date) -> None:
    # datetime is a subclass of date; a datetime here means a time zone conversion was skipped.
    if type(day) is not date:
        raise TypeError(
            f"expected a date, got {type(day).__name__} {day!r}"
            + (" (convert it to an Asia/Shanghai date first)" if isinstance(day, datetime) else "")
        )


def format_years(years: Iterable[int]) -> str:
    """Write a set of years compactly, runs joined by a dash: 2004–2026, 2028."""
    ordered = sorted(set(years))
    runs: list[list[int]] = []
    for year in ordered:
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


# --- the bundled source: the chinesecalendar library ---------------------------------------


@cache
def library_arrangements() -> tuple[YearArrangement, ...]:
    """Return the official arrangements bundled with the chinesecalendar library, one per year."""
    import chinese_calendar

    source = f"chinesecalendar {chinese_calendar.__version__}"
    names = {h.value: f"{h.chinese} {h.value}" for h in chinese_calendar.Holiday}
    years = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
    arrangements = []
    for year in years:
        holidays = {
            d: names.get(n, n) for d, n in chinese_calendar.holidays.items() if d.year == year
        }
        workdays = {
            d: names.get(n, n) for d, n in chinese_calendar.workdays.items() if d.year == year
        }
        arrangements.append(YearArrangement(year, holidays, workdays, source))
    return tuple(arrangements)


def default_calendar(overrides: Iterable[YearArrangement] = ()) -> WorkCalendar:
    """Build the calendar from the library's years, with operator arrangements replacing years."""
    return WorkCalendar.from_arrangements([*library_arrangements(), *overrides])


# --- the operator's calendar file (CSV) ----------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "日期"),
    "type": ("type", "类型"),
    "name": ("name", "名称", "节日", "说明"),
}
REQUIRED_COLUMNS = ("date", "type")
TYPE_WORDS: dict[DayType, tuple[str, ...]] = {
    DayType.holiday: ("holiday", "off", "休", "休息", "放假"),
    DayType.workday: ("workday", "work", "班", "上班", "补班", "调休上班"),
}
# 2027-02-06, 2027/2/6 (Excel's Chinese locale), 2027.2.6, optionally with Excel's " 0:00".
DATE_PATTERN = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:\s+0{1,2}:00(?::00)?)?")


def decode_calendar_bytes(data: bytes) -> str:
    """Decode a calendar file: UTF-8 (with or without BOM), else GB18030 as Chinese Excel saves."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def parse_calendar_date(text: str) -> date | None:
    """Read a calendar date cell (YYYY-MM-DD or YYYY/M/D); None if it is not a date."""
    match = DATE_PATTERN.fullmatch(text.strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_day_type(text: str) -> DayType | None:
    """Read a calendar type cell (holiday/放假, workday/上班); None if it is neither."""
    word = text.strip().lower()
    for day_type, words in TYPE_WORDS.items():
        if word in words:
            return day_type
    return None


def parse_calendar_csv(text: str, *, source: str) -> list[YearArrangement]:
    """Parse an operator calendar file into whole-year arrangements; name every bad row.

    Raises CalendarFileRejected listing every problem (row number, 1 = header, and column).
    """
    problems: list[RowProblem] = []
    header: dict[str, int] | None = None
    seen: dict[date, int] = {}
    entries: list[tuple[int, date, DayType, str]] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    for cells in reader:
        row = reader.line_num
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if header is None:
            header = _read_header(cells, row, problems)
            if header is None:
                break
            continue
        entry = _read_row(cells, row, header, problems)
        if entry is None:
            continue
        day, day_type, name = entry
        if day in seen:
            problems.append(
                RowProblem(
                    row, "date", f"{day} 与第 {seen[day]} 行重复 / already given in row {seen[day]}"
                )
            )
            continue
        seen[day] = row
        entries.append((row, day, day_type, name))
    if header is not None and not entries and not problems:
        problems.append(RowProblem(None, None, "文件没有数据行 / the file has no rows"))
    elif header is None and not problems:
        problems.append(RowProblem(None, None, "文件是空的 / the file is empty"))
    by_year: dict[int, tuple[dict[date, str], dict[date, str]]] = {}
    for _, day, day_type, name in entries:
        holidays, workdays = by_year.setdefault(day.year, ({}, {}))
        (holidays if day_type is DayType.holiday else workdays)[day] = name
    for year, (holidays, _) in sorted(by_year.items()):
        if not any(d.weekday() < SATURDAY for d in holidays):
            problems.append(
                RowProblem(
                    None,
                    "date",
                    f"{year} 年没有工作日放假的日期："
                    "文件中出现的年份按整年替换，须列出全年节假日 / "
                    f"{year} has no weekday holidays: a file replaces each year it mentions as a "
                    f"whole, so list every holiday of {year}",
                )
            )
    if problems:
        raise CalendarFileRejected(source, problems)
    return [
        YearArrangement(year, holidays, workdays, source)
        for year, (holidays, workdays) in sorted(by_year.items())
    ]


def _read_header(cells: list[str], row: int, problems: list[RowProblem]) -> dict[str, int] | None:
    header: dict[str, int] = {}
    for index, cell in enumerate(cells):
        label = cell.lower()
        for column, aliases in COLUMNS.items():
            if label in aliases and column not in header:
                header[column] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    for column in missing:
        problems.append(
            RowProblem(
                row,
                column,
                f"缺少列 {column}（{COLUMNS[column][1]}）/ missing column {column}; "
                "the header row has: " + ", ".join(repr(c) for c in cells),
            )
        )
    return None if missing else header


def _read_row(
    cells: list[str], row: int, header: Mapping[str, int], problems: list[RowProblem]
) -> tuple[date, DayType, str] | None:
    def cell(column: str) -> str:
        index = header.get(column)
        return cells[index] if index is not None and index < len(cells) else ""

    before = len(problems)
    raw_date, raw_type = cell("date"), cell("type")
    day = parse_calendar_date(raw_date)
    if day is None:
        problems.append(
            RowProblem(
                row,
                "date",
                f"{raw_date!r} 不是有效日期 / is not a valid date (YYYY-MM-DD)"
                if raw_date
                else "日期为空 / date is empty",
            )
        )
    day_type = parse_day_type(raw_type)
    if day_type is None:
        problems.append(
            RowProblem(
                row,
                "type",
                f"{raw_type!r} 不是 holiday（放假）或 workday（上班）/ "
                "is neither holiday nor workday"
                if raw_type
                else "类型为空 / type is empty (holiday or workday)",
            )
        )
    if day is not None and day_type is DayType.workday and day.weekday() < SATURDAY:
        problems.append(
            RowProblem(
                row,
                "type",
                f"{day} 是{WEEKDAY_ZH[day.weekday()]}，调休上班日只能是周六或周日 / "
                f"{day} is a {WEEKDAY_EN[day.weekday()]}: "
                "a make-up working day is always a Saturday or Sunday",
            )
        )
    if len(problems) > before or day is None or day_type is None:
        return None
    return day, day_type, uncsv_text(cell("name"))


def format_calendar_csv(arrangements: Iterable[YearArrangement]) -> str:
    """Write arrangements in the operator file format (CSV: date,type,name)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", "type", "name"])
    for arrangement in sorted(arrangements, key=lambda a: a.year):
        for day, day_type, name in arrangement.rows():
            writer.writerow([day.isoformat(), day_type.value, csv_text(name)])
    return buffer.getvalue()


def differences(old: YearArrangement, new: YearArrangement) -> list[date]:
    """List the dates of a year whose working-day status differs between two arrangements."""
    if old.year != new.year:
        raise ValueError(f"cannot compare {old.year} with {new.year}")
    day, changed = date(old.year, 1, 1), []
    while day.year == old.year:
        if old.is_working_day(day) != new.is_working_day(day):
            changed.append(day)
        day += ONE_DAY
    return changed


def plausibility_warnings(arrangement: YearArrangement) -> list[str]:
    """Return warnings for an arrangement that looks incomplete (too few weekday holidays)."""
    count = len(arrangement.weekday_holidays())
    if count >= MIN_WEEKDAY_HOLIDAYS:
        return []
    return [
        f"{arrangement.year} 年只有 {count} 个工作日放假，少于法定的 {MIN_WEEKDAY_HOLIDAYS} 天；"
        f"文件是否完整？/ {arrangement.year} has only {count} weekday holidays, fewer than the "
        f"{MIN_WEEKDAY_HOLIDAYS} statutory days: is the file complete?"
    ]
