"""Break-glass: a stated reason opens time-limited read access, every use is flagged, compliance
lists the grants, an administrator reviews them (never their own)."""

from __future__ import annotations

import json
from datetime import timedelta

from olly.kernel.clock import FixedClock
from tests.support.identity import audit_rows

REASON = "Member unconscious in the emergency room; need consent and contact records now"


def test_break_glass_opens_flags_expires_and_is_reviewed(client, world, platform, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    billing = world.persona("billing")
    party = world.parties["A"]
    url = f"/members/{party}/consents"
    assert client.get(url, headers=billing.headers).status_code == 403

    too_short = client.post("/break-glass", json={"reason": "urgent", "partyId": str(party)}, headers=billing.headers)
    assert too_short.status_code == 422
    opened = client.post(
        "/break-glass", json={"reason": REASON, "partyId": str(party), "minutes": 15}, headers=billing.headers
    )
    assert opened.status_code == 201
    grant = opened.json()
    assert grant["reviewStatus"] == "pending"

    read = client.get(url, headers={**billing.headers, "X-Request-ID": "break-glass-read-1"})
    assert read.status_code == 200
    [row] = audit_rows(platform, request_id="break-glass-read-1")
    assert (row["outcome"], row["purpose"], row["action"]) == ("allowed", "break_glass", "consent.read")
    assert json.loads(row["detail"])["breakGlassGrant"] == grant["id"]
    assert json.loads(row["detail"])["flagged"] is True
    # The grant names one person: another person's records stay closed, and writes were never opened.
    assert client.get(f"/members/{world.parties['B']}/consents", headers=billing.headers).status_code == 403
    assert client.put(f"{url}/communication", json={"channels": {}}, headers=billing.headers).status_code == 403

    clock.advance(timedelta(minutes=15, seconds=1))
    fresh = {"Authorization": f"Bearer {world.token_for(billing.subject)}"}  # tokens live 10 minutes
    assert client.get(url, headers=fresh).status_code == 403

    auditor, admin = world.persona("compliance_auditor"), world.persona("administrator")
    auditor.token, admin.token = world.token_for(auditor.subject), world.token_for(admin.subject)
    listed = client.get("/break-glass?pendingOnly=true", headers=auditor.headers)
    assert [g["id"] for g in listed.json()] == [grant["id"]]
    assert listed.json()[0]["reason"] == REASON
    # Auditors read everything and change nothing: they cannot review, nor open break-glass.
    review = {"outcome": "appropriate", "note": "ER admission confirmed"}
    assert client.post(f"/break-glass/{grant['id']}/review", json=review, headers=auditor.headers).status_code == 403
    assert client.post("/break-glass", json={"reason": REASON}, headers=auditor.headers).status_code == 403
    reviewed = client.post(f"/break-glass/{grant['id']}/review", json=review, headers=admin.headers)
    assert (reviewed.status_code, reviewed.json()["reviewStatus"]) == (200, "appropriate")
    assert client.get("/break-glass?pendingOnly=true", headers=auditor.headers).json() == []
    assert client.post(f"/break-glass/{grant['id']}/review", json=review, headers=admin.headers).status_code == 409


def test_nobody_reviews_their_own_break_glass(client, world) -> None:  # type: ignore[no-untyped-def]
    admin = world.persona("administrator")
    opened = client.post("/break-glass", json={"reason": REASON}, headers=admin.headers).json()
    response = client.post(
        f"/break-glass/{opened['id']}/review", json={"outcome": "appropriate"}, headers=admin.headers
    )
    assert response.status_code == 422
