"""The web pages (网页): server-rendered Jinja2 templates with htmx, at `/`, behind the sign-in.

Each page is a thin function over the same service calls as the HTTP API (docs/web.md); the
pages are kept out of the OpenAPI document. `install_web(app)` mounts them and their files at
/static/web; `install_page_errors(app)` answers a browser asking for a page that does not exist
with a page.
"""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.web import (
    audit,
    home,
    imports,
    notifications,
    packages,
    projects,
    province,
    quota_advice,
    signin,
    stock,
    users,
    weekly,
    whatif,
)
from api.web.render import STATIC_DIR, STATIC_URL, error_page

ROUTERS = (
    signin.router,
    home.router,
    whatif.router,  # before weekly's: /weekly/whatif/… is its own
    weekly.router,
    projects.router,
    stock.router,
    quota_advice.router,
    packages.router,
    province.router,
    imports.router,
    audit.router,
    users.router,
    notifications.router,
)
# Paths that are not pages: the API, its documentation and the files.
NOT_PAGES = ("/api/", "/static/", "/docs", "/redoc", "/openapi.json")


def _is_page_request(request: Request) -> bool:
    path = request.url.path
    wants_html = "text/html" in request.headers.get("accept", "")
    return wants_html and not path.startswith(NOT_PAGES)


def install_web(app: FastAPI) -> None:
    """Serve the pages at / and their files at /static/web (install it before the docs' /static
    mount, which would otherwise take /static/web too)."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="web-static")
    for router in ROUTERS:
        app.include_router(router)


def install_page_errors(app: FastAPI) -> None:
    """Answer a browser's request for a page that does not exist with a 404 page; everything
    else as the API's error handler does (after `api.errors.install_error_handlers`)."""
    answer_json = app.exception_handlers[HTTPException]

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and _is_page_request(request):
            return error_page(request, 404, f"没有这个页面 {request.url.path[:200]}")
        answer = answer_json(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(HTTPException, not_found)
