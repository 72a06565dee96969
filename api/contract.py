"""What the OpenAPI document promises, kept in one place.

- Every operation documents every status it can answer, with the error body's schema: 404 where
  the path names an object (or the route says so), 409 for every write (a state it contradicts,
  or a concurrent change), 401 and 403 where a sign-in is needed, 413 where a body is sent, 422 where anything is sent, 500 and 503
  everywhere. A route adds its own words (`responses={404: {"description": ...}}`) or a status
  the rule does not give it; the schema is filled in here, never copied into routes.
- A method the document does not list for a path is answered 405 with the `Allow` header the
  document gives (all methods of that path). As the OpenAPI specification says, a concrete path
  is matched before a templated one: `/holds/expire` is its own path, not the hold `expire`.
- HEAD is allowed wherever GET is, and listed in `Allow` (HTTP requires it, RFC 9110 §9.1; load
  balancers probe with it): GET's answer, headers and all, without the body. The document does
  not list HEAD operations, as it is customary (OpenAPI tools take it as implied).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

ERROR_SCHEMA = "ErrorBody"
DESCRIPTIONS: dict[int, str] = {
    401: "未登录或登录已失效 / not signed in, or the sign-in expired or is not valid",
    403: "无此权限(消息中指明所需权限) / signed in without the permission (the message names it)",
    404: "不存在: 路径所指的对象或地址本身 / not found: an object the path names, or the path",
    409: "与当前状态冲突, 或被同时进行的修改抢先 / conflicts with the current state, or with a "
    "change made at the same time",
    413: "请求体过大(默认 JSON 1 MB, 上传文件 20 MB) / request body too large (by default JSON "
    "1 MB, file uploads 20 MB)",
    422: "请求不合法, 逐项列出问题 / invalid request: every problem listed",
    500: "内部错误, 消息中含请求编号 / internal error: the message quotes the request id",
    503: "数据库暂不可用 / the database is unavailable",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class ErrorItem(BaseModel):
    """One problem: its kind, where it is, and what to do, Chinese first."""

    type: str = Field(description="not_found, conflict, invalid_input, 或 FastAPI 的校验类型 …")
    loc: list[str | int] = Field(description="位置 / where: body, query, path, a file's row …")
    msg: str = Field(description="说明 / what is wrong and how to fix it")


class ErrorBody(BaseModel):
    """Every error answer: FastAPI's shape, one item per problem."""

    detail: list[ErrorItem]


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """Return the error statuses an operation can answer by the rules in the module docstring."""
    statuses = {500, 503}
    if operation.get("security"):  # the route needs a signed-in user with a permission
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses.add(409)
    if "requestBody" in operation:
        statuses.add(413)
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    return statuses


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Add the error statuses and the error body schema to every operation of `spec`."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    defs = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(defs.pop("$defs", {}))
    schemas[ERROR_SCHEMA] = defs
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in error_statuses(path, method, operation):
                responses.setdefault(str(status), {})
            for status, response in responses.items():
                if not status.isdigit() or int(status) < 400:
                    continue
                if response.get("description") in (None, "", "Validation Error"):
                    response["description"] = DESCRIPTIONS.get(int(status), "错误 / error")
                response["content"] = body
            operation["responses"] = dict(sorted(responses.items()))
    text = repr(spec["paths"])
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}'" not in text:
            schemas.pop(unused, None)
    return spec


def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile(
        "^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$"
    )


def _with_head(methods: Iterable[str]) -> frozenset[str]:
    found = frozenset(methods)
    return found | {"HEAD"} if "GET" in found else found


def _headers_only(send: Send) -> Send:
    """Send a response's status and headers (Content-Length too, as GET's) but not its body."""

    async def without_body(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return without_body


class MethodGuard:
    """Answer 405, with the document's `Allow`, a method the OpenAPI document does not list;
    answer HEAD as GET without the body.

    A request path is owned by the most concrete of the document's paths it matches (fewest
    `{parameters}`); paths outside the document (the docs pages) pass through to the router.
    """

    def __init__(self, app: ASGIApp, spec: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self.spec = spec
        self._concrete: dict[str, frozenset[str]] | None = None
        self._templated: list[tuple[int, re.Pattern[str], frozenset[str]]] = []

    def _load(self) -> dict[str, frozenset[str]]:
        if self._concrete is None:
            paths = self.spec().get("paths", {})
            methods = {p: _with_head(m.upper() for m in paths[p] if m in METHODS) for p in paths}
            self._templated = [
                (path.count("{"), _template(path), methods[path])
                for path in sorted(paths, key=lambda p: p.count("{"))
                if "{" in path
            ]
            self._concrete = {path: found for path, found in methods.items() if "{" not in path}
        return self._concrete

    def allowed(self, path: str) -> frozenset[str] | None:
        """Return the methods the document lists for `path`, or None if it lists no such path."""
        concrete = self._load().get(path)
        if concrete is not None:
            return concrete
        found: frozenset[str] | None = None
        rank = -1
        for params, pattern, methods in self._templated:
            if found is not None and params > rank:
                break
            if pattern.match(path):
                found, rank = (found or frozenset()) | methods, params
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a method the owning path does not have; serve HEAD as GET without the body;
        pass everything else on."""
        if scope["type"] == "http":
            path, root = scope["path"], scope.get("root_path", "")
            allowed = self.allowed(path[len(root) :] if root and path.startswith(root) else path)
            if scope["method"] == "HEAD" and (allowed is None or "HEAD" in allowed):
                # the routes (the docs pages too) answer GET; a path without one answers as such.
                # A copy of the scope (the server reads the method in it to send no body); the
                # route chosen is told to the layers outside (the access log labels by it).
                as_get = {**scope, "method": "GET"}
                try:
                    await self.app(as_get, receive, _headers_only(send))
                finally:
                    if "route" in as_get:
                        scope["route"] = as_get["route"]
                return
            if allowed is not None and scope["method"] not in allowed:
                listed = ", ".join(sorted(allowed))
                response = error_response(
                    405,
                    "method_not_allowed",
                    f"此地址不支持 {scope['method']}，可用: {listed} / method {scope['method']} "
                    f"is not allowed here; allowed: {listed}",
                    headers={"Allow": listed},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
