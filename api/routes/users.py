"""Users, service accounts and their API tokens (administrators)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field, StrictBool

from api.deps import MAX_ID, ClockDep, PageDep, SessionDep, UserDep, require
from supply.auth import users
from supply.auth.models import (
    LOGIN_PATTERN,
    ApiTokenIssued,
    ApiTokenPublic,
    UserListed,
    UserPublic,
)
from supply.auth.passwords import MAX_LENGTH, MIN_LENGTH
from supply.auth.roles import Permission, Role
from supply.core.paging import Page

router = APIRouter(tags=["users"])
Login = Annotated[str, Path(pattern=LOGIN_PATTERN, description="登录名 / login name")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="令牌编号 / token id")]
Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]


class UserCreate(BaseModel):
    """A person (roles, and a password or none yet) or a service account (roles, no password)."""

    model_config = {
        "json_schema_extra": {
            "if": {"properties": {"kind": {"const": "service"}}, "required": ["kind"]},
            "then": {"not": {"required": ["password"]}},
        }
    }

    login: str = Field(pattern=LOGIN_PATTERN, description="登录名 / login name")
    display_name: str = Field(default="", max_length=100, description="姓名 / display name")
    unit: str | None = Field(default=None, max_length=32, description="单位 / unit code")
    roles: list[Role] = Field(min_length=1, description="角色 / roles")
    kind: Literal["person", "service"] = Field(default="person", description="人员或服务账号")
    password: Password | None = Field(
        default=None,
        description="密码(仅人员; 不填则待管理员设置) / password (a person only; without one "
        "the person signs in once an administrator sets it)",
    )


class UserChange(BaseModel):
    add_roles: list[Role] = Field(default_factory=list, description="增加角色 / roles to add")
    remove_roles: list[Role] = Field(default_factory=list, description="移除角色 / to remove")
    active: StrictBool | None = Field(default=None, description="启用或停用 / enable or disable")
    unit: str | None = Field(default=None, max_length=32, description="单位 / unit code")
    display_name: str | None = Field(default=None, max_length=100, description="姓名")


class PasswordReset(BaseModel):
    password: Password = Field(description="新密码 / the new password")


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="用途 / what it is for")
    scopes: list[Permission] = Field(min_length=1, description="权限 / permissions it grants")


@router.get("/users", response_model=Page[UserListed], dependencies=[require("users.read")])
def list_users(
    session: SessionDep,
    page: PageDep,
    sort: Annotated[
        str | None,
        Query(
            pattern=f"^-?({'|'.join(users.SORTABLE)})$",
            description=f"排序 / sort by one of {', '.join(users.SORTABLE)} (`-` before it: "
            "descending); default by login",
        ),
    ] = None,
) -> Page[UserListed]:
    """用户列表 / Users and service accounts, by login (or by `sort`), each with their last
    sign-in if one is recorded; never a password or its hash."""
    return users.list_users(
        session, offset=page.offset, limit=page.limit, where=users.UserFilter(sort=sort)
    )


@router.post(
    "/users", response_model=UserPublic, status_code=201, dependencies=[require("users.manage")]
)
def add_user(session: SessionDep, clock: ClockDep, user: UserDep, body: UserCreate) -> UserPublic:
    """新增用户 / Add a user (a person, with a password) or a service account."""
    return users.add_user(
        session,
        login=body.login,
        display_name=body.display_name,
        roles=[r.value for r in body.roles],
        unit=body.unit,
        password=body.password,
        kind=body.kind,
        by=user,
        now=clock.now(),
    )


@router.patch(
    "/users/{login}",
    response_model=UserPublic,
    dependencies=[require("users.manage")],
    responses={
        404: {"description": "没有该用户 / no such user"},
        409: {"description": "用户至少保留一个角色 / a user keeps at least one role"},
    },
)
def change_user(
    session: SessionDep, clock: ClockDep, user: UserDep, login: Login, body: UserChange
) -> UserPublic:
    """修改用户: 角色、单位、停用 / Change a user's roles, unit or name; disable or enable."""
    return users.change_user(
        session,
        login,
        by=user,
        now=clock.now(),
        add_roles=[r.value for r in body.add_roles],
        remove_roles=[r.value for r in body.remove_roles],
        active=body.active,
        unit=body.unit,
        display_name=body.display_name,
    )


@router.post(
    "/users/{login}/password",
    status_code=204,
    dependencies=[require("users.manage")],
    responses={404: {"description": "没有该用户 / no such user"}},
)
def reset_password(
    session: SessionDep, clock: ClockDep, user: UserDep, login: Login, body: PasswordReset
) -> None:
    """重置密码 / Give a user a new password."""
    users.reset_password(session, login, body.password, by=user, now=clock.now())


@router.get("/tokens", response_model=list[ApiTokenPublic], dependencies=[require("users.read")])
def list_tokens(session: SessionDep) -> list[ApiTokenPublic]:
    """API 令牌 / Service accounts' API tokens (never the tokens themselves)."""
    return users.list_api_tokens(session)


@router.post(
    "/users/{login}/tokens",
    response_model=ApiTokenIssued,
    status_code=201,
    dependencies=[require("users.manage")],
    responses={404: {"description": "没有该用户 / no such user"}},
)
def issue_token(
    session: SessionDep, clock: ClockDep, user: UserDep, login: Login, body: TokenCreate
) -> ApiTokenIssued:
    """发放 API 令牌 / Issue an API token to a service account (shown this once)."""
    return users.issue_api_token(
        session, login, name=body.name, scopes=[s.value for s in body.scopes], by=user,
        now=clock.now(),
    )  # fmt: skip


@router.post(
    "/tokens/{token_id}/revoke",
    response_model=ApiTokenPublic,
    dependencies=[require("users.manage")],
    responses={404: {"description": "没有该令牌 / no such token"}},
)
def revoke_token(
    session: SessionDep, clock: ClockDep, user: UserDep, token_id: TokenId
) -> ApiTokenPublic:
    """撤销 API 令牌 / Revoke an API token."""
    return users.revoke_api_token(session, token_id, by=user, now=clock.now())
