"""`gridsupply demo`: the main job on the bundled sample data."""

from __future__ import annotations

from importlib.resources import files

import typer

from api.commands.render import out, plan_summary
from optimizer import check_plan, lex_compare, solve_document, validate_instance
from optimizer.validate import load_json

EXAMPLE = "small-60.json"


def demo_command() -> None:
    """Solve the bundled example instance, check the plan, and compare it with the hand planner."""
    raw = load_json(files("optimizer.examples").joinpath(EXAMPLE).read_bytes())
    instance = validate_instance(raw)
    assert not isinstance(instance, list), "the bundled example is valid"
    optimal = solve_document(raw)
    greedy = solve_document(raw, method="greedy")
    report = check_plan(instance, optimal)
    out.print(plan_summary(optimal, title=f"optimal plan for {EXAMPLE}"))
    out.print(plan_summary(greedy, title="hand planner's rule (baseline)"))
    verdict = {-1: "better than", 0: "as good as", 1: "WORSE than"}[
        lex_compare(report.tiers(), check_plan(instance, greedy).tiers())
    ]
    out.print(f"checker: {'feasible' if report.feasible else 'NOT feasible'}; optimal plan is {verdict} the baseline")
    for line in optimal.late[:3]:
        out.print(f"[yellow]late[/] {line.demand} by {line.late_days} d: {line.reason}", highlight=False)
    if not report.feasible:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the demo command to the app."""
    app.command("demo")(demo_command)
