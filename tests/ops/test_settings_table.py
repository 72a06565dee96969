"""The README's settings table lists every setting, with the default the code has."""

from __future__ import annotations

import json
import re
from datetime import time
from pathlib import Path

from supply.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `([A-Z_]+)` \| (.+?) \| .+ \|$", re.MULTILINE)
# Read by the command line or by prometheus_client, not by Settings.
OTHERS = {"GRIDSUPPLY_USER", "PROMETHEUS_MULTIPROC_DIR"}


def table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return {name: default.strip("`") for name, default in ROW.findall(section)}


def shown(default: object) -> str:
    if default is None or default == "":
        return "—"
    if isinstance(default, time):
        return default.strftime("%H:%M")
        return "—"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, dict | list):
        return json.dumps(default)
    return str(default)


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    rows = table()
    prefix = Settings.model_config["env_prefix"]
    expected = {}
    for field, info in Settings.model_fields.items():
        default = info.default_factory() if info.default_factory else info.default  # type: ignore[call-arg]
        expected[f"{prefix}{field.upper()}"] = shown(default)
    assert {name: rows.get(name) for name in expected} == expected
    assert set(rows) - set(expected) == OTHERS
