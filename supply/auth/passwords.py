"""Passwords: hashed with argon2 (pwdlib's recommended hasher), never stored or logged in clear."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

from supply.core.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def check_new_password(password: str) -> None:
    """Refuse a password too short or too long (the bounds the API's schema states too)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"密码至少 {MIN_LENGTH} 个字符 / a password has at least {MIN_LENGTH} characters",
            loc=("password",),
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            f"密码最多 {MAX_LENGTH} 个字符 / a password has at most {MAX_LENGTH} characters",
            loc=("password",),
        )


def hash_password(password: str) -> str:
    """The argon2 hash to store for `password`."""
    return _hasher().hash(password)


# Verified against when the login does not exist, so that a wrong login costs as long as a
# wrong password (no telling which logins exist by timing).
_DUMMY = None


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches the stored hash (False for a user with no password)."""
    global _DUMMY
    if stored is None:
        if _DUMMY is None:
            _DUMMY = _hasher().hash("not a password of anyone")
        _hasher().verify(password[:MAX_LENGTH], _DUMMY)
        return False
    return bool(_hasher().verify(password[:MAX_LENGTH], stored))
