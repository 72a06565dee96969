"""A real `gridsupply serve --workers 2`: every process's requests in every scrape of /metrics,
whichever process answers it, and the log as JSON lines carrying the request ids clients see.

Each request below opens a connection of its own, so the kernel spreads them over both
processes (SO_REUSEPORT); a scrape that counted one process's requests only would miss some.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.served import serving

TOKEN = "metrics-token-for-tests-0123456789abcdef"
REQUESTS = 20
HOLD = {"method": "GET", "route": "/api/v1/holds/{hold_id}", "status": "401"}


@pytest.fixture
def env(tmp_path: Path, sqlite_template: Path) -> dict[str, str]:
    database = tmp_path / "gridsupply.db"
    database.write_bytes(sqlite_template.read_bytes())
    return {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{database}",
        "GRIDSUPPLY_CALENDAR_DIR": str(tmp_path / "calendars"),
        "GRIDSUPPLY_RUNS_DIR": str(tmp_path / "runs"),
        "GRIDSUPPLY_METRICS_TOKEN": TOKEN,
    }


def hold_requests(base: str) -> list[httpx.Response]:
    """`REQUESTS` requests for holds (401: no sign-in), each on a connection of its own."""
    answers = [httpx.get(f"{base}/api/v1/holds/{n}") for n in range(1, REQUESTS + 1)]
    assert [a.status_code for a in answers] == [401] * REQUESTS
    return answers


def counted(base: str) -> float:
    """The count of the holds route's 401s in one scrape."""
    answer = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name.endswith("_count") and sample.labels == HOLD:
                return sample.value
    return 0.0


@pytest.mark.slow
def test_every_scrape_counts_every_process_s_requests_in_the_folder_named(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    # What a previous run left in the folder: 1,000 requests of the same series, by a process
    # long gone. Serving starts from an empty folder, as prometheus_client asks.
    stale = subprocess.run(
        [sys.executable, "-c", "from api.metrics import observe_request\n"
         "for _ in range(1000): observe_request(method='GET', "
         "route='/api/v1/holds/{hold_id}', status=401, seconds=0.1)"],
        env={**env, "PROMETHEUS_MULTIPROC_DIR": str(folder)}, check=True,
    )  # fmt: skip
    assert stale.returncode == 0 and list(folder.glob("histogram_*.db"))
    served_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    with serving(served_env, tmp_path / "server.log", workers=2) as (base, _):
        hold_requests(base)
        scrapes = [counted(base) for _ in range(6)]
        pids = {path.stem.split("_")[1] for path in folder.glob("histogram_*.db")}
    assert scrapes == [REQUESTS] * 6
    assert len(pids) == 2, pids  # both processes answered requests, and the stale file is gone


@pytest.mark.slow
def test_served_json_logs_and_metrics_of_every_process(tmp_path: Path, env: dict[str, str]) -> None:
    log = tmp_path / "server.log"
    served_env = {**env, "GRIDSUPPLY_LOG_FORMAT": "json"}
    with serving(served_env, log, workers=2, log_level="info") as (base, _):
        answers = hold_requests(base)
        given = httpx.get(f"{base}/api/v1/holds/77", headers={"X-Request-ID": "ops-json-77"})
        head = httpx.head(f"{base}/api/v1/holds/78")  # answered as GET, without the body
        alive = httpx.head(f"{base}/healthz")
        scrapes = [counted(base) for _ in range(6)]
        bad = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"})
    # No folder was named: serve made one for this run, and every scrape summed both processes.
    assert scrapes == [REQUESTS + 1] * 6
    assert bad.status_code == 401

    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    access = [line for line in lines if line["logger"] == "gridsupply.access"]
    by_id = {line["request_id"]: line for line in access}
    for answer in [*answers, given]:
        request_id = answer.headers["X-Request-ID"]
        line = by_id[request_id]
        assert line["path"] == answer.url.path and line["status"] == 401
        assert line["method"] == "GET" and line["route"] == "/api/v1/holds/{hold_id}"
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert by_id["ops-json-77"]["path"] == "/api/v1/holds/77"
    assert head.status_code == 401 and head.content == b"" and alive.status_code == 200
    headed = by_id[head.headers["X-Request-ID"]]
    assert (headed["method"], headed["route"]) == ("HEAD", "/api/v1/holds/{hold_id}")
    assert "Traceback" not in log.read_text(encoding="utf-8")
    # The scrapes with the token are quiet (debug); the one refused is logged.
    metrics_lines = [line for line in access if line["route"] == "/metrics"]
    assert [line["status"] for line in metrics_lines] == [401]
    assert any("serving http://127.0.0.1:" in line["message"] for line in lines)
