"""The HTTP API under /api/v1: one router per domain, each route a thin call into a service."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute

from api.routes import (
    agreements,
    audit,
    auth,
    catalogs,
    filings,
    holds,
    imports,
    jobs,
    materials,
    notifications,
    packages,
    plans,
    projects,
    province,
    quotas,
    requests,
    reserve,
    scenarios,
    system,
    users,
)

PREFIX = "/api/v1"
ROUTERS: list[APIRouter] = []
for module in (
    system,
    auth,
    materials,
    reserve,
    quotas,
    agreements,
    catalogs,
    imports,
    plans,
    scenarios,
    province,
    projects,
    packages,
    filings,
    requests,
    holds,
    users,
    audit,
    jobs,
    notifications,
):
    for route in module.router.routes:
        # The docstring's first line, Chinese / English, is the summary shown in the docs.
        if isinstance(route, APIRoute) and route.description and not route.summary:
            route.summary = route.description.strip().splitlines()[0]
    ROUTERS.append(module.router)

TAGS = [
    {"name": "system", "description": "运行状态 / service health"},
    {"name": "auth", "description": "登录 / sign-in"},
    {"name": "users", "description": "用户、服务账号与 API 令牌 / users, service accounts, tokens"},
    {"name": "audit", "description": "审计日志 / the audit trail"},
    {
        "name": "jobs",
        "description": "定时作业: 周计划草稿、保留到期、备案与预算、协议、日历、省公司结果 / "
        "scheduled jobs and their runs",
    },
    {
        "name": "province",
        "description": "省公司集中匹配 / the province's central matching of the cities' plans",
    },
    {"name": "notifications", "description": "我的提醒 / the signed-in user's notifications"},
    {
        "name": "materials",
        "description": "物料、仓库与运输天数 / materials, warehouses, transport days",
    },
    {
        "name": "reserve",
        "description": "实物储备与储备定额目录 / physical reserve and the quota catalog",
    },
    {"name": "agreements", "description": "协议库存 / framework-agreement stock"},
    {"name": "consignment", "description": "供应商寄存 / vendor consignment"},
    {"name": "imports", "description": "目录导入导出 / catalog import and export (Excel, CSV)"},
    {
        "name": "projects",
        "description": "业扩项目与需求明细、项目工作簿导入导出 / customer-connection projects, "
        "their demand lines, the project workbook",
    },
    {
        "name": "packages",
        "description": "项目包、预算执行与补充资金申请 / project packages, their budget figures "
        "and the draft application for supplementary funds",
    },
    {
        "name": "filings",
        "description": "先实施、后备案：超预算项目的备案 / filings of projects implemented over "
        "their package's budget",
    },
    {
        "name": "requests",
        "description": "紧急需求: 即时答复并保留库存 / urgent supply requests: an answer now, "
        "with the stock held",
    },
    {
        "name": "holds",
        "description": "库存保留: 出库、释放、到期 / holds on stock: issue, release, expiry",
    },
    {
        "name": "plans",
        "description": "周计划(周一 12:00 批次)、批准、报表、省公司匹配结果 / "
        "the weekly plan, its approval, exports and the province's matching",
    },
    {
        "name": "scenarios",
        "description": "假设分析: 在周计划上试变更, 与基准对比 / what-if on a weekly plan: changes "
        "tried, solved and compared with the base",
    },
]
