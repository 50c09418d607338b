"""A claim denied for want of coverage (CARC 31, 26, 27) is adjudicated again when claims' copy of the
member's coverage gains the days it was for: a coverage copied after the claim was adjudicated (its
event consumed later), a termination undone, COBRA continuation elected after the claim. A claim
paid for days a back-dated termination takes away is adjudicated again and its payment recovered.
A plan change gains and loses no day. On SQLite and PostgreSQL, through the bus."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import cast

from sqlalchemy import delete

from olly.billing import recoveries
from olly.billing import service as billing
from olly.billing.repository import BillingRepository
from olly.claims import handlers
from olly.claims import models as m
from olly.claims.repository import ClaimsRepository
from olly.enrollment import service as enrollment
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import CobraEvent, QualifyingEvent, TerminationReason
from olly.enrollment.schemas import CobraElection, CobraEventCreate, PlanChange, Termination
from olly.kernel.clock import FixedClock
from olly.platform.bus.messages import Message
from olly.platform.runtime import Platform
from tests.integration.claims.support import PPO, claim_body, drain, line, seed
from tests.integration.claims.test_read_model_revisions import lines_of, submit
from tests.integration.claims.test_reversal_recovery import enrol_alone

#: 99213 billed 150.00 at the in-network clinic: allowed 100.00, CO-45 50.00, the office-visit copay
#: PR-3 25.00, paid 75.00.
PAID_VISIT = [("2026-01-10", 10000, 7500, [("CO", "45", 5000), ("PR", "3", 2500)])]


def covered(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID) -> uuid.UUID:
    """A self-only group policy on the demo PPO from 1 January 2026, in force; claims copies it."""
    seed(platform, tenant_id)  # the plans, the PPO's schedule and the in-network clinic
    policy_id = enrol_alone(platform, tenant_id, party_id, PPO)
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, policy_id)
    drain(platform)
    return policy_id


def history(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> list[tuple[int, str, bool]]:
    """Each adjudication of the claim: (sequence, status, reversed)."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        repo = ClaimsRepository(uow)
        current = repo.current_result(claim_id)
        assert current is not None
        results = [repo.result(claim_id, sequence) for sequence in range(1, current.sequence + 1)]
    return [(r.sequence, r.status, r.reversed) for r in results if r is not None]


