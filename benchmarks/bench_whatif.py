"""Benchmark a what-if on the demo week: the answer in ≤ 2 s.

Run: `.venv/bin/python benchmarks/bench_whatif.py [--repeat 10] [--limit-s 2]`.
Set-up (not timed): `gridsupply demo` in a temporary folder (the Weihai catalogs, 73 projects,
about 540 lines, batch 2026-W49 planned), then a real `gridsupply serve` (one worker) at the
demo's moment, Monday 2026-11-30 11:30, and a sign-in as the demo's planner.

Timed: `POST /api/v1/scenarios` — read the base (the run's instance and plan, or the current state
built as the weekly run builds it), apply the changes, solve, check, compare with the base, save
the scenario and its files, answer with the KPIs side by side and every changed line — for each
what-if below, `--repeat` times after one untimed request; the round trip on 127.0.0.1. Each
answer's own split (read, apply, solve, compare: the scenario's `kpis.seconds`, read back from
the database) is printed for the last request.

Prints p50, p95 and max per what-if and PASS/FAIL against `--limit-s`; exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from supply.sample.people import demo_password
from tests.served import BIN, serving

RUN_AT = "2026-11-30T11:00:00+08:00"  # when `gridsupply demo` plans the batch
NOW = "2026-11-30T11:30:00+08:00"
EXTRA = {
    "kind": "extra_projects",
    "projects": [
        {
            "id": f"YK26-WD-95{n}",
            "name": f"文登新增台区 {n}",
            "project_type": "area_new",
            "location": "wendeng",
            "approved_on": "2026-11-27",
            "lines": [
                {"material_code": "DT-OIL-S13-400", "quantity": 1},
                {"material_code": "CB10-3x70", "quantity": 300},
                {"material_code": "MTR-3P-CT", "quantity": 4},
            ],
        }
        for n in range(1, 6)
    ],
}
WHAT_IFS: dict[str, dict[str, Any]] = {
    "supplier 10 days late (run)": {
        "batch": "2026-W49",
        "changes": [{"kind": "supplier_delay", "supplier": "淄博华正电缆有限公司", "days": 10}],
    },
    "supplier late (current state)": {
        "batch": "2026-W49",
        "base": "current",
        "changes": [{"kind": "supplier_delay", "supplier": "淄博华正电缆有限公司", "days": 10}],
    },
    "warehouse closed + quota + transport": {
        "batch": "2026-W49",
        "changes": [
            {"kind": "warehouse_closed", "warehouse": "WH-WD"},
            {
                "kind": "quota_change",
                "warehouse": "WH-CENTRAL",
                "material": "CBLV-4x150",
                "quota": 0,
            },
            {"kind": "transport_days", "from": "WH-CENTRAL", "to": "rongcheng", "days": 3},
            {"kind": "agreement_expired", "agreement": "SDXY-A-2026-002/1"},
        ],
    },
    "5 extra projects (15 lines)": {"batch": "2026-W49", "changes": [EXTRA]},
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--limit-s", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-whatif-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{folder / 'gridsupply.db'}",
            "GRIDSUPPLY_RUNS_DIR": str(folder / "runs"),
            "GRIDSUPPLY_CALENDAR_DIR": str(folder / "calendars"),
            "GRIDSUPPLY_SCHEDULER": "off",
            "GRIDSUPPLY_SECRET_KEY": secrets.token_urlsafe(32),
        }
        started = time.perf_counter()
        demo = subprocess.run(
            [str(BIN / "gridsupply"), "demo"], env={**env, "GRIDSUPPLY_FROZEN_NOW": RUN_AT},
            cwd=folder, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if demo.returncode != 0:
            print(demo.stdout[-2000:], demo.stderr[-2000:])
            return 2
        print(f"set-up: gridsupply demo in {time.perf_counter() - started:.1f} s")
        with serving({**env, "GRIDSUPPLY_FROZEN_NOW": NOW}, folder / "server.log", cwd=folder) as (
            base,
            _,
        ):
            signed = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "planner", "password": demo_password("planner")},
            )
            signed.raise_for_status()
            headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
            failed = False
            print(f"{'what-if':<40} {'lines':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                for name, body in WHAT_IFS.items():
                    times, answer = [], None
                    for n in range(args.repeat + 1):
                        t = time.perf_counter()
                        answer = client.post("/api/v1/scenarios", json={**body, "name": name})
                        took = time.perf_counter() - t
                        if answer.status_code != 201:
                            print(name, answer.status_code, answer.text[:500])
                            return 2
                        if n:  # the first warms the process up
                            times.append(took)
                    assert answer is not None
                    worst = max(times)
                    verdict = "PASS" if worst <= args.limit_s else "FAIL"
                    failed |= verdict == "FAIL"
                    print(
                        f"{name:<40} {answer.json()['lines_changed']:>6} "
                        f"{percentile(times, 0.5):>7.3f} {percentile(times, 0.95):>7.3f} "
                        f"{worst:>7.3f}  {verdict}"
                    )
                    with sqlite3.connect(folder / "gridsupply.db") as db:
                        [(kpis,)] = db.execute(
                            "SELECT json_extract(kpis, '$.seconds') FROM scenario WHERE id = ?",
                            (answer.json()["id"],),
                        ).fetchall()
                    print(f"{'':<40} split of the last: {kpis}")
    print(f"limit {args.limit_s:g} s per what-if: {'FAIL' if failed else 'PASS'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
