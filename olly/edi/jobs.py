"""The EDI gateway's periodic job: take in the files dropped into each tenant's inbox folder."""

from __future__ import annotations

from olly.edi.folders import process_inbox
from olly.platform.db import UnitOfWork
from olly.platform.jobs import JobScheduler


def watch_inbox(uow: UnitOfWork) -> int:
    """One pass over the tenant's inbox; each file gets its own unit of work (``uow`` stays unused)."""
    return len(process_inbox(uow.session.info["database"], uow.require_tenant()))


def register(scheduler: JobScheduler) -> None:
    scheduler.add("edi.inbox", scheduler.db.settings.edi_inbox_interval_seconds, watch_inbox)
