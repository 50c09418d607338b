"""Prometheus metrics: off without a token, the token checked, route templates (never paths) in
labels, and the bus's counters and backlog; the worker's own metrics port."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from olly.app import create_app
from olly.platform.auth.roles import Role
from olly.platform.bus.dispatch import METRICS
from olly.platform.metrics import ROUTE_TEMPLATE, UNMATCHED, exposition, new_registry, route_of, serve
from olly.platform.runtime import Platform
from tests.integration.bus.helpers import claim_submitted
from tests.support.identity import sign_in_as

TOKEN = "scrape-me-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(platform, "settings", platform.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}))
    with TestClient(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_are_off_without_a_token(platform: Platform) -> None:
    with TestClient(create_app(platform, run_bus=False)) as client:
        answer = client.get("/metrics", headers=BEARER)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "metrics_off"


def test_the_token_is_required(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert answer.json()["code"] == "metrics_token"
    answer = client.get("/metrics", headers=BEARER)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")


def test_requests_are_counted_by_route_template_never_by_path(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    examiner = sign_in_as(client.app, tenant_id, Role.CLAIMS_EXAMINER)  # type: ignore[arg-type]
    unknown_claim = uuid.uuid4()
    for _ in range(2):
        assert client.get(f"/api/v1/claims/{unknown_claim}", headers=examiner.headers).status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/health").status_code == 200
    assert client.request("BREW", "/health").status_code == 405

    text = client.get("/metrics", headers=BEARER).text
    found = samples(text)
    claim = (("method", "GET"), ("route", "/api/v1/claims/{claim_id}"), ("status", "404"))
    assert found["olly_http_requests_total", claim] == 2.0
    assert found["olly_http_requests_total", (("method", "GET"), ("route", "/health"), ("status", "200"))] == 1.0
    unmatched = (("method", "GET"), ("route", UNMATCHED), ("status", "404"))
    assert found["olly_http_requests_total", unmatched] == 1.0
    assert found["olly_http_requests_total", (("method", "OTHER"), ("route", "/health"), ("status", "405"))] == 1.0
    timed = (("method", "GET"), ("route", "/api/v1/claims/{claim_id}"))
    assert found["olly_http_request_duration_seconds_count", timed] == 2.0
    assert str(unknown_claim) not in text and "/no/such/page" not in text


def test_the_bus_counters_and_backlog(client: TestClient, platform: Platform, tenant_id: uuid.UUID) -> None:
    before = samples(client.get("/metrics", headers=BEARER).text)
    handled = ("olly_bus_messages_total", (("outcome", "handled"),))
    dead = ("olly_bus_messages_total", (("outcome", "dead_lettered"),))
    METRICS.add(handled=3, dead_lettered=1)
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(claim_submitted(), key="k")
        uow.publish(claim_submitted(), key="k")

    after = samples(client.get("/metrics", headers=BEARER).text)
    assert after[handled] - before[handled] == 3.0
    assert after[dead] - before[dead] == 1.0
    assert after["olly_bus_outbox_pending", ()] == before["olly_bus_outbox_pending", ()] + 2.0
    assert ("process_resident_memory_bytes", ()) in after


def test_route_of_prefers_the_router_then_what_answered_before_routing() -> None:
    class Route:
        path_format = "/api/v1/claims/{claim_id}"

    assert route_of({"route": Route()}) == "/api/v1/claims/{claim_id}"
    assert route_of({ROUTE_TEMPLATE: "/api/v1/eligibility"}) == "/api/v1/eligibility"
    assert route_of({}) == UNMATCHED


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_worker_serves_the_bus_figures_on_its_own_port(platform: Platform, tenant_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(claim_submitted(), key="k")
    port = _free_port()
    stop = serve(new_registry(lambda: platform.db), port, "127.0.0.1")
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        stop()
    found = samples(text)
    assert found["olly_bus_outbox_pending", ()] == 1.0
    assert ("olly_bus_messages_total", (("outcome", "handled"),)) in found
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_job_runs_and_failures_are_counted(platform: Platform) -> None:
    from olly.platform.jobs import JobScheduler

    def broken(_uow: object) -> None:
        raise RuntimeError("boom")

    scheduler = JobScheduler(platform.db, "metrics-test")
    scheduler.add("test.fine", 60, lambda _uow: None)
    scheduler.add("test.broken", 60, broken)
    registry = new_registry(lambda: platform.db)
    before = samples(exposition(registry).decode())
    assert scheduler.run_job(scheduler.jobs["test.fine"])
    with pytest.raises(RuntimeError):
        scheduler.run_job(scheduler.jobs["test.broken"])
    scheduler.run_job(scheduler.jobs["test.fine"])
    after = samples(exposition(registry).decode())

    def runs(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], job: str, outcome: str) -> float:
        return found.get(("olly_job_runs_total", (("job", job), ("outcome", outcome))), 0.0)

    assert runs(after, "test.fine", "ran") - runs(before, "test.fine", "ran") == 2.0
    assert runs(after, "test.broken", "failed") - runs(before, "test.broken", "failed") == 1.0
    assert runs(after, "test.broken", "ran") == runs(before, "test.broken", "ran")
