"""One log line per request, and its latency in /metrics, both under the route template.

The line (logger `gridsupply.access`, INFO): method, path, status, milliseconds and request id
in words, and as fields for JSON logs — `method`, `route` (the template, as /metrics labels
it), `path`, `status`, `duration_ms`, `request_id`, `client`. The probes and /metrics answer
often and alike: their successful lines are DEBUG.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import UNMATCHED, observe_request

logger = logging.getLogger("gridsupply.access")

QUIET = frozenset({"/healthz", "/readyz", "/metrics"})


def route_template(
    scope: Scope, asked: Scope, prefixes: Mapping[int, str], plain: Sequence[BaseRoute]
) -> str:
    """The template of the route that served the request (`/api/v1/holds/{hold_id}`), a mount's
    as `/static/{path}`, or `unmatched` when no route served it (no such path, or answered
    before routing: a method the path does not have, a body refused by its length).

    FastAPI notes the route of an operation in the scope, with its path as its own router
    declares it (`prefixes`: the prefix each route, by `id`, was included under; none: the
    root). The few routes added to the application itself (the document, the files) are
    matched here again (`plain`), against the path as it was `asked` (a mount rewrites it)."""
    route = scope.get("route")
    if route is None:
        probe = {**scope, **asked, "method": "GET"}
        route = next((r for r in plain if r.matches(probe)[0] == Match.FULL), None)
    path = getattr(route, "path", None)
    if route is None or not isinstance(path, str):
        return UNMATCHED
    if isinstance(route, Mount):
        return path + "/{path}"
    return prefixes.get(id(route), "") + path


class AccessLog:
    """Time every HTTP request; log it and record it once its answer has been sent."""

    def __init__(
        self, app: ASGIApp, routes: Sequence[BaseRoute], prefixes: Mapping[int, str]
    ) -> None:
        self.app = app
        self.prefixes = prefixes
        # the routes of the application itself; included routers are FastAPI's to match
        self.plain = [r for r in routes if isinstance(getattr(r, "path", None), str)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, noting its status; then log and measure it (also if it failed)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]  # as asked (HEAD is served as GET further in)
        asked = {"path": scope["path"], "root_path": scope.get("root_path", "")}
        started = time.perf_counter()
        status = 500  # unless an answer starts: what the client is told of a crash

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope, asked, self.prefixes, self.plain)
            observe_request(method=method, route=route, status=status, seconds=seconds)
            _log(scope, method=method, path=asked["path"], route=route, status=status,
                 seconds=seconds)  # fmt: skip


def _log(scope: Scope, *, method: str, path: str, route: str, status: int, seconds: float) -> None:
    level = logging.DEBUG if route in QUIET and status < 400 else logging.INFO
    if not logger.isEnabledFor(level):
        return
    request_id = str((scope.get("state") or {}).get("request_id", "-"))
    client = scope.get("client")
    milliseconds = round(seconds * 1000, 1)
    logger.log(
        level,
        "%s %s %d %.1f ms (request %s)",
        method,
        path,
        status,
        milliseconds,
        request_id,
        extra={
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": milliseconds,
            "request_id": request_id,
            "client": client[0] if client else "",
        },
    )
