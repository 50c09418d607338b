"""Prior authorisations and appeals over HTTP: who may request, read and decide; problems; audit."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from olly.claims import appeals
from olly.claims.events import ClaimDenied
from tests.support.identity import NPI_1, NPI_2, RecordingOutbox, World, audit_rows

PROVIDER_1 = uuid.UUID("01900000-0000-7000-8000-0000000000a1")


def pa_body(world: World, letter: str = "A", npi: str = NPI_1, expedited: bool = False) -> dict[str, Any]:
    return {
        "memberId": str(world.parties[letter]),
        "requestingProviderId": str(PROVIDER_1),
        "requestingNpi": npi,
        "services": [{"procedureCode": "70551", "units": 1}, {"procedureCode": "27447", "units": 2}],
        "serviceFrom": "2026-02-01",
        "serviceTo": "2026-02-28",
        "expedited": expedited,
        "diagnosisCodes": ["M23.51"],
        "clinicalNotes": "Locking of the left knee",
    }


def test_a_provider_requests_and_an_examiner_decides(
    client: TestClient, world: World, platform: Any, outbox: RecordingOutbox
) -> None:
    provider = world.persona("provider_1")
    created = client.post("/api/v1/prior-auths", json=pa_body(world, expedited=True), headers=provider.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    # The world's clock reads 15 January 2026 09:00 UTC: an expedited decision is due 72 hours later.
    assert (body["status"], body["receivedAt"], body["decisionDueAt"], body["overdue"]) == (
        "PENDING",
        "2026-01-15T09:00:00Z",
        "2026-01-18T09:00:00Z",
        False,
    )
    prior_auth_id = body["id"]
    url = f"/api/v1/prior-auths/{prior_auth_id}"
    # The member and the requesting provider read it; another family, another provider and the
    # employer do not.
    assert client.get(url, headers=world.persona("member_a").headers).json()["clinicalNotes"] == (
        "Locking of the left knee"
    )
    assert client.get(url, headers=provider.headers).status_code == 200
    assert client.get(url, headers=world.persona("member_b").headers).status_code == 404
    assert client.get(url, headers=world.persona("provider_2").headers).status_code == 404
    assert client.get(url, headers=world.persona("employer_1").headers).status_code == 403
    assert [p["id"] for p in client.get("/api/v1/prior-auths", headers=world.persona("member_b").headers).json()] == []
    # The requesting provider may not decide its own request; an examiner does.
    decision = {
        "outcome": "PARTIALLY_APPROVED",
        "approved": [{"procedureCode": "27447", "units": 1}],
        "denialReasonCode": "50",
        "note": "MRI first",
    }
    assert client.post(f"{url}/decision", json=decision, headers=provider.headers).status_code == 403
    examiner = world.persona("claims_examiner")
    queue = client.get("/api/v1/prior-auths?status=PENDING", headers=examiner.headers).json()
    assert [p["id"] for p in queue] == [prior_auth_id]
    decided = client.post(f"{url}/decision", json=decision, headers=examiner.headers)
    assert decided.status_code == 200, decided.text
    assert [(s["procedureCode"], s["unitsApproved"]) for s in decided.json()["services"]] == [
        ("70551", 0),
        ("27447", 1),
    ]
    again = client.post(f"{url}/decision", json=decision, headers=examiner.headers)
    assert (again.status_code, again.headers["content-type"]) == (409, "application/problem+json")
    assert [e.payload["eventType"] for e in outbox.events if e.topic == "claims.prior_auth.decision"] == [
        "PRIOR_AUTH_PENDED",
        "PRIOR_AUTH_APPROVED",
    ]
    # Beside the policy decision point's record of each allowed call, the decision itself is recorded.
    decisions = [r for r in audit_rows(platform, action="prior_auth.decide") if '"outcome"' in (r["detail"] or "")]
    assert [(r["resource_id"], r["subject"]) for r in decisions] == [(prior_auth_id, examiner.subject)]
    assert '"outcome":"PARTIALLY_APPROVED"' in decisions[0]["detail"]


def test_a_provider_requests_only_as_itself_and_a_member_not_at_all(client: TestClient, world: World) -> None:
    as_other = client.post(
        "/api/v1/prior-auths", json=pa_body(world, npi=NPI_2), headers=world.persona("provider_1").headers
    )
    assert as_other.status_code == 404
    by_member = client.post("/api/v1/prior-auths", json=pa_body(world), headers=world.persona("member_a").headers)
    assert by_member.status_code == 403
    stranger = {**pa_body(world), "memberId": str(uuid.uuid4())}
    unknown = client.post("/api/v1/prior-auths", json=stranger, headers=world.persona("provider_1").headers)
    assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (422, "unknown_member")
    backwards = {**pa_body(world), "serviceTo": "2026-01-01"}
    refused = client.post("/api/v1/prior-auths", json=backwards, headers=world.persona("provider_1").headers)
    assert (refused.status_code, [e["field"] for e in refused.json()["errors"]]) == (422, ["body.serviceTo"])


def adjudicated_claim(world: World, letter: str, *, days_left: int) -> uuid.UUID:
    claim_id = uuid.uuid4()
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        today = uow.clock.today()
        denial = ClaimDenied(
            claim_id=claim_id,
            member_id=world.parties[letter],
            provider_id=uuid.uuid4(),
            denial_reason_code="CO-197",
            denial_reason_text="Required prior authorization not on file",
            appeal_deadline=today + timedelta(days=days_left),
            adjudicated_at=uow.clock.now(),
        )
        appeals.record_adjudication(uow, uuid.uuid4(), denial.wire())
    return claim_id


def test_members_appeal_their_own_denials_within_the_window(
    client: TestClient, world: World, platform: Any, outbox: RecordingOutbox
) -> None:
    member = world.persona("member_a")
    claim_id = adjudicated_claim(world, "A", days_left=0)  # the deadline is today: still open
    url = f"/api/v1/claims/{claim_id}/appeals"
    filing = {"reason": "The scan was authorised by phone", "documentsReference": "uploads/phone-log.pdf"}
    assert client.post(url, json=filing, headers=world.persona("member_b").headers).status_code == 404
    assert client.post(url, json=filing, headers=world.persona("employer_1").headers).status_code == 403
    filed = client.post(url, json=filing, headers=member.headers)
    assert filed.status_code == 201, filed.text
    appeal = filed.json()
    assert (appeal["status"], appeal["claimId"], appeal["decisionDueAt"]) == (
        "OPEN",
        str(claim_id),
        "2026-03-16T09:00:00Z",
    )
    second = client.post(url, json=filing, headers=member.headers)
    assert (second.status_code, second.json()["code"]) == (409, "appeal_already_open")
    closed = adjudicated_claim(world, "A", days_left=-1)
    late = client.post(f"/api/v1/claims/{closed}/appeals", json=filing, headers=member.headers)
    assert (late.status_code, late.headers["content-type"]) == (422, "application/problem+json")
    assert (late.json()["code"], late.json()["appealDeadline"]) == ("appeal_window_closed", "2026-01-14")

    appeal_url = f"/api/v1/appeals/{appeal['id']}"
    assert client.get(appeal_url, headers=member.headers).json()["reason"] == "The scan was authorised by phone"
    assert client.get(appeal_url, headers=world.persona("member_b").headers).status_code == 404
    assert client.get("/api/v1/appeals", headers=world.persona("member_b").headers).json() == []
    assert [a["id"] for a in client.get("/api/v1/appeals", headers=member.headers).json()] == [appeal["id"]]
    verdict = {"outcome": "OVERTURNED", "note": "The phone authorisation is on record"}
    assert client.post(f"{appeal_url}/decision", json=verdict, headers=member.headers).status_code == 403
    examiner = world.persona("claims_examiner")
    for lines, field, message in (
        ([0], "body.lines.0", "Input should be greater than or equal to 1"),
        ([3], "body.lines", "the claim has no line 3"),  # the claim here has no line 3 (nor any line)
    ):
        refused = client.post(f"{appeal_url}/decision", json={**verdict, "lines": lines}, headers=examiner.headers)
        assert (refused.status_code, refused.headers["content-type"]) == (422, "application/problem+json")
        assert [(e["field"], e["message"]) for e in refused.json()["errors"]] == [(field, message)]
    decided = client.post(f"{appeal_url}/decision", json=verdict, headers=examiner.headers)
    assert (decided.status_code, decided.json()["status"], decided.json()["allowedLines"]) == (200, "OVERTURNED", None)
    resolved = [e.payload for e in outbox.events if e.topic == "claims.appeal.resolved"]
    assert [(p["eventType"], p["claimId"]) for p in resolved] == [("APPEAL_OVERTURNED", str(claim_id))]
    decisions = [r for r in audit_rows(platform, action="appeal.decide") if '"outcome"' in (r["detail"] or "")]
    assert [r["resource_id"] for r in decisions] == [appeal["id"]]
