"""How `gridsupply serve` logs: one handler on stderr, text for people or JSON lines for a
collector (`GRIDSUPPLY_LOG_FORMAT`), the same for uvicorn's own lines and ours.

Every line written while a request is served carries its request id (`request_id`, from the
context `api.errors.RequestIdMiddleware` sets; a job started by a request keeps that request's).
The request lines themselves are `gridsupply.access` (api/access.py), the jobs' `gridsupply.jobs`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from supply.core.audit import current_context
from supply.core.settings import LogFormat

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_LOGGER = "gridsupply.access"
# Our loggers and uvicorn's log at the level asked for; everything else only warnings.
OURS = ("gridsupply", "supply", "api", "catalogs", "optimizer", "uvicorn", "uvicorn.error")


class RequestContextFilter(logging.Filter):
    """Give a record the id of the request it was written for, if any (and it has none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `request_id` from the current context; keep every record."""
        if not hasattr(record, "request_id"):
            request_id = current_context().request_id
            if request_id:
                record.request_id = request_id
        return True


class JsonLines(JsonFormatter):
    """One JSON object per line: time (ISO 8601 with the offset), level, logger, message, and
    every field the line was given (`extra=`), Chinese as it is (not \\u escapes)."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "color_message", "taskName"],
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The moment in ISO 8601, to the millisecond, in this machine's zone with its offset."""
        moment = datetime.fromtimestamp(record.created).astimezone()
        return moment.isoformat(timespec="milliseconds")


def logging_config(*, log_format: LogFormat, level: str, access_log: bool = True) -> dict[str, Any]:
    """The `logging.config.dictConfig` of a server process (uvicorn applies it in each one):
    `level` for our loggers and uvicorn's, the request lines only if `access_log`."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonLines"} if log_format == LogFormat.JSON else {"format": TEXT_FORMAT}
    )
    loggers: dict[str, Any] = {name: {"level": level.upper()} for name in OURS}
    loggers[ACCESS_LOGGER] = {"level": level.upper() if access_log else "WARNING"}
    # uvicorn's own request lines say less than ours (no route, duration or request id).
    loggers["uvicorn.access"] = {"level": "WARNING", "handlers": [], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": f"{__name__}.RequestContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": loggers,
    }
