"""The authenticated caller of a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from olly.platform.auth.roles import Role

AuthMethod = Literal["session", "bearer", "client"]
ANONYMOUS: Final = "anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    """``account:<uuid>`` or ``client:<client id>``: what the audit trail names."""
    tenant_id: uuid.UUID
    kind: str
    """An ``AccountKind`` value, or ``api_client``."""
    roles: frozenset[Role]
    auth_method: AuthMethod
    account_id: uuid.UUID | None = None
    client_id: str | None = None
    party_id: uuid.UUID | None = None
    group_account_id: uuid.UUID | None = None
    provider_ids: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    session_id: uuid.UUID | None = None
    session_stage: str = "active"
    authenticated_at: datetime | None = None
    mfa_enabled: bool = False

    @property
    def role_label(self) -> str:
        """The roles as one audit field, e.g. ``billing,claims_examiner``."""
        return ",".join(sorted(r.value for r in self.roles))[:64] or "none"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


def account_subject(account_id: uuid.UUID) -> str:
    return f"account:{account_id}"


def client_subject(client_id: str) -> str:
    return f"client:{client_id}"
