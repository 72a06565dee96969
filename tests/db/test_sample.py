"""The seeded Weihai sample: deterministic, realistic, and loaded by `gridsupply demo`."""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app
from catalogs.models import CatalogKind, Consignment, Warehouse
from catalogs.summary import catalog_summary
from supply.sample.catalogs import DEMO_USER, load_sample, sample_files, sample_rows

TODAY = date(2026, 6, 15)


def test_the_same_seed_and_day_give_the_same_files() -> None:
    assert sample_files(today=TODAY, fmt="csv") == sample_files(today=TODAY, fmt="csv")
    assert sample_files(today=TODAY, fmt="csv", seed=1) != sample_files(today=TODAY, fmt="csv")


def test_the_sample_is_a_realistic_weihai_catalog() -> None:
    sample = sample_rows(today=TODAY)
    rows = sample.rows
    assert len(rows[CatalogKind.MATERIALS]) == 60 and len(rows[CatalogKind.WAREHOUSES]) == 6
    assert {w["level"] for w in rows[CatalogKind.WAREHOUSES]} == {
        "central",
        "county",
        "storage_point",
    }
    assert {"WH-CENTRAL", "WH-WD", "WH-RC", "WH-RS"} <= {
        q["warehouse_id"] for q in rows[CatalogKind.QUOTAS]
    }
    quota = {
        (q["warehouse_id"], q["material_code"]): q["quantity"] for q in rows[CatalogKind.QUOTAS]
    }
    stock = {
        (s["warehouse_id"], s["material_code"]): s["quantity"] for s in rows[CatalogKind.RESERVE]
    }
    below = [key for key, q in quota.items() if stock[key] < q]
    assert 0.15 < len(below) / len(quota) < 0.5  # partly below quota, not all
    suppliers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for line in rows[CatalogKind.AGREEMENTS]:
        suppliers[(line["tender"], line["material_code"])].add(line["supplier"])
    assert len({tender for tender, _ in suppliers}) == 2  # two provincial tenders
    assert all(len(names) >= 2 for names in suppliers.values())  # several suppliers per material
    sites = {c["warehouse_id"] for c in rows[CatalogKind.CONSIGNMENT]}
    assert "WH-CENTRAL" in sites and sites & {"WH-WD", "WH-RC", "WH-RS"}


def test_loading_the_sample_confirms_the_quota_catalog_and_leaves_a_draft(
    session: Session, now: datetime
) -> None:
    loaded = load_sample(session=session, now=now, today=TODAY)
    assert all(r.status == "accepted" and r.imported_by == DEMO_USER for r in loaded.reports)
    assert (loaded.confirmed.version, loaded.draft_version) == (1, 2)
    summary = catalog_summary(session=session, today=TODAY)
    assert summary.counts["materials"] == 60 and summary.quota_catalog is not None
    assert [d.version for d in summary.pending_drafts] == [2]
    assert summary.below_quota and all(p.shortfall > 0 for p in summary.below_quota)
    assert any(a.band_ending for a in summary.agreements_near_end)
    assert any(a.validity_ending for a in summary.agreements_near_end)
    assert summary.unreachable_locations == []
    # Consignment sits in company warehouses but stays the vendor's: it is not reserve value.
    central = next(w for w in summary.warehouses if w.warehouse_id == "WH-CENTRAL")
    assert central.consignment_value > 0 and central.reserve_value > 0
    assert session.exec(select(Consignment)).first() is not None
    assert len(session.exec(select(Warehouse)).all()) == 6


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "demo.db"
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.chdir(tmp_path)
    return database


@pytest.mark.slow
def test_the_demo_runs_the_weekly_plan_and_runs_again(demo_env: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    for expected in (
        "sample catalogs loaded",
        "stock value per warehouse",
        "below quota",
        "sample week loaded",
        "batch 2026-W49",
        "求解 optimal",
        "against the hand planner's rule",
    ):
        assert expected in first.output
    run_dir = Path(re.search(r"^run_dir: (.+)$", first.output, re.M).group(1).strip())  # type: ignore[union-attr]
    assert sorted(p.suffix for p in run_dir.iterdir()).count(".xlsx") == 6  # with 项目包汇总
    kpis = json.loads((run_dir / "kpis.json").read_text(encoding="utf-8"))
    mine, hand = kpis["objective"], kpis["baseline"]["objective"]
    tiers = ("unmet_weighted", "lateness_weighted", "cost")
    assert [mine[t] for t in tiers] <= [hand[t] for t in tiers]  # never worse, lexicographically
    again = runner.invoke(app, ["demo"])  # the demo's own data is replaced without asking
    assert again.exit_code == 0, again.output
    shown = runner.invoke(app, ["plan", "show", "2026-W49"])
    assert shown.exit_code == 0 and "run #1" in shown.output, shown.output


def test_the_demo_leaves_others_data_alone_unless_told(demo_env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    materials = tmp_path / "m.csv"
    materials.write_bytes(sample_files(today=TODAY, fmt="csv")["materials.csv"])
    done = runner.invoke(app, ["catalogs", "import", "materials", str(materials), "--by", "王工"])
    assert done.exit_code == 0, done.output
    refused = runner.invoke(app, ["demo"])
    assert refused.exit_code == 1 and "王工" in refused.output and "--reset" in refused.output
    assert runner.invoke(app, ["demo", "--reset"]).exit_code == 0
    assert os.path.exists(demo_env)
