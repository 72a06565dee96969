"""Spreadsheets in and out, for every domain: `read` turns an uploaded .xlsx or CSV file into
numbered rows of cells (all-or-nothing imports start here); `table` reads those rows as a table of
named columns, every problem at once, one cell at a time with the readers of `cells`; `write` is
the one writer of every export. The writer's names are exported here; the others are in their
modules.
"""

from supply.core.sheets.write import (
    MEDIA_TYPES,
    TOTAL_LABEL,
    Column,
    ColumnKind,
    Sheet,
    as_decimal,
    sheet_name,
    total_of,
    write_csv,
    write_xlsx,
)

__all__ = [
    "MEDIA_TYPES",
    "TOTAL_LABEL",
    "Column",
    "ColumnKind",
    "Sheet",
    "as_decimal",
    "sheet_name",
    "total_of",
    "write_csv",
    "write_xlsx",
]
