"""Answer the urgent requests that arrive together in one go (per server process).

While a round of requests is being answered, the requests that arrive queue; when the round
ends they are answered together by one call of `supply.requests.service.submit_requests`: one
read of the supply, one solve, one transaction. Under load this answers many requests for the
price of a few, and requests that compete for the same stock are decided by the engine
(deadlines, priority, cost) rather than by which arrived a millisecond earlier. A request
reaching an idle server is answered at once. Correctness never rests on this queue: the database
serialises writers, and several server processes each have their own queue. A fault fails the
requests it left unanswered, never one already answered, and never strands a waiting request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from weakref import WeakKeyDictionary

from anyio import to_thread
from sqlalchemy.engine import Engine

from supply.calendar import WorkCalendar
from supply.core.clock import Clock
from supply.core.settings import Settings
from supply.policy import DeadlinePolicy
from supply.requests.models import RequestAnswer
from supply.requests.service import Ask, Outcome, submit_requests


@dataclass(frozen=True)
class Context:
    """What the answer depends on besides the request (the same for a process's requests)."""

    engine: Engine
    clock: Clock
    calendar: WorkCalendar
    policy: DeadlinePolicy
    settings: Settings


@dataclass
class _Waiting:
    ask: Ask
    context: Context
    answer: asyncio.Future[Outcome]


@dataclass
class Coalescer:
    """The queue of one event loop (one server process)."""

    waiting: list[_Waiting] = field(default_factory=list)
    busy: bool = False
    last_round: int = 0  # how many the previous round answered
    arrived: asyncio.Event | None = None
    task: asyncio.Task[None] | None = None

    async def submit(self, ask: Ask, context: Context) -> RequestAnswer:
        """Answer `ask` in the next round; raise its domain error (or the fault) if it fails."""
        answer: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.waiting.append(_Waiting(ask, context, answer))
        if self.arrived is not None:
            self.arrived.set()
        if not self.busy:
            self.busy = True
            self.task = asyncio.get_running_loop().create_task(self._drain())
        outcome = await answer
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _drain(self) -> None:
        round_: list[_Waiting] = []
        try:
            while self.waiting:
                first = self.waiting[0].context
                size = first.settings.request_batch_max
                await self._gather(min(size, self.last_round), first.settings.request_gather_ms)
                # One round answers requests that share the database, calendar, policy and
                # settings (a newly loaded calendar year starts a round of its own).
                round_ = [w for w in self.waiting if w.context == first][:size]
                self.waiting = [w for w in self.waiting if w not in round_]
                self.last_round = len(round_)
                await self._answer(round_, first)
        except BaseException as exc:  # a fault here, or the loop is shutting down
            for w in [*round_, *self.waiting]:
                if not w.answer.done():
                    w.answer.set_exception(
                        exc if isinstance(exc, Exception) else RuntimeError("server stopping")
                    )
            self.waiting = []
            raise
        finally:
            self.busy = False

    async def _gather(self, expected: int, milliseconds: int) -> None:
        """Under load, the clients of the previous round ask again a moment after their answer:
        wait for as many requests as that round had while they keep coming (each within
        `milliseconds` of the one before, at most 4 × `milliseconds` in all), so that they are
        answered together rather than a few first (a round costs about the same for three
        requests as for ten). A request reaching an idle server (or one whose previous round
        answered a single request) is answered at once."""
        loop = asyncio.get_running_loop()
        cap = loop.time() + 4 * milliseconds / 1000
        while len(self.waiting) < expected:
            left = min(milliseconds / 1000, cap - loop.time())
            if left <= 0:
                return
            self.arrived = asyncio.Event()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except TimeoutError:
                return  # no one else is coming
            finally:
                self.arrived = None

    @staticmethod
    async def _answer(round_: list[_Waiting], context: Context) -> None:
        try:
            now: datetime = context.clock.now()  # availability as of the round's start
            outcomes = await to_thread.run_sync(
                partial(
                    submit_requests,
                    engine=context.engine,
                    asks=[w.ask for w in round_],
                    now=now,
                    calendar=context.calendar,
                    policy=context.policy,
                    settings=context.settings,
                )
            )
        except Exception as exc:  # a fault, not a refusal: every request of the round gets it
            for w in round_:
                if not w.answer.done():
                    w.answer.set_exception(exc)
            return
        for w, outcome in zip(round_, outcomes, strict=True):
            if not w.answer.done():  # its client may have gone away meanwhile
                w.answer.set_result(outcome)


_coalescers: WeakKeyDictionary[asyncio.AbstractEventLoop, Coalescer] = WeakKeyDictionary()


def coalescer() -> Coalescer:
    """This event loop's queue."""
    return _coalescers.setdefault(asyncio.get_running_loop(), Coalescer())
