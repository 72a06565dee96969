"""Validate a matching instance: the JSON shape, then the rules that span objects.

Every problem becomes one `InstanceError` naming the offending id and field; nothing raises for
bad content. A demand that no source can serve is *not* an error (it is unmet, with its reason).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any, Literal

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


def parse_instance(text: str | bytes) -> Instance | list[InstanceError]:
    """Parse JSON text and validate it; raise `UnreadableInput` only if it is not JSON."""
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
        version=1, plan_date=header.plan_date, policy=header.policy, **parts
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
    places = {d.location for d in instance.demands} | {s.location for s in instance.sources}
    if all((a, b) in known for a in places for b in places if a != b):
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
