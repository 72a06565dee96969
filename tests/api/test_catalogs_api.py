"""The catalog API end to end: real .xlsx uploads, row-level 422s, reads, export, confirmation."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(client: TestClient, kind: str, content: bytes, name: str = "file.xlsx") -> dict:
    response = client.post(f"/api/v1/imports/{kind}", files={"file": (name, content, XLSX)})
    return {"status": response.status_code, "body": response.json()}


def load(
    client: TestClient, make_xlsx: Callable[..., bytes], materials_rows: list[list[object]]
) -> None:
    assert upload(client, "materials", make_xlsx(materials_rows))["status"] == 201
    warehouses = [
        ["仓库编码", "仓库名称", "仓库级别", "所在地点"],
        ["WH-CENTRAL", "中心库", "市级中心库", "lingang"],
        ["WH-WD", "文登周转库", "县级周转库", "wendeng"],
    ]
    assert upload(client, "warehouses", make_xlsx(warehouses))["status"] == 201


def test_an_excel_upload_is_imported_recorded_and_readable(
    client: TestClient, make_xlsx: Callable[..., bytes], materials_rows: list[list[object]]
) -> None:
    result = upload(client, "materials", make_xlsx(materials_rows), "物料主数据.xlsx")
    assert result["status"] == 201
    report = result["body"]
    assert (report["inserted"], report["updated"], report["unchanged"], report["rows"]) == (
        4,
        0,
        0,
        4,
    )
    assert report["imported_by"] == "tester" and report["file_name"] == "物料主数据.xlsx"
    assert report["imported_at"].startswith(
        "2026-06-15T01:30:00"
    )  # 09:30 in Shanghai, stored in UTC

    conductor = client.get("/api/v1/materials/JKLYJ-70").json()
    assert (conductor["unit"], conductor["standard_price"]) == ("米", "8.650550")
    page = client.get("/api/v1/materials", params={"reserve_catalog": True, "limit": 2}).json()
    assert (page["total"], len(page["items"]), page["limit"]) == (3, 2, 2)
    history = client.get("/api/v1/imports").json()
    assert [r["kind"] for r in history["items"]] == ["materials"]


def test_a_bad_file_gets_422_with_every_problem_by_row_and_nothing_is_written(
    client: TestClient, make_xlsx: Callable[..., bytes], materials_rows: list[list[object]]
) -> None:
    load(client, make_xlsx, materials_rows)
    rows: list[list[object]] = [
        ["仓库编码", "物料编码", "库存数量"],
        ["WH-WD", "DT-400", 2],
        ["WH-WD", "TR-999", 1],
        ["WH-WD", "MTR-1P", "１２，０００"],
        ["WH-WD", "JKLYJ-70", -3],
    ]
    result = upload(client, "reserve", make_xlsx(rows))
    assert result["status"] == 422
    detail = result["body"]["detail"]
    assert detail[0] == {
        "type": "import_rejected",
        "loc": ["body", "file"],
        "msg": "file.xlsx: 2 个问题，未导入任何数据 / 2 problem(s); nothing was imported",
    }
    assert [(d["type"], d["loc"]) for d in detail[1:]] == [
        ("invalid_row", ["body", "file", 3, "material_code"]),
        ("invalid_row", ["body", "file", 5, "quantity"]),
    ]
    assert (
        detail[2]["msg"] == "第 5 行 库存数量: -3 不能为负 / row 5 quantity: must not be negative"
    )
    assert client.get("/api/v1/reserve/stock").json()["total"] == 0
    history = client.get("/api/v1/imports", params={"kind": "reserve"}).json()["items"]
    assert [(r["status"], r["problems"]) for r in history] == [("rejected", 2)]
    assert history[0]["first_problems"].splitlines() == [d["msg"] for d in detail[1:]]
    one = client.get(f"/api/v1/imports/records/{history[0]['id']}")
    assert one.status_code == 200 and one.json() == history[0]
    assert client.get("/api/v1/imports", params={"status": "accepted"}).json()["total"] == 2


def test_nothing_a_user_can_upload_causes_a_500(
    client: TestClient, make_xlsx: Callable[..., bytes], materials_rows: list[list[object]]
) -> None:
    load(client, make_xlsx, materials_rows)
    cases = {
        "not a spreadsheet": (b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png"),
        "empty": (b"", "empty.xlsx"),
        "wrong headers": (make_xlsx([["名称", "数量"], ["x", 1]]), "wrong.xlsx"),
        "huge number": (
            make_xlsx([["仓库编码", "物料编码", "库存数量"], ["WH-WD", "DT-400", "9" * 40]]),
            "h.xlsx",
        ),
        "float overflow": (
            make_xlsx([["仓库编码", "物料编码", "库存数量"], ["WH-WD", "DT-400", 1e308]]),
            "f.xlsx",
        ),
        "control characters": (
            b"\xef\xbb\xbf\xe4\xbb\x93\xe5\xba\x93\xe7\xbc\x96\xe7\xa0\x81\n\x07\x07",
            "c.csv",
        ),
        "truncated zip": (make_xlsx([["a"], [1]])[:200], "cut.xlsx"),
    }
    for case, (content, name) in cases.items():
        result = upload(client, "reserve", content, name)
        assert result["status"] == 422, case
        assert all({"type", "loc", "msg"} <= set(d) for d in result["body"]["detail"]), case
    assert client.post("/api/v1/imports/reserve").status_code == 422  # no file at all
    assert client.post("/api/v1/imports/stock", files={"file": ("a.csv", b"x")}).status_code == 422


def test_export_downloads_the_import_format_and_re_uploads_unchanged(
    client: TestClient, make_xlsx: Callable[..., bytes], materials_rows: list[list[object]]
) -> None:
    load(client, make_xlsx, materials_rows)
    response = client.get("/api/v1/exports/materials")
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    assert 'filename="materials-2026-06-15.xlsx"' in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.title == "物料" and sheet["A1"].value == "物料编码"
    again = upload(client, "materials", response.content, "materials-2026-06-15.xlsx")["body"]
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 4)
    csv_response = client.get("/api/v1/exports/materials", params={"format": "csv"})
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert csv_response.content.decode("utf-8-sig").startswith("物料编码,物料名称")
    missing = client.get("/api/v1/exports/quotas", params={"year": 2031})
    assert (
        missing.status_code == 404
        and "no quota catalog for 2031" in missing.json()["detail"][0]["msg"]
    )


def test_the_quota_catalog_is_confirmed_once_through_the_api(
    client: TestClient, make_xlsx: Callable[..., bytes], materials_rows: list[list[object]]
) -> None:
    load(client, make_xlsx, materials_rows)
    quotas = [["年度", "仓库编码", "物料编码", "储备定额"], [2026, "WH-WD", "DT-400", 3]]
    assert upload(client, "quotas", make_xlsx(quotas))["status"] == 201
    [draft] = client.get("/api/v1/reserve/quota-catalogs", params={"year": 2026}).json()
    assert draft["status"] == "draft"
    url = f"/api/v1/reserve/quota-catalogs/{draft['id']}/confirm"
    confirmed = client.post(url)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["confirmed_by"] == "tester"  # the signed-in user, never a body
    again = client.post(url)
    assert again.status_code == 409
    assert again.json()["detail"][0]["type"] == "conflict"
    assert client.post("/api/v1/reserve/quota-catalogs/999/confirm").status_code == 404
    positions = client.get("/api/v1/reserve/positions", params={"below_quota": True}).json()
    assert [(p["warehouse_id"], p["shortfall"]) for p in positions["items"]] == [("WH-WD", 3)]
    quota_lines = client.get(f"/api/v1/reserve/quota-catalogs/{draft['id']}/quotas").json()
    assert quota_lines["items"] == [
        {
            "warehouse_id": "WH-WD",
            "material_code": "DT-400",
            "quantity": 3,
            "catalog_id": draft["id"],
        }
    ]


def test_reads_filter_page_and_answer_404_and_422_in_fastapis_shape(
    client: TestClient, make_xlsx: Callable[..., bytes], materials_rows: list[list[object]]
) -> None:
    load(client, make_xlsx, materials_rows)
    agreements = [
        [
            "协议编号",
            "行号",
            "供应商",
            "物料编码",
            "协议单价",
            "预估数量",
            "已下单数量",
            "有效期起",
            "有效期止",
        ],
        ["A", 1, "甲", "DT-400", 41000, 10, 11, "2026-03-01", "2027-02-28"],
        ["A", 2, "甲", "MTR-1P", 190, 10, 13, "2026-03-01", "2027-02-28"],
    ]
    assert upload(client, "agreements", make_xlsx(agreements))["status"] == 201
    serving = client.get("/api/v1/agreements", params={"serving": True}).json()["items"]
    assert [
        (a["material_code"], a["remaining_quantity"], a["delivery_warehouse_id"]) for a in serving
    ] == [("DT-400", 1, "WH-CENTRAL")]
    line = client.get(f"/api/v1/agreements/{serving[0]['id']}").json()
    assert line["upper_quantity"] == 12
    missing = client.get("/api/v1/materials/TR-400")
    assert missing.status_code == 404
    assert missing.json() == {
        "detail": [
            {
                "type": "not_found",
                "loc": ["code"],
                "msg": "物料 TR-400 不在物料主数据中 / "
                "material TR-400 is not in the material master",
            }
        ]
    }
    too_many = client.get("/api/v1/materials", params={"limit": 100000})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["query", "limit"]
    assert (
        client.get("/api/v1/warehouses", params={"level": "county"}).json()["items"][0]["id"]
        == "WH-WD"
    )
    summary = client.get("/api/v1/catalogs/summary").json()
    assert summary["today"] == "2026-06-15" and summary["counts"]["agreements"] == 2
    assert client.get("/api/v1/health").json()["status"] == "ok"


def test_the_import_record_sorts_and_downloads_as_excel(
    client: TestClient, make_xlsx: Callable[..., bytes], materials_rows: list[list[object]]
) -> None:
    load(client, make_xlsx, materials_rows)
    bad = [["仓库编码", "物料编码", "库存数量"], ["WH-WD", "TR-999", 1], ["WH-WD", "NOPE", 2]]
    assert upload(client, "reserve", make_xlsx(bad), "=SUM(1,2).xlsx")["status"] == 422
    records = client.get("/api/v1/imports").json()["items"]
    assert len(records) == 3
    by_file = client.get("/api/v1/imports", params={"sort": "file"}).json()["items"]
    assert [r["file_name"] for r in by_file] == sorted(r["file_name"] for r in records)
    by_problems = client.get("/api/v1/imports", params={"sort": "-problems"}).json()["items"]
    assert [r["problems"] for r in by_problems] == [2, 0, 0]
    assert client.get("/api/v1/imports", params={"sort": "weight"}).status_code == 422
    download = client.get("/api/v1/imports/export", params={"sort": "-id"})
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.content)).active
    rows = [row for row in sheet.iter_rows(min_row=2) if row[0].value is not None]
    assert [row[0].value for row in rows] == [r["id"] for r in records]  # newest first
    [name] = [row[4] for row in rows if str(row[4].value).startswith("=")]
    assert name.value == "=SUM(1,2).xlsx" and name.data_type == "s"  # text, not a formula
