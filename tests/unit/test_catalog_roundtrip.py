"""Export → import gives back exactly what was exported, for any valid rows (Hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalogs.export import write_catalog
from catalogs.models import CatalogKind
from catalogs.parse import MaterialRef, ParseContext, parse_sheet
from supply.core.money import MAX_PRICE
from supply.core.sheets.read import read_sheet
from supply.core.units import BASE_UNITS, MAX_QUANTITY

CODE = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-_./×", min_size=1, max_size=24)
# Names as planners write them: Chinese, Latin, digits, punctuation, spaces, even a leading '='.
NAME = (
    st.text(
        alphabet=st.sampled_from(
            "变压器电缆导线箱式环网柜开关（）()×-/ ABCxyz0123456789=+.,%#'\"，、"
        ),
        min_size=1,
        max_size=60,
    )
    .map(str.strip)
    .filter(bool)
)
MONEY = st.decimals(
    min_value=0, max_value=MAX_PRICE, places=6, allow_nan=False, allow_infinity=False
)
DAYS = st.integers(min_value=0, max_value=3650)
QUANTITY = st.integers(min_value=0, max_value=MAX_QUANTITY)

CONTEXT = ParseContext(
    materials={"DT-400": MaterialRef(unit="台"), "JKLYJ-70": MaterialRef(unit="米")},
    warehouses=frozenset({"WH-CENTRAL", "WH-WD"}),
)


@st.composite
def material_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    codes = draw(st.lists(CODE, min_size=1, max_size=8, unique=True))
    return [
        {
            "code": code,
            "name_zh": draw(NAME),
            "name_en": draw(st.one_of(st.just(""), NAME)),
            "unit": draw(st.sampled_from(BASE_UNITS)),
            "voltage_class": draw(st.sampled_from(["0.4kV", "10kV", "35kV", "110kV"])),
            "category": draw(st.one_of(st.just(""), NAME)),
            "standard_price": draw(MONEY),
            "reserve_catalog": draw(st.booleans()),
            "heavy": draw(st.booleans()),
            "typical_lead_days": draw(DAYS),
            "emergency_lead_days": draw(DAYS),
            "emergency_premium_pct": draw(st.integers(min_value=0, max_value=1000)),
        }
        for code in codes
    ]


@st.composite
def agreement_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    keys = draw(
        st.lists(st.tuples(CODE, st.integers(1, 10_000)), min_size=1, max_size=8, unique=True)
    )
    rows = []
    for number, line in keys:
        start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
        rows.append(
            {
                "agreement_no": number,
                "line_no": line,
                "tender": draw(st.one_of(st.just(""), NAME)),
                "supplier": draw(NAME),
                "material_code": draw(st.sampled_from(["DT-400", "JKLYJ-70"])),
                "unit_price": draw(MONEY),
                "estimated_quantity": draw(QUANTITY),
                "band_low_pct": draw(st.integers(0, 100)),
                "band_high_pct": draw(st.integers(100, 1000)),
                "ordered_quantity": draw(QUANTITY),
                "valid_from": start,
                "valid_to": start + timedelta(days=draw(st.integers(0, 1000))),
                "lead_days": draw(DAYS),
                "delivery_warehouse_id": draw(st.sampled_from(["WH-CENTRAL", "WH-WD"])),
            }
        )
    return rows


def round_trip(kind: CatalogKind, rows: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    written = [
        row | {"unit": CONTEXT.materials[row["material_code"]].unit}
        if "material_code" in row
        else row
        for row in rows
    ]
    content = write_catalog(kind, written, "csv" if fmt == "csv" else "xlsx")
    result = parse_sheet(kind, read_sheet(content, f"export.{fmt}"), CONTEXT)
    assert [p.text for p in result.problems] == []
    return [r.values for r in result.rows]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@settings(max_examples=30, deadline=None)
@given(rows=material_rows())
def test_materials_survive_export_and_import(fmt: str, rows: list[dict[str, Any]]) -> None:
    assert round_trip(CatalogKind.MATERIALS, rows, fmt) == rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@settings(max_examples=30, deadline=None)
@given(rows=agreement_rows())
def test_agreements_survive_export_and_import(fmt: str, rows: list[dict[str, Any]]) -> None:
    assert round_trip(CatalogKind.AGREEMENTS, rows, fmt) == rows
