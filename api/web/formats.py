"""How the pages write numbers, money, dates and codes — every template filter, in one place.

- counts and quantities with thousands separators: 12,345;
- money in 元 to the fen, rounded half up as every export does (`supply.core.money.fen`):
  1,234,567.89 元;
- dates as YYYY-MM-DD with the Chinese weekday: 2026-11-30 周一; moments in Beijing time:
  2026-11-30 周一 11:00;
- working days named as such: 2 个工作日;
- codes in the planner's words (`supply.labels`, the role table of `supply.auth.roles`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from supply.auth.roles import PERMISSION_ZH, ROLE_ZH, Permission, Role
from supply.calendar import WEEKDAY_ZH
from supply.core.clock import SHANGHAI
from supply.core.money import fen
from supply.demand.models import DEMAND_STATUS_ZH
from supply.labels import (
    OUTCOME_ZH,
    RUN_STATUS_ZH,
    cause_label,
    emergency_cause_label,
    kind_label,
    project_type_label,
)
from supply.projects.models import PROJECT_STATUS_ZH
from supply.timeline import PART_STATE_ZH, VERDICT_ZH

EMPTY = "—"

PROJECT_STATUS_WORDS = {str(k): v for k, v in PROJECT_STATUS_ZH.items()}
LINE_STATUS_WORDS = {str(k): v for k, v in DEMAND_STATUS_ZH.items()}
HOLD_STATUS_ZH = {"held": "已保留", "issued": "已出库", "released": "已释放"}
ANSWER_ZH = {"held": "已保留", "promised": "已承诺", "partly_held": "部分保留", "unmet": "未满足"}


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:  # a float from a JSON document (the KPIs) by its shortest text: 0.1 stays 0.1
        return Decimal(str(value))
    except InvalidOperation:
        return None


def number(value: Any, places: int = 0) -> str:
    """A count or quantity with thousands separators (`places` decimals), '—' for none."""
    amount = _decimal(value)
    if amount is None:
        return EMPTY
    return f"{amount:,.{places}f}"


def money(value: Any) -> str:
    """An amount in 元 to the fen, with thousands separators (no unit: the column says 元)."""
    amount = _decimal(value)
    if amount is None:
        return EMPTY
    return f"{fen(amount):,.2f}"


def yuan(value: Any) -> str:
    """An amount with its unit: 1,234.50 元."""
    shown = money(value)
    return shown if shown == EMPTY else f"{shown} 元"


def percent(part: Any, whole: Any, places: int = 1) -> str:
    """`part` as a share of `whole`: 63.1%; '—' when the whole is zero."""
    top, bottom = _decimal(part), _decimal(whole)
    if top is None or not bottom:
        return EMPTY
    return f"{top * 100 / bottom:.{places}f}%"


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def day(value: Any) -> str:
    """A date as YYYY-MM-DD with its weekday: 2026-11-30 周一."""
    found = _as_date(value)
    if found is None:
        return EMPTY
    return f"{found.isoformat()} {WEEKDAY_ZH[found.weekday()]}"


def moment(value: Any, seconds: bool = False) -> str:
    """An instant in Beijing time with its weekday: 2026-11-30 周一 11:00."""
    if value is None or value == "":
        return EMPTY
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    local = found.astimezone(SHANGHAI)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{day(local.date())} {clock}"


def workdays(value: Any) -> str:
    """A count of working days, named as such: 2 个工作日."""
    if value is None or value == "":
        return EMPTY
    return f"{int(value):,} 个工作日"


def days(value: Any) -> str:
    """A count of calendar days: 3 天 ('—' for none or zero)."""
    if not value:
        return EMPTY
    return f"{int(value):,} 天"


def role_label(role: str) -> str:
    """A role in Chinese: 物资部计划员 (a name no role has, as it is)."""
    try:
        return ROLE_ZH[Role(role)]
    except ValueError:
        return role


def roles_label(roles: Iterable[str]) -> str:
    return "、".join(role_label(r) for r in roles) or EMPTY


def permission_label(permission: str) -> str:
    """A permission in words with its code: 运行周计划 (plans.run)."""
    try:
        return f"{PERMISSION_ZH[Permission(permission)]} ({permission})"
    except ValueError:
        return permission


def run_status_label(status: str) -> str:
    return RUN_STATUS_ZH.get(status, status)


def outcome_label(outcome: str) -> str:
    return OUTCOME_ZH.get(outcome, outcome)


def project_status_label(status: str) -> str:
    return PROJECT_STATUS_WORDS.get(status, status)


def line_status_label(status: str) -> str:
    return LINE_STATUS_WORDS.get(status, status)


def hold_status_label(status: str) -> str:
    return HOLD_STATUS_ZH.get(status, status)


def answer_label(outcome: str) -> str:
    """An urgent request line's outcome: 已保留, 已承诺, 部分保留, 未满足."""
    return ANSWER_ZH.get(outcome, outcome)


def part_state_label(state: str) -> str:
    """Where a part of a line stands: 已出库, 已保留, 已承诺, 已批准计划, 计划草稿, 无来源."""
    return {str(k): v for k, v in PART_STATE_ZH.items()}.get(state, state)


def verdict_label(verdict: str) -> str:
    """A line against its need-by: 按时, 延迟, 无来源, 待计划, 已取消."""
    return {str(k): v for k, v in VERDICT_ZH.items()}.get(verdict, verdict)


FILTERS: dict[str, Callable[..., str]] = {
    "part_state_label": part_state_label,
    "verdict_label": verdict_label,
    "project_status_label": project_status_label,
    "line_status_label": line_status_label,
    "hold_status_label": hold_status_label,
    "answer_label": answer_label,
    "number": number,
    "money": money,
    "yuan": yuan,
    "day": day,
    "moment": moment,
    "workdays": workdays,
    "days": days,
    "kind_label": kind_label,
    "cause_label": cause_label,
    "emergency_cause_label": emergency_cause_label,
    "project_type_label": project_type_label,
    "role_label": role_label,
    "roles_label": roles_label,
    "permission_label": permission_label,
    "run_status_label": run_status_label,
    "outcome_label": outcome_label,
}
GLOBALS: dict[str, Callable[..., str]] = {"percent": percent}
