"""What every HTTP request reads is built once and again only when its source changes: the
settings when a GRIDSUPPLY_ variable changes, the calendar when a stored year file changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from supply.calendar import YearArrangement
from supply.calendar_store import load_calendar, store_arrangements
from supply.core.settings import get_settings


def test_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDSUPPLY_HOLD_EXPIRY_WORKING_DAYS", "7")
    first = get_settings()
    assert first.hold_expiry_working_days == 7
    assert get_settings() is first  # unchanged environment: not parsed again
    monkeypatch.setenv("GRIDSUPPLY_HOLD_EXPIRY_WORKING_DAYS", "12")
    assert get_settings().hold_expiry_working_days == 12
    monkeypatch.delenv("GRIDSUPPLY_HOLD_EXPIRY_WORKING_DAYS")
    assert get_settings().hold_expiry_working_days == 10  # the default again


def test_a_stored_year_takes_effect_at_once(tmp_path: Path) -> None:
    store = tmp_path / "calendars"
    store.mkdir()
    before = load_calendar(store)
    assert load_calendar(store) is before
    assert 2030 not in before.years
    year = YearArrangement(
        year=2030,
        holidays={date(2030, 1, 1): "元旦"},
        workdays={},
        source="test",
    )
    store_arrangements(store, [year], origin="test")
    after = load_calendar(store)
    assert 2030 in after.years and date(2030, 1, 1) in after.years[2030].holidays
