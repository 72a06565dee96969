"""Sign-in: a token for a login and password (OAuth2 password flow), and who is signed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from supply.auth.models import Me, TokenAnswer
from supply.auth.signin import sign_in
from supply.auth.tokens import issue_access_token
from supply.core.settings import secret_of

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenAnswer,
    responses={
        401: {
            "description": "用户名或密码错误, 或账号已停用 / wrong login or password, or disabled"
        },
        429: {"description": "登录失败次数过多, 见 Retry-After / too many failed sign-ins"},
    },
)
def token(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenAnswer:
    """登录, 取得令牌 / Sign in: a bearer token for a login and password.

    Send `username` and `password` as a form (application/x-www-form-urlencoded). The token is
    valid for `expires_in` seconds (GRIDSUPPLY_TOKEN_MINUTES); send it as
    `Authorization: Bearer <token>`. Failed sign-ins are audited and throttled.
    """
    secret = secret_of(settings)
    now = clock.now()
    actor = sign_in(
        session.get_bind(),  # type: ignore[arg-type]
        login=form.username,
        password=form.password,
        now=now,
        attempts=settings.sign_in_attempts,
        window_minutes=settings.sign_in_window_minutes,
    )
    minutes = settings.token_minutes
    return TokenAnswer(
        access_token=issue_access_token(actor.login, secret=secret, now=now, minutes=minutes),
        expires_in=minutes * 60,
    )


@router.get("/me", response_model=Me)
def me(actor: ActorDep) -> Me:
    """当前登录用户 / Who is signed in, their roles and permissions."""
    return Me(
        login=actor.login,
        display_name=actor.display_name,
        unit=actor.unit,
        kind=actor.kind,
        roles=list(actor.roles),
        permissions=sorted(p.value for p in actor.permissions),
    )
