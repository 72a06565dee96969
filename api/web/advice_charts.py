"""The quota advice as the 库存与定额 pages show it: the newest recommendation's figures and the data
of its charts (drawn by web.js) — the replay's on-time rate and stock value with the current and
the recommended quotas, and current against recommended quota per material or per warehouse ×
material. Plain data from `supply.quotas`; no service of its own."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from supply.quotas import (
    RecommendationDetail,
    RecommendationLinePublic,
    computing,
    latest_recommendation,
)
from supply.quotas.service import public

TEN_THOUSAND = Decimal(10_000)


def _wan(amount: Decimal) -> float:
    """An amount in 万元, to two places (what the charts' axes read)."""
    return float(round(amount / TEN_THOUSAND, 2))


def level_text(share: float) -> str:
    """A service level as a percentage without trailing zeros: 95 %, 97.5 %."""
    return f"{Decimal(repr(share)) * 100:.1f}".removesuffix(".0") + " %"


def replay_chart(done: RecommendationDetail) -> dict[str, Any]:
    """The two replays side by side: the short-deadline lines on time (with the target), and the
    average stock value and the value at quota (万元)."""
    return {
        "target": round(done.service_level * 100, 1),
        "names": ["现行定额", "推荐定额"],
        "on_time": [
            round((done.on_time_rate_current or 0) * 100, 1),
            round((done.on_time_rate_recommended or 0) * 100, 1),
        ],
        "stock_value": [_wan(done.stock_value_current), _wan(done.stock_value_recommended)],
        "quota_value": [_wan(done.quota_value_current), _wan(done.quota_value_recommended)],
    }


def materials_chart(done: RecommendationDetail) -> dict[str, Any]:
    """Current against recommended quota per material, summed over the warehouses, in 万元 (the
    materials' units differ), the largest recommended value first."""
    current: dict[str, Decimal] = defaultdict(Decimal)
    recommended: dict[str, Decimal] = defaultdict(Decimal)
    names: dict[str, str] = {}
    for line in done.lines:
        current[line.material_code] += line.unit_price * line.current
        recommended[line.material_code] += line.unit_price * line.recommended
        names[line.material_code] = line.material_name
    order = sorted(names, key=lambda m: (-recommended[m], -current[m], m))
    return {
        "title": "定额金额：现行与推荐（按物料，万元）",
        "unit": "万元",
        "log": False,
        "categories": order,
        "names": [names[m] for m in order],
        "series": [
            {"name": "现行定额", "key": "current", "data": [_wan(current[m]) for m in order]},
            {
                "name": "推荐定额",
                "key": "recommended",
                "data": [_wan(recommended[m]) for m in order],
            },
        ],
    }


def pairs_chart(lines: list[RecommendationLinePublic], title: str) -> dict[str, Any]:
    """Current against recommended quota per material of one warehouse, in the materials' own
    units (a logarithmic axis: 8 台 and 6,000 米 both readable; an empty bar is 0)."""
    return {
        "title": title,
        "unit": "",
        "log": True,
        "categories": [x.material_code for x in lines],
        "names": [f"{x.warehouse_id} · {x.material_name}（{x.unit}）" for x in lines],
        "series": [
            {"name": "现行定额", "key": "current", "data": [x.current for x in lines]},
            {"name": "推荐定额", "key": "recommended", "data": [x.recommended for x in lines]},
        ],
    }


def advice_card(session: Session, now: datetime) -> dict[str, Any]:
    """What the 库存对照定额 tab shows of the newest recommendation done (None when there is
    none), and of one being computed."""
    done = latest_recommendation(session=session)
    running = computing(session, now)
    pending = None if running is None else public(running, now=now)
    if done is None:
        return {"advice": None, "advice_pending": pending}
    return {
        "advice": done,
        "advice_pending": pending,
        "advice_level": level_text(done.service_level),
        "advice_replay": replay_chart(done),
        "advice_materials": materials_chart(done),
    }
