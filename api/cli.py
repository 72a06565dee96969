"""The `gridsupply` command line: one Typer app, one module per domain under `api/commands/`.

Commands call the same service functions as the HTTP API; they only read arguments, call, and
render. Errors a user can cause end in a one-line message and a non-zero exit, never a traceback;
unusable settings or an unusable database are refused before any command runs (exit 2,
`api.commands.environment`).

Start-up is kept short: `gridsupply solve` should not pay for importing the database and Excel
stack. `main()` registers only the module that owns the command being run (every module for
`--help` or an unknown command); `api.cli.app` is the full app, built on first use.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from api.commands.environment import check_environment

# command (first word on the command line) -> module under api.commands that registers it
COMMANDS: dict[str, str] = {
    "solve": "solve",
    "check": "solve",
    "demo": "demo",
    "calendar": "calendar",
    "deadline": "calendar",
    "cutoff": "calendar",
    "db": "db",
    "catalogs": "catalogs",
    "serve": "serve",
    "plan": "plan",
    "projects": "projects",
    "packages": "packages",
    "filings": "packages",
    "request": "requests",
    "holds": "requests",
    "users": "users",
    "audit": "users",
    "jobs": "jobs",
    "province": "province",
    "quotas": "quotas",
    "whatif": "whatif",
}
HELP = (
    "gridsupply — 业扩配套电网工程物资供应匹配 / "
    "materials supply matching for grid connection projects."
)


def build_app(modules: list[str] | None = None) -> typer.Typer:
    """Build the app with the given command modules registered (default: all)."""
    app = typer.Typer(
        name="gridsupply",
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @app.callback()
    def _root(ctx: typer.Context) -> None:
        """gridsupply — 业扩配套电网工程物资供应匹配."""
        if not ctx.resilient_parsing:
            check_environment(ctx.invoked_subcommand)

    for name in modules if modules is not None else list(dict.fromkeys(COMMANDS.values())):
        importlib.import_module(f"api.commands.{name}").register(app)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(name)


def main() -> None:
    """Run the command line."""
    words = [a for a in sys.argv[1:] if not a.startswith("-")]
    module = COMMANDS.get(words[0]) if words else None
    build_app([module] if module else None)()
