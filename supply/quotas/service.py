"""Recommend the year's reserve quotas: read the last 12 months, advise, replay, save.

`recommend_quotas` is the one use case (the command line and the HTTP API both call it): it
reads in one session (the window's batches, the demand history, the catalogs), computes with no
session open (the advice, then the year replayed with the current quotas and with the
recommended ones — `compute`), and saves the recommendation in one transaction with its audit
event. Nothing else changes: the draft quota catalog is made by importing the recommendation's
workbook (`supply.quotas.workbook`) through the ordinary draft → confirm flow.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalogs.models import Material
from supply.calendar import WorkCalendar
from supply.core.audit import record
from supply.core.clock import local_today
from supply.core.db import write_session
from supply.core.errors import NotFound
from supply.core.money import fen
from supply.core.paging import Page, check_page
from supply.core.settings import Settings
from supply.policy import DeadlinePolicy
from supply.quotas.advisor import Advice, homes, recommend
from supply.quotas.inputs import quota_catalog, read_history, read_world, window
from supply.quotas.models import (
    QuotaRecommendation,
    QuotaRecommendationLine,
    RecommendationDetail,
    RecommendationLinePublic,
    RecommendationPublic,
)
from supply.quotas.replay import ReplayResult, replay
from supply.quotas.world import HistoryLine, Pair, World

Progress = Callable[[str], None]


@dataclass
class Computed:
    """The advice and the two replays of one recommendation."""

    world: World
    history: list[HistoryLine]
    advice: list[Advice]
    current: ReplayResult
    recommended: ReplayResult

    @property
    def replay_seconds(self) -> float:
        """The replays' own time (each in its process when run side by side)."""
        return max(self.current.seconds, self.recommended.seconds)


def _replay(world: World, history: list[HistoryLine], quotas: dict[Pair, int]) -> ReplayResult:
    return replay(world, history, quotas, home=homes(world))


def compute(
    world: World,
    history: list[HistoryLine],
    service_level: Decimal,
    *,
    workers: int = 1,
    progress: Progress | None = None,
) -> Computed:
    """Advise, then replay the year with the current quotas and with the recommended ones —
    one after the other, or with `workers` = 2 in two processes side by side (a second core
    halves the wait; the engine is the same)."""
    step = progress or (lambda _: None)
    step(f"推荐定额 / advising {len(world.pairs)} warehouse × material pairs")
    advice = recommend(world, history, service_level)
    recommended = {a.pair: a.recommended for a in advice}
    step(
        "重放一年：现行定额与推荐定额 / replaying the year with the current and the recommended quotas"
    )
    if workers > 1:
        # A fresh interpreter per worker: forking a process that runs threads (a server) is
        # unsafe.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            now = pool.submit(_replay, world, history, dict(world.current))
            then = pool.submit(_replay, world, history, recommended)
            current, future = now.result(), then.result()
    else:
        current = _replay(world, history, dict(world.current))
        future = _replay(world, history, recommended)
    return Computed(world, history, advice, current, future)


def recommend_quotas(
    *,
    engine: Engine,
    year: int,
    service_level: Decimal,
    now: datetime,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
    settings: Settings,
    user: str,
    workers: int = 1,
    progress: Progress | None = None,
) -> RecommendationDetail:
    """Recommend `year`'s quotas from the 52 batches before `now` at `service_level`, replay
    them against the current ones, and save the recommendation (audited)."""
    step = progress or (lambda _: None)
    step("读取近 12 个月需求与目录 / reading the last 12 months of demand and the catalogs")
    today = local_today(now)
    start, batches = window(now, calendar=calendar, policy=policy)
    with Session(engine) as session:
        catalog = quota_catalog(session, year=year, today=today)
        world = read_world(
            session,
            catalog=catalog,
            batches=batches,
            start=start,
            today=today,
            central_warehouse=settings.default_delivery_warehouse,
            penalty=settings.reserve_below_quota_penalty,
        )
        history = read_history(session, start=start, end=world.end, materials=set(world.materials))
    done = compute(world, history, service_level, workers=workers, progress=step)
    step("保存 / saving the recommendation")
    with write_session(engine) as session:
        saved = _save(session, done, year=year, service_level=service_level, now=now, user=user)
        session.commit()
        return _detail(session, saved)


