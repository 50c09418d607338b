"""Server-side portal sessions behind an opaque cookie.

The cookie holds 256 random bits; the database holds their SHA-256 digest, so a copy of the table
opens no session. A session ends at the first of: its idle timeout (15 minutes for staff, 30 for
others by default), its absolute lifetime (12 hours), sign-out, or its account being disabled.
A new id is issued at sign-in and again when a second factor is verified, so an id planted before
sign-in (session fixation) never becomes an authenticated session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from olly.config import Settings
from olly.kernel.clock import Clock
from olly.kernel.ids import uuid7
from olly.platform.auth.directory import ACCOUNT_COLUMNS, SubjectRecord, account_record
from olly.platform.auth.errors import SessionExpired
from olly.platform.auth.models import Account, PortalSession
from olly.platform.auth.plumbing import digest, new_secret, reading
from olly.platform.auth.roles import AccountKind
from olly.platform.db import Database, table_of

ACTIVE: Final = "active"
MFA_REQUIRED: Final = "mfa_required"
MFA_ENROLMENT_REQUIRED: Final = "mfa_enrolment_required"
PENDING_LIFETIME: Final = timedelta(minutes=10)
TOUCH_EVERY: Final = timedelta(seconds=60)
"""Sliding the idle deadline writes a row: do it at most once a minute per session."""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: uuid.UUID
    tenant_id: uuid.UUID
    account: SubjectRecord
    stage: str
    csrf_token: str
    created_at: datetime
    idle_expires_at: datetime
    absolute_expires_at: datetime
    authenticated_at: datetime


class SessionStore:
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings

    def idle_timeout(self, kind: str) -> timedelta:
        minutes = (
            self.settings.session_idle_minutes_staff
            if kind == AccountKind.STAFF
            else self.settings.session_idle_minutes
        )
        return timedelta(minutes=minutes)

    def _deadlines(self, kind: str, stage: str, now: datetime) -> tuple[datetime, datetime]:
        if stage != ACTIVE:
            return now + PENDING_LIFETIME, now + PENDING_LIFETIME
        absolute = now + timedelta(hours=self.settings.session_absolute_hours)
        return min(now + self.idle_timeout(kind), absolute), absolute

    def create(self, connection: Connection, account: SubjectRecord, stage: str) -> tuple[str, SessionRecord]:
        assert account.account_id is not None
        now = self.clock.now()
        token, csrf = new_secret(), new_secret()
        idle, absolute = self._deadlines(account.kind, stage, now)
        session_id = uuid7()
        connection.execute(
            table_of(PortalSession)
            .insert()
            .values(
                id=session_id,
                token_hash=digest(token),
                tenant_id=account.tenant_id,
                account_id=account.account_id,
                stage=stage,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                idle_expires_at=idle,
                absolute_expires_at=absolute,
                authenticated_at=now,
                revoked_at=None,
                revoked_reason=None,
            )
        )
        return token, SessionRecord(session_id, account.tenant_id, account, stage, csrf, now, idle, absolute, now)

    def lookup(self, token: str) -> SessionRecord:
        """The live session behind ``token``; ``SessionExpired`` when there is none."""
        sessions, accounts = table_of(PortalSession), table_of(Account)
        now = self.clock.now()
        with reading(self.db) as connection:
            row = connection.execute(
                select(sessions, *[accounts.c[c].label(f"acct__{c}") for c in ACCOUNT_COLUMNS])
                .join(accounts, accounts.c.id == sessions.c.account_id)
                .where(sessions.c.token_hash == digest(token))
            ).first()
        if row is None or row.revoked_at is not None:
            raise SessionExpired("the session has ended; sign in again")
        account = account_record(_AccountRow(row))
        ended = None
        if now >= row.idle_expires_at or now >= row.absolute_expires_at:
            ended = "idle_timeout" if now >= row.idle_expires_at else "absolute_timeout"
        elif not account.active:
            ended = "account_disabled"
        if ended is not None:
            with self.db.connect() as connection:
                self._revoke(connection, sessions.c.id == row.id, ended)
            raise SessionExpired("the session has ended; sign in again")
        idle = row.idle_expires_at
        if row.stage == ACTIVE and now - row.last_seen_at >= TOUCH_EVERY:
            idle = min(now + self.idle_timeout(account.kind), row.absolute_expires_at)
            with self.db.connect() as connection:
                connection.execute(
                    update(sessions).where(sessions.c.id == row.id).values(last_seen_at=now, idle_expires_at=idle)
                )
        return SessionRecord(
            row.id,
            row.tenant_id,
            account,
            row.stage,
            row.csrf_token,
            row.created_at,
            idle,
            row.absolute_expires_at,
            row.authenticated_at,
        )

    def promote(self, connection: Connection, session: SessionRecord, stage: str = ACTIVE) -> tuple[str, str]:
        """Move a session to ``stage`` under a NEW id and CSRF token; returns both."""
        now = self.clock.now()
        token, csrf = new_secret(), new_secret()
        idle, absolute = self._deadlines(session.account.kind, stage, now)
        sessions = table_of(PortalSession)
        connection.execute(
            update(sessions)
            .where(sessions.c.id == session.id)
            .values(
                token_hash=digest(token),
                csrf_token=csrf,
                stage=stage,
                last_seen_at=now,
                idle_expires_at=idle,
                absolute_expires_at=absolute,
                authenticated_at=now,
            )
        )
        return token, csrf

    def mark_authenticated(self, connection: Connection, session_id: uuid.UUID) -> None:
        sessions = table_of(PortalSession)
        connection.execute(
            update(sessions).where(sessions.c.id == session_id).values(authenticated_at=self.clock.now())
        )

    def revoke(self, connection: Connection, session_id: uuid.UUID, reason: str) -> None:
        self._revoke(connection, table_of(PortalSession).c.id == session_id, reason)

    def revoke_token(self, connection: Connection, token: str, reason: str) -> None:
        self._revoke(connection, table_of(PortalSession).c.token_hash == digest(token), reason)

    def revoke_account(
        self, connection: Connection, account_id: uuid.UUID, reason: str, *, keep: uuid.UUID | None = None
    ) -> None:
        sessions = table_of(PortalSession)
        condition = sessions.c.account_id == account_id
        if keep is not None:
            condition = condition & (sessions.c.id != keep)
        self._revoke(connection, condition, reason)

    def _revoke(self, connection: Connection, condition: object, reason: str) -> None:
        sessions = table_of(PortalSession)
        connection.execute(
            update(sessions)
            .where(condition, sessions.c.revoked_at.is_(None))  # type: ignore[arg-type]
            .values(revoked_at=self.clock.now(), revoked_reason=reason)
        )


class _AccountRow:
    """Presents the ``acct__*`` labelled columns of a join as an account row."""

    def __init__(self, row: object) -> None:
        mapping = row._mapping  # type: ignore[attr-defined]
        self._mapping = {c: mapping[f"acct__{c}"] for c in ACCOUNT_COLUMNS}
