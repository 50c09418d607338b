"""Sign-in: cookies, session fixation, generic errors, lockout with exponential backoff, rate limits."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from olly.kernel.clock import FixedClock
from olly.platform.auth.access import AccessControl
from olly.platform.auth.models import Account, PortalSession
from olly.platform.auth.plumbing import digest
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from tests.support.identity import STRONG_PASSWORD, audit_rows, create_account

EMAIL = "Pat.Member@example.org"


def _member(control: AccessControl, tenant_id, password: str = STRONG_PASSWORD):  # type: ignore[no-untyped-def]
    import uuid

    return create_account(
        control, tenant_id, NewAccount(AccountKind.MEMBER, EMAIL, password=password, party_id=uuid.uuid4())
    )


def _login(client: TestClient, password: str = STRONG_PASSWORD, email: str = EMAIL):  # type: ignore[no-untyped-def]
    return client.post("/auth/login", json={"email": email, "password": password})


def _sessions(platform: Platform) -> list[dict]:  # type: ignore[type-arg]
    table = table_of(PortalSession)
    with platform.db.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(table))]


def _account(platform: Platform, tenant_id, account_id) -> Account:  # type: ignore[no-untyped-def]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        account = uow.session.get(Account, account_id)
        assert account is not None
        return account


def test_login_sets_httponly_secure_samesite_session_cookie(client, control, platform, tenant_id) -> None:  # type: ignore[no-untyped-def]
    account_id = _member(control, tenant_id)
    response = _login(client, email="  pat.member@EXAMPLE.org ")
    assert response.status_code == 200
    body = response.json()
    assert body["stage"] == "active"
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-olly_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("__Host-olly_csrf="))
    attributes = {a.strip().lower() for a in session_cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= attributes
    assert "httponly" not in csrf_cookie.lower()  # the portal's script reads it to echo the header
    assert body["csrfToken"] in csrf_cookie
    assert response.headers["cache-control"] == "no-store"
    # The session is server side: its id is stored only as a digest.
    token = session_cookie.split(";")[0].split("=", 1)[1]
    rows = _sessions(platform)
    assert [r["token_hash"] for r in rows] == [digest(token)]
    assert rows[0]["account_id"] == account_id
    assert client.get("/me").json()["accountId"] == str(account_id)


def test_session_fixation_a_planted_session_id_never_becomes_authenticated(
    client, control, platform, tenant_id
) -> None:  # type: ignore[no-untyped-def]
    _member(control, tenant_id)
    planted = "attacker-chosen-session-id-000000000000000"
    client.cookies.set("__Host-olly_session", planted, domain="testserver.local")
    client.cookies.clear()
    client.cookies.set("__Host-olly_session", planted)
    assert client.get("/me").status_code == 401
    first = _login(client)
    first_id = first.cookies.get("__Host-olly_session")
    assert first_id not in (None, "", planted)
    # Signing in again while holding a live session replaces it: the old id is dead.
    second = _login(client)
    second_id = second.cookies.get("__Host-olly_session")
    assert second_id not in (first_id, planted)
    stale = TestClient(client.app, base_url="https://testserver")
    stale.cookies.set("__Host-olly_session", first_id)
    assert stale.get("/me").status_code == 401
    revoked = [r for r in _sessions(platform) if r["revoked_at"] is not None]
    assert [r["revoked_reason"] for r in revoked] == ["replaced_at_login"]


def test_wrong_password_and_unknown_email_get_the_same_answer(client, control, platform, tenant_id) -> None:  # type: ignore[no-untyped-def]
    _member(control, tenant_id)
    wrong = _login(client, password="not the right password")
    unknown = _login(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert "set-cookie" not in wrong.headers
    assert _sessions(platform) == []
    denied = [r for r in audit_rows(platform, action="auth.login") if r["outcome"] == "denied"]
    assert len(denied) == 2


def test_lockout_with_exponential_backoff(client, control, platform, clock: FixedClock, tenant_id) -> None:  # type: ignore[no-untyped-def]
    account_id = _member(control, tenant_id)
    for _ in range(5):
        assert _login(client, password="wrong password, try again").status_code == 401
    account = _account(platform, tenant_id, account_id)
    assert account.failed_attempts == 5
    assert account.locked_until == clock.now() + timedelta(seconds=60)
    # Locked: even the right password is refused, with the same answer as a wrong one.
    locked = _login(client)
    assert (locked.status_code, locked.json()["code"]) == (401, "invalid_credentials")
    assert _sessions(platform) == []
    clock.advance(timedelta(seconds=61))
    assert _login(client, password="wrong again").status_code == 401
    account = _account(platform, tenant_id, account_id)
    assert account.failed_attempts == 6
    assert account.locked_until == clock.now() + timedelta(seconds=120)  # doubled
    clock.advance(timedelta(seconds=119))
    assert _login(client).status_code == 401
    clock.advance(timedelta(seconds=2))
    assert _login(client).status_code == 200
    account = _account(platform, tenant_id, account_id)
    assert (account.failed_attempts, account.locked_until) == (0, None)


def test_login_is_rate_limited_per_account(client, control, clock: FixedClock, tenant_id) -> None:  # type: ignore[no-untyped-def]
    _member(control, tenant_id)
    statuses = [_login(client, password=f"wrong {i}").status_code for i in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    limited = _login(client)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"


def test_disabled_account_cannot_sign_in_and_its_sessions_end_at_once(
    client, control, platform, clock, tenant_id
) -> None:  # type: ignore[no-untyped-def]
    from olly.platform.auth.service import AuditContext

    account_id = _member(control, tenant_id)
    assert _login(client).status_code == 200
    assert client.get("/me").status_code == 200
    with control.db.unit_of_work(tenant_id) as uow:
        control.identity.set_status(
            uow, account_id, active=False, by=AuditContext("test", "administrator", None, tenant_id)
        )
    assert client.get("/me").status_code == 401
    assert [r["revoked_reason"] for r in _sessions(platform)] == ["account_disabled"]
    assert _login(client).status_code == 401
