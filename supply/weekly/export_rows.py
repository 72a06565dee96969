"""The plan lines as the exports' rows, in one pass.

`export_rows` gives each plan line its names beside its codes (`PLAN_COLUMNS`); `split_lines`
goes over those rows once for every export (`supply.weekly.export`), each row with what the
exports show of it worked out once (`shown`: the words for its codes, its unit price and amount
to the fen, its outcome and priority), and gives each export its rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from supply.core.money import line_amount
from supply.labels import (
    OUTCOME_ZH,
    cause_label,
    emergency_cause_label,
    kind_label,
    project_type_label,
)
from supply.projects.models import PRIORITY_WEIGHT, PRIORITY_ZH, REPLENISHMENT_WEIGHT, Priority
from supply.weekly.inputs import RunInputs
from supply.weekly.lines import LineRow

PLAN_COLUMNS = [
    "kind", "demand", "project_id", "project_name", "project_type", "material", "material_name",
    "unit", "quantity", "source_id", "warehouse_id", "warehouse_name", "supplier", "unit_cost",
    "arrival", "need_by", "late_days", "reason", "reason_zh", "cause", "emergency_cause",
    "replenish_warehouse_id", "voltage_class", "priority",
]  # fmt: skip
Row = Mapping[str, Any]
# The demand's weight back to its project's priority (the province weighs lines by it).
REPLENISHMENT = "replenishment"
WEIGHT_PRIORITY = {w: p.value for p, w in PRIORITY_WEIGHT.items()} | {
    REPLENISHMENT_WEIGHT: REPLENISHMENT
}


def export_rows(lines: list[LineRow], read: RunInputs) -> list[dict[str, Any]]:
    """The plan lines as the exports' rows (`PLAN_COLUMNS`), with names beside the codes."""
    suppliers = {sid: ref.supplier for sid, ref in read.problem.sources.items()}
    rows = []
    for line in lines:
        name, unit = read.materials.get(line.material_code, ("", ""))
        demand = read.problem.demands.get(line.demand_key)
        rows.append(
            {
                "kind": line.kind,
                "demand": line.demand_key,
                "project_id": line.project_id or "",
                "project_name": read.project_names.get(line.project_id or "", ""),
                "project_type": read.project_types.get(line.project_id or "", "replenishment"),
                "material": line.material_code,
                "material_name": name,
                "unit": unit,
                "quantity": line.quantity,
                "source_id": line.source_id,
                "warehouse_id": line.warehouse_id or "",
                "warehouse_name": read.warehouses.get(line.warehouse_id or "", ""),
                "supplier": suppliers.get(line.source_id, ""),
                "unit_cost": line.unit_cost,
                "arrival": line.arrival,
                "need_by": line.need_by,
                "late_days": line.late_days,
                "reason": line.reason,
                "reason_zh": line.reason_zh,
                "cause": line.cause,
                "emergency_cause": line.emergency_cause,
                "replenish_warehouse_id": line.replenish_warehouse_id,
                "voltage_class": demand.voltage_class if demand else "",
                "priority": WEIGHT_PRIORITY.get(demand.weight, "") if demand else "",
            }
        )
    return rows


# The words for codes, each worked out once per code (a week has a few dozen codes, and its
# lists some 100,000 cells that show one).
_type_label = lru_cache(maxsize=256)(project_type_label)
_kind_label = lru_cache(maxsize=256)(kind_label)
_cause_label = lru_cache(maxsize=256)(cause_label)
_emergency_label = lru_cache(maxsize=256)(emergency_cause_label)

_BLANK = dict.fromkeys(PLAN_COLUMNS)


def shown(line: Row) -> dict[str, Any]:
    """A plan line (`PLAN_COLUMNS`) with the values the exports show that are not its own:
    the project (or the reserve replenished), the words for its codes, its unit price and
    amount (none for an unmet rest), its outcome (if late or unmet) and priority."""
    kind = line["kind"]
    return {
        **_BLANK,
        **line,
        "project_label": line["project_name"] or _replenishing(line),
        "type_label": _type_label(line["project_type"]),
        "source_label": _kind_label(kind),
        "price": None if kind == "unmet" else line["unit_cost"],
        "amount": _amount(line),
        "cause_label": _cause_label(line["cause"]),
        "emergency_label": _emergency_label(line["emergency_cause"]),
        "outcome_label": _outcome(line),
        "priority_label": priority_label(line.get("priority") or ""),
        "voltage_class": line.get("voltage_class") or "",
    }


def _replenishing(row: Row) -> str:
    warehouse = row.get("replenish_warehouse_id")
    return f"补库 {warehouse}" if warehouse else ""


def _amount(row: Row) -> Decimal | None:
    if row["kind"] == "unmet":
        return None
    return _line_amount(Decimal(row["unit_cost"]), int(row["quantity"]))


@lru_cache(maxsize=1 << 16)
def _line_amount(unit_cost: Decimal, quantity: int) -> Decimal:
    # A week repeats its few prices and quantities: each amount is worked out once.
    return line_amount(unit_cost, quantity)


def priority_label(value: str) -> str:
    """A line's priority as the requirement plan writes it (一般, 市级重点, 省级重点, 补库)."""
    if value == REPLENISHMENT:
        return "补库"
    return PRIORITY_ZH[Priority(value)] if value in Priority._value2member_map_ else ""


def _outcome(row: Row) -> str:
    outcome = "unmet" if row["kind"] == "unmet" else "late"
    return f"{OUTCOME_ZH[outcome]} {outcome}"


@dataclass
class ExportRows:
    """The plan lines each export lists, in plan order (`split_lines`)."""

    agreement: list[Row] = field(default_factory=list)  # the plan's, then those promised
    stock: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))  # by warehouse
    emergency: list[Row] = field(default_factory=list)  # the plan's, then those promised
    late_or_unmet: list[Row] = field(default_factory=list)
    replenishment: list[Row] = field(default_factory=list)
    projects: list[Row] = field(default_factory=list)  # every line of a project


def split_lines(lines: Iterable[Row], promised: Iterable[Row] = ()) -> ExportRows:
    """One pass over the plan lines for every export, each line with what the exports show
    (`shown`); the `promised` rows (agreement and emergency supply promised to urgent requests)
    go to the requirement plan and the emergency list only."""
    rows = ExportRows()
    for line in lines:
        row = shown(line)
        kind = row["kind"]
        if kind == "agreement":
            rows.agreement.append(row)
        elif kind == "emergency":
            rows.emergency.append(row)
        elif kind in ("reserve", "consignment"):
            rows.stock[str(row["warehouse_id"])].append(row)
        if kind == "unmet" or row["late_days"] > 0:
            rows.late_or_unmet.append(row)
        if row.get("replenish_warehouse_id"):
            rows.replenishment.append(row)
        if row["project_id"]:
            rows.projects.append(row)
    for row in map(shown, promised):
        if row["kind"] == "agreement":
            rows.agreement.append(row)
        elif row["kind"] == "emergency":
            rows.emergency.append(row)
    return rows
