"""Recommend the year's reserve quotas: read the last 12 months, advise, replay, save.

A recommendation is asked for, then computed — the replay takes tens of seconds:

- `start_recommendation` records the question (who, year, service level, the window and the
  catalog compared with) as *computing*, audited, in one short transaction; it refuses when
  another is being computed (one at a time, whichever process asks) or when there is no confirmed
  quota catalog to compare with;
- `finish_recommendation` reads in one session (the window's batches, the demand history, the
  catalogs), computes with no session open (the advice, then the year replayed with the current
  quotas and with the recommended ones — `compute`), and saves the figures and lines in one
  transaction with its audit event: *done*, or *failed* with the reason.

`recommend_quotas` does both here and now (the command line, the demo); `recommend_in_background`
returns at once and finishes in a thread (the HTTP API, the page). Nothing else changes: the
draft quota catalog is made by importing the recommendation's workbook (`supply.quotas.workbook`)
through the ordinary draft → confirm flow.
"""

from __future__ import annotations

import contextvars
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalogs.models import Material
from supply.calendar import WorkCalendar
from supply.core.audit import record
from supply.core.clock import local_today
from supply.core.db import write_session
from supply.core.errors import Conflict, DomainError, NotFound
from supply.core.money import fen
from supply.core.paging import Page, paginate
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
    RecommendationStatus,
)
from supply.quotas.replay import ReplayResult, replay
from supply.quotas.world import HistoryLine, Pair, World

Progress = Callable[[str], None]
logger = logging.getLogger("gridsupply.quotas")


@dataclass
class Computed:
    """The advice and the two replays of one recommendation."""

    world: World
    history: list[HistoryLine]
    advice: list[Advice]
    current: ReplayResult
    recommended: ReplayResult
    replay_seconds: float  # both replays, wall clock (side by side, or one after the other)


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
    started = time.perf_counter()
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
    seconds = time.perf_counter() - started
    return Computed(world, history, advice, current, future, seconds)


STALE_AFTER = timedelta(minutes=15)  # computing after this long: its process is gone
INTERRUPTED = (
    "计算中断：超过 15 分钟未结束（服务器可能已重启），请重新计算 / interrupted: not done after "
    "15 minutes (the server may have restarted); ask again"
)
INTERNAL_ERROR = "内部错误，详见服务器日志 / internal error: see the server's log"


@dataclass(frozen=True)
class Asked:
    """What `recommend_quotas` and `start_recommendation` need besides the question."""

    engine: Engine
    calendar: WorkCalendar
    policy: DeadlinePolicy
    settings: Settings


def computing(session: Session, now: datetime) -> QuotaRecommendation | None:
    """The recommendation being computed now, if any (one computing longer than STALE_AFTER is
    not: its process is gone)."""
    return session.exec(
        select(QuotaRecommendation).where(
            QuotaRecommendation.status == RecommendationStatus.COMPUTING,
            col(QuotaRecommendation.created_at) > now - STALE_AFTER,
        )
    ).first()


def start_recommendation(
    asked: Asked, *, year: int, service_level: Decimal, now: datetime, user: str
) -> int:
    """Record that `user` asks for `year`'s quotas at `service_level` (audited) and return the
    recommendation's id, computing: Conflict when another is being computed, or when there is
    no confirmed quota catalog to compare with. Quick: the computing is `finish_recommendation`."""
    start, batches = window(now, calendar=asked.calendar, policy=asked.policy)
    with write_session(asked.engine) as session:
        busy = computing(session, now)
        if busy is not None:
            raise Conflict(
                f"定额建议 #{busy.id} 正在计算（{busy.created_by}），完成后再请求 / quota "
                f"recommendation #{busy.id} is being computed (asked by {busy.created_by}); ask "
                "again when it is done",
                loc=("body",),
            )
        catalog = quota_catalog(session, year=year, today=local_today(now))
        saved = QuotaRecommendation(
            year=year,
            service_level_permille=int(service_level * 1000),
            first_batch=batches[0].id,
            last_batch=batches[-1].id,
            window_start=start,
            window_end=batches[-1].cutoff,
            catalog=f"{catalog.year} 年第 {catalog.version} 版",
            created_at=now,
            created_by=user[:100],
        )
        session.add(saved)
        session.flush()
        record(
            session, actor=user, action="quota.recommend", object_type="quota_recommendation",
            object_id=saved.id,
            after={"year": year, "service_level": str(service_level),
                   "window": f"{saved.first_batch}..{saved.last_batch}", "catalog": saved.catalog},
            at=now,
        )  # fmt: skip
        session.commit()
        assert saved.id is not None
        return saved.id


