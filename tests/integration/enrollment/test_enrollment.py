"""Enrollment transactions and effective dating, with the fixed clock (2026-01-15)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from olly.enrollment import service
from olly.enrollment.models import CoverageSpan, Policy
from olly.enrollment.rules import Market, QualifyingEvent, Relationship, TerminationReason
from olly.enrollment.schemas import DependentAdd, DependentRemove, EnrollmentCreate, PlanChange, Termination
from olly.kernel.clock import FixedClock
from olly.kernel.errors import BusinessRuleViolation, ValidationFailed
from olly.platform.runtime import Platform
from tests.factories import ACCOUNT, HMO, PPO, FakePlans, enroll


def covered(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID, on: date, **kw: object) -> list[str]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return [c.term.plan_code for c in service.coverage_on(uow, party_id, on, **kw)]  # type: ignore[arg-type]


def test_new_enrollment_covers_the_family_from_the_effective_date(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID]
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    assert plans.calls == [(PPO, date(2026, 1, 1), "EE+FAM", 3)]
    for who in ("ana", "ben", "cy"):
        assert covered(platform, tenant_id, family[who], date(2025, 12, 31)) == []
        assert covered(platform, tenant_id, family[who], date(2026, 1, 1)) == ["PPO-2026"]
        assert covered(platform, tenant_id, family[who], date(2026, 12, 31)) == ["PPO-2026"]
        assert covered(platform, tenant_id, family[who], date(2027, 1, 1)) == []
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (answer,) = service.coverage_on(uow, family["cy"], date(2026, 6, 1))
        assert answer.policy.id == policy_id and answer.policy.status == "SUBMITTED"
        assert (answer.term.tier_code, answer.term.total_premium_minor, answer.term.member_premium_minor) == (
            "EE+FAM",
            160000,
            64000,
        )
        assert answer.element.element_type == "dependent" and answer.element.relationship == "CHILD"
        assert answer.element.member_number.startswith("M") and len(answer.element.member_number) == 10


def test_group_policies_activate_on_their_effective_date(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        later = service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=ACCOUNT,
                subscriber_party_id=family["grandma"],
                plan_code=HMO,
                effective_date=date(2026, 2, 1),
            ),
            plans,
        ).id
    policy_id = enroll(platform, tenant_id, plans, family)
    with platform.db.unit_of_work(tenant_id) as uow:
        assert [p.id for p in service.activate_due(uow)] == [policy_id]
    clock.set(datetime(2026, 2, 1, 0, 5, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert [p.id for p in service.activate_due(uow)] == [later]
        assert service.activate_due(uow) == []


def test_a_birth_reported_20_days_late_covers_from_the_birth_date(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    clock.set(datetime(2026, 1, 23, 10, 0, tzinfo=UTC))  # born 3 January, reported on the 23rd
    with platform.db.unit_of_work(tenant_id) as uow:
        service.add_dependent(
            uow,
            policy_id,
            DependentAdd(
                party_id=family["baby"],
                relationship=Relationship.CHILD,
                qualifying_event=QualifyingEvent.BIRTH,
                event_date=date(2026, 1, 3),
            ),
            plans,
        )
    assert covered(platform, tenant_id, family["baby"], date(2026, 1, 2)) == []
    assert covered(platform, tenant_id, family["baby"], date(2026, 1, 3)) == ["PPO-2026"]
    # as it stood on the 22nd, the baby was not yet known to be covered on the 3rd
    assert (
        covered(platform, tenant_id, family["baby"], date(2026, 1, 3), as_known_at=datetime(2026, 1, 22, tzinfo=UTC))
        == []
    )


def test_a_birth_reported_after_the_window_is_refused_and_nothing_is_written(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    clock.set(datetime(2026, 2, 3, 10, 0, tzinfo=UTC))  # 31 days after the birth
    with pytest.raises(BusinessRuleViolation, match="window"), platform.db.unit_of_work(tenant_id) as uow:
        service.add_dependent(
            uow,
            policy_id,
            DependentAdd(
                party_id=family["baby"],
                relationship=Relationship.CHILD,
                qualifying_event=QualifyingEvent.BIRTH,
                event_date=date(2026, 1, 3),
            ),
            plans,
        )
    assert covered(platform, tenant_id, family["baby"], date(2026, 1, 10)) == []


def test_a_parent_cannot_join_a_group_plan(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID]
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    with pytest.raises(ValidationFailed) as info, platform.db.unit_of_work(tenant_id) as uow:
        service.add_dependent(
            uow,
            policy_id,
            DependentAdd(
                party_id=family["grandma"],
                relationship=Relationship.PARENT,
                qualifying_event=QualifyingEvent.MOVE,
                event_date=date(2026, 1, 10),
            ),
            plans,
        )
    assert [e.code for e in info.value.errors] == ["relationship_not_covered"]


def test_plan_change_splits_coverage_on_the_change_date(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.change_plan(
            uow,
            policy_id,
            PlanChange(plan_code=HMO, qualifying_event=QualifyingEvent.MOVE, event_date=date(2026, 3, 5)),
            plans,
        )
    for who in ("ana", "ben", "cy"):
        assert covered(platform, tenant_id, family[who], date(2026, 3, 31)) == ["PPO-2026"]
        assert covered(platform, tenant_id, family[who], date(2026, 4, 1)) == ["HMO-2026"]
        assert covered(platform, tenant_id, family[who], date(2026, 12, 31)) == ["HMO-2026"]
        # before the change was recorded, April was believed to be under the PPO
        assert covered(
            platform, tenant_id, family[who], date(2026, 4, 1), as_known_at=datetime(2026, 3, 9, tzinfo=UTC)
        ) == ["PPO-2026"]


def test_termination_ends_at_month_end_and_refuses_a_past_date(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    clock.set(datetime(2026, 5, 12, 9, 0, tzinfo=UTC))
    with pytest.raises(BusinessRuleViolation, match="past"), platform.db.unit_of_work(tenant_id) as uow:
        service.terminate(
            uow, policy_id, Termination(reason=TerminationReason.VOLUNTARY, termination_date=date(2026, 4, 30))
        )
    assert covered(platform, tenant_id, family["ana"], date(2026, 6, 1)) == ["PPO-2026"]
    with platform.db.unit_of_work(tenant_id) as uow:
        service.terminate(
            uow, policy_id, Termination(reason=TerminationReason.VOLUNTARY, termination_date=date(2026, 6, 10))
        )
    assert covered(platform, tenant_id, family["ana"], date(2026, 6, 30)) == ["PPO-2026"]
    assert covered(platform, tenant_id, family["ana"], date(2026, 7, 1)) == []
    with pytest.raises(BusinessRuleViolation, match="cannot be changed"), platform.db.unit_of_work(tenant_id) as uow:
        service.terminate(uow, policy_id, Termination(reason=TerminationReason.VOLUNTARY))


def test_non_payment_termination_may_be_back_dated_and_reinstated_without_a_gap(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.terminate(
            uow, policy_id, Termination(reason=TerminationReason.NON_PAYMENT, termination_date=date(2026, 1, 31))
        )
    assert covered(platform, tenant_id, family["ben"], date(2026, 1, 31)) == ["PPO-2026"]
    assert covered(platform, tenant_id, family["ben"], date(2026, 2, 1)) == []
    with platform.db.unit_of_work(tenant_id) as uow:
        service.reinstate(uow, policy_id)
        assert service.EnrollmentRepository(uow).policy(policy_id).status == "ACTIVE"  # type: ignore[union-attr]
    assert covered(platform, tenant_id, family["ben"], date(2026, 2, 1)) == ["PPO-2026"]
    assert covered(platform, tenant_id, family["ben"], date(2026, 12, 31)) == ["PPO-2026"]


def test_remove_dependent_and_renewal(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.remove_dependent(
            uow,
            policy_id,
            DependentRemove(
                party_id=family["ben"], reason=TerminationReason.DIVORCE, termination_date=date(2026, 8, 14)
            ),
            plans,
        )
    assert covered(platform, tenant_id, family["ben"], date(2026, 8, 31)) == ["PPO-2026"]
    assert covered(platform, tenant_id, family["ben"], date(2026, 9, 1)) == []
    clock.set(datetime(2026, 11, 20, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        term = service.renew(uow, policy_id, HMO, plans)
        assert (term.period_start, term.period_end, term.plan_code) == (
            date(2027, 1, 1),
            date(2027, 12, 31),
            "HMO-2026",
        )
    assert covered(platform, tenant_id, family["ana"], date(2027, 1, 1)) == ["HMO-2026"]
    assert covered(platform, tenant_id, family["cy"], date(2027, 6, 1)) == ["HMO-2026"]
    assert covered(platform, tenant_id, family["ben"], date(2027, 1, 1)) == []


def test_enrollment_refuses_bad_families_and_writes_nothing(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID]
) -> None:
    with pytest.raises(ValidationFailed) as info, platform.db.unit_of_work(tenant_id) as uow:
        service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=ACCOUNT,
                subscriber_party_id=family["ana"],
                plan_code=PPO,
                effective_date=date(2026, 1, 1),
                dependents=[
                    {"party_id": family["grandma"], "relationship": "PARENT"},
                    {"party_id": family["baby"], "relationship": "CHILD"},
                    {"party_id": uuid.uuid4(), "relationship": "CHILD"},
                ],
            ),
            plans,
        )
    assert [(e.field, e.code) for e in info.value.errors] == [
        ("dependents.0.relationship", "relationship_not_covered"),
        ("dependents.1.birth_date", "born_after_coverage"),
        ("dependents.2.party_id", "unknown_party"),
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Policy)) == 0
        assert uow.session.scalar(select(func.count()).select_from(CoverageSpan)) == 0


def test_spans_are_never_rewritten(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy_id = enroll(platform, tenant_id, plans, family)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        before = {s.id: (s.valid_from, s.valid_to) for s in uow.session.scalars(select(CoverageSpan))}
    clock.advance(timedelta(days=30))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.terminate(uow, policy_id, Termination(reason=TerminationReason.VOLUNTARY))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        after = {s.id: (s.valid_from, s.valid_to) for s in uow.session.scalars(select(CoverageSpan))}
    assert all(after[k] == v for k, v in before.items())  # old spans kept exactly, only superseded
    assert len(after) == len(before) * 2


def test_billable_terms_prorate_to_the_covered_days(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    from olly.enrollment import public
    from olly.kernel.periods import month_period

    policy_id = enroll(platform, tenant_id, plans, family)
    clock.set(datetime(2026, 3, 10, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.terminate(
            uow, policy_id, Termination(reason=TerminationReason.VOLUNTARY, termination_date=date(2026, 3, 20))
        )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (march,) = public.billable_terms(uow, month_period(2026, 3))
        assert (march.covered_from, march.covered_to, march.covered_people) == (date(2026, 3, 1), date(2026, 3, 31), 3)
        assert (march.total_premium_minor, march.member_premium_minor, march.tier_code) == (160000, 64000, "EE+FAM")
        assert public.billable_terms(uow, month_period(2026, 4)) == []
        assert public.policy(uow, policy_id).status == "TERMINATED"  # type: ignore[union-attr]