def test_a_claim_adjudicated_before_its_coverage_was_copied_is_paid_once_it_is(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    ana = family["ana"]
    policy_id = covered(platform, tenant_id, ana)
    with platform.db.unit_of_work(tenant_id) as uow:  # as if the enrolment's events were still on their way
        uow.session.execute(delete(m.CoverageView).where(m.CoverageView.member_id == ana))
    claim_id = submit(platform, tenant_id, claim_body(ana, line("99213", "150.00", "2026-01-10")))
    drain(platform)
    assert lines_of(platform, tenant_id, claim_id) == [("2026-01-10", 0, 0, [("CO", "31", 15000)])]
    with platform.db.unit_of_work(tenant_id) as uow:  # the enrolment's event arrives
        handlers.on_enrollment_changed(uow, cast(Message, SimpleNamespace(payload={"enrollmentId": str(policy_id)})))
    drain(platform)
    assert lines_of(platform, tenant_id, claim_id) == PAID_VISIT
    assert history(platform, tenant_id, claim_id) == [(1, "DENIED", True), (2, "APPROVED", False)]
    # The same event again changes nothing: no day was gained.
    with platform.db.unit_of_work(tenant_id) as uow:
        handlers.on_enrollment_changed(uow, cast(Message, SimpleNamespace(payload={"enrollmentId": str(policy_id)})))
    assert history(platform, tenant_id, claim_id) == [(1, "DENIED", True), (2, "APPROVED", False)]


def test_claims_denied_after_a_termination_are_paid_when_it_is_undone(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    ana = family["ana"]
    policy_id = covered(platform, tenant_id, ana)
    # Terminated for non-payment back to 5 January (a retroactive end the premium allows) …
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.terminate(
            uow, policy_id, Termination(reason=TerminationReason.NON_PAYMENT, termination_date=date(2026, 1, 5))
        )
    drain(platform)
    visit = submit(platform, tenant_id, claim_body(ana, line("99213", "150.00", "2026-01-10")))
    before = submit(platform, tenant_id, claim_body(ana, line("99213", "150.00", "2026-01-02")))
    drain(platform)
    assert lines_of(platform, tenant_id, visit) == [("2026-01-10", 0, 0, [("CO", "27", 15000)])]
    # … then the premium is paid late and the termination undone: the visit after the 5th is paid;
    # the one before, covered all along, is left as it was.
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.reinstate(uow, policy_id, reason="premium paid")
    drain(platform)
    assert lines_of(platform, tenant_id, visit) == PAID_VISIT
    assert history(platform, tenant_id, visit) == [(1, "DENIED", True), (2, "APPROVED", False)]
    assert history(platform, tenant_id, before) == [(1, "APPROVED", False)]


def test_a_claim_paid_for_days_a_back_dated_termination_takes_away_is_denied_and_recovered(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    ana = family["ana"]
    policy_id = covered(platform, tenant_id, ana)
    visit = submit(platform, tenant_id, claim_body(ana, line("99213", "150.00", "2026-01-10")))
    drain(platform)
    with platform.db.unit_of_work(tenant_id) as uow:  # the clinic is paid its 75.00
        assert [p.amount_minor for p in BillingRepository(uow).claim_payments(billing.run_claim_payments(uow).id)] == [
            7500
        ]
    # The premium was never paid: coverage ends on 5 January, before the visit.
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.terminate(
            uow, policy_id, Termination(reason=TerminationReason.NON_PAYMENT, termination_date=date(2026, 1, 5))
        )
    drain(platform)
    assert lines_of(platform, tenant_id, visit) == [("2026-01-10", 0, 0, [("CO", "27", 15000)])]
    assert history(platform, tenant_id, visit) == [(1, "APPROVED", True), (2, "DENIED", False)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert recoveries.outstanding_total(uow) == 7500  # taken back from the clinic's next payments
    # Paid late after all and reinstated: the visit is paid again, which settles what was to recover.
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.reinstate(uow, policy_id, reason="premium paid")
    drain(platform)
    assert lines_of(platform, tenant_id, visit) == PAID_VISIT
    assert history(platform, tenant_id, visit) == [(1, "APPROVED", True), (2, "DENIED", True), (3, "APPROVED", False)]
    with platform.db.unit_of_work(tenant_id) as uow:
        assert [p.amount_minor for p in BillingRepository(uow).claim_payments(billing.run_claim_payments(uow).id)] == [
            0
        ]
        assert recoveries.outstanding_total(uow) == 0


def test_a_plan_change_re_adjudicates_nothing(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    """A change of plan from 1 February splits the member's coverage in two; no day is gained or
    lost, so the January visit keeps its one adjudication."""
    ana = family["ana"]
    policy_id = covered(platform, tenant_id, ana)
    visit = submit(platform, tenant_id, claim_body(ana, line("99213", "150.00", "2026-01-10")))
    drain(platform)
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.change_plan(
            uow,
            policy_id,
            PlanChange(
                plan_code="OLLY-HMO-250", qualifying_event=QualifyingEvent.OPEN_ENROLLMENT, event_date=date(2026, 2, 1)
            ),
            PlansCatalog(),
        )
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (copy,) = ClaimsRepository(uow).coverage_of_policy(policy_id)
        assert len(copy.periods) == 2  # the split: the PPO to 31 January, the HMO from 1 February
    assert history(platform, tenant_id, visit) == [(1, "APPROVED", False)]
    assert lines_of(platform, tenant_id, visit) == PAID_VISIT


def test_a_claim_in_the_cobra_election_period_is_paid_once_continuation_is_elected(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    """Group cover ends on 31 March; a visit on 10 April, before the election, is denied CO-27; the
    election (continuation from 1 April, on another policy) gains those days: the visit is paid."""
    ana = family["ana"]
    policy_id = covered(platform, tenant_id, ana)
    clock.set(datetime(2026, 3, 20, 11, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.record_cobra_event(
            uow, policy_id, CobraEventCreate(event=CobraEvent.TERMINATION, event_date=date(2026, 3, 20)), PlansCatalog()
        )
    drain(platform)
    clock.set(datetime(2026, 4, 15, 10, 0, tzinfo=UTC))
    visit = submit(platform, tenant_id, claim_body(ana, line("99213", "150.00", "2026-04-10")))
    drain(platform)
    assert lines_of(platform, tenant_id, visit) == [("2026-04-10", 0, 0, [("CO", "27", 15000)])]
    with platform.db.unit_of_work(tenant_id) as uow:
        cobra = enrollment.elect_cobra(uow, policy_id, CobraElection(party_ids=[ana]), PlansCatalog())
        enrollment.activate(uow, cobra.id)  # the first premium paid
    drain(platform)
    assert lines_of(platform, tenant_id, visit) == [
        ("2026-04-10", 10000, 7500, [("CO", "45", 5000), ("PR", "3", 2500)])
    ]
    assert history(platform, tenant_id, visit) == [(1, "DENIED", True), (2, "APPROVED", False)]
