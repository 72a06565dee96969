"""Properties over generated instances, each checked against something other than the model."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import check_plan, lex_compare, solve_document, tiers_close, validate_instance
from optimizer.lexmin import lexmin_flow
from optimizer.model import material_models
from optimizer.network import build_matching
from tests.optimizer.conftest import load
from tests.optimizer.reference import reference_tiers
from tests.optimizer.strategies import instances

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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


@FAST
@given(instances())
def test_optimum_matches_an_independent_cp_sat_model(doc: dict[str, Any]) -> None:
    _, report = _checked(doc)
    assert tiers_close(report.tiers(), reference_tiers(doc)), (report.tiers(), reference_tiers(doc))


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
@given(instances(max_demands=8, max_sources=8))
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
    assert plan.status in {"optimal", "feasible", "invalid"}
    if plan.status == "invalid":
        assert plan.errors and all(e.id and e.message for e in plan.errors)


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
