"""The matching contract, version 1: instance and plan types, read and written as JSON.

The JSON shapes are those of `docs/contracts/matching-*.schema.json`. Reading an instance never
raises for bad content: `read_instance` returns the instance or one `InstanceError` per problem,
each naming the offending id and field, so that the plan can list them with status `invalid`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError

VERSION = 1
VoltageClass = Literal["0.4kV", "10kV", "35kV", "110kV"]
SourceKind = Literal["reserve", "consignment", "agreement", "emergency"]
HIGH_VOLTAGE: frozenset[str] = frozenset({"35kV", "110kV"})
# Physical reserve and vendor consignment serve 10 kV and below only (DESIGN.md R2).
LOW_VOLTAGE_ONLY_KINDS: frozenset[str] = frozenset({"reserve", "consignment"})


def _compact(value: Any) -> Any:
    """Write whole numbers without a decimal point (5, not 5.0)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Strict, native validators (fast, in pydantic-core): JSON numbers only (no booleans, no
# strings), finite; dates only as YYYY-MM-DD strings in JSON. Messages are reworded in
# `validate.py`.
_NUMBER = (Field(strict=True, allow_inf_nan=False), PlainSerializer(_compact, return_type=Any))
Number = Annotated[float, *_NUMBER]
Positive = Annotated[float, *_NUMBER, Field(gt=0)]
NonNegative = Annotated[float, *_NUMBER, Field(ge=0)]
Weight = Annotated[float, *_NUMBER, Field(ge=1)]
IsoDate = Annotated[date, Field(strict=True)]
Id = Annotated[str, Field(min_length=1, strict=True)]


class _Model(BaseModel):
    # Unknown fields are ignored: the schemas allow additional properties.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


_M = TypeVar("_M", bound=_Model)


@cache
def _field_names(model: type[_Model]) -> frozenset[str]:
    return frozenset(model.model_fields)  # reading it is slow: once per model


def trusted(model: type[_M], fields: dict[str, Any]) -> _M:
    """`model.model_construct(**fields)` for every field, already checked, about three times
    faster: an urgent request's instance holds thousands of demands. Nothing is validated (the
    engine checks an instance's rules, `cross_check`, before solving it)."""
    if fields.keys() != _field_names(model):
        raise TypeError(f"{model.__name__} needs exactly {sorted(_field_names(model))}")
    made = model.__new__(model)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", set(fields))
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


class Demand(_Model):
    id: Id
    project: Annotated[str, Field(strict=True)]
    material: Id
    quantity: Positive
    need_by: IsoDate
    voltage_class: VoltageClass
    location: Id
    weight: Weight = 1
    package: Annotated[str, Field(strict=True)] | None = None


class Source(_Model):
    id: Id
    kind: SourceKind
    material: Id
    quantity: NonNegative | None
    location: Id
    ready: IsoDate
    unit_cost: NonNegative
    quota: NonNegative = 0
    # Units of this source that should be used (an agreement line: its shortfall to the lower
    # end of its execution band), and the cost of each unit of it left unused.
    floor: NonNegative = 0
    floor_penalty: NonNegative = 0


class Transport(_Model):
    from_: Id = Field(alias="from")
    to: Id
    days: Annotated[int, Field(ge=0, strict=True)]


class Policy(_Model):
    reserve_below_quota_penalty: NonNegative = 0


class Instance(_Model):
    version: Literal[1]
    plan_date: IsoDate
    demands: list[Demand]
    sources: list[Source]
    transport: list[Transport]
    policy: Policy = Policy()


class InstanceError(_Model):
    """One problem in an instance: which object (`id`), which `field`, and what is wrong."""

    id: str
    field: str
    message: str


class Objective(_Model):
    unmet_weighted: Number
    lateness_weighted: Number
    cost: Number


class Allocation(_Model):
    demand: str
    source: str
    quantity: Positive
    arrival: IsoDate
    late_days: Annotated[int, Field(ge=0)]


# Why a line is late or unmet, as a code (the reason says it in words; exports label it).
# Late: `used_up` (on-time sources existed, the plan gave their stock to lines, others first),
# `kept_for_quota` (an on-time reserve source was held at its quota, R6), `none_in_time` (no
# eligible source with stock arrives by need-by), `not_eligible` (only sources the voltage class
# rules out would be on time, R2). Unmet: `used_up` (every eligible source is used up),
# `not_eligible` (only sources the voltage class rules out hold the material), `no_source` (no
# source of the material holds any stock). `optimizer.explain_facts` states the rule that picks
# one.
LateCause = Literal["used_up", "kept_for_quota", "stock_left", "none_in_time", "not_eligible"]
UnmetCause = Literal["used_up", "stock_left", "not_eligible", "no_source"]
Cause = Literal[
    "used_up", "kept_for_quota", "stock_left", "none_in_time", "not_eligible", "no_source"
]
LATE_CAUSES: tuple[LateCause, ...] = get_args(LateCause)
UNMET_CAUSES: tuple[UnmetCause, ...] = get_args(UnmetCause)
CAUSES: tuple[Cause, ...] = get_args(Cause)
# Plans written before the cause existed read with "" (no code).
NO_CAUSE: Literal[""] = ""


class UnmetLine(_Model):
    demand: str
    quantity: Number
    reason: str
    reason_zh: str = ""  # the same facts in Chinese; "" in plans written before it
    cause: UnmetCause | Literal[""] = NO_CAUSE


class LateLine(_Model):
    demand: str
    late_days: int
    reason: str
    reason_zh: str = ""  # the same facts in Chinese; "" in plans written before it
    cause: LateCause | Literal[""] = NO_CAUSE


PlanStatus = Literal["optimal", "feasible", "invalid"]


class Plan(_Model):
    version: Literal[1] = 1
    status: PlanStatus
    objective: Objective
    allocations: list[Allocation] = []
    unmet: list[UnmetLine] = []
    late: list[LateLine] = []
    errors: list[InstanceError] = []
    stats: dict[str, Any] = {}


class UnreadableInput(ValueError):
    """The text is not JSON, or not a document of the expected kind."""


def plan_to_json(plan: Plan) -> str:
    """Serialise a plan exactly as the plan schema says (stable key order, by alias)."""
    data = plan.model_dump(mode="json", by_alias=True)
    if not plan.errors:
        data.pop("errors")
    return _lines_json(data)


def instance_to_json(instance: Instance) -> str:
    """Serialise an instance in the contract's JSON shape."""
    return _lines_json(instance.model_dump(mode="json", by_alias=True))


def _lines_json(data: dict[str, Any]) -> str:
    """JSON with one top-level key, or one list item, per line: readable, diffable and fast.

    (`json.dumps(indent=…)` falls back to the pure-Python encoder, ten times slower on a
    province-sized plan.)
    """
    dump = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    parts = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            items = ",\n  ".join(dump(item) for item in value)
            parts.append(f" {dump(key)}: [\n  {items}\n ]")
        else:
            parts.append(f" {dump(key)}: {dump(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def read_plan(text: str | bytes) -> Plan:
    """Parse a plan document (raises on a malformed one)."""
    try:
        return Plan.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UnreadableInput(f"not a valid plan: {where}: {first['msg']}") from None


def invalid_plan(errors: Sequence[InstanceError]) -> Plan:
    """A plan for an instance that broke the contract: no allocations, only the errors."""
    zero = Objective(unmet_weighted=0, lateness_weighted=0, cost=0)
    return Plan(status="invalid", objective=zero, errors=list(errors))
