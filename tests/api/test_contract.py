"""The API keeps its word: what the OpenAPI document says is what the server answers.

Every operation documents the statuses it can answer with the error body's schema; a method a
path does not have is a 405 with the document's `Allow`; what routing, body parsing and the body
limits answer is in the error shape; a validation error echoes only an excerpt of the input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.contract import ERROR_SCHEMA
from api.errors import MAX_ECHO, MAX_ERRORS

ERROR_REF = f"#/components/schemas/{ERROR_SCHEMA}"


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_documents_its_error_statuses_with_the_error_body(app: FastAPI) -> None:
    spec = app.openapi()
    assert spec["components"]["schemas"][ERROR_SCHEMA]["required"] == ["detail"]
    for path, method, operation in operations(spec):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        expected = {"500", "503"}
        expected |= {"404"} if "{" in path else set()
        expected |= {"409"} if method != "get" else set()
        expected |= {"413"} if "requestBody" in operation else set()
        expected |= {"422"} if operation.get("parameters") or "requestBody" in operation else set()
        assert expected <= set(responses), where
        for status, response in responses.items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, f"{where} {status}"
                assert response["description"], f"{where} {status}"
    # FastAPI's own validation schema is replaced everywhere, so it is no longer listed.
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_routes_keep_their_own_words_for_a_status(app: FastAPI) -> None:
    confirm = app.openapi()["paths"]["/api/v1/reserve/quota-catalogs/{catalog_id}/confirm"]
    assert confirm["post"]["responses"]["409"]["description"] == "不是草稿 / not a draft"


def assert_error(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    [detail] = response.json()["detail"]
    assert detail["type"] == kind and isinstance(detail["loc"], list) and detail["msg"]
    return dict(detail)


def test_an_unknown_path_is_a_404_in_the_error_shape(client: TestClient) -> None:
    detail = assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert "/api/v1/no-such-thing" in detail["msg"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("options", "/api/v1/projects", "GET, HEAD, POST"),
        ("delete", "/api/v1/projects/{project_id}", "GET, HEAD, PATCH"),
        ("put", "/api/v1/plans/runs", "GET, HEAD, POST"),
        # A concrete path is its own, not a value of the templated one beside it.
        ("get", "/api/v1/holds/expire", "POST"),
        ("head", "/api/v1/holds/expire", "POST"),
        ("get", "/api/v1/projects/import", "POST"),
        ("patch", "/api/v1/projects/export", "GET, HEAD"),
    ],
)
def test_a_method_the_path_does_not_have_is_a_405_with_the_documented_allow(
    app: FastAPI, client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method.upper(), path.replace("{project_id}", "P-1"))
    assert response.status_code == 405
    if method != "head":  # a HEAD answer has no body
        assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow
    documented = {m.upper() for m in app.openapi()["paths"][path]}
    assert set(allow.split(", ")) == documented | ({"HEAD"} if "GET" in documented else set())


@pytest.mark.parametrize(
    "path",
    ["/api/v1/projects", "/api/v1/health", "/api/v1/projects/export", "/docs", "/openapi.json"],
)
def test_head_is_answered_wherever_get_is_with_get_s_headers_and_no_body(
    client: TestClient, path: str
) -> None:
    got, head = client.get(path), client.head(path)
    assert got.status_code == head.status_code == 200, head.headers
    assert head.content == b"" and len(got.content) > 0
    for name in ("content-type", "content-length", "content-disposition"):
        assert head.headers.get(name) == got.headers.get(name), name


def test_head_of_something_that_is_not_there_is_a_404_without_a_body(client: TestClient) -> None:
    for path in ("/api/v1/projects/NO-SUCH", "/api/v1/no-such-thing"):
        head = client.head(path)
        assert head.status_code == 404 and head.content == b""
        assert head.headers["content-length"] == client.get(path).headers["content-length"]


def test_a_number_is_not_taken_for_a_moment(client: TestClient) -> None:
    refused = client.get("/api/v1/demand-lines", params={"submitted_before": "0.5"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "submitted_before"]
    taken = client.get(
        "/api/v1/demand-lines", params={"submitted_before": "2026-11-30T11:00:00+08:00"}
    )
    assert taken.status_code == 200


def test_a_body_that_is_not_utf8_json_is_a_422_not_a_400(client: TestClient) -> None:
    response = client.post(
        "/api/v1/packages", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )
    detail = assert_error(response, 422, "body_invalid")
    assert "UTF-8" in detail["msg"]


def test_a_validation_error_echoes_only_an_excerpt_of_what_was_sent(client: TestClient) -> None:
    body = {"id": "PK-1", "name": "名" * 300_000, "year": 2026, "budget": 1}
    response = client.post("/api/v1/packages", json=body)
    assert response.status_code == 422
    assert len(response.content) < 2_000  # the body sent was 900 kB
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "name"]
    assert len(detail["input"]) <= MAX_ECHO and detail["input"].endswith("…")


def test_a_body_with_thousands_of_problems_lists_a_bounded_number(client: TestClient) -> None:
    lines = [{"material_code": "", "quantity": -1}] * 1000
    response = client.post("/api/v1/projects/P-1/lines", json=lines)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == MAX_ERRORS + 1
    assert detail[-1]["type"] == "too_many_errors" and "more problem" in detail[-1]["msg"]


def test_a_json_body_over_the_limit_is_a_413_in_the_error_shape(client: TestClient) -> None:
    big = json.dumps({"reason": "x" * (1024 * 1024)})
    response = client.post("/api/v1/holds/1/release", content=big.encode(), headers={
        "Content-Type": "application/json"})  # fmt: skip
    detail = assert_error(response, 413, "too_large")
    assert "1 MB" in detail["msg"]


def test_a_chunked_json_body_is_counted_as_it_arrives(client: TestClient) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"reason": "'
        for _ in range(40):  # 40 × 64 kB: 2.5 MB, with no Content-Length
            sent += 1
            yield b"x" * 65536
        yield b'"}'

    response = client.post(
        "/api/v1/holds/1/release", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "too_large")


def test_an_upload_has_its_own_larger_limit(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDSUPPLY_MAX_UPLOAD_BYTES", str(64 * 1024))
    monkeypatch.setenv("GRIDSUPPLY_MAX_JSON_BYTES", str(8 * 1024))
    small = client.post(
        "/api/v1/imports/materials", files={"file": ("m.csv", b"a,b\n" * 4000, "text/csv")}
    )
    assert small.status_code == 422  # 16 kB: over the JSON limit, within the upload's: read
    large = client.post(
        "/api/v1/imports/materials", files={"file": ("m.csv", b"a,b\n" * 20000, "text/csv")}
    )
    detail = assert_error(large, 413, "too_large")
    assert "file upload" in detail["msg"] and "65536 bytes" in detail["msg"]
