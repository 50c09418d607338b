"""What the COBRA tests share: Ana's group policy, the clock, elections and what they read back.

Ana (employee) is covered by her employer's group PPO-2026 from 1 January 2026 with Ben (her spouse)
unless a test says otherwise. FakePlans prices PPO-2026 in full at 600.00 a month (EE) and 1,100.00
(EE+SP), so COBRA costs 612.00 and 1,122.00. The ``terminated`` fixture (conftest.py) ends Ana's
employment on 20 March 2026: group cover ends on 31 March, continuation runs from 1 April 2026 to
30 September 2027.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from olly.billing import service as billing
from olly.billing.models import Invoice
from olly.enrollment import service
from olly.enrollment.models import CobraCase, CoverageSpan, Policy, PolicyTerm
from olly.enrollment.rules import CobraEvent
from olly.enrollment.schemas import CobraDisabilityCreate, CobraElection, CobraEventCreate
from olly.kernel.clock import FixedClock
from olly.kernel.periods import month_period
from olly.notifications import service as notifications
from olly.platform.bus.models import OutboxRecord
from olly.platform.runtime import Platform
from tests.factories import FakePlans, enroll

#: The day Ana's employment ends and the event is recorded, and when (the notices' ``sentAt``).
EMPLOYMENT_ENDED = date(2026, 3, 20)
RECORDED_AT = datetime(2026, 3, 20, 11, 0, tzinfo=UTC)


def group_policy(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    dependent: tuple[str, str] = ("ben", "SPOUSE"),
    *,
    activate: bool = True,
) -> uuid.UUID:
    """Ana's group PPO from 1 January 2026 with one dependent (Ben, her spouse, unless told)."""
    return enroll(platform, tenant_id, plans, family, (dependent,), activate=activate)


def end_employment(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
) -> uuid.UUID:
    """Ana's group policy, her employment ended on 20 March 2026 and recorded that day at 11:00: Ana
    and Ben are its qualified beneficiaries, in that order."""
    policy_id = group_policy(platform, tenant_id, plans, family)
    clock.set(RECORDED_AT)
    with platform.db.unit_of_work(tenant_id) as uow:
        cases = service.record_cobra_event(
            uow, policy_id, CobraEventCreate(event=CobraEvent.TERMINATION, event_date=EMPLOYMENT_ENDED), plans
        )
        assert [(c.party_id, c.relationship) for c in cases] == [(family["ana"], "SELF"), (family["ben"], "SPOUSE")]
    return policy_id


def at(clock: FixedClock, day: date) -> None:
    """The clock at 10:00 UTC on ``day``."""
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))


def events(platform: Platform, topic: str) -> list[dict[str, object]]:
    """Every payload published on ``topic``, oldest first."""
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        rows = uow.session.scalars(select(OutboxRecord).where(OutboxRecord.topic == topic).order_by(OutboxRecord.id))
        return [json.loads(r.payload) for r in rows]


def spans(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID) -> list[tuple[str, date, date | None]]:
    """The person's current coverage, as (market, from, to), in date order."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.execute(
            select(Policy.market, CoverageSpan.valid_from, CoverageSpan.valid_to)
            .join(Policy, Policy.id == CoverageSpan.policy_id)
            .where(CoverageSpan.party_id == party_id, CoverageSpan.superseded_at.is_(None))
            .order_by(CoverageSpan.valid_from)
        )
        return [(m, f, t) for m, f, t in rows]


def cobra_inbox(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID) -> list[tuple[str, str, str]]:
    """The person's COBRA notifications, oldest first: (kind, title, body)."""
    return [(kind, title, body) for kind, title, body, _ in cobra_inbox_links(platform, tenant_id, party_id)]


def cobra_inbox_links(
    platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID
) -> list[tuple[str, str, str, str | None]]:
    """The person's COBRA notifications, oldest first: (kind, title, body, link)."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        items = notifications.inbox(uow, [party_id])
    return [
        (i.kind, i.title, i.body, i.link)
        for i in sorted(items, key=lambda i: i.created_at)
        if i.kind.startswith("COBRA")
    ]


def elect(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, group: uuid.UUID, *people: uuid.UUID
) -> uuid.UUID:
    """An election, paid at once (the policy is activated)."""
    with platform.db.unit_of_work(tenant_id) as uow:
        cobra = service.elect_cobra(uow, group, CobraElection(party_ids=list(people)), plans)
        service.activate(uow, cobra.id)
        return cobra.id


def terms(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> list[tuple[date, date, str, int]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(
            select(PolicyTerm).where(PolicyTerm.policy_id == policy_id).order_by(PolicyTerm.period_start)
        )
        return [(t.period_start, t.period_end, t.tier_code, t.total_premium_minor) for t in rows]


def cases(platform: Platform, tenant_id: uuid.UUID, group: uuid.UUID) -> dict[uuid.UUID, CobraCase]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return {c.party_id: c for c in service.cobra_cases(uow, group)}


def invoices(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> list[tuple[str, date, int]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        account = uow.session.get(Policy, policy_id).account_id  # type: ignore[union-attr]
        rows = uow.session.scalars(select(Invoice).where(Invoice.account_id == account).order_by(Invoice.period_start))
        return [(i.kind, i.period_start, i.total_minor) for i in rows]


def run_billing(platform: Platform, tenant_id: uuid.UUID, *months: tuple[int, int]) -> None:
    for year, month in months:
        with platform.db.unit_of_work(tenant_id) as uow:
            billing.run_billing(uow, month_period(year, month))


def disability(party: uuid.UUID, since: date, determined: date) -> CobraDisabilityCreate:
    return CobraDisabilityCreate(party_id=party, disabled_since=since, determined_on=determined)


def policy_of(platform: Platform, tenant_id: uuid.UUID, group: uuid.UUID, party: uuid.UUID) -> Policy:
    """The continuation policy a beneficiary's case points to (detached)."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        policy_id = cases(platform, tenant_id, group)[party].cobra_policy_id
        found = uow.session.get(Policy, policy_id)
        assert found is not None
        uow.session.expunge(found)
        return found
