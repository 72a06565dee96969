"""A week of the sample data with a frozen clock moved forward by hand, the jobs called as two
schedulers (two server processes, here two OS processes on one database) would call them: the Monday draft made once though both
fire at 11:00, the planner told before the cutoff, filings and the province's result reminded,
holds warned of and then released — the reminders received by a real SMTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from time import sleep
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from supply.auth.users import change_user
from supply.calendar import default_calendar
from supply.core.clock import SHANGHAI
from supply.core.settings import get_settings
from supply.holds.models import Hold, HoldStatus
from supply.jobs.models import JobRun
from supply.notifications.models import Notification
from supply.policy import DeadlinePolicy
from supply.sample.people import load_people
from supply.weekly.approval import approve_run
from supply.weekly.models import PlanRun
from tests.jobs.conftest import Inbox, job

ROOT = Path(__file__).resolve().parents[2]
MAIL = {
    "planner": "planner@weihai.example.cn",
    "development": "development@weihai.example.cn",
    "pm.wendeng": "pm.wendeng@weihai.example.cn",
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def race(name: str, engine: Engine, moment: datetime, runs: str, tmp: Path) -> list[dict[str, Any]]:
    """Two server processes fire job `name` for the same moment at the same time: two OS
    processes (`tests/jobs/race.py`) on the same database, let go together."""
    url = engine.url.render_as_string(hide_password=False)
    go = tmp / f"go-{name}"
    env = {**os.environ, "GRIDSUPPLY_DATABASE_URL": url}
    command = [sys.executable, "-m", "tests.jobs.race", name, moment.isoformat(), runs, str(go)]
    processes = [
        subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    sleep(3)  # both imported and waiting
    go.touch()
    found = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
        found.append(json.loads(out.strip().splitlines()[-1]))
    return found


def subjects(inbox: Inbox, login: str) -> list[str]:
    return [str(m["Subject"]) for m in inbox.to(MAIL[login])]


def test_a_week_runs_by_itself(week_engine: Engine, inbox: Inbox, tmp_path: Path) -> None:
    engine, runs = week_engine, str(tmp_path / "runs")
    with Session(engine) as session:
        load_people(session, now=at(date(2026, 11, 30), 8), by="admin")
        for login, address in MAIL.items():
            change_user(session, login, by="admin", now=at(date(2026, 11, 30), 8), email=address)

    # Monday 11-30 11:00, the cutoff day of 2026-W49: both schedulers fire, one plans.
    monday = at(date(2026, 11, 30), 11)
    attempts = race("monday_draft", engine, monday, runs, tmp_path)
    assert sorted(a["outcome"] for a in attempts) == ["ran", "skipped"]
    [lost] = [a for a in attempts if a["outcome"] == "skipped"]
    assert not lost["recorded"] and "another process" in lost["message"]
    with Session(engine) as session:
        recorded = session.exec(select(JobRun).where(JobRun.name == "monday_draft")).all()
        plans = session.exec(select(PlanRun)).all()
    assert [(r.outcome, r.trigger, r.started_by) for r in recorded] == [
        ("ran", "schedule", "system")
    ]
    assert recorded[0].scheduled_for == monday and len(plans) == 1
    assert [p.batch_id for p in plans] == ["2026-W49"] and plans[0].run_by == "system"
    assert any("2026-W49" in s and "12:00" in s for s in subjects(inbox, "planner"))
    assert any("延迟或未满足" in s for s in subjects(inbox, "pm.wendeng"))
    # By hand, later that morning: the batch is planned already.
    again = job(
        "monday_draft", engine, at(date(2026, 11, 30), 11, 20), scheduled=False, user="planner"
    )
    assert again.outcome == "skipped" and "already planned" in again.message
    assert again.run is not None and again.run.result is not None
    assert again.run.result["notified"] == 0 and again.run.started_by == "planner"

    settings = get_settings().model_copy(update={"runs_dir": runs})
    with Session(engine) as session:
        approval = approve_run(
            session=session, batch_id="2026-W49", user="planner",
            now=at(date(2026, 11, 30), 11, 40), calendar=default_calendar(),
            policy=DeadlinePolicy(), settings=settings,
        )  # fmt: skip
    [filing] = approval.filings  # the approval takes a package over budget: due Wed 12-02
    assert filing.due_on == date(2026, 12, 2)

    # Tuesday: nothing to expire yet; the filing is reminded; no draft on a day that is not a
    # cutoff day.
    tuesday = date(2026, 12, 1)
    expired = job("holds_expiry", engine, at(tuesday, 6))
    assert expired.run is not None and expired.run.result is not None
    assert expired.run.result["released"] == []
    assert job("filings", engine, at(tuesday, 8)).outcome == "ran"
    assert any(
        f"备案 #{filing.id} 将于 2026-12-02 到期" in s for s in subjects(inbox, "development")
    )
    assert job("monday_draft", engine, at(tuesday, 11)).outcome == "skipped"
    # Wednesday, the day the province returns its matching (cutoff + 2 working days): not
    # imported, the planner is reminded.
    assert job("province", engine, at(date(2026, 12, 2), 9)).outcome == "ran"
    assert any("省公司匹配结果尚未导入" in s for s in subjects(inbox, "planner"))

    # The approved plan's holds are to be issued by Mon 12-14: on Fri 12-11 (the working day
    # before) their managers are warned; on Tue 12-15 they are released.
    with Session(engine) as session:
        held = session.exec(
            select(func.count()).select_from(Hold).where(Hold.status == "held")
        ).one()
        last_day = session.exec(select(func.max(Hold.expires_on))).one()
    assert held > 0 and last_day == date(2026, 12, 14)
    warned = job("holds_expiry", engine, at(date(2026, 12, 11), 6))
    assert warned.run is not None and warned.run.result is not None
    assert warned.run.result["expiring"] == held and warned.run.result["released"] == []
    assert any("2026-12-14 到期" in s for s in subjects(inbox, "pm.wendeng"))
    last = job("holds_expiry", engine, at(date(2026, 12, 14), 6))  # their last day
    assert last.run is not None and last.run.result is not None
    assert last.run.result["released"] == [] and last.run.result["expiring"] == held
    assert last.run.result["notified"] == 0  # warned on Friday already: not again
    released = job("holds_expiry", engine, at(date(2026, 12, 15), 6))
    assert released.run is not None and released.run.result is not None
    assert len(released.run.result["released"]) == held
    with Session(engine) as session:
        statuses = set(session.exec(select(Hold.status)).all())
        told = session.exec(select(Notification).order_by(col(Notification.id))).all()
    assert statuses == {HoldStatus.RELEASED}
    # Every reminder to someone with an address was e-mailed and received, once.
    mailed = [n for n in told if n.login in MAIL]
    assert all(n.emailed_to == MAIL[n.login] and n.emailed_at is not None for n in mailed)
    assert len(inbox.messages) == len(mailed) and {n.login for n in told} - set(MAIL) == {
        "pm.weihai"  # a project manager without an address: in the app only
    }
