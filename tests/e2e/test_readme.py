"""The README works verbatim: its shell blocks, run in order on a fresh demo database.

The blocks run in a folder of their own that holds the repository's virtual environment,
Makefile, samples and test data (linked, not copied), as a user's checkout would after
`make demo`, with no `GRIDSUPPLY_` variable set, and as in one terminal: what a block exports
holds for the blocks after it (the README freezes the clock at the demo's moment that way, so the
blocks give the same answers whatever the date). `make test` is left out (this test is part of
it).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from api.commands.demo import SAMPLE_RUN_AT

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINKED = (".venv", "Makefile", "pyproject.toml", "samples", "tests")
# What some commands must print (beyond exiting 0): they did what the README says.
SAYS = {
    "make demo": ["run_dir:", "2026-W49_协议库存需求计划.xlsx"],
    "gridsupply check": ["feasible"],
    "calendar load 2026.csv": ["2026"],
    "projects import week/": ["unchanged"],
    "plan approve 2026-W49": ["approved"],
    "plan import-match": ["80 matched rows imported"],
    "province match --batch 2026-W49": ["optimal;", "合计", "2026-W49_威海_省公司匹配结果.xlsx"],
    "quotas show": ["67.5%", "98.8%"],
    "quotas recommend --year 2026": ["draft quota catalog written to"],
    "whatif 2026-W49 --change delay.json": ["假设分析 what-if #1", "交货延迟 10 天", "变化"],
    "request request.json": ["held #451", "held #452"],
    "holds issue 451": ["issued"],
    "holds release 452": ["released"],
    "filings file 1": ["鲁电发展备〔2026〕18号"],
    "users list": ["li.gong", "物资部李工"],
    "audit --object user:li.gong": ["user.create", "user.change"],
    "api/v1/auth/me": ['"login":"planner"', "401"],
    "8766/readyz": ['"loc":["readiness","calendar"]', "lacks 2027", "} 503"],
    "8766/metrics | grep": ["gridsupply_holds_open ", "gridsupply_filings_overdue "],
    "metrics without the token": ["metrics without the token: 401"],
    "gridsupply.access": ['"route": "', '"request_id": "'],
    "db backup gridsupply-backup.db": ["written to gridsupply-backup.db", "integrity_check: ok"],
    "db restore gridsupply-backup.db": ["restored gridsupply-backup.db into", "db.restore"],
    "jobs run calendar": ["2027", "gridsupply calendar load FILE"],
}


def readme_blocks() -> list[str]:
    """The README's ```sh blocks, in order."""
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_no_placeholders() -> None:
    for block in readme_blocks():
        assert "…" not in block and "..." not in block, block


# Commands whose answer depends on today's date (the quota year of the sample, holds and their
# expiry, the batch of a request, an approval's filings and their due dates).
CLOCK_READERS = (
    "catalogs sample", "plan approve", "gridsupply request", "holds", "filings", "jobs run"
)  # fmt: skip


def test_the_readme_freezes_the_clock_at_the_demo_s_moment_before_reading_it() -> None:
    # Else its blocks fail once the wall clock leaves the demo's week: from 2026-12-14 the
    # request's lines are late, from 2027 its batch is in a year whose calendar is not loaded.
    blocks = readme_blocks()
    frozen = f"export GRIDSUPPLY_FROZEN_NOW={SAMPLE_RUN_AT.isoformat()}"
    first = next(n for n, block in enumerate(blocks) if frozen in block)
    for number, block in enumerate(blocks):
        if any(command in block for command in CLOCK_READERS):
            assert number >= first, block
    assert "unset GRIDSUPPLY_FROZEN_NOW" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDSUPPLY_")}
    env["COLUMNS"] = "120"
    seen: set[str] = set()
    exported = tmp_path / ".exported"  # the variables exported so far, as `export -p` lists them
    exported.write_text("", encoding="utf-8")
    for number, block in enumerate(readme_blocks(), start=1):
        script = "\n".join(
            [f"source {exported}"]
            + [line for line in block.splitlines() if not line.strip().startswith("make test")]
            + [f"export -p > {exported}"]
        )
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, (
            f"README block {number} failed (exit {done.returncode}):\n{block}\n"
            f"--- stdout ---\n{done.stdout[-3000:]}\n--- stderr ---\n{done.stderr[-3000:]}"
        )
        for command, words in SAYS.items():
            if command in block:
                seen.add(command)
                for word in words:
                    assert word in done.stdout + done.stderr, (command, word, done.stdout[-2000:])
    assert seen == set(SAYS)  # every check found its command
