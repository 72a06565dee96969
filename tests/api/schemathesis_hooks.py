"""Schemathesis hooks for the served API (SCHEMATHESIS_HOOKS=tests/api/schemathesis_hooks.py).

- Dates are generated in the years the schema's pattern allows (2000–2100), instead of any year
  and then filtered by the pattern: the same cases, without wasting most of them.
- A rule JSON Schema cannot state, because it compares two fields: a project's completion date
  falls after its approval date (docs/projects.md; the API answers 422 otherwise). Requests that
  break it are not generated as valid ones. (The API could take a duration instead, which a
  schema can bound; but the customer's letter gives a date, and the planner types that.) Tests
  hold the API to refusing exactly what `dates_in_order` leaves out, with 422 and the error body:
  tests/api/test_projects_api.py and tests/requests/test_requests_api.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format(
    "date", st.dates(date(2000, 1, 1), date(2100, 12, 31)).map(date.isoformat)
)


def dates_in_order(body: Any) -> bool:
    """Say whether every project in `body` completes after its approval (or has no dates)."""
    if not isinstance(body, dict):
        return True
    for project in (body, body.get("project")):
        if isinstance(project, dict):
            approved, completion = project.get("approved_on"), project.get("completion_date")
            # ISO dates compare as their strings do
            if isinstance(approved, str) and isinstance(completion, str) and completion <= approved:
                return False
    return True


@schemathesis.hook
def filter_case(context: schemathesis.HookContext, case: schemathesis.Case) -> bool:
    """Leave out requests whose project completes on or before its approval."""
    return dates_in_order(case.body)
