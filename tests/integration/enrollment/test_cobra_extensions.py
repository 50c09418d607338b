"""COBRA extensions and early ends, with the fixed clock: the 29-month disability extension (150 %
from the 19th month, through billing), a second qualifying event, the employee's Medicare
entitlement, and continuation ended by other group cover or Medicare.

Ana (employee) and Ben (spouse) are covered by their employer's group PPO from 1 January 2026; Ana's
employment ends on 20 March 2026, so group cover ends on 31 March and continuation runs from
1 April 2026 to 30 September 2027. FakePlans prices PPO-2026 in full at 600.00 a month (EE) and
1,100.00 (EE+SP).
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from alembic import command
from sqlalchemy import select

from olly.enrollment import service
from olly.enrollment.models import CobraCase, Policy, PolicyTransaction
from olly.enrollment.rules import CobraEnd, CobraEvent, CobraSecondEvent
from olly.enrollment.schemas import (
    CobraDisabilityCreate,
    CobraEndCreate,
    CobraEventCreate,
    CobraSecondEventCreate,
)
from olly.kernel.clock import FixedClock
from olly.kernel.errors import OllyError, ValidationFailed
from olly.platform import migrate
from olly.platform.runtime import Platform
from tests.factories import PPO, FakePlans, enroll
from tests.integration.enrollment.cobra_support import (
    at,
    cases,
    disability,
    elect,
    events,
    group_policy,
    invoices,
    policy_of,
    run_billing,
    spans,
    terms,
)


def test_a_disability_extension_before_renewal_bills_150_percent_from_the_19th_month(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    cobra = elect(platform, tenant_id, plans, terminated, ana, ben)
    # Ben, disabled since 15 May 2026 (the 45th day of continuation), so found on 2 November; told 1 December
    at(clock, date(2026, 12, 1))
    with platform.db.unit_of_work(tenant_id) as uow:
        extended = service.record_cobra_disability(
            uow, terminated, disability(ben, date(2026, 5, 15), date(2026, 11, 2)), plans
        )
        assert [(c.party_id, c.continuation_end, c.extension, c.premium_increase_from) for c in extended] == [
            (ana, date(2028, 8, 31), "DISABILITY", None),
            (ben, date(2028, 8, 31), "DISABILITY", date(2027, 10, 1)),
        ]
    recorded = cases(platform, tenant_id, terminated)[ben]
    assert recorded.disability == {
        "disabledSince": "2026-05-15",
        "determinedOn": "2026-11-02",
        "notifiedOn": "2026-12-01",
        "noticeDeadline": "2027-01-01",  # 60 days after the determination: told in time
    }
    # the determination is PHI: sealed in the database
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        raw = uow.session.execute(
            select(CobraCase.__table__.c.disability).where(CobraCase.__table__.c.id == recorded.id)
        ).scalar_one()
        assert b"2026-05-15" not in raw
    # the 2026 term ends with the plan year: nothing changes until the renewal
    assert terms(platform, tenant_id, cobra) == [(date(2026, 4, 1), date(2026, 12, 31), "EE+SP", 112200)]
    at(clock, date(2026, 12, 15))
    with platform.db.unit_of_work(tenant_id) as uow:
        renewed = service.renew(uow, cobra, PPO, plans)
        assert (renewed.period_start, renewed.total_premium_minor) == (date(2027, 1, 1), 112200)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.renew(uow, cobra, PPO, plans)
    assert terms(platform, tenant_id, cobra) == [
        (date(2026, 4, 1), date(2026, 12, 31), "EE+SP", 112200),
        (date(2027, 1, 1), date(2027, 9, 30), "EE+SP", 112200),  # months 10 to 18 at 102 %
        (date(2027, 10, 1), date(2027, 12, 31), "EE+SP", 165000),  # months 19 to 21 at 150 % of 1,100.00
        (date(2028, 1, 1), date(2028, 8, 31), "EE+SP", 165000),  # to the 29th month
    ]
    assert spans(platform, tenant_id, ben)[-2:] == [
        ("COBRA", date(2027, 10, 1), date(2027, 12, 31)),
        ("COBRA", date(2028, 1, 1), date(2028, 8, 31)),
    ]
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraNotAvailable):
        service.renew(uow, cobra, PPO, plans)
    # billing reads the premium of the term in force: 1,122.00 for September 2027, 1,650.00 from October
    run_billing(platform, tenant_id, (2027, 9), (2027, 10), (2028, 8), (2028, 9))
    assert invoices(platform, tenant_id, cobra) == [
        ("INDIVIDUAL", date(2027, 9, 1), 112200),
        ("INDIVIDUAL", date(2027, 10, 1), 165000),
        ("INDIVIDUAL", date(2028, 8, 1), 165000),
    ]


def test_a_disability_extension_after_renewal_continues_the_cut_term_each_policy_at_its_own_rate(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    anas = elect(platform, tenant_id, plans, terminated, ana)
    at(clock, date(2026, 4, 3))
    bens = elect(platform, tenant_id, plans, terminated, ben)
    at(clock, date(2026, 12, 15))
    for cobra in (anas, bens):
        with platform.db.unit_of_work(tenant_id) as uow:
            service.renew(uow, cobra, PPO, plans)
        assert terms(platform, tenant_id, cobra)[-1] == (date(2027, 1, 1), date(2027, 9, 30), "EE", 61200)
    changed_before = len(events(platform, "enrollment.enrollment.plan_changed"))
    # Ben found disabled on 1 August 2027 (since 10 April 2026); the plan hears of it on 20 August
    at(clock, date(2027, 8, 20))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_cobra_disability(uow, terminated, disability(ben, date(2026, 4, 10), date(2027, 8, 1)), plans)
    # the disabled beneficiary's own policy: 150 % of 600.00; Ana's: still 102 %
    assert terms(platform, tenant_id, bens)[-1] == (date(2027, 10, 1), date(2027, 12, 31), "EE", 90000)
    assert terms(platform, tenant_id, anas)[-1] == (date(2027, 10, 1), date(2027, 12, 31), "EE", 61200)
    assert spans(platform, tenant_id, ana)[-1] == ("COBRA", date(2027, 10, 1), date(2027, 12, 31))
    changed = events(platform, "enrollment.enrollment.plan_changed")[changed_before:]
    assert sorted((c["enrollmentId"], c["effectiveDate"], c["totalPremium"]) for c in changed) == sorted(
        [(str(anas), "2027-10-01", "612.00"), (str(bens), "2027-10-01", "900.00")]
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (extension,) = uow.session.scalars(
            select(PolicyTransaction).where(
                PolicyTransaction.policy_id == bens, PolicyTransaction.transaction_type == "COBRA_EXTENSION"
            )
        )
        assert (extension.reason, extension.effective_date) == ("DISABILITY", date(2027, 10, 1))
    run_billing(platform, tenant_id, (2027, 10))
    assert invoices(platform, tenant_id, bens) == [("INDIVIDUAL", date(2027, 10, 1), 90000)]
    assert invoices(platform, tenant_id, anas) == [("INDIVIDUAL", date(2027, 10, 1), 61200)]


def test_disability_refusals_write_nothing(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    anas = elect(platform, tenant_id, plans, terminated, ana)

    def refused(data: CobraDisabilityCreate) -> dict[str, object]:
        with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(OllyError) as refusal:
            service.record_cobra_disability(uow, terminated, data, plans)
        return refusal.value.problem()

    at(clock, date(2026, 12, 1))
    assert refused(disability(ben, date(2026, 5, 1), date(2026, 11, 2)))["code"] == "cobra_not_elected"
    late_onset = refused(disability(ana, date(2026, 5, 31), date(2026, 11, 2)))
    assert (late_onset["status"], late_onset["code"]) == (422, "cobra_disability_after_first_60_days")
    late = refused(disability(ana, date(2026, 5, 1), date(2026, 9, 30)))
    assert (late["code"], late["noticeDeadline"]) == ("cobra_notice_too_late", "2026-11-29")
    assert refused(disability(family["cy"], date(2026, 5, 1), date(2026, 11, 2)))["code"] == (
        "not_a_qualified_beneficiary"
    )
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed) as future:
        service.record_cobra_disability(uow, terminated, disability(ana, date(2026, 5, 1), date(2026, 12, 2)), plans)
    assert future.value.errors[0].code == "future_date"
    assert {c.continuation_end for c in cases(platform, tenant_id, terminated).values()} == {date(2027, 9, 30)}
    assert all(c.disability is None for c in cases(platform, tenant_id, terminated).values())
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_cobra_disability(uow, terminated, disability(ana, date(2026, 5, 1), date(2026, 11, 2)), plans)
    again = refused(disability(ana, date(2026, 5, 1), date(2026, 11, 2)))
    assert (again["status"], again["code"]) == (409, "cobra_already_extended")
    assert terms(platform, tenant_id, anas) == [(date(2026, 4, 1), date(2026, 12, 31), "EE", 61200)]


def test_a_36_month_event_is_not_extended_by_a_disability(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    at(clock, date(2026, 2, 10))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_cobra_event(
            uow, policy_id, CobraEventCreate(event=CobraEvent.DEATH, event_date=date(2026, 2, 6)), plans
        )
    at(clock, date(2026, 3, 5))
    elect(platform, tenant_id, plans, policy_id, family["ben"])
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraNotExtendable) as refusal:
        service.record_cobra_disability(
            uow, policy_id, disability(family["ben"], date(2026, 3, 1), date(2026, 3, 2)), plans
        )
    assert refusal.value.problem()["code"] == "cobra_not_an_18_month_event"


def test_a_divorce_during_continuation_gives_the_spouse_36_months_on_a_policy_of_their_own(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    anas = elect(platform, tenant_id, plans, terminated, ana, ben)
    at(clock, date(2026, 12, 15))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.renew(uow, anas, PPO, plans)
    # divorced on 10 February 2027, the plan is told on 5 March
    at(clock, date(2027, 3, 5))
    second = CobraSecondEventCreate(event=CobraSecondEvent.DIVORCE, event_date=date(2027, 2, 10), party_ids=[ben])
    with platform.db.unit_of_work(tenant_id) as uow:
        (case,) = service.record_cobra_second_event(uow, terminated, second, plans)
        assert (case.continuation_end, case.extension, case.second_event, case.second_event_date) == (
            date(2029, 3, 31),
            "SECOND_EVENT",
            "DIVORCE",
            date(2027, 2, 10),
        )
    assert cases(platform, tenant_id, terminated)[ana].continuation_end == date(2027, 9, 30)
    # Ben leaves Ana's continuation at the end of March (Ana's is priced again, EE at 612.00)...
    assert terms(platform, tenant_id, anas)[-1] == (date(2027, 4, 1), date(2027, 9, 30), "EE", 61200)
    # ... and continues on his own from 1 April, to the end of the plan year (renewals to 31 March 2029)
    bens = policy_of(platform, tenant_id, terminated, ben)
    assert (bens.market, bens.status, bens.subscriber_party_id) == ("COBRA", "ACTIVE", ben)
    assert bens.account_id != policy_of(platform, tenant_id, terminated, ana).account_id
    assert terms(platform, tenant_id, bens.id) == [(date(2027, 4, 1), date(2027, 12, 31), "EE", 61200)]
    assert spans(platform, tenant_id, ben)[-2:] == [
        ("COBRA", date(2027, 1, 1), date(2027, 3, 31)),
        ("COBRA", date(2027, 4, 1), date(2027, 12, 31)),
    ]
    for _ in range(2):
        with platform.db.unit_of_work(tenant_id) as uow:
            service.renew(uow, bens.id, PPO, plans)
    assert terms(platform, tenant_id, bens.id)[-1] == (date(2029, 1, 1), date(2029, 3, 31), "EE", 61200)
    run_billing(platform, tenant_id, (2027, 4))
    assert invoices(platform, tenant_id, bens.id) == [("INDIVIDUAL", date(2027, 4, 1), 61200)]
    assert invoices(platform, tenant_id, anas)[-1] == ("INDIVIDUAL", date(2027, 4, 1), 61200)
    # the same event cannot be told twice
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraAlreadyExtended):
        service.record_cobra_second_event(uow, terminated, second, plans)


def test_the_employees_death_extends_the_spouses_own_continuation_in_place(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 3))
    bens = elect(platform, tenant_id, plans, terminated, ben)
    at(clock, date(2026, 12, 15))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.renew(uow, bens, PPO, plans)
    assert terms(platform, tenant_id, bens)[-1] == (date(2027, 1, 1), date(2027, 9, 30), "EE", 61200)

    def second(on: date, *people: uuid.UUID) -> CobraSecondEventCreate:
        return CobraSecondEventCreate(event=CobraSecondEvent.DEATH, event_date=on, party_ids=list(people))

    refusals = [
        (date(2027, 7, 2), second(date(2027, 5, 2), ben), "cobra_notice_too_late"),  # 60 days: by 1 July
        (date(2027, 5, 20), second(date(2027, 5, 2), ana), "cobra_second_event_not_for_this_person"),
        (date(2027, 5, 20), second(date(2027, 5, 2), family["cy"]), "not_a_qualified_beneficiary"),
        (date(2027, 10, 2), second(date(2027, 10, 1), ben), "cobra_event_outside_continuation"),
    ]
    for today, data, code in refusals:
        at(clock, today)
        with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(OllyError) as refused:
            service.record_cobra_second_event(uow, terminated, data, plans)
        assert refused.value.problem()["code"] == code
    at(clock, date(2027, 5, 20))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed):
        service.record_cobra_second_event(uow, terminated, second(date(2027, 5, 21), ben), plans)
    assert cases(platform, tenant_id, terminated)[ben].continuation_end == date(2027, 9, 30)
    at(clock, date(2027, 7, 1))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_cobra_second_event(uow, terminated, second(date(2027, 5, 2), ben), plans)
    assert terms(platform, tenant_id, bens)[-1] == (date(2027, 10, 1), date(2027, 12, 31), "EE", 61200)
    assert cases(platform, tenant_id, terminated)[ben].continuation_end == date(2029, 3, 31)
    # Ana never elected: her case stays as it was
    assert (
        cases(platform, tenant_id, terminated)[ana].status,
        cases(platform, tenant_id, terminated)[ana].extension,
    ) == (
        "OFFERED",
        None,
    )


def test_the_employees_medicare_entitlement_during_continuation_is_a_second_event_only_when_it_ends_cover(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    anas = elect(platform, tenant_id, plans, terminated, ana, ben)
    at(clock, date(2026, 12, 15))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.renew(uow, anas, PPO, plans)
    assert terms(platform, tenant_id, anas)[-1] == (date(2027, 1, 1), date(2027, 9, 30), "EE+SP", 112200)
    # Ana became entitled to Medicare on 1 February 2027; the family tells the plan on 15 March
    medicare = CobraSecondEventCreate(
        event=CobraSecondEvent.MEDICARE_ENTITLEMENT, event_date=date(2027, 2, 1), party_ids=[ben]
    )
    at(clock, date(2027, 3, 15))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed) as unsaid:
        service.record_cobra_second_event(uow, terminated, medicare, plans)
    assert [(e.field, e.code) for e in unsaid.value.errors] == [("group_cover_would_end", "required")]
    # the group plan keeps a spouse covered when the employee becomes entitled: not a second event
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(OllyError) as kept:
        service.record_cobra_second_event(
            uow, terminated, medicare.model_copy(update={"group_cover_would_end": False}), plans
        )
    assert (kept.value.problem()["status"], kept.value.problem()["code"]) == (
        422,
        "cobra_second_event_without_loss_of_cover",
    )
    ends_cover = medicare.model_copy(update={"group_cover_would_end": True})
    # told on 3 April, the 61st day: too late, and the refusal names the deadline
    at(clock, date(2027, 4, 3))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(OllyError) as late:
        service.record_cobra_second_event(uow, terminated, ends_cover, plans)
    assert {k: late.value.problem()[k] for k in ("status", "code", "detail", "noticeDeadline")} == {
        "status": 422,
        "code": "cobra_notice_too_late",
        "detail": "the plan had to be told of the medicare entitlement of 2027-02-01 by 2027-04-02 (60 days after "
        "it); told on 2027-04-03",
        "noticeDeadline": "2027-04-02",
    }
    assert cases(platform, tenant_id, terminated)[ben].second_event is None
    assert terms(platform, tenant_id, anas)[-1] == (date(2027, 1, 1), date(2027, 9, 30), "EE+SP", 112200)
    # the plan would have ended Ben's cover: told on 15 March, Ben continues 36 months from the loss
    at(clock, date(2027, 3, 15))
    with platform.db.unit_of_work(tenant_id) as uow:
        (case,) = service.record_cobra_second_event(uow, terminated, ends_cover, plans)
        assert (
            case.continuation_end,
            case.extension,
            case.second_event,
            case.second_event_date,
            case.second_event_notice_deadline,
        ) == (date(2029, 3, 31), "SECOND_EVENT", "MEDICARE_ENTITLEMENT", date(2027, 2, 1), date(2027, 4, 2))
    assert (
        cases(platform, tenant_id, terminated)[ana].continuation_end,
        cases(platform, tenant_id, terminated)[ana].second_event,
    ) == (date(2027, 9, 30), None)
    # Ben leaves Ana's policy at the end of March for the Medicare reason (not a voluntary removal)...
    assert terms(platform, tenant_id, anas)[-1] == (date(2027, 4, 1), date(2027, 9, 30), "EE", 61200)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        removals = uow.session.scalars(
            select(PolicyTransaction).where(
                PolicyTransaction.policy_id == anas, PolicyTransaction.transaction_type == "REMOVE_DEPENDENT"
            )
        )
        assert [(t.reason, t.effective_date, t.detail) for t in removals] == [
            ("EMPLOYEE_MEDICARE_ENTITLEMENT", date(2027, 3, 31), {"partyId": str(ben)})
        ]
    assert [
        (e["memberId"], e["terminationDate"], e["reason"], e["detailedReason"])
        for e in events(platform, "enrollment.enrollment.terminated")
        if e["enrollmentId"] == str(anas)
    ] == [(str(ben), "2027-03-31", "LOSS_OF_ELIGIBILITY", "EMPLOYEE_MEDICARE_ENTITLEMENT")]
    # ... and continues on his own from 1 April at 612.00, to 31 March 2029
    bens = policy_of(platform, tenant_id, terminated, ben)
    assert (bens.market, bens.status, bens.subscriber_party_id) == ("COBRA", "ACTIVE", ben)
    assert terms(platform, tenant_id, bens.id) == [(date(2027, 4, 1), date(2027, 12, 31), "EE", 61200)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (moved,) = uow.session.scalars(select(PolicyTransaction).where(PolicyTransaction.policy_id == bens.id))
        assert (moved.transaction_type, moved.reason, moved.effective_date) == (
            "COBRA_EXTENSION",
            "MEDICARE_ENTITLEMENT",
            date(2027, 4, 1),
        )
    assert [
        (e["memberId"], e["extension"], e["previousCoverageEndDate"], e["coverageEndDate"])
        for e in events(platform, "enrollment.cobra.extended")
    ] == [(str(ben), "SECOND_EVENT", "2027-09-30", "2029-03-31")]


def test_the_employees_medicare_entitlement_before_termination_gives_the_spouse_36_months_from_it(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    ana, ben = family["ana"], family["ben"]
    policy_id = group_policy(platform, tenant_id, plans, family)
    at(clock, date(2026, 3, 20))
    event = CobraEventCreate(
        event=CobraEvent.TERMINATION, event_date=date(2026, 3, 20), employee_medicare_entitlement_date=date(2025, 11, 1)
    )
    for wrong, code in (
        (event.model_copy(update={"event": CobraEvent.DIVORCE, "party_id": ben}), "not_allowed"),
        (event.model_copy(update={"employee_medicare_entitlement_date": date(2026, 3, 21)}), "after_event"),
    ):
        with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed) as refused:
            service.record_cobra_event(uow, policy_id, wrong, plans)
        assert refused.value.errors[0].code == code
    with platform.db.unit_of_work(tenant_id) as uow:
        recorded = service.record_cobra_event(uow, policy_id, event, plans)
        assert [(c.party_id, c.continuation_end, c.extension, c.medicare_entitlement_date) for c in recorded] == [
            (ana, date(2027, 9, 30), None, date(2025, 11, 1)),
            (ben, date(2028, 10, 31), "MEDICARE_ENTITLEMENT", date(2025, 11, 1)),
        ]
    # they elect together: Ben, who continues longer, is the subscriber; Ana is rated as his spouse
    at(clock, date(2026, 4, 2))
    cobra = elect(platform, tenant_id, plans, policy_id, ana, ben)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.get(Policy, cobra).subscriber_party_id == ben  # type: ignore[union-attr]
        assert {e.party_id: e.relationship for e in service.EnrollmentRepository(uow).elements(cobra)} == {
            ben: "SELF",
            ana: "SPOUSE",
        }
    at(clock, date(2026, 12, 15))
    for _ in range(2):
        with platform.db.unit_of_work(tenant_id) as uow:
            service.renew(uow, cobra, PPO, plans)
    assert terms(platform, tenant_id, cobra) == [
        (date(2026, 4, 1), date(2026, 12, 31), "EE+SP", 112200),
        (date(2027, 1, 1), date(2027, 9, 30), "EE+SP", 112200),
        (date(2027, 10, 1), date(2027, 12, 31), "EE", 61200),  # Ana's 18 months are over: Ben alone
        (date(2028, 1, 1), date(2028, 10, 31), "EE", 61200),
    ]
    assert spans(platform, tenant_id, ana)[-1] == ("COBRA", date(2027, 1, 1), date(2027, 9, 30))
    assert spans(platform, tenant_id, ben)[-1] == ("COBRA", date(2028, 1, 1), date(2028, 10, 31))
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(service.CobraNotAvailable):
        service.renew(uow, cobra, PPO, plans)


def test_other_group_cover_ends_a_dependents_continuation_and_medicare_the_subscribers(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    cobra = elect(platform, tenant_id, plans, terminated, ana, ben)

    def end(party: uuid.UUID, reason: CobraEnd, on: date, last: date | None = None) -> CobraCase:
        with platform.db.unit_of_work(tenant_id) as uow:
            return service.end_cobra(
                uow, terminated, CobraEndCreate(party_id=party, reason=reason, event_date=on, end_date=last), plans
            )

    at(clock, date(2026, 7, 10))
    # Medicare from before the election does not end continuation
    with pytest.raises(service.CobraEndRefused) as before:
        end(ben, CobraEnd.MEDICARE_ENTITLEMENT, date(2026, 4, 1))
    assert before.value.problem()["code"] == "cobra_end_refused"
    # Ben's new employer covers him from 1 September: his continuation ends on 31 August
    ended = end(ben, CobraEnd.OTHER_GROUP_COVERAGE, date(2026, 9, 1), date(2026, 8, 31))
    assert (ended.status, ended.ended_on, ended.end_reason) == ("ENDED", date(2026, 8, 31), "OTHER_GROUP_COVERAGE")
    assert spans(platform, tenant_id, ben)[-1] == ("COBRA", date(2026, 4, 1), date(2026, 8, 31))
    assert terms(platform, tenant_id, cobra)[-1] == (date(2026, 9, 1), date(2026, 12, 31), "EE", 61200)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        last = service.EnrollmentRepository(uow).transactions(cobra)[-1]
        assert (last.transaction_type, last.reason, last.effective_date) == (
            "REMOVE_DEPENDENT",
            "OTHER_GROUP_COVERAGE",
            date(2026, 8, 31),
        )
    with pytest.raises(service.CobraAlreadyEnded) as twice:
        end(ben, CobraEnd.OTHER_GROUP_COVERAGE, date(2026, 9, 1))
    assert twice.value.problem()["status"] == 409
    # Ana becomes entitled to Medicare on 1 October, told on 15 September: her policy ends on 30 September
    at(clock, date(2026, 9, 15))
    ended = end(ana, CobraEnd.MEDICARE_ENTITLEMENT, date(2026, 10, 1))
    assert (ended.status, ended.ended_on, ended.end_reason) == ("ENDED", date(2026, 9, 30), "MEDICARE_ENTITLEMENT")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        policy = uow.session.get(Policy, cobra)
        assert (policy.status, policy.status_reason) == ("TERMINATED", "MEDICARE_ENTITLEMENT")  # type: ignore[union-attr]
    assert spans(platform, tenant_id, ana)[-1] == ("COBRA", date(2026, 9, 1), date(2026, 9, 30))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [c.status for c in service.cobra_cases(uow, terminated)] == ["ENDED", "ENDED"]


def test_when_the_subscriber_leaves_the_others_continue_on_their_own_policy(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    cobra = elect(platform, tenant_id, plans, terminated, ana, ben)
    at(clock, date(2026, 9, 15))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.end_cobra(
            uow,
            terminated,
            CobraEndCreate(party_id=ana, reason=CobraEnd.OTHER_GROUP_COVERAGE, event_date=date(2026, 10, 1)),
            plans,
        )
    bens = policy_of(platform, tenant_id, terminated, ben)
    assert (bens.id != cobra, bens.status, bens.subscriber_party_id) == (True, "ACTIVE", ben)
    assert terms(platform, tenant_id, bens.id) == [(date(2026, 10, 1), date(2026, 12, 31), "EE", 61200)]
    assert spans(platform, tenant_id, ben)[-2:] == [
        ("COBRA", date(2026, 4, 1), date(2026, 9, 30)),
        ("COBRA", date(2026, 10, 1), date(2026, 12, 31)),
    ]
    run_billing(platform, tenant_id, (2026, 10))
    assert invoices(platform, tenant_id, bens.id) == [("INDIVIDUAL", date(2026, 10, 1), 61200)]
    assert cases(platform, tenant_id, terminated)[ben].status == "ELECTED"


def test_the_employees_death_on_a_shared_continuation_moves_the_family_to_a_policy_of_their_own(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    ana, ben, cy = family["ana"], family["ben"], family["cy"]
    policy_id = enroll(platform, tenant_id, plans, family)  # Ana, Ben (spouse), Cy (child): EE+FAM 1,600.00
    at(clock, date(2026, 3, 20))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_cobra_event(
            uow, policy_id, CobraEventCreate(event=CobraEvent.TERMINATION, event_date=date(2026, 3, 20)), plans
        )
    at(clock, date(2026, 4, 2))
    anas = elect(platform, tenant_id, plans, policy_id, ana, ben, cy)
    assert terms(platform, tenant_id, anas) == [(date(2026, 4, 1), date(2026, 12, 31), "EE+FAM", 163200)]
    at(clock, date(2026, 6, 10))
    death = CobraSecondEventCreate(event=CobraSecondEvent.DEATH, event_date=date(2026, 6, 3), party_ids=[ben])
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed) as incomplete:
        service.record_cobra_second_event(uow, policy_id, death, plans)  # Cy is on the policy too
    assert incomplete.value.errors[0].code == "incomplete"
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_cobra_second_event(uow, policy_id, death.model_copy(update={"party_ids": [cy, ben]}), plans)
    found = cases(platform, tenant_id, policy_id)
    assert [
        (found[p].status, found[p].continuation_end, found[p].ended_on, found[p].end_reason) for p in (ana, ben, cy)
    ] == [
        ("ENDED", date(2027, 9, 30), date(2026, 6, 30), "DEATH"),
        ("ELECTED", date(2029, 3, 31), None, None),
        ("ELECTED", date(2029, 3, 31), None, None),
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        ended = uow.session.get(Policy, anas)
        assert (ended.status, ended.status_reason) == ("TERMINATED", "DEATH")  # type: ignore[union-attr]
    family_policy = policy_of(platform, tenant_id, policy_id, ben)
    assert (family_policy.subscriber_party_id, family_policy.status) == (ben, "ACTIVE")
    assert family_policy.id == policy_of(platform, tenant_id, policy_id, cy).id
    # Ben the subscriber, Cy his child: EE+CH at 102 % of 1,000.00
    assert terms(platform, tenant_id, family_policy.id) == [(date(2026, 7, 1), date(2026, 12, 31), "EE+CH", 102000)]
    assert spans(platform, tenant_id, cy)[-2:] == [
        ("COBRA", date(2026, 4, 1), date(2026, 6, 30)),
        ("COBRA", date(2026, 7, 1), date(2026, 12, 31)),
    ]
    assert spans(platform, tenant_id, ana)[-1] == ("COBRA", date(2026, 4, 1), date(2026, 6, 30))


def test_the_report_deadlines_of_cases_written_before_they_were_kept(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    """Migration 0031 works the report deadlines out for the cases already there."""
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    elect(platform, tenant_id, plans, terminated, ben)
    at(clock, date(2026, 12, 1))
    divorce = CobraSecondEventCreate(event=CobraSecondEvent.DIVORCE, event_date=date(2026, 11, 20), party_ids=[ben])
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_cobra_second_event(uow, terminated, divorce, plans)

    def deadlines() -> dict[uuid.UUID, tuple[date | None, date | None]]:
        return {
            party: (case.disability_notice_by, case.second_event_notice_deadline)
            for party, case in cases(platform, tenant_id, terminated).items()
        }

    recorded = deadlines()
    assert recorded == {ana: (date(2027, 9, 30), None), ben: (date(2027, 9, 30), date(2027, 1, 19))}
    platform.db.dispose()
    command.downgrade(migrate.alembic_config(platform.db), "0030_credentialing_doc_files")
    migrate.upgrade(platform.db)
    assert deadlines() == recorded
