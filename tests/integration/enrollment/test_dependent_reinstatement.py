"""A dependent's last removal undone (``service.reinstate_dependent``): cover restored with no gap,
the removal kept in the history, the policy priced again, the events, and the refusals.

FakePlans: PPO-2026 costs 600.00 a month for EE, 1,100.00 for EE+SP, 1,000.00 for EE+CH and
1,600.00 for EE+FAM (the subscriber's share 40 %); HMO-2026 is 100.00 less at every tier.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from olly.enrollment import service
from olly.enrollment.models import CoverageSpan, PolicyTerm, PolicyTransaction
from olly.enrollment.rules import CobraEvent, QualifyingEvent, Relationship, TerminationReason
from olly.enrollment.schemas import (
    CobraEventCreate,
    DependentAdd,
    DependentReinstate,
    DependentRemove,
    PlanChange,
    Termination,
)
from olly.kernel.clock import FixedClock
from olly.kernel.errors import OllyError, ValidationFailed
from olly.platform.runtime import Platform
from tests.factories import HMO, PLAN_IDS, PPO, FakePlans, enroll, person
from tests.integration.enrollment.cobra_support import events

#: When the removal and the reinstatement are recorded in most tests, and a moment between them.
REMOVED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
BETWEEN = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
REINSTATED_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def covered(
    platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID, on: date, as_known_at: datetime | None = None
) -> list[tuple[str, str]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return [
            (c.term.plan_code, c.term.tier_code)
            for c in service.coverage_on(uow, party_id, on, as_known_at=as_known_at)
        ]


def current_spans(
    platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID
) -> list[tuple[str, str, int, date, date | None]]:
    """The person's coverage as now known: (plan, tier, total premium, from, to), in date order."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.execute(
            select(
                PolicyTerm.plan_code,
                PolicyTerm.tier_code,
                PolicyTerm.total_premium_minor,
                CoverageSpan.valid_from,
                CoverageSpan.valid_to,
            )
            .join(PolicyTerm, PolicyTerm.id == CoverageSpan.term_id)
            .where(CoverageSpan.party_id == party_id, CoverageSpan.superseded_at.is_(None))
            .order_by(CoverageSpan.valid_from)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def terms(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> list[tuple[str, str, date, int]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return [
            (t.plan_code, t.tier_code, t.period_start, t.total_premium_minor)
            for t in service.EnrollmentRepository(uow).terms(policy_id)
        ]


def history(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> list[PolicyTransaction]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = service.EnrollmentRepository(uow).transactions(policy_id)
        uow.session.expunge_all()
        return found


def counts(platform: Platform, tenant_id: uuid.UUID) -> tuple[int, int, int]:
    """Transactions, spans (superseded included) and terms: a refusal changes none of them."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return (
            uow.session.scalar(select(func.count()).select_from(PolicyTransaction)) or 0,
            uow.session.scalar(select(func.count()).select_from(CoverageSpan)) or 0,
            uow.session.scalar(select(func.count()).select_from(PolicyTerm)) or 0,
        )


def remove(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    policy_id: uuid.UUID,
    party_id: uuid.UUID,
    reason: TerminationReason = TerminationReason.VOLUNTARY,
    last_day: date = date(2026, 3, 31),
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        service.remove_dependent(
            uow, policy_id, DependentRemove(party_id=party_id, reason=reason, termination_date=last_day), plans
        )


def reinstate(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, policy_id: uuid.UUID, party_id: uuid.UUID
) -> PolicyTransaction:
    with platform.db.unit_of_work(tenant_id) as uow:
        transaction = service.reinstate_dependent(uow, policy_id, DependentReinstate(party_id=party_id), plans)
        uow.flush()
        uow.session.expunge(transaction)
        return transaction


def submitted(platform: Platform) -> list[tuple[object, ...]]:
    return [
        (p["electionType"], p["memberId"], p["effectiveDate"], p["tierCode"], p["totalPremium"], p["dependentCount"])
        for p in events(platform, "enrollment.enrollment.submitted")
    ]


def plan_changes(platform: Platform) -> list[tuple[object, ...]]:
    return [
        (p["planId"], p["effectiveDate"], p["tierCode"], p["totalPremium"], p["memberPremium"])
        for p in events(platform, "enrollment.enrollment.plan_changed")
    ]


def test_a_child_removed_by_mistake_is_covered_again_from_the_day_after_and_the_family_repriced(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family, activate=True)
    clock.set(REMOVED_AT)
    remove(platform, tenant_id, plans, policy_id, family["cy"])
    assert covered(platform, tenant_id, family["cy"], date(2026, 4, 1)) == []
    clock.set(REINSTATED_AT)
    transaction = reinstate(platform, tenant_id, plans, policy_id, family["cy"])

    removal = history(platform, tenant_id, policy_id)[1]
    assert (transaction.transaction_type, transaction.effective_date, transaction.recorded_at) == (
        "REINSTATE_DEPENDENT",
        date(2026, 4, 1),
        REINSTATED_AT,
    )
    assert transaction.detail == {"partyId": str(family["cy"]), "reinstates": str(removal.id)}
    # the removal stays in the history, the reinstatement after it
    assert [(t.transaction_type, t.effective_date) for t in history(platform, tenant_id, policy_id)] == [
        ("NEW", date(2026, 1, 1)),
        ("REMOVE_DEPENDENT", date(2026, 3, 31)),
        ("REINSTATE_DEPENDENT", date(2026, 4, 1)),
    ]
    # the removal repriced April on as EE+SP; the child back makes it EE+FAM again, from 1 April
    assert terms(platform, tenant_id, policy_id) == [
        (PPO, "EE+FAM", date(2026, 1, 1), 160000),
        (PPO, "EE+SP", date(2026, 4, 1), 110000),
        (PPO, "EE+FAM", date(2026, 4, 1), 160000),
    ]
    for who in ("ana", "ben", "cy"):
        assert current_spans(platform, tenant_id, family[who]) == [
            (PPO, "EE+FAM", 160000, date(2026, 1, 1), date(2026, 3, 31)),
            (PPO, "EE+FAM", 160000, date(2026, 4, 1), date(2026, 12, 31)),
        ]
    assert covered(platform, tenant_id, family["cy"], date(2026, 4, 1)) == [(PPO, "EE+FAM")]
    assert covered(platform, tenant_id, family["cy"], date(2026, 12, 31)) == [(PPO, "EE+FAM")]
    # as it stood between the removal and the reinstatement: cover ended on 31 March
    assert covered(platform, tenant_id, family["cy"], date(2026, 4, 1), as_known_at=BETWEEN) == []
    assert covered(platform, tenant_id, family["cy"], date(2026, 3, 31), as_known_at=BETWEEN) == [(PPO, "EE+FAM")]
    assert covered(platform, tenant_id, family["ana"], date(2026, 4, 1), as_known_at=BETWEEN) == [(PPO, "EE+SP")]
    # and before the removal: covered all year
    assert covered(
        platform, tenant_id, family["cy"], date(2026, 4, 1), as_known_at=datetime(2026, 3, 1, tzinfo=UTC)
    ) == [(PPO, "EE+FAM")]
    # the events a dependent's change publishes: the repricing, then the person submitted again
    assert plan_changes(platform) == [
        (str(PLAN_IDS[PPO]), "2026-04-01", "EE+SP", "1100.00", "440.00"),
        (str(PLAN_IDS[PPO]), "2026-04-01", "EE+FAM", "1600.00", "640.00"),
    ]
    assert submitted(platform) == [
        ("NEW", str(family["ana"]), "2026-01-01", "EE+FAM", "1600.00", 2),
        ("REINSTATE_DEPENDENT", str(family["cy"]), "2026-04-01", "EE+FAM", "1600.00", 2),
    ]
    assert [(p["memberId"], p["terminationDate"]) for p in events(platform, "enrollment.enrollment.terminated")] == [
        (str(family["cy"]), "2026-03-31")
    ]


def test_a_death_reported_in_error_is_undone_to_the_very_span_the_removal_ended(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    dan = person(platform, tenant_id, "Dan", date(2018, 6, 1))
    family = {**family, "dan": dan}
    policy_id = enroll(platform, tenant_id, plans, family, (("cy", "CHILD"), ("dan", "CHILD")), activate=True)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (original,) = [s for s in service.EnrollmentRepository(uow).current_spans(policy_id) if s.party_id == dan]
        original_term, first_recorded = original.term_id, original.recorded_at
    clock.set(REMOVED_AT)
    remove(platform, tenant_id, plans, policy_id, dan, TerminationReason.DEATH)
    clock.set(REINSTATED_AT)
    transaction = reinstate(platform, tenant_id, plans, policy_id, dan)

    # EE+CH with one child or two: no repricing, so the span the removal ended is recorded again
    assert terms(platform, tenant_id, policy_id) == [(PPO, "EE+CH", date(2026, 1, 1), 100000)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        every = uow.session.scalars(
            select(CoverageSpan).where(CoverageSpan.party_id == dan).order_by(CoverageSpan.recorded_at)
        ).all()
        assert [(s.term_id, s.valid_from, s.valid_to, s.recorded_at, s.superseded_at) for s in every] == [
            (original_term, date(2026, 1, 1), date(2026, 12, 31), first_recorded, REMOVED_AT),
            (original_term, date(2026, 1, 1), date(2026, 3, 31), REMOVED_AT, REINSTATED_AT),
            (original_term, date(2026, 1, 1), date(2026, 12, 31), REINSTATED_AT, None),
        ]
        assert every[-1].transaction_id == transaction.id
    assert covered(platform, tenant_id, dan, date(2026, 4, 1), as_known_at=BETWEEN) == []
    assert covered(platform, tenant_id, dan, date(2026, 4, 1)) == [(PPO, "EE+CH")]
    assert plan_changes(platform) == []
    assert submitted(platform)[-1] == ("REINSTATE_DEPENDENT", str(dan), "2026-04-01", "EE+CH", "1000.00", 2)


def test_days_whose_term_changed_since_the_removal_go_to_the_term_in_force_then(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family, activate=True)
    clock.set(REMOVED_AT)
    remove(platform, tenant_id, plans, policy_id, family["cy"])
    clock.set(datetime(2026, 4, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:  # a move: the HMO from 1 May
        service.change_plan(
            uow,
            policy_id,
            PlanChange(plan_code=HMO, qualifying_event=QualifyingEvent.MOVE, event_date=date(2026, 4, 5)),
            plans,
        )
    clock.set(datetime(2026, 4, 20, 9, 0, tzinfo=UTC))
    reinstate(platform, tenant_id, plans, policy_id, family["cy"])

    # April on the PPO, May on the HMO, each priced again for the family of three
    assert terms(platform, tenant_id, policy_id) == [
        (PPO, "EE+FAM", date(2026, 1, 1), 160000),
        (PPO, "EE+SP", date(2026, 4, 1), 110000),
        (PPO, "EE+FAM", date(2026, 4, 1), 160000),
        (HMO, "EE+SP", date(2026, 5, 1), 100000),
        (HMO, "EE+FAM", date(2026, 5, 1), 150000),
    ]
    for who in ("ana", "ben", "cy"):
        assert current_spans(platform, tenant_id, family[who]) == [
            (PPO, "EE+FAM", 160000, date(2026, 1, 1), date(2026, 3, 31)),
            (PPO, "EE+FAM", 160000, date(2026, 4, 1), date(2026, 4, 30)),
            (HMO, "EE+FAM", 150000, date(2026, 5, 1), date(2026, 12, 31)),
        ]
    assert plan_changes(platform)[-2:] == [
        (str(PLAN_IDS[PPO]), "2026-04-01", "EE+FAM", "1600.00", "640.00"),
        (str(PLAN_IDS[HMO]), "2026-05-01", "EE+FAM", "1500.00", "600.00"),
    ]
    assert submitted(platform)[-1] == ("REINSTATE_DEPENDENT", str(family["cy"]), "2026-04-01", "EE+FAM", "1600.00", 2)


def _refused(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, policy_id: uuid.UUID, party_id: uuid.UUID
) -> OllyError:
    before = counts(platform, tenant_id)
    published = len(events(platform, "enrollment.enrollment.submitted"))
    with pytest.raises(OllyError) as refused:
        reinstate(platform, tenant_id, plans, policy_id, party_id)
    assert counts(platform, tenant_id) == before
    assert len(events(platform, "enrollment.enrollment.submitted")) == published
    return refused.value


def test_someone_with_no_removal_in_effect_is_refused_and_nothing_changes(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family, activate=True)
    never_removed = _refused(platform, tenant_id, plans, policy_id, family["cy"])
    assert (never_removed.code, never_removed.status, never_removed.detail, never_removed.extra) == (
        "no_removal_to_undo",
        422,
        "the person has no removal in effect on this policy",
        {"field": "party_id"},
    )
    subscriber = _refused(platform, tenant_id, plans, policy_id, family["ana"])
    assert (subscriber.code, subscriber.detail) == (
        "no_removal_to_undo",
        "the subscriber is reinstated with the policy",
    )
    stranger = _refused(platform, tenant_id, plans, policy_id, family["grandma"])
    assert stranger.code == "no_removal_to_undo"
    # once undone, the removal is no longer in effect: a second 025 changes nothing
    clock.set(REMOVED_AT)
    remove(platform, tenant_id, plans, policy_id, family["cy"])
    clock.set(REINSTATED_AT)
    reinstate(platform, tenant_id, plans, policy_id, family["cy"])
    assert _refused(platform, tenant_id, plans, policy_id, family["cy"]).code == "no_removal_to_undo"
    # nor is one followed by an addition of the same person
    remove(platform, tenant_id, plans, policy_id, family["ben"], TerminationReason.DIVORCE)
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.add_dependent(
            uow,
            policy_id,
            DependentAdd(
                party_id=family["ben"],
                relationship=Relationship.SPOUSE,
                qualifying_event=QualifyingEvent.MARRIAGE,
                event_date=date(2026, 4, 1),
            ),
            plans,
        )
    assert _refused(platform, tenant_id, plans, policy_id, family["ben"]).code == "no_removal_to_undo"


def test_a_terminated_policy_is_reinstated_first(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family, activate=True)
    clock.set(REMOVED_AT)
    remove(platform, tenant_id, plans, policy_id, family["cy"])
    clock.set(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.terminate(
            uow, policy_id, Termination(reason=TerminationReason.VOLUNTARY, termination_date=date(2026, 6, 30))
        )
    refused = _refused(platform, tenant_id, plans, policy_id, family["cy"])
    assert (refused.code, refused.status, refused.detail) == (
        "policy_terminated",
        422,
        "the policy is terminated: reinstate the policy first",
    )
    # the policy's reinstatement leaves the child's removal as it was; then the child's undoes it
    clock.set(datetime(2026, 3, 18, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.reinstate(uow, policy_id)
    assert covered(platform, tenant_id, family["cy"], date(2026, 4, 1)) == []
    clock.set(REINSTATED_AT)
    reinstate(platform, tenant_id, plans, policy_id, family["cy"])
    assert current_spans(platform, tenant_id, family["cy"]) == [
        (PPO, "EE+FAM", 160000, date(2026, 1, 1), date(2026, 3, 31)),
        (PPO, "EE+FAM", 160000, date(2026, 4, 1), date(2026, 12, 31)),
    ]


def test_a_removal_that_was_a_cobra_qualifying_event_is_not_undone(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family, activate=True)
    clock.set(REMOVED_AT)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_cobra_event(
            uow,
            policy_id,
            CobraEventCreate(event=CobraEvent.DIVORCE, event_date=date(2026, 3, 5), party_id=family["ben"]),
            plans,
        )
    refused = _refused(platform, tenant_id, plans, policy_id, family["ben"])
    assert (refused.code, refused.detail) == (
        "removal_tied_to_cobra",
        "the removal was a COBRA qualifying event: the person was offered continuation",
    )


def test_a_child_who_turned_26_stays_removed(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    eli = person(platform, tenant_id, "Eli", date(2000, 3, 5))
    policy_id = enroll(platform, tenant_id, plans, {**family, "eli": eli}, (("eli", "CHILD"),), activate=True)
    clock.set(REMOVED_AT)
    remove(platform, tenant_id, plans, policy_id, eli, TerminationReason.AGED_OUT)
    before = counts(platform, tenant_id)
    with pytest.raises(ValidationFailed) as refused:
        reinstate(platform, tenant_id, plans, policy_id, eli)
    assert [(e.field, e.code) for e in refused.value.errors] == [("birth_date", "aged_out")]
    assert counts(platform, tenant_id) == before


def test_a_removal_before_the_renewal_is_not_undone(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family, activate=True)
    clock.set(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    remove(platform, tenant_id, plans, policy_id, family["cy"], last_day=date(2026, 11, 30))
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.renew(uow, policy_id, PPO, plans)
    refused = _refused(platform, tenant_id, plans, policy_id, family["cy"])
    assert (refused.code, refused.detail) == (
        "renewed_since_removal",
        "the policy was renewed after the removal: add the person again",
    )
