"""Benchmark urgent requests through a real server: latency under 20 concurrent clients.

Run: `.venv/bin/python benchmarks/bench_requests.py [--seconds 30] [--clients 20] [--workers 2]`.
Builds the city-scale sample database (the Weihai catalogs and about 5,000 open demand lines, as
`bench_weekly.py` does; not timed), starts `gridsupply serve` with `--workers` processes on 127.0.0.1,
and lets `--clients` clients post urgent requests of 10 lines each (a new project every time)
back to back for `--seconds` (or, with `--pace S`, each one every S seconds, as people do). Prints
latency percentiles, throughput and errors, on SQLite and, if reachable, PostgreSQL. Target:
p95 ≤ 300 ms on 2 cores with 20 clients, zero errors.
Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_weekly import populate, scratch_postgres
from sqlmodel import Session, func, select

from catalogs.models import Material, Transport
from supply.auth.users import add_user
from supply.core.db import make_engine
from supply.holds.models import Hold
from supply.requests.models import SupplyRequest

NOW = "2026-11-30T14:00:00+08:00"  # Monday afternoon: batch 2026-W50
KINDS = [("lv_extension", "0.4kV"), ("area_capacity_increase", "10kV"), ("area_new", "10kV")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _catalog(url: str) -> tuple[dict[str, list[str]], list[str]]:
    engine = make_engine(url)
    with Session(engine) as session:
        by_voltage: dict[str, list[str]] = {"0.4kV": [], "10kV": []}
        for m in session.exec(select(Material)):
            if m.voltage_class == "0.4kV":
                by_voltage["0.4kV"].append(m.code)
            if m.voltage_class in ("0.4kV", "10kV"):
                by_voltage["10kV"].append(m.code)
        places = sorted({t.to_location for t in session.exec(select(Transport))})
    engine.dispose()
    return by_voltage, places


BENCH_USER = "bench.pm"
BENCH_PASSWORD = "bench password, a demo one"


def _add_user(url: str) -> None:
    """A project manager the clients sign in as (real sign-in, real tokens)."""
    engine = make_engine(url)
    with Session(engine) as session:
        add_user(
            session, login=BENCH_USER, display_name="压测项目经理", roles=["project_manager"],
            unit=None, password=BENCH_PASSWORD, by="bench", now=datetime.now(UTC),
        )  # fmt: skip
    engine.dispose()


def run(
    url: str,
    label: str,
    *,
    seconds: float,
    clients: int,
    workers: int,
    pace: float,
    supervisor: str,
) -> None:
    t0 = time.perf_counter()
    populate(url, 5000)
    _add_user(url)
    print(f"\n== {label}: set-up {time.perf_counter() - t0:.1f} s (5,000 open lines)")
    codes, places = _catalog(url)
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "GRIDSUPPLY_DATABASE_URL": url,
            "GRIDSUPPLY_RUNS_DIR": f"{tmp}/runs",
            "GRIDSUPPLY_FROZEN_NOW": NOW,
            "GRIDSUPPLY_SECRET_KEY": "bench secret key, thirty-two characters or more",
        }
        server = subprocess.Popen(  # the product's own server command
            [str(Path(sys.executable).parent / "gridsupply"), "serve", "--no-migrate", "--host",
             "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
             "--no-access-log", "--supervisor", supervisor],
            env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            latencies: list[float] = []
            errors: list[str] = []
            outcomes: dict[str, int] = {}
            lock = threading.Lock()
            stop = time.perf_counter() + seconds

            def client(number: int) -> None:
                rng = random.Random(number)
                if pace:  # people do not all ask at the same instant
                    time.sleep(rng.uniform(0, pace))
                with httpx.Client(base_url=base, timeout=60) as http:
                    signed = http.post(
                        "/api/v1/auth/token",
                        data={"username": BENCH_USER, "password": BENCH_PASSWORD},
                    )
                    signed.raise_for_status()  # once per client: a token, not a password, per request
                    http.headers["Authorization"] = f"Bearer {signed.json()['access_token']}"
                    n = 0
                    while time.perf_counter() < stop:
                        kind, voltage = rng.choice(KINDS)
                        body = {
                            "project": {
                                "id": f"R{number:02d}-{n:05d}",
                                "name": f"紧急 {number}-{n}",
                                "project_type": kind,
                                "location": rng.choice(places),
                                "approved_on": "2026-11-30",
                            },
                            "lines": [
                                {"material_code": code, "quantity": rng.choice([1, 2, 3, 5, 20])}
                                for code in rng.sample(codes[voltage], 10)
                            ],
                        }
                        began = time.perf_counter()
                        response = http.post(
                            "/api/v1/requests", json=body, headers={"Idempotency-Key": uuid4().hex}
                        )
                        took = time.perf_counter() - began
                        with lock:
                            latencies.append(took)
                            if response.status_code != 201:
                                errors.append(f"{response.status_code} {response.text[:200]}")
                            else:
                                for line in response.json()["lines"]:
                                    outcomes[line["outcome"]] = outcomes.get(line["outcome"], 0) + 1
                        n += 1
                        if pace:  # a project manager asks again `pace` seconds after asking
                            time.sleep(max(0.0, pace - took))

            client_cpu = resource.getrusage(resource.RUSAGE_SELF)
            threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            used = resource.getrusage(resource.RUSAGE_SELF)
            client_seconds = (used.ru_utime - client_cpu.ru_utime) + (
                used.ru_stime - client_cpu.ru_stime
            )
        finally:
            server_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            server.terminate()
            server.wait(timeout=30)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            server_seconds = (after.ru_utime - server_cpu.ru_utime) + (
                after.ru_stime - server_cpu.ru_stime
            )
    engine = make_engine(url)
    with Session(engine) as session:
        saved = session.exec(select(func.count()).select_from(SupplyRequest)).one()
        holds = session.exec(select(func.count()).select_from(Hold)).one()
    engine.dispose()
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    print(
        f"{len(ms)} requests of 10 lines in {seconds:.0f} s from {clients} clients, "
        f"{workers} server processes"
        + (f", each client asking every {pace:g} s" if pace else ", back to back")
        + f": {len(ms) / seconds:.1f} requests/s"
    )
    print(
        f"latency ms: p50 {q[49]:.0f}  p90 {q[89]:.0f}  p95 {q[94]:.0f}  p99 {q[98]:.0f}  "
        f"max {ms[-1]:.0f}"
    )
    print(f"errors: {len(errors)}" + (f" — first: {errors[0]}" if errors else ""))
    n = max(1, len(ms))
    print(
        f"CPU per request: server processes {server_seconds / n * 1000:.0f} ms (whole run incl. "
        f"start-up; not the PostgreSQL server's own), load generator {client_seconds / n * 1000:.1f}"
        " ms"
    )
    print(f"saved requests {saved}, holds {holds}; line outcomes {dict(sorted(outcomes.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="seconds between one client's requests (0: back to back, the worst case)",
    )
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument(
        "--supervisor",
        choices=["reuseport", "uvicorn"],
        default="reuseport",
        help="how `serve` runs its processes (see `gridsupply serve --help`)",
    )
    args = parser.parse_args()
    options = {
        "seconds": args.seconds,
        "clients": args.clients,
        "workers": args.workers,
        "pace": args.pace,
        "supervisor": args.supervisor,
    }
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/bench.db", "SQLite", **options)
    if args.only == "sqlite":
        return
    with scratch_postgres(args.postgres) as url:
        if url is not None:
            run(url, "PostgreSQL", **options)


if __name__ == "__main__":
    main()
