"""Building claims' coverage read model from enrollment's current state.

The handlers keep ``claim_coverages`` (and the schedules it points at) current from enrollment's
events; coverage that existed before claims was installed, or before claims learned to copy a field
(birth dates, declared conditions, a plan's out-of-network allowable), never produced those events.
The back-fill copies every ACTIVE or TERMINATED policy as the handlers would; running it again
changes nothing that is already current.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from olly.claims import handlers
from olly.claims.repository import ClaimsRepository
from olly.enrollment import public as enrollment
from olly.platform.db import UnitOfWork


@dataclass
class BackfillReport:
    policies: int = 0
    members: int = 0
    """Coverage rows written (new or refreshed)."""
    added: int = 0
    """Members claims did not know on that policy before."""
    schedules: set[tuple[str, date]] = field(default_factory=set)
    """(plan code, date) whose schedule was re-copied in this run."""


def policies(uow: UnitOfWork) -> list[uuid.UUID]:
    """The policies to copy: every ACTIVE or TERMINATED one."""
    return enrollment.policies_in_force_or_ended(uow)


def backfill(uow: UnitOfWork, policy_ids: Sequence[uuid.UUID], report: BackfillReport) -> BackfillReport:
    """Copy ``policy_ids``' coverage (and refresh their plans' schedules once per run) into ``report``."""
    repo = ClaimsRepository(uow)
    for policy_id in policy_ids:
        known = {row.member_id for row in repo.coverage_of_policy(policy_id)}
        handlers.sync_policy(uow, policy_id, refreshed=report.schedules)
        uow.session.flush()
        rows = [row for row in repo.coverage_of_policy(policy_id) if row.periods]
        report.policies += 1
        report.members += len(rows)
        report.added += sum(1 for row in rows if row.member_id not in known)
    return report
