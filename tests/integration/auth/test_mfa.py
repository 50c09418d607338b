"""TOTP: mandatory for staff (enrol before anything else), offered to members, replay refused,
recovery codes single-use; the session id is rotated when the second factor is proven."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from olly.kernel.clock import FixedClock
from olly.kernel.errors import ValidationFailed
from olly.platform.auth import totp
from olly.platform.auth.roles import AccountKind, Role
from olly.platform.auth.service import NewAccount
from tests.support.identity import create_account

STAFF_PASSWORD = "a long staff passphrase for olly"


def _login(client: TestClient) -> dict:  # type: ignore[type-arg]
    response = client.post("/auth/login", json={"email": "examiner@plan.example.org", "password": STAFF_PASSWORD})
    assert response.status_code == 200
    return response.json()


def test_staff_passwords_need_15_characters(control, tenant_id) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        create_account(
            control,
            tenant_id,
            NewAccount(
                AccountKind.STAFF, "x@plan.example.org", password="twelve chars", roles=frozenset({Role.BILLING})
            ),
        )
    assert [e.code for e in refused.value.errors] == ["too_short"]


def test_staff_enrol_then_verify_with_totp_and_recovery_codes(client, control, clock: FixedClock, tenant_id) -> None:  # type: ignore[no-untyped-def]
    create_account(
        control,
        tenant_id,
        NewAccount(
            AccountKind.STAFF,
            "examiner@plan.example.org",
            password=STAFF_PASSWORD,
            roles=frozenset({Role.CLAIMS_EXAMINER}),
        ),
    )
    first = _login(client)
    assert first["stage"] == "mfa_enrolment_required"
    blocked = client.get("/me")
    assert (blocked.status_code, blocked.json()["code"]) == (401, "mfa_enrolment_required")

    csrf = {"X-CSRF-Token": first["csrfToken"]}
    secret = client.post("/auth/mfa/totp/enrol", headers=csrf).json()["secret"]
    assert client.post("/auth/mfa/totp/confirm", json={"code": "000000"}, headers=csrf).status_code == 422
    before = client.cookies.get("__Host-olly_session")
    confirmed = client.post("/auth/mfa/totp/confirm", json={"code": totp.code_at(secret, clock.now())}, headers=csrf)
    assert confirmed.status_code == 200
    codes = confirmed.json()["recoveryCodes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert confirmed.json()["stage"] == "active"
    assert client.cookies.get("__Host-olly_session") != before  # a new id for the elevated session
    assert client.get("/me").json()["mfaEnabled"] is True

    # Next sign-in: the password alone is not enough.
    client.post("/auth/logout", headers={"X-CSRF-Token": confirmed.json()["csrfToken"]})
    second = _login(client)
    assert second["stage"] == "mfa_required"
    assert client.get("/me").json()["code"] == "mfa_required"
    csrf = {"X-CSRF-Token": second["csrfToken"]}
    replayed = client.post("/auth/mfa/verify", json={"code": totp.code_at(secret, clock.now())}, headers=csrf)
    assert replayed.status_code == 401  # the code used at enrolment cannot be used again
    clock.advance(timedelta(seconds=30))
    verified = client.post("/auth/mfa/verify", json={"code": totp.code_at(secret, clock.now())}, headers=csrf)
    assert (verified.status_code, verified.json()["stage"]) == (200, "active")
    assert client.get("/me").status_code == 200

    # A recovery code works once.
    client.post("/auth/logout", headers={"X-CSRF-Token": verified.json()["csrfToken"]})
    third = _login(client)
    csrf = {"X-CSRF-Token": third["csrfToken"]}
    assert client.post("/auth/mfa/verify", json={"recoveryCode": codes[0].lower()}, headers=csrf).status_code == 200
    client.post("/auth/logout", headers={"X-CSRF-Token": client.cookies.get("__Host-olly_csrf")})
    fourth = _login(client)
    reused = client.post(
        "/auth/mfa/verify", json={"recoveryCode": codes[0]}, headers={"X-CSRF-Token": fourth["csrfToken"]}
    )
    assert reused.status_code == 401


def test_members_may_sign_in_without_a_second_factor(client, control, tenant_id) -> None:  # type: ignore[no-untyped-def]
    import uuid

    create_account(
        control,
        tenant_id,
        NewAccount(AccountKind.MEMBER, "m@example.org", password="a fine member password", party_id=uuid.uuid4()),
    )
    response = client.post("/auth/login", json={"email": "m@example.org", "password": "a fine member password"})
    assert response.json()["stage"] == "active"
    assert client.get("/me").json()["mfaEnabled"] is False


def test_replacing_an_enrolled_authenticator_needs_a_fresh_sign_in(  # type: ignore[no-untyped-def]
    client, control, clock: FixedClock, tenant_id
) -> None:
    """Removing the authenticator or replacing the recovery codes asks for a recent sign-in; setting up
    a new one over it (which replaces both) must too, or a stolen session or token keeps the account."""
    create_account(
        control,
        tenant_id,
        NewAccount(
            AccountKind.STAFF, "examiner@plan.example.org", password=STAFF_PASSWORD, roles=frozenset({Role.BILLING})
        ),
    )
    csrf = {"X-CSRF-Token": _login(client)["csrfToken"]}
    secret = client.post("/auth/mfa/totp/enrol", headers=csrf).json()["secret"]
    confirmed = client.post("/auth/mfa/totp/confirm", json={"code": totp.code_at(secret, clock.now())}, headers=csrf)
    csrf = {"X-CSRF-Token": confirmed.json()["csrfToken"]}
    token = client.post("/auth/token", headers=csrf).json()["access_token"]
    clock.advance(timedelta(minutes=6))

    for headers in (csrf, {"Authorization": f"Bearer {token}"}):
        refused = client.post("/auth/mfa/totp/enrol", headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (401, "reauthentication_required")
        assert "secret" not in refused.json()
    assert client.post("/auth/mfa/totp/confirm", json={"code": "123456"}, headers=csrf).status_code == 401

    clock.advance(timedelta(seconds=30))
    again = client.post(
        "/auth/reauthenticate",
        json={"password": STAFF_PASSWORD, "code": totp.code_at(secret, clock.now())},
        headers=csrf,
    )
    assert again.status_code == 204
    replaced = client.post("/auth/mfa/totp/enrol", headers=csrf).json()["secret"]
    assert (
        client.post(
            "/auth/mfa/totp/confirm", json={"code": totp.code_at(replaced, clock.now())}, headers=csrf
        ).status_code
        == 200
    )
