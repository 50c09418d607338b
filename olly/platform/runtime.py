"""The running platform: settings, clock, database, keys, field crypto, the audit trail and the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from olly.config import Settings, get_settings
from olly.kernel.clock import Clock, SystemClock
from olly.platform.audit import AuditTrail
from olly.platform.bus.outbox import Outbox, install_outbox
from olly.platform.crypto import FieldCrypto, LocalKeyProvider
from olly.platform.db import Database


@dataclass
class Platform:
    settings: Settings
    clock: Clock
    db: Database
    keys: LocalKeyProvider
    crypto: FieldCrypto
    audit: AuditTrail
    outbox: Outbox
    """``uow.publish`` writes here, in the publishing transaction (installed at start-up)."""

    def close(self) -> None:
        self.audit.close()
        self.db.dispose()


def build_platform(
    settings: Settings | None = None, clock: Clock | None = None, *, create_keys: bool = True
) -> Platform:
    settings = settings or get_settings()
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings, clock)
    keys = LocalKeyProvider.from_settings(settings, create=create_keys)
    crypto = FieldCrypto(keys, clock)
    db.session_info["crypto"] = crypto
    outbox = install_outbox(db)
    return Platform(settings, clock, db, keys, crypto, AuditTrail(db), outbox)
