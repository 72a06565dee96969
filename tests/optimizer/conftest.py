"""Fixtures for the optimizer tests: the shipped instances and their known optima."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
INSTANCE_NAMES = ["tiny-reserve-vs-agreement", "small-60", "medium-400"]


def load(name: str) -> dict[str, Any]:
    """The decoded JSON of a shipped instance."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def expected() -> dict[str, dict[str, float]]:
    return json.loads((DATA / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def tiny() -> dict[str, Any]:
    return load("tiny-reserve-vs-agreement")
