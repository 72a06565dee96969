"""登录 / 退出: the sign-in form (the API's own sign-in: throttled and audited) and signing out."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from api.deps import ClockDep, SessionDep, SettingsDep
from api.web.render import PageRoute, local_path, render
from api.web.session import (
    CSRF_REFUSED,
    EXPIRED,
    LOGIN_COOKIE,
    PageActor,
    clear_login_cookie,
    clear_session_cookie,
    login_csrf_token,
    new_login_nonce,
    set_login_cookie,
    set_session_cookie,
    signed_in,
    tokens_match,
)
from supply.auth.signin import sign_in
from supply.auth.tokens import issue_access_token
from supply.core.errors import TooManyAttempts, Unauthenticated
from supply.core.settings import Settings, secret_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SIGNED_OUT = "已退出登录 / you have signed out"
Next = Annotated[str | None, Query(max_length=2000)]


def _form(
    request: Request,
    *,
    settings: Settings,
    nonce: str | None,
    login: str = "",
    next_page: str = "/",
    error: str = "",
    notice: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The sign-in form, with a CSRF token bound to the sign-in cookie (made if missing)."""
    fresh = nonce or new_login_nonce()
    response = render(
        request,
        "login.html",
        {
            "login_csrf": login_csrf_token(fresh, secret_of(settings)),
            "attempts": settings.sign_in_attempts,
            "window_minutes": settings.sign_in_window_minutes,
            "login": login,
            "next_page": next_page,
            "error": error,
            "notice": notice,
        },
        status=status,
        headers=headers,
    )
    if fresh != nonce:
        set_login_cookie(response, request, fresh)
    return response


@router.get("/login")
def login_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    next: Next = None,
    expired: Annotated[bool, Query()] = False,
    out: Annotated[bool, Query()] = False,
) -> Response:
    """The sign-in form (a signed-in user goes on to where they were going)."""
    next_page = local_path(next)
    if signed_in(request, settings=settings, clock=clock, bind=session.get_bind()):
        return RedirectResponse(next_page, status_code=303)
    notice = EXPIRED if expired else SIGNED_OUT if out else ""
    return _form(
        request,
        settings=settings,
        nonce=request.cookies.get(LOGIN_COOKIE),
        next_page=next_page,
        notice=notice,
    )


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Sign in: the same check, throttle and audit as POST /api/v1/auth/token; the token goes
    into the session cookie."""
    secret = secret_of(settings)
    nonce = request.cookies.get(LOGIN_COOKIE)
    next_page = local_path(next)
    again = partial(
        _form, request, settings=settings, nonce=nonce, login=username, next_page=next_page
    )
    if not nonce or not tokens_match(csrf_token, login_csrf_token(nonce, secret)):
        return again(error=CSRF_REFUSED, status=403)
    if not username.strip() or not password:
        return again(error="请输入用户名和密码 / enter your login and password")
    now = clock.now()
    try:
        actor = sign_in(
            session.get_bind(),  # type: ignore[arg-type]
            login=username,
            password=password,
            now=now,
            attempts=settings.sign_in_attempts,
            window_minutes=settings.sign_in_window_minutes,
        )
    except TooManyAttempts as exc:
        retry = {"Retry-After": str(exc.retry_after)}
        return again(error=exc.message, status=429, headers=retry)
    except Unauthenticated as exc:
        return again(error=exc.message)
    minutes = settings.token_minutes
    token = issue_access_token(actor.login, secret=secret, now=now, minutes=minutes)
    response = RedirectResponse(next_page, status_code=303)
    set_session_cookie(response, request, token, minutes)
    clear_login_cookie(response, request)
    return response


@router.get("/logout")
def logout_page(request: Request, actor: PageActor) -> Response:
    """Ask to sign out (signing out is a POST with the CSRF token)."""
    return render(request, "logout.html")


@router.post("/logout")
def logout(request: Request, actor: PageActor) -> Response:
    """Sign out: the browser drops the session cookie. (The token in it, which no script could
    read, lapses at its expiry, GRIDSUPPLY_TOKEN_MINUTES after the sign-in.)"""
    response = RedirectResponse("/login?out=1", status_code=303)
    clear_session_cookie(response, request)
    return response
