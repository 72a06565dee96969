"""Users, service accounts and their API tokens (tables), and the shapes the API shows of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from supply.core.db import UTCDateTime

LOGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$"


class Unit(SQLModel, table=True):
    """A company unit — the city company or a county company — and the project locations it
    builds in: a project manager of the unit reaches the projects at those locations."""

    code: str = Field(primary_key=True, max_length=32, description="单位代码 / unit code")
    name: str = Field(max_length=100, description="单位名称 / unit name")
    locations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class User(SQLModel, table=True):
    """A person (kind `person`, signs in with a password) or a service account (kind `service`,
    acts through API tokens only)."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=32, unique=True, description="登录名 / login name")
    display_name: str = Field(max_length=100, description="姓名 / display name")
    unit: str | None = Field(default=None, max_length=32, description="单位 / unit")
    kind: str = Field(default="person", max_length=16, description="person | service")
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = Field(default=True)
    email: str | None = Field(
        default=None, max_length=254, description="电子邮箱(提醒邮件) / e-mail for reminders"
    )
    password_hash: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    changed_at: datetime = Field(sa_type=UTCDateTime)
    changed_by: str = Field(max_length=100)


class ApiToken(SQLModel, table=True):
    """A revocable token of a service account, limited to some permissions; only its SHA-256
    is stored (the token is random and long: a slow password hash would add nothing)."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=100, description="用途 / what it is for")
    prefix: str = Field(max_length=12, description="令牌前缀 / the token's first characters")
    token_sha256: str = Field(max_length=64, unique=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=100)


class UserPublic(SQLModel):
    login: str = Field(description="登录名 / login name")
    display_name: str = Field(description="姓名 / display name")
    unit: str | None = Field(description="单位 / unit")
    kind: str = Field(description="person | service")
    roles: list[str] = Field(description="角色 / roles")
    active: bool = Field(description="是否启用 / active")
    created_at: datetime
    created_by: str
    changed_at: datetime
    changed_by: str


class UserListed(UserPublic):
    """A user as the list shows them: with their last sign-in, if one is recorded."""

    last_sign_in: datetime | None = Field(
        default=None, description="最近登录 / last sign-in (none recorded: null)"
    )


class Me(SQLModel):
    """The signed-in user, with what they may do."""

    login: str
    display_name: str
    unit: str | None
    kind: str
    roles: list[str]
    permissions: list[str] = Field(description="权限 / permissions, from the roles")


class TokenAnswer(SQLModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="有效秒数 / seconds until it expires")


class ApiTokenPublic(SQLModel):
    id: int
    login: str = Field(description="服务账号 / service account")
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class ApiTokenIssued(ApiTokenPublic):
    token: str = Field(description="令牌(仅此一次显示) / the token, shown this once only")
