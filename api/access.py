"""One log line per request, and its latency in /metrics, both under the route template.

The line (logger `gridsupply.access`, INFO): method, path, status, milliseconds and request id
in words, and as fields for JSON logs — `method`, `route` (the template, as /metrics labels
it), `path`, `status`, `duration_ms`, `request_id`, `client`. The probes and /metrics answer
often and alike: their successful lines are DEBUG.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import UNMATCHED, observe_request

logger = logging.getLogger("gridsupply.access")

QUIET = frozenset({"/healthz", "/readyz", "/metrics"})


def route_template(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The template of the route that served the request (`/api/v1/holds/{hold_id}`), a mount's
    as `/static/{path}`, or `unmatched`.

    The router notes its route in the scope; a request answered before routing (a method the
    path does not have, a body too large) or on a copy of the scope (HEAD, served as GET) is
    matched here again, as GET."""
    route = scope.get("route")
    if route is None:
        probe = {**scope, "method": "GET"}
        route = next((r for r in routes if r.matches(probe)[0] == Match.FULL), None)
    if isinstance(route, Mount):
        return route.path + "/{path}"
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class AccessLog:
    """Time every HTTP request; log it and record it once its answer has been sent."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, noting its status; then log and measure it (also if it failed)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
            route = route_template(scope, self.routes)
            observe_request(method=scope["method"], route=route, status=status, seconds=seconds)
            _log(scope, route=route, status=status, seconds=seconds)


def _log(scope: Scope, *, route: str, status: int, seconds: float) -> None:
    level = logging.DEBUG if route in QUIET and status < 400 else logging.INFO
    if not logger.isEnabledFor(level):
        return
    request_id = str((scope.get("state") or {}).get("request_id", "-"))
    client = scope.get("client")
    milliseconds = round(seconds * 1000, 1)
    logger.log(
        level,
        "%s %s %d %.1f ms (request %s)",
        scope["method"],
        scope["path"],
        status,
        milliseconds,
        request_id,
        extra={
            "method": scope["method"],
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": milliseconds,
            "request_id": request_id,
            "client": client[0] if client else "",
        },
    )
