"""Reading one cell: what planners type into Excel, turned into a value or a bilingual complaint.

Handles full-width digits and letters (１２３, ＷＨ), thousands separators (1,234 and 1，234),
a currency sign or 元, percentages written 80, 80% or 0.8, dates written 2026-03-01, 2026/3/1,
2026.3.1, 2026年3月1日, 20260301 or as an Excel date, and yes/no as 是/否, Y/N, √/×, true/false.
The readers of every domain's imports; a domain's own values (a catalog's voltage classes and
warehouse levels) have their readers beside the domain (`catalogs.cells`). Pure: no database,
no files.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from supply.core.money import MAX_AMOUNT, MAX_PERCENT, MAX_PRICE
from supply.core.sheets.read import Formula
from supply.core.units import MAX_QUANTITY, Unit, lookup_unit


class CellError(ValueError):
    """A cell that cannot be read: what is wrong, in Chinese and in English."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


MAX_NUMBER = Decimal(10) ** 12
MAX_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_CURRENCY = re.compile(r"^(¥|rmb|cny)|(元|rmb|cny)$", re.IGNORECASE)
_LOCATION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)
_TRUE = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "✔", "t"})
_FALSE = frozenset({"否", "n", "no", "false", "0", "×", "✗", "x", "f"})


def formula_error(value: object) -> CellError | None:
    """Return the complaint for a formula cell with no saved value, else None."""
    if not isinstance(value, Formula):
        return None
    return CellError(
        f"是公式（{show(value.text)}），请填写数值",
        f"is a formula ({show(value.text)}) with no saved value; enter the value, or open the "
        "file in Excel and save it",
    )


def fold(text: str) -> str:
    """Fold full-width characters to ASCII and trim."""
    return unicodedata.normalize("NFKC", text).strip()


def is_blank(value: object) -> bool:
    """Tell whether a cell is empty (None or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())


def show(value: object) -> str:
    """Render a cell value for a message."""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def read_text(value: object, *, max_length: int = MAX_TEXT) -> str:
    """Read free text: trimmed, without control characters, not too long."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if _CONTROL.search(text):
        raise CellError("含有不可见的控制字符，请删除", "contains control characters; remove them")
    if len(text) > max_length:
        raise CellError(f"超过 {max_length} 个字符", f"is longer than {max_length} characters")
    return text


def read_code(value: object, *, max_length: int = 64) -> str:
    """Read an identifier: full-width folded, no spaces inside."""
    text = fold(read_text(value, max_length=max_length))
    if not text or re.search(r"\s", text):
        raise CellError(
            f"编码 {show(value)} 不能含空格", f"code {show(value)!r} must not contain spaces"
        )
    return text


def read_location(value: object) -> str:
    """Read a location id such as `lingang`: lower-case letters, digits, '-' and '_'."""
    text = fold(read_text(value)).lower()
    if not _LOCATION.match(text):
        raise CellError(
            f"地点编码 {show(value)} 只能用小写字母、数字、- 和 _",
            f"location id {show(value)!r} may use only lower-case letters, digits, - and _",
        )
    return text


def read_number(value: object) -> Decimal:
    """Read a finite number: full-width digits, thousands separators, ¥ and 元 allowed."""
    if isinstance(value, bool | datetime | date):
        raise CellError(f"{show(value)} 不是数字", f"{show(value)!r} is not a number")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest decimal that reads back as this float
    else:
        text = fold(str(value)).replace(" ", "").replace("\u2212", "-")
        text = _CURRENCY.sub("", text)
        if _GROUPED.match(text):
            text = text.replace(",", "")
        if not _PLAIN.match(text):
            hint_zh = "，千位分隔符位置不对" if "," in text else ""
            hint_en = " (thousands separators misplaced)" if "," in text else ""
            raise CellError(
                f"{show(value)} 不是数字{hint_zh}", f"{show(value)!r} is not a number{hint_en}"
            )
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(f"{show(value)} 不是数字", f"{show(value)!r} is not a number") from None
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        raise CellError(
            f"{show(value)} 数值过大", f"{show(value)} is too large (must be below 10^12)"
        )
    return number


def non_negative(number: Decimal, value: object) -> Decimal:
    """Refuse a negative number."""
    if number < 0:
        raise CellError(f"{show(value)} 不能为负", "must not be negative")
    return number


