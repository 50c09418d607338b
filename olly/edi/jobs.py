"""The EDI gateway's periodic jobs: take in the files dropped into each tenant's inbox folder, and
delete raw files past their retention once a day."""

from __future__ import annotations

from olly.edi import service
from olly.edi.folders import process_inbox
from olly.platform.db import UnitOfWork
from olly.platform.jobs import JobScheduler


def watch_inbox(uow: UnitOfWork) -> int:
    """One pass over the tenant's inbox; each file gets its own unit of work (``uow`` stays unused)."""
    return len(process_inbox(uow.session.info["database"], uow.require_tenant()))


def purge_old_files(uow: UnitOfWork) -> int:
    return service.purge_files(uow)


def register(scheduler: JobScheduler) -> None:
    scheduler.add("edi.inbox", scheduler.db.settings.edi_inbox_interval_seconds, watch_inbox)
    scheduler.add("edi.file-retention", 86_400.0, purge_old_files)
