"""Calendar files in the operator format: the published arrangements of 2024–2026, by hand.

Transcribed from the State Council General Office notices (国务院办公厅关于 YYYY 年部分节假日
安排的通知), not generated from a library: they are worked examples of the file format
(docs/calendar.md) and an independent check of the library's data in the tests.
"""

from __future__ import annotations

from importlib.resources import files


def example_path(year: int) -> str:
    """Return the path of the bundled arrangement file for `year` (2024, 2025 or 2026)."""
    return str(files(__name__).joinpath(f"cn-{year}.csv"))
