"""Periodic jobs: deadlines and timers that the clock, not a request, sets off.

A domain's ``jobs.py`` exposes ``register(scheduler)`` and adds jobs such as "activate group
policies whose effective date has come" or "fire due credentialing timers". The platform's own jobs
(the event log's retention) run once per round over the whole database, not per tenant. ``olly
worker`` and ``olly serve`` (embedded default) run them. Each job runs under a named lease so that,
however many processes run, one runs it at a time; a domain's job opens one unit of work per
tenant. Jobs must be idempotent: a run interrupted by a crash is simply run again.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import select

from olly.platform.bus.relay import release_named_lease, take_named_lease
from olly.platform.db import SCHEMAS, Database, UnitOfWork
from olly.platform.logging import get_logger
from olly.platform.tenancy import Tenant

log = get_logger("olly.jobs")

Job = Callable[[UnitOfWork], Any]
PlatformJob = Callable[[Database], Any]


class JobCounts:
    """How often each job ran to the end or failed in this process (``olly_job_runs_total``)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def add(self, job: str, outcome: str) -> None:
        with self._lock:
            self._counts[job, outcome] = self._counts.get((job, outcome), 0) + 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)


JOB_COUNTS: Final = JobCounts()


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    every_seconds: float
    run: Job | None = None
    """Run once per tenant, each in its own unit of work."""
    run_platform: PlatformJob | None = None
    """Run once over the whole database (platform plumbing with no tenant's rows)."""


@dataclass
class JobScheduler:
    db: Database
    owner: str
    jobs: dict[str, JobSpec] = field(default_factory=dict)

    def add(self, name: str, every_seconds: float, run: Job) -> None:
        self.jobs[name] = JobSpec(name, every_seconds, run=run)

    def add_platform(self, name: str, every_seconds: float, run: PlatformJob) -> None:
        self.jobs[name] = JobSpec(name, every_seconds, run_platform=run)

    def run_job(self, spec: JobSpec) -> bool:
        """Run ``spec`` (once, or once for every tenant) if this process gets its lease; True when it ran."""
        now = self.db.clock.now()
        ttl = timedelta(seconds=max(30.0, spec.every_seconds * 2))
        with self.db.connect() as connection:
            if not take_named_lease(connection, f"job:{spec.name}", self.owner, now, ttl):
                return False
            tenants = list(connection.execute(select(Tenant.__table__.c.id)).scalars())
        try:
            if spec.run_platform is not None:
                spec.run_platform(self.db)
            if spec.run is not None:
                for tenant_id in tenants:
                    with self.db.unit_of_work(tenant_id) as uow:
                        spec.run(uow)
        except BaseException:
            JOB_COUNTS.add(spec.name, "failed")
            raise
        else:
            JOB_COUNTS.add(spec.name, "ran")
        finally:
            with self.db.connect() as connection:
                release_named_lease(connection, f"job:{spec.name}", self.owner)
        return True

    def run_all_once(self) -> list[str]:
        return [spec.name for spec in self.jobs.values() if self.run_job(spec)]

    def run(self, stop: threading.Event) -> None:
        due = dict.fromkeys(self.jobs, 0.0)
        while not stop.is_set():
            for name, spec in self.jobs.items():
                if time.monotonic() >= due[name]:
                    try:
                        self.run_job(spec)
                    except Exception:  # one failing job must not stop the others; it runs again next time
                        log.exception("job failed", job=name)
                    due[name] = time.monotonic() + spec.every_seconds
            stop.wait(1.0)


def discover_jobs(scheduler: JobScheduler) -> list[str]:
    """Add the platform's jobs, then call ``register(scheduler)`` of every installed domain's ``jobs``
    module; the modules that registered, the platform's first."""
    from olly.platform.bus import retention

    scheduler.add_platform(retention.RETENTION_JOB, retention.EVERY_SECONDS, retention.run)
    found = [retention.__name__]
    for domain in SCHEMAS:
        name = f"olly.{domain}.jobs"
        if domain == "platform" or not importlib.util.find_spec(f"olly.{domain}"):
            continue
        if importlib.util.find_spec(name) is None:
            continue
        register = getattr(importlib.import_module(name), "register", None)
        if callable(register):
            register(scheduler)
            found.append(name)
    return found
