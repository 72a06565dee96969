"""A real `gridsupply serve` for end-to-end tests: on a free port of 127.0.0.1, waited for until
its health check answers, stopped afterwards; its log is the test's to read."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    env: Mapping[str, str],
    log_path: Path,
    *,
    workers: int = 1,
    cwd: Path | None = None,
    log_level: str = "warning",
) -> Iterator[tuple[str, int]]:
    """Serve (the database and settings `env` names) with `workers` processes, logging at
    `log_level`; yield the base URL and the port once `/api/v1/health` answers 200 (or raise
    with the server's log)."""
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(BIN / "gridsupply"), "serve", "--no-migrate", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--log-level", log_level],
            env=dict(env), cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text())
                time.sleep(0.2)
            yield base, port
        finally:
            process.terminate()
            process.wait(timeout=30)
