"""Why a line is late or unmet, in plain words (DESIGN.md R8: no one waits in silence).

Two steps. `optimizer.explain_facts` states what the plan did with each source a late or unmet
line could have used, and picks the line's cause code; `optimizer.explain_words` renders the
words from those facts alone, in English (`reason`) and in the Chinese a materials planner reads
(`reason_zh`), both in one pass. So the facts can be checked against the plan one by one, and the
words of each language against the facts (tests/optimizer/truth.py). `explain` does both for a
whole plan.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from optimizer.explain_facts import PlanFacts
from optimizer.explain_words import ReasonWriter
from optimizer.network import Matching


def explain(
    m: Matching, x: np.ndarray, only: Collection[str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the plan's unmet and late entries (`UnmetLine`, `LateLine` fields), with reasons
    in English and Chinese and causes; with `only`, just those demands' entries."""
    unmet, late = PlanFacts(m, x).lines(only)
    words = ReasonWriter(m.instance.plan_date.year)
    # One line at a time: its facts are dropped as soon as they are rendered. (Holding them all
    # makes the garbage collector walk a province-sized heap again and again: twice the time.)
    return (
        [
            {
                "demand": f.demand,
                "quantity": f.quantity,
                "reason": en,
                "reason_zh": zh,
                "cause": f.cause,
            }
            for f in unmet
            for en, zh in (words.unmet(f),)
        ],
        [
            {
                "demand": f.demand,
                "late_days": f.late_days,
                "reason": en,
                "reason_zh": zh,
                "cause": f.cause,
            }
            for f in late
            for en, zh in (words.late(f),)
        ],
    )
