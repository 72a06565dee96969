"""Where the working-day calendar and the deadline policy come from at the edges.

The calendar is the chinesecalendar library's years plus the operator's years stored as
`<year>.csv` in the calendar directory (setting `GRIDSUPPLY_CALENDAR_DIR`, default `calendars/`
in the working directory), which replace the library's. The deadline policy is the defaults of
`supply.policy` with overrides from the settings.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from supply.calendar import (
    CalendarError,
    WorkCalendar,
    YearArrangement,
    decode_calendar_bytes,
    default_calendar,
    format_calendar_csv,
    parse_calendar_csv,
)
from supply.core.settings import Settings, get_settings
from supply.policy import DeadlinePolicy


def calendar_dir() -> Path:
    """Return the directory operator calendar years are stored in."""
    return Path(get_settings().calendar_dir)


def read_stored_arrangements(directory: Path) -> list[YearArrangement]:
    """Read every stored year in `directory`; raise CalendarError if one is invalid or doubled."""
    if not directory.is_dir():
        return []
    arrangements: list[YearArrangement] = []
    seen: dict[int, Path] = {}
    for path in sorted(directory.glob("*.csv")):
        for arrangement in parse_calendar_csv(
            decode_calendar_bytes(path.read_bytes()), source=str(path)
        ):
            if arrangement.year in seen:
                raise CalendarError(
                    f"{arrangement.year} 年在 {seen[arrangement.year]} 和 {path} 中都有 / "
                    f"{arrangement.year} is in both {seen[arrangement.year]} and {path}: "
                    "delete one of them"
                )
            seen[arrangement.year] = path
            arrangements.append(arrangement)
    return arrangements


def load_calendar(directory: Path | None = None) -> WorkCalendar:
    """Build the calendar: the library's years, replaced or extended by the stored years.

    Built again only when the stored files change (their names, sizes and modification times
    are compared on every call), so a year an operator loads takes effect at once."""
    directory = directory or calendar_dir()
    stamp = _stamp(directory)
    key = str(directory.resolve())
    with _built_lock:
        found = _built.get(key)
    if found is not None and found[0] == stamp:
        return found[1]
    calendar = default_calendar(read_stored_arrangements(directory))
    with _built_lock:
        _built[key] = (stamp, calendar)
    return calendar


def _stamp(directory: Path) -> tuple[tuple[str, int, int, int], ...]:
    """Name, inode, size and modification time of each stored year file."""
    found = []
    for path in sorted(directory.glob("*.csv")) if directory.is_dir() else ():
        try:
            info = path.stat()
        except FileNotFoundError:  # deleted meanwhile
            continue
        found.append((path.name, info.st_ino, info.st_size, info.st_mtime_ns))
    return tuple(found)


_built: dict[str, tuple[tuple[tuple[str, int, int, int], ...], WorkCalendar]] = {}
_built_lock = threading.Lock()


def store_arrangements(
    directory: Path, arrangements: Iterable[YearArrangement], *, origin: str
) -> list[Path]:
    """Store each arrangement as `<year>.csv`; write all files before replacing any."""
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for arrangement in arrangements:
            text = f"# loaded by gridsupply calendar load from {origin}\n"
            text += format_calendar_csv([arrangement])
            handle, name = tempfile.mkstemp(dir=directory, prefix=".calendar-", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            staged.append((Path(name), directory / f"{arrangement.year}.csv"))
        for temp, final in staged:
            os.replace(temp, final)
    finally:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
    return [final for _, final in staged]


def policy_from_settings(settings: Settings | None = None) -> DeadlinePolicy:
    """Return the deadline policy: the defaults, with the settings' overrides merged in."""
    settings = settings or get_settings()
    return DeadlinePolicy(
        install_working_days=settings.install_working_days,
        province_match_working_days=settings.province_match_working_days,
        filing_working_days=settings.filing_working_days,
    )
