"""Rich rendering shared by the commands: consoles and the plan summary table.

What the commands print is full of user data — project, package and file names, reasons, notes —
so the two consoles read no markup and no emoji codes: every string, in a table cell, a title or
a line, is printed as it is (a project named `bad [/] name` would otherwise crash Rich, and
`[link=http://x]` would become a link). Colour comes only from `styled()` pieces joined by
`joined()`, Rich `Text` objects that are never parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from optimizer import Plan

out = Console(markup=False, emoji=False)
err = Console(stderr=True, markup=False, emoji=False)


def styled(text: str, style: str) -> Text:
    """Return `text` shown in `style` (e.g. "bold red"), as it is."""
    return Text(text, style=style)


def joined(*parts: str | Text) -> Text:
    """Join plain strings and `styled()` pieces into one printable line, each as it is."""
    return Text.assemble(*parts)


def fail(message: str, code: int = 1) -> None:
    """Print a one-line error to stderr and exit with `code`."""
    import typer

    err.print(joined(styled("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def header(label: str) -> str:
    """Turn 'english / 中文' into a two-line header, Chinese first."""
    english, _, chinese = label.partition(" / ")
    return f"{chinese}\n{english}" if chinese else label


def titled_table(title: str, columns: Sequence[tuple[str, str]]) -> Table:
    """A table with a left-aligned title and two-line headers: (label, justify) per column."""
    table = Table(title=title, title_justify="left")
    for name, justify in columns:
        table.add_column(header(name), justify=justify)  # type: ignore[arg-type]
    return table


def plan_summary(plan: Plan, *, title: str = "plan") -> Table:
    """A short table of a plan: lines on time, late, unmet; the three tiers; solve time."""
    late = {entry.demand for entry in plan.late}
    unmet = {entry.demand for entry in plan.unmet}
    served = {a.demand for a in plan.allocations}
    demands = served | unmet
    table = Table(title=f"{title} — status {plan.status}", show_header=True, title_justify="left")
    table.add_column("measure / 指标")
    table.add_column("value / 数值", justify="right")
    table.add_row("lines on time / 按时", str(len(demands - late - unmet)))
    table.add_row("lines late / 延迟", str(len(late - unmet)))
    table.add_row("lines (partly) unmet / 未满足", str(len(unmet)))
    table.add_row("unmet, weighted / 加权缺口", f"{plan.objective.unmet_weighted:,}")
    table.add_row("lateness, weighted days / 加权延迟天数", f"{plan.objective.lateness_weighted:,}")
    table.add_row("cost (CNY) / 成本(元)", f"{plan.objective.cost:,.2f}")
    seconds = sum(
        float(plan.stats.get(k, 0)) for k in ("build_seconds", "solve_seconds", "explain_seconds")
    )
    table.add_row("solve time / 求解用时", f"{seconds:.3f} s")
    return table


@contextmanager
def progress_steps() -> Iterator[Callable[[str], None]]:
    """Show a long command's steps as they happen: each call of the function yielded starts a
    step (and ends the one before); the last one ends with the block."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
        console=out,
        transient=False,
    ) as bar:
        task: list[Any] = []

        def step(text: str) -> None:
            if task:
                bar.update(task[-1], completed=1, total=1)
            task.append(bar.add_task(text, total=None))

        yield step
        if task:
            bar.update(task[-1], completed=1, total=1)
