"""The systemd units of docs/deploy.md (deploy/systemd/) are units systemd takes as written.

`systemd-analyze verify` reads each unit as systemd would and checks that its commands are
executables; the units name /opt/gridsupply/venv/bin/gridsupply, so each is verified as a copy
naming this checkout's gridsupply instead. Any warning fails the test (systemd only warns about
an unknown key or a value it cannot parse, and ignores it). The options the units give the
commands are ones the commands have.

Without systemd-analyze the test is skipped, saying why — except where
GRIDSUPPLY_TEST_REQUIRE_SYSTEMD is set (CI: .ci/run), where it fails: `make test` installs
Debian's systemd with apt-get where it can (the Makefile's `systemd-analyze` target).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/gridsupply/venv/bin/gridsupply"
GRIDSUPPLY = Path(sys.executable).parent / "gridsupply"


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found:
        return found
    if os.environ.get("GRIDSUPPLY_TEST_REQUIRE_SYSTEMD"):
        pytest.fail("systemd-analyze is not installed (GRIDSUPPLY_TEST_REQUIRE_SYSTEMD is set)")
    pytest.skip("systemd-analyze is not installed: as root, apt-get install systemd")


def _exec_lines(unit: Path) -> list[list[str]]:
    """The command lines of a unit's ExecStart= and ExecStartPost= settings."""
    return [
        shlex.split(m.group(1))
        for m in re.finditer(r"^ExecStart(?:Post)?=(.+)$", unit.read_text(), re.MULTILINE)
    ]


def test_the_units_verify_as_systemd_reads_them(tmp_path: Path) -> None:
    analyze = _systemd_analyze()
    names = sorted(p.name for p in UNITS.iterdir())
    assert names == ["gridsupply-backup.service", "gridsupply-backup.timer", "gridsupply.service"]
    for name in names:
        text = (UNITS / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(INSTALLED, str(GRIDSUPPLY)), encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", *names], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_a_unit_systemd_would_refuse_or_half_read_fails_the_check(tmp_path: Path) -> None:
    analyze = _systemd_analyze()
    text = (UNITS / "gridsupply.service").read_text(encoding="utf-8")
    (tmp_path / "missing.service").write_text(text, encoding="utf-8")  # /opt/gridsupply: not here
    (tmp_path / "typo.service").write_text(
        text.replace(INSTALLED, str(GRIDSUPPLY)).replace("Restart=on-failure", "Restart=sometimes"),
        encoding="utf-8",
    )
    for name, says in (("missing.service", "is not executable"), ("typo.service", "sometimes")):
        done = subprocess.run(
            [analyze, "verify", name], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert says in done.stderr, done.stderr


def test_the_units_run_gridsupply_with_options_it_has(tmp_path: Path) -> None:
    server, backup = (
        _exec_lines(UNITS / "gridsupply.service"),
        _exec_lines(UNITS / "gridsupply-backup.service"),
    )
    assert [line[:2] for line in server] == [[INSTALLED, "serve"]]
    assert [line[:3] for line in backup[:1]] == [[INSTALLED, "db", "backup"]]
    for line in server + backup[:1]:
        words = [w for w in line[1:] if not w.startswith("-") and not w.startswith("/")]
        words = [w for w in words if not re.fullmatch(r"[\d.]+", w)]
        shown = subprocess.run(
            [str(GRIDSUPPLY), *words, "--help"],
            env={**os.environ, "COLUMNS": "200",
                 "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        for option in (w for w in line if w.startswith("--")):
            assert option in shown.stdout, (option, words)
    # The timer starts the backup service; the backup keeps what the docs say.
    timer = (UNITS / "gridsupply-backup.timer").read_text(encoding="utf-8")
    assert "OnCalendar=*-*-* 02:30:00 Asia/Shanghai" in timer and "Persistent=true" in timer
    assert backup[1][:2] == ["/usr/bin/find", "/var/backups/gridsupply"] and "+14" in backup[1]
