"""Money held exactly: `Decimal` in Python, never a binary float in the database.

Prices are per base unit, so a conductor at 8,650.55 元/千米 costs 8.65055 元/米: six decimal places
keep every such conversion exact. PostgreSQL stores NUMERIC(18, 6); SQLite, which has no exact
decimal type, stores the amount as an integer count of millionths of a yuan.

Limits, checked where money comes in (schemas, every import; docs/catalogs.md "Limits"):

- `MAX_PRICE`, 100 million yuan per base unit: any unit price (standard, agreement, consignment
  issue price) and the reserve penalty. The dearest thing a customer-connection project buys, a
  110 kV 50 MVA transformer, is 3.8–6.5 million. The optimizer scales prices by up to 10⁶ into
  int64 and its flow engine multiplies a cost by the nodes of a network: at this price with the
  largest emergency premium (1000 %) that stays exact for 4,000 lines of one material in one
  week, and a planned line is refused, with the reason, when its material's network would not
  (`supply.limits`).
- `MAX_AMOUNT`, 10 billion yuan: any other amount — a package budget, and what one demand line
  may cost at its dearest source (quantity × price; checked before planning, `supply.limits`).
  Both columns hold below 10¹² (NUMERIC(18, 6); on SQLite 9.2 × 10¹² in int64 millionths), so a
  hundred lines at the limit still fit in a week's or a project's total; a real week is below
  10¹⁰.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from sqlalchemy import BigInteger, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

PLACES = 6
QUANTUM = Decimal(1).scaleb(-PLACES)
SCALE = 10**PLACES
MAX_PRICE = Decimal(10) ** 8  # yuan per base unit
MAX_AMOUNT = Decimal(10) ** 10  # yuan: amounts are below it (a budget, a line at its dearest)
MAX_PERCENT = 1000  # any percentage an import reads: the largest emergency premium
# The dearest unit price an import can make: the largest price at the largest premium.
MAX_EMERGENCY_PRICE = MAX_PRICE * (100 + MAX_PERCENT) / 100
COLUMN_LIMIT = Decimal(10) ** 12  # NUMERIC(18, 6) holds amounts below this
# Sums of many amounts may pass the default context's 28 digits before they are rounded.
_WIDE = Context(prec=60)


# An amount sent to the API: a whole number, or a decimal string with at most six places.
AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,6})?$"  # below MAX_AMOUNT
_AMOUNT = re.compile(AMOUNT_PATTERN)


def _amount(value: Any) -> Any:
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _AMOUNT.match(value):
        return value
    raise ValueError(
        '金额为非负整数，或最多 6 位小数的字符串，如 "1234.50" / an amount is a whole number, or '
        'a decimal string with at most 6 places such as "1234.50" (never a binary float)'
    )


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    Field(ge=0, lt=MAX_AMOUNT, decimal_places=PLACES),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "exclusiveMaximum": int(MAX_AMOUNT)},
                {"type": "string", "pattern": AMOUNT_PATTERN},
            ]
        }
    ),
]


def has_exact_places(amount: Decimal) -> bool:
    """Tell whether `amount` fits in six decimal places without rounding."""
    return amount == amount.quantize(QUANTUM, context=_WIDE)


def fen(amount: Decimal) -> Decimal:
    """Round an amount to whole fen (分) for display and totals, half up (四舍五入); exact for
    any size."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP, context=_WIDE)


def exact(amount: Decimal) -> Decimal:
    """Round an amount to the six places money is stored with (exact for any size)."""
    return amount.quantize(QUANTUM, context=_WIDE)


def line_amount(unit_cost: Decimal, quantity: int) -> Decimal:
    """What a line of `quantity` at `unit_cost` costs, to the fen: every total of a plan (its
    KPIs, its exports) is a sum of these, so they agree to the fen."""
    return fen(exact(unit_cost) * quantity)


class Money(TypeDecorator[Decimal]):
    """An exact amount of CNY with six decimal places, on every database."""

    impl = Numeric(18, PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Use NUMERIC where the database has it, a scaled integer on SQLite."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, PLACES, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """Refuse floats and amounts that would be rounded; scale for SQLite."""
        if value is None:
            return None
        if not isinstance(value, Decimal | int) or isinstance(value, bool):
            raise TypeError(f"money must be a Decimal, got {type(value).__name__}")
        amount = Decimal(value)
        if not has_exact_places(amount):
            raise ValueError(f"{amount} has more than {PLACES} decimal places")
        if dialect.name == "sqlite":
            return int(amount * SCALE)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Return a Decimal with six decimal places."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / SCALE).quantize(QUANTUM)
        return Decimal(value).quantize(QUANTUM)