def _save(
    session: Session,
    done: Computed,
    *,
    year: int,
    service_level: Decimal,
    now: datetime,
    user: str,
) -> QuotaRecommendation:
    """Add the recommendation, its lines and its audit event (flush only)."""
    world, current, future = done.world, done.current, done.recommended
    saved = QuotaRecommendation(
        year=year,
        service_level_permille=int(service_level * 1000),
        first_batch=world.batches[0].id,
        last_batch=world.batches[-1].id,
        window_start=world.start,
        window_end=world.end,
        catalog=world.catalog,
        history_lines=len(done.history),
        short_lines=current.lines,
        on_time_current=current.on_time,
        on_time_recommended=future.on_time,
        other_lines=current.other_lines,
        other_on_time_current=current.other_on_time,
        other_on_time_recommended=future.other_on_time,
        stock_value_current=fen(current.average_value),
        stock_value_recommended=fen(future.average_value),
        quota_value_current=fen(current.quota_value),
        quota_value_recommended=fen(future.quota_value),
        replay_seconds=round(done.replay_seconds, 2),
        created_at=now,
        created_by=user[:100],
    )
    session.add(saved)
    session.flush()
    assert saved.id is not None
    for a in done.advice:
        lines, now_on_time = current.by_pair.get(a.pair, [0, 0])
        _, then_on_time = future.by_pair.get(a.pair, [0, 0])
        session.add(
            QuotaRecommendationLine(
                recommendation_id=saved.id,
                warehouse_id=a.warehouse_id,
                material_code=a.material,
                current=a.current,
                recommended=a.recommended,
                lines=a.lines,
                quantity=a.quantity,
                lead_days=a.lead_days,
                unit_price=a.unit_price,
                replay_lines=lines,
                on_time_current=now_on_time,
                on_time_recommended=then_on_time,
                reason=a.reason[:400],
            )
        )
    record(
        session, actor=user, action="quota.recommend", object_type="quota_recommendation",
        object_id=saved.id,
        after={
            "year": year, "service_level": str(service_level),
            "window": f"{saved.first_batch}..{saved.last_batch}", "catalog": world.catalog,
            "on_time_current": f"{current.on_time}/{current.lines}",
            "on_time_recommended": f"{future.on_time}/{future.lines}",
            "stock_value_current": str(saved.stock_value_current),
            "stock_value_recommended": str(saved.stock_value_recommended),
        },
        at=now,
    )  # fmt: skip
    session.flush()
    return saved


# ------------------------------------------------------------------ reads


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def public(saved: QuotaRecommendation) -> RecommendationPublic:
    """A stored recommendation with its rates."""
    assert saved.id is not None
    return RecommendationPublic(
        id=saved.id,
        year=saved.year,
        service_level=saved.service_level_permille / 1000,
        first_batch=saved.first_batch,
        last_batch=saved.last_batch,
        window_start=saved.window_start,
        window_end=saved.window_end,
        catalog=saved.catalog,
        history_lines=saved.history_lines,
        short_lines=saved.short_lines,
        on_time_rate_current=_rate(saved.on_time_current, saved.short_lines),
        on_time_rate_recommended=_rate(saved.on_time_recommended, saved.short_lines),
        other_lines=saved.other_lines,
        other_on_time_rate_current=_rate(saved.other_on_time_current, saved.other_lines),
        other_on_time_rate_recommended=_rate(saved.other_on_time_recommended, saved.other_lines),
        stock_value_current=saved.stock_value_current,
        stock_value_recommended=saved.stock_value_recommended,
        quota_value_current=saved.quota_value_current,
        quota_value_recommended=saved.quota_value_recommended,
        replay_seconds=saved.replay_seconds,
        created_at=saved.created_at,
        created_by=saved.created_by,
    )


def recommendation_lines(
    session: Session, recommendation_id: int
) -> list[RecommendationLinePublic]:
    """A recommendation's lines, by warehouse and material, with the material's name and unit."""
    rows = session.exec(
        select(QuotaRecommendationLine, Material.name_zh, Material.unit)
        .join(Material, col(Material.code) == QuotaRecommendationLine.material_code)
        .where(QuotaRecommendationLine.recommendation_id == recommendation_id)
        .order_by(
            col(QuotaRecommendationLine.warehouse_id), col(QuotaRecommendationLine.material_code)
        )
    ).all()
    return [
        RecommendationLinePublic(
            warehouse_id=line.warehouse_id,
            material_code=line.material_code,
            material_name=name,
            unit=unit,
            current=line.current,
            recommended=line.recommended,
            lines=line.lines,
            quantity=line.quantity,
            lead_days=line.lead_days,
            unit_price=line.unit_price,
            on_time_current=_share(line.on_time_current, line.replay_lines),
            on_time_recommended=_share(line.on_time_recommended, line.replay_lines),
            reason=line.reason,
        )
        for line, name, unit in rows
    ]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _detail(session: Session, saved: QuotaRecommendation) -> RecommendationDetail:
    assert saved.id is not None
    return RecommendationDetail(
        **public(saved).model_dump(), lines=recommendation_lines(session, saved.id)
    )


def get_recommendation(*, session: Session, recommendation_id: int) -> RecommendationDetail:
    """One recommendation with its lines, or NotFound."""
    saved = session.get(QuotaRecommendation, recommendation_id)
    if saved is None:
        raise NotFound(
            f"定额建议 {recommendation_id} 不存在 / quota recommendation {recommendation_id} "
            "does not exist",
            loc=("recommendation_id",),
        )
    return _detail(session, saved)


def latest_recommendation(
    *, session: Session, year: int | None = None
) -> RecommendationDetail | None:
    """The newest recommendation (of a year), with its lines, or None."""
    statement = select(QuotaRecommendation)
    if year is not None:
        statement = statement.where(QuotaRecommendation.year == year)
    saved = session.exec(statement.order_by(col(QuotaRecommendation.id).desc()).limit(1)).first()
    return None if saved is None else _detail(session, saved)


def list_recommendations(
    *, session: Session, year: int | None = None, offset: int = 0, limit: int = 100
) -> Page[RecommendationPublic]:
    """Recommendations, newest first."""
    check_page(offset=offset, limit=limit)
    statement = select(QuotaRecommendation)
    if year is not None:
        statement = statement.where(QuotaRecommendation.year == year)
    total = len(session.exec(statement).all())
    rows = session.exec(
        statement.order_by(col(QuotaRecommendation.id).desc()).offset(offset).limit(limit)
    ).all()
    return Page[RecommendationPublic](
        items=[public(r) for r in rows], total=total, offset=offset, limit=limit
    )
