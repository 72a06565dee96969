"""Properties over generated instances, each checked against something other than the model."""

from __future__ import annotations

import copy
import itertools
import json
import random
from typing import Any

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimizer import (
    Plan,
    check_plan,
    lex_compare,
    parse_instance,
    solve,
    solve_document,
    validate_instance,
)
from optimizer.explain import explain
from optimizer.lexmin import lexmin_flow
from optimizer.model import RESERVE, floor_shift, material_models, source_capacity
from optimizer.network import MAX_DECIMALS, UNLIMITED, Matching, build_matching
from optimizer.solve import allocations, objective
from tests.optimizer.conftest import load
from tests.optimizer.reference import reference_tiers
from tests.optimizer.strategies import crowded_instances, floor_instances, instances
from tests.optimizer.truth import facts_of, false_statements, idle_stock

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Instances of the usual spread, crowded ones (same-day arrivals, reserve near its quota) and
# ones where floors decide (agreement lines with floors against cheaper lines, the same day).
SPREAD_OR_CROWDED = st.one_of(instances(8, 8), crowded_instances(), floor_instances())


def _checked(doc: dict[str, Any], method: str = "optimal") -> tuple[Any, Any]:
    instance = validate_instance(doc)
    assert not isinstance(instance, list), instance
    plan = solve_document(doc, method=method)  # type: ignore[arg-type]
    return plan, check_plan(instance, plan)


@FAST
@given(instances())
def test_every_optimal_plan_passes_the_checker(doc: dict[str, Any]) -> None:
    plan, report = _checked(doc)
    assert plan.status == "optimal"
    assert report.problems == []


@MANY
@given(SPREAD_OR_CROWDED)
def test_optimum_matches_an_independent_cp_sat_model(doc: dict[str, Any]) -> None:
    # Tiers equal, not just close: every generated number is whole or in cents.
    _, report = _checked(doc)
    reference = reference_tiers(doc)
    assert report.tiers() == reference, (report.tiers(), reference)
    floors = [s for s in doc["sources"] if s.get("floor") and s.get("floor_penalty")]
    event(f"sources with a floor: {min(len(floors), 3)}{'+' if len(floors) > 3 else ''}")


@FAST
@given(instances())
def test_optimal_is_never_worse_than_greedy_tier_by_tier(doc: dict[str, Any]) -> None:
    _, best = _checked(doc)
    _, greedy = _checked(doc, method="greedy")
    assert greedy.problems == []
    assert lex_compare(best.tiers(), greedy.tiers()) <= 0


@FAST
@given(instances(), st.integers(1, 30), st.data())
def test_adding_supply_never_increases_unmet(
    doc: dict[str, Any], extra: int, data: st.DataObject
) -> None:
    _, before = _checked(doc)
    more = copy.deepcopy(doc)
    if more["sources"] and data.draw(st.booleans()):
        target = data.draw(
            st.sampled_from([s for s in more["sources"] if s["quantity"] is not None] or [None])
        )
        if target is not None:
            target["quantity"] += extra
    else:
        d = data.draw(st.sampled_from(more["demands"]))
        more["sources"].append(
            {
                "id": "EXTRA",
                "kind": "agreement",
                "material": d["material"],
                "quantity": extra,
                "location": d["location"],
                "ready": "2026-12-31",
                "unit_cost": 1,
            }
        )
    _, after = _checked(more)
    assert after.unmet_weighted <= before.unmet_weighted


@FAST
@given(SPREAD_OR_CROWDED)
def test_staged_tiers_reach_the_same_optimum_as_combined(doc: dict[str, Any]) -> None:
    instance = validate_instance(doc)
    assert not isinstance(instance, list)
    for _, model in material_models(build_matching(instance)):
        problem = model.problem
        combined = lexmin_flow(problem)
        staged = lexmin_flow(problem, combine_limit=0)  # every tier its own stage
        assert staged.stages >= combined.stages
        assert [int(t @ staged.flow) for t in problem.tiers] == [
            int(t @ combined.flow) for t in problem.tiers
        ]


