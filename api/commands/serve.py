"""`gridsupply serve`: migrate the database, then serve the HTTP API with uvicorn."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from api.commands.db import upgrade_database
from api.commands.render import err, fail
from api.serving import reuse_port_available, serve_processes, tune_gc


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
    access_log: Annotated[bool, typer.Option(help="log every request")] = True,
) -> None:
    """Serve the HTTP API (/api/v1, docs at /docs) after bringing the database schema up to date."""
    import uvicorn

    if migrate:
        upgrade_database()
    err.print(f"serving http://{host}:{port}/docs", highlight=False)
    if workers > 1 and not reload and reuse_port_available():
        try:
            serve_processes(host=host, port=port, workers=workers, log_level=log_level.value,
                            access_log=access_log)  # fmt: skip
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror} (is another server running?)")
        return
    tune_gc()  # this process serves (uvicorn's own workers and reloads run with the default)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=None if reload else workers,
        log_level=log_level.value,
        access_log=access_log,
    )


def register(app: typer.Typer) -> None:
    """Add the serve command to the app."""
    app.command("serve")(serve_command)
