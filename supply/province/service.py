"""The province's matching as one use case: files in, files out (`match_files`), and the
matchings kept for the HTTP API under `GRIDSUPPLY_RUNS_DIR/province/` (`run_match`, `list_matches`,
`match_file`), each audited as the user who ran it."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from supply.calendar_store import load_calendar, policy_from_settings
from supply.core.audit import record
from supply.core.errors import NotFound
from supply.core.settings import Settings
from supply.province.matching import BandRule, Upload, match, read_inputs
from supply.province.outputs import write_outputs

FIGURES = "summary.json"
_ID = re.compile(r"^\d{4}-W\d{2}-\d{14}-[0-9a-f]{6}$")


@dataclass(frozen=True)
class MatchReport:
    """A matching written out: where, which files, its figures and how long each step took."""

    id: str
    directory: Path
    files: dict[str, Path]
    figures: dict[str, Any]
    seconds: dict[str, float]


def band_rule(settings: Settings) -> BandRule:
    return BandRule(
        horizon_days=settings.province_band_horizon_days,
        penalty_pct=settings.province_band_penalty_pct,
    )


def match_files(
    *,
    batch_id: str,
    agreements: Upload,
    transport: Upload,
    cities: list[Upload],
    out_dir: Path,
    settings: Settings,
    workers: int = 1,
) -> MatchReport:
    """Check every file, match the province's week, write the results into `out_dir` (the
    cities' plans read by `workers` processes)."""
    start = time.perf_counter()
    calendar, policy = load_calendar(), policy_from_settings(settings)
    inputs = read_inputs(
        batch_id=batch_id, agreements=agreements, transport=transport, cities=cities,
        calendar=calendar, policy=policy, workers=workers,
    )  # fmt: skip
    read = time.perf_counter()
    result = match(inputs, band_rule(settings))
    solved = time.perf_counter()
    files = write_outputs(result, out_dir, workers=workers)
    written = time.perf_counter()
    figures = json.loads(files[FIGURES].read_text(encoding="utf-8"))
    return MatchReport(
        id=out_dir.name,
        directory=out_dir,
        files=files,
        figures=figures,
        seconds={
            "read": round(read - start, 3),
            "solve_and_check": round(solved - read, 3),
            "write": round(written - solved, 3),
        },
    )


def _root(settings: Settings) -> Path:
    return Path(settings.runs_dir).expanduser() / "province"


def run_match(
    *,
    session: Session,
    batch_id: str,
    agreements: Upload,
    transport: Upload,
    cities: list[Upload],
    settings: Settings,
    user: str,
    now: datetime,
) -> MatchReport:
    """Match for the API: kept under the runs folder by its id, audited as `user`."""
    match_id = f"{batch_id}-{now.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
    report = match_files(
        batch_id=batch_id, agreements=agreements, transport=transport, cities=cities,
        out_dir=_root(settings) / match_id, settings=settings,
    )  # fmt: skip
    record(
        session,
        actor=user,
        action="province.match",
        object_type="province_match",
        object_id=match_id,
        after={
            "batch": batch_id,
            "cities": [c["city"] for c in report.figures["cities"]],
            "files": [agreements.name, transport.name, *(c.name for c in cities)],
            "objective": report.figures["objective"],
        },
        at=now,
    )
    session.commit()
    return report


def _directory(settings: Settings, match_id: str) -> Path:
    directory = _root(settings) / match_id
    if not _ID.match(match_id) or not (directory / FIGURES).is_file():
        raise NotFound(f"没有匹配 {match_id} / no province matching {match_id}", loc=("match_id",))
    return directory


def get_match(settings: Settings, match_id: str) -> dict[str, Any]:
    """A kept matching's figures and files."""
    directory = _directory(settings, match_id)
    figures = json.loads((directory / FIGURES).read_text(encoding="utf-8"))
    return {"id": match_id, **figures, "files": sorted(p.name for p in directory.iterdir())}


def list_matches(settings: Settings, *, batch_id: str | None = None) -> list[dict[str, Any]]:
    """The kept matchings, newest first."""
    root = _root(settings)
    if not root.is_dir():
        return []
    found = [
        get_match(settings, d.name)
        for d in root.iterdir()
        if _ID.match(d.name) and (d / FIGURES).is_file()
    ]
    if batch_id:
        found = [m for m in found if m["batch"] == batch_id]
    return sorted(found, key=lambda m: m["id"].split("-", 2)[2], reverse=True)


def match_file(settings: Settings, match_id: str, name: str) -> Path:
    """One file of a kept matching (by its exact name: nothing outside its folder)."""
    directory = _directory(settings, match_id)
    files = {p.name: p for p in directory.iterdir() if p.is_file()}
    if name not in files:
        raise NotFound(f"匹配 {match_id} 没有文件 {name} / no file {name}", loc=("name",))
    return files[name]
