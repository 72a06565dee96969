"""The quota advisor: recommend the year's reserve quotas from the last 12 months of demand,
proven by replaying the year through the engine; the draft quota catalog workbook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from starlette.responses import Response

from api.deps import (
    MAX_ID,
    CalendarDep,
    ClockDep,
    PageDep,
    PolicyDep,
    SessionDep,
    SettingsDep,
    UserDep,
    require,
)
from api.downloads import xlsx_download
from supply.core.paging import Page
from supply.core.sheets import MEDIA_TYPES
from supply.quotas import (
    RecommendationAsk,
    RecommendationDetail,
    RecommendationPublic,
    get_recommendation,
    list_recommendations,
    recommend_quotas,
    recommendation_workbook,
)

router = APIRouter(prefix="/quotas", tags=["reserve"])
READ = [require("catalogs.read")]
RecommendationId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="定额建议编号 / recommendation id")
]


@router.post(
    "/recommendations",
    response_model=RecommendationDetail,
    status_code=status.HTTP_201_CREATED,
    dependencies=[require("quotas.recommend")],
    responses={409: {"description": "没有已确认的定额目录可对照 / no confirmed quota catalog"}},
)
def recommend(
    ask: RecommendationAsk,
    session: SessionDep,
    clock: ClockDep,
    user: UserDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    policy: PolicyDep,
) -> RecommendationDetail:
    """按近 12 个月需求推荐储备定额并重放一年验证 / Recommend the year's reserve quotas.

    Reads the 52 weeks of weekly batches before now, recommends a quota per warehouse ×
    material of the reserve catalog for the target service level (default
    GRIDSUPPLY_QUOTA_SERVICE_LEVEL), replays the year with the current and the recommended
    quotas through the engine, and saves the recommendation (audited): on-time rate and average
    stock value for both, and per line the demand seen, the lead time and the on-time rate each
    gives. Takes a few tens of seconds. Nothing else changes: import the workbook
    (`…/workbook.xlsx`) to make it the year's draft quota catalog."""
    return recommend_quotas(
        engine=session.get_bind(),  # type: ignore[arg-type]
        year=ask.year,
        service_level=ask.level() or settings.quota_service_level,
        now=clock.now(),
        calendar=calendar,
        policy=policy,
        settings=settings,
        user=user,
    )


@router.get("/recommendations", response_model=Page[RecommendationPublic], dependencies=READ)
def list_all(
    session: SessionDep,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 / year")] = None,
) -> Page[RecommendationPublic]:
    """定额建议, 新者在前 / List quota recommendations, newest first."""
    return list_recommendations(session=session, year=year, offset=page.offset, limit=page.limit)


@router.get(
    "/recommendations/{recommendation_id}",
    response_model=RecommendationDetail,
    dependencies=READ,
)
def get_one(session: SessionDep, recommendation_id: RecommendationId) -> RecommendationDetail:
    """一条定额建议及其明细 / One recommendation with its lines."""
    return get_recommendation(session=session, recommendation_id=recommendation_id)


@router.get(
    "/recommendations/{recommendation_id}/workbook.xlsx",
    response_class=Response,
    dependencies=READ,
    responses={200: {"content": {MEDIA_TYPES["xlsx"]: {}}, "description": "储备定额建议.xlsx"}},
)
def workbook(session: SessionDep, recommendation_id: RecommendationId) -> Response:
    """草稿定额目录工作簿(quotas 导入格式) / The draft quota catalog workbook, in the `quotas`
    import format, with the current quota, the demand seen, the lead time and the replay's
    on-time rates beside each row."""
    done = get_recommendation(session=session, recommendation_id=recommendation_id)
    return xlsx_download(recommendation_workbook(done), f"{done.year}年储备定额建议_{done.id}.xlsx")