def finish_recommendation(
    asked: Asked,
    recommendation_id: int,
    *,
    now: Callable[[], datetime],
    workers: int = 1,
    progress: Progress | None = None,
) -> RecommendationDetail:
    """Compute a recommendation asked for: read the window it was asked at, advise, replay, and
    save its figures and lines (done, audited) — or, when that fails, why (failed, audited, and
    the error raised again)."""
    step = progress or (lambda _: None)
    with Session(asked.engine) as session:
        asked_for = session.get(QuotaRecommendation, recommendation_id)
        assert asked_for is not None
        year, created = asked_for.year, asked_for.created_at
        level = Decimal(asked_for.service_level_permille) / 1000
    try:
        step("读取近 12 个月需求与目录 / reading the last 12 months of demand and the catalogs")
        world, history = _read(asked, year=year, at=created)
        done = compute(world, history, level, workers=workers, progress=step)
        step("保存 / saving the recommendation")
        with write_session(asked.engine) as session:
            saved = _save(session, recommendation_id, done, now=now())
            session.commit()
            return _detail(session, saved)
    except DomainError as exc:
        _fail(asked.engine, recommendation_id, exc.message, now=now())
        raise
    except Exception:
        logger.exception("quota recommendation %s failed", recommendation_id)
        _fail(asked.engine, recommendation_id, INTERNAL_ERROR, now=now())
        raise


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
    """Recommend `year`'s quotas from the 52 weeks before `now` at `service_level`, replay them
    against the current ones and save the recommendation (audited), here and now."""
    asked = Asked(engine, calendar, policy, settings)
    made = start_recommendation(asked, year=year, service_level=service_level, now=now, user=user)
    return finish_recommendation(asked, made, now=lambda: now, workers=workers, progress=progress)


def recommend_in_background(
    asked: Asked, *, year: int, service_level: Decimal, clock: Callable[[], datetime], user: str
) -> RecommendationPublic:
    """Ask for a recommendation and compute it in a thread of this process (the replay takes
    a while); return it at once, computing. Its figures are there when `get_recommendation`
    says done (or failed, with the reason)."""
    made = start_recommendation(
        asked, year=year, service_level=service_level, now=clock(), user=user
    )
    context = contextvars.copy_context()  # the request's id goes with the audit events
    thread = threading.Thread(
        target=context.run, args=(_quietly, asked, made, clock),
        name=f"quota-recommendation-{made}", daemon=True,
    )  # fmt: skip
    thread.start()
    with Session(asked.engine) as session:
        found = session.get(QuotaRecommendation, made)
        assert found is not None
        return public(found, now=clock())


def _quietly(asked: Asked, recommendation_id: int, clock: Callable[[], datetime]) -> None:
    """Finish a recommendation in the background: a failure is recorded on it (and logged)."""
    try:
        finish_recommendation(asked, recommendation_id, now=clock)
    except Exception:  # recorded as failed by finish_recommendation
        return


def _read(asked: Asked, *, year: int, at: datetime) -> tuple[World, list[HistoryLine]]:
    """The world and the history of the 52 weeks before `at`."""
    today = local_today(at)
    start, batches = window(at, calendar=asked.calendar, policy=asked.policy)
    with Session(asked.engine) as session:
        catalog = quota_catalog(session, year=year, today=today)
        world = read_world(
            session,
            catalog=catalog,
            batches=batches,
            start=start,
            today=today,
            central_warehouse=asked.settings.default_delivery_warehouse,
            penalty=asked.settings.reserve_below_quota_penalty,
        )
        history = read_history(session, start=start, end=world.end, materials=set(world.materials))
    return world, history


def _fail(engine: Engine, recommendation_id: int, message: str, *, now: datetime) -> None:
    with write_session(engine) as session:
        saved = session.get(QuotaRecommendation, recommendation_id)
        assert saved is not None
        saved.status, saved.message, saved.finished_at = (
            RecommendationStatus.FAILED, message[:500], now,
        )  # fmt: skip
        session.add(saved)
        record(
            session, actor=saved.created_by, action="quota.recommend_finish",
            object_type="quota_recommendation", object_id=recommendation_id,
            after={"status": RecommendationStatus.FAILED, "message": message[:200]}, at=now,
        )  # fmt: skip
        session.commit()


