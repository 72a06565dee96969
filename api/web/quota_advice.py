"""定额建议 (/stock/advice), a tab of 库存与定额: the newest quota recommendation warehouse by
warehouse — current and recommended quota per material as a chart and a table, the demand seen,
the lead time and the replay's on-time rate with each — its draft workbook, and 重新计算 for
the planner and marketing: the same service calls as /api/v1/quotas/recommendations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from api.deps import MAX_ID, CalendarDep, ClockDep, PolicyDep, SessionDep, SettingsDep
from api.downloads import xlsx_download
from api.web.advice_charts import level_text, pairs_chart
from api.web.render import PageRoute, render
from api.web.session import PageActor, page_require
from api.web.stock import Filters, head_context
from catalogs.queries import list_warehouses
from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.core.clock import local_today
from supply.core.errors import DomainError
from supply.core.settings import Settings
from supply.quotas import (
    Asked,
    done_recommendation,
    get_recommendation,
    latest_recommendation,
    list_recommendations,
    recommend_in_background,
    recommendation_workbook,
)
from supply.quotas.models import RecommendationStatus, ServiceLevel

router = APIRouter(prefix="/stock/advice", route_class=PageRoute, include_in_schema=False)
READ = [page_require("catalogs.read")]
LEVEL = TypeAdapter(ServiceLevel)
WAREHOUSES_OFFERED = 1000


def _warehouse(value: str | None, known: list[str], errors: dict[str, str]) -> str | None:
    """The warehouse asked for if it exists (else named under its field, and not applied)."""
    text = (value or "").strip()[:32]
    if not text:
        return None
    if text in known:
        return text
    errors["warehouse"] = f"没有仓库 {text} / no such warehouse"
    return None


def advice_context(
    session: Session,
    now: datetime,
    actor: Actor,
    settings: Settings,
    warehouse: str | None,
    *,
    errors: dict[str, str] | None = None,
    sent: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The newest recommendation's lines (of one warehouse, or all), the chart of one warehouse
    (the one chosen, else the first), the form to compute it again, and a newer one still
    computing or failed."""
    today = local_today(now)
    newest = list_recommendations(session=session, limit=1, now=now).items
    known = [w.id for w in list_warehouses(session=session, limit=WAREHOUSES_OFFERED).items]
    found = Filters(form={"warehouse": (warehouse or "").strip()[:32]}, errors=dict(errors or {}))
    chosen = _warehouse(found.form["warehouse"], known, found.errors)
    done = latest_recommendation(session=session)
    lines = [x for x in done.lines if chosen in (None, x.warehouse_id)] if done else []
    drawn = chosen or (lines[0].warehouse_id if lines else "")
    shown = [x for x in lines if x.warehouse_id == drawn]
    return {
        **head_context(session, today, "/stock/advice"),
        "filters": found,
        "warehouses": known,
        "advice": done,
        "advice_level": level_text(done.service_level) if done else "",
        "lines": lines,
        "chart_warehouse": drawn,
        "chart": pairs_chart(shown, f"{drawn} 现行定额与推荐定额（各物料自身单位，对数刻度）"),
        "can_recommend": actor.can(Permission.QUOTAS_RECOMMEND),
        "pending": newest[0] if newest and newest[0].status != RecommendationStatus.DONE else None,
        "computing": RecommendationStatus.COMPUTING.value,
        "form": {
            "year": str(today.year),
            "service_level": str(settings.quota_service_level),
            **(sent or {}),
        },
    }


@router.get("", dependencies=READ)
def advice_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    actor: PageActor,
    settings: SettingsDep,
    warehouse: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """定额建议: the newest recommendation by warehouse and material, with its chart."""
    context = advice_context(session, clock.now(), actor, settings, warehouse)
    return render(request, "stock/advice.html", context)


@router.get("/{recommendation_id}/status", dependencies=READ)
def advice_status(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    recommendation_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """The computing notice, asked again every few seconds by htmx; once the recommendation is
    done (or failed) the page is loaded again (HX-Refresh) to show it."""
    found = get_recommendation(
        session=session, recommendation_id=recommendation_id, now=clock.now()
    )
    if found.status != RecommendationStatus.COMPUTING:
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return render(request, "stock/_advice_computing.html", {"pending": found})


@router.get("/{recommendation_id}/workbook", dependencies=READ)
def advice_workbook(
    session: SessionDep, recommendation_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """The draft quota catalog workbook (quotas import format), as the API's `workbook.xlsx`."""
    done = done_recommendation(session=session, recommendation_id=recommendation_id)
    return xlsx_download(recommendation_workbook(done), f"{done.year}年储备定额建议_{done.id}.xlsx")


@router.post("", dependencies=[page_require("quotas.recommend")])
def advice_run(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    actor: PageActor,
    settings: SettingsDep,
    calendar: CalendarDep,
    policy: PolicyDep,
    year: Annotated[str, Form(max_length=10)] = "",
    service_level: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """重新计算: as POST /api/v1/quotas/recommendations (the signed-in user asks, audited; it is
    computed in the background); then back to the tab (303), which follows it — or the tab
    again with the problem under its field (422), or why it cannot be asked now (409)."""
    now = clock.now()
    sent = {"year": year.strip()[:10], "service_level": service_level.strip()[:10]}
    errors: dict[str, str] = {}
    chosen_year = int(sent["year"]) if sent["year"].isdigit() else 0
    if not 2000 <= chosen_year <= 2100:
        errors["year"] = "年度写作四位数字，如 2026 / a year such as 2026"
    try:
        level = LEVEL.validate_python(sent["service_level"] or settings.quota_service_level)
    except ValidationError:
        errors["service_level"] = (
            "目标服务水平为 0.5–1 之间、至多三位小数，如 0.95 / 0.5–1, e.g. 0.95"
        )
    if errors:
        context = advice_context(session, now, actor, settings, None, errors=errors, sent=sent)
        return render(request, "stock/advice.html", context, status=422)
    try:
        recommend_in_background(
            Asked(session.get_bind(), calendar, policy, settings),  # type: ignore[arg-type]
            year=chosen_year, service_level=level, clock=clock.now, user=actor.login,
        )  # fmt: skip
    except DomainError as exc:
        session.rollback()
        context = advice_context(
            session, now, actor, settings, None, errors={"run": exc.message}, sent=sent
        )
        return render(request, "stock/advice.html", context, status=409)
    return RedirectResponse("/stock/advice", status_code=303)
