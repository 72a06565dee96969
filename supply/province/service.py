"""The province's matching as one use case: files in, files out (`match_files`, the command
line), and the matchings kept for the HTTP API and the page under `GRIDSUPPLY_RUNS_DIR/province/`.

A kept matching is checked, then matched:

- `start_match` reads and checks every file in the request (every problem raised at once, by
  file, sheet, row and column; nothing kept then), and records the matching — a folder named by
  its id with `state.json`, *matching*, and the audit event `province.match` — holding the
  province's matching lock (one at a time, whichever process asks: Conflict meanwhile);
- `finish_match` matches, checks and writes the files into the folder, then marks it *done*
  (or *failed*, with the reason), audited as `province.match_finish`.

`match_in_background` returns once the files are checked and finishes in a thread (about 6-12 s
at province size: the HTTP API, the page). `get_match`, `list_matches` and `match_file` read the
folders.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from filelock import BaseFileLock, FileLock, Timeout
from sqlalchemy.engine import Engine

from supply.calendar_store import load_calendar, policy_from_settings
from supply.core.audit import record
from supply.core.db import write_session
from supply.core.errors import Conflict, DomainError, NotFound
from supply.core.settings import Settings
from supply.province.matching import BandRule, ProvinceInputs, Upload, match, read_inputs
from supply.province.outputs import city_totals, write_outputs

logger = logging.getLogger("gridsupply.province")
FIGURES = "summary.json"
MATCH_ID_PATTERN = r"^\d{4}-W\d{2}-\d{14}-[0-9a-f]{6}$"  # batch, started at, random
_ID = re.compile(MATCH_ID_PATTERN)


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


# ------------------------------------------------------------------ kept matchings (HTTP, page)


class MatchState(StrEnum):
    """A kept matching is checked in the request, then matched and written in the background."""

    MATCHING = "matching"
    DONE = "done"
    FAILED = "failed"


STATE_ZH: Mapping[str, str] = {
    MatchState.MATCHING: "匹配中",
    MatchState.DONE: "已完成",
    MatchState.FAILED: "失败",
}
STATE = "state.json"
STALE_AFTER = timedelta(minutes=15)  # matching after this long: its process is gone
INTERRUPTED = (
    "匹配被中断（服务在匹配时停止），请重新提交 / the matching was interrupted (the service "
    "stopped meanwhile); submit it again"
)
INTERNAL_ERROR = "内部错误，详见服务器日志 / internal error: see the server's log"


@dataclass
class Started:
    """A matching whose files were checked and that was recorded: what `finish_match` needs.
    It holds the province's matching lock until it is finished."""

    id: str
    directory: Path
    inputs: ProvinceInputs
    user: str
    lock: BaseFileLock


def _lock(settings: Settings) -> BaseFileLock:
    """One matching at a time, whichever process asks: an OS file lock beside the matchings
    (released by the OS too when its process ends)."""
    root = _root(settings)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / ".matching.lock", thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise Conflict(
            "另一次省公司匹配正在进行，完成后再提交 / another province matching is in progress; "
            "submit again when it is done",
            loc=("body",),
        ) from None
    return lock


def _write_state(directory: Path, state: dict[str, Any]) -> None:
    """Replace the matching's state file at once (a reader never sees half of it)."""
    part = directory / f".{STATE}.part"
    part.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    part.replace(directory / STATE)


def _kept(directory: Path) -> bool:
    """Whether `directory` holds a matching: its state, or (kept before matchings had a state,
    matched in the request) its figures."""
    return (directory / STATE).is_file() or (directory / FIGURES).is_file()


def _read_state(directory: Path) -> dict[str, Any]:
    if not (directory / STATE).is_file():  # kept before matchings had a state: done
        figures = _figures(directory)
        at = datetime.fromtimestamp((directory / FIGURES).stat().st_mtime, UTC).isoformat()
        return {
            "state": MatchState.DONE, "message": "", "batch": figures["batch"],
            "match_day": figures["match_day"],
            "city_names": [c["city"] for c in figures["cities"]],
            "agreement_lines": figures["agreement_lines"], "inputs": [], "created_by": "",
            "created_at": at, "finished_at": at, "seconds": {},
        }  # fmt: skip
    state: dict[str, Any] = json.loads((directory / STATE).read_text(encoding="utf-8"))
    return state


def start_match(
    *,
    engine: Engine,
    batch_id: str,
    agreements: Upload,
    transport: Upload,
    cities: list[Upload],
    settings: Settings,
    user: str,
    now: datetime,
) -> Started:
    """Check every file (`ImportRejected` naming each problem; nothing kept then) and record the
    matching as `user`'s, matching (audited as `province.match`). Conflict while another matching
    is in progress. Quick next to the matching itself: that is `finish_match`."""
    lock = _lock(settings)
    directory: Path | None = None
    try:
        inputs = read_inputs(
            batch_id=batch_id, agreements=agreements, transport=transport, cities=cities,
            calendar=load_calendar(), policy=policy_from_settings(settings),
        )  # fmt: skip
        match_id = f"{batch_id}-{now.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
        directory = _root(settings) / match_id
        directory.mkdir()
        names = [agreements.name, transport.name, *(c.name for c in cities)]
        _write_state(
            directory,
            {
                "state": MatchState.MATCHING, "message": "", "batch": batch_id,
                "match_day": inputs.match_day.isoformat(),
                "city_names": [plan.city for plan in inputs.cities],
                "agreement_lines": len(inputs.agreements),
                "inputs": names, "created_by": user, "created_at": now.isoformat(),
                "finished_at": None, "seconds": {},
            },
        )  # fmt: skip
        with write_session(engine) as session:
            record(
                session, actor=user, action="province.match", object_type="province_match",
                object_id=match_id,
                after={"batch": batch_id, "cities": [p.city for p in inputs.cities],
                       "files": names},
                at=now,
            )  # fmt: skip
            session.commit()
    except BaseException:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        lock.release()
        raise
    return Started(match_id, directory, inputs, user, lock)


