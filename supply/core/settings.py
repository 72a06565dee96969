"""Settings from the environment (prefix `GRIDSUPPLY_`), read when asked for, never at import.

A setting that cannot be used (a database URL of a kind we do not run on, a frozen moment that is
not a moment) is refused when the settings are read, with `SettingsInvalid`: one line naming the
variable, what is wrong and how to fix it. The command line prints it and exits 2; `gridsupply
serve` refuses to start.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import time
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as EnvironmentUnreadable
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from supply.core.money import MAX_PRICE
from supply.core.project_types import ProjectType

SQLITE_EXAMPLE = "sqlite:///gridsupply.db"
POSTGRES_EXAMPLE = "postgresql+psycopg://postgres@127.0.0.1:5432/gridsupply"
MIN_SECRET_LENGTH = 32
MAX_INSTALL_WORKING_DAYS = 250  # a year of working days: past any site work after delivery
InstallWorkingDays = Annotated[int, Field(strict=True, ge=0, le=MAX_INSTALL_WORKING_DAYS)]


class LogFormat(StrEnum):
    """How the server writes its log: lines for people, or one JSON object per line."""

    TEXT = "text"
    JSON = "json"


class SettingsInvalid(ValueError):
    """A `GRIDSUPPLY_` variable cannot be used; the message names it and says how to fix it.

    `variable` is its name alone: what the HTTP API may say (the value, a database URL with its
    password or a server path, stays in the server's log and on the operator's command line)."""

    def __init__(self, message: str, *, variable: str = "") -> None:
        super().__init__(message)
        self.variable = variable


def check_database_url(url: str) -> str:
    """Return the URL the service connects with, or raise ValueError saying what to write.

    SQLite (`sqlite:///path.db`) and PostgreSQL through psycopg (`postgresql+psycopg://…`; a
    plain `postgresql://` means the same) are supported; anything else is refused up front,
    not when the first query fails.
    """
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):
        raise ValueError(
            f"不是数据库地址 / not a database URL; write {SQLITE_EXAMPLE} or {POSTGRES_EXAMPLE}"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed.render_as_string(hide_password=False)
    if backend == "postgresql" and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend in ("postgres", "postgresql"):
        raise ValueError(
            f"PostgreSQL 地址应写作 postgresql+psycopg:// / write a PostgreSQL URL as "
            f"postgresql+psycopg://user@host:5432/dbname (e.g. {POSTGRES_EXAMPLE}), "
            f"not {parsed.drivername}://"
        )
    raise ValueError(
        f"不支持 {backend} 数据库 / gridsupply runs on SQLite ({SQLITE_EXAMPLE}) or PostgreSQL "
        f"({POSTGRES_EXAMPLE}), not {parsed.drivername}"
    )


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
    install_working_days: dict[ProjectType, InstallWorkingDays] = Field(
        default_factory=dict,
        description='installation working days per project type, e.g. {"area_new": 6} (JSON): '
        f"keys are project types, values whole working days 0–{MAX_INSTALL_WORKING_DAYS}",
    )
    city: str = Field(
        default="威海",
        min_length=1,
        max_length=40,
        description="the city company (地市公司) named in the requirement plan sent to the province",
    )
    province_match_working_days: int = Field(
        default=2, ge=0, description="working days from the cutoff to the province's matching"
    )
    province_band_horizon_days: int = Field(
        default=30,
        ge=0,
        le=366,
        description="the province's matching prefers agreement lines ending within this many "
        "days below their lower band",
    )
    province_band_penalty_pct: Decimal = Field(
        default=Decimal(10),
        ge=0,
        le=100,
        description="what a unit left short of an ending line's lower band costs the province's "
        "matching, in % of its price",
    )
    filing_working_days: int = Field(
        default=2, ge=0, description="working days after review a package filing is due"
    )
    reserve_below_quota_penalty: Decimal = Field(
        default=Decimal(200),
        ge=0,
        le=MAX_PRICE,
        description="CNY per unit of reserve left below its quota",
    )
    quota_service_level: Decimal = Field(
        default=Decimal("0.95"),
        ge=Decimal("0.5"),
        le=1,
        decimal_places=3,
        description="the quota advisor's target: the share of short-deadline lines (5/8/15 "
        "working days, 10 kV and below) the recommended quotas keep on time, 0.5–1",
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
    emergency_for_catalog_materials: bool = Field(
        default=True,
        description="offer emergency procurement also for materials in a catalog whose stock "
        "ran out or cannot serve a line (each such line is marked with its cause); false: only "
        "for materials outside the catalogs, listed at the feasibility stage (R1.4), and a "
        "catalog material's line goes unmet instead",
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

    secret_key: SecretStr | None = Field(
        default=None,
        description="the key sign-in tokens are signed with (32+ characters, kept secret; e.g. "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'); `gridsupply serve` "
        "refuses to start without it unless run with --demo",
    )
    token_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="minutes a sign-in token is valid"
    )
    sign_in_attempts: int = Field(
        default=5,
        ge=1,
        description="failed sign-ins allowed per login and per client address in "
        "`sign_in_window_minutes`; more are refused until the window passes",
    )
    sign_in_window_minutes: int = Field(default=15, ge=1, description="see sign_in_attempts")
    log_format: LogFormat = Field(
        default=LogFormat.TEXT,
        description="how `gridsupply serve` writes its log on stderr: text (a line for people) "
        "or json (one JSON object per line, for a log collector); either way one line per "
        "request and per job, with the request id",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=f"/metrics is served only when this is set ({MIN_SECRET_LENGTH}+ characters), "
        "to a scraper sending `Authorization: Bearer <token>` (the figures are the business's: "
        "holds, promises, overdue filings); unset: /metrics answers 404",
    )
    pg_bin_dir: str = Field(
        default="",
        description="the folder of the PostgreSQL client tools `gridsupply db backup|restore` "
        "run (pg_dump, pg_restore); empty: PATH, then /usr/lib/postgresql/<version>/bin and "
        "/usr/pgsql-<version>/bin, the server's major version first",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins a browser may call the API from (JSON list, e.g. "
        '["https://erp.example.cn"]); empty: cross-origin calls are not allowed',
    )

    # ---- scheduled jobs (docs/jobs.md): times of day in Asia/Shanghai, HH:MM
    scheduler: bool = Field(
        default=True,
        description="run the scheduled jobs inside `gridsupply serve` (on/off); several servers "
        "on one database run each scheduled moment once",
    )
    job_monday_draft_at: time = Field(
        default=time(11, 0),
        description="the draft plan of the batch is made at this time on its cutoff day (the "
        "moved day in a holiday week)",
    )
    job_holds_expiry_at: time = Field(
        default=time(6, 0), description="holds past their date are released daily at this time"
    )
    job_filings_at: time = Field(
        default=time(8, 0),
        description="filings due soon and overdue, and packages over budget, are reminded daily",
    )
    job_agreements_at: time = Field(
        default=time(8, 30),
        description="agreement lines ending below their band, or past 100 %, are warned of daily",
    )
    job_calendar_at: time = Field(
        default=time(8, 45),
        description="a missing working-day calendar year is warned of daily at this time",
    )
    job_province_at: time = Field(
        default=time(9, 0),
        description="a province matching result not imported two working days after the "
        "cutoff is reminded daily at this time",
    )
    remind_filing_working_days: int = Field(
        default=2, ge=0, le=20, description="filings due within this many working days are reminded"
    )
    agreement_warn_days: int = Field(
        default=30,
        ge=1,
        le=366,
        description="agreement lines ending within this many days are "
        "warned of when below the lower end of their band",
    )
    calendar_horizon_days: int = Field(
        default=60,
        ge=1,
        le=366,
        description="the calendar job warns when a deadline of a project approved today (the "
        "longest build time) or today + this many days falls in a year the calendar lacks",
    )

    # ---- e-mail (docs/jobs.md): off unless a host is set
    smtp_host: str = Field(default="", description="SMTP server for reminder e-mail; empty: off")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="starttls (port 587), ssl (implicit TLS, port 465) or none (a relay on the "
        "same host or network only)",
    )
    smtp_user: str = Field(default="", description="SMTP login; empty: no authentication")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    smtp_from: str = Field(
        default="gridsupply@localhost", description="the sender address of reminder e-mail"
    )
    smtp_timeout_s: float = Field(default=10, gt=0, le=120, description="seconds per SMTP try")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        return check_database_url(url)

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"shorter than {MIN_SECRET_LENGTH} characters")
        return token


# What is wrong and what to write instead, where pydantic's own message would not say.
_PROBLEMS = {
    "frozen_now": "不是带时区的时刻 / not a moment with its time zone",
}
_HINTS = {
    "frozen_now": "write ISO 8601 with an offset, such as 2026-11-30T11:00:00+08:00, or unset it",
    "runs_dir": "point it at a folder the service may write in (it is made when missing)",
    "log_format": "write text or json",
    "metrics_token": "set it to a long random secret, e.g. python3 -c 'import secrets; "
    "print(secrets.token_urlsafe(32))', or unset it (then /metrics is not served)",
    "install_working_days": 'write JSON such as {"area_new": 6}: keys are project types ('
    + ", ".join(ProjectType)
    + f"), values whole working days 0–{MAX_INSTALL_WORKING_DAYS}",
}


def _variable(field: str) -> str:
    return f"{_PREFIX}{field.upper()}"


# Secrets are never repeated in a message (it goes to terminals and logs).
_SECRETS = {"secret_key", "metrics_token", "smtp_password"}


def _line(field: str, message: str, value: object = None) -> str:
    name = _variable(field)
    shown = os.environ.get(name, os.environ.get(name.lower(), value))
    if field in _SECRETS:
        shown = "<hidden>"
    hint = _HINTS.get(field)
    return f"配置错误 / invalid setting {name}={shown!r}: {_PROBLEMS.get(field, message)}" + (
        f"; {hint}" if hint else ""
    )


def read_settings() -> Settings:
    """Read the settings from the environment, or raise `SettingsInvalid` with one line naming
    the first unusable variable, its value, and what to write instead."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        if len(first["loc"]) > 1:  # an entry of a table: name its key
            message = f"{first['loc'][1]}: {message}"
        raise SettingsInvalid(
            _line(field, message, first.get("input")), variable=_variable(field)
        ) from None
    except EnvironmentUnreadable as exc:  # a complex value that is not JSON
        found = re.search(r'field "(\w+)"', str(exc))
        field = found.group(1) if found else ""
        raise SettingsInvalid(
            _line(field, "不是有效的 JSON / not valid JSON"), variable=_variable(field)
        ) from None


