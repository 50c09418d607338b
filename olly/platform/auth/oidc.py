"""Staff sign-in through an external OpenID Connect provider (Keycloak in production).

Authorization-code flow with PKCE (S256), ``state`` bound to the browser that started it, and a
``nonce`` bound into the ID token. The ID token is verified with the provider's published keys,
with asymmetric algorithms only (never ``none`` or HMAC), for this issuer and this client, within
its lifetime by the injected clock. Configuration comes from ``OLLY_OIDC_*`` settings and the
provider's discovery document.
"""

from __future__ import annotations

import hmac
import json
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from olly.config import Settings
from olly.kernel.clock import Clock
from olly.kernel.errors import ConfigurationError, TransientError
from olly.platform.auth.errors import InvalidCredentials
from olly.platform.auth.roles import Role, parse_staff_roles

ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
)
MFA_AMR_VALUES: Final = frozenset({"mfa", "otp", "hwk", "swk", "fpt", "face", "iris"})
METADATA_TTL: Final = timedelta(hours=1)
LEEWAY_SECONDS: Final = 60


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    issuer: str
    subject: str
    email: str | None
    name: str | None
    roles: frozenset[Role]
    mfa: bool


class OidcClient:
    def __init__(self, settings: Settings, clock: Clock, transport: httpx.BaseTransport | None = None) -> None:
        if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_redirect_uri):
            raise ConfigurationError("OIDC needs OLLY_OIDC_ISSUER, OLLY_OIDC_CLIENT_ID and OLLY_OIDC_REDIRECT_URI")
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
        self.redirect_uri = settings.oidc_redirect_uri
        self.scopes = settings.oidc_scopes
        self.roles_claim = settings.oidc_roles_claim
        self.mfa_acr = frozenset(v.strip() for v in settings.oidc_mfa_acr_values.split(",") if v.strip())
        self.clock = clock
        self.transport = transport
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._jwks: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _client(self) -> httpx.Client:
        return httpx.Client(transport=self.transport, timeout=10.0, follow_redirects=False)

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            with self._client() as client:
                response = client.get(url)
        except httpx.HTTPError:
            raise TransientError("the identity provider is not reachable") from None
        if response.status_code != 200:
            raise TransientError("the identity provider did not answer as expected")
        try:
            data = response.json()
        except json.JSONDecodeError:
            raise TransientError("the identity provider sent an unreadable answer") from None
        if not isinstance(data, dict):
            raise TransientError("the identity provider sent an unreadable answer")
        return data

    def metadata(self) -> dict[str, Any]:
        now = self.clock.now().timestamp()
        with self._lock:
            cached = self._metadata
        if cached is not None and cached[0] > now:
            return cached[1]
        data = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        if str(data.get("issuer", "")).rstrip("/") != self.issuer:
            raise ConfigurationError("the provider's discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(key), str):
                raise ConfigurationError(f"the provider's discovery document lacks {key}")
        with self._lock:
            self._metadata = (now + METADATA_TTL.total_seconds(), data)
        return data

    def _keys(self, refresh: bool = False) -> dict[str, Any]:
        with self._lock:
            cached = self._jwks
        if cached is None or refresh:
            cached = self._get_json(str(self.metadata()["jwks_uri"]))
            with self._lock:
                self._jwks = cached
        return cached

    def begin(self) -> AuthorizationRequest:
        metadata = self.metadata()
        state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
        url = prepare_grant_uri(
            metadata["authorization_endpoint"],
            self.client_id,
            "code",
            redirect_uri=self.redirect_uri,
            scope=self.scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return AuthorizationRequest(url, state, nonce, verifier)

    def complete(self, code: str, code_verifier: str, nonce: str) -> OidcIdentity:
        metadata = self.metadata()
        try:
            with self._client() as client:
                response = client.post(
                    metadata["token_endpoint"],
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": self.redirect_uri,
                        "code_verifier": code_verifier,
                    },
                    auth=(self.client_id, self.client_secret),
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError:
            raise TransientError("the identity provider is not reachable") from None
        if response.status_code != 200:
            raise InvalidCredentials("the identity provider refused the sign-in")
        try:
            tokens = response.json()
        except json.JSONDecodeError:
            raise InvalidCredentials("the identity provider refused the sign-in") from None
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise InvalidCredentials("the identity provider sent no ID token")
        claims = self.verify_id_token(id_token, nonce)
        return self._identity(claims)

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        refused = InvalidCredentials("the ID token is not valid")
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise refused from None
        algorithm = header.get("alg")
        supported = set(self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"])
        if algorithm not in ASYMMETRIC_ALGORITHMS or algorithm not in supported:
            raise refused
        key = self._key_for(header.get("kid"))
        if key is None:
            raise refused
        try:
            payload = jwt.decode(
                id_token,
                key,
                algorithms=[algorithm],
                audience=self.client_id,
                issuer=self.issuer,
                options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_exp": False, "verify_iat": False},
            )
            expires, issued = int(payload["exp"]), int(payload["iat"])
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            raise refused from None
        now = int(self.clock.now().timestamp())
        if now >= expires + LEEWAY_SECONDS or issued > now + LEEWAY_SECONDS:
            raise refused
        # OIDC Core 3.1.3.7: the nonce binds the token to this sign-in; azp names us when aud is a list.
        if not isinstance(payload.get("nonce"), str) or not hmac.compare_digest(payload["nonce"], nonce):
            raise refused
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if len(audiences) > 1 and payload.get("azp") != self.client_id:
            raise refused
        if "azp" in payload and payload["azp"] != self.client_id:
            raise refused
        return dict(payload)

    def _key_for(self, kid: Any) -> Any:
        for refresh in (False, True):
            try:
                keys = jwt.PyJWKSet.from_dict(self._keys(refresh=refresh))
            except jwt.PyJWTError:
                return None
            for key in keys.keys:
                if kid is None or key.key_id == kid:
                    return key.key
        return None

    def _identity(self, claims: dict[str, Any]) -> OidcIdentity:
        roles_value: Any = claims
        for part in self.roles_claim.split("."):
            roles_value = roles_value.get(part) if isinstance(roles_value, dict) else None
        amr = claims.get("amr")
        methods = {str(v) for v in amr} if isinstance(amr, list) else set()
        mfa = bool(MFA_AMR_VALUES & methods) or (claims.get("acr") in self.mfa_acr)
        email = claims.get("email") if claims.get("email_verified", False) is True else None
        return OidcIdentity(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) else None,
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
            roles=parse_staff_roles(roles_value),
            mfa=mfa,
        )