def _save(
    session: Session, recommendation_id: int, done: Computed, *, now: datetime
) -> QuotaRecommendation:
    """Write the figures and lines of a computed recommendation, done, and its audit event
    (flush only)."""
    saved = session.get(QuotaRecommendation, recommendation_id)
    assert saved is not None
    world, current, future = done.world, done.current, done.recommended
    saved.status = RecommendationStatus.DONE
    saved.catalog = world.catalog
    saved.history_lines = len(done.history)
    saved.short_lines = current.lines
    saved.on_time_current, saved.on_time_recommended = current.on_time, future.on_time
    saved.other_lines = current.other_lines
    saved.other_on_time_current = current.other_on_time
    saved.other_on_time_recommended = future.other_on_time
    saved.stock_value_current = fen(current.average_value)
    saved.stock_value_recommended = fen(future.average_value)
    saved.quota_value_current = fen(current.quota_value)
    saved.quota_value_recommended = fen(future.quota_value)
    saved.replay_seconds = round(done.replay_seconds, 2)
    saved.finished_at = now
    session.add(saved)
    for a in done.advice:
        lines, now_on_time = current.by_pair.get(a.pair, [0, 0])
        _, then_on_time = future.by_pair.get(a.pair, [0, 0])
        session.add(
            QuotaRecommendationLine(
                recommendation_id=recommendation_id,
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
        session, actor=saved.created_by, action="quota.recommend_finish",
        object_type="quota_recommendation", object_id=recommendation_id,
        after={
            "status": RecommendationStatus.DONE,
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


def _rate(part: int, whole: int, done: bool) -> float | None:
    if not done:
        return None
    return part / whole if whole else 1.0


def public(saved: QuotaRecommendation, *, now: datetime | None = None) -> RecommendationPublic:
    """A stored recommendation with its rates (one computing since before STALE_AFTER, as of
    `now`, is reported failed: interrupted)."""
    assert saved.id is not None
    done = saved.status == RecommendationStatus.DONE
    status, message = saved.status, saved.message
    stale = now is not None and now - saved.created_at > STALE_AFTER
    if status == RecommendationStatus.COMPUTING and stale:
        status, message = RecommendationStatus.FAILED, INTERRUPTED
    return RecommendationPublic(
        id=saved.id,
        status=status,
        message=message,
        year=saved.year,
        service_level=saved.service_level_permille / 1000,
        first_batch=saved.first_batch,
        last_batch=saved.last_batch,
        window_start=saved.window_start,
        window_end=saved.window_end,
        catalog=saved.catalog,
        history_lines=saved.history_lines,
        short_lines=saved.short_lines,
        on_time_rate_current=_rate(saved.on_time_current, saved.short_lines, done),
        on_time_rate_recommended=_rate(saved.on_time_recommended, saved.short_lines, done),
        other_lines=saved.other_lines,
        other_on_time_rate_current=_rate(saved.other_on_time_current, saved.other_lines, done),
        other_on_time_rate_recommended=_rate(
            saved.other_on_time_recommended, saved.other_lines, done
        ),
        stock_value_current=saved.stock_value_current,
        stock_value_recommended=saved.stock_value_recommended,
        quota_value_current=saved.quota_value_current,
        quota_value_recommended=saved.quota_value_recommended,
        replay_seconds=saved.replay_seconds,
        created_at=saved.created_at,
        created_by=saved.created_by,
        finished_at=saved.finished_at,
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
    return part / whole if whole else None


def _detail(
    session: Session, saved: QuotaRecommendation, now: datetime | None = None
) -> RecommendationDetail:
    assert saved.id is not None
    return RecommendationDetail(
        **public(saved, now=now).model_dump(), lines=recommendation_lines(session, saved.id)
    )


def get_recommendation(
    *, session: Session, recommendation_id: int, now: datetime | None = None
) -> RecommendationDetail:
    """One recommendation with its lines (as of `now`: computing too long is failed), or
    NotFound."""
    saved = session.get(QuotaRecommendation, recommendation_id)
    if saved is None:
        raise NotFound(
            f"定额建议 {recommendation_id} 不存在 / quota recommendation {recommendation_id} "
            "does not exist",
            loc=("recommendation_id",),
        )
    return _detail(session, saved, now)


def done_recommendation(
    *, session: Session, recommendation_id: int, now: datetime | None = None
) -> RecommendationDetail:
    """A recommendation that is done; NotFound, or Conflict saying it is still being computed
    (or why it failed)."""
    found = get_recommendation(session=session, recommendation_id=recommendation_id, now=now)
    if found.status == RecommendationStatus.COMPUTING:
        raise Conflict(
            f"定额建议 #{found.id} 正在计算，请稍后 / quota recommendation #{found.id} is still "
            "being computed; ask again in a minute",
            loc=("recommendation_id",),
        )
    if found.status == RecommendationStatus.FAILED:
        raise Conflict(
            f"定额建议 #{found.id} 计算失败 / quota recommendation #{found.id} failed: "
            f"{found.message}",
            loc=("recommendation_id",),
        )
    return found


def latest_recommendation(
    *, session: Session, year: int | None = None
) -> RecommendationDetail | None:
    """The newest recommendation that is done (of a year), with its lines, or None."""
    statement = select(QuotaRecommendation).where(
        QuotaRecommendation.status == RecommendationStatus.DONE
    )
    if year is not None:
        statement = statement.where(QuotaRecommendation.year == year)
    saved = session.exec(statement.order_by(col(QuotaRecommendation.id).desc()).limit(1)).first()
    return None if saved is None else _detail(session, saved)


def list_recommendations(
    *,
    session: Session,
    year: int | None = None,
    offset: int = 0,
    limit: int = 100,
    now: datetime | None = None,
) -> Page[RecommendationPublic]:
    """Recommendations, newest first (computing and failed ones too)."""
    statement = select(QuotaRecommendation)
    if year is not None:
        statement = statement.where(QuotaRecommendation.year == year)
    return paginate(
        session,
        statement,
        order_by=[col(QuotaRecommendation.id).desc()],
        offset=offset,
        limit=limit,
        convert=lambda saved: public(saved, now=now),
    )
