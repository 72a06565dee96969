"""A broken instance gives status `invalid` with one error per problem, naming id and field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from optimizer import (
    UnreadableInput,
    oversized,
    parse_instance,
    solve_document,
    validate_instance,
)
from optimizer.contract import Demand, trusted
from optimizer.validate import parse_rules


def errors_of(doc: Any) -> set[tuple[str, str]]:
    result = validate_instance(doc)
    assert isinstance(result, list), "expected the instance to be rejected"
    return {(e.id, e.field) for e in result}


@pytest.mark.parametrize(
    ("section", "index", "field", "value", "ident"),
    [
        ("demands", 0, "quantity", -3, "D1"),
        ("demands", 0, "quantity", 0, "D1"),
        ("demands", 1, "need_by", "2026-13-01", "D2"),
        ("demands", 1, "need_by", "01/12/2026", "D2"),
        ("demands", 1, "need_by", 20261201, "D2"),
        ("demands", 2, "voltage_class", "20kV", "D3"),
        ("demands", 3, "weight", 0.5, "D4"),
        ("demands", 3, "weight", True, "D4"),
        ("demands", 4, "quantity", "3", "D5"),
        ("sources", 0, "quantity", -1, "R-HC-TR400"),
        ("sources", 0, "unit_cost", -68000, "R-HC-TR400"),
        ("sources", 0, "quota", -1, "R-HC-TR400"),
        ("sources", 1, "kind", "loan", "A-2026-017"),
        ("sources", 1, "ready", "soon", "A-2026-017"),
        ("transport", 0, "days", -1, "transport HC->RC"),
        ("transport", 0, "days", 1.5, "transport HC->RC"),
    ],
)
def test_a_bad_field_is_named_by_id_and_field(
    tiny: dict, section: str, index: int, field: str, value: Any, ident: str
) -> None:
    tiny[section][index][field] = value
    assert errors_of(tiny) == {(ident, field)}


def test_missing_required_field_is_named(tiny: dict) -> None:
    del tiny["demands"][2]["material"]
    assert errors_of(tiny) == {("D3", "material")}


def test_every_problem_is_reported_at_once(tiny: dict) -> None:
    tiny["demands"][0]["quantity"] = -3
    tiny["demands"][4]["id"] = "D4"  # duplicate demand id
    tiny["sources"][0]["quantity"] = None  # unlimited reserve
    tiny["sources"][4]["quota"] = 3  # quota on an agreement
    tiny["transport"] = [t for t in tiny["transport"] if (t["from"], t["to"]) != ("HC", "RC")]
    found = errors_of(tiny)
    assert found == {
        ("D1", "quantity"),
        ("D4", "id"),
        ("R-HC-TR400", "quantity"),
        ("A-2026-031", "quota"),
        ("transport HC->RC", "days"),
    }


def test_missing_transport_only_for_pairs_an_eligible_match_needs(tiny: dict) -> None:
    # HC->WD carries only reserve cable to a 35 kV demand: not eligible, so not needed.
    tiny["sources"] = [s for s in tiny["sources"] if s["id"] != "E-TR400"]
    tiny["transport"] = [t for t in tiny["transport"] if (t["from"], t["to"]) != ("HC", "WD")]
    assert not isinstance(validate_instance(tiny), list)
    # ...but an agreement line at HC for the same cable does need it.
    tiny["sources"].append(
        {
            "id": "A-HC-C35",
            "kind": "agreement",
            "material": "CABLE-35-300",
            "quantity": 10,
            "location": "HC",
            "ready": "2026-12-01",
            "unit_cost": 400,
        }
    )
    result = validate_instance(tiny)
    assert isinstance(result, list)
    assert [(e.id, e.field) for e in result] == [("transport HC->WD", "days")]
    assert "A-HC-C35" in result[0].message and "D3" in result[0].message


def test_conflicting_transport_rows(tiny: dict) -> None:
    tiny["transport"].append({"from": "HC", "to": "RC", "days": 4})
    tiny["transport"].append({"from": "WD", "to": "WD", "days": 2})
    assert errors_of(tiny) == {("transport HC->RC", "days"), ("transport WD->WD", "days")}


def test_document_level_problems(tiny: dict) -> None:
    tiny["version"] = 2
    del tiny["transport"]
    tiny["plan_date"] = "next monday"
    assert errors_of(tiny) == {
        ("instance", "version"),
        ("instance", "transport"),
        ("instance", "plan_date"),
    }
    assert errors_of([1, 2]) == {("instance", "")}


def test_an_unservable_demand_is_not_an_error_but_unmet(tiny: dict) -> None:
    tiny["demands"].append(
        {
            "id": "D9",
            "project": "P",
            "material": "NO-SUCH",
            "quantity": 2,
            "need_by": "2026-12-10",
            "voltage_class": "10kV",
            "location": "HC",
        }
    )
    plan = solve_document(tiny)
    assert plan.status == "optimal"
    assert [(u.demand, u.quantity) for u in plan.unmet] == [("D9", 2)]
    assert "no source of NO-SUCH" in plan.unmet[0].reason


def test_invalid_plan_lists_errors_and_no_allocations(tiny: dict) -> None:
    tiny["sources"][0]["quantity"] = None
    plan = solve_document(tiny)
    assert plan.status == "invalid"
    assert plan.allocations == []
    assert [(e.id, e.field) for e in plan.errors] == [("R-HC-TR400", "quantity")]
    assert "emergency" in plan.errors[0].message


def test_not_json_is_unreadable_not_invalid() -> None:
    with pytest.raises(UnreadableInput):
        parse_instance(b"{ not json")
    with pytest.raises(UnreadableInput):
        parse_instance(b"\xff\xfe")


def test_unknown_fields_are_ignored(tiny: dict) -> None:
    tiny["demands"][0]["comment"] = "customer called twice"
    tiny["note"] = "exported from the weekly run"
    result = validate_instance(tiny)
    assert not isinstance(result, list)
    assert json.loads(json.dumps(tiny))["note"]


def test_a_trusted_demand_is_the_validated_one(tiny: dict) -> None:
    # The fast constructor the urgent-request path uses gives the same model as validation:
    # equal, same dump and JSON; and it refuses a missing or unknown field.
    fields = tiny["demands"][0] | {"package": None}
    checked = Demand.model_validate_json(json.dumps(fields))
    fast = trusted(Demand, {name: getattr(checked, name) for name in Demand.model_fields})
    assert fast == checked and hash(fast) == hash(checked)
    assert fast.model_dump() == checked.model_dump()
    assert fast.model_dump_json() == checked.model_dump_json()
    assert fast.model_fields_set == set(Demand.model_fields)
    with pytest.raises(TypeError, match="needs exactly"):
        trusted(Demand, {"id": "D1"})


# --- numbers too large to plan exactly ---------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "index", "field", "value", "named"),
    [
        ("demands", 0, "quantity", 1e25, ("D1", "quantity")),  # past 2**53 (float64 sums)
        ("demands", 0, "weight", 1e19, ("D1", "weight")),  # past int64 once scaled
        ("sources", 1, "quantity", 2**60, ("A-2026-017", "quantity")),
        ("sources", 0, "quota", 1e20, ("R-HC-TR400", "quota")),
        ("sources", 2, "unit_cost", 1e19, ("E-TR400", "unit_cost")),
        ("transport", 0, "days", 3_000_000, ("transport HC->RC", "days")),  # past 9999-12-31
    ],
)
def test_a_number_too_large_to_plan_exactly_is_named_by_id_and_field(
    tiny: dict, section: str, index: int, field: str, value: Any, named: tuple[str, str]
) -> None:
    tiny[section][index][field] = value
    assert errors_of(tiny) == {named}
    plan = solve_document(tiny)  # the solve checks them too, rather than fail on them
    assert plan.status == "invalid" and {(e.id, e.field) for e in plan.errors} == {named}


def test_a_cost_the_flow_engine_cannot_scale_is_invalid_not_a_crash(tiny: dict) -> None:
    # TR-400's network has 7 nodes: OR-Tools refused 4e17 (BAD_COST_RANGE) though 4e17 × 8
    # is below 2**62, so the engine raised FlowError; now it is an error of the instance.
    tiny["sources"][0]["unit_cost"] = 4e17
    plan = solve_document(tiny)
    assert plan.status == "invalid"
    [error] = plan.errors
    assert (error.id, error.field) == ("R-HC-TR400", "unit_cost")
    assert "too large to plan exactly in the network of TR-400 (7 nodes" in error.message
    assert oversized(parse_rules_of(tiny)) == {"TR-400": [error]}


def test_the_penalty_is_named_where_reserve_is_below_its_quota(tiny: dict) -> None:
    tiny["policy"] = {"reserve_below_quota_penalty": 4e17}
    plan = solve_document(tiny)
    assert plan.status == "invalid"
    assert [(e.id, e.field) for e in plan.errors] == [
        ("instance", "policy.reserve_below_quota_penalty")
    ]
    assert "network of TR-400" in plan.errors[0].message


def test_only_arcs_that_can_carry_flow_count(tiny: dict) -> None:
    # An agreement line used up (quantity 0) at an absurd price carries nothing: no error.
    tiny["sources"][1]["quantity"] = 0
    tiny["sources"][1]["unit_cost"] = 1e17
    assert not isinstance(validate_instance(tiny), list)
    assert solve_document(tiny).status == "optimal"


def test_every_cost_either_solves_or_is_named_never_a_crash(tiny: dict) -> None:
    # Across the whole range up to and past the flow engine's headroom, each of the numbers
    # that enter the flow costs gives an optimal plan or an invalid one naming it.
    fields = [("sources", 0, "unit_cost"), ("demands", 1, "weight"), ("sources", 2, "unit_cost")]
    for section, index, field in fields:
        for exponent in range(12, 20):
            for mantissa in (1, 2.5, 4, 7):
                doc = json.loads(json.dumps(tiny))
                doc[section][index][field] = mantissa * 10.0**exponent
                plan = solve_document(doc)
                assert plan.status in ("optimal", "invalid"), (field, mantissa, exponent)
                if plan.status == "invalid":
                    assert doc[section][index]["id"] in {e.id for e in plan.errors}
    doc = json.loads(json.dumps(tiny))
    doc["policy"] = {"reserve_below_quota_penalty": 1e17}
    assert solve_document(doc).status == "optimal"  # within the headroom: solved


def parse_rules_of(doc: dict) -> Any:
    """The instance, checked for everything but its magnitudes."""
    parsed = parse_rules(json.dumps(doc))
    assert not isinstance(parsed, list)
    return parsed
