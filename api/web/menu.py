"""The pages of the menu, each with the permission it needs: a user sees only those their roles
allow (the server refuses the others all the same: `api.web.session.page_require`)."""

from __future__ import annotations

from dataclasses import dataclass

from supply.auth.actor import Actor
from supply.auth.roles import Permission


@dataclass(frozen=True)
class MenuItem:
    title: str
    path: str
    permission: Permission


# In the order the menu shows them; the home page sends a user to the first one they may open.
MENU: tuple[MenuItem, ...] = (
    MenuItem("周计划", "/weekly", Permission.PLANS_READ),
    MenuItem("假设分析", "/weekly/whatif", Permission.SCENARIOS_READ),
    MenuItem("项目", "/projects", Permission.PROJECTS_READ),
    MenuItem("库存与定额", "/stock", Permission.CATALOGS_READ),
    MenuItem("项目包与备案", "/packages", Permission.PACKAGES_READ),
    MenuItem("省公司匹配", "/province", Permission.PROVINCE_READ),
    MenuItem("导入", "/imports", Permission.CATALOGS_IMPORT),
    MenuItem("审计", "/audit", Permission.AUDIT_READ),
    MenuItem("用户", "/users", Permission.USERS_READ),
)


def menu_for(actor: Actor | None) -> list[MenuItem]:
    """The menu items `actor` may open (none for no one)."""
    if actor is None:
        return []
    return [item for item in MENU if actor.can(item.permission)]


def first_page(actor: Actor) -> str | None:
    """Where the home page sends `actor`: their first menu page, or None if they have none."""
    items = menu_for(actor)
    return items[0].path if items else None
