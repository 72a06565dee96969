"""The FastAPI application: `create_app()` builds it; nothing connects until a request comes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.access import AccessLog
from api.contract import MethodGuard, document_errors
from api.docs import install_docs
from api.errors import install_error_handlers
from api.limits import BodyLimitMiddleware
from api.metrics import install_metrics
from api.readiness import install_scheduler_check
from api.routes import PREFIX, ROUTERS, TAGS, probes
from api.security import install_security
from api.web import install_page_errors, install_web

DESCRIPTION = """
业扩配套电网工程物资供应匹配 —— 供应目录(物料、仓库、运输天数、实物储备与储备定额目录、
协议库存、供应商寄存)及其 Excel/CSV 导入导出;业扩项目与需求明细;每周一 12:00 的周计划
(优化匹配、审批、省公司匹配结果导入、报表);紧急需求与库存保留;项目包预算与备案。

Materials supply for customer-connection grid projects — the supply catalogs (materials,
warehouses, transport days, physical reserve and the reserve quota catalog, framework agreements,
vendor consignment) with their Excel/CSV import and export; projects and their demand lines; the
Monday-noon weekly plan (optimal matching, approval, the province's matching result, exports);
urgent requests and holds; package budgets and filings.

错误统一为 `{"detail": [{"type", "loc", "msg"}]}`;导入被拒时逐行列出所有问题。
请求体上限(默认): JSON 1 MB, 上传文件 20 MB(超出为 413)。
Errors are always `{"detail": [{"type", "loc", "msg"}]}`; a rejected import lists every problem.
Request bodies, by default: JSON at most 1 MB, file uploads at most 20 MB (413 beyond).
"""


@asynccontextmanager
async def _scheduled(app: FastAPI) -> AsyncIterator[None]:
    """Run this process's scheduler while it serves (unless GRIDSUPPLY_SCHEDULER=off)."""
    from supply.jobs.schedule import start_scheduler, stop_scheduler

    start_scheduler()
    try:
        yield
    finally:
        stop_scheduler()


def create_served_app() -> FastAPI:
    """The application `gridsupply serve` runs: `create_app()` with the scheduled jobs running
    in the process (supply.jobs.schedule; off with GRIDSUPPLY_SCHEDULER=off)."""
    return create_app(scheduler=True)


def create_app(*, scheduler: bool = False) -> FastAPI:
    """Build the application: every router under /api/v1, the probes (/healthz, /readyz) and
    /metrics at the root, the error boundary, the body limits, 405 answers as the OpenAPI
    document says, the documentation pages served offline, the web pages at / (signed in with a
    cookie, kept out of the OpenAPI document), and a log line per request. With `scheduler`, the
    scheduled jobs run while it serves, and /readyz asks whether they do."""
    app = FastAPI(
        lifespan=_scheduled if scheduler else None,
        title="gridsupply",
        summary="业扩配套电网工程物资供应匹配 / "
        "materials supply matching for grid connection projects",
        description=DESCRIPTION,
        version="0.1.0",
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
    )
    for router in ROUTERS:  # each directly: FastAPI matches nested included routers slowly
        app.include_router(router, prefix=PREFIX)
    app.include_router(probes.router)  # /healthz, /readyz at the root, as probes expect
    install_scheduler_check(scheduler=scheduler)
    install_metrics(app)  # /metrics (not in the document), and the solves measured
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_web(app)  # the pages at / (not in the document); their files before /static's
    install_docs(app)
    # Middleware added last runs first: request id, then the method check, then the body limit.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(MethodGuard, spec=lambda: app.openapi())
    install_error_handlers(app)
    install_page_errors(app)
    install_security(app)  # every answer, errors too, carries the headers
    # Outermost: each request's line in the log and its latency, as the client got it.
    prefixes = {id(route): PREFIX for router in ROUTERS for route in router.routes}
    app.add_middleware(AccessLog, routes=app.router.routes, prefixes=prefixes)
    return app
