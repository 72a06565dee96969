"""Fixtures of the what-if tests: the world planned (a run of 2026-W49), on SQLite and, where
reachable, PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from supply.core.settings import Settings
from supply.weekly.run import RunOutcome
from supply.whatif import ScenarioPublic, WhatIf, create_scenario, located_changes
from tests.whatif.world import BEFORE_CUTOFF, CALENDAR, POLICY, build_world, run_batch, settings_of


@dataclass
class Planned:
    """The world with its weekly run: the session, the settings, the run."""

    session: Session
    settings: Settings
    run: RunOutcome

    def what_if(
        self, changes: list[dict[str, Any]], batch: str = "2026-W49", **options: Any
    ) -> ScenarioPublic:
        """Make a what-if on a batch (2026-W49) with JSON changes."""
        return self.make(WhatIf(batch, located_changes(changes), **options))

    def make(self, what: WhatIf, user: str = "物资部 李工") -> ScenarioPublic:
        return create_scenario(
            engine=self.session.get_bind(),  # type: ignore[arg-type]
            what=what,
            now=BEFORE_CUTOFF,
            user=user,
            calendar=CALENDAR,
            policy=POLICY,
            settings=self.settings,
        )


@pytest.fixture
def planned(session: Session, tmp_path: Path) -> Planned:
    build_world(session)
    settings = settings_of(session, tmp_path)
    return Planned(session, settings, run_batch(session, settings))


WhatIfFn = Callable[..., ScenarioPublic]
