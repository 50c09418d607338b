"""``POST /api/v1/claims/batch``: claims sent together are stored exactly as if each had been POSTed
alone, in one transaction; the same batch again answers the first; an invalid claim or one the
caller may not submit refuses the whole batch, and nothing is written."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from olly.app import create_app
from olly.claims import models as m
from olly.platform.auth.roles import Role
from olly.platform.bus.models import OutboxRecord
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_IN, NPI_OUT, ClaimsWorld, claim_body, drain, line, seed
from tests.support.identity import audit_rows, sign_in_as


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


@pytest.fixture
def client(platform: Platform, world: ClaimsWorld) -> Iterator[TestClient]:
    with TestClient(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def bodies(world: ClaimsWorld) -> list[dict[str, Any]]:
    return [
        claim_body(world.ana, line("99213", "150.00", "2026-01-05")),
        claim_body(world.ben, line("29880", "2000.00", "2026-01-06"), line("99213", "150.00", "2026-01-06")),
        claim_body(world.solo, line("10060", "500.00", "2026-01-07"), diagnoses=["J06.9", "R05.9"]),
    ]


def stored(platform: Platform, tenant_id: uuid.UUID, claim_ids: list[str]) -> list[Any]:
    """What intake stored of each claim, without what is new in every submission (ids, keys)."""
    wanted = [uuid.UUID(claim_id) for claim_id in claim_ids]
    found = []
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        for claim_id in wanted:
            claim = uow.session.get(m.Claim, claim_id)
            assert claim is not None
            header = {a.key: getattr(claim, a.key) for a in m.Claim.__mapper__.column_attrs}
            for key in ("id", "transaction_id", "raw_object_key"):
                header.pop(key)
            lines = uow.session.scalars(
                select(m.ClaimLine).where(m.ClaimLine.claim_id == claim_id).order_by(m.ClaimLine.line_number)
            )
            line_values = [(ln.line_number, ln.charge_minor, ln.units, ln.service, ln.status) for ln in lines]
            diagnoses = uow.session.scalars(
                select(m.ClaimDiagnosis.position).where(m.ClaimDiagnosis.claim_id == claim_id)
            ).all()
            documents = uow.session.scalars(select(m.ClaimDocument).where(m.ClaimDocument.claim_id == claim_id)).all()
            history = uow.session.scalars(
                select(m.ClaimStatusChange).where(m.ClaimStatusChange.claim_id == claim_id)
            ).all()
            found.append(
                (
                    sorted(header.items()),
                    line_values,
                    sorted(diagnoses),
                    [(d.kind, d.content_type, d.size_bytes, d.sha256) for d in documents],
                    [(h.status, h.reason) for h in history],
                )
            )
    with platform.db.connect() as connection:
        outbox = {
            json.loads(row.payload)["claimId"]: (row.key, row.partition, json.loads(row.payload))
            for row in connection.execute(
                select(OutboxRecord.__table__).where(OutboxRecord.topic == "claims.claim.submitted")
            )
        }
    for claim_id, entry in zip(claim_ids, found, strict=True):
        key, partition, payload = outbox[claim_id]
        payload.pop("claimId")
        entry += ((key, partition, sorted(payload.items())),)  # type: ignore[assignment]
    return found


def claim_count(platform: Platform, tenant_id: uuid.UUID) -> int:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(m.Claim)) or 0)


def test_a_batch_stores_what_single_posts_store_and_answers_again_when_sent_again(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    singles = []
    for body in bodies(world):
        posted = client.post("/api/v1/claims", json=body, headers=provider.headers)
        assert posted.status_code == 202, posted.text
        singles.append(posted.json()["claimId"])
    headers = {**provider.headers, "Idempotency-Key": "batch-1"}
    batch = client.post("/api/v1/claims/batch", json={"claims": bodies(world)}, headers=headers)
    assert batch.status_code == 202, batch.text
    answer = batch.json()
    assert answer["status"] == "ACCEPTED"
    assert [set(item) for item in answer["claims"]] == [{"status", "transactionId", "claimId"}] * 3
    together = [item["claimId"] for item in answer["claims"]]
    assert len(set(together) | set(singles)) == 6
    assert stored(platform, tenant_id, together) == stored(platform, tenant_id, singles)

    again = client.post("/api/v1/claims/batch", json={"claims": bodies(world)}, headers=headers)
    assert (again.status_code, again.json()) == (202, answer)
    changed = bodies(world)
    changed[2] = claim_body(world.solo, line("10060", "550.00", "2026-01-07"))
    refused = client.post("/api/v1/claims/batch", json={"claims": changed}, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "idempotency_key_reused")
    assert claim_count(platform, tenant_id) == 6

    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        statuses = {str(c.id): c.status for c in uow.session.scalars(select(m.Claim))}
    # The singles came first; the batch repeats them, so its claims are denied as duplicates (CO-18).
    assert [statuses[claim_id] for claim_id in singles] == ["APPROVED", "APPROVED", "APPROVED"]
    assert [statuses[claim_id] for claim_id in together] == ["DENIED", "DENIED", "DENIED"]


def test_one_claim_the_caller_may_not_submit_refuses_the_batch(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    claims = bodies(world)
    claims[1]["billingNpi"] = NPI_OUT
    refused = client.post("/api/v1/claims/batch", json={"claims": claims}, headers=provider.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert claim_count(platform, tenant_id) == 0
    [denial] = [r for r in audit_rows(platform, action="claim.write") if r["outcome"] == "denied"]
    assert denial["subject"] == provider.subject
    assert "batchIndex" in str(denial["detail"])


def test_an_invalid_claim_refuses_the_batch_with_its_index(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    claims = bodies(world)
    claims[2]["lines"][0]["serviceDateFrom"] = "2027-01-01"  # the clock says 2026
    refused = client.post("/api/v1/claims/batch", json={"claims": claims}, headers=provider.headers)
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("body.claims.2.lines.0.serviceDateFrom", "invalid")
    ]
    assert claim_count(platform, tenant_id) == 0
    too_many = client.post("/api/v1/claims/batch", json={"claims": claims[:1] * 501}, headers=provider.headers)
    assert too_many.status_code == 422
    assert claim_count(platform, tenant_id) == 0


def test_a_batch_with_a_replacement_sent_again_answers_the_first_time(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    original = client.post("/api/v1/claims", json=bodies(world)[0], headers=provider.headers).json()["claimId"]
    replacement = claim_body(world.ana, line("10060", "500.00", "2026-01-05"), frequency="7", originalClaimId=original)
    headers = {**provider.headers, "Idempotency-Key": "batch-2"}
    first = client.post("/api/v1/claims/batch", json={"claims": [replacement]}, headers=headers)
    assert first.status_code == 202, first.text
    drain(platform)  # the original is now REPLACED: a new replacement of it would be refused
    again = client.post("/api/v1/claims/batch", json={"claims": [replacement]}, headers=headers)
    assert (again.status_code, again.json()) == (202, first.json())
    fresh = client.post("/api/v1/claims/batch", json={"claims": [replacement]}, headers=provider.headers)
    assert fresh.status_code == 422
    assert [e["field"] for e in fresh.json()["errors"]] == ["body.claims.0.originalClaimId"]


def test_the_key_with_a_shorter_or_longer_batch_is_refused(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """The key stands for the whole batch: the first claims of it, or it with a claim more, are
    another batch (409), neither answered as the first nor taken in half."""
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    headers = {**provider.headers, "Idempotency-Key": "batch-3"}
    first = client.post("/api/v1/claims/batch", json={"claims": bodies(world)[:2]}, headers=headers)
    assert first.status_code == 202, first.text
    for claims in (bodies(world)[:1], bodies(world)):
        refused = client.post("/api/v1/claims/batch", json={"claims": claims}, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (409, "idempotency_key_reused")
    assert claim_count(platform, tenant_id) == 2
