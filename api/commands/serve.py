"""`gridsupply serve`: migrate the database, then serve the HTTP API with uvicorn."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

import typer

from api.commands.db import upgrade_database
from api.commands.render import err, fail
from api.serving import APP, reuse_port_available, serve_processes, tune_gc


class Supervisor(StrEnum):
    REUSEPORT = "reuseport"
    UVICORN = "uvicorn"


class LogLevel(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


def serve_command(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
    migrate: Annotated[bool, typer.Option(help="run `db upgrade` first")] = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="server processes (they share the database)")
    ] = 1,
    log_level: Annotated[LogLevel, typer.Option(help="what the server logs")] = LogLevel.INFO,
    access_log: Annotated[
        bool,
        typer.Option(
            help="log every request: method, path, status, milliseconds, request id (at info)"
        ),
    ] = True,
    supervisor: Annotated[
        Supervisor,
        typer.Option(
            help="with --workers > 1: reuseport (a socket per process, the kernel spreads "
            "connections; the default where SO_REUSEPORT exists) or uvicorn (uvicorn's own "
            "manager, one shared socket)"
        ),
    ] = Supervisor.REUSEPORT,
    demo: Annotated[
        bool,
        typer.Option(
            help="try it out: without GRIDSUPPLY_SECRET_KEY, sign tokens with a random key made "
            "for this run (sign-ins end when the server stops)"
        ),
    ] = False,
) -> None:
    """Serve the web pages (/) and the HTTP API (/api/v1, docs at /docs) after bringing the
    database schema up to date; probes at /healthz and /readyz, /metrics with
    GRIDSUPPLY_METRICS_TOKEN; the log on stderr (GRIDSUPPLY_LOG_FORMAT=json: JSON lines).

    Needs GRIDSUPPLY_SECRET_KEY (the key sign-in tokens are signed with) unless --demo. Every
    server process runs the scheduled jobs (docs/jobs.md), each scheduled moment once however
    many processes share the database; GRIDSUPPLY_SCHEDULER=off turns them off."""
    import uvicorn

    from api.logs import logging_config
    from api.metrics import multiprocess_metrics
    from supply.core.settings import LogFormat, get_settings

    log_format = get_settings().log_format
    log_config = logging_config(log_format=log_format, level=log_level.value, access_log=access_log)
    if log_format == LogFormat.JSON:  # this process's lines are JSON too, from the first
        logging.config.dictConfig(log_config)
    say = _say(json_lines=log_format == LogFormat.JSON)

    _signing_key(demo=demo, say=say)

    if migrate:
        upgrade_database()
    say(f"serving http://{host}:{port}/ (网页 web pages) and http://{host}:{port}/docs (API)")
    processes = 1 if reload else workers
    with multiprocess_metrics(processes):  # the processes' metrics summed at every scrape
        if processes > 1 and supervisor == "reuseport" and reuse_port_available():
            try:
                serve_processes(host=host, port=port, workers=workers, log_level=log_level.value,
                                log_config=log_config)  # fmt: skip
            except OSError as exc:
                fail(f"cannot listen on {host}:{port}: {exc.strerror} (is another server running?)")
            return
        tune_gc()  # this process serves (uvicorn's own workers and reloads run with the default)
        uvicorn.run(
            APP,
            factory=True,
            host=host,
            port=port,
            reload=reload,
            workers=None if reload else workers,
            log_level=log_level.value,
            log_config=log_config,
            access_log=False,  # ours (api/access.py) says more: route, duration, request id
        )


def _say(*, json_lines: bool) -> Callable[[str], None]:
    """Tell the operator something on stderr: a line for people, or a log record as JSON."""

    def say(text: str) -> None:
        if json_lines:
            logging.getLogger("gridsupply.serve").info(text)
        else:
            err.print(text, highlight=False)

    return say


def _signing_key(*, demo: bool, say: Callable[[str], None]) -> None:
    """Refuse to serve without a signing key, unless a demo: then make one for this run (in the
    environment, so every server process signs and checks with the same key)."""
    import os
    import secrets

    from supply.core.settings import SettingsInvalid, get_settings, secret_of

    try:
        secret_of(get_settings())
    except SettingsInvalid as exc:
        if not demo:
            fail(str(exc), 2)
        os.environ["GRIDSUPPLY_SECRET_KEY"] = secrets.token_urlsafe(32)
        say("demo: tokens are signed with a key made for this run")


def register(app: typer.Typer) -> None:
    """Add the serve command to the app."""
    app.command("serve")(serve_command)
