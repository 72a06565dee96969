"""The one acting: a signed-in user or a service account, with what they may do and see."""

from __future__ import annotations

from dataclasses import dataclass, field

from supply.auth.roles import ALL_PROJECTS_ROLES, Permission, Role, permissions_of


@dataclass(frozen=True)
class ProjectScope:
    """The projects a project manager reaches: those of their unit and those assigned to them."""

    unit: str | None
    login: str


@dataclass(frozen=True)
class Actor:
    """Who is acting, as every service that checks or records an actor receives them."""

    login: str
    display_name: str = ""
    unit: str | None = None
    roles: tuple[str, ...] = ()
    kind: str = "person"  # person | service | system
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        login: str,
        roles: tuple[str, ...],
        *,
        display_name: str = "",
        unit: str | None = None,
        kind: str = "person",
        scopes: frozenset[Permission] | None = None,
    ) -> Actor:
        """An actor with the permissions of their roles (narrowed to `scopes` for a token)."""
        granted = permissions_of(roles)
        if scopes is not None:
            granted = granted & scopes
        return cls(login, display_name or login, unit, roles, kind, granted)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def project_scope(self) -> ProjectScope | None:
        """None when the actor reaches every unit's projects; else the unit and login they may."""
        if any(r in ALL_PROJECTS_ROLES for r in self.roles) or self.kind == "system":
            return None
        return ProjectScope(self.unit, self.login)


SYSTEM = Actor(
    "system", "系统 / system", None, (Role.ADMIN.value,), "system", frozenset(Permission)
)
