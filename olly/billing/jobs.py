"""Billing's periodic jobs."""

from __future__ import annotations

from olly.billing import service
from olly.platform.jobs import JobScheduler


def register(scheduler: JobScheduler) -> None:
    # Hourly is enough for day-granular deadlines (due dates, grace ends); each run is idempotent.
    scheduler.add("billing.check-payments", 3600.0, service.check_payments)
    scheduler.add("billing.run-due", 6 * 3600.0, service.run_due)
    scheduler.add("billing.claim-payment-run", 3600.0, service.daily_claim_payment_run)
