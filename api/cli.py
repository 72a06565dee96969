"""The `gridsupply` command line: one Typer app, one module per domain under `api/commands/`.

Commands call the same service functions as the HTTP API; they only read arguments, call, and
render. Errors a user can cause end in a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import typer

from api.commands import calendar, catalogs, db, demo, serve, solve

app = typer.Typer(
    name="gridsupply",
    help="gridsupply — 业扩配套电网工程物资供应匹配 / "
    "materials supply matching for grid connection projects.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
solve.register(app)
demo.register(app)
calendar.register(app)
db.register(app)
catalogs.register(app)
serve.register(app)


def main() -> None:
    """Run the command line."""
    app()
