"""The weekly page's run, followed step by step; its lines sorted and downloaded as shown.

In process, on the weekly tests' small world (two projects, one of them late) with a user per
role: the planner starts the run from the page and follows it until it has ended; the job's row
holds each step as it happened; a run that fails says why on the page; the lines sort by a
column on the server and download in the page's order and filters."""

from __future__ import annotations

import html
import io
import json
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.deps import get_settings
from supply.core.audit import AuditEvent
from supply.demand.models import DemandLine
from supply.holds.models import Hold
from supply.jobs.models import JobRun, JobStatus
from supply.notifications.models import Notification
from supply.projects.models import Project
from supply.timeline import LineTimeline, PartState, Verdict, project_timeline
from supply.weekly.models import PlanLine, PlanRun, ProvinceMatch
from tests.conftest import xlsx_bytes
from tests.web.conftest import NOW, csrf_of, sign_in
from tests.weekly.world import add_on_time_and_late, add_project, load_world, settings_for

HTMX = {"HX-Request": "true", "HX-Target": "batch"}


@pytest.fixture
def planner(web_app: FastAPI, web_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    with Session(web_engine) as session:
        load_world(session)
        add_on_time_and_late(session)
        add_project(
            session,
            "P-METER",
            kind="lv_extension",
            approved=date(2026, 11, 27),
            location="wendeng",
            voltage="0.4kV",
            lines=[("MTR-1P", 12)],
        )
        settings = settings_for(session, str(tmp_path / "runs"))  # fmt: skip
    web_app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(web_app, raise_server_exceptions=False, follow_redirects=False) as client:
        assert sign_in(client, "planner").status_code == 303
        yield client


def _start(client: TestClient, **form: str) -> int:
    token = csrf_of(client.get("/weekly").text)
    started = client.post("/weekly/run", headers=HTMX, data={"csrf_token": token, **form})
    assert started.status_code == 200, started.text
    assert 'hx-trigger="load delay:500ms"' in started.text  # the page will ask again
    [job_id] = [int(part.split('"')[0]) for part in started.text.split('hx-get="/weekly/jobs/')[1:]]
    return job_id


def _follow(client: TestClient, job_id: int) -> str:
    """Ask for the run's state as the page does until it has ended; its last answer."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = client.get(f"/weekly/jobs/{job_id}", headers=HTMX)
        assert answer.status_code == 200, answer.text
        if f'hx-get="/weekly/jobs/{job_id}"' not in answer.text:
            return answer.text
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end in 120 s")


def test_the_planner_follows_the_run_step_by_step(planner: TestClient, web_engine: Engine) -> None:
    job_id = _start(planner)
    page = _follow(planner, job_id)
    with Session(web_engine) as session:
        job = session.get(JobRun, job_id)
        run = session.exec(select(PlanRun).where(PlanRun.batch_id == "2026-W49")).one()
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
    assert job is not None and job.status == JobStatus.SUCCEEDED, job
    assert job.started_by == "planner" and job.result == {"batch_id": "2026-W49", "run_id": run.id}
    texts = [step["text"].split(" / ")[0] for step in job.steps]
    assert texts[0] == "读取需求与库存" and texts[-1] == "保存" and len(texts) == 5, texts
    assert all(isinstance(step["seconds"], float) and step["seconds"] >= 0 for step in job.steps)
    assert f"批次 2026-W49 第 {run.id} 次运行完成" in page
    for text in texts:  # the finished page lists the steps the run went through
        assert text in page
    started = next(e for e in events if e.action == "job.start")
    planned = next(e for e in events if e.object_type == "plan_run")
    assert (started.actor, planned.actor) == ("planner", "planner")
    assert started.request_id and planned.request_id == started.request_id  # one request


def test_without_scripts_the_run_answers_with_its_progress_page(planner: TestClient) -> None:
    token = csrf_of(planner.get("/weekly").text)
    started = planner.post("/weekly/run", data={"csrf_token": token})
    assert started.status_code == 303 and started.headers["location"].startswith("/weekly/jobs/")
    page = planner.get(started.headers["location"])
    assert page.status_code == 200 and "<html" in page.text
    assert ("正在运行周计划" in page.text) or ("次运行完成" in page.text)
    _follow(planner, int(started.headers["location"].rsplit("/", 1)[1]))


def test_a_run_that_fails_says_why_and_the_draft_stays(
    planner: TestClient, web_engine: Engine
) -> None:
    _follow(planner, _start(planner))
    again = _follow(planner, _start(planner))  # no rerun asked: the batch has a draft
    assert "运行未完成" in again and "2026-W49" in again
    with Session(web_engine) as session:
        jobs = session.exec(select(JobRun).order_by(JobRun.id)).all()  # type: ignore[arg-type]
        runs = session.exec(select(PlanRun)).all()
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED, JobStatus.FAILED]
    assert jobs[1].message and jobs[1].message in again
    assert len(runs) == 1  # the failed run changed nothing
    rerun = _follow(planner, _start(planner, rerun="true"))
    assert "次运行完成" in rerun


def test_a_job_that_is_not_a_weekly_run_is_not_found(planner: TestClient) -> None:
    assert planner.get("/weekly/jobs/999").status_code == 404
    assert planner.get("/weekly/jobs/0").status_code in (404, 422)


def test_lines_sort_on_the_server_and_download_as_shown(
    planner: TestClient, web_engine: Engine
) -> None:
    _follow(planner, _start(planner))
    with Session(web_engine) as session:
        lines = session.exec(select(PlanLine)).all()
    by_need = sorted(lines, key=lambda line: (line.need_by, line.id))
    by_late = sorted(lines, key=lambda line: (-line.late_days, line.id))
    assert [line.id for line in by_need] != [line.id for line in by_late]  # the sort matters
    for sort, expected in (("need_by", by_need), ("-late_days", by_late)):
        page = planner.get(f"/weekly?batch=2026-W49&sort={sort}")
        table = page.text.split('<table class="data lines">')[1].split("</table>")[0]
        materials = [cell.split("</td>")[0] for cell in table.split('<td class="code">')[2::3]]
        assert materials == [line.material_code for line in expected], (sort, materials)
        assert 'aria-sort="' + ("ascending" if sort[0] != "-" else "descending") in table
        file = planner.get(f"/weekly/2026-W49/lines.xlsx?sort={sort}")
        assert file.status_code == 200
        rows = list(load_workbook(io.BytesIO(file.content)).active.iter_rows(values_only=True))
        body = [row for row in rows[1:] if not str(row[0]).startswith("合计")]
        assert [row[1] for row in body] == [line.material_code for line in expected]
    late = planner.get("/weekly/2026-W49/lines.xlsx?late=1")
    rows = list(load_workbook(io.BytesIO(late.content)).active.iter_rows(values_only=True))
    assert {row[0] for row in rows[1:] if not str(row[0]).startswith("合计")} == {
        line.project_id for line in lines if line.late_days > 0
    }
    bad = planner.get("/weekly?batch=2026-W49&sort=nonsense")  # dropped, not an error
    assert bad.status_code == 200 and 'aria-sort="ascending"' not in bad.text


def _approve(client: TestClient) -> None:
    token = csrf_of(client.get("/weekly").text)
    approved = client.post("/weekly/2026-W49/approve", headers=HTMX, data={"csrf_token": token})
    assert approved.status_code == 200 and "已批准" in approved.text


MATCH_HEADER = ["物料编码", "交货仓库", "协议编号", "行号", "数量", "预计到货日期"]


def _upload(client: TestClient, rows: list[list[object]] | None) -> httpx.Response:
    token = csrf_of(client.get("/weekly").text)
    files = {"file": ("省公司匹配.xlsx", xlsx_bytes([MATCH_HEADER, *rows]))} if rows else None
    return client.post(
        "/weekly/2026-W49/province-match", headers=HTMX, data={"csrf_token": token}, files=files
    )


def test_the_province_s_matching_is_uploaded_and_the_page_shows_what_moved(
    planner: TestClient, web_engine: Engine
) -> None:
    _follow(planner, _start(planner))
    page = planner.get("/weekly").text
    assert 'action="/weekly/2026-W49/province-match"' not in page  # a draft: not yet
    _approve(planner)
    assert 'action="/weekly/2026-W49/province-match"' in planner.get("/weekly").text
    with Session(web_engine) as session:
        [cable] = session.exec(select(PlanLine).where(PlanLine.material_code == "CB10-300")).all()
        before = (cable.arrival, cable.late_days)

    empty = _upload(planner, None)
    assert empty.status_code == 422 and "请选择省公司匹配结果文件" in empty.text

    bad = _upload(planner, [["CB10-300", "WH-CENTRAL", "SD-2026-01", 2, "lots", "soon"],
                            ["CB10-300", "WH-CENTRAL", "NO-SUCH", 1, 5, "2026-12-15"]])  # fmt: skip
    assert bad.status_code == 422
    problems = bad.text.split("data-province-problems")[1].split("</table>")[0]
    cells = [
        [cell.split("</td>")[0] for cell in row.split("<td")[1:]]
        for row in problems.split("<tr>")[2:]
    ]
    rows_and_columns = {(c[0].split(">")[-1], c[1].split(">")[-1]) for c in cells}
    assert {("2", "数量"), ("2", "预计到货日期"), ("3", "协议编号")} <= rows_and_columns
    with Session(web_engine) as session:
        assert session.exec(select(ProvinceMatch)).all() == []  # nothing of a refused file

    with Session(web_engine) as session:  # P-LATE's manager is told when its arrival moves
        project = session.get(Project, "P-LATE")
        assert project is not None
        project.manager = "project_manager"
        session.add(project)
        session.commit()
    ok = _upload(planner, [["CB10-300", "WH-CENTRAL", "SD-2026-01", 2, 100, "2026-12-15"]])
    assert ok.status_code == 200, ok.text
    with Session(web_engine) as session:
        [cable] = session.exec(select(PlanLine).where(PlanLine.material_code == "CB10-300")).all()
        after = (cable.arrival, cable.late_days)
        assert len(session.exec(select(ProvinceMatch)).all()) == 1
    assert after != before
    moves = ok.text.split("data-province-moves")[1].split("</table>")[0]
    assert "P-LATE" in moves
    for day, late in (before, after):  # the line's arrival and lateness, before and after
        assert day.isoformat() in moves and f"{late} 天" in moves
    with Session(web_engine) as session:
        told = session.exec(select(Notification).where(Notification.kind == "arrival.moved")).all()
    assert [n.login for n in told] == ["project_manager"]
    assert before[0].isoformat() in told[0].body and after[0].isoformat() in told[0].body
    assert told[0].link == "/projects/P-LATE"
    shown = planner.get("/weekly").text  # later: the matching as imported, no second upload
    assert "data-province-matches" in shown and 'name="file"' not in shown
    again = _upload(planner, [["CB10-300", "WH-CENTRAL", "SD-2026-01", 2, 1, "2026-12-15"]])
    assert again.status_code == 409


def test_only_who_may_import_the_matching_sees_or_posts_the_form(
    planner: TestClient, web_app: FastAPI
) -> None:
    _follow(planner, _start(planner))
    _approve(planner)
    with TestClient(web_app, raise_server_exceptions=False, follow_redirects=False) as viewer:
        sign_in(viewer, "viewer")
        page = viewer.get("/weekly").text
        assert "省公司集中匹配结果" in page and 'name="file"' not in page
        refused = _upload(viewer, [["CB10-300", "WH-CENTRAL", "SD-2026-01", 2, 1, "2026-12-15"]])
        assert refused.status_code == 403


def test_a_project_s_timeline_shows_each_line_s_sources_and_the_list_puts_risk_first(
    planner: TestClient, web_engine: Engine
) -> None:
    with Session(web_engine) as session:
        add_project(session, "P-EARLY", kind="lv_extension", approved=date(2026, 11, 26),
                    location="wendeng", voltage="0.4kV", lines=[("MTR-1P", 1)])  # fmt: skip
    _follow(planner, _start(planner))
    with Session(web_engine) as session:
        lines = session.exec(select(PlanLine).where(col(PlanLine.project_id).is_not(None))).all()
        projects = {p.id: p for p in session.exec(select(Project)).all()}
    late = {line.project_id for line in lines if line.late_days > 0 or line.kind == "unmet"}
    assert late and late != set(projects)  # some at risk, some not
    listed = _project_ids(planner.get("/projects").text)
    risky = [pid for pid in listed if pid in late]
    assert listed[: len(risky)] == risky  # at risk first ...
    rest = listed[len(risky) :]
    assert rest == sorted(rest, key=lambda pid: (projects[pid].need_by, pid))  # ... then need-by
    by_need = _project_ids(planner.get("/projects?sort=need_by").text)
    assert by_need == sorted(listed, key=lambda pid: (projects[pid].need_by, pid))
    assert by_need != listed  # P-EARLY is needed first, but P-LATE is at risk
    file = planner.get("/projects/list.xlsx?sort=need_by")
    assert file.status_code == 200
    rows = list(load_workbook(io.BytesIO(file.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == by_need  # the list's order, and its risk marks
    assert {row[0] for row in rows[1:] if row[-1] == "有风险"} == late
    page = planner.get("/projects").text
    for pid in listed:  # marked on the list exactly when at risk
        row = page.split(f'<a href="/projects/{pid}">')[1].split("</tr>")[0]
        assert ("有风险" in row) == (pid in late), pid

    [cable] = [line for line in lines if line.project_id == "P-LATE"]
    detail = planner.get("/projects/P-LATE").text
    assert "计划草稿" in detail and cable.arrival is not None  # a draft's part, not yet approved
    assert cable.arrival.isoformat() in detail and f"延迟 {cable.late_days} 天" in detail
    chart = json.loads(html.unescape(detail.split("data-timeline='")[1].split("'")[0]))
    assert chart["lines"][0]["arrival"] == cable.arrival.isoformat()
    assert chart["deadline"] == projects["P-LATE"].deadline.isoformat()

    _approve(planner)  # the plan's reserve and consignment are held for the lines
    with Session(web_engine) as session:
        hold = session.exec(select(Hold).where(Hold.status == "held")).first()
        assert hold is not None
        demand = session.get(DemandLine, hold.demand_line_id)
        assert demand is not None
        line = _timeline_line(session, demand.project_id, hold.demand_line_id)
    held = [p for p in line.parts if p.state == PartState.HELD]
    assert [p.quantity for p in held] == [hold.quantity] and line.open == 0
    assert "已保留" in planner.get(f"/projects/{demand.project_id}").text
    page = planner.get(f"/projects/{demand.project_id}").text
    released = planner.post(
        f"/projects/{demand.project_id}/holds/{hold.id}/release",
        data={"csrf_token": csrf_of(page), "reason": "不再需要"},
    )
    assert released.status_code == 303
    with Session(web_engine) as session:
        line = _timeline_line(session, demand.project_id, hold.demand_line_id)
    assert not [p for p in line.parts if p.state == PartState.HELD]  # released: gone
    assert line.open == hold.quantity and line.verdict == Verdict.OPEN


def _timeline_line(session: Session, project_id: str, line_id: int) -> LineTimeline:
    timeline = project_timeline(session=session, project_id=project_id)
    return next(line for line in timeline.lines if line.line.id == line_id)


def _project_ids(page: str) -> list[str]:
    table = page.split('<table class="data projects">')[1].split("</table>")[0]
    return [part.split('"')[0] for part in table.split('<a href="/projects/')[1:]]


def test_the_runs_download_as_the_page_lists_them(planner: TestClient, web_engine: Engine) -> None:
    _follow(planner, _start(planner))
    _follow(planner, _start(planner, rerun="true"))
    with Session(web_engine) as session:
        runs = session.exec(select(PlanRun).order_by(col(PlanRun.id).desc())).all()
    file = planner.get("/weekly/runs.xlsx")
    assert file.status_code == 200
    rows = list(load_workbook(io.BytesIO(file.content)).active.iter_rows(values_only=True))
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        (run.id, run.batch_id, {"draft": "草稿", "superseded": "已被取代"}[run.status])
        for run in runs
    ]
    assert [r[6] for r in rows[1:]] == [run.kpis["totals"]["on_time_lines"] for run in runs]


def test_a_run_whose_process_is_gone_is_said_to_be_interrupted(
    planner: TestClient, web_engine: Engine
) -> None:
    with Session(web_engine) as session:  # a run left "running" by a server that stopped
        job = JobRun(name="weekly_plan", started_by="planner", started_at=NOW - timedelta(hours=2),
                     steps=[{"text": "读取需求与库存 / reading", "seconds": None}])  # fmt: skip
        session.add(job)
        session.commit()
        job_id = job.id
    page = planner.get(f"/weekly/jobs/{job_id}", headers=HTMX).text
    assert "运行中断" in page and f'hx-get="/weekly/jobs/{job_id}"' not in page  # no more polling
    with Session(web_engine) as session:
        fresh = JobRun(name="weekly_plan", started_by="planner", started_at=NOW, steps=[])
        session.add(fresh)
        session.commit()
        fresh_id = fresh.id
    assert (
        f'hx-get="/weekly/jobs/{fresh_id}"'
        in planner.get(f"/weekly/jobs/{fresh_id}", headers=HTMX).text
    )  # one just started is still followed
