"""Roles and their permissions: the one table every route, command and page is checked against.

A permission is `area.verb`. A user holds one or more roles and may do what any of them allows.
Project managers are also limited by row: they see and act only on the projects of their unit,
or the ones assigned to them (`Actor.project_scope`). docs/security.md prints this table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Permission(StrEnum):
    CATALOGS_READ = "catalogs.read"
    CATALOGS_IMPORT = "catalogs.import"
    QUOTAS_CONFIRM = "quotas.confirm"
    QUOTAS_RECOMMEND = "quotas.recommend"
    PROJECTS_READ = "projects.read"
    PROJECTS_WRITE = "projects.write"
    PROJECTS_IMPORT = "projects.import"
    PLANS_READ = "plans.read"
    PLANS_RUN = "plans.run"
    PLANS_APPROVE = "plans.approve"
    PLANS_IMPORT = "plans.import"
    REQUESTS_READ = "requests.read"
    REQUESTS_CREATE = "requests.create"
    REQUESTS_CANCEL = "requests.cancel"
    HOLDS_READ = "holds.read"
    HOLDS_ISSUE = "holds.issue"
    HOLDS_RELEASE = "holds.release"
    HOLDS_EXPIRE = "holds.expire"
    PACKAGES_READ = "packages.read"
    PACKAGES_WRITE = "packages.write"
    FILINGS_READ = "filings.read"
    FILINGS_WRITE = "filings.write"
    AUDIT_READ = "audit.read"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"
    CALENDAR_WRITE = "calendar.write"
    JOBS_READ = "jobs.read"
    JOBS_RUN = "jobs.run"
    PROVINCE_READ = "province.read"
    PROVINCE_MATCH = "province.match"
    SCENARIOS_READ = "scenarios.read"
    SCENARIOS_RUN = "scenarios.run"


class Role(StrEnum):
    PLANNER = "planner"
    PROJECT_MANAGER = "project_manager"
    DEVELOPMENT = "development"
    MARKETING = "marketing"
    VIEWER = "viewer"
    ADMIN = "admin"
    PROVINCE_PLANNER = "province_planner"


ROLE_ZH: Mapping[Role, str] = {
    Role.PLANNER: "物资部计划员",
    Role.PROJECT_MANAGER: "项目经理",
    Role.DEVELOPMENT: "发展部",
    Role.MARKETING: "营销部",
    Role.VIEWER: "只读",
    Role.ADMIN: "系统管理员",
    Role.PROVINCE_PLANNER: "省公司物资计划员",
}

# What each permission allows, in the words the web pages show (a 403 page names it so).
PERMISSION_ZH: Mapping[Permission, str] = {
    Permission.CATALOGS_READ: "查看供应目录",
    Permission.CATALOGS_IMPORT: "导入供应目录",
    Permission.QUOTAS_CONFIRM: "确认储备定额目录",
    Permission.QUOTAS_RECOMMEND: "推荐储备定额",
    Permission.PROJECTS_READ: "查看项目与需求",
    Permission.PROJECTS_WRITE: "维护项目与需求",
    Permission.PROJECTS_IMPORT: "导入项目工作簿",
    Permission.PLANS_READ: "查看周计划",
    Permission.PLANS_RUN: "运行周计划",
    Permission.PLANS_APPROVE: "批准周计划",
    Permission.PLANS_IMPORT: "导入省公司匹配结果",
    Permission.REQUESTS_READ: "查看紧急需求",
    Permission.REQUESTS_CREATE: "提交紧急需求",
    Permission.REQUESTS_CANCEL: "撤销紧急需求",
    Permission.HOLDS_READ: "查看库存保留",
    Permission.HOLDS_ISSUE: "保留出库",
    Permission.HOLDS_RELEASE: "释放保留",
    Permission.HOLDS_EXPIRE: "到期释放保留",
    Permission.PACKAGES_READ: "查看项目包预算",
    Permission.PACKAGES_WRITE: "维护项目包",
    Permission.FILINGS_READ: "查看备案",
    Permission.FILINGS_WRITE: "办理备案",
    Permission.AUDIT_READ: "查看审计日志",
    Permission.USERS_READ: "查看用户",
    Permission.USERS_MANAGE: "管理用户与令牌",
    Permission.CALENDAR_WRITE: "维护工作日历",
    Permission.JOBS_READ: "查看定时作业",
    Permission.JOBS_RUN: "手动运行定时作业",
    Permission.PROVINCE_READ: "查看省公司集中匹配",
    Permission.PROVINCE_MATCH: "运行省公司集中匹配",
    Permission.SCENARIOS_READ: "查看假设分析",
    Permission.SCENARIOS_RUN: "运行假设分析",
}

P = Permission
READ_ALL = frozenset(p for p in Permission if p.value.endswith(".read"))

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.PLANNER: frozenset(
        {
            P.PLANS_READ,
            P.PLANS_RUN,
            P.PLANS_APPROVE,
            P.PLANS_IMPORT,
            P.CATALOGS_READ,
            P.CATALOGS_IMPORT,
            P.HOLDS_READ,
            P.HOLDS_ISSUE,
            P.HOLDS_RELEASE,
            P.HOLDS_EXPIRE,
            P.PROJECTS_READ,
            P.PROJECTS_IMPORT,
            P.REQUESTS_READ,
            P.PACKAGES_READ,
            P.FILINGS_READ,
            P.JOBS_READ,
            P.JOBS_RUN,
            P.QUOTAS_RECOMMEND,
            P.SCENARIOS_READ,
            P.SCENARIOS_RUN,
        }
    ),
    Role.PROJECT_MANAGER: frozenset(
        {
            P.PROJECTS_READ,
            P.PROJECTS_WRITE,
            P.REQUESTS_READ,
            P.REQUESTS_CREATE,
            P.REQUESTS_CANCEL,
            P.HOLDS_READ,
            P.HOLDS_ISSUE,
            P.HOLDS_RELEASE,
            P.CATALOGS_READ,
        }
    ),
    Role.DEVELOPMENT: frozenset(
        {
            P.PACKAGES_READ,
            P.PACKAGES_WRITE,
            P.FILINGS_READ,
            P.FILINGS_WRITE,
            P.PROJECTS_READ,
            P.PLANS_READ,
            P.CATALOGS_READ,
            P.SCENARIOS_READ,
        }
    ),
    Role.MARKETING: frozenset(
        {P.QUOTAS_CONFIRM, P.QUOTAS_RECOMMEND, P.CATALOGS_READ, P.PROJECTS_READ}
    ),
    Role.VIEWER: READ_ALL,
    # The administrator also loads the departments' workbooks (catalogs, projects) when asked.
    Role.ADMIN: frozenset(
        {
            P.USERS_READ,
            P.USERS_MANAGE,
            P.CALENDAR_WRITE,
            P.AUDIT_READ,
            P.CATALOGS_READ,
            P.CATALOGS_IMPORT,
            P.PROJECTS_IMPORT,
            P.JOBS_READ,
            P.JOBS_RUN,
        }
    ),
    # The province's materials planner matches the cities' plans centrally (supply/province).
    Role.PROVINCE_PLANNER: frozenset({P.PROVINCE_READ, P.PROVINCE_MATCH}),
}

# Roles whose project permissions reach every unit; a project manager's reach only their own.
ALL_PROJECTS_ROLES = frozenset(
    {Role.PLANNER, Role.DEVELOPMENT, Role.MARKETING, Role.VIEWER, Role.ADMIN}
)


def permissions_of(roles: Iterable[str]) -> frozenset[Permission]:
    """Every permission the given roles grant together (unknown role names grant nothing)."""
    granted: set[Permission] = set()
    for name in roles:
        if name in Role.__members__.values():
            granted |= ROLE_PERMISSIONS[Role(name)]
    return frozenset(granted)


def parse_roles(names: Iterable[str]) -> list[Role]:
    """The roles named, in table order, or ValueError naming one that does not exist."""
    wanted: set[Role] = set()
    for name in names:
        try:
            wanted.add(Role(name.strip()))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"没有角色 {name!r} / no role {name!r}; roles: {known}") from None
    return [r for r in Role if r in wanted]
