"""Benchmark every web page at city scale: each page's time at the server, p95 ≤ 300 ms.

Run: `.venv/bin/python benchmarks/bench_pages.py [--lines 5000] [--repeat 30] [--limit-ms 300]`.
Set-up (not timed): a fresh SQLite database with the sample Weihai catalogs and about `--lines`
open demand lines across projects (`bench_weekly.populate`), the demo's units and users (one per
role, `supply.sample.people`), each project in its location's unit, and batch 2026-W49 planned
(a draft run, so the weekly page has its lines). Then a real `gridsupply serve` (one worker) at
the frozen moment Monday 2026-11-30 11:30, a sign-in through /login (the CSRF pair) as a user
allowed each page, and every GET page of the menu (`api.web.menu.MENU`: a page added to the menu
is measured without changing this file) plus the detail pages — a project's page, the urgent-
request form, an import record, and the project list as a project manager sees it — requested
`--repeat` times each after two untimed requests. The time is the request's round trip on
127.0.0.1 with a kept-alive connection: the server's time and a loopback hop.

Prints p50, p95 and max per page and PASS/FAIL against `--limit-ms`; exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import secrets
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlmodel import Session, col, func, select

from api.web.menu import MENU
from benchmarks.bench_weekly import AT, populate
from catalogs.models import ImportRecord
from supply.auth.roles import Permission, Role, permissions_of
from supply.auth.units import units_by_location
from supply.calendar_store import load_calendar, policy_from_settings
from supply.core.db import make_engine
from supply.core.settings import Settings
from supply.demand.models import DemandLine, DemandStatus
from supply.projects.models import Project
from supply.sample.people import DEMO_USERS, demo_password, load_people
from supply.weekly.run import run_weekly
from tests.served import serving

NOW = "2026-11-30T11:30:00+08:00"  # half an hour before the batch's cutoff
# Whom to sign in as for a page: the first of these the page's permission allows.
PREFERRED = ("planner", "viewer", "pm.weihai", "development", "marketing", "admin")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    login: str


def login_for(permission: Permission) -> str:
    """The first demo user (in PREFERRED order) whose roles grant `permission`."""
    roles = {login: roles for login, _, roles, _ in DEMO_USERS}
    for login in PREFERRED:
        if permission in permissions_of(roles[login]):
            return login
    raise SystemExit(f"no demo user holds {permission.value}")


def set_up(folder: Path, lines: int) -> tuple[str, dict[str, str]]:
    """The city-scale database and its runs folder; return its URL and details for the pages."""
    url = f"sqlite:///{folder / 'pages.db'}"
    populate(url, lines)
    engine = make_engine(url)
    settings = Settings(
        database_url=url, runs_dir=str(folder / "runs"), calendar_dir=str(folder / "calendars")
    )
    with Session(engine) as session:
        load_people(session, now=AT - timedelta(days=3), by="bench")
        units = units_by_location(session)
        for project in session.exec(select(Project)):
            project.unit = units.get(project.location)
            session.add(project)
        session.commit()
    run_weekly(
        engine=engine, at=AT, now=AT, user="planner", calendar=load_calendar(),
        policy=policy_from_settings(settings), settings=settings,
    )  # fmt: skip
    with Session(engine) as session:
        open_lines = session.exec(
            select(func.count()).select_from(DemandLine).where(DemandLine.status == DemandStatus.OPEN)
        ).one()  # fmt: skip
        busiest = session.exec(
            select(DemandLine.project_id, func.count().label("n"))
            .group_by(col(DemandLine.project_id)).order_by(func.count().desc()).limit(1)
        ).one()  # fmt: skip
        record = session.exec(select(func.max(ImportRecord.id))).one()
    engine.dispose()
    print(f"{open_lines:,} open demand lines; batch 2026-W49 planned (a draft run)")
    return url, {"project": busiest[0], "record": str(record)}


def targets(details: dict[str, str]) -> list[Target]:
    """Every GET page of the menu, then the detail pages."""
    found = [Target(item.title, item.path, login_for(item.permission)) for item in MENU]
    pm = next(login for login, _, roles, _ in DEMO_USERS if Role.PROJECT_MANAGER in roles)
    found += [
        Target("项目 (项目经理)", "/projects", pm),
        Target("项目详情", f"/projects/{details['project']}", login_for(Permission.PROJECTS_READ)),
        Target("紧急需求表单", "/projects/request", login_for(Permission.REQUESTS_CREATE)),
        Target("导入记录详情", f"/imports/records/{details['record']}",
               login_for(Permission.CATALOGS_READ)),
    ]  # fmt: skip
    return found


def sign_in(client: httpx.Client, login: str) -> None:
    """Sign in through the form, as a browser does: the form's page first, for its CSRF pair."""
    client.cookies.clear()
    form = client.get("/login")
    token = CSRF_FIELD.search(form.text)
    assert form.status_code == 200 and token, form.text[:500]
    answer = client.post(
        "/login",
        data={"username": login, "password": demo_password(login), "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, (login, answer.status_code, answer.text[:500])


def padded(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measure(base: str, pages: list[Target], repeat: int, limit_ms: float) -> bool:
    """Request each page `repeat` times (after two untimed requests); print its figures."""
    print(f"\n{padded('page', 22)} {'path':<34} {'as':<12} {'p50':>7} {'p95':>7} {'max':>7}")
    passed = True
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as client:
        signed_in = ""
        for page in pages:
            if page.login != signed_in:
                sign_in(client, page.login)
                signed_in = page.login
            times = []
            for i in range(repeat + 2):
                started = time.perf_counter()
                answer = client.get(page.path)
                took = (time.perf_counter() - started) * 1000
                assert answer.status_code == 200, (page.path, answer.status_code, answer.text[:300])
                if i >= 2:
                    times.append(took)
            p95 = percentile(times, 0.95)
            ok = p95 <= limit_ms
            passed &= ok
            print(
                f"{padded(page.name, 22)} {page.path[:34]:<34} {page.login:<12} "
                f"{percentile(times, 0.5):7.1f} {p95:7.1f} {max(times):7.1f}  "
                f"{'PASS' if ok else 'FAIL'}"
            )
    print(f"(ms; {repeat} requests each; limit p95 ≤ {limit_ms:g} ms)")
    return passed


def main() -> None:
    """Set up, serve, measure; exit 1 if any page's p95 is over the limit."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--limit-ms", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        url, details = set_up(folder, args.lines)
        print(f"set-up {time.perf_counter() - start:.1f} s")
        env = {
            **os.environ,
            "GRIDSUPPLY_DATABASE_URL": url,
            "GRIDSUPPLY_RUNS_DIR": str(folder / "runs"),
            "GRIDSUPPLY_CALENDAR_DIR": str(folder / "calendars"),
            "GRIDSUPPLY_FROZEN_NOW": NOW,
            "GRIDSUPPLY_SECRET_KEY": secrets.token_urlsafe(32),
        }
        with serving(env, folder / "server.log", cwd=folder) as (base, _):
            passed = measure(base, targets(details), args.repeat, args.limit_ms)
        log = (folder / "server.log").read_text()
        if "Traceback" in log:
            print(log[-3000:])
            passed = False
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
