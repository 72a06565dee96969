"""A what-if beside its base: the KPIs of each plan, measure by measure, and the lines whose
source or arrival changed, with the changes that touched them and the engine's reasons. Pure.

The KPIs are the weekly run's (`supply.weekly.kpis`): lines and value on time, late and unmet,
spend by source, reserve below quota. The lines are the weekly run's plan lines
(`supply.weekly.lines.plan_lines`), grouped by demand: a line changed when the sources, the
quantities from each or the arrivals differ, or when its unmet rest does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from optimizer import Plan
from supply.availability import SupplyState
from supply.planning import MatchingProblem
from supply.weekly.kpis import outcome_kpis, spend_kpis
from supply.weekly.lines import LineRow, plan_lines
from supply.weekly.models import LineKind
from supply.whatif.models import KpiRow, LineChange, LineSide, SidePart
from supply.whatif.world import Effect

OUTCOME_RANK = {"on_time": 0, "late": 1, "unmet": 2}
# (key, 中文, English, unit, +1 if more is better else -1)
MEASURES: tuple[tuple[str, str, str, str, int], ...] = (
    ("on_time_lines", "按时行数", "lines on time", "count", 1),
    ("late_lines", "延迟行数", "lines late", "count", -1),
    ("unmet_lines", "未满足行数", "lines unmet", "count", -1),
    ("on_time_value", "按时金额", "value on time", "money", 1),
    ("late_value", "延迟金额", "value late", "money", -1),
    ("unmet_value", "未满足金额", "value unmet", "money", -1),
    ("spend", "支出合计", "spend", "money", -1),
    ("spend.reserve", "实物储备支出", "spend on reserve", "money", 0),
    ("spend.consignment", "供应商寄存支出", "spend on consignment", "money", 0),
    ("spend.agreement", "协议库存支出", "spend on agreement stock", "money", 0),
    ("spend.emergency", "紧急采购支出", "spend on emergency procurement", "money", -1),
    ("below_quota_units", "低于定额数量", "units below quota", "count", -1),
    ("below_quota_positions", "低于定额仓位", "positions drawn below quota", "count", -1),
    ("penalty", "低于定额罚金（不实际支付）", "below-quota penalty (not paid)", "money", -1),
    ("unmet_weighted", "加权缺口（数量）", "unmet, weighted (units)", "count", -1),
    ("lateness_weighted", "加权延迟（数量×天）", "lateness, weighted (unit-days)", "count", -1),
)


def plan_kpis(
    problem: MatchingProblem,
    plan: Plan,
    *,
    prices: Mapping[str, Decimal],
    project_types: Mapping[str, str],
) -> dict[str, Any]:
    """The weekly run's KPIs of a plan: outcomes (total and by project type), spend by source,
    reserve below quota, the objective."""
    kind_of = {k: project_types.get(d.project_id, "?") for k, d in problem.demands.items()}
    outcomes = outcome_kpis(problem, plan, prices=prices, group=kind_of)
    return {
        "totals": outcomes.pop("total"),
        "by_project_type": dict(sorted(outcomes.items())),
        **spend_kpis(problem, plan),
        "objective": plan.objective.model_dump(),
    }


def _measure(kpis: Mapping[str, Any], key: str) -> float:
    below = kpis["reserve_below_quota"]
    if key.startswith("spend."):
        return float(kpis["by_source"].get(key.split(".", 1)[1], {}).get("spend", 0))
    found = {
        "spend": kpis["spend"],
        "below_quota_units": below["units_below_after"],
        "below_quota_positions": below["positions_drawn_below"],
        "penalty": below["penalty"],
        "unmet_weighted": kpis["objective"]["unmet_weighted"],
        "lateness_weighted": kpis["objective"]["lateness_weighted"],
    }
    return float(found[key] if key in found else kpis["totals"][key])


def compare_kpis(base: Mapping[str, Any], scenario: Mapping[str, Any]) -> list[KpiRow]:
    """Each measure, base beside what-if, the difference, and whether it is better or worse."""
    rows = []
    for key, zh, en, unit, sign in MEASURES:
        mine, theirs = _measure(scenario, key), _measure(base, key)
        delta = round(mine - theirs, 2)
        verdict = (
            "same"
            if delta == 0
            else "changed"
            if sign == 0
            else "better"
            if delta * sign > 0
            else "worse"
        )
        rows.append(
            KpiRow(
                key=key,
                label=zh,
                label_en=en,
                unit=unit,
                base=theirs,
                scenario=mine,
                delta=delta,
                verdict=verdict,
            )
        )
    return rows


@dataclass(frozen=True)
class Side:
    """One side of the comparison: a problem, its plan and its lines."""

    problem: MatchingProblem
    plan: Plan
    lines: list[LineRow]


def side(
    problem: MatchingProblem,
    plan: Plan,
    supply: SupplyState,
    catalogued: Collection[str],
    *,
    emergency_for_catalog_materials: bool,
) -> Side:
    """A plan as the weekly run's lines."""
    rows = plan_lines(
        problem,
        plan,
        supply,
        catalogued,
        emergency_for_catalog_materials=emergency_for_catalog_materials,
    )
    return Side(problem, plan, rows)


