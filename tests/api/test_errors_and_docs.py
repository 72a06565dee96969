"""The error boundary (one table, FastAPI's shape, no leaks) and the OpenAPI documentation."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

import api.errors
import catalogs.importing
import catalogs.summary  # noqa: F401  (with catalogs.queries and catalogs.reserve)
from api.errors import ERROR_STATUS, REQUEST_ID_HEADER, status_for
from supply.calendar import YearNotLoaded
from supply.core.errors import ConflictingInput, DomainError, InvalidInput

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= all_subclasses(sub)
    return found


def test_every_domain_error_has_a_status() -> None:
    unmapped = {
        cls.__name__
        for cls in all_subclasses(DomainError)
        if not any(issubclass(cls, m) for m in ERROR_STATUS)
    }
    assert unmapped == set()
    assert set(ERROR_STATUS.values()) <= {401, 403, 404, 409, 422, 429}


def test_input_that_meets_what_is_stored_is_a_409_and_still_invalid_input_to_the_cli() -> None:
    for error in (ConflictingInput("material X is not in the master"), YearNotLoaded(2027, [2026])):
        assert status_for(error) == 409 and error.type == "conflict"
        assert isinstance(error, InvalidInput)  # the command line exits 2, as for its input


@pytest.fixture
def broken(app: FastAPI) -> FastAPI:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    @app.get("/race")
    def race() -> None:
        raise IntegrityError(
            "INSERT INTO material ...", {}, Exception('duplicate key "pk_material"')
        )

    return app


def test_an_unexpected_error_is_a_logged_500_with_a_request_id_and_no_details(
    broken: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="gridsupply.api"):
        response = client.get("/boom")
    assert response.status_code == 500
    request_id = response.headers[REQUEST_ID_HEADER]
    [detail] = response.json()["detail"]
    assert detail["type"] == "internal_error" and request_id in detail["msg"]
    assert "hunter2" not in response.text and "5432" not in response.text
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_database_conflict_is_409_without_database_text(
    broken: FastAPI, client: TestClient
) -> None:
    response = client.get("/race")
    assert response.status_code == 409
    assert response.json()["detail"][0]["type"] == "conflict"
    assert "pk_material" not in response.text and "INSERT" not in response.text


def test_a_request_id_from_the_caller_is_kept_and_a_bad_one_replaced(client: TestClient) -> None:
    assert (
        client.get("/api/v1/health", headers={REQUEST_ID_HEADER: "abc-123"}).headers[
            REQUEST_ID_HEADER
        ]
        == "abc-123"
    )
    replaced = client.get("/api/v1/health", headers={REQUEST_ID_HEADER: "<script>"}).headers[
        REQUEST_ID_HEADER
    ]
    assert replaced != "<script>" and re.fullmatch(r"[0-9a-f]{16}", replaced)


def test_error_bodies_are_built_in_one_place() -> None:
    # api/errors.py::error_response gives every error its shape; a route that builds a JSON error
    # body by hand drifts from it unnoticed.
    root = Path(api.errors.__file__).parent
    for module in sorted(root.rglob("*.py")):
        if module.name != "errors.py":
            assert "JSONResponse(" not in module.read_text(encoding="utf-8"), module


def test_every_route_is_under_api_v1_and_documented_in_chinese_and_english(app: FastAPI) -> None:
    spec = app.openapi()
    # The probes live at the root, where Kubernetes and load balancers look for them.
    outside = {path for path in spec["paths"] if not path.startswith("/api/v1/")}
    assert len(spec["paths"]) >= 15 and outside == {"/healthz", "/readyz"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            text = operation["summary"] + operation.get("description", "")
            assert CJK.search(text) and LATIN.search(text), where
            for parameter in operation.get("parameters", []):
                description = parameter.get("description") or parameter.get("schema", {}).get(
                    "description", ""
                )
                assert CJK.search(description) and LATIN.search(description), (
                    f"{where} {parameter['name']}"
                )
    for tag in spec["tags"]:
        assert CJK.search(tag["description"]) and LATIN.search(tag["description"])


def test_out_of_range_numbers_in_urls_are_422_not_database_errors(client: TestClient) -> None:
    for url in (
        "/api/v1/materials?offset=1000000000000000000000",
        "/api/v1/agreements/99999999999999",
        "/api/v1/reserve/quota-catalogs/99999999999999",
        "/api/v1/exports/quotas?version=10000000000",
    ):
        assert client.get(url).status_code == 422, url
