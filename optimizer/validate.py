"""Validate a matching instance: the JSON shape, the rules that span objects, then magnitudes.

Every problem becomes one `InstanceError` naming the offending id and field; nothing raises for
bad content. A demand that no source can serve is *not* an error (it is unmet, with its reason).

Magnitudes (`magnitude_errors`, `oversized`): the engine is exact in integers, so a number it
cannot keep exact is an error of the instance, not a crash of the solve. Quantities once scaled
must stay below 2⁵³ (they are summed in float64), each alone and a material's demand in all;
costs once scaled, times the nodes of their material's network + 1, below 2⁶¹ (the flow
engine's headroom, `network.EXACT_LIMIT`) — the weight on unmet units, weight × late days, unit
costs, the below-quota penalty and the floor penalties (their material's largest, plus the
below-quota penalty where both are on), on the arcs that can carry flow; arrivals no later than
9999-12-31.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from optimizer.contract import (
    HIGH_VOLTAGE,
    LOW_VOLTAGE_ONLY_KINDS,
    Demand,
    Instance,
    InstanceError,
    IsoDate,
    Policy,
    Source,
    Transport,
    UnreadableInput,
    _compact,
)
from optimizer.model import RESERVE, floor_shift, source_capacity
from optimizer.network import (
    EXACT_LIMIT,
    EXACT_SUM,
    Matching,
    Scale,
    build_matching,
)


def parse_instance(text: str | bytes) -> Instance | list[InstanceError]:
    """Parse JSON text and validate it; raise `UnreadableInput` only if it is not JSON."""
    parsed = parse_rules(text)
    if isinstance(parsed, list):
        return parsed
    return magnitude_errors(parsed) or parsed


def parse_rules(text: str | bytes) -> Instance | list[InstanceError]:
    """Parse JSON text and check its shape and the rules that span objects, not magnitudes
    (`solve` checks those as it builds the network: once, not twice)."""
    shaped, errors = _shape(text)
    # Without a usable transport table, every pair would be "missing": say it once.
    table_broken = any(e.id == "instance" and e.field in ("", "transport") for e in errors)
    errors += cross_check(shaped, transport=not table_broken)
    return errors if errors else shaped


def validate_instance(raw: Any) -> Instance | list[InstanceError]:
    """Validate an already decoded document against every rule of the contract."""
    return parse_instance(json.dumps(raw, allow_nan=True))


def load_json(text: str | bytes) -> Any:
    """Decode JSON text, turning a syntax error into `UnreadableInput` with a one-line message."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableInput(f"not valid JSON: {exc}") from None


def cross_check(instance: Instance, *, transport: bool = True) -> list[InstanceError]:
    """Check the rules that involve more than one field or object."""
    return [
        *_duplicate_ids(instance),
        *_source_rules(instance),
        *_transport_rules(instance),
        *(_missing_transport(instance) if transport else []),
    ]


