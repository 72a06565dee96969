"""The one boundary where errors become HTTP responses.

`ERROR_STATUS` maps every domain error class to its status; the body is always FastAPI's own
`{"detail": [{"type", "loc", "msg"}]}`, also for what the framework answers itself (no such path
404, method not allowed 405, body too large 413, malformed body or parameters 422). A validation
error echoes at most a short excerpt of what was sent. A setting the service cannot use (read per
request, or a run folder it cannot write) is a 503 naming the variable — its value, which may be
a URL with a password or a server path, only in the log. Anything unexpected is logged with a
request id and answered with a 500 that carries the id and nothing from the database.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import uuid4

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supply.core.audit import set_request_context
from supply.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    ImportRejected,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from supply.core.settings import SettingsInvalid

logger = logging.getLogger("gridsupply.api")

ERROR_STATUS: dict[type[DomainError], int] = {
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooManyAttempts: 429,
    InvalidInput: 422,
    ImportRejected: 422,
}
# Database errors a user can provoke without a bug on our side; their text never leaves the server.
DATABASE_ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    IntegrityError: (
        409,
        "conflict",
        "数据已被其他操作修改，请重试 / the data changed meanwhile; try again",
    ),
    OperationalError: (
        503,
        "unavailable",
        "数据库暂不可用，请稍后重试 / the database is unavailable; try later",
    ),
}
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A validation error shows what was sent, cut to this many characters; at most MAX_ERRORS problems.
MAX_ECHO = 120
MAX_ERRORS = 50


def error_response(
    status: int,
    kind: str,
    message: str,
    *,
    loc: Sequence[str | int] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Answer `status` with one error in FastAPI's `{"detail": [{"type", "loc", "msg"}]}` shape."""
    return problems_response(status, [(kind, list(loc), message)], headers=headers)


def problems_response(
    status: int,
    problems: Sequence[tuple[str, Sequence[str | int], str]],
    *,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Answer `status` with every problem, each `(type, loc, msg)`, in the error shape."""
    return JSONResponse(
        status_code=status,
        content={"detail": [{"type": k, "loc": list(loc), "msg": m} for k, loc, m in problems]},
        headers=dict(headers) if headers else None,
    )


def status_for(error: DomainError) -> int:
    """Return the HTTP status for a domain error (the nearest mapped class)."""
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]  # type: ignore[index]
    raise LookupError(f"{type(error).__name__} is not in ERROR_STATUS")


def detail_for(error: DomainError) -> list[dict[str, Any]]:
    """Render a domain error as FastAPI's list of {type, loc, msg}; one entry per import problem."""
    if isinstance(error, ImportRejected):
        items: list[dict[str, Any]] = [
            {"type": error.type, "loc": ["body", "file"], "msg": error.message}
        ]
        for problem in error.problems:
            loc: list[Any] = ["body", "file"]
            if problem.sheet_en:
                loc.append(problem.sheet_en)
            if problem.row is not None:
                loc.append(problem.row)
            if problem.column_en:
                loc.append(problem.column_en)
            items.append({"type": "invalid_row", "loc": loc, "msg": problem.text})
        return items
    return [{"type": error.type, "loc": list(error.loc), "msg": error.message}]


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(
        status_code=status_for(exc), content={"detail": detail_for(exc)}, headers=headers or None
    )


def _database_error(request: Request, exc: Exception) -> JSONResponse:
    status, kind, message = next(v for cls, v in DATABASE_ERRORS.items() if isinstance(exc, cls))
    request_id = getattr(request.state, "request_id", "-")
    logger.warning("database error %s (request id %s): %s", kind, request_id, exc)
    return JSONResponse(
        status_code=status, content={"detail": [{"type": kind, "loc": [], "msg": message}]}
    )


async def _settings_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SettingsInvalid)
    return misconfigured(exc, getattr(request.state, "request_id", "-"))


