"""Operating the bus: the admin API, the CLI, saga traces, Redis idempotency, `olly serve` in-process."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from olly.app import create_app
from olly.kernel.errors import BusinessRuleViolation
from olly.platform.auth.roles import Role
from olly.platform.bus import dlq, trace
from olly.platform.bus.idempotency import RedisIdempotency, redis_key
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.bus.relay import wait_until
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform
from tests.integration.bus.helpers import GROUP, TOPIC, claim_submitted, dead_letter, runtime
from tests.services import require_redis
from tests.support.identity import sign_in_as


def _fail_once_registry(handled: list[uuid.UUID], broken: list[bool]) -> HandlerRegistry:
    registry = HandlerRegistry()

    def bill(uow: UnitOfWork, message: Message) -> None:
        if broken:
            raise BusinessRuleViolation("plan not loaded")
        handled.append(message.event_id)

    registry.subscribe(TOPIC, GROUP, bill)
    return registry


def test_admin_api_lists_shows_and_redrives_a_dead_letter(platform: Platform, tenant_id: uuid.UUID) -> None:
    handled: list[uuid.UUID] = []
    broken = [True]
    bus = runtime(platform, _fail_once_registry(handled, broken))
    with platform.db.unit_of_work(tenant_id) as uow:
        event = uow.publish(claim_submitted(), key="k").event_id
    bus.drain()
    app = create_app(platform)
    client = TestClient(app)
    client.headers.update(sign_in_as(app, tenant_id, Role.ADMINISTRATOR).headers)
    listed = client.get("/admin/bus/dlq").json()["items"]
    assert [item["originalEventId"] for item in listed] == [str(event)]
    letter_id = listed[0]["id"]
    shown = client.get(f"/admin/bus/dlq/{letter_id}").json()
    assert shown["dlqMetadata"]["consumerGroup"] == GROUP
    assert shown["originalPayload"]["eventType"] == "CLAIM_SUBMITTED"
    status = client.get("/admin/bus/status").json()
    assert status["transport"] == "embedded"
    assert status["outboxPending"] == 0

    broken.clear()
    response = client.post(f"/admin/bus/dlq/{letter_id}/redrive")
    assert response.status_code == 202
    assert response.json() == {"eventId": str(event), "status": "redriven"}
    bus.drain()
    assert handled == [event]
    again = client.post(f"/admin/bus/dlq/{letter_id}/redrive")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert client.get(f"/admin/bus/dlq/{uuid.uuid4()}").status_code == 404
    assert client.get("/admin/bus/dlq").json()["items"] == []


def test_each_tenant_sees_its_own_dead_letters_and_auditors_only_read(platform: Platform, tenant_id: uuid.UUID) -> None:
    ours = dead_letter(platform, tenant_id, uuid.uuid4())
    theirs = dead_letter(platform, uuid.uuid4(), uuid.uuid4())
    app = create_app(platform)
    client = TestClient(app)
    admin = sign_in_as(app, tenant_id, Role.ADMINISTRATOR)
    auditor = sign_in_as(app, tenant_id, Role.COMPLIANCE_AUDITOR)
    billing = sign_in_as(app, tenant_id, Role.BILLING)

    assert [i["id"] for i in client.get("/admin/bus/dlq", headers=admin.headers).json()["items"]] == [str(ours)]
    assert client.get(f"/admin/bus/dlq/{theirs}", headers=admin.headers).status_code == 404
    assert client.post(f"/admin/bus/dlq/{theirs}/redrive", headers=admin.headers).status_code == 404
    assert client.get(f"/admin/bus/dlq/{ours}", headers=auditor.headers).json()["id"] == str(ours)
    assert client.get("/admin/bus/status", headers=auditor.headers).status_code == 200
    refused = client.post(f"/admin/bus/dlq/{ours}/redrive", headers=auditor.headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    for path in ("/admin/bus/status", "/admin/bus/dlq", f"/admin/bus/dlq/{ours}"):
        assert client.get(path, headers=billing.headers).status_code == 403
    assert client.get("/admin/bus/dlq").status_code == 401
    # Nothing was redriven by the refused calls.
    assert [d.redriven_at for d in dlq.list_dead_letters(platform.db)] == [None, None]


def test_cli_lists_shows_and_redrives(
    platform: Platform, tenant_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    from olly.cli import app
    from olly.config import get_settings

    for name, value in platform.settings.masked().items():
        if value and name != "OLLY_MASTER_KEY":
            monkeypatch.setenv(name, value if name != "OLLY_DATABASE_URL" else platform.settings.database_url)
    monkeypatch.setenv("OLLY_MASTER_KEY", platform.settings.master_key.get_secret_value())  # type: ignore[union-attr]
    get_settings.cache_clear()
    handled: list[uuid.UUID] = []
    broken = [True]
    bus = runtime(platform, _fail_once_registry(handled, broken))
    with platform.db.unit_of_work(tenant_id) as uow:
        event = uow.publish(claim_submitted(), key="k")
    bus.drain()
    [letter] = dlq.list_dead_letters(platform.db)
    cli = CliRunner()
    try:
        listed = cli.invoke(app, ["dlq", "list"])
        assert listed.exit_code == 0, listed.output
        assert "1 dead letter(s)" in listed.output
        shown = cli.invoke(app, ["dlq", "show", str(letter.id)])
        assert shown.exit_code == 0
        assert json.loads(shown.output)["dlqMetadata"]["retryCount"] == 0
        assert cli.invoke(app, ["dlq", "show", "not-a-uuid"]).exit_code == 1
        broken.clear()
        redriven = cli.invoke(app, ["dlq", "redrive", str(letter.id)])
        assert redriven.exit_code == 0
        bus.drain()
        assert handled == [event.event_id]
        assert cli.invoke(app, ["dlq", "redrive", str(letter.id)]).exit_code == 1
        traced = cli.invoke(app, ["events", "trace", str(event.correlation_id)])
        assert traced.exit_code == 0
        assert f"claims.claim.submitted CLAIM_SUBMITTED key=k id={event.event_id}" in traced.output
        assert f"→ {GROUP}: handled" in traced.output
        assert "→ notifications-claims-consumer: pending" in traced.output
        assert cli.invoke(app, ["events", "trace", str(uuid.uuid4())]).exit_code == 1
    finally:
        get_settings.cache_clear()


def test_trace_follows_causation_across_topics_and_groups(platform: Platform, tenant_id: uuid.UUID) -> None:
    from olly.billing.events import PaymentCompleted

    registry = HandlerRegistry()

    def pay(uow: UnitOfWork, message: Message) -> None:
        uow.publish(
            PaymentCompleted(
                payment_id=uuid.UUID(int=9),
                claim_id=uuid.UUID(message.payload["claimId"]),
                payee="PROVIDER",
                payee_id=uuid.UUID(int=2),
                amount="144.00",
                completed_at=platform.clock.now(),
            ),
            key=message.key,
        )

    def refuse(uow: UnitOfWork, message: Message) -> None:
        raise BusinessRuleViolation("claim unknown here")

    registry.subscribe(TOPIC, GROUP, pay)
    registry.subscribe("billing.payment.completed", "claims-billing-consumer", refuse)
    with platform.db.unit_of_work(tenant_id) as uow:
        first = uow.publish(claim_submitted(), key="claim-1")
    runtime(platform, registry).drain()
    [root] = trace.trace(platform.db, first.correlation_id)
    assert root.event_id == first.event_id
    assert [(o.group, o.outcome) for o in root.outcomes] == [
        (GROUP, "handled"),
        ("claims-claims-consumer", "pending"),  # the adjudication worker (not run by this test's bus)
        ("notifications-claims-consumer", "pending"),
    ]
    [child] = root.caused
    assert (child.topic, child.event_type) == ("billing.payment.completed", "PAYMENT_COMPLETED")
    assert [(o.group, o.outcome) for o in child.outcomes] == [
        ("claims-billing-consumer", "dead-lettered"),
        ("edi-billing-consumer", "pending"),  # the EDI gateway's consumer, not run by this test's bus
        ("notifications-billing-consumer", "pending"),
    ]
    assert child.outcomes[0].detail == "business_rule_violation: claim unknown here (terminal: not retried)"


def test_redis_keeps_processed_ids_with_a_ttl(platform: Platform, tenant_id: uuid.UUID) -> None:
    import redis

    url = require_redis()
    client = redis.Redis.from_url(url)
    idempotency = RedisIdempotency(url, platform.clock, ttl_seconds=86400, client=client)
    applied: list[uuid.UUID] = []
    registry = HandlerRegistry()
    registry.subscribe(TOPIC, GROUP, lambda uow, m: applied.append(m.event_id))
    bus = runtime(platform, registry)
    bus.dispatcher.idempotency = idempotency
    with platform.db.unit_of_work(tenant_id) as uow:
        events = [uow.publish(claim_submitted(), key=str(i)).event_id for i in range(3)]
    try:
        bus.drain()
        assert sorted(applied) == sorted(events)
        for event_id in events:
            assert 86000 < client.ttl(redis_key(GROUP, event_id)) <= 86400
            assert idempotency.lookup(GROUP, event_id)["attempts"] == 1  # type: ignore[index]
        # Redelivery (offsets lost): Redis drops the duplicates before the handler runs.
        from olly.platform.bus.embedded import PARTITIONS

        with platform.db.connect() as connection:
            connection.execute(PARTITIONS.update().values(committed_offset=-1))
        for consumer in bus.consumers:
            consumer.owned.clear()
        bus.drain()
        assert sorted(applied) == sorted(events)
        # The window: once Redis forgets (TTL, or a crash before the write), the event applies again.
        client.delete(redis_key(GROUP, events[0]))
        with platform.db.connect() as connection:
            connection.execute(PARTITIONS.update().values(committed_offset=-1))
        for consumer in bus.consumers:
            consumer.owned.clear()
        bus.drain()
        assert sorted(applied) == sorted([*events, events[0]])
    finally:
        for event_id in events:
            client.delete(redis_key(GROUP, event_id))


def test_the_app_runs_the_bus_in_process(platform: Platform, tenant_id: uuid.UUID) -> None:
    from olly.platform.bus import runtime as bus_runtime

    seen: list[uuid.UUID] = []
    registry = HandlerRegistry()
    registry.subscribe(TOPIC, GROUP, lambda uow, m: seen.append(m.event_id))
    original = bus_runtime.default_registry
    bus_runtime.default_registry = lambda **_: registry  # type: ignore[assignment]
    try:
        app = create_app(platform, run_bus=True)
        with TestClient(app):
            assert app.state.bus is not None
            with platform.db.unit_of_work(tenant_id) as uow:
                event = uow.publish(claim_submitted(), key="k").event_id
            assert wait_until(lambda: seen == [event], 10)
        assert not any(t.is_alive() for t in app.state.bus._threads)
    finally:
        bus_runtime.default_registry = original


def test_olly_worker_runs_until_sigterm(platform: Platform, tenant_id: uuid.UUID, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from sqlalchemy import func, select

    from olly.platform.bus.models import OutboxRecord
    from olly.platform.db import table_of

    root = Path(__file__).resolve().parents[3]
    env = {
        **os.environ,
        "OLLY_DATABASE_URL": platform.settings.database_url,
        "OLLY_DATA_DIR": str(platform.settings.data_dir),
        "OLLY_MASTER_KEY": platform.settings.master_key.get_secret_value(),  # type: ignore[union-attr]
        "OLLY_BUS_POLL_MS": "20",
        "PYTHONPATH": str(root),
    }
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(claim_submitted(), key="k")
    outbox = table_of(OutboxRecord)

    def relayed() -> bool:
        # A reader's transaction: the check must not take the write lock the worker's relay needs.
        with platform.db.engine.execution_options(olly_begin="DEFERRED").connect() as connection:
            return connection.execute(select(func.count()).where(outbox.c.relayed_at.is_(None))).scalar() == 0

    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    worker = subprocess.Popen(
        [sys.executable, "-m", "olly.cli", "worker", "--metrics-port", str(port)],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_until(relayed, 90), "the worker's relay did not move the outbox row"

        def relayed_once() -> bool:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.TransportError:
                return False
            return "olly_bus_relayed_total 1.0" in text and "olly_bus_outbox_pending 0.0" in text

        assert wait_until(relayed_once, 30), "the worker's metrics port did not show the relayed row"
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr
    assert "embedded bus" in stderr

    # a metrics port already taken is a clear error, not a worker without metrics
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        refused = subprocess.run(
            [sys.executable, "-m", "olly.cli", "worker", "--metrics-port", str(busy)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert refused.returncode == 1
    assert f"metrics port 127.0.0.1:{busy} could not be opened" in " ".join(refused.stderr.split())
