"""Measurements the service offers to whoever listens: each solve's kind, size and duration.

The service knows nothing of a metrics library: the HTTP server (`api.metrics`) adds a listener
when it starts, and a command line run has none. A listener that fails is logged and never
fails the solve it measured.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

logger = logging.getLogger("gridsupply.observe")


class SolveKind(StrEnum):
    """Which solve: the weekly run's project demand, its replenishment, an urgent request round."""

    WEEKLY = "weekly"
    REPLENISHMENT = "replenishment"
    URGENT = "urgent"


SolveListener = Callable[[SolveKind, int, float], None]
"""Called after each solve with its kind, its demand lines and the seconds it took."""

_listeners: list[SolveListener] = []


def listen_to_solves(listener: SolveListener) -> None:
    """Call `listener` after every solve in this process (once however often it is added)."""
    if listener not in _listeners:
        _listeners.append(listener)


def stop_listening(listener: SolveListener) -> None:
    """Stop calling `listener` (nothing happens if it was not listening)."""
    if listener in _listeners:
        _listeners.remove(listener)


@contextmanager
def solving(kind: SolveKind, *, lines: int) -> Iterator[None]:
    """Time the block as a solve of `lines` demand lines and tell the listeners, if it ends
    without an error (a failed solve is the caller's to report)."""
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    for listener in tuple(_listeners):
        try:
            listener(kind, lines, seconds)
        except Exception:
            logger.exception("a solve listener failed (%s, %d lines)", kind, lines)
