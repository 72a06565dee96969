"""Sign-in tokens: short-lived JWTs (HS256, PyJWT) signed with `GRIDSUPPLY_SECRET_KEY`, and the
service accounts' API tokens (random, shown once, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import jwt

from supply.core.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "gridsupply"
API_TOKEN_PREFIX = "gs_"
MIN_SECRET_LENGTH = 32

INVALID = "登录已失效，请重新登录 / the sign-in is not valid (expired or not ours); sign in again"


def issue_access_token(login: str, *, secret: str, now: datetime, minutes: int) -> str:
    """A signed token naming `login`, valid for `minutes` from `now`."""
    claims = {
        "sub": login,
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def login_of(token: str, *, secret: str, now: datetime) -> str:
    """The login a valid token names; Unauthenticated for an expired, forged or malformed one."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise Unauthenticated(INVALID) from None
    if not isinstance(claims.get("sub"), str) or claims["exp"] <= now.timestamp():
        raise Unauthenticated(INVALID)
    return str(claims["sub"])


def new_api_token() -> str:
    """A new random API token (shown to its maker once)."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The SHA-256 stored for an API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_api_token(token: str) -> bool:
    return token.startswith(API_TOKEN_PREFIX)