@MANY
@given(SPREAD_OR_CROWDED)
def test_the_models_tier_3_is_the_contracts_cost_shifted_by_a_constant(doc: dict[str, Any]) -> None:
    # docs/optimizer.md: per material, model cost − P · (its demand) + Σ floor_penalty · floor
    # is the contract's tier 3 of the flow, P the material's largest floor penalty (in use);
    # and reserve whose quota is above its stock pays the penalty on the difference whatever
    # the plan does (a constant the model leaves out).
    instance = validate_instance(doc)
    assert not isinstance(instance, list)
    m = build_matching(instance)
    capacity = source_capacity(m)
    shift = floor_shift(m, capacity)
    for k, model in material_models(m):
        flow = lexmin_flow(model.problem).flow
        model_cost = int(model.problem.tiers[2] @ flow)
        x = np.zeros(len(m.a_demand), dtype=np.int64)
        x[model.cover_arcs] = model.cover_flow(flow)
        mine = m.s_material == k
        used = np.bincount(m.a_source, weights=x, minlength=m.n_sources).astype(np.int64)
        reserve = mine & (m.s_kind == RESERVE)
        contract = int(m.s_cost[m.a_source] @ x)
        contract += m.penalty * int(np.maximum(0, m.s_quota - (m.s_qty - used))[reserve].sum())
        contract += int(m.s_floor_penalty[mine] @ np.maximum(0, m.s_floor - used)[mine])
        demand = int(m.d_qty[m.d_material == k].sum())
        constant = int(shift[k]) * demand - int(m.s_floor_penalty[mine] @ m.s_floor[mine])
        constant -= m.penalty * int(np.maximum(0, m.s_quota - m.s_qty)[reserve].sum())
        assert model_cost - constant == contract
        event(f"shift: {'on' if shift[k] else 'off'}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@FAST
@given(instances(), st.data())
def test_broken_instances_are_reported_never_crash(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    broken = copy.deepcopy(doc)
    section = data.draw(st.sampled_from(["demands", "sources", "transport"]))
    if broken[section]:
        item = data.draw(st.sampled_from(broken[section]))
        key = data.draw(st.sampled_from([*item.keys(), "extra"]))
        item[key] = data.draw(json_values)
    plan = solve_document(json.loads(json.dumps(broken, allow_nan=True)))
    if plan.status == "invalid":
        assert plan.errors and all(e.id and e.message for e in plan.errors)
    else:  # the change left a valid instance: its plan must pass the independent checker
        if plan.stats["rounded_input"]:  # finer than 10⁻⁶: the engine planned the rounded data
            broken = as_planned(broken)
        instance = parse_instance(json.dumps(broken, allow_nan=True).encode())
        assert not isinstance(instance, list)
        assert check_plan(instance, plan).feasible


ROUNDED_FIELDS = {
    "quantity",
    "quota",
    "floor",
    "unit_cost",
    "floor_penalty",
    "weight",
    "reserve_below_quota_penalty",
}


def as_planned(doc: dict[str, Any]) -> dict[str, Any]:
    """The instance as the engine plans it when its data is finer than it keeps (and says so,
    `rounded_input`): each quantity, weight and amount to MAX_DECIMALS places."""
    rounded = copy.deepcopy(doc)
    for item in [*rounded["demands"], *rounded["sources"], rounded.get("policy") or {}]:
        for key, value in item.items():
            if key in ROUNDED_FIELDS and isinstance(value, float):
                item[key] = round(value, MAX_DECIMALS)
    return rounded


@FAST
@given(json_values)
def test_arbitrary_json_is_invalid_not_a_crash(value: Any) -> None:
    plan = solve_document(value)
    assert plan.status == "invalid"
    assert plan.errors


def test_staged_path_is_exercised_on_the_medium_instance() -> None:
    instance = validate_instance(load("medium-400"))
    assert not isinstance(instance, list)
    three_stage = 0
    for _, model in material_models(build_matching(instance)):
        problem = model.problem
        staged = lexmin_flow(problem, combine_limit=0)
        combined = lexmin_flow(problem)
        three_stage += staged.stages == 3
        assert [int(t @ staged.flow) for t in problem.tiers] == [
            int(t @ combined.flow) for t in problem.tiers
        ]
    assert three_stage > 0


@MANY
@given(SPREAD_OR_CROWDED, st.sampled_from(["optimal", "greedy", "time-limited"]))
def test_every_reason_is_true_of_its_plan(doc: dict[str, Any], method: str) -> None:
    instance = validate_instance(doc)
    assert not isinstance(instance, list)
    if method == "time-limited":  # a clock ticking once a call: the first material is solved,
        ticks = itertools.count()  # the others fall to the greedy rule
        plan = solve(instance, time_limit=1.5, timer=lambda: float(next(ticks)))
    else:
        plan = solve(instance, method=method)  # type: ignore[arg-type]
    assert false_statements(instance, plan) == []
    facts = facts_of(instance, plan)
    # Nor do these plans leave stock idle that would have cut a line's lateness or shortage: so
    # "kept for its quota" is said of an on-time source only in plans no engine here produces.
    assert idle_stock(facts) == []
    unmet, late = facts
    for f in late:
        event(f"late: {f.cause}")
        other = f.earliest_other
        if other is not None and not other.own:
            event(f"earliest other source: {other.status}")
    for g in unmet:
        event(f"unmet: {g.cause}")


def _any_flow(m: Matching, rnd: random.Random) -> np.ndarray:
    """A feasible flow, taken at random: lines in any order, any source, any amount."""
    left = [10**9 if q == UNLIMITED else q for q in m.s_qty.tolist()]
    x = np.zeros(len(m.a_demand), dtype=np.int64)
    for d in rnd.sample(range(m.n_demands), m.n_demands):
        need = int(m.d_qty[d])
        arcs = list(m.arcs_of(d))
        rnd.shuffle(arcs)
        for a in arcs:
            s = int(m.a_source[a])
            take = rnd.randint(0, min(need, left[s]))
            x[a], left[s], need = take, left[s] - take, need - take
    return x


@MANY
@given(SPREAD_OR_CROWDED, st.randoms(use_true_random=False))
def test_reasons_are_true_of_any_feasible_plan(doc: dict[str, Any], rnd: random.Random) -> None:
    instance = validate_instance(doc)
    assert not isinstance(instance, list)
    m = build_matching(instance)
    x = _any_flow(m, rnd)
    unmet, late = explain(m, x)
    plan = Plan.model_validate(
        {
            "status": "feasible",
            "objective": objective(m, x),
            "allocations": allocations(m, x),
            "unmet": unmet,
            "late": late,
        }
    )
    assert check_plan(instance, plan).problems == []
    assert false_statements(instance, plan) == []
    for f in facts_of(instance, plan)[1]:
        for s in f.on_time:
            event(f"on-time source of a late line: {s.status}")


def test_data_finer_than_a_millionth_is_planned_rounded_and_says_so() -> None:
    # Found by the property above: a quantity of 0.0078125 is planned as 0.007812.
    doc = load("tiny-reserve-vs-agreement")
    doc["demands"][0]["quantity"] = 0.0078125
    plan = solve_document(json.loads(json.dumps(doc)))
    assert plan.status == "optimal" and plan.stats["rounded_input"] is True
    exact = parse_instance(json.dumps(doc).encode())
    planned = parse_instance(json.dumps(as_planned(doc)).encode())
    assert not isinstance(exact, list) and not isinstance(planned, list)
    assert check_plan(planned, plan).feasible
    [problem] = check_plan(exact, plan).problems  # against the exact data, the rounding shows
    assert problem.startswith(f"demand {doc['demands'][0]['id']}: ")
