"""The quota advisor on the database: the sample year (catalogs as of the demo's Monday, the
generated history) gives quotas that meet the 95 % target in the replay, 0 for materials no
short-deadline project needs, one audit event, and a workbook the quotas import takes as the
year's draft. A small history runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalogs.importing import import_catalog
from catalogs.models import CatalogKind, Quota, QuotaCatalog, QuotaCatalogStatus
from catalogs.reserve import find_quota_catalog
from supply.calendar import default_calendar
from supply.core.clock import SHANGHAI
from supply.core.db import make_engine
from supply.core.errors import Conflict, NotFound
from supply.core.settings import Settings
from supply.policy import DeadlinePolicy
from supply.quotas import (
    get_recommendation,
    latest_recommendation,
    list_recommendations,
    recommend_quotas,
    recommendation_workbook,
)
from supply.quotas.models import QuotaRecommendation
from supply.sample.history import load_sample_history, sample_history
from supply.sample.week import SAMPLE_LOADED_AT
from tests.audit import events
from tests.conftest import copy_database
from tests.quotas.small import small_history

NOW = datetime(2026, 11, 30, 11, tzinfo=SHANGHAI)  # the demo's moment: batch 2026-W49
CALENDAR = default_calendar()
POLICY = DeadlinePolicy()
SETTINGS = Settings(database_url="sqlite:///unused.db")


def recommend(engine: Engine, *, year: int = 2026, level: str = "0.95", workers: int = 1):  # type: ignore[no-untyped-def]
    return recommend_quotas(
        engine=engine, year=year, service_level=Decimal(level), now=NOW, calendar=CALENDAR,
        policy=POLICY, settings=SETTINGS, user="营销部 孙营销", workers=workers,
    )  # fmt: skip


@pytest.fixture(scope="module")
def year_engine(
    tmp_path_factory: pytest.TempPathFactory, sqlite_sample_templates: dict[str, Path]
) -> Iterator[Engine]:
    """The sample catalogs with the generated year, and the recommendation made on them."""
    folder = tmp_path_factory.mktemp("quotas-year")
    [url] = list(copy_database(folder, sqlite=sqlite_sample_templates["catalogs"]))
    engine = make_engine(url)
    with Session(engine) as session:
        load_sample_history(
            session=session,
            history=sample_history(calendar=CALENDAR, policy=POLICY),
            now=SAMPLE_LOADED_AT,
        )
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def done(year_engine: Engine):  # type: ignore[no-untyped-def]
    return recommend(year_engine)


@pytest.mark.slow
def test_the_replay_shows_the_recommended_quotas_meet_the_target_on_the_sample_year(done) -> None:  # type: ignore[no-untyped-def]
    assert (done.first_batch, done.last_batch) == ("2025-W49", "2026-W48")
    assert done.window_start == datetime(2025, 11, 24, 12, tzinfo=SHANGHAI)
    assert done.short_lines > 15_000
    assert done.on_time_rate_recommended >= 0.95
    assert done.on_time_rate_current < done.on_time_rate_recommended
    assert done.stock_value_recommended > 0 and done.stock_value_current > 0
    assert done.catalog == "2026 年第 1 版"
    # Every material with short-deadline demand meets the target on its own lines.
    by_material: dict[str, list[int]] = {}
    for line in done.lines:
        if line.on_time_recommended is not None:
            seen = by_material.setdefault(line.material_code, [0, 0])
            seen[0] += line.lines
            seen[1] += round(line.on_time_recommended * line.lines)
    assert by_material and all(on / lines >= 0.94 for lines, on in by_material.values())


@pytest.mark.slow
def test_a_material_no_short_deadline_project_needs_gets_quota_0_with_the_reason(done) -> None:  # type: ignore[no-untyped-def]
    breakers = [x for x in done.lines if x.material_code == "PSW-VCB-630"]
    assert breakers and all(x.recommended == 0 and x.lines == 0 for x in breakers)
    assert any(x.current > 0 for x in breakers)
    assert all("no short-deadline project" in x.reason for x in breakers)
    assert all(x.on_time_current is None for x in breakers)  # no short-deadline line to count
    meters = [x for x in done.lines if x.material_code == "MTR-1P-SMART"]
    assert all(x.recommended > 0 and x.lines > 0 and x.lead_days > 30 for x in meters)


@pytest.mark.slow
def test_the_recommendation_is_saved_read_and_audited_once(year_engine: Engine, done) -> None:  # type: ignore[no-untyped-def]
    [event] = events(year_engine, action="quota.recommend")
    assert (event.actor, event.object_id) == ("营销部 孙营销", str(done.id))
    assert event.after is not None and event.after["year"] == 2026
    [finished] = events(year_engine, action="quota.recommend_finish")
    assert finished.after is not None and finished.after["status"] == "done"
    assert done.status == "done" and done.finished_at is not None
    with Session(year_engine) as session:
        again = get_recommendation(session=session, recommendation_id=done.id)
        assert again == done
        assert latest_recommendation(session=session) == done
        assert latest_recommendation(session=session, year=2027) is None
        assert list_recommendations(session=session).total == 1
        with pytest.raises(NotFound):
            get_recommendation(session=session, recommendation_id=done.id + 1)


@pytest.mark.slow
def test_the_workbook_goes_through_the_quotas_import_into_the_year_s_draft(
    year_engine: Engine,
    done,  # type: ignore[no-untyped-def]
) -> None:
    content = recommendation_workbook(done)
    book = load_workbook(__import__("io").BytesIO(content))
    assert book.sheetnames == ["储备定额", "重放对比"]
    header = [c.value for c in book["储备定额"][1]]
    assert header[:6] == ["年度", "仓库编码", "物料编码", "物料名称", "单位", "储备定额"]
    assert "现行定额" in header and "推荐定额按时率%" in header
    with Session(year_engine) as session:
        report = import_catalog(
            session=session, kind=CatalogKind.QUOTAS, content=content,
            file_name="2026年储备定额建议.xlsx", imported_by="营销部 孙营销",
            now=NOW + timedelta(minutes=5),
        )  # fmt: skip
        assert report.status == "accepted"
        assert "现行定额" in report.ignored_columns
        draft = find_quota_catalog(session=session, year=2026)
        assert draft is not None and draft.status == QuotaCatalogStatus.DRAFT
        quotas = {
            (q.warehouse_id, q.material_code): q.quantity
            for q in session.exec(select(Quota).where(Quota.catalog_id == draft.id))
        }
    assert quotas == {(x.warehouse_id, x.material_code): x.recommended for x in done.lines}


# ------------------------------------------------------------------ a small history, both databases


def test_a_small_history_is_recommended_on_either_database(catalog_engine: Engine) -> None:
    small_history(catalog_engine)
    done = recommend(catalog_engine, level="0.5")
    assert done.short_lines == 12 and done.service_level == 0.5
    meters = {x.warehouse_id: x for x in done.lines if x.material_code == "MTR-1P-SMART"}
    assert meters["WH-CENTRAL"].lines == 6 and meters["WH-CENTRAL"].quantity == 48
    assert sum(x.recommended for x in meters.values()) == meters["WH-CENTRAL"].recommended > 0
    assert done.on_time_rate_recommended >= 0.5
    quiet = [x for x in done.lines if x.material_code == "DT-OIL-S13-400"]
    assert all(x.recommended == 0 for x in quiet)


def test_without_a_confirmed_catalog_it_says_what_to_do(catalog_engine: Engine) -> None:
    with Session(catalog_engine) as session:
        for catalog in session.exec(select(QuotaCatalog)):
            catalog.status = QuotaCatalogStatus.DRAFT
            session.add(catalog)
        session.commit()
    with pytest.raises(Conflict, match="confirm"):
        recommend(catalog_engine)
    with Session(catalog_engine) as session:
        assert session.exec(select(col(QuotaRecommendation.id))).first() is None
