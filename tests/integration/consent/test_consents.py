"""Consent records through the API: supersede on change, revoke, guardians and confidentiality."""

from __future__ import annotations

from tests.support.identity import audit_rows


def test_communication_preferences_supersede_and_publish(client, world, platform, outbox) -> None:  # type: ignore[no-untyped-def]
    member = world.persona("member_a")
    party = world.parties["A"]
    url = f"/members/{party}/consents/communication"
    first = client.put(
        url, json={"channels": {"email": True, "sms": True}, "topics": {"claims": True}}, headers=member.headers
    )
    second = client.put(url, json={"channels": {"post": True}}, headers=member.headers)
    assert (first.status_code, second.status_code) == (200, 200)
    current = client.get("/me/consents", headers=member.headers).json()
    assert [(c["kind"], c["preferences"]) for c in current] == [
        ("communication", {"channels": {"post": True}, "topics": {}})
    ]
    assert client.get(f"/consents/{first.json()['id']}", headers=member.headers).json()["status"] == "superseded"
    unknown = client.put(url, json={"channels": {"carrier_pigeon": True}}, headers=member.headers)
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["channels.carrier_pigeon"]
    assert outbox.topics() == ["consent.consent.recorded", "consent.consent.recorded"]
    # Every read and write of consent (PHI) is in the audit trail with its purpose.
    writes = [r for r in audit_rows(platform, action="consent.write") if r["outcome"] == "allowed"]
    assert {r["purpose"] for r in writes} == {"individual_access"}
    assert len(writes) == 3


def test_a_guardian_sees_a_minor_s_consents_but_not_the_confidential_ones(client, world) -> None:  # type: ignore[no-untyped-def]
    child, adult = world.parties["C"], world.parties["D"]
    parent = world.persona("member_a")
    staff = world.persona("enrollment_specialist")
    assert (
        client.put(
            f"/members/{child}/consents/communication", json={"channels": {"email": True}}, headers=parent.headers
        ).status_code
        == 200
    )
    hidden = client.put(
        f"/members/{child}/consents/confidential-communication", json={"address": "9 Other Road"}, headers=staff.headers
    )
    assert hidden.status_code == 200
    seen = client.get(f"/members/{child}/consents", headers=parent.headers).json()
    assert [c["kind"] for c in seen] == ["communication"]
    assert "9 Other Road" not in client.get(f"/members/{child}/consents", headers=parent.headers).text
    assert client.get(f"/consents/{hidden.json()['id']}", headers=parent.headers).status_code == 404
    # Staff see everything; the adult dependent's records are closed to the subscriber altogether.
    assert {c["kind"] for c in client.get(f"/members/{child}/consents", headers=staff.headers).json()} == {
        "communication",
        "confidential_communication",
    }
    assert client.get(f"/members/{adult}/consents", headers=parent.headers).status_code == 404
    assert (
        client.put(
            f"/members/{adult}/consents/communication", json={"channels": {}}, headers=parent.headers
        ).status_code
        == 404
    )


def test_app_sharing_is_granted_and_revoked(client, world, outbox) -> None:  # type: ignore[no-untyped-def]
    member = world.persona("member_b")
    party = world.parties["B"]
    granted = client.post(
        f"/members/{party}/consents/app-sharing",
        json={"appClientId": "pocket", "appName": "Pocket", "scopes": ["patient/Coverage.read"]},
        headers=member.headers,
    )
    assert granted.status_code == 201
    revoked = client.post(f"/consents/{granted.json()['id']}/revoke", headers=member.headers)
    assert (revoked.status_code, revoked.json()["status"]) == (200, "revoked")
    assert client.post(f"/consents/{granted.json()['id']}/revoke", headers=member.headers).status_code == 409
    assert client.get("/me/consents", headers=member.headers).json() == []
    assert outbox.topics() == ["consent.consent.recorded", "consent.consent.revoked"]
    # An employer administrator manages enrollment, not a person's consents.
    employer = world.persona("employer_2")
    assert client.get(f"/members/{party}/consents", headers=employer.headers).status_code == 403
