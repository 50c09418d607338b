"""Portal sessions: idle and absolute timeouts, sign-out, CSRF on cookie-authenticated writes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from olly.consent.models import ConsentRecord
from olly.kernel.clock import FixedClock
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.runtime import Platform
from tests.support.identity import STRONG_PASSWORD, audit_rows, create_account, register_person


def _signed_in_member(client: TestClient, control, tenant_id) -> tuple[uuid.UUID, str]:  # type: ignore[no-untyped-def]
    party = register_person(control.db, tenant_id, "Mina", "Member", date(1991, 2, 3))
    create_account(
        control, tenant_id, NewAccount(AccountKind.MEMBER, "m@example.org", password=STRONG_PASSWORD, party_id=party)
    )
    response = client.post("/auth/login", json={"email": "m@example.org", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    return party, response.json()["csrfToken"]


def _consents(platform: Platform, tenant_id) -> list[ConsentRecord]:  # type: ignore[no-untyped-def]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return list(uow.session.scalars(select(ConsentRecord)))


def test_csrf_token_is_required_for_cookie_authenticated_writes(client, control, platform, tenant_id) -> None:  # type: ignore[no-untyped-def]
    party, csrf = _signed_in_member(client, control, tenant_id)
    url = f"/members/{party}/consents/communication"
    body = {"channels": {"email": True, "sms": False}}

    missing = client.put(url, json=body)
    forged = client.put(url, json=body, headers={"X-CSRF-Token": "guessed-by-an-attacker"})
    assert (missing.status_code, missing.json()["code"]) == (403, "csrf_rejected")
    assert (forged.status_code, forged.json()["code"]) == (403, "csrf_rejected")
    assert _consents(platform, tenant_id) == []  # nothing changed
    for response in (missing, forged):
        rows = audit_rows(platform, request_id=response.headers["x-request-id"])
        assert [(r["action"], r["outcome"]) for r in rows] == [("consent.write", "denied")]
        assert '"reason":"csrf"' in rows[0]["detail"]

    # Reads need no token; the right token lets the write through.
    assert client.get("/me").status_code == 200
    accepted = client.put(url, json=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 200
    assert len(_consents(platform, tenant_id)) == 1


def test_bearer_requests_need_no_csrf_token(client, control, platform, tenant_id) -> None:  # type: ignore[no-untyped-def]
    party, csrf = _signed_in_member(client, control, tenant_id)
    token = client.post("/auth/token", headers={"X-CSRF-Token": csrf}).json()["access_token"]
    bare = TestClient(client.app, base_url="https://testserver")
    response = bare.put(
        f"/members/{party}/consents/communication",
        json={"channels": {"post": True}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200


def test_idle_timeout_is_15_minutes_for_staff_and_30_for_members(client, control, clock: FixedClock, tenant_id) -> None:  # type: ignore[no-untyped-def]
    _signed_in_member(client, control, tenant_id)
    clock.advance(timedelta(minutes=29))
    assert client.get("/me").status_code == 200  # activity slides the idle deadline
    clock.advance(timedelta(minutes=29))
    assert client.get("/me").status_code == 200
    clock.advance(timedelta(minutes=30, seconds=1))
    expired = client.get("/me")
    assert (expired.status_code, expired.json()["code"]) == (401, "session_expired")

    staff = control.sessions.idle_timeout(AccountKind.STAFF)
    member = control.sessions.idle_timeout(AccountKind.MEMBER)
    assert (staff, member) == (timedelta(minutes=15), timedelta(minutes=30))


def test_absolute_timeout_ends_a_busy_session_after_12_hours(client, control, clock: FixedClock, tenant_id) -> None:  # type: ignore[no-untyped-def]
    _signed_in_member(client, control, tenant_id)
    for _ in range(47):  # every 15 minutes for 11 h 45 min
        clock.advance(timedelta(minutes=15))
        assert client.get("/me").status_code == 200
    clock.advance(timedelta(minutes=15))
    assert client.get("/me").status_code == 401


def test_logout_ends_the_session_and_clears_cookies(client, control, platform, tenant_id) -> None:  # type: ignore[no-untyped-def]
    _, csrf = _signed_in_member(client, control, tenant_id)
    old_cookie = client.cookies.get("__Host-olly_session")
    response = client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert any(
        c.startswith("__Host-olly_session=") and "Max-Age=0" in c for c in response.headers.get_list("set-cookie")
    )
    replay = TestClient(client.app, base_url="https://testserver")
    replay.cookies.set("__Host-olly_session", old_cookie)
    assert replay.get("/me").status_code == 401
