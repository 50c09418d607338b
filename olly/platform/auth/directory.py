"""Who a token's subject is now: account and API-client state, cached for a bounded time.

A bearer token is verified without a database round trip, but whether its account is still
active is not in the token. ``SubjectDirectory`` reads the non-PHI columns of the account (or API
client) and keeps the answer for at most ``OLLY_REVOCATION_CACHE_SECONDS`` (30 s by default, never
more than 60): disabling an account anywhere stops its tokens everywhere within that time, and at
once in the process that disabled it.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select

from olly.kernel.clock import Clock
from olly.platform.auth.models import Account, ApiClient, BreakGlassGrant, PortalSession, json_list
from olly.platform.auth.plumbing import reading
from olly.platform.auth.roles import ROLE_OF_KIND, AccountKind, Role, parse_staff_roles
from olly.platform.db import Database, table_of


@dataclass(frozen=True, slots=True)
class SubjectRecord:
    subject: str
    tenant_id: uuid.UUID
    kind: str
    active: bool
    roles: frozenset[Role]
    tokens_valid_after: datetime
    account_id: uuid.UUID | None = None
    client_id: str | None = None
    party_id: uuid.UUID | None = None
    group_account_id: uuid.UUID | None = None
    provider_ids: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    mfa_enabled: bool = False


def roles_of(kind: str, stored_roles: object) -> frozenset[Role]:
    if kind == AccountKind.STAFF:
        return parse_staff_roles(stored_roles)
    try:
        return frozenset({ROLE_OF_KIND[AccountKind(kind)]})
    except (ValueError, KeyError):
        return frozenset()


def provider_ids_of(npi: str | None, organisation_id: uuid.UUID | None) -> frozenset[str]:
    return frozenset(v for v in (npi, str(organisation_id) if organisation_id else None) if v)


ACCOUNT_COLUMNS: Final = (
    "id",
    "tenant_id",
    "kind",
    "status",
    "roles",
    "queues",
    "party_id",
    "group_account_id",
    "npi",
    "provider_organisation_id",
    "mfa_enabled_at",
    "tokens_valid_after",
)


def account_record(row: object) -> SubjectRecord:
    m = row._mapping  # type: ignore[attr-defined]
    return SubjectRecord(
        subject=f"account:{m['id']}",
        tenant_id=m["tenant_id"],
        kind=m["kind"],
        active=m["status"] == "active",
        roles=roles_of(m["kind"], m["roles"]),
        tokens_valid_after=m["tokens_valid_after"],
        account_id=m["id"],
        party_id=m["party_id"],
        group_account_id=m["group_account_id"],
        provider_ids=provider_ids_of(m["npi"], m["provider_organisation_id"]),
        queues=frozenset(json_list(m["queues"])),
        mfa_enabled=m["mfa_enabled_at"] is not None,
    )


@dataclass(frozen=True, slots=True)
class SessionState:
    active: bool


@dataclass(frozen=True, slots=True)
class OpenGrant:
    """A break-glass grant that was open when read; ``expires_at`` is checked at every use."""

    grant_id: uuid.UUID
    party_id: uuid.UUID | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OpenGrants:
    grants: tuple[OpenGrant, ...]


Cached = SubjectRecord | SessionState | OpenGrants | None


class SubjectDirectory:
    def __init__(self, db: Database, clock: Clock, ttl_seconds: int) -> None:
        self.db = db
        self.clock = clock
        self.ttl = float(ttl_seconds)
        self._cache: dict[str, tuple[float, Cached]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: str) -> tuple[bool, Cached]:
        now = self.clock.now().timestamp()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return True, hit[1]
        return False, None

    def _store(self, key: str, value: Cached) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = (self.clock.now().timestamp() + self.ttl, value)

    def invalidate(self, subject: str) -> None:
        with self._lock:
            self._cache.pop(subject, None)

    def forget_all(self) -> None:
        with self._lock:
            self._cache.clear()

    def subject(self, subject: str) -> SubjectRecord | None:
        found, value = self._cached(subject)
        if found:
            return value if isinstance(value, SubjectRecord) else None
        record = self._load(subject)
        self._store(subject, record)
        return record

    def session_active(self, session_id: uuid.UUID) -> bool:
        key = f"session:{session_id}"
        found, value = self._cached(key)
        if found and isinstance(value, SessionState):
            return value.active
        sessions = table_of(PortalSession)
        now = self.clock.now()
        with reading(self.db) as connection:
            row = connection.execute(
                select(sessions.c.revoked_at, sessions.c.absolute_expires_at).where(sessions.c.id == session_id)
            ).first()
        active = row is not None and row.revoked_at is None and row.absolute_expires_at > now
        self._store(key, SessionState(active))
        return active

    def open_grants(self, account_id: uuid.UUID, tenant_id: uuid.UUID) -> tuple[OpenGrant, ...]:
        """The caller's break-glass grants still open now. Read on every staff request, so cached
        like the account itself: opening or reviewing a grant invalidates it in this process at
        once, in others within the cache time (a reviewed grant may be honoured that long there)."""
        key = f"glass:{account_id}"
        found, value = self._cached(key)
        if not (found and isinstance(value, OpenGrants)):
            grants = table_of(BreakGlassGrant)
            with reading(self.db) as connection:
                rows = connection.execute(
                    select(grants.c.id, grants.c.party_id, grants.c.expires_at).where(
                        grants.c.account_id == account_id,
                        grants.c.tenant_id == tenant_id,
                        grants.c.expires_at > self.clock.now(),
                    )
                ).all()
            value = OpenGrants(tuple(OpenGrant(r.id, r.party_id, r.expires_at) for r in rows))
            self._store(key, value)
        now = self.clock.now()
        return tuple(g for g in value.grants if g.expires_at > now)

    def _load(self, subject: str) -> SubjectRecord | None:
        prefix, _, ident = subject.partition(":")
        if prefix == "account":
            try:
                account_id = uuid.UUID(ident)
            except ValueError:
                return None
            accounts = table_of(Account)
            with reading(self.db) as connection:
                row = connection.execute(
                    select(*[accounts.c[c] for c in ACCOUNT_COLUMNS]).where(accounts.c.id == account_id)
                ).first()
            return account_record(row) if row is not None else None
        if prefix == "client":
            clients = table_of(ApiClient)
            with reading(self.db) as connection:
                row = connection.execute(select(clients).where(clients.c.client_id == ident)).first()
            if row is None:
                return None
            m = row._mapping
            return SubjectRecord(
                subject=subject,
                tenant_id=m["tenant_id"],
                kind="api_client",
                active=m["status"] == "active",
                roles=frozenset({Role.TRADING_PARTNER}),
                tokens_valid_after=m["tokens_valid_after"],
                client_id=m["client_id"],
                provider_ids=frozenset(json_list(m["provider_ids"])),
            )
        return None
