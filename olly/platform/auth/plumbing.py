"""Database access for the auth plumbing: Core statements outside any tenant's unit of work."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from olly.platform.db import Database


@contextmanager
def reading(db: Database) -> Iterator[Connection]:
    """A read-only connection (a deferred transaction on SQLite, a read-only one on PostgreSQL)."""
    with db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        yield uow.session.connection()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """What is stored in place of a bearer secret (session id, reset token, OIDC state)."""
    return hashlib.sha256(secret.encode()).hexdigest()
