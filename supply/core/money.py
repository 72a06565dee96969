"""Money held exactly: `Decimal` in Python, never a binary float in the database.

Prices are per base unit, so a conductor at 8,650.55 元/千米 costs 8.65055 元/米: six decimal places
keep every such conversion exact. PostgreSQL stores NUMERIC(18, 6); SQLite, which has no exact
decimal type, stores the amount as an integer count of millionths of a yuan.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from sqlalchemy import BigInteger, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

PLACES = 6
QUANTUM = Decimal(1).scaleb(-PLACES)
SCALE = 10**PLACES
MAX_AMOUNT = Decimal(10) ** 12  # one trillion yuan: far above any real price or stock value


# An amount sent to the API: a whole number, or a decimal string with at most six places.
AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,6})?$"
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
    return amount == amount.quantize(QUANTUM)


def fen(amount: Decimal) -> Decimal:
    """Round an amount to whole fen (分) for display and totals."""
    return amount.quantize(Decimal("0.01"))


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
