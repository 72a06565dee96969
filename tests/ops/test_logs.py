"""The log: one line per job run with its outcome, JSON lines that carry the request id, text
otherwise; a metrics token that cannot be used is refused without being repeated."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.logs import logging_config
from supply.core.audit import request_context
from supply.core.clock import SHANGHAI
from supply.core.errors import Conflict
from supply.core.settings import LogFormat, SettingsInvalid, read_settings
from supply.jobs.models import JobStatus
from supply.jobs.service import JobOutcome, Step, get_job, start_job

NOW = datetime(2026, 12, 1, 11, 0, tzinfo=SHANGHAI)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The server's logging as `gridsupply serve --log-format json` sets it, into a buffer."""
    stream = io.StringIO()
    config = logging_config(log_format=LogFormat.JSON, level="info")
    config["handlers"]["stderr"]["stream"] = stream
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logging.config.dictConfig(config)
    try:
        yield stream
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def finished(engine: Engine, job_id: int) -> str:
    for _ in range(200):
        with Session(engine) as session:
            status = get_job(session=session, job_id=job_id, now=NOW).status
        if status != JobStatus.RUNNING:
            return status
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_each_job_run_writes_one_json_line_with_its_outcome_and_request(
    engine: Engine, captured: io.StringIO
) -> None:
    def works(step: Step) -> JobOutcome:
        step("one step")
        return JobOutcome("did 3 things")

    def refuses(step: Step) -> JobOutcome:
        raise Conflict("批次已批准 / the batch is approved")

    def idle(step: Step) -> JobOutcome:
        return JobOutcome("nothing to do", skipped=True)

    with request_context("req-job-1", "127.0.0.1"):
        good = start_job(engine, name="weekly_draft", user="system", clock=lambda: NOW, work=works)
    bad = start_job(engine, name="holds_expiry", user="system", clock=lambda: NOW, work=refuses)
    none = start_job(engine, name="filings", user="system", clock=lambda: NOW, work=idle)
    statuses = [finished(engine, run) for run in (good, bad, none)]
    assert statuses == ["succeeded", "failed", "succeeded"]
    time.sleep(0.1)  # the line is written just after the row

    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    jobs = [line for line in lines if line["logger"] == "gridsupply.jobs"]
    assert len(jobs) == 3
    by_run = {line["job_run_id"]: line for line in jobs}
    assert by_run[good]["job"] == "weekly_draft" and by_run[good]["outcome"] == "ran"
    assert by_run[good]["level"] == "INFO" and "did 3 things" in by_run[good]["message"]
    assert by_run[good]["request_id"] == "req-job-1"  # started by that request
    assert by_run[bad]["outcome"] == "failed" and by_run[bad]["level"] == "WARNING"
    assert "the batch is approved" in by_run[bad]["message"]
    assert "request_id" not in by_run[bad]
    assert by_run[none]["outcome"] == "skipped" and by_run[none]["level"] == "INFO"
    assert all(isinstance(line["duration_s"], float) for line in jobs)


def test_text_lines_are_for_people() -> None:
    config = logging_config(log_format=LogFormat.TEXT, level="info")
    formatter = logging.Formatter(config["formatters"]["main"]["format"])
    record = logging.LogRecord(
        "gridsupply.access", logging.INFO, __file__, 1, "GET / 200", (), None
    )
    line = formatter.format(record)
    assert line.endswith("INFO gridsupply.access: GET / 200")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_json_lines_keep_chinese_as_it_is() -> None:
    from api.logs import JsonLines

    record = logging.LogRecord(
        "gridsupply.jobs", logging.INFO, __file__, 1, "%s", ("周计划",), None
    )
    record.job = "weekly_draft"
    parsed = json.loads(line := JsonLines().format(record))
    assert "周计划" in line and parsed["message"] == "周计划" and parsed["job"] == "weekly_draft"
    assert datetime.fromisoformat(parsed["time"]).tzinfo is not None


def test_a_short_metrics_token_is_refused_without_being_repeated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRIDSUPPLY_METRICS_TOKEN", "hunter2-too-short")
    with pytest.raises(SettingsInvalid) as refused:
        read_settings()
    assert "GRIDSUPPLY_METRICS_TOKEN" in str(refused.value)
    assert "hunter2" not in str(refused.value) and "32 characters" in str(refused.value)
    monkeypatch.setenv("GRIDSUPPLY_LOG_FORMAT", "xml")
    monkeypatch.delenv("GRIDSUPPLY_METRICS_TOKEN")
    with pytest.raises(SettingsInvalid, match=r"GRIDSUPPLY_LOG_FORMAT='xml'.*text or json"):
        read_settings()
