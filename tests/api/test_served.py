"""The served API, as a client on the network meets it: `gridsupply serve` on a fresh demo
database (`gridsupply demo`: the sample catalogs, 73 projects, the run of batch 2026-W49), on a
free port of 127.0.0.1, at the demo's moment.

- /docs and /redoc load nothing from the internet, and what they load is served;
- HEAD is answered wherever GET is (load balancers probe with it);
- bodies over their limit are refused with 413 before they are read (Content-Length, chunked);
- schemathesis, every check, finds nothing (the command to run it by hand: docs/api.md).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.served import BIN, serving
from tests.signin import EVERY_ROLE, PASSWORD

DEMO_NOW = "2026-11-30T11:00:00+08:00"
CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
# Bounded and deterministic: each operation gets at most this many generated cases per phase,
# always the same ones, and nothing is remembered between runs.
MAX_EXAMPLES = 25


@dataclass(frozen=True)
class Served:
    base: str
    port: int
    folder: Path
    auth: dict[str, str]  # the Authorization header of a user holding every role


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A demo database of its own, served by one `gridsupply serve` process."""
    folder = tmp_path_factory.mktemp("served")
    env = {
        **os.environ,
        "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{folder / 'gridsupply.db'}",
        "GRIDSUPPLY_RUNS_DIR": str(folder / "runs"),
        "GRIDSUPPLY_CALENDAR_DIR": str(folder / "calendars"),
    }
    demo = subprocess.run(
        [str(BIN / "gridsupply"), "demo"], env=env, cwd=folder, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    roles = [arg for role in EVERY_ROLE for arg in ("--role", role)]
    added = subprocess.run(
        [str(BIN / "gridsupply"), "users", "add", "tester", *roles, "--password-stdin"],
        env=env, cwd=folder, capture_output=True, text=True, input=PASSWORD + "\n", timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    # As an operator would before December: next year's working days loaded, so that /readyz,
    # 60 days ahead of the demo's moment, is ready (its 503s: tests/ops/test_readiness.py).
    # The rows are synthetic, not the State Council's 2027 arrangement.
    (folder / "calendars").mkdir(exist_ok=True)
    (folder / "calendars" / "2027.csv").write_text(
        "# synthetic 2027 for tests\ndate,type,name\n2027-01-01,holiday,元旦\n", encoding="utf-8"
    )
    server = {**env, "GRIDSUPPLY_FROZEN_NOW": DEMO_NOW}
    with serving(server, folder / "server.log", cwd=folder) as (base, port):
        signed = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "tester", "password": PASSWORD}
        )
        assert signed.status_code == 200, signed.text
        auth = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        yield Served(base=base, port=port, folder=folder, auth=auth)
    assert "Traceback" not in (folder / "server.log").read_text()


