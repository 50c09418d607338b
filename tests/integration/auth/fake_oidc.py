"""A tiny in-process OpenID Connect provider for tests (an httpx transport).

It serves discovery, JWKS and the token endpoint the way Keycloak does, checks client
authentication, redirect URI, single-use codes and the PKCE verifier, and signs RS256 ID tokens.
``authorize`` plays the browser's visit to the login page. ``defects`` makes it misbehave on
purpose (wrong nonce, foreign key, ``alg: none``, wrong audience, expired token).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from olly.kernel.clock import Clock

ISSUER = "https://idp.example.test/realms/olly"
CLIENT_ID = "olly-portal"
CLIENT_SECRET = "idp-client-secret"
REDIRECT_URI = "https://olly.example.test/auth/oidc/callback"


@dataclass
class Grant:
    redirect_uri: str
    challenge: str
    nonce: str
    claims: dict[str, Any]


@dataclass
class FakeIssuer:
    clock: Clock
    key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    kid: str = "fake-key-1"
    grants: dict[str, Grant] = field(default_factory=dict)
    defects: set[str] = field(default_factory=set)
    token_requests: int = 0

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def authorize(self, url: str, subject: str, roles: list[str], *, amr: list[str] | None = None) -> str:
        """The person signs in at the provider; returns where the provider sends the browser back."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/protocol/openid-connect/auth"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["response_type"] == "code"
        assert query["client_id"] == CLIENT_ID
        assert query["code_challenge_method"] == "S256"
        assert "openid" in query["scope"].split()
        code = secrets.token_urlsafe(16)
        claims: dict[str, Any] = {
            "sub": subject,
            "email": f"{subject}@plan.example.org",
            "email_verified": True,
            "name": "Sam Staff",
            "realm_access": {"roles": roles},
        }
        if amr is not None:
            claims["amr"] = amr
        self.grants[code] = Grant(query["redirect_uri"], query["code_challenge"], query["nonce"], claims)
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/realms/olly/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/protocol/openid-connect/auth",
                    "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
                    "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                },
            )
        if path == "/realms/olly/protocol/openid-connect/certs":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return httpx.Response(200, json={"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]})
        if path == "/realms/olly/protocol/openid-connect/token" and request.method == "POST":
            return self._token(request)
        return httpx.Response(404)

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        grant = self.grants.pop(form.get("code", ""), None)  # single use
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant.redirect_uri
        ):
            return httpx.Response(400, json={"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant.challenge:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "PKCE verification failed"})
        return httpx.Response(
            200, json={"access_token": "at", "token_type": "Bearer", "id_token": self.id_token(grant)}
        )

    def id_token(self, grant: Grant) -> str:
        now = int(self.clock.now().timestamp())
        claims = {
            **grant.claims,
            "iss": ISSUER,
            "aud": "someone-else" if "audience" in self.defects else CLIENT_ID,
            "iat": now - (7200 if "expired" in self.defects else 0),
            "exp": now + (-3600 if "expired" in self.defects else 300),
            "nonce": "not-the-nonce" if "nonce" in self.defects else grant.nonce,
        }
        if "alg_none" in self.defects:
            header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": self.kid}).encode()).rstrip(b"=")
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
            return f"{header.decode()}.{body.decode()}."
        key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if "foreign_key" in self.defects
            else self.key
        )
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})
