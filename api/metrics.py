"""/metrics in the Prometheus text format (the official client library, prometheus_client).

What it shows:
- `gridsupply_http_request_duration_seconds{method,route,status}`: each request's latency,
  labelled by its route template (`/api/v1/holds/{hold_id}`, never the raw path; `unmatched`
  for a path no route has), observed by `api.access.AccessLog`;
- `gridsupply_solve_duration_seconds{kind}` and `gridsupply_solve_demand_lines{kind}`: each
  solve of a weekly run (`weekly`, `replenishment`) and of an urgent-request round (`urgent`),
  measured by the service (`supply.core.observe`) and heard here;
- read from the database at each scrape (the same from any server process, cheap counts):
  `gridsupply_holds_open`, `gridsupply_promises_open`, `gridsupply_filings_overdue`,
  `gridsupply_job_runs_total{job,outcome}` (finished runs in the `job_run` table: ran,
  skipped, failed),
  `gridsupply_jobs_running{job}` and `gridsupply_database_up` (0 when they could not be read).

Who may read it: the figures are the business's, so /metrics is served only when
`GRIDSUPPLY_METRICS_TOKEN` is set, to a scraper that sends `Authorization: Bearer <token>`
(401 otherwise); unset, /metrics answers 404 like any path that does not exist.

Several processes (`gridsupply serve --workers N`): each process counts its own requests and
solves, so the histograms are kept in prometheus_client's multi-process mode — files in
`PROMETHEUS_MULTIPROC_DIR`, summed at each scrape whichever process answers it. `serve` sets
that folder up (`multiprocess_metrics`); in a single process the values stay in memory.
"""

from __future__ import annotations

import hmac
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ClockDep, SessionDep, SettingsDep
from api.errors import error_response
from supply.core.clock import local_today
from supply.core.observe import SolveKind, listen_to_solves
from supply.jobs.models import JobStatus
from supply.monitoring import OpenWork, open_work

logger = logging.getLogger("gridsupply.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"

REQUEST_SECONDS = Histogram(
    "gridsupply_http_request_duration_seconds",
    "HTTP request latency by route template (not the raw path), method and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SOLVE_SECONDS = Histogram(
    "gridsupply_solve_duration_seconds",
    "Time the matching engine took, by kind: weekly (a weekly run's project demand), "
    "replenishment (its reserve replenishment), urgent (a round of urgent requests)",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
SOLVE_LINES = Histogram(
    "gridsupply_solve_demand_lines",
    "Demand lines each solve planned (its size), by kind",
    ["kind"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000),
)


def observe_solve(kind: SolveKind, lines: int, seconds: float) -> None:
    """Record one solve (a `supply.core.observe` listener)."""
    SOLVE_SECONDS.labels(kind.value).observe(seconds)
    SOLVE_LINES.labels(kind.value).observe(lines)


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    """Record one request's latency under its route template."""
    REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)


# ---------------------------------------------------------------- the scrape


class _Families(Collector):
    """Metric families already read (from the database), for one scrape's registry."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        """Yield the families read."""
        return iter(self.families)


def database_families(work: OpenWork | None) -> list[Metric]:
    """The families read from the database; only `gridsupply_database_up 0` if unread."""
    up = GaugeMetricFamily(
        "gridsupply_database_up",
        "1 when this scrape read the figures below from the database, else 0 (see the log)",
        value=0 if work is None else 1,
    )
    if work is None:
        return [up]
    runs = CounterMetricFamily(
        "gridsupply_job_runs",
        "Finished job runs by job and outcome: ran, skipped (nothing to do), failed (rows of "
        "the job_run table)",
        labels=["job", "outcome"],
    )
    running = GaugeMetricFamily(
        "gridsupply_jobs_running", "Job runs under way (or left running by a crash)", labels=["job"]
    )
    for (job, outcome), count in sorted(work.job_runs.items()):
        if outcome == JobStatus.RUNNING:
            running.add_metric([job], count)
        else:
            runs.add_metric([job, outcome], count)
    return [
        up,
        GaugeMetricFamily(
            "gridsupply_holds_open", "Holds on stock neither issued nor released", work.holds_open
        ),
        GaugeMetricFamily(
            "gridsupply_promises_open",
            "Promises (agreement, emergency) neither fulfilled nor cancelled",
            work.promises_open,
        ),
        GaugeMetricFamily(
            "gridsupply_filings_overdue",
            "Filings past their due date and not filed (the company's date today)",
            work.filings_overdue,
        ),
        runs,
        running,
    ]


def exposition(families: list[Metric]) -> bytes:
    """Everything in the text format: this process's metrics (or, in multi-process mode, every
    process's, summed) and the families read from the database."""
    if os.environ.get(MULTIPROC_ENV):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        measured = generate_latest(processes)
    else:
        measured = generate_latest(REGISTRY)
    read = CollectorRegistry(auto_describe=False)
    read.register(_Families(families))
    return measured + generate_latest(read)


router = APIRouter(include_in_schema=False)


def token_matches(request: Request, token: str) -> bool:
    """Whether the request's `Authorization: Bearer …` is `token` (compared in constant time)."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@router.get("/metrics")
def metrics(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    """Prometheus text format, to a scraper holding GRIDSUPPLY_METRICS_TOKEN."""
    if settings.metrics_token is None:
        path = request.url.path
        return error_response(
            404, "not_found", f"没有这个地址 {path} / no such path: {path}", loc=("path",)
        )
    if not token_matches(request, settings.metrics_token.get_secret_value()):
        return error_response(
            401,
            "unauthenticated",
            "需要监控令牌 / send the metrics token: Authorization: Bearer <GRIDSUPPLY_METRICS_TOKEN>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        work = open_work(session=session, today=local_today(clock.now()))
    except SQLAlchemyError as exc:
        logger.warning("metrics: the database figures could not be read: %s", exc)
        work = None
    return Response(
        exposition(database_families(work)),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


def install_metrics(app: FastAPI) -> None:
    """Serve /metrics and record this process's solves."""
    listen_to_solves(observe_solve)
    app.include_router(router)


# ---------------------------------------------------------------- several processes

_METRIC_FILES = ("counter_*.db", "gauge_*.db", "histogram_*.db", "summary_*.db")


@contextmanager
def multiprocess_metrics(processes: int) -> Iterator[str | None]:
    """Keep the metrics of `processes` server processes where every one of them can read them.

    With `PROMETHEUS_MULTIPROC_DIR` set, that folder (made if missing) is used, emptied of the
    last run's metric files first (prometheus_client asks for it). Otherwise, with more than one
    process, a folder of this run's own is made, named in the environment the processes inherit,
    and removed afterwards. One process without it: the values stay in memory (None)."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for pattern in _METRIC_FILES:
            for stale in folder.glob(pattern):
                stale.unlink(missing_ok=True)
        yield configured
        return
    if processes <= 1:
        yield None
        return
    made = tempfile.mkdtemp(prefix="gridsupply-metrics-")
    os.environ[MULTIPROC_ENV] = made
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)
