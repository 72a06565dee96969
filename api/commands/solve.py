"""`gridsupply solve` and `gridsupply check`: the matching engine on contract files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from api.commands.render import err, fail, joined, out, plan_summary, styled
from optimizer import (
    UnreadableInput,
    check_plan,
    parse_instance,
    plan_to_json,
    read_plan,
    solve_instance_text,
)

EXIT_INVALID = 2


def read_text(path: Path, what: str) -> bytes:
    """Read a file or fail with a one-line message."""
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {what} {path}: {exc.strerror or exc}")
    raise AssertionError  # unreachable: fail() exits


def solve_command(
    instance: Annotated[Path, typer.Argument(help="matching instance (JSON, contract version 1)")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the plan here (default: stdout)")
    ] = None,
    method: Annotated[
        str,
        typer.Option(help="optimal (lexicographic, proven) or greedy (the hand planner's rule)"),
    ] = "optimal",
    time_limit: Annotated[
        float | None,
        typer.Option(
            help="seconds; materials not reached in time are planned greedily (status feasible)"
        ),
    ] = None,
) -> None:
    """Solve a matching instance and write its plan; print a summary to stderr.

    Exit 0 on an optimal or feasible plan, 2 on an invalid instance (the plan lists the errors,
    numbers too large to plan exactly among them), 1 on unreadable input.
    """
    if method not in ("optimal", "greedy"):
        fail(f"--method must be optimal or greedy, got {method!r}")
    if time_limit is not None and time_limit <= 0:
        fail("--time-limit must be a positive number of seconds")
    chosen: Literal["optimal", "greedy"] = "greedy" if method == "greedy" else "optimal"
    try:
        plan = solve_instance_text(
            read_text(instance, "instance"), method=chosen, time_limit=time_limit
        )
    except UnreadableInput as exc:
        fail(f"cannot read instance {instance}: {exc}")
    text = plan_to_json(plan)
    if output is None:
        typer.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write plan {output}: {exc.strerror or exc}")
    if plan.status == "invalid":
        err.print(
            joined(styled("invalid instance", "bold red"), f": {len(plan.errors)} problem(s)")
        )
        for e in plan.errors[:20]:
            err.print(f"  {e.id} {e.field}: {e.message}", highlight=False, soft_wrap=True)
        if len(plan.errors) > 20:
            err.print(f"  … and {len(plan.errors) - 20} more (all are in the plan file)")
        raise typer.Exit(EXIT_INVALID)
    err.print(plan_summary(plan, title=instance.name))


def check_command(
    instance: Annotated[Path, typer.Argument(help="matching instance (JSON)")],
    plan: Annotated[Path, typer.Argument(help="plan to verify (JSON)")],
) -> None:
    """Verify a plan against its instance without a solver; print the recomputed tiers.

    Exit 0 if the plan is feasible and states its tiers correctly, 1 otherwise, 2 if the instance
    itself is invalid.
    """
    try:
        validated = parse_instance(read_text(instance, "instance"))
        parsed = read_plan(read_text(plan, "plan"))
    except UnreadableInput as exc:
        fail(str(exc))
    if isinstance(validated, list):
        for e in validated[:20]:
            err.print(f"  {e.id} {e.field}: {e.message}", highlight=False)
        fail(f"instance {instance} is invalid ({len(validated)} problem(s))", EXIT_INVALID)
    assert not isinstance(validated, list)  # refused just above
    report = check_plan(validated, parsed)
    table = Table(title=f"check {plan.name}: {'feasible' if report.feasible else 'NOT feasible'}")
    table.add_column("tier")
    table.add_column("recomputed", justify="right")
    table.add_column("plan says", justify="right")
    stated = parsed.objective
    for name, mine, theirs in zip(
        ("unmet_weighted", "lateness_weighted", "cost"),
        report.tiers(),
        (stated.unmet_weighted, stated.lateness_weighted, stated.cost),
        strict=True,
    ):
        table.add_row(name, f"{mine:,.2f}", f"{theirs:,.2f}")
    out.print(table)
    if not report.feasible:
        for problem in report.problems[:20]:
            err.print(f"  {problem}", highlight=False, soft_wrap=True)
        if len(report.problems) > 20:
            err.print(f"  … and {len(report.problems) - 20} more")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the solve and check commands to the app."""
    app.command("solve")(solve_command)
    app.command("check")(check_command)