# ------------------------------------------------------------------ the documentation, offline

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
URL = re.compile(r"""https?://[^\s"'<>)]+""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_nothing_from_the_internet(served: Served, page: str) -> None:
    response = httpx.get(served.base + page, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    hosts = {urlsplit(url).netloc for url in URL.findall(html)}
    assert hosts <= {f"127.0.0.1:{served.port}"}, hosts
    assets = ASSET.findall(html)
    assert any(a.endswith(".js") for a in assets), assets
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for asset in assets:
        got = httpx.get(urljoin(served.base + page, asset), timeout=10)
        assert got.status_code == 200, asset
        [kind] = [k for suffix, k in kinds.items() if asset.endswith(suffix)]
        assert kind in got.headers["content-type"], (asset, got.headers["content-type"])
        assert len(got.content) > 100
    openapi = httpx.get(served.base + "/openapi.json", timeout=10)
    assert openapi.status_code == 200 and "/openapi.json" in html


# ------------------------------------------------------------------ HEAD, as probes send it


def test_head_is_served_wherever_get_is(served: Served) -> None:
    for path in ("/api/v1/health", "/api/v1/projects", "/api/v1/projects/YK26-WD-008", "/docs"):
        got = httpx.get(served.base + path, timeout=10, headers=served.auth)
        head = httpx.head(served.base + path, timeout=10, headers=served.auth)
        assert (head.status_code, got.status_code) == (200, 200), path
        assert head.content == b"" and head.headers["content-length"] == str(len(got.content))
        assert head.headers["content-type"] == got.headers["content-type"]
    refused = httpx.head(served.base + "/api/v1/holds/expire", timeout=10)
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    listed = httpx.request("OPTIONS", served.base + "/api/v1/projects", timeout=10)
    assert listed.status_code == 405 and listed.headers["allow"] == "GET, HEAD, POST"


# ------------------------------------------------------------------ body limits, over the wire


def _exchange(port: int, head: str, chunks: Iterable[bytes] = ()) -> tuple[int, bytes]:
    """Send a request's head (and what body `chunks` give), then read the answer: its status
    and its body. The server may answer and close before the body is all sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        try:
            for chunk in chunks:
                conn.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while sending: the answer is waiting
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
            try:
                more = conn.recv(65536)
            except ConnectionResetError:
                break
            if not more:
                break
            data += more
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def _length(data: bytes) -> int:
    found = re.search(rb"(?i)\r\ncontent-length: *(\d+)", data.partition(b"\r\n\r\n")[0])
    return int(found.group(1)) if found else 1 << 30


def test_a_declared_200_mb_upload_is_refused_before_any_of_it_is_sent(served: Served) -> None:
    started = time.monotonic()
    status, body = _exchange(
        served.port,
        "POST /api/v1/imports/materials HTTP/1.1\nHost: test\nConnection: close\n"
        f"Authorization: {served.auth['Authorization']}\n"
        "Content-Type: multipart/form-data; boundary=x\nContent-Length: 200000000\n",
    )
    assert status == 413 and time.monotonic() - started < 10
    [detail] = json.loads(body)["detail"]
    assert detail["type"] == "too_large" and "20 MB" in detail["msg"]


def test_a_chunked_json_body_is_refused_once_it_passes_1_mb(served: Served) -> None:
    piece = b"x" * 65536
    chunks = [b'c\r\n{"reason":"x\r\n'] + [b"10000\r\n" + piece + b"\r\n"] * 17  # 1.06 MB
    status, body = _exchange(
        served.port,
        "POST /api/v1/holds/1/release HTTP/1.1\nHost: test\nConnection: close\n"
        f"Authorization: {served.auth['Authorization']}\n"
        "Content-Type: application/json\nTransfer-Encoding: chunked\n",
        chunks,
    )
    assert status == 413 and len(body) < 500
    assert json.loads(body)["detail"][0]["type"] == "too_large"


# ------------------------------------------------------------------ schemathesis


@pytest.mark.slow
def test_schemathesis_with_every_check_finds_nothing(served: Served) -> None:
    spec = httpx.get(served.base + "/openapi.json", timeout=10).json()
    count = sum(len(methods) for methods in spec["paths"].values())
    command = [
        str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run",
        f"{served.base}/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
        "--generation-deterministic", "--workers", "1",
        "--request-timeout", "60", "--no-color",
        "--header", f"Authorization: {served.auth['Authorization']}",
    ]  # fmt: skip
    started = time.monotonic()
    run = subprocess.run(
        command, cwd=served.folder, capture_output=True, text=True, timeout=900,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
    )  # fmt: skip
    took = time.monotonic() - started
    out = run.stdout + run.stderr
    summary = out[out.rfind("SUMMARY") :] if "SUMMARY" in out else out[-3000:]
    assert run.returncode == 0, out[-30_000:]
    assert f"Tested: {count}" in summary, summary
    generated = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert generated and generated.group(1) == generated.group(2), summary
    print(f"schemathesis: {count} operations, {generated.group(1)} cases, 0 failures, {took:.0f} s")