def _line_side(rows: Sequence[LineRow]) -> LineSide:
    parts = [
        SidePart(
            source_id=r.source_id,
            kind=r.kind,
            quantity=r.quantity,
            arrival=r.arrival,
            late_days=r.late_days,
        )
        for r in rows
        if r.kind != LineKind.UNMET
    ]
    unmet = sum(r.quantity for r in rows if r.kind == LineKind.UNMET)
    late = max((p.late_days for p in parts), default=0)
    outcome = "unmet" if unmet or not parts else "late" if late else "on_time"
    arrivals = [p.arrival for p in parts if p.arrival is not None]
    return LineSide(
        outcome=outcome,
        parts=sorted(parts, key=lambda p: (p.source_id, str(p.arrival))),
        unmet=unmet,
        arrival=max(arrivals, default=None),
        late_days=late,
    )


def _signature(side: LineSide) -> tuple[Any, ...]:
    return (tuple((p.source_id, p.quantity, p.arrival) for p in side.parts), side.unmet)


def changed_lines(
    base: Side,
    scenario: Side,
    effects: Sequence[Effect],
    *,
    project_names: Mapping[str, str],
    materials: Mapping[str, tuple[str, str]],
) -> list[LineChange]:
    """The lines whose source, quantity from a source, arrival or unmet rest changed, worst
    first: new lines, then worse, then changed, then better; each with the changes that touched
    its sources (what they did) and the engine's reason in the what-if."""
    before: dict[str, list[LineRow]] = defaultdict(list)
    after: dict[str, list[LineRow]] = defaultdict(list)
    for row in base.lines:
        before[row.demand_key].append(row)
    for row in scenario.lines:
        after[row.demand_key].append(row)
    found = []
    for key, item in scenario.problem.demands.items():
        new = _line_side(after[key])
        old = _line_side(before[key]) if key in base.problem.demands else None
        if old is not None and _signature(old) == _signature(new):
            continue
        touched = {p.source_id for p in new.parts} | (
            {p.source_id for p in old.parts} if old else set()
        )
        mine = [e for e in effects if e.touches(key, touched)]
        notes_zh, notes_en = [], []
        for e in mine:
            what = [e.sources[s] for s in sorted(touched & e.sources.keys())]
            notes_zh.append(f"变更 {e.number}：{e.zh}" + "".join(f"；{zh}" for zh, _ in what))
            notes_en.append(f"change {e.number}: {e.en}" + "".join(f"; {en}" for _, en in what))
        reason = next((r for r in after[key] if r.reason_zh or r.reason), None)
        found.append(
            LineChange(
                demand=key,
                project_id=item.project_id,
                project_name=project_names.get(item.project_id, ""),
                material=item.material,
                material_name=materials.get(item.material, ("", ""))[0],
                quantity=item.quantity,
                need_by=item.need_by,
                base=old,
                scenario=new,
                verdict=_verdict(old, new),
                changes=[e.number for e in mine],
                note="。".join(notes_zh) if notes_zh else "因其他行的调整而变化",
                note_en=". ".join(notes_en) if notes_en else "moved as other lines moved",
                reason=reason.reason_zh if reason else "",
                reason_en=reason.reason if reason else "",
                cause=reason.cause if reason else "",
            )
        )
    order = {"new": 0, "worse": 1, "changed": 2, "better": 3}
    found.sort(key=lambda c: (order[c.verdict], c.demand))
    return found


def _verdict(old: LineSide | None, new: LineSide) -> str:
    if old is None:
        return "new"
    rank = OUTCOME_RANK[new.outcome] - OUTCOME_RANK[old.outcome]
    if rank == 0:
        rank = (new.late_days - old.late_days) or (new.unmet - old.unmet)
    return "worse" if rank > 0 else "better" if rank < 0 else "changed"


def effect_json(effect: Effect) -> dict[str, Any]:
    """What a change did, as the scenario keeps it."""
    return {
        "number": effect.number,
        "text": effect.zh,
        "text_en": effect.en,
        "sources": list(dict.fromkeys(zh for zh, _ in effect.sources.values())),
        "sources_en": list(dict.fromkeys(en for _, en in effect.sources.values())),
        "added": len(effect.added),
        "idle": effect.idle_zh,
        "idle_en": effect.idle_en,
    }
