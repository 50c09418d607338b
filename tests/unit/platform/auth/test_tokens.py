"""Bearer tokens: every forgery and misuse is refused; a genuine token's claims come back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from olly.platform.auth.errors import InvalidToken
from olly.platform.auth.tokens import ALGORITHM, TokenKeyRing, TokenService

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
TENANT = uuid.UUID("00000000-0000-7000-8000-000000000001")
SUBJECT = "account:0190a5d2-0000-7000-8000-000000000042"


@pytest.fixture
def service() -> TokenService:
    return TokenService(TokenKeyRing.generate(), "olly", "olly-api", 600)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict, str]:  # type: ignore[type-arg]
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def _assemble(header: dict, payload: dict, signature: str = "") -> str:  # type: ignore[type-arg]
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}.{signature}"


def _refused(service: TokenService, token: str, at: datetime = NOW) -> None:
    with pytest.raises(InvalidToken):
        service.verify(token, at)


def test_a_genuine_token_verifies_with_its_claims(service: TokenService) -> None:
    token, issued = service.issue(SUBJECT, TENANT, NOW)
    claims = service.verify(token, NOW + timedelta(minutes=9))
    assert (claims.subject, claims.tenant_id, claims.token_id) == (SUBJECT, TENANT, issued.token_id)
    assert claims.expires_at == NOW + timedelta(minutes=10)
    header, payload, _ = _parts(token)
    assert header == {"alg": "EdDSA", "kid": service.keys.active, "typ": "at+jwt"}
    assert (payload["iss"], payload["aud"]) == ("olly", "olly-api")


def test_alg_none_is_refused(service: TokenService) -> None:
    token, _ = service.issue(SUBJECT, TENANT, NOW)
    header, payload, _ = _parts(token)
    for alg in ("none", "None", "NONE"):
        _refused(service, _assemble({**header, "alg": alg}, payload))


def test_hmac_signed_with_the_public_key_is_refused(service: TokenService) -> None:
    """Algorithm confusion: an attacker signs HS256 with the published public key as the secret."""
    token, _ = service.issue(SUBJECT, TENANT, NOW)
    header, payload, _ = _parts(token)
    kid = service.keys.active
    public = service.keys.public_key(kid)
    assert public is not None
    for encoding in (serialization.Encoding.PEM, serialization.Encoding.Raw):
        fmt = (
            serialization.PublicFormat.SubjectPublicKeyInfo
            if encoding is serialization.Encoding.PEM
            else serialization.PublicFormat.Raw
        )
        secret = public.public_bytes(encoding, fmt)
        forged_header = {**header, "alg": "HS256"}
        signing_input = f"{_b64(json.dumps(forged_header).encode())}.{_b64(json.dumps(payload).encode())}"
        signature = _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
        _refused(service, f"{signing_input}.{signature}")


def test_rs256_and_es256_tokens_from_an_attacker_key_are_refused(service: TokenService) -> None:
    payload = {
        "iss": "olly",
        "aud": "olly-api",
        "sub": SUBJECT,
        "tid": str(TENANT),
        "jti": "x",
        "iat": int(NOW.timestamp()),
        "nbf": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 600,
    }
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    headers = {"kid": service.keys.active, "typ": "at+jwt"}
    _refused(service, jwt.encode(payload, rsa_key, algorithm="RS256", headers=headers))
    _refused(service, jwt.encode(payload, ec_key, algorithm="ES256", headers=headers))
    # Right algorithm, wrong key: an Ed25519 key Olly never issued, claiming Olly's key id.
    _refused(service, jwt.encode(payload, Ed25519PrivateKey.generate(), algorithm=ALGORITHM, headers=headers))


def test_wrong_audience_and_wrong_issuer_are_refused(service: TokenService) -> None:
    other_audience = TokenService(service.keys, "olly", "another-api", 600)
    other_issuer = TokenService(service.keys, "someone-else", "olly-api", 600)
    _refused(service, other_audience.issue(SUBJECT, TENANT, NOW)[0])
    _refused(service, other_issuer.issue(SUBJECT, TENANT, NOW)[0])


def test_expired_and_not_yet_valid_tokens_are_refused(service: TokenService) -> None:
    token, _ = service.issue(SUBJECT, TENANT, NOW)
    service.verify(token, NOW + timedelta(minutes=10, seconds=29))  # within the 30 s leeway
    _refused(service, token, NOW + timedelta(minutes=10, seconds=30))
    _refused(service, token, NOW - timedelta(minutes=1))


def test_tampered_payload_or_signature_is_refused(service: TokenService) -> None:
    token, _ = service.issue(SUBJECT, TENANT, NOW)
    header, payload, signature = _parts(token)
    _refused(service, _assemble(header, {**payload, "sub": "account:someone-else"}, signature))
    _refused(service, _assemble(header, {**payload, "exp": payload["exp"] + 86400}, signature))
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    _refused(service, _assemble(header, payload, flipped))
    _refused(service, token + "x")
    _refused(service, "not.a.token")
    _refused(service, "")


def test_headers_must_name_a_known_key_and_the_access_token_type(service: TokenService) -> None:
    kid, private = service.keys.signing_key()
    payload = _parts(service.issue(SUBJECT, TENANT, NOW)[0])[1]
    _refused(service, jwt.encode(payload, private, algorithm=ALGORITHM, headers={"kid": "unknown", "typ": "at+jwt"}))
    _refused(service, jwt.encode(payload, private, algorithm=ALGORITHM, headers={"kid": kid, "typ": "JWT"}))
    _refused(service, jwt.encode(payload, private, algorithm=ALGORITHM, headers={"typ": "at+jwt"}))


def test_required_claims_and_lifetime(service: TokenService) -> None:
    kid, private = service.keys.signing_key()
    headers = {"kid": kid, "typ": "at+jwt"}
    payload = _parts(service.issue(SUBJECT, TENANT, NOW)[0])[1]
    for claim in ("iss", "aud", "sub", "exp", "iat", "nbf", "jti", "tid"):
        _refused(
            service,
            jwt.encode({k: v for k, v in payload.items() if k != claim}, private, algorithm=ALGORITHM, headers=headers),
        )
    # A signed token living longer than Olly ever issues (stolen key material aside) is refused.
    _refused(
        service, jwt.encode({**payload, "exp": payload["exp"] + 3600}, private, algorithm=ALGORITHM, headers=headers)
    )


def test_rotated_keys_keep_verifying_old_tokens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ring = TokenKeyRing.generate(tmp_path / "token-signing.json")
    ring.save()
    service = TokenService(ring, "olly", "olly-api", 600)
    old, _ = service.issue(SUBJECT, TENANT, NOW)
    ring.rotate()
    reloaded = TokenService(TokenKeyRing.load(tmp_path / "token-signing.json"), "olly", "olly-api", 600)
    assert reloaded.verify(old, NOW).subject == SUBJECT
    assert _parts(reloaded.issue(SUBJECT, TENANT, NOW)[0])[0]["kid"] == ring.active != _parts(old)[0]["kid"]
    assert (tmp_path / "token-signing.json").stat().st_mode & 0o777 == 0o600
    assert {k["kid"] for k in reloaded.keys.jwks()["keys"]} == {_parts(old)[0]["kid"], ring.active}


def test_a_verified_token_is_remembered_but_its_times_and_key_are_checked_at_every_use(
    service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = service.issue(SUBJECT, TENANT, NOW)
    assert service.verify(token, NOW).subject == SUBJECT
    signature_checks: list[str] = []
    monkeypatch.setattr(service, "_verify_signed", lambda t: signature_checks.append(t))  # would break a re-check
    assert service.verify(token, NOW + timedelta(minutes=5)).subject == SUBJECT
    assert signature_checks == []  # the remembered verification answered
    _refused(service, token, NOW + timedelta(minutes=10, seconds=30))  # expired, remembered or not
    _refused(service, token, NOW - timedelta(minutes=1))  # not yet valid
    service.keys._keys.pop(service.keys.active)  # the signing key is withdrawn
    _refused(service, token, NOW + timedelta(minutes=1))
    assert signature_checks == []
