"""`gridsupply serve --workers N` on a port something already listens on: a clear error."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def test_serving_on_a_taken_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(Path(sys.executable).parent / "gridsupply"), "serve", "--no-migrate",
             "--workers", "2", "--port", str(port)],
            env={**os.environ, "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
