"""The matching engine: a pure function from a matching instance to an optimal, explained plan.

No database, no files, no clock. See docs/contracts/matching-instance.md for the contract.
"""

from optimizer.check import CheckReport, check_plan, lex_compare, tiers_close
from optimizer.contract import (
    Instance,
    InstanceError,
    Plan,
    UnreadableInput,
    instance_to_json,
    plan_to_json,
    read_plan,
)
from optimizer.solve import solve, solve_document, solve_instance_text
from optimizer.validate import (
    load_json,
    magnitude_errors,
    oversized,
    parse_instance,
    validate_instance,
)

__all__ = [
    "CheckReport",
    "Instance",
    "InstanceError",
    "Plan",
    "UnreadableInput",
    "check_plan",
    "instance_to_json",
    "lex_compare",
    "load_json",
    "magnitude_errors",
    "oversized",
    "parse_instance",
    "plan_to_json",
    "read_plan",
    "solve",
    "solve_document",
    "solve_instance_text",
    "tiers_close",
    "validate_instance",
]