def misconfigured(exc: SettingsInvalid, request_id: str) -> JSONResponse:
    """A 503 naming the unusable variable (never its value); the whole line goes to the log."""
    logger.error("misconfigured (request id %s): %s", request_id, exc)
    variable = exc.variable or "GRIDSUPPLY_*"
    return error_response(
        503,
        "misconfigured",
        f"服务配置有误({variable})，请管理员更正后重试 / the service is misconfigured: "
        f"{variable} cannot be used (the server log and any gridsupply command say why, request "
        f"id {request_id}); ask the administrator to correct it",
        loc=("settings", variable),
        headers={REQUEST_ID_HEADER: request_id},
    )


def excerpt(value: Any) -> Any:
    """Return `value` if its JSON is short, else the start of its JSON text and an ellipsis."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_ECHO else value[: MAX_ECHO - 1] + "…"
    text = json.dumps(jsonable_encoder(value), ensure_ascii=False, default=str)
    return value if len(text) <= MAX_ECHO else text[: MAX_ECHO - 1] + "…"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 with each problem's `input` cut to an excerpt and at most MAX_ERRORS listed."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    detail: list[dict[str, Any]] = []
    for error in errors[:MAX_ERRORS]:
        item = {k: v for k, v in error.items() if k != "input"}
        item["msg"] = str(item.get("msg", ""))[:500]
        if "input" in error:
            item["input"] = excerpt(error["input"])
        detail.append(item)
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS
        detail.append(
            {
                "type": "too_many_errors",
                "loc": [],
                "msg": f"另有 {more} 个问题未列出 / {more} more problem(s) not listed",
            }
        )
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(detail)})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """What routing and body parsing answer themselves, in the error shape (a body that cannot be
    parsed at all is a 422, like malformed JSON)."""
    assert isinstance(exc, HTTPException)
    headers = exc.headers
    if exc.status_code == 404:
        path = excerpt(request.url.path)
        return error_response(
            404, "not_found", f"没有这个地址 {path} / no such path: {path}", loc=("path",)
        )
    if exc.status_code == 405:
        allowed = (headers or {}).get("Allow", "")
        return error_response(
            405,
            "method_not_allowed",
            f"此地址不支持 {request.method}，可用: {allowed} / method {request.method} is not "
            f"allowed here; allowed: {allowed}",
            headers=headers,
        )
    if exc.status_code == 413:
        return error_response(413, "too_large", str(exc.detail), loc=("body",), headers=headers)
    if exc.status_code == 400:
        if isinstance(exc.__cause__, UnicodeDecodeError):
            message = "请求体不是 UTF-8 编码的 JSON / the body is not UTF-8 encoded JSON"
        else:
            message = f"请求体无法解析 / the request body cannot be parsed: {exc.detail}"
        return error_response(422, "body_invalid", message, loc=("body",))
    return error_response(exc.status_code, "http_error", str(exc.detail), headers=headers)


class RequestIdMiddleware:
    """Give every request an id (echoed in X-Request-ID) and turn a crash into a logged 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, tagging the response and catching what nothing else caught."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = (
            dict(scope.get("headers") or [])
            .get(REQUEST_ID_HEADER.lower().encode(), b"")
            .decode("latin-1")
        )
        request_id = incoming if _SAFE_ID.match(incoming) else uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        set_request_context(request_id, client[0] if client else "")
        started = False

        async def send_tagged(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_tagged)
        except SettingsInvalid as exc:  # read before any route (the body limits need them)
            if started:
                raise
            await misconfigured(exc, request_id)(scope, receive, send)
        except Exception:
            logger.exception(
                "unhandled error on %s %s (request id %s)",
                scope["method"],
                scope["path"],
                request_id,
            )
            if started:
                raise
            message = (
                f"内部错误，请将请求编号 {request_id} 告知管理员 / "
                f"internal error; quote request id {request_id}"
            )
            response = JSONResponse(
                status_code=500,
                content={"detail": [{"type": "internal_error", "loc": [], "msg": message}]},
                headers={REQUEST_ID_HEADER: request_id},
            )
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the domain and database error handlers and the request-id middleware."""
    for cls in ERROR_STATUS:
        app.add_exception_handler(cls, _domain_error)
    for db_cls in DATABASE_ERRORS:
        app.add_exception_handler(db_cls, _database_error)
    app.add_exception_handler(SettingsInvalid, _settings_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(RequestIdMiddleware)
