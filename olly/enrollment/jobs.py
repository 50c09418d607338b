"""Enrollment's periodic jobs."""

from __future__ import annotations

from olly.enrollment import service
from olly.platform.jobs import JobScheduler


def register(scheduler: JobScheduler) -> None:
    # Group cover starts on its effective date (the saga's group branch); checking every minute
    # keeps the first claims and eligibility checks of the day from seeing a pending policy.
    scheduler.add("enrollment.activate-due-groups", 60.0, service.activate_due)
