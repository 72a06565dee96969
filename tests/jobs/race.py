"""One scheduled job in a process of its own, as one server process's scheduler runs it:
`python -m tests.jobs.race NAME MOMENT RUNS_DIR GO_FILE`, on the database that
GRIDSUPPLY_DATABASE_URL names. It waits until GO_FILE exists (so that two processes start
together), runs the job for MOMENT (a frozen clock) and prints the attempt as one JSON line."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from supply.core.db import make_engine
from supply.core.settings import get_settings
from tests.jobs.conftest import job


def main() -> None:
    name, moment, runs, go = sys.argv[1:5]
    engine = make_engine(get_settings().database_url)
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    attempt = job(name, engine, datetime.fromisoformat(moment), tmp_runs=runs)
    print(json.dumps({"outcome": str(attempt.outcome), "message": attempt.message,
                      "recorded": attempt.run is not None}))  # fmt: skip


if __name__ == "__main__":
    main()
