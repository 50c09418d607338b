"""Platform HTTP behaviour: health, readiness, request ids and problem+json for every error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from olly.app import create_app
from olly.config import Settings
from olly.kernel.clock import FixedClock
from olly.kernel.errors import Conflict
from olly.platform.auth import public
from olly.platform.runtime import Platform, build_platform


class Probe(BaseModel):
    units: int = Field(ge=1)
    code: str


def add_probe_routes(app: FastAPI) -> None:
    """Routes that exercise the error handlers the way domain routers will (declared public: every
    route must declare its access policy)."""
    probe = [Depends(public("error-handling probe", rate=None))]

    @app.post("/_probe/validate", dependencies=probe)
    def validate(body: Probe) -> dict[str, int]:
        return {"units": body.units}

    @app.post("/_probe/conflict", dependencies=probe)
    def conflict() -> None:
        raise Conflict("the claim was already submitted with another body")

    @app.get("/_probe/crash", dependencies=probe)
    def crash() -> None:
        raise RuntimeError("secret internals: 123-45-6789 /srv/olly/db.py line 7")


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    app = create_app(platform)
    add_probe_routes(app)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_health_and_ready(client: TestClient, platform: Platform) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": platform.db.dialect}


def test_ready_is_503_until_migrations_run(tmp_path: Path, clock: FixedClock) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path)
    platform = build_platform(settings, clock)
    try:
        with TestClient(create_app(platform)) as client:
            response = client.get("/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "migrations_pending"
    finally:
        platform.close()


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/health", headers={"X-Request-ID": "abc-12345678"})
    assert given.headers["X-Request-ID"] == "abc-12345678"
    made = client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["X-Request-ID"] != "bad id with spaces" and len(made.headers["X-Request-ID"]) == 36


def test_404_and_405_are_problem_json(client: TestClient) -> None:
    missing = client.get("/no/such/thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    body = missing.json()
    assert (body["status"], body["code"], body["instance"]) == (404, "not_found", "/no/such/thing")
    assert body["requestId"] == missing.headers["X-Request-ID"]
    wrong = client.delete("/health")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")


def test_422_names_every_field_and_never_echoes_input(client: TestClient) -> None:
    response = client.post("/_probe/validate", json={"units": 0, "ssn": "123-45-6789"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_failed"
    assert sorted(e["field"] for e in body["errors"]) == ["body.code", "body.units"]
    assert "123-45-6789" not in response.text and '"input"' not in response.text


def test_a_typed_error_keeps_its_status_and_code(client: TestClient) -> None:
    response = client.post("/_probe/conflict")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["detail"] == "the claim was already submitted with another body"


def test_500_has_no_internals(client: TestClient) -> None:
    response = client.get("/_probe/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "internal_error"
    for leak in ("Traceback", "RuntimeError", "secret", "123-45-6789", "db.py", "/srv"):
        assert leak not in response.text
    assert body["requestId"] == response.headers["X-Request-ID"]


def test_openapi_is_served(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["title"] == "Olly"
    assert client.get("/docs").status_code == 200
