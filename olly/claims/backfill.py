"""Building claims' coverage and provider read models from enrollment's and provider's current state.

The handlers keep ``claim_coverages`` (and the schedules it points at) current from enrollment's
events; coverage that existed before claims was installed, or before claims learned to copy a field
(birth dates, declared conditions, a plan's out-of-network allowable), never produced those events.
The back-fill copies every ACTIVE or TERMINATED policy as the handlers would; running it again
changes nothing that is already current.

Likewise ``claim_providers`` is kept from provider's network and credentialing events; a provider
registered and contracted before claims was installed (or whose events claims never consumed) is
unknown to claims, which prices its claims out of network. ``backfill_providers`` copies every
registered provider's standing on a given day as the handlers would.
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
from olly.provider import public as provider


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
        handlers.sync_policy(uow, policy_id, refreshed=report.schedules, lock=False)
        uow.session.flush()
        rows = [row for row in repo.coverage_of_policy(policy_id) if row.periods]
        report.policies += 1
        report.members += len(rows)
        report.added += sum(1 for row in rows if row.member_id not in known)
    return report


@dataclass
class ProviderBackfillReport:
    providers: int = 0
    in_network: int = 0
    """Providers copied as in network on the day (a contract in effect and credentialed)."""
    added: int = 0
    """NPIs claims did not know before."""
    on: date | None = None
    """The day whose network standing was copied."""


def providers(uow: UnitOfWork) -> list[uuid.UUID]:
    """The providers to copy: every registered one."""
    return provider.provider_ids(uow)


def backfill_providers(
    uow: UnitOfWork, provider_ids: Sequence[uuid.UUID], on: date, report: ProviderBackfillReport
) -> ProviderBackfillReport:
    """Copy ``provider_ids``' credentialing, network standing on ``on`` and contract rates into ``report``."""
    report.on = on
    known = ClaimsRepository(uow).provider_count()
    for provider_id in provider_ids:
        row = handlers.sync_provider(uow, provider_id, on)
        if row is not None:
            report.providers += 1
            report.in_network += row.network_status == "IN_NETWORK"
    uow.session.flush()
    report.added += ClaimsRepository(uow).provider_count() - known
    return report
