"""Units — the city company and its county companies — and the project locations each builds in.

A project's unit is the unit whose locations include the project's location (set when the
project is created); a project manager reaches the projects of their own unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from supply.auth.models import Unit
from supply.core.audit import record


def set_unit(
    session: Session, *, code: str, name: str, locations: Sequence[str], by: str, now: datetime
) -> Unit:
    """Add a unit or change its name and locations (audited; the caller commits)."""
    unit = session.get(Unit, code)
    before = None if unit is None else {"name": unit.name, "locations": list(unit.locations)}
    if unit is None:
        unit = Unit(code=code, name=name, locations=sorted(set(locations)))
    else:
        unit.name, unit.locations = name, sorted(set(locations))
    session.add(unit)
    record(
        session, actor=by, action="unit.set", object_type="unit", object_id=code, before=before,
        after={"name": unit.name, "locations": unit.locations}, at=now,
    )  # fmt: skip
    return unit


def units_by_location(session: Session) -> dict[str, str]:
    """Each location's unit code (a location in no unit is absent)."""
    found: dict[str, str] = {}
    for unit in session.exec(select(Unit).order_by(col(Unit.code))).all():
        for location in unit.locations:
            found.setdefault(location, unit.code)
    return found


def list_units(session: Session) -> list[Unit]:
    return list(session.exec(select(Unit).order_by(col(Unit.code))).all())