def read_integer(value: object, *, low: int = 0, high: int = 2_000_000_000) -> int:
    """Read a whole number within [low, high]."""
    number = non_negative(read_number(value), value) if low >= 0 else read_number(value)
    if number != number.to_integral_value():
        raise CellError(f"{show(value)} 必须是整数", "must be a whole number")
    if not low <= number <= high:
        raise CellError(
            f"{show(value)} 超出范围 {low}–{high}", f"{show(value)} is outside {low}–{high}"
        )
    return int(number)


def check_quantity(quantity: Decimal | int, unit: str = "") -> None:
    """Refuse a quantity (in base units) above `MAX_QUANTITY`."""
    if quantity > MAX_QUANTITY:
        where = f" {unit}" if unit else ""
        shown = f"{int(quantity):,}" if quantity == int(quantity) else f"{quantity:,}"
        raise CellError(
            f"{shown}{where} 超过上限 {MAX_QUANTITY:,}{where}",
            f"{shown}{where} is above the limit of {MAX_QUANTITY:,}{where or ' base units'}",
        )


def check_price(price: Decimal, unit: str = "") -> None:
    """Refuse a unit price (per base unit) above `MAX_PRICE`."""
    if price > MAX_PRICE:
        per = f"/{unit}" if unit else ""
        raise CellError(
            f"单价 {price.normalize():,f} 元{per} 超过上限 {MAX_PRICE:,} 元{per}",
            f"unit price {price.normalize():,f}{per} is above the limit of {MAX_PRICE:,} CNY{per}",
        )


def check_amount(amount: Decimal) -> None:
    """Refuse an amount (a budget) that is not below `MAX_AMOUNT` (the API's bound too)."""
    if amount >= MAX_AMOUNT:
        raise CellError(
            f"{amount.normalize():,f} 元未低于上限 {MAX_AMOUNT:,} 元",
            f"{amount.normalize():,f} CNY is not below the limit of {MAX_AMOUNT:,} CNY",
        )


def read_quantity(value: object) -> int:
    """Read a whole quantity in base units, from 0 up to `MAX_QUANTITY`."""
    number = non_negative(read_number(value), value)
    if number != number.to_integral_value():
        raise CellError(f"{show(value)} 必须是整数", "must be a whole number")
    check_quantity(number)
    return int(number)


def read_percent(value: object, *, high: int = MAX_PERCENT) -> int:
    """Read a whole percentage written 80, 80% or as a fraction 0.8."""
    text = fold(str(value)) if isinstance(value, str) else None
    if text is not None and text.endswith(("%", "％")):
        number = read_number(text.rstrip("%％"))
    else:
        number = read_number(value)
        if number != number.to_integral_value() and abs(number) < 10:
            number *= 100  # a fraction: 0.8 means 80 %
    non_negative(number, value)
    if number != number.to_integral_value():
        raise CellError(f"{show(value)} 必须是整数百分比", "must be a whole percentage")
    if number > high:
        raise CellError(f"{show(value)} 超过 {high}%", f"{show(value)} is above {high} %")
    return int(number)


def read_bool(value: object) -> bool:
    """Read yes/no: 是/否, Y/N, yes/no, true/false, 1/0, √/×."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = fold(str(value)).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"{show(value)} 应填 是 或 否", f"{show(value)!r} must be yes or no")


def read_date(value: object) -> date:
    """Read a date from an Excel date cell, an Excel serial number, or common written forms."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise CellError(f"{show(value)} 不是日期", f"{show(value)!r} is not a date")
        number = int(value)
        if 20000 <= number <= 80000:  # an Excel serial date between 1954 and 2119
            return _EXCEL_EPOCH + timedelta(days=number)
        value = str(number)
    text = fold(str(value)).replace(" ", "")
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise CellError(
                    f"{show(value)} 不是有效日期", f"{show(value)!r} is not a real calendar date"
                ) from None
    raise CellError(
        f"无法识别日期 {show(value)}，请写成 2026-03-01",
        f"cannot read date {show(value)!r}; write it as 2026-03-01",
    )


def read_unit(value: object) -> Unit:
    """Read a unit of measure such as 台, 米 or 千米."""
    unit = lookup_unit(str(value))
    if unit is None:
        raise CellError(
            f"无法识别的计量单位 {show(value)}", f"unknown unit of measure {show(value)!r}"
        )
    return unit
