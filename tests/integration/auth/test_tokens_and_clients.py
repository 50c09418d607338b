"""Bearer tokens at the API: revocation within the cache window, session-bound tokens, and the
OAuth2 client-credentials grant for trading partners."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from olly.kernel.clock import FixedClock
from olly.platform.auth.models import Account
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.db import table_of
from tests.support.identity import STRONG_PASSWORD, audit_rows, create_account


def test_a_disabled_account_s_tokens_stop_within_the_revocation_window(
    client, control, platform, clock: FixedClock, tenant_id
) -> None:  # type: ignore[no-untyped-def]
    account_id = create_account(
        control, tenant_id, NewAccount(AccountKind.MEMBER, "t@example.org", party_id=uuid.uuid4())
    )
    token, _ = control.tokens.issue(f"account:{account_id}", tenant_id, clock.now())
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/me", headers=bearer).status_code == 200
    # Another process disables the account: this process learns it when its cache entry expires.
    accounts = table_of(Account)
    with platform.db.connect() as connection:
        connection.execute(update(accounts).where(accounts.c.id == account_id).values(status="disabled"))
    clock.advance(timedelta(seconds=control.settings.revocation_cache_seconds - 1))
    assert client.get("/me", headers=bearer).status_code == 200
    clock.advance(timedelta(seconds=2))
    refused = client.get("/me", headers=bearer)
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_token")
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert control.settings.revocation_cache_seconds <= 60


def test_disabling_through_the_api_stops_tokens_at_once_in_this_process(
    client, control, world, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    member = world.persona("member_b")
    admin = world.persona("administrator")
    assert client.get("/me", headers=member.headers).status_code == 200
    response = client.post(f"/admin/accounts/{member.account_id}/disable", headers=admin.headers)
    assert (response.status_code, response.json()["status"]) == (200, "disabled")
    assert client.get("/me", headers=member.headers).status_code == 401
    # Re-enabled, the account needs a new token: the old one was issued before the cut-off.
    assert client.post(f"/admin/accounts/{member.account_id}/enable", headers=admin.headers).status_code == 200
    assert client.get("/me", headers=member.headers).status_code == 401
    clock.advance(timedelta(seconds=2))
    fresh = world.token_for(member.subject)
    assert client.get("/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_a_token_from_a_session_dies_with_the_session(client, control, clock: FixedClock, tenant_id) -> None:  # type: ignore[no-untyped-def]
    create_account(
        control,
        tenant_id,
        NewAccount(AccountKind.MEMBER, "s@example.org", password=STRONG_PASSWORD, party_id=uuid.uuid4()),
    )
    csrf = client.post("/auth/login", json={"email": "s@example.org", "password": STRONG_PASSWORD}).json()["csrfToken"]
    minted = client.post("/auth/token", headers={"X-CSRF-Token": csrf})
    assert minted.status_code == 200
    assert minted.json()["expires_in"] == 600
    bearer = {"Authorization": f"Bearer {minted.json()['access_token']}"}
    api = TestClient(client.app, base_url="https://testserver")
    assert api.get("/me", headers=bearer).json()["authMethod"] == "bearer"
    # A bearer token cannot mint another one: the exchange belongs to a portal session.
    assert api.post("/auth/token", headers=bearer).status_code == 403
    assert client.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    clock.advance(timedelta(seconds=control.settings.revocation_cache_seconds + 1))
    assert api.get("/me", headers=bearer).status_code == 401


def test_client_credentials_grant(client, control, world, platform, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    admin = world.persona("administrator")
    created = client.post(
        "/admin/api-clients", json={"name": "Acme Clearinghouse", "providerIds": ["1234567893"]}, headers=admin.headers
    )
    assert created.status_code == 201
    client_id, secret = created.json()["clientId"], created.json()["clientSecret"]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    granted = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert granted.status_code == 200
    assert granted.headers["cache-control"] == "no-store"
    body = granted.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 600)
    as_form = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert as_form.status_code == 200

    token = {"Authorization": f"Bearer {body['access_token']}"}
    # A trading partner is no member: /me has no account for it, and member data is refused.
    assert client.get("/me", headers=token).status_code in (403, 404)
    assert client.get(f"/members/{world.parties['A']}/consents", headers=token).status_code == 403

    wrong = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "guess"}
    )
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert wrong.headers["www-authenticate"] == "Basic"
    unsupported = client.post(
        "/oauth/token", data={"grant_type": "password"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert (unsupported.status_code, unsupported.json()["error"]) == (400, "unsupported_grant_type")
    # Sorted: the fixed clock gives every record the same time, and they are spread over parallel chains.
    assert sorted(r["outcome"] for r in audit_rows(platform, action="auth.client_credentials")) == [
        "allowed",
        "allowed",
        "denied",
    ]

    # Disabling the client refuses its tokens and its credentials.
    assert client.post(f"/admin/api-clients/{client_id}/disable", headers=admin.headers).status_code == 200
    assert client.get(f"/members/{world.parties['A']}/consents", headers=token).status_code == 401
    again = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert again.status_code == 401