def get_settings() -> Settings:
    """The settings as the environment gives them now: parsed once per set of `GRIDSUPPLY_`
    variables (functools' LRU cache, keyed by them — parsing costs a millisecond, and every HTTP
    request asks; a variable changed, by an operator's shell or a test, is read again). The HTTP
    API takes them as a dependency (`api.deps.get_settings`), which tests override.

    Raises `SettingsInvalid` (one line: which variable, what to write) for an unusable setting.
    """
    stamp = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(_PREFIX)))
    return _settings_for(stamp)


@lru_cache(maxsize=8)
def _settings_for(stamp: tuple[tuple[str, str], ...]) -> Settings:
    del stamp  # the cache key: the variables `read_settings` reads from the environment
    return read_settings()


_PREFIX = Settings.model_config["env_prefix"]


def secret_of(settings: Settings) -> str:
    """The key sign-in tokens are signed with, or `SettingsInvalid` when it is unset or short."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if len(secret) < MIN_SECRET_LENGTH:
        raise SettingsInvalid(
            f"配置错误 / invalid setting {_variable('secret_key')}: "
            + (
                "未设置 / not set"
                if not secret
                else f"少于 {MIN_SECRET_LENGTH} 个字符 / shorter "
                f"than {MIN_SECRET_LENGTH} characters"
            )
            + "; set it to a long random secret, e.g. python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))' (or run `gridsupply serve --demo` to try it out)",
            variable=_variable("secret_key"),
        )
    return secret


def check_runs_dir(settings: Settings) -> None:
    """Refuse (`SettingsInvalid`, one line) a `GRIDSUPPLY_RUNS_DIR` where run folders cannot
    be written: checked where the settings are, before a weekly run reads or solves anything.

    The folder need not exist yet (a run makes it): its nearest existing ancestor must be a
    folder this process can create files in — tried by creating a temporary file, which also
    answers truly for root (whom permissions do not stop, an immutable flag or a read-only
    file system do) and leaves nothing behind."""
    problem = _unwritable(Path(settings.runs_dir).expanduser())
    if problem is not None:
        raise runs_dir_unusable(settings, problem)


def runs_dir_unusable(settings: Settings, problem: str) -> SettingsInvalid:
    """The error for a `GRIDSUPPLY_RUNS_DIR` where run folders cannot be written, and why."""
    return SettingsInvalid(
        _line(
            "runs_dir",
            f"运行目录无法写入 / run folders cannot be written there: {problem}",
            settings.runs_dir,
        ),
        variable=_variable("runs_dir"),
    )


def _unwritable(path: Path) -> str | None:
    """Why files cannot be made under `path`, or None."""
    probe = path.absolute()
    try:
        while not probe.exists():
            if probe.parent == probe:
                return f"{path} has no existing folder above it"
            probe = probe.parent
        if not probe.is_dir():
            return f"{probe} is a file, not a folder"
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        return f"{probe}: {exc.strerror or exc}"
    return None
