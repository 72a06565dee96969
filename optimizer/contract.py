"""The matching contract, version 1: instance and plan types, read and written as JSON.

The JSON shapes are those of `docs/contracts/matching-*.schema.json`. Reading an instance never
raises for bad content: `read_instance` returns the instance or one `InstanceError` per problem,
each naming the offending id and field, so that the plan can list them with status `invalid`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
)
from pydantic_core import PydanticCustomError

VERSION = 1
VoltageClass = Literal["0.4kV", "10kV", "35kV", "110kV"]
SourceKind = Literal["reserve", "consignment", "agreement", "emergency"]
HIGH_VOLTAGE: frozenset[str] = frozenset({"35kV", "110kV"})
# Physical reserve and vendor consignment serve 10 kV and below only (DESIGN.md R2).
LOW_VOLTAGE_ONLY_KINDS: frozenset[str] = frozenset({"reserve", "consignment"})

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _number(value: Any) -> int | float:
    """Accept a finite JSON number (not a boolean, not a string); keep ints as ints."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("number", "must be a number, got {got}", {"got": repr(value)})
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("number", "must be a finite number, got {got}", {"got": value})
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _iso_date(value: Any) -> date:
    """Accept a calendar date written as YYYY-MM-DD."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise PydanticCustomError(
            "iso_date", "must be a date written YYYY-MM-DD, got {got}", {"got": repr(value)}
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "iso_date", "is not a real calendar date: {got}", {"got": value}
        ) from None


def _bound(op: str, limit: float):  # type: ignore[no-untyped-def]
    def check(value: int | float) -> int | float:
        ok = value > limit if op == ">" else value >= limit
        if not ok:
            word = "greater than" if op == ">" else "at least"
            raise PydanticCustomError(
                "bound",
                "must be {word} {limit}, got {got}",
                {"word": word, "limit": limit, "got": value},
            )
        return value

    return AfterValidator(check)


Number = Annotated[int | float, PlainValidator(_number, json_schema_input_type=float)]
Positive = Annotated[Number, _bound(">", 0)]
NonNegative = Annotated[Number, _bound(">=", 0)]
Weight = Annotated[Number, _bound(">=", 1)]
IsoDate = Annotated[date, BeforeValidator(_iso_date, json_schema_input_type=str)]
Id = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    # Unknown fields are ignored: the schemas allow additional properties.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Demand(_Model):
    id: Id
    project: str
    material: Id
    quantity: Positive
    need_by: IsoDate
    voltage_class: VoltageClass
    location: Id
    weight: Weight = 1
    package: str | None = None


class Source(_Model):
    id: Id
    kind: SourceKind
    material: Id
    quantity: NonNegative | None
    location: Id
    ready: IsoDate
    unit_cost: NonNegative
    quota: NonNegative = 0


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


class UnmetLine(_Model):
    demand: str
    quantity: Number
    reason: str


class LateLine(_Model):
    demand: str
    late_days: int
    reason: str


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
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def instance_to_json(instance: Instance) -> str:
    """Serialise an instance in the contract's JSON shape."""
    return json.dumps(instance.model_dump(mode="json", by_alias=True), ensure_ascii=False) + "\n"


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