class _Header(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: Literal[1]
    plan_date: IsoDate
    policy: Policy = Policy()


_SECTIONS: dict[str, type[BaseModel]] = {
    "demands": Demand,
    "sources": Source,
    "transport": Transport,
}
_EMPTY = Instance.model_construct(
    version=1, plan_date=date.min, demands=[], sources=[], transport=[], policy=Policy()
)


def _shape(text: str | bytes) -> tuple[Instance, list[InstanceError]]:
    """Validate the shape (the JSON Schema); return what is valid and one error per bad field.

    The whole document is validated at once in pydantic-core, in JSON mode. Only if that fails
    is it decoded and checked item by item: failed items are left out, so the rules that span
    objects can still be checked on the rest and every problem is reported in one pass.
    """
    try:
        return Instance.model_validate_json(text), []
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise UnreadableInput(f"not valid JSON: {exc.errors()[0]['msg']}") from None
    raw = load_json(text)
    if not isinstance(raw, dict):
        return _EMPTY, [InstanceError(id="instance", field="", message="must be a JSON object")]
    errors: list[InstanceError] = []
    try:
        header = _Header.model_validate_json(json.dumps(raw))
    except ValidationError as exc:
        errors += [_named(raw, err) for err in exc.errors(include_url=False)]
        header = _Header.model_construct(version=1, plan_date=date.min, policy=Policy())
    parts: dict[str, list[Any]] = {}
    for section, model in _SECTIONS.items():
        items = raw.get(section)
        parts[section] = []
        if not isinstance(items, list):
            got = (
                "is required"
                if section not in raw
                else f"must be a list, got {type(items).__name__}"
            )
            errors.append(InstanceError(id="instance", field=section, message=got))
            continue
        for index, item in enumerate(items):
            try:
                parts[section].append(model.model_validate_json(json.dumps(item, allow_nan=True)))
            except ValidationError as exc:
                errors += [
                    _named(raw, {**err, "loc": (section, index, *err["loc"])})
                    for err in exc.errors(include_url=False)
                ]
    instance = Instance.model_construct(
        version=1,
        plan_date=header.plan_date,
        policy=header.policy,
        demands=parts["demands"],
        sources=parts["sources"],
        transport=parts["transport"],
    )
    return instance, errors


_MESSAGES = {
    "missing": "is required",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "float_type": "must be a number, got {input!r}",
    "float_parsing": "must be a number, got {input!r}",
    "finite_number": "must be a finite number, got {input!r}",
    "int_type": "must be a whole number, got {input!r}",
    "int_from_float": "must be a whole number, got {input!r}",
    "string_type": "must be a string, got {input!r}",
    "string_too_short": "must not be empty",
    "greater_than": "must be greater than {gt}, got {input!r}",
    "greater_than_equal": "must be at least {ge}, got {input!r}",
    "date_type": "must be a date written YYYY-MM-DD, got {input!r}",
    "date_parsing": "must be a real date written YYYY-MM-DD, got {input!r}",
    "date_from_datetime_parsing": "must be a real date written YYYY-MM-DD, got {input!r}",
    "list_type": "must be a list, got {input!r}",
}


def _named(raw: dict[str, Any], err: Any) -> InstanceError:
    loc = err["loc"]
    template = _MESSAGES.get(err["type"])
    if template is not None:
        ctx = {k: _compact(v) for k, v in (err.get("ctx") or {}).items()}
        message = template.format(input=err.get("input"), **ctx)
    elif err["type"] == "literal_error":
        message = f"{err['msg'][0].lower()}{err['msg'][1:]}, got {err.get('input')!r}"
    else:
        message = err["msg"]
    if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
        section, index = loc[0], loc[1]
        items = raw.get(section)
        item = items[index] if isinstance(items, list) and index < len(items) else None
        return InstanceError(
            id=_describe(section, index, item),
            field=".".join(str(p) for p in loc[2:]),
            message=message,
        )
    return InstanceError(id="instance", field=".".join(str(p) for p in loc), message=message)


def _describe(section: str, index: int, item: Any) -> str:
    if isinstance(item, dict):
        if section == "transport":
            return f"transport {item.get('from')}->{item.get('to')}"
        if isinstance(item.get("id"), str) and item["id"]:
            return str(item["id"])
    return f"{section}[{index}]"


def _duplicate_ids(instance: Instance) -> list[InstanceError]:
    errors = []
    for section, items in (("demand", instance.demands), ("source", instance.sources)):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                errors.append(
                    InstanceError(id=item.id, field="id", message=f"duplicate {section} id")
                )
            seen.add(item.id)
    return errors


def _source_rules(instance: Instance) -> list[InstanceError]:
    errors = []
    for s in instance.sources:
        if s.quantity is None and s.kind != "emergency":
            errors.append(
                InstanceError(
                    id=s.id,
                    field="quantity",
                    message=f"null (unlimited) is allowed for emergency sources only, not {s.kind}",
                )
            )
        if s.quantity is not None and s.floor > s.quantity:
            # Refused, not clamped: a floor past the stock can never be met, and clamping it
            # would hide a caller's mistake (an agreement line's band is 80-120 % of one
            # estimate, so its floor is below its quantity).
            errors.append(
                InstanceError(
                    id=s.id,
                    field="floor",
                    message=f"{_show(s.floor)} is more than the quantity {_show(s.quantity)}: "
                    "a floor above the quantity can never be met; give at most the quantity",
                )
            )
        if s.quota and s.kind != "reserve":
            errors.append(
                InstanceError(
                    id=s.id, field="quota", message=f"quota applies to reserve only, not {s.kind}"
                )
            )
    return errors


def _transport_rules(instance: Instance) -> list[InstanceError]:
    errors = []
    days: dict[tuple[str, str], int] = {}
    for t in instance.transport:
        pair = (t.from_, t.to)
        name = f"transport {t.from_}->{t.to}"
        if t.from_ == t.to and t.days != 0:
            errors.append(
                InstanceError(
                    id=name, field="days", message=f"same location must be 0, got {t.days}"
                )
            )
        elif pair in days and days[pair] != t.days:
            errors.append(
                InstanceError(
                    id=name,
                    field="days",
                    message=f"given twice with different days ({days[pair]} and {t.days})",
                )
            )
        days.setdefault(pair, t.days)
    return errors


def _missing_transport(instance: Instance) -> list[InstanceError]:
    """One error per location pair that an eligible match needs but the instance lacks."""
    known = {(t.from_, t.to) for t in instance.transport}
    locations = {d.location for d in instance.demands} | {s.location for s in instance.sources}
    if all((a, b) in known for a in locations for b in locations if a != b):
        return []  # a complete table: nothing can be missing
    # material -> demand location -> (first demand there, first low-voltage demand there)
    places: dict[str, dict[str, list[str | None]]] = defaultdict(dict)
    for d in instance.demands:
        first = places[d.material].setdefault(d.location, [d.id, None])
        if d.voltage_class not in HIGH_VOLTAGE and first[1] is None:
            first[1] = d.id
    missing: dict[tuple[str, str], str] = {}
    for s in instance.sources:
        low_only = s.kind in LOW_VOLTAGE_ONLY_KINDS
        for location, (any_id, low_id) in places.get(s.material, {}).items():
            demand_id = low_id if low_only else any_id
            pair = (s.location, location)
            if demand_id is None or location == s.location or pair in known:
                continue
            missing.setdefault(
                pair,
                f"missing: source {s.id} ({s.material}) at {s.location} can serve demand "
                f"{demand_id} at {location}; add a transport row with its days",
            )
    return [
        InstanceError(id=f"transport {a}->{b}", field="days", message=message)
        for (a, b), message in missing.items()
    ]


# --- magnitudes -------------------------------------------------------------------------------

Problem = tuple[str, InstanceError]  # the material a number belongs to ("" for none), the error
_T = TypeVar("_T")
LAST_DAY = date.max.toordinal()


def magnitude_errors(instance: Instance) -> list[InstanceError]:
    """The numbers of a valid instance too large for the engine to plan exactly, one error each
    naming the id and field (the module docstring says which)."""
    found = checked_matching(instance)
    return found if isinstance(found, list) else []


def oversized(instance: Instance) -> dict[str, list[InstanceError]]:
    """`magnitude_errors` by material: the planning layer leaves such a material's lines out
    and says why; errors of no one material (the policy, a transport row) are under "". An
    instance that breaks another rule (`cross_check`) has none: its errors are those."""
    if cross_check(instance):
        return {}
    problems, _ = _magnitudes(instance)
    grouped: dict[str, list[InstanceError]] = defaultdict(list)
    for material, error in problems:
        grouped[material].append(error)
    return dict(grouped)


def checked_matching(instance: Instance) -> Matching | list[InstanceError]:
    """The valid instance as arrays (`network.build_matching`), or its magnitude errors."""
    problems, matching = _magnitudes(instance)
    if problems or matching is None:
        return [error for _, error in problems]
    return matching


def _magnitudes(instance: Instance) -> tuple[list[Problem], Matching | None]:
    scale = Scale.of(instance)
    problems = _value_problems(instance, scale)
    if problems:  # the arrays could not even be made
        return problems, None
    matching = build_matching(instance, scale)
    return _network_problems(matching), matching


def _show(value: float) -> str:
    if abs(value) >= 1e15:  # past what a float holds to the unit: say it in powers of ten
        return f"{value:.6g}"
    shown = _compact(value)
    return f"{shown:,}" if isinstance(shown, int) else f"{shown:,.6g}"


def _past(items: Sequence[_T], value: Callable[[_T], float], factor: int, limit: int) -> list[_T]:
    """The items whose value times `factor` reaches `limit` (the maximum is looked at first:
    a week holds tens of thousands of numbers and almost never one too large)."""
    if not items or max(map(value, items)) * factor < limit:
        return []
    return [item for item in items if value(item) * factor >= limit]


def _value_problems(instance: Instance, scale: Scale) -> list[Problem]:
    """Numbers too large on their own, once scaled to integers."""
    q, money = scale.quantity, scale.money

    def error(material: str, ident: str, field: str, value: float, most: float) -> Problem:
        return material, InstanceError(
            id=ident,
            field=field,
            message=f"{_show(value)} is too large to plan exactly (at most {_show(most)} here)",
        )

    found: list[Problem] = []
    most_quantity = (EXACT_SUM - 1) / q
    most_cost = (EXACT_LIMIT - 1) / money
    demands, sources = instance.demands, instance.sources
    for d in _past(demands, lambda d: d.quantity, q, EXACT_SUM):
        found.append(error(d.material, d.id, "quantity", d.quantity, most_quantity))
    for d in _past(demands, lambda d: d.weight, scale.weight, EXACT_LIMIT):
        found.append(error(d.material, d.id, "weight", d.weight, (EXACT_LIMIT - 1) / scale.weight))
    for s in _past(sources, lambda s: s.quantity or 0, q, EXACT_SUM):
        found.append(error(s.material, s.id, "quantity", s.quantity or 0, most_quantity))
    for s in _past(sources, lambda s: s.quota, q, EXACT_SUM):
        found.append(error(s.material, s.id, "quota", s.quota, most_quantity))
    for s in _past(sources, lambda s: s.floor, q, EXACT_SUM):
        found.append(error(s.material, s.id, "floor", s.floor, most_quantity))
    for s in _past(sources, lambda s: s.unit_cost, money, EXACT_LIMIT):
        found.append(error(s.material, s.id, "unit_cost", s.unit_cost, most_cost))
    for s in _past(sources, lambda s: s.floor_penalty, money, EXACT_LIMIT):
        found.append(error(s.material, s.id, "floor_penalty", s.floor_penalty, most_cost))
    penalty = instance.policy.reserve_below_quota_penalty
    if penalty * money >= EXACT_LIMIT:
        found.append(
            error("", "instance", "policy.reserve_below_quota_penalty", penalty, most_cost)
        )
    latest = max((s.ready.toordinal() for s in sources), default=0)
    for t in _past(instance.transport, lambda t: t.days, 1, LAST_DAY - latest + 1):
        found.append(
            (
                "",
                InstanceError(
                    id=f"transport {t.from_}->{t.to}",
                    field="days",
                    message=f"{t.days:,} days would put arrivals past {date.max}",
                ),
            )
        )
    return found


def _network_problems(m: Matching) -> list[Problem]:
    """Per material network: its demand in all, and each tier's largest cost on an arc that can
    carry flow, times the network's nodes + 1 (as `lexmin` checks them)."""
    n = len(m.materials)
    n_demands = np.bincount(m.d_material, minlength=n)
    nodes = n_demands + np.bincount(m.s_material, minlength=n) + 1  # demands, sources, sink
    factor = nodes + 1
    has_demand = n_demands > 0
    found: list[Problem] = []
    demand_ids = [d.id for d in m.instance.demands]
    source_ids = [s.id for s in m.instance.sources]
    q, w, money = m.scale.quantity, m.scale.weight, m.scale.money

    total = np.bincount(m.d_material, weights=m.d_qty, minlength=n)
    for k in np.flatnonzero(has_demand & (total >= EXACT_SUM)).tolist():
        mine = np.flatnonzero(m.d_material == k)
        d = int(mine[np.argmax(m.d_qty[mine])])
        found.append(
            (
                m.materials[k],
                InstanceError(
                    id=demand_ids[d],
                    field="quantity",
                    message=f"the demands of {m.materials[k]} add up to "
                    f"{_show(float(total[k]) / q)}, too large to plan exactly (below "
                    f"{_show((EXACT_SUM - 1) / q)} here)",
                ),
            )
        )
    if found:  # the capacities below are made from these sums
        return found

    def largest(values: np.ndarray, material: np.ndarray) -> np.ndarray:
        """Per material, the largest value (-1 where none)."""
        top = np.full(n, -1.0)
        np.maximum.at(top, material, values.astype(np.float64))
        return top

    def flagged(top: np.ndarray) -> list[int]:
        return np.flatnonzero(has_demand & (top * factor >= EXACT_LIMIT)).tolist()

    def say(k: int, ident: str, field: str, what: str, most: float) -> None:
        found.append(
            (
                m.materials[k],
                InstanceError(
                    id=ident,
                    field=field,
                    message=f"{what} is too large to plan exactly in the network of "
                    f"{m.materials[k]} ({int(nodes[k]):,} nodes: at most {_show(most)} here)",
                ),
            )
        )

    weights = m.d_weight.astype(np.float64)
    for k in flagged(largest(weights, m.d_material)):
        mine = np.flatnonzero(m.d_material == k)
        d = int(mine[np.argmax(weights[mine])])
        most = (EXACT_LIMIT - 1) // int(factor[k]) / w
        say(k, demand_ids[d], "weight", f"weight {_show(int(m.d_weight[d]) / w)}", most)

    capacity = source_capacity(m)
    live = np.flatnonzero(np.minimum(m.d_qty[m.a_demand], capacity[m.a_source]) > 0)
    arc_material = m.d_material[m.a_demand[live]]
    lateness = weights[m.a_demand[live]] * m.a_late[live]
    for k in flagged(largest(lateness, arc_material)):
        mine = np.flatnonzero(arc_material == k)
        arc = int(live[mine[np.argmax(lateness[mine])]])
        d, s = int(m.a_demand[arc]), int(m.a_source[arc])
        late = int(m.a_late[arc])
        most = (EXACT_LIMIT - 1) // int(factor[k]) / w
        what = f"weight {_show(int(m.d_weight[d]) / w)} × {late:,} days late from {source_ids[s]}"
        say(k, demand_ids[d], "weight", what, most)
    costs = m.s_cost[m.a_source[live]].astype(np.float64)
    for k in flagged(largest(costs, arc_material)):
        mine = np.flatnonzero(arc_material == k)
        s = int(m.a_source[live[mine[np.argmax(costs[mine])]]])
        most = (EXACT_LIMIT - 1) // int(factor[k]) / money
        say(k, source_ids[s], "unit_cost", f"unit cost {_show(int(m.s_cost[s]) / money)}", most)
    charged = np.zeros(n, dtype=bool)  # materials with reserve below its quota, penalised
    if m.penalty:
        below = (m.s_kind == RESERVE) & (np.minimum(m.s_qty, m.s_quota) > 0)
        charged[m.s_material[below]] = True
        top = np.where(charged, float(m.penalty), -1.0)
        for k in flagged(top):
            most = (EXACT_LIMIT - 1) // int(factor[k]) / money
            what = f"the below-quota penalty {_show(m.penalty / money)}"
            say(k, "instance", "policy.reserve_below_quota_penalty", what, most)
    # Floors shift every path of their material by its largest floor penalty P (`model`): the
    # source -> sink arcs cost up to P, or P + the below-quota penalty.
    shift = floor_shift(m, capacity).astype(np.float64)
    penalty = np.where(charged, float(m.penalty), 0.0)
    too_large = (shift * factor >= EXACT_LIMIT) | (
        ((shift + penalty) * factor >= EXACT_LIMIT) & (penalty * factor < EXACT_LIMIT)
    )
    for k in np.flatnonzero(has_demand & (shift > 0) & too_large).tolist():
        mine = np.flatnonzero(m.s_material == k)
        live = np.minimum(m.s_floor[mine], capacity[mine]) > 0
        s = int(mine[np.argmax(np.where(live, m.s_floor_penalty[mine], -1))])
        most = (EXACT_LIMIT - 1) // int(factor[k]) / money
        what = f"floor penalty {_show(int(m.s_floor_penalty[s]) / money)}"
        if penalty[k]:
            what += f" (with the below-quota penalty {_show(m.penalty / money)})"
            most -= m.penalty / money
        say(k, source_ids[s], "floor_penalty", what, most)
    # One error per number, however many tiers it is in (a weight: unmet and lateness).
    first: dict[tuple[str, str], Problem] = {}
    for problem in found:
        first.setdefault((problem[1].id, problem[1].field), problem)
    return list(first.values())
