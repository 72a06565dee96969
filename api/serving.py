"""Several server processes on one port, each with its own listening socket (SO_REUSEPORT).

uvicorn's own `--workers` share one socket, and an idle asyncio worker accepts every waiting
connection at once: when many clients connect together, one process gets most of them and
their keep-alive requests, while the others idle. With a socket per process the kernel spreads
new connections over the processes. Where SO_REUSEPORT does not exist, uvicorn's workers serve.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import socket
import time
from types import FrameType
from typing import Any

import uvicorn

APP = "api.main:create_served_app"  # with the scheduled jobs (GRIDSUPPLY_SCHEDULER)


def reuse_port_available() -> bool:
    """Whether this system can give each process its own socket on one port."""
    return hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


# A round of urgent requests makes hundreds of thousands of short-lived objects; at CPython's
# default (a collection every 700 net allocations) a server spends about 8 % of a round in the
# cycle collector. Collecting less often still collects every cycle (memory stays bounded).
GC_THRESHOLDS = (50_000, 50, 100)


def tune_gc() -> None:
    """Set this server process's garbage-collector thresholds (`GC_THRESHOLDS`)."""
    gc.set_threshold(*GC_THRESHOLDS)


def _worker(sock: socket.socket, log_level: str, log_config: dict[str, Any]) -> None:
    tune_gc()
    config = uvicorn.Config(
        APP, factory=True, log_level=log_level, log_config=log_config, access_log=False
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve_processes(
    *, host: str, port: int, workers: int, log_level: str, log_config: dict[str, Any]
) -> None:
    """Run `workers` processes until SIGINT or SIGTERM; a process that dies is started again
    (after a pause if it died young, so a crash does not spin)."""
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:  # without SO_REUSEPORT a bind fails if anything (another gridsupply serve too) listens
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    finally:
        probe.close()
    # Every socket listens before any process starts, so connections spread over all of them
    # from the first moment (a process still starting finds its share waiting).
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sockets.append(_socket(host, port))
            sockets[-1].listen(2048)
        _supervise(sockets, log_level, log_config)
    finally:
        for sock in sockets:
            sock.close()


def _supervise(sockets: list[socket.socket], log_level: str, log_config: dict[str, Any]) -> None:
    context = multiprocessing.get_context("spawn")

    def start(sock: socket.socket) -> tuple[multiprocessing.process.BaseProcess, float]:
        process = context.Process(target=_worker, args=(sock, log_level, log_config))
        process.start()
        return process, time.monotonic()

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    running = [start(sock) for sock in sockets]
    try:
        while not stopping:
            for i, (process, began) in enumerate(running):
                if not process.is_alive() and not stopping:
                    if time.monotonic() - began < 5:  # died young: do not spin
                        time.sleep(5)
                    running[i] = start(sockets[i])
            time.sleep(0.5)
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests in flight, then stops
        for process, _ in running:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        for s, handler in previous.items():
            signal.signal(s, handler)
