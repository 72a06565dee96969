"""Rendering pages: the Jinja2 templates, the page route (its errors become pages), and the
htmx conventions.

- `render(request, "weekly/index.html", {...})` renders a page with the base layout's context
  (who is signed in, their menu, the CSRF token); `fragment=` renders one of the page's partial
  templates instead when htmx asks for that part of the page (`HX-Target`), so a fragment is
  the same template the page includes, never a second code path.
- `PageRoute` answers what a page raises as a page: a sign-in needed → the sign-in page; a domain
  error → its status with the message (403 naming the permission, 404, 409, 422); an htmx
  request gets the message as a fragment swapped into the page's message area (#flash).
- Pages are never cached (`Cache-Control: no-store`): they carry people's data.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.errors import DATABASE_ERRORS, status_for
from api.web.formats import FILTERS, GLOBALS
from api.web.menu import menu_for
from api.web.session import CSRF_FIELD, SignInNeeded, clear_session_cookie
from supply.core.errors import DomainError, Forbidden
from supply.core.settings import SettingsInvalid

logger = logging.getLogger("gridsupply.web")

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
STATIC_URL = "/static/web"
TITLES = {
    400: "请求有误",
    403: "没有权限",
    404: "没有找到",
    405: "不支持的操作",
    409: "与当前状态冲突",
    413: "文件过大",
    422: "输入有误",
    429: "尝试次数过多",
    500: "内部错误",
    503: "服务暂不可用",
}


@lru_cache(maxsize=64)
def static_url(path: str) -> str:
    """The URL of a file under api/web/static, with its content's hash (a changed file is
    fetched again; an unchanged one comes from the browser's cache)."""
    content = (STATIC_DIR / path).read_bytes()
    return f"{STATIC_URL}/{path}?v={hashlib.sha256(content).hexdigest()[:10]}"


def url_with(params: Mapping[str, Any], **changes: Any) -> str:
    """`?query` of `params` with `changes` applied (None or '' drops a parameter)."""
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "", False)}
    return "?" + urlencode({k: (1 if v is True else v) for k, v in kept.items()}) if kept else "?"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a misspelt name fails the page (and its test), not blank
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    env.globals.update(static=static_url, url_with=url_with, csrf_field_name=CSRF_FIELD)
    return env


ENV = _environment()


def is_htmx(request: Request) -> bool:
    """Whether htmx made the request (and not to restore a page from history: that is whole)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def htmx_target(request: Request) -> str:
    """The id of the element htmx swaps the answer into ('' for a whole page)."""
    return request.headers.get("HX-Target", "") if is_htmx(request) else ""


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    fragments: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render template `name` (or, for htmx asking for one part, `fragments[target]`) with the
    layout's context: the actor, their menu, the CSRF token, the path."""
    actor = getattr(request.state, "actor", None)
    values = {
        "actor": actor,
        "menu": menu_for(actor),
        "csrf_token": getattr(request.state, "csrf", ""),
        "path": request.url.path,
        "query": dict(request.query_params),
        "htmx": is_htmx(request),
        **(context or {}),
    }
    chosen = (fragments or {}).get(htmx_target(request), name)
    html = ENV.get_template(chosen).render(values)
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path of this site (no scheme, no host, not //…), else `default`:
    where to go after signing in is never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def sign_in_redirect(request: Request, message: str = "") -> Response:
    """Send the browser to the sign-in page, to come back to this page after it."""
    if is_htmx(request):
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = local_path(current.path + (f"?{current.query}" if current.query else ""))
    else:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        back = back if request.method == "GET" else "/"
    params = {"next": back} if back != "/" else {}
    if message:
        params["expired"] = "1"
    target = "/login" + (f"?{urlencode(params)}" if params else "")
    response: Response
    if is_htmx(request):
        response = Response(status_code=200, headers={"HX-Redirect": target})
    else:
        response = RedirectResponse(target, status_code=303)
    clear_session_cookie(response, request)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(
    request: Request,
    status: int,
    message: str,
    *,
    permission: str = "",
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """An error as a page (or, for htmx, as a message in the page's #flash area)."""
    context = {
        "status": status,
        "title": TITLES.get(status, "出错了"),
        "message": message,
        "permission": permission,
    }
    if is_htmx(request):
        extra = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML", **(headers or {})}
        return render(request, "_error_flash.html", context, status=status, headers=extra)
    return render(request, "error.html", context, status=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for error in list(exc.errors())[:10]:
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "?"
        problems.append(f"{where}: {error.get('msg', '')}")
    return "输入有误 / invalid input — " + "; ".join(problems)


class PageRoute(APIRoute):
    """A page: what it raises is answered as a page, not as the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInNeeded as exc:
                return sign_in_redirect(request, exc.message)
            except DomainError as exc:
                status = status_for(exc)
                permission = exc.permission if isinstance(exc, Forbidden) else ""
                return error_page(request, status, exc.message, permission=permission)
            except RequestValidationError as exc:
                return error_page(request, 422, _validation_message(exc))
            except SettingsInvalid as exc:
                request_id = getattr(request.state, "request_id", "-")
                logger.error("misconfigured (request id %s): %s", request_id, exc)
                variable = exc.variable or "GRIDSUPPLY_*"
                return error_page(
                    request, 503, f"服务配置有误（{variable}），请管理员更正后重试（请求编号 "
                    f"{request_id}）/ the service is misconfigured: {variable}",
                )  # fmt: skip
            except tuple(DATABASE_ERRORS) as exc:
                status, kind, message = next(
                    v for cls, v in DATABASE_ERRORS.items() if isinstance(exc, cls)
                )
                request_id = getattr(request.state, "request_id", "-")
                logger.warning("database error %s (request id %s): %s", kind, request_id, exc)
                return error_page(request, status, message)
            finally:  # an upload's spooled files go with the request, answered or refused
                await request.close()

        return page
