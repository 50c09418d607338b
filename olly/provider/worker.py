"""The credentialing timer worker: a boundary (like the API and the CLI) that opens units of work.

``drain_due_timers`` fires everything due, one committed batch at a time, for every tenant;
``work`` repeats it on an interval until told to stop. A batch is one transaction: a worker killed
mid-batch loses only uncommitted work, whose timers are still PENDING and fire on the next pass.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

from olly.platform.db import Database
from olly.platform.logging import get_logger
from olly.platform.tenancy import list_tenants
from olly.provider import service

log = get_logger("olly.provider.worker")


def tenant_ids(db: Database) -> list[uuid.UUID]:
    with db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        return [tenant.id for tenant in list_tenants(uow.session)]


def drain_due_timers(
    db: Database,
    *,
    batch_size: int = 50,
    tenants: Sequence[uuid.UUID] | None = None,
    after_each: service.TimerHook | None = None,
) -> service.TimerRunReport:
    total = service.TimerRunReport()
    for tenant_id in tenants if tenants is not None else tenant_ids(db):
        while True:
            with db.unit_of_work(tenant_id) as uow:
                report = service.run_due_timers(uow, uow.clock.now(), limit=batch_size, after_each=after_each)
            total.fired += report.fired
            total.status_changes += report.status_changes
            total.reminders += report.reminders
            total.requests_opened += report.requests_opened
            total.failed += report.failed
            total.outcomes += report.outcomes
            if report.fired + report.failed < batch_size:
                break
    if total.fired or total.failed:
        log.info("credentialing timers fired", fired=total.fired, failed=total.failed)
    return total


def work(db: Database, *, interval_seconds: float, stop: threading.Event, batch_size: int = 50) -> None:
    """Poll for due timers until ``stop`` is set."""
    while not stop.is_set():
        drain_due_timers(db, batch_size=batch_size)
        stop.wait(interval_seconds)
