"""Uploads a hostile or careless caller can send: zip bombs posing as workbooks, and files around
the upload limit, which `GRIDSUPPLY_MAX_UPLOAD_BYTES` sets (both ways) for every import route and
for the command line.

A bomb is refused with the usual file-level 422, at once and without unpacking it: the peak of
memory Python allocates while the request is served (tracemalloc) stays far below what the bomb
unpacks to.
"""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli
from supply.core.settings import Settings
from supply.core.sheets.read import DEFAULT_MAX_BYTES, MAX_PART_BYTES, MAX_UNPACKED_BYTES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024
TOO_LARGE = "the workbook is too large once unpacked"


def rebuilt(content: bytes, name: str, zeros: int) -> bytes:
    """The workbook with member `name` followed by `zeros` zero bytes, each member deflated."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != name:
                bomb.writestr(info.filename, data)
                continue
            with bomb.open(name, "w") as member:
                member.write(data)
                chunk = bytes(MB)
                for _ in range(zeros // MB):
                    member.write(chunk)
    return out.getvalue()


def lying(content: bytes, name: str) -> bytes:
    """The archive with member `name` declaring 1 KB, in its local and central headers, whatever
    it unpacks to."""
    data = bytearray(content)
    encoded = name.encode()
    # (signature, offset of the uncompressed size, of the name's length, of the name)
    for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30),
                                                   (b"PK\x01\x02", 24, 28, 46)):  # fmt: skip
        start = 0
        while (start := data.find(signature, start)) != -1:
            length = struct.unpack_from("<H", data, start + length_at)[0]
            if data[start + name_at : start + name_at + length] == encoded:
                struct.pack_into("<I", data, start + size_at, 1024)
            start += 4
    return bytes(data)


SLACK_S = 60  # seconds: catches a hang, not a slow machine (timed tests are flaky when shared)


@pytest.fixture(scope="module")
def workbook() -> bytes:
    from tests.conftest import xlsx_bytes

    return xlsx_bytes([["物料编码", "物料名称", "单位"], ["DT-400", "配电变压器", "台"]])


def post(client: TestClient, content: bytes, kind: str = "materials") -> tuple[int, dict, float]:
    """Upload `content`; return the status, the body, and the peak MB Python allocated."""
    tracemalloc.start()
    try:
        response = client.post(
            f"/api/v1/imports/{kind}", files={"file": ("bomb.xlsx", content, XLSX)}
        )
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    return response.status_code, response.json(), peak


def one_file_problem(body: dict) -> str:
    [rejected, problem] = body["detail"]
    assert rejected["type"] == "import_rejected" and problem["loc"] == ["body", "file"]
    return str(problem["msg"])


def test_a_worksheet_that_unpacks_past_the_limit_is_refused_without_unpacking_it(
    client: TestClient, workbook: bytes
) -> None:
    bomb = rebuilt(workbook, SHEET, MAX_UNPACKED_BYTES + MB)  # 257 MB of zeros
    assert len(bomb) < 400_000
    started = time.monotonic()
    status, body, peak = post(client, bomb)
    took = time.monotonic() - started
    assert status == 422 and TOO_LARGE in one_file_problem(body)
    assert "文件解压后过大" in one_file_problem(body)
    # Memory is the guard (before: 257 MB read whole); the time bound only catches a hang, and is
    # loose enough for a loaded shared machine.
    assert took < SLACK_S and peak < 32, (took, peak)
    listed = client.get("/api/v1/imports", params={"status": "rejected"}).json()
    assert listed["total"] == 1  # the attempt is on record, as any rejected import


def test_a_part_other_than_a_worksheet_has_a_smaller_limit(
    client: TestClient, workbook: bytes
) -> None:
    bomb = rebuilt(workbook, "xl/styles.xml", MAX_PART_BYTES + MB)  # openpyxl parses it whole
    status, body, peak = post(client, bomb)
    assert status == 422 and TOO_LARGE in one_file_problem(body)
    assert peak < 16, peak


def test_a_member_that_lies_about_its_size_is_not_unpacked_past_what_it_declared(
    client: TestClient, workbook: bytes
) -> None:
    # 64 MB of zeros that say they are 1 KB: under every limit as declared.
    bomb = lying(rebuilt(workbook, SHEET, 64 * MB), SHEET)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo(SHEET).file_size == 1024
    started = time.monotonic()
    status, body, peak = post(client, bomb)
    assert status == 422 and "not a valid Excel (.xlsx) file" in one_file_problem(body)
    assert time.monotonic() - started < SLACK_S and peak < 16, peak


def test_rows_numbered_past_excel_s_last_row_are_refused_quickly(
    client: TestClient, workbook: bytes
) -> None:
    # One cell in row 99,999,999 and no <dimension>: openpyxl would hand out every empty row
    # before it.
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    far = b'<row r="99999999"><c r="A99999999" t="inlineStr"><is><t>x</t></is></c></row>'
    xml = parts[SHEET].replace(b"</sheetData>", far + b"</sheetData>")
    parts[SHEET] = (
        xml[: xml.index(b"<dimension")] + xml[xml.index(b"/>", xml.index(b"<dimension")) + 2 :]
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    started = time.monotonic()
    status, body, _ = post(client, out.getvalue())
    assert status == 422 and "a row is numbered past 1,048,576" in one_file_problem(body)
    # Handing out every empty row before row 99,999,999 takes many minutes; refused at once here,
    # whatever the load of the machine (this bound is far above a loaded run's 20 s).
    assert time.monotonic() - started < SLACK_S


# ------------------------------------------------------------------ the upload limit, a setting


def materials_csv(size: int) -> bytes:
    """A valid materials CSV of at least `size` bytes: the header and as many rows as it takes."""
    rows = [
        "物料编码,物料名称,计量单位,电压等级,标准单价,储备目录,紧急采购周期(天),紧急采购溢价(%)"
    ]
    length = len(rows[0].encode()) + 1
    while length < size:
        rows.append(f"M-{len(rows):07d},10kV油浸式配电变压器 400kVA,台,10kV,45000,是,30,30")
        length += len(rows[-1].encode()) + 1
    return ("\n".join(rows) + "\n").encode()


def test_the_default_limit_is_the_setting_s_default() -> None:
    assert Settings().max_upload_bytes == DEFAULT_MAX_BYTES


@pytest.mark.parametrize(
    "path", ["/api/v1/imports/materials", "/api/v1/projects/import?sheet=projects"]
)
def test_the_upload_limit_can_be_raised(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    content = materials_csv(DEFAULT_MAX_BYTES + MB)  # 21 MB, some 280,000 rows
    files = {"file": ("big.csv", content, "text/csv")}
    refused = client.post(path, files=files)
    assert refused.status_code == 413 and "20 MB" in refused.json()["detail"][0]["msg"]
    monkeypatch.setenv("GRIDSUPPLY_MAX_UPLOAD_BYTES", str(32 * MB))
    read = client.post(path, files=files)
    # read whole now (not cut at 20 MB and refused for its size), refused only for what it holds
    assert read.status_code == 422 and "more than 100000 data rows" in one_file_problem(read.json())


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/imports/materials",
        "/api/v1/projects/import?sheet=projects",
        "/api/v1/plans/batches/2026-W49/province-match",
    ],
)
def test_the_upload_limit_can_be_lowered(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setenv("GRIDSUPPLY_MAX_UPLOAD_BYTES", "4096")
    big = client.post(path, files={"file": ("big.csv", materials_csv(5000), "text/csv")})
    assert big.status_code == 413, big.text
    assert big.json()["detail"][0]["msg"].endswith("may be at most 4096 bytes")
    small = client.post(path, files={"file": ("small.csv", materials_csv(1000), "text/csv")})
    assert small.status_code != 413, small.text


def test_the_command_line_keeps_the_same_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDSUPPLY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    (tmp_path / "m.csv").write_bytes(materials_csv(5000))
    monkeypatch.setenv("GRIDSUPPLY_MAX_UPLOAD_BYTES", "4096")
    refused = runner.invoke(cli, ["catalogs", "import", "materials", "m.csv"])
    assert refused.exit_code == 2 and "the file is larger than 4,096 bytes" in refused.output
    monkeypatch.setenv("GRIDSUPPLY_MAX_UPLOAD_BYTES", "8192")
    taken = runner.invoke(cli, ["catalogs", "import", "materials", "m.csv"])
    assert taken.exit_code == 0, taken.output
