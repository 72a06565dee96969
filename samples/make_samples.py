"""Write the sample files the README uses that no command of the service writes itself.

`2026-W49_省公司匹配结果.xlsx`: what the province might send back for the demo batch — each
agreement-stock requirement of the demo's plan matched to the agreement line the plan proposed,
arriving when the plan expected, except the first two rows, which the suppliers promise three
days later (so `plan import-match` has arrivals to re-date). Run after `make demo`:

    .venv/bin/python samples/make_samples.py

`supply/province/data/2026-W49_威海_协议库存需求计划.xlsx`: Weihai's plan in the province's sample
(`supply.province.sample`) — the 协议库存需求计划 that `gridsupply demo` writes for batch 2026-W49,
as it is. `--weihai-plan` runs the demo in a temporary folder (its own database and runs folder,
nothing of the caller's environment but the path) and copies the file:

    .venv/bin/python samples/make_samples.py --weihai-plan
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from catalogs.export import write_table
from catalogs.models import AgreementLine
from supply.core.db import make_engine
from supply.weekly.models import LineKind, PlanLine, PlanRun, RunStatus
from supply.weekly.province import SPEC

HERE = Path(__file__).parent
BATCH = "2026-W49"
PROVINCE_DATA = HERE.parent / "supply" / "province" / "data"


def province_match(session: Session) -> bytes:
    """The sample matching result of the demo batch's live run."""
    run = session.exec(
        select(PlanRun).where(PlanRun.batch_id == BATCH, PlanRun.status != RunStatus.SUPERSEDED)
    ).one()
    rows: dict[tuple[str, str, str, int, str], list[int | object]] = defaultdict(lambda: [0, None])
    lines = session.exec(
        select(PlanLine, AgreementLine)
        .join(AgreementLine, col(AgreementLine.id) == PlanLine.agreement_line_id)
        .where(PlanLine.run_id == run.id, PlanLine.kind == LineKind.AGREEMENT)
        .order_by(col(PlanLine.material_code), col(PlanLine.id))
    )
    for line, agreement in lines:
        key = (
            line.material_code,
            agreement.delivery_warehouse_id,
            agreement.agreement_no,
            agreement.line_no,
            agreement.supplier,
        )
        found = rows[key]
        found[0] = int(found[0]) + line.quantity  # type: ignore[call-overload]
        found[1] = max(filter(None, (found[1], line.arrival)))  # type: ignore[type-var]
    out = []
    for number, ((material, warehouse, no, line_no, supplier), (quantity, arrival)) in enumerate(
        sorted(rows.items())
    ):
        late = timedelta(days=3 if number < 2 else 0)
        out.append(
            {
                "material_code": material,
                "warehouse_id": warehouse,
                "agreement_no": no,
                "line_no": line_no,
                "supplier": supplier,
                "quantity": quantity,
                "expected_arrival": arrival + late,  # type: ignore[operator]
            }
        )
    return write_table(SPEC, out, "xlsx")


def weihai_plan() -> Path:
    """Run `gridsupply demo` in a temporary folder and copy its requirement plan to the
    province's sample data (`supply/province/data/`)."""
    gridsupply = Path(sys.executable).with_name("gridsupply")
    with tempfile.TemporaryDirectory(prefix="gridsupply-demo-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDSUPPLY_")}
        env |= {
            "GRIDSUPPLY_DATABASE_URL": f"sqlite:///{folder}/gridsupply.db",
            "GRIDSUPPLY_RUNS_DIR": f"{folder}/runs",
            "GRIDSUPPLY_CITY": "威海",
        }
        subprocess.run(
            [str(gridsupply), "demo"], cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL
        )
        (plan,) = Path(folder, "runs", BATCH).glob(f"run-*/{BATCH}_协议库存需求计划.xlsx")
        target = PROVINCE_DATA / f"{BATCH}_威海_协议库存需求计划.xlsx"
        shutil.copyfile(plan, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--weihai-plan",
        action="store_true",
        help="write Weihai's requirement plan for the province's sample (runs the demo itself)",
    )
    if parser.parse_args().weihai_plan:
        print(f"wrote {weihai_plan()}")
        return
    engine = make_engine("sqlite:///gridsupply.db")
    try:
        with Session(engine) as session:
            path = HERE / f"{BATCH}_省公司匹配结果.xlsx"
            path.write_bytes(province_match(session))
            print(f"wrote {path}")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
