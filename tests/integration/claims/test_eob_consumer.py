"""The EOB leaves the adjudication's transaction: the adjudication chooses the document's key (its
``claims.claim.adjudicated`` carries it) and the EOB consumer (``eob-claims-consumer``) renders and
stores it afterwards. An adjudication committed with nothing run after it (a crash) still gets its
EOB from its event; until then ``GET …/eob.pdf`` answers 404 ``eob_not_ready`` with Retry-After."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from olly.app import create_app
from olly.claims import eob, public, service
from olly.claims import models as m
from olly.claims.schemas import ClaimCreate
from olly.platform.auth.roles import Role
from olly.platform.bus.models import OutboxRecord
from olly.platform.objectstore import object_store_of
from olly.platform.runtime import Platform
from tests.integration.claims.support import ClaimsWorld, claim_body, drain, line, seed
from tests.support.identity import sign_in_as


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


@pytest.fixture
def client(platform: Platform, world: ClaimsWorld) -> Iterator[TestClient]:
    with TestClient(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def adjudicated(platform: Platform, tenant_id: uuid.UUID, body: dict[str, object]) -> uuid.UUID:
    """A claim submitted and adjudicated, committed, with nothing of the bus run after it."""
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_id = public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id
    with platform.db.unit_of_work(tenant_id) as uow:
        service.adjudicate_claim(uow, claim_id)
    return claim_id


def announced(platform: Platform, claim_id: uuid.UUID) -> dict[str, object]:
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        (payload,) = [
            json.loads(row.payload)
            for row in uow.session.scalars(select(OutboxRecord).where(OutboxRecord.topic == "claims.claim.adjudicated"))
            if json.loads(row.payload)["claimId"] == str(claim_id)
        ]
    return payload  # type: ignore[no-any-return]


def eob_documents(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> list[str]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        query = select(m.ClaimDocument.object_key).where(
            m.ClaimDocument.claim_id == claim_id, m.ClaimDocument.kind == "EOB"
        )
        return list(uow.session.scalars(query))


def test_the_eob_follows_a_committed_adjudication_under_the_key_its_event_carries(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    ana = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ana)  # type: ignore[arg-type]
    claim_id = adjudicated(platform, tenant_id, claim_body(world.ana, line("99213", "150.00")))
    key = eob.object_key(tenant_id, claim_id, 1)
    payload = announced(platform, claim_id)
    assert (payload["eventType"], payload["eobS3Key"], payload["adjudicationSequence"]) == ("CLAIM_APPROVED", key, 1)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        claim = uow.session.get(m.Claim, claim_id)
        assert claim is not None and claim.eob_object_key == key
    assert eob_documents(platform, tenant_id, claim_id) == []
    assert client.get(f"/api/v1/claims/{claim_id}", headers=ana.headers).json()["eob"] is True

    waiting = client.get(f"/api/v1/claims/{claim_id}/eob.pdf", headers=ana.headers)
    assert (waiting.status_code, waiting.headers["retry-after"]) == (404, "2")
    assert waiting.headers["content-type"].startswith("application/problem+json")
    assert waiting.json()["code"] == "eob_not_ready"

    drain(platform)
    assert eob_documents(platform, tenant_id, claim_id) == [key]
    pdf = client.get(f"/api/v1/claims/{claim_id}/eob.pdf", headers=ana.headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert b"Plan paid: USD 75.00" in pdf.content and b"You owe: USD 25.00" in pdf.content


def test_a_denial_s_eob_states_the_published_deadline_and_is_stored_once(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    stranger = uuid.uuid4()  # claims knows no coverage for this member: denied CO-31
    claim_id = adjudicated(platform, tenant_id, claim_body(stranger, line("99213", "150.00")))
    payload = announced(platform, claim_id)
    assert (payload["eventType"], payload["appealDeadline"]) == ("CLAIM_DENIED", "2026-07-14")
    drain(platform)
    key = eob.object_key(tenant_id, claim_id, 1)
    assert eob_documents(platform, tenant_id, claim_id) == [key]
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.store_eob(uow, claim_id) == key  # the same adjudication again: nothing new
        pdf = object_store_of(uow).get(uow, key)
    assert eob_documents(platform, tenant_id, claim_id) == [key]
    assert b"Status DENIED" in pdf and b"you may appeal until 2026-07-14." in pdf


def test_no_eob_for_a_claim_without_a_final_result(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    ana = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ana)  # type: ignore[arg-type]
    with platform.db.unit_of_work(tenant_id) as uow:
        body = ClaimCreate.model_validate(claim_body(world.ana, line("29881", "1800.00")))
        claim_id = public.submit_claim(uow, body, source="API").claim_id
    drain(platform)  # pended for its authorisation: no adjudication event, no EOB
    answer = client.get(f"/api/v1/claims/{claim_id}/eob.pdf", headers=ana.headers)
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert eob_documents(platform, tenant_id, claim_id) == []
