"""The FastAPI application: `create_app()` builds it; nothing connects until a request comes."""

from __future__ import annotations

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.routes import PREFIX, ROUTERS, TAGS

DESCRIPTION = """
业扩配套电网工程物资供应匹配 —— 供应目录:物料、仓库、运输天数、实物储备与储备定额目录、
协议库存、供应商寄存;Excel/CSV 导入导出。

Materials supply for customer-connection grid projects — the supply catalogs: materials,
warehouses, transport days, physical reserve and the reserve quota catalog, framework agreements,
vendor consignment; Excel/CSV import and export.

错误统一为 `{"detail": [{"type", "loc", "msg"}]}`;导入被拒时逐行列出所有问题。
Errors are always `{"detail": [{"type", "loc", "msg"}]}`; a rejected import lists every problem.
"""


def create_app() -> FastAPI:
    """Build the application with every router under /api/v1 and the error boundary."""
    app = FastAPI(
        title="gridsupply",
        summary="业扩配套电网工程物资供应匹配 / "
        "materials supply matching for grid connection projects",
        description=DESCRIPTION,
        version="0.1.0",
        openapi_tags=TAGS,
    )
    for router in ROUTERS:  # each directly: FastAPI matches nested included routers slowly
        app.include_router(router, prefix=PREFIX)
    install_error_handlers(app)
    return app
