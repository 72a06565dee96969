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
    Asked,
    RecommendationAsk,
    RecommendationDetail,
    RecommendationPublic,
    done_recommendation,
    get_recommendation,
    list_recommendations,
    recommend_in_background,
    recommendation_workbook,
)

router = APIRouter(prefix="/quotas", tags=["reserve"])
READ = [require("catalogs.read")]
RecommendationId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="定额建议编号 / recommendation id")
]


@router.post(
    "/recommendations",
    response_model=RecommendationPublic,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[require("quotas.recommend")],
    responses={
        409: {
            "description": "另一条定额建议正在计算, 或没有已确认的定额目录可对照 / another "
            "recommendation is being computed, or no confirmed quota catalog to compare with"
        }
    },
)
def recommend(
    ask: RecommendationAsk,
    session: SessionDep,
    clock: ClockDep,
    user: UserDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    policy: PolicyDep,
) -> RecommendationPublic:
    """按近 12 个月需求推荐储备定额并重放一年验证 / Recommend the year's reserve quotas.

    Recommends a quota per warehouse × material of the reserve catalog from the 52 weeks of
    weekly batches before now, for the target service level (default
    GRIDSUPPLY_QUOTA_SERVICE_LEVEL), and replays the year with the current and the recommended
    quotas through the engine. Answers at once (202) with the recommendation `computing`
    (audited); it is computed in the background in well under a minute: `GET …/{id}` then says
    `done` with on-time rate and average stock value for both and every line (or `failed`, with
    the reason). One is computed at a time (409 meanwhile). Nothing else changes: import the
    workbook (`…/{id}/workbook.xlsx`) to make it the year's draft quota catalog."""
    return recommend_in_background(
        Asked(session.get_bind(), calendar, policy, settings),  # type: ignore[arg-type]
        year=ask.year,
        service_level=ask.level() or settings.quota_service_level,
        clock=clock.now,
        user=user,
    )


@router.get("/recommendations", response_model=Page[RecommendationPublic], dependencies=READ)
def list_all(
    session: SessionDep,
    clock: ClockDep,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 / year")] = None,
) -> Page[RecommendationPublic]:
    """定额建议, 新者在前 / List quota recommendations, newest first (computing ones too)."""
    return list_recommendations(
        session=session, year=year, offset=page.offset, limit=page.limit, now=clock.now()
    )


@router.get(
    "/recommendations/{recommendation_id}",
    response_model=RecommendationDetail,
    dependencies=READ,
)
def get_one(
    session: SessionDep, clock: ClockDep, recommendation_id: RecommendationId
) -> RecommendationDetail:
    """一条定额建议及其明细 / One recommendation: computing, done (with its lines) or failed."""
    return get_recommendation(session=session, recommendation_id=recommendation_id, now=clock.now())


@router.get(
    "/recommendations/{recommendation_id}/workbook.xlsx",
    response_class=Response,
    dependencies=READ,
    responses={
        200: {"content": {MEDIA_TYPES["xlsx"]: {}}, "description": "储备定额建议.xlsx"},
        409: {"description": "尚在计算或计算失败 / still being computed, or failed"},
    },
)
def workbook(session: SessionDep, clock: ClockDep, recommendation_id: RecommendationId) -> Response:
    """草稿定额目录工作簿(quotas 导入格式) / The draft quota catalog workbook, in the `quotas`
    import format, with the current quota, the demand seen, the lead time and the replay's
    on-time rates beside each row."""
    done = done_recommendation(
        session=session, recommendation_id=recommendation_id, now=clock.now()
    )
    return xlsx_download(recommendation_workbook(done), f"{done.year}年储备定额建议_{done.id}.xlsx")
