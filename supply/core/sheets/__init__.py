"""Spreadsheets in and out, for every domain: `read` turns an uploaded .xlsx or CSV file into
numbered rows of cells (all-or-nothing imports start here); `write` is the one writer of every
export. The writer's names are exported here; the reader's are in `supply.core.sheets.read`.
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
