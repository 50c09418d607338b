"""COBRA continuation over the event backbone, with the fixed clock.

Ana (employee) and Ben (spouse) are covered by their employer's group policy on PPO-2026 from
1 January 2026. FakePlans prices PPO-2026 for one person (EE) at 600.00 a month in full (the
employer's share included), so COBRA costs 612.00.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from olly.billing import service as billing
from olly.billing.models import Invoice
from olly.billing.repository import BillingRepository
from olly.billing.rules import PaymentMethod
from olly.eligibility import service as eligibility
from olly.enrollment import rules, service
from olly.enrollment.models import Policy, PolicyTerm
from olly.enrollment.rules import CobraEvent, Market
from olly.enrollment.schemas import CobraElection, CobraEventCreate, DependentRemove, EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.kernel.errors import BusinessRuleViolation, ValidationFailed
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod
from olly.platform.runtime import Platform
from tests.factories import PLAN_IDS, PPO, FakePlans, enroll
from tests.integration.eligibility.test_eligibility import FakeBenefits
from tests.integration.enrollment.cobra_support import cobra_inbox, cobra_inbox_links, events, group_policy, spans
from tests.support.bus import drain


def test_rules_window_and_premium() -> None:
    window = rules.cobra_window(CobraEvent.TERMINATION, date(2026, 3, 31), date(2026, 3, 20))
    assert window == rules.CobraWindow(date(2026, 4, 1), date(2026, 5, 31), date(2027, 9, 30))
    # a notice sent after the loss of cover: the 60 days run from the notice
    late = rules.cobra_window(CobraEvent.LOSS_OF_DEPENDENT_STATUS, date(2026, 3, 31), date(2026, 4, 20))
    assert late == rules.CobraWindow(date(2026, 4, 1), date(2026, 6, 19), date(2029, 3, 31))
    assert [rules.cobra_premium(m) for m in (60000, 45678, 45675, 45674, 1, 0)] == [61200, 46592, 46589, 46587, 1, 0]


def test_termination_of_employment_then_a_retroactive_election_on_day_45(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    # group cover ends at the month's end, the policy is terminated for loss of eligibility
    assert spans(platform, tenant_id, ana) == [("GROUP", date(2026, 1, 1), date(2026, 3, 31))]
    terminations = events(platform, "enrollment.enrollment.terminated")
    assert [(t["memberId"], t["terminationDate"], t["reason"]) for t in terminations] == [
        (str(ana), "2026-03-31", "LOSS_OF_ELIGIBILITY")
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        cases = service.cobra_cases(uow, terminated)
    notices = events(platform, "enrollment.cobra.notice_sent")
    assert notices == [
        {
            "eventType": "COBRA_NOTICE_SENT",
            "schemaVersion": "1.0",
            "cobraCaseId": str(case.id),
            "memberId": str(case.party_id),
            "qualifyingEvent": "TERMINATION",
            "qualifyingEventDate": "2026-03-20",
            "electionDeadline": "2026-05-31",
            "noticeSentAt": "2026-03-20T11:00:00Z",
        }
        for case in cases
    ]
    assert [(c.party_id, c.loss_date, c.notice_date, c.continuation_end, c.status) for c in cases] == [
        (ana, date(2026, 4, 1), date(2026, 3, 20), date(2027, 9, 30), "OFFERED"),
        (ben, date(2026, 4, 1), date(2026, 3, 20), date(2027, 9, 30), "OFFERED"),
    ]
    # a disability determination may be told until the first 18 months end; no second event yet
    assert {(c.disability_notice_by, c.second_event_notice_deadline) for c in cases} == {(date(2027, 9, 30), None)}
    drain(platform)
    # each beneficiary finds the election notice in their inbox, linking their own printed notice
    for case in cases:
        assert cobra_inbox_links(platform, tenant_id, case.party_id) == [
            (
                "COBRA_ELECTION_NOTICE",
                "You may continue your coverage (COBRA)",
                "After the qualifying event of 2026-03-20 you may keep your group coverage: "
                "elect continuation coverage by 2026-05-31 and it continues with no gap. Your election notice "
                "(PDF) gives the dates, the premium and how to elect.",
                f"/api/v1/cobra-cases/{case.id}/notice.pdf",
            )
        ]

    # in the gap (after the loss, before any election) providers are told "not covered"
    clock.set(datetime(2026, 4, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        gap = eligibility.check(uow, ana, date(2026, 4, 10), "98", FakeBenefits())
        assert (gap["covered"], gap["status"]) == (False, "TERMINATED")
    before_election = datetime(2026, 5, 16, 8, 0, tzinfo=UTC)

    # day 45 after the loss of cover: Ana alone elects; Ben does not (yet)
    clock.set(datetime(2026, 5, 16, 10, 30, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        cobra = service.elect_cobra(uow, terminated, CobraElection(party_ids=[ana]), plans)
        cobra_id, account_id = cobra.id, cobra.account_id
        assert (cobra.market, cobra.status, cobra.subscriber_party_id) == ("COBRA", "SUBMITTED", ana)
        (term,) = uow.session.scalars(select(PolicyTerm).where(PolicyTerm.policy_id == cobra_id))
        assert (term.plan_id, term.tier_code, term.total_premium_minor, term.member_premium_minor) == (
            PLAN_IDS[PPO],
            "EE",
            61200,
            61200,
        )
        assert (term.period_start, term.period_end) == (date(2026, 4, 1), date(2026, 12, 31))
    # continuous: the group cover to 31 March, COBRA from 1 April (retroactive, no gap)
    assert spans(platform, tenant_id, ana) == [
        ("GROUP", date(2026, 1, 1), date(2026, 3, 31)),
        ("COBRA", date(2026, 4, 1), date(2026, 12, 31)),
    ]
    assert spans(platform, tenant_id, ben) == [("GROUP", date(2026, 1, 1), date(2026, 3, 31))]
    # as it stood before the election, 10 April was not covered; as now known, it is
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert service.coverage_on(uow, ana, date(2026, 4, 10), as_known_at=before_election) == []
        (now_known,) = service.coverage_on(uow, ana, date(2026, 4, 10))
        assert now_known.policy.id == cobra_id
    (elected,) = events(platform, "enrollment.cobra.elected")
    assert elected == {
        "eventType": "COBRA_ELECTED",
        "schemaVersion": "1.0",
        "cobraCaseId": str(cases[0].id),
        "memberId": str(ana),
        "planId": str(PLAN_IDS[PPO]),
        "coverageStartDate": "2026-04-01",
        "coverageEndDate": "2027-09-30",
        "firstPremiumDueDate": "2026-06-30",
        "monthlyPremium": "612.00",
        "currency": "USD",
        "electedAt": "2026-05-16T10:30:00Z",
    }
    submitted = events(platform, "enrollment.enrollment.submitted")[-1]
    assert {k: submitted[k] for k in ("enrollmentId", "memberId", "groupId", "electionType", "effectiveDate")} == {
        "enrollmentId": str(cobra_id),
        "memberId": str(ana),
        "groupId": None,
        "electionType": "COBRA",
        "effectiveDate": "2026-04-01",
    }
    assert (submitted["tierCode"], submitted["memberPremium"], submitted["totalPremium"]) == ("EE", "612.00", "612.00")

    # billing's first invoice: April and May (every month up to the election), due 45 days after it
    drain(platform)
    assert cobra_inbox(platform, tenant_id, ana)[-1] == (
        "COBRA_ELECTED",
        "Your continuation coverage is elected",
        "COBRA continuation covers you from 2026-04-01 to 2027-09-30 at 612.00 USD a month; the first premium "
        "is due by 2026-06-30.",
    )
    assert [kind for kind, _, _ in cobra_inbox(platform, tenant_id, ben)] == ["COBRA_ELECTION_NOTICE"]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        invoices = list(uow.session.scalars(select(Invoice).where(Invoice.account_id == account_id)))
        assert [(i.kind, i.period_start, i.period_end, i.due_date, i.total_minor, i.status) for i in invoices] == [
            ("INITIAL", date(2026, 4, 1), date(2026, 5, 31), date(2026, 6, 30), 122400, "OPEN")
        ]
        assert [(line.period_start, line.total_minor) for line in BillingRepository(uow).lines(invoices[0].id)] == [
            (date(2026, 4, 1), 61200),
            (date(2026, 5, 1), 61200),
        ]
        pending = eligibility.check(uow, ana, date(2026, 4, 10), "98", FakeBenefits())
        assert (pending["covered"], pending["status"]) == (False, "PENDING_ACTIVATION")
    # paid: the continuation is in force from the day after the group cover ended
    clock.set(datetime(2026, 6, 2, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        billing.record_payment(uow, account_id, Money(61200, "USD"), PaymentMethod.ACH, "ACH-COBRA-1")
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.get(Policy, cobra_id).status == "SUBMITTED"  # type: ignore[union-attr]
    with platform.db.unit_of_work(tenant_id) as uow:
        billing.record_payment(uow, account_id, Money(61200, "USD"), PaymentMethod.ACH, "ACH-COBRA-2")
    drain(platform)
    # the monthly runs bill what the first invoice did not: June, not May again
    with platform.db.unit_of_work(tenant_id) as uow:
        billing.run_billing(uow, DatePeriod(date(2026, 5, 1), date(2026, 5, 31)))
        billing.run_billing(uow, DatePeriod(date(2026, 6, 1), date(2026, 6, 30)))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        invoices = list(
            uow.session.scalars(select(Invoice).where(Invoice.account_id == account_id).order_by(Invoice.period_start))
        )
        assert [(i.kind, i.period_start, i.total_minor, i.status) for i in invoices] == [
            ("INITIAL", date(2026, 4, 1), 122400, "PAID"),
            ("INDIVIDUAL", date(2026, 6, 1), 61200, "OPEN"),
        ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.get(Policy, cobra_id).status == "ACTIVE"  # type: ignore[union-attr]
        covered = eligibility.check(uow, ana, date(2026, 4, 1), "98", FakeBenefits())
        assert (covered["covered"], covered["status"], covered["coverage_start"]) == (True, "COVERED", "2026-04-01")
        last_group_day = eligibility.check(uow, ana, date(2026, 3, 31), "98", FakeBenefits())
        assert last_group_day["covered"] is True


def test_the_continuation_ends_exactly_18_months_after_the_loss(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        cobra_id = service.elect_cobra(
            uow, terminated, CobraElection(party_ids=[family["ben"], family["ana"]]), plans
        ).id
    with platform.db.unit_of_work(tenant_id) as uow:
        service.activate(uow, cobra_id)
        term = service.renew(uow, cobra_id, PPO, plans)
        assert (term.tier_code, term.total_premium_minor, term.period_start, term.period_end) == (
            "EE+SP",
            112200,  # 102 % of 1,100.00
            date(2027, 1, 1),
            date(2027, 9, 30),
        )
    assert spans(platform, tenant_id, family["ben"])[-1] == ("COBRA", date(2027, 1, 1), date(2027, 9, 30))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraNotAvailable):
        service.renew(uow, cobra_id, PPO, plans)


def test_a_late_election_and_a_non_beneficiary_are_refused_and_nothing_is_written(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    clock.set(datetime(2026, 5, 20, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.NotQualifiedBeneficiary) as stranger:
        service.elect_cobra(uow, terminated, CobraElection(party_ids=[family["cy"]]), plans)
    assert stranger.value.problem()["code"] == "not_a_qualified_beneficiary"
    assert stranger.value.problem()["status"] == 422
    clock.set(datetime(2026, 5, 31, 23, 0, tzinfo=UTC))  # the last day: still in time
    with platform.db.unit_of_work(tenant_id) as uow:
        service.elect_cobra(uow, terminated, CobraElection(party_ids=[family["ben"]]), plans)
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraAlreadyElected):
        service.elect_cobra(uow, terminated, CobraElection(party_ids=[family["ben"]]), plans)
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraElectionWindowClosed) as late:
        service.elect_cobra(uow, terminated, CobraElection(party_ids=[family["ana"]]), plans)
    assert late.value.problem()["code"] == "cobra_election_window_closed"
    assert late.value.problem()["electionDeadline"] == "2026-05-31"
    assert [m for m, _, _ in spans(platform, tenant_id, family["ana"])] == ["GROUP"]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [c.status for c in service.cobra_cases(uow, terminated)] == ["OFFERED", "ELECTED"]
    assert len(events(platform, "enrollment.cobra.elected")) == 1


def test_a_child_losing_dependent_status_gets_36_months_and_the_family_is_repriced(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = group_policy(platform, tenant_id, plans, family, ("cy", "CHILD"), activate=False)
    clock.set(datetime(2026, 6, 3, 9, 0, tzinfo=UTC))
    event = CobraEventCreate(event=CobraEvent.LOSS_OF_DEPENDENT_STATUS, event_date=date(2026, 6, 1))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed):
        service.record_cobra_event(uow, policy_id, event, plans)  # which dependent?
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed):
        service.record_cobra_event(
            uow,
            policy_id,
            CobraEventCreate(event=CobraEvent.DIVORCE, event_date=date(2026, 6, 1), party_id=family["cy"]),
            plans,
        )
    with platform.db.unit_of_work(tenant_id) as uow:
        (case,) = service.record_cobra_event(uow, policy_id, event.model_copy(update={"party_id": family["cy"]}), plans)
        assert (case.party_id, case.loss_date, case.election_deadline, case.continuation_end) == (
            family["cy"],
            date(2026, 7, 1),
            date(2026, 8, 30),
            date(2029, 6, 30),
        )
        assert uow.session.get(Policy, policy_id).status == "SUBMITTED"  # type: ignore[union-attr]
    assert spans(platform, tenant_id, family["cy"]) == [("GROUP", date(2026, 1, 1), date(2026, 6, 30))]
    assert spans(platform, tenant_id, family["ana"]) == [
        ("GROUP", date(2026, 1, 1), date(2026, 6, 30)),
        ("GROUP", date(2026, 7, 1), date(2026, 12, 31)),
    ]
    clock.set(datetime(2026, 7, 20, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        cobra = service.elect_cobra(uow, policy_id, CobraElection(party_ids=[family["cy"]]), plans)
        (term,) = uow.session.scalars(select(PolicyTerm).where(PolicyTerm.policy_id == cobra.id))
        assert (cobra.subscriber_party_id, term.tier_code, term.total_premium_minor) == (family["cy"], "EE", 61200)


def test_cobra_is_for_group_cover_and_never_enrolled_directly(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    clock.set(datetime(2025, 12, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        individual = service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.INDIVIDUAL,
                account_id=uuid.uuid4(),
                subscriber_party_id=family["grandma"],
                plan_code=PPO,
                effective_date=date(2026, 1, 1),
            ),
            plans,
        ).id
    policy_id = group_policy(platform, tenant_id, plans, family)
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraNotAvailable):
        service.record_cobra_event(
            uow, individual, CobraEventCreate(event=CobraEvent.TERMINATION, event_date=date(2026, 3, 1)), plans
        )
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed) as direct:
        service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.COBRA,
                account_id=uuid.uuid4(),
                subscriber_party_id=family["ana"],
                plan_code=PPO,
                effective_date=date(2026, 4, 1),
            ),
            plans,
        )
    assert direct.value.errors[0].code == "cobra_election"
    # an employment that ended in a month already over: that month's termination would be retroactive
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(BusinessRuleViolation):
        service.record_cobra_event(
            uow, policy_id, CobraEventCreate(event=CobraEvent.TERMINATION, event_date=date(2026, 2, 27)), plans
        )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert service.cobra_cases(uow, policy_id) == []


def test_the_employees_death_qualifies_the_dependents_for_36_months(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)  # Ana, Ben (spouse) and Cy (child)
    clock.set(datetime(2026, 2, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        cases = service.record_cobra_event(
            uow, policy_id, CobraEventCreate(event=CobraEvent.DEATH, event_date=date(2026, 2, 6)), plans
        )
        assert [(c.party_id, c.loss_date, c.election_deadline, c.continuation_end) for c in cases] == [
            (family["ben"], date(2026, 3, 1), date(2026, 4, 30), date(2029, 2, 28)),
            (family["cy"], date(2026, 3, 1), date(2026, 4, 30), date(2029, 2, 28)),
        ]
        assert uow.session.get(Policy, policy_id).status_reason == "DEATH"  # type: ignore[union-attr]
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.NotQualifiedBeneficiary):
        service.elect_cobra(uow, policy_id, CobraElection(party_ids=[family["ana"]]), plans)
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        cobra = service.elect_cobra(uow, policy_id, CobraElection(party_ids=[family["cy"], family["ben"]]), plans)
        (term,) = uow.session.scalars(select(PolicyTerm).where(PolicyTerm.policy_id == cobra.id))
        # the spouse is the subscriber; the child keeps its place: EE+CH at 102 % of 1,000.00
        assert (cobra.subscriber_party_id, term.tier_code, term.total_premium_minor) == (family["ben"], "EE+CH", 102000)
        assert sorted(e.relationship for e in service.EnrollmentRepository(uow).elements(cobra.id)) == ["CHILD", "SELF"]
    assert spans(platform, tenant_id, family["cy"]) == [
        ("GROUP", date(2026, 1, 1), date(2026, 2, 28)),
        ("COBRA", date(2026, 3, 1), date(2026, 12, 31)),
    ]
    # Cy leaves the continuation through the COBRA case (cobra-ends), never as a plain removal, which
    # would leave the case continuing cover that ended.
    removal = DependentRemove(party_id=family["cy"], reason="VOLUNTARY", termination_date=date(2026, 3, 31))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraBeneficiaryRemoval) as refused:
        service.remove_dependent(uow, cobra.id, removal, plans)
    assert refused.value.code == "cobra_beneficiary"
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert sorted(c.status for c in service.cobra_cases(uow, policy_id)) == ["ELECTED", "ELECTED"]
    assert spans(platform, tenant_id, family["cy"])[-1] == ("COBRA", date(2026, 3, 1), date(2026, 12, 31))


def test_no_election_once_the_group_cover_is_reinstated(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        service.reinstate(uow, terminated, reason="REHIRED")
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraNotAvailable):
        service.elect_cobra(uow, terminated, CobraElection(party_ids=[family["ana"]]), plans)
    assert spans(platform, tenant_id, family["ana"]) == [("GROUP", date(2026, 1, 1), date(2026, 12, 31))]
