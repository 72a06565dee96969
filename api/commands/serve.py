"""`gridsupply serve`: migrate the database, then serve the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from api.commands.db import upgrade_database
from api.commands.render import err


def serve_command(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
    migrate: Annotated[bool, typer.Option(help="run `db upgrade` first")] = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="server processes (they share the database)")
    ] = 1,
) -> None:
    """Serve the HTTP API (/api/v1, docs at /docs) after bringing the database schema up to date."""
    import uvicorn

    if migrate:
        upgrade_database()
    err.print(f"serving http://{host}:{port}/docs", highlight=False)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=None if reload else workers,
    )


def register(app: typer.Typer) -> None:
    """Add the serve command to the app."""
    app.command("serve")(serve_command)
