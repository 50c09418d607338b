"""Short-lived signed bearer tokens (JWT, RFC 9068 profile).

* Signed with Ed25519 (``EdDSA``); verification accepts that algorithm only, so ``alg: none``, an
  HMAC token keyed with the public key (algorithm confusion) or any other algorithm is refused
  before a signature is looked at. The header must name a known key id and ``typ: at+jwt``.
* ``iss``, ``aud``, ``sub``, ``exp``, ``iat``, ``nbf`` and ``jti`` are required; time is checked
  against the injected clock (30 s leeway), never the wall clock.
* Keys: ``OLLY_TOKEN_SIGNING_KEY`` (PEM) or ``data_dir/keys/token-signing.json`` (mode 0600),
  created on first use. Older keys in the file still verify until their tokens have expired.
* A token names an account or API client; whether that is still active is checked on every use
  (``AccountStates``, cached at most ``OLLY_REVOCATION_CACHE_SECONDS``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from olly.config import Settings
from olly.kernel.errors import ConfigurationError
from olly.kernel.ids import uuid7
from olly.platform.auth.errors import InvalidToken

ALGORITHM: Final = "EdDSA"
TOKEN_TYPE: Final = "at+jwt"  # noqa: S105 - the JWT typ header (RFC 9068), not a secret
LEEWAY: Final = timedelta(seconds=30)
VERIFIED_TOKENS_KEPT: Final = 10_000


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "olly-" + hashlib.sha256(raw).hexdigest()[:16]


def _pem(private: Ed25519PrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _load_private(pem: str, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigurationError(f"{where} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{where} must be an Ed25519 key")
    return key


class TokenKeyRing:
    def __init__(self, keys: dict[str, Ed25519PrivateKey], active: str, path: Path | None = None) -> None:
        if active not in keys:
            raise ConfigurationError("the active token signing key is not in the key ring")
        self._keys = dict(keys)
        self.active = active
        self.path = path

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenKeyRing:
        if settings.token_signing_key is not None:
            private = _load_private(settings.token_signing_key.get_secret_value(), "OLLY_TOKEN_SIGNING_KEY")
            kid = key_id(private.public_key())
            return cls({kid: private}, kid)
        path = settings.keys_dir / "token-signing.json"
        if not path.exists():
            ring = cls.generate(path)
            ring.save()
            return ring
        return cls.load(path)

    @classmethod
    def generate(cls, path: Path | None = None) -> TokenKeyRing:
        private = Ed25519PrivateKey.generate()
        kid = key_id(private.public_key())
        return cls({kid: private}, kid, path)

    @classmethod
    def load(cls, path: Path) -> TokenKeyRing:
        if path.stat().st_mode & 0o077:
            raise ConfigurationError(f"{path} must be readable by its owner only (chmod 600)")
        try:
            data = json.loads(path.read_text())
            keys = {kid: _load_private(pem, str(path)) for kid, pem in data["keys"].items()}
            return cls(keys, data["active"], path)
        except (KeyError, ValueError) as exc:
            raise ConfigurationError(f"{path} is not a valid token key file") from exc

    def save(self) -> None:
        if self.path is None:
            raise ConfigurationError("a token key from OLLY_TOKEN_SIGNING_KEY is rotated by changing the variable")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        payload = {"active": self.active, "keys": {kid: _pem(k) for kid, k in self._keys.items()}}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle)
        os.replace(tmp, self.path)

    def rotate(self) -> str:
        """A new active key; the old ones keep verifying until removed."""
        private = Ed25519PrivateKey.generate()
        self.active = key_id(private.public_key())
        self._keys[self.active] = private
        self.save()
        return self.active

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        return self.active, self._keys[self.active]

    def has(self, kid: str) -> bool:
        return kid in self._keys

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        key = self._keys.get(kid)
        return key.public_key() if key is not None else None

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, private in sorted(self._keys.items()):
            raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            keys.append({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    """``account:<uuid>`` or ``client:<client id>``."""
    tenant_id: uuid.UUID
    token_id: str
    issued_at: datetime
    expires_at: datetime
    session_id: uuid.UUID | None = None
    not_before: datetime | None = None
    """``nbf`` as signed (``issued_at`` when absent)."""


class TokenService:
    def __init__(self, keys: TokenKeyRing, issuer: str, audience: str, ttl_seconds: int) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl = timedelta(seconds=ttl_seconds)
        # Tokens whose signature and claims were verified: a client sends the same token on every
        # request, and checking an Ed25519 signature costs more than the rest of a cached answer.
        # Times and the signing key's presence are checked again at every use; whether the subject
        # and session are still active is the caller's check (``SubjectDirectory``), every request.
        self._verified: OrderedDict[str, tuple[str, TokenClaims]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def issue(
        self, subject: str, tenant_id: uuid.UUID, now: datetime, *, session_id: uuid.UUID | None = None
    ) -> tuple[str, TokenClaims]:
        issued = now.replace(microsecond=0)
        claims = TokenClaims(subject, tenant_id, str(uuid7()), issued, issued + self.ttl, session_id)
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "tid": str(tenant_id),
            "jti": claims.token_id,
            "iat": int(issued.timestamp()),
            "nbf": int(issued.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
        }
        if session_id is not None:
            payload["sid"] = str(session_id)
        kid, private = self.keys.signing_key()
        token = jwt.encode(payload, private, algorithm=ALGORITHM, headers={"kid": kid, "typ": TOKEN_TYPE})
        return token, claims

    def verify(self, token: str, now: datetime) -> TokenClaims:
        """The claims of a valid token; any defect raises ``Unauthenticated`` without saying which."""
        with self._verified_lock:
            hit = self._verified.get(token)
        if hit is not None:
            kid, claims = hit
            if not self.keys.has(kid):
                raise _invalid()  # the signing key has been withdrawn since
            self._check_times(claims, now)
            return claims
        kid, claims = self._verify_signed(token)
        self._check_times(claims, now)
        with self._verified_lock:
            self._verified[token] = (kid, claims)
            if len(self._verified) > VERIFIED_TOKENS_KEPT:
                self._verified.popitem(last=False)
        return claims

    def _check_times(self, claims: TokenClaims, now: datetime) -> None:
        not_before = claims.not_before or claims.issued_at
        if now >= claims.expires_at + LEEWAY or now + LEEWAY < not_before or now + LEEWAY < claims.issued_at:
            raise _invalid()
        if claims.expires_at - claims.issued_at > self.ttl + LEEWAY:
            raise _invalid()  # a token Olly would never have issued

    def _verify_signed(self, token: str) -> tuple[str, TokenClaims]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid() from None
        if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE or not isinstance(header.get("kid"), str):
            raise _invalid()
        public = self.keys.public_key(header["kid"])
        if public is None:
            raise _invalid()
        try:
            payload = jwt.decode(
                token,
                public,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                # Times are checked below against the injected clock, not the wall clock.
                options={
                    "require": ["iss", "aud", "sub", "exp", "iat", "nbf", "jti"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            expires = datetime.fromtimestamp(int(payload["exp"]), UTC)
            not_before = datetime.fromtimestamp(int(payload["nbf"]), UTC)
            issued = datetime.fromtimestamp(int(payload["iat"]), UTC)
            tenant_id = uuid.UUID(str(payload["tid"]))
            session_id = uuid.UUID(str(payload["sid"])) if "sid" in payload else None
        except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError):
            raise _invalid() from None
        claims = TokenClaims(
            str(payload["sub"]), tenant_id, str(payload["jti"]), issued, expires, session_id, not_before
        )
        return header["kid"], claims


def _invalid() -> InvalidToken:
    return InvalidToken("the bearer token is not valid")
