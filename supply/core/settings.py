"""Settings from the environment (prefix `GRIDSUPPLY_`), read when asked for, never at import."""

from __future__ import annotations

import os
import threading
from decimal import Decimal

from pydantic import AwareDatetime, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GRIDSUPPLY_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///gridsupply.db",
        description="SQLAlchemy URL; default a SQLite file in the working directory. "
        "PostgreSQL: postgresql+psycopg://user@host/dbname",
    )
    echo_sql: bool = Field(default=False, description="log every SQL statement")
    frozen_now: AwareDatetime | None = Field(
        default=None,
        description="serve as if it were always this moment (ISO 8601 with offset): training, "
        "replays and end-to-end tests; unset in production",
    )
    timezone: str = Field(default="Asia/Shanghai", description="the company's local time zone")
    default_delivery_warehouse: str = Field(
        default="WH-CENTRAL",
        description="where agreement deliveries arrive unless the agreement names a site",
    )
    calendar_dir: str = Field(
        default="calendars", description="operator calendar years (<year>.csv) live here"
    )
    runs_dir: str = Field(
        default="runs", description="weekly runs write instance, plan and exports under here"
    )
    install_working_days: dict[str, int] = Field(
        default_factory=dict,
        description='installation working days per project type, e.g. {"area_new": 6} (JSON)',
    )
    province_match_working_days: int = Field(
        default=2, ge=0, description="working days from the cutoff to the province's matching"
    )
    filing_working_days: int = Field(
        default=2, ge=0, description="working days after review a package filing is due"
    )
    reserve_below_quota_penalty: Decimal = Field(
        default=Decimal(200), ge=0, description="CNY per unit of reserve left below its quota"
    )
    replenishment_working_days: int = Field(
        default=20,
        ge=1,
        description="replenishment is needed by the cutoff + this many working days",
    )
    request_batch_max: int = Field(
        default=32,
        ge=1,
        le=500,
        description="urgent requests one server process answers together at most: requests "
        "that arrive while others are being answered wait and are then answered together, by one "
        "solve (1: one at a time)",
    )
    request_gather_ms: int = Field(
        default=30,
        ge=0,
        le=1000,
        description="under load, a server process waits for as many urgent requests as its "
        "previous round answered while they keep coming, each within this many milliseconds of "
        "the one before (at most four times this in all; 0: never waits)",
    )
    hold_expiry_working_days: int = Field(
        default=10, ge=1, description="a hold not issued within this many working days is released"
    )
    max_json_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="largest request body the HTTP API reads, other than a file upload (bytes; "
        "a larger one is refused with 413 before it is read)",
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="largest multipart/form-data request body (a file upload) the HTTP API reads "
        "(bytes; a larger one is refused with 413 before it is read)",
    )


def get_settings() -> Settings:
    """Read the settings from the environment now (parsed again only when a `GRIDSUPPLY_`
    variable changed: parsing costs a millisecond, and every HTTP request asks)."""
    stamp = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(_PREFIX)))
    with _lock:
        found = _parsed.pop(stamp, None)
        if found is None:
            found = Settings()
        _parsed[stamp] = found  # most recently used last
        while len(_parsed) > 8:  # the environments this process saw most recently are kept
            del _parsed[next(iter(_parsed))]
    return found


_PREFIX = Settings.model_config["env_prefix"]
_parsed: dict[tuple[tuple[str, str], ...], Settings] = {}
_lock = threading.Lock()