def finish_match(
    engine: Engine, started: Started, *, settings: Settings, now: Callable[[], datetime]
) -> dict[str, Any]:
    """Match a started matching and write its files; then it is done (or failed, with the
    reason), audited as `province.match_finish`. Releases the matching lock."""
    directory = started.directory
    state = _read_state(directory)
    try:
        begin = time.perf_counter()
        result = match(started.inputs, band_rule(settings))
        solved = time.perf_counter()
        write_outputs(result, directory)
        state["seconds"] = {
            "solve_and_check": round(solved - begin, 3),
            "write": round(time.perf_counter() - solved, 3),
        }
        state["state"] = MatchState.DONE
    except Exception as exc:
        if not isinstance(exc, DomainError):
            logger.exception("province matching %s failed", started.id)
        state["state"] = MatchState.FAILED
        state["message"] = exc.message if isinstance(exc, DomainError) else INTERNAL_ERROR
    finally:
        state["finished_at"] = now().isoformat()
        _write_state(directory, state)
        started.lock.release()
    with write_session(engine) as session:
        record(
            session, actor=started.user, action="province.match_finish",
            object_type="province_match", object_id=started.id,
            after={"state": state["state"], "message": state["message"][:200],
                   **({"objective": _figures(directory)["objective"]}
                      if state["state"] == MatchState.DONE else {})},
            at=now(),
        )  # fmt: skip
        session.commit()
    return get_match(settings, started.id, now=now())


def match_in_background(
    *,
    engine: Engine,
    batch_id: str,
    agreements: Upload,
    transport: Upload,
    cities: list[Upload],
    settings: Settings,
    user: str,
    clock: Callable[[], datetime],
) -> dict[str, Any]:
    """Check the files and record the matching here (problems raised at once), then match and
    write in a thread of this process; return the matching, matching. `get_match` says done
    (with its figures and files) or failed (with the reason) once it is."""
    started = start_match(
        engine=engine, batch_id=batch_id, agreements=agreements, transport=transport,
        cities=cities, settings=settings, user=user, now=clock(),
    )  # fmt: skip
    context = contextvars.copy_context()  # the request's id goes with the audit event
    thread = threading.Thread(
        target=context.run, args=(_quietly, engine, started, settings, clock),
        name=f"province-match-{started.id}", daemon=True,
    )  # fmt: skip
    thread.start()
    return get_match(settings, started.id, now=clock())


def _quietly(
    engine: Engine, started: Started, settings: Settings, clock: Callable[[], datetime]
) -> None:
    try:
        finish_match(engine, started, settings=settings, now=clock)
    except Exception:  # the state is written first; only the audit event can have failed
        logger.exception("province matching %s: its end was not audited", started.id)


def _directory(settings: Settings, match_id: str) -> Path:
    directory = _root(settings) / match_id
    if not _ID.match(match_id) or not _kept(directory):
        raise NotFound(f"没有匹配 {match_id} / no province matching {match_id}", loc=("match_id",))
    return directory


def _figures(directory: Path) -> dict[str, Any]:
    figures: dict[str, Any] = json.loads((directory / FIGURES).read_text(encoding="utf-8"))
    return figures


def get_match(settings: Settings, match_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A kept matching: its state, and once done its figures and files (one matching for longer
    than STALE_AFTER, as of `now`, is reported failed: interrupted)."""
    directory = _directory(settings, match_id)
    state = _read_state(directory)
    created = datetime.fromisoformat(state["created_at"])
    if state["state"] == MatchState.MATCHING and now is not None and now - created > STALE_AFTER:
        state["state"], state["message"] = MatchState.FAILED, INTERRUPTED
    found: dict[str, Any] = {"id": match_id, **state, "state_zh": STATE_ZH[state["state"]]}
    if state["state"] == MatchState.DONE:
        found.update(_figures(directory))
        found.setdefault("totals", city_totals(found["cities"]))  # kept before these were
        found.setdefault("suppliers", [])  # (they are in its summary workbook)
        found.setdefault("risks", [])
        found["files"] = sorted(
            p.name
            for p in directory.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.name != STATE
        )
    return found


def list_matches(
    settings: Settings, *, batch_id: str | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The kept matchings, newest first."""
    root = _root(settings)
    if not root.is_dir():
        return []
    found = [
        get_match(settings, d.name, now=now)
        for d in root.iterdir()
        if _ID.match(d.name) and _kept(d)
    ]
    if batch_id:
        found = [m for m in found if m["batch"] == batch_id]
    return sorted(found, key=lambda m: m["id"].split("-", 2)[2], reverse=True)


def match_file(settings: Settings, match_id: str, name: str) -> Path:
    """One file of a matching that is done (by its exact name: nothing outside its folder)."""
    if name not in get_match(settings, match_id).get("files", []):
        raise NotFound(f"匹配 {match_id} 没有文件 {name} / no file {name}", loc=("name",))
    return _root(settings) / match_id / name
