"""Signing in to the web pages: the session cookie, its CSRF token, and who a page acts for.

- The cookie (`SESSION_COOKIE`) holds the same signed token as the API's bearer header
  (`supply.auth.tokens.issue_access_token`): HTTP-only, SameSite=Lax, Secure over https, and it
  lasts as long as the token (`GRIDSUPPLY_TOKEN_MINUTES`). The API under /api/v1 never reads it
  (`api.deps.get_actor` takes the Authorization header only).
- A browser sends the cookie by itself, so every unsafe request from a page (POST, and any other
  method but GET, HEAD, OPTIONS) must also carry the session's CSRF token — in the
  `X-CSRF-Token` header (htmx sends it: `hx-headers` on <body>) or the `csrf_token` form field.
  The token is an HMAC of the cookie's value with the signing key: another site can neither read
  it nor make it, and it changes with every sign-in.
- The sign-in form itself is protected the same way, with a random value in a short-lived
  cookie of its own (`LOGIN_COOKIE`) in place of the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import Response

from api.deps import ClockDep, SessionDep, SettingsDep, check_permission, resolve_actor
from supply.auth.actor import Actor
from supply.auth.roles import Permission
from supply.core.errors import Forbidden, Unauthenticated
from supply.core.settings import Settings, secret_of

SESSION_COOKIE = "gridsupply_session"
LOGIN_COOKIE = "gridsupply_login"
LOGIN_COOKIE_SECONDS = 2 * 60 * 60
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

EXPIRED = "登录已失效，请重新登录 / your sign-in has expired; sign in again"
CSRF_REFUSED = (
    "请求未通过安全校验（缺少或错误的 CSRF 令牌）。请刷新页面后重试 / the request carries no "
    "valid CSRF token; reload the page and try again"
)


class SignInNeeded(Exception):
    """The page needs a signed-in user: the browser is sent to the sign-in page."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class CsrfRefused(Forbidden):
    """An unsafe request from a page without the session's CSRF token (answered 403)."""

    type = "csrf"


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_token(session_cookie: str, secret: str) -> str:
    """The CSRF token of a session: an HMAC of its cookie's value with the signing key."""
    return _mac(secret, "csrf", session_cookie)


def login_csrf_token(nonce: str, secret: str) -> str:
    """The CSRF token of the sign-in form, bound to the random value of `LOGIN_COOKIE`."""
    return _mac(secret, "login", nonce)


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


async def sent_csrf_token(request: Request) -> str:
    """The CSRF token a request carries: the header, else the form field ('' for neither)."""
    sent = request.headers.get(CSRF_HEADER, "")
    if sent:
        return sent
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()  # kept by the request: the route reads the same form
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def tokens_match(sent: str, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, token: str, minutes: int) -> None:
    """Put the sign-in token in the session cookie for as long as the token lasts."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=minutes * 60,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def set_login_cookie(response: Response, request: Request, nonce: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_COOKIE_SECONDS,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_login_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        LOGIN_COOKIE, path="/login", httponly=True, samesite="lax", secure=is_https(request)
    )


def signed_in(
    request: Request, *, settings: Settings, clock: Any, bind: Any
) -> tuple[Actor, str] | None:
    """The actor and the session cookie of a request whose cookie names an active user, else
    None (no cookie, an expired or forged token, a disabled user)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        actor = resolve_actor(
            request, token, settings=settings, clock=clock, bind=bind, api_tokens=False
        )
    except Unauthenticated:
        return None
    return actor, token


async def page_actor(
    request: Request, settings: SettingsDep, clock: ClockDep, session: SessionDep
) -> Actor:
    """Who a page acts for: the user the session cookie names (else to the sign-in page), with
    the CSRF token checked on every unsafe request."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInNeeded()
    try:
        actor = resolve_actor(
            request, token, settings=settings, clock=clock, bind=session.get_bind(),
            api_tokens=False,
        )  # fmt: skip
    except Unauthenticated:
        raise SignInNeeded(EXPIRED) from None
    expected = csrf_token(token, secret_of(settings))
    request.state.csrf = expected
    if request.method not in SAFE_METHODS and not tokens_match(
        await sent_csrf_token(request), expected
    ):
        raise CsrfRefused(CSRF_REFUSED)
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


def page_require(permission: str) -> Any:
    """Declare the permission a page needs: to the sign-in page without a sign-in, a 403 page
    naming the permission without it. Kept on the check (`check.permission`) like
    `api.deps.require`, so a test can read every page's."""
    wanted = Permission(permission)

    async def check(actor: PageActor) -> None:
        check_permission(actor, wanted)

    check.__name__ = f"page_require_{permission.replace('.', '_')}"
    check.permission = wanted.value  # type: ignore[attr-defined]
    return Depends(check)
