"""Staff sign-in through OpenID Connect (authorization code + PKCE) against a fake provider."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from olly.kernel.clock import FixedClock
from olly.platform.runtime import Platform
from tests.integration.auth.fake_oidc import CLIENT_ID, CLIENT_SECRET, ISSUER, REDIRECT_URI, FakeIssuer
from tests.support.identity import audit_rows, build_app, control_of, https_client


@pytest.fixture
def issuer(clock: FixedClock) -> FakeIssuer:
    return FakeIssuer(clock)


@pytest.fixture
def oidc_client(platform: Platform, issuer: FakeIssuer) -> Iterator[TestClient]:
    platform.settings = platform.settings.model_copy(
        update={
            "oidc_issuer": ISSUER,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr(CLIENT_SECRET),
            "oidc_redirect_uri": REDIRECT_URI,
            "oidc_mfa_acr_values": "",
        }
    )
    app, _ = build_app(platform)
    oidc = control_of(app).oidc
    assert oidc is not None
    oidc.transport = issuer.transport
    with https_client(app) as client:
        yield client


def _start(client: TestClient) -> str:
    response = client.get("/auth/oidc/login", follow_redirects=False)
    assert response.status_code == 302
    return response.headers["location"]


def _callback(client: TestClient, url: str):  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    return client.get(f"/auth/oidc/callback?{parts.query}", follow_redirects=False)


def test_staff_sign_in_with_pkce_nonce_and_roles_from_the_provider(oidc_client, issuer, platform) -> None:  # type: ignore[no-untyped-def]
    location = _start(oidc_client)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43 and query["nonce"] and query["state"]
    back = issuer.authorize(location, "kc-123", ["claims_examiner", "not-an-olly-role"], amr=["pwd", "otp"])
    response = _callback(oidc_client, back)
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    me = oidc_client.get("/me").json()
    assert (me["kind"], me["roles"], me["email"]) == ("staff", ["claims_examiner"], "kc-123@plan.example.org")
    assert [r["outcome"] for r in audit_rows(platform, action="auth.oidc_login")] == ["allowed"]

    # The same code cannot be used twice, nor the same state.
    assert _callback(oidc_client, back).status_code == 401

    # The next sign-in updates the roles to what the provider now says.
    back = issuer.authorize(_start(oidc_client), "kc-123", ["billing"], amr=["otp"])
    assert _callback(oidc_client, back).status_code == 302
    assert oidc_client.get("/me").json()["roles"] == ["billing"]


def test_without_mfa_at_the_provider_olly_asks_for_its_own_second_factor(oidc_client, issuer) -> None:  # type: ignore[no-untyped-def]
    back = issuer.authorize(_start(oidc_client), "kc-456", ["billing"], amr=["pwd"])
    assert _callback(oidc_client, back).status_code == 302
    assert oidc_client.get("/me").json()["code"] == "mfa_enrolment_required"


@pytest.mark.parametrize("defect", ["nonce", "foreign_key", "alg_none", "audience", "expired"])
def test_a_defective_id_token_is_refused(oidc_client, issuer, defect) -> None:  # type: ignore[no-untyped-def]
    issuer.defects.add(defect)
    back = issuer.authorize(_start(oidc_client), "kc-789", ["billing"], amr=["otp"])
    response = _callback(oidc_client, back)
    assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")
    assert "__Host-olly_session" not in response.cookies
    assert oidc_client.get("/me").status_code == 401


def test_state_must_match_and_come_back_to_the_same_browser(oidc_client, issuer) -> None:  # type: ignore[no-untyped-def]
    back = issuer.authorize(_start(oidc_client), "kc-1", ["billing"], amr=["otp"])
    code = parse_qs(urlsplit(back).query)["code"][0]
    forged = oidc_client.get(f"/auth/oidc/callback?code={code}&state=forged-state", follow_redirects=False)
    assert forged.status_code == 401
    # Another browser (without the binding cookie) presenting a genuine code and state is refused.
    other = TestClient(oidc_client.app, base_url="https://testserver")
    assert _callback(other, back).status_code == 401
    assert issuer.token_requests == 0  # refused before the code was ever exchanged


def test_a_code_injected_into_another_login_fails_pkce(oidc_client, issuer) -> None:  # type: ignore[no-untyped-def]
    victim_start = _start(oidc_client)
    attacker_browser = TestClient(oidc_client.app, base_url="https://testserver")
    attacker = issuer.authorize(_start(attacker_browser), "attacker", ["administrator"], amr=["otp"])
    victim_state = parse_qs(urlsplit(victim_start).query)["state"][0]
    attacker_code = parse_qs(urlsplit(attacker).query)["code"][0]
    response = oidc_client.get(f"/auth/oidc/callback?code={attacker_code}&state={victim_state}", follow_redirects=False)
    assert response.status_code == 401  # the provider refuses: the victim's verifier does not match
    assert issuer.token_requests == 1
    assert oidc_client.get("/me").status_code == 401


def test_oidc_routes_answer_404_when_not_configured(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/auth/oidc/login", follow_redirects=False).status_code == 404
