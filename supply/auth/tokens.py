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
CLOCK_SKEW_S = 60  # a token issued up to this far ahead of the clock (another host's) is taken

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
            # Times are checked against the service's clock (`now`: frozen in training and
            # tests), not PyJWT's wall clock.
            options={
                "require": ["exp", "iat", "sub", "iss"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError:
        raise Unauthenticated(INVALID) from None
    moment = now.timestamp()
    if (
        not isinstance(claims.get("sub"), str)
        or not isinstance(claims["iat"], int | float)
        or not isinstance(claims["exp"], int | float)
        or claims["exp"] <= moment
        or claims["iat"] > moment + CLOCK_SKEW_S
    ):
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
