"""The eligibility read model follows enrollment; the fast path answers from it and its cache."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from olly.eligibility import rules, service
from olly.enrollment import service as enrollment
from olly.enrollment.rules import TerminationReason
from olly.enrollment.schemas import Termination
from olly.kernel.clock import FixedClock
from olly.kernel.money import Money
from olly.platform.cache import MemoryCache
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform
from tests.factories import FakePlans, enroll


class FakeBenefits:
    def __init__(self) -> None:
        self.calls = 0

    def benefits(self, uow: UnitOfWork, plan_code: str, on: date, row: rules.CoverageRow) -> rules.PlanBenefits:
        self.calls += 1
        usd = lambda text: Money.parse(text, "USD")  # noqa: E731
        return rules.PlanBenefits(
            plan_name=f"{plan_code} plan",
            plan_type="PPO",
            currency="USD",
            services={
                "office_visit": rules.ServiceBenefit(
                    "office_visit",
                    True,
                    rules.CostShareView(usd("25.00"), Decimal("0"), False),
                    rules.CostShareView(usd("0.00"), Decimal("40"), True),
                    False,
                )
            },
            deductibles=[
                rules.Accumulator("IN_NETWORK", usd("1000.00"), usd("1000.00"), usd("2000.00"), usd("2000.00"))
            ],
            out_of_pocket=[
                rules.Accumulator("IN_NETWORK", usd("4000.00"), usd("4000.00"), usd("8000.00"), usd("8000.00"))
            ],
        )


@pytest.fixture
def active_family(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID]
) -> uuid.UUID:
    policy_id = enroll(platform, tenant_id, plans, family)
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, policy_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.sync_policy(uow, policy_id) == {family["ana"], family["ben"], family["cy"]}
    return policy_id


def test_a_covered_member_gets_plan_cost_sharing_and_accumulators(
    platform: Platform, tenant_id: uuid.UUID, active_family: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        answer = service.check(uow, family["cy"], date(2026, 2, 10), "98", FakeBenefits())
    assert answer["covered"] is True and answer["status"] == "COVERED"
    assert (answer["plan_code"], answer["relationship"], answer["coverage_start"], answer["coverage_end"]) == (
        "PPO-2026",
        "CHILD",
        "2026-01-01",
        "2026-12-31",
    )
    assert answer["service"]["in_network"] == {
        "copay": "25.00",
        "coinsurance_percent": "0",
        "deductible_applies": False,
    }
    assert answer["service"]["out_of_network"]["coinsurance_percent"] == "40"
    assert answer["deductible"][0]["individual_remaining"] == "1000.00"
    assert answer["out_of_pocket"][0]["family"] == "8000.00"
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        not_covered = service.check(uow, family["cy"], date(2025, 12, 1), "98", FakeBenefits())
        unknown = service.check(uow, uuid.uuid4(), date(2026, 2, 10), "98", FakeBenefits())
    assert (not_covered["covered"], not_covered["status"]) == (False, "NOT_COVERED_ON_DATE")
    assert unknown == {
        "member_id": unknown["member_id"],
        "service_date": "2026-02-10",
        "service_type": "98",
        "covered": False,
        "status": "NOT_FOUND",
    }


def test_the_cache_serves_repeats_and_a_termination_invalidates_it(
    platform: Platform,
    tenant_id: uuid.UUID,
    active_family: uuid.UUID,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
) -> None:
    cache, benefits = MemoryCache(), FakeBenefits()
    for _ in range(3):
        with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
            assert service.check(uow, family["ben"], date(2026, 6, 1), "98", benefits, cache)["covered"]
    assert benefits.calls == 1  # two of the three answers came from the cache
    clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.terminate(uow, active_family, Termination(reason=TerminationReason.VOLUNTARY))
        service.sync_policy(uow, active_family, cache)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        after = service.check(uow, family["ben"], date(2026, 6, 1), "98", benefits, cache)
    assert (after["covered"], after["status"], after["coverage_end"]) == (False, "TERMINATED", "2026-03-31")


def test_find_member_needs_number_birth_date_and_name_to_agree(
    platform: Platform, tenant_id: uuid.UUID, active_family: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        number = service.check(uow, family["cy"], date(2026, 2, 1), "30", FakeBenefits())["member_number"]
        assert service.find_member(uow, number.lower(), date(2015, 9, 1), "RIVERA") == family["cy"]
        assert service.find_member(uow, number, date(2015, 9, 2), "Rivera") is None
        assert service.find_member(uow, number, date(2015, 9, 1), "Rivers") is None
        assert service.find_member(uow, "M000000000", date(2015, 9, 1), "Rivera") is None


def test_sync_is_idempotent(
    platform: Platform, tenant_id: uuid.UUID, active_family: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    for _ in range(2):
        with platform.db.unit_of_work(tenant_id) as uow:
            service.sync_policy(uow, active_family)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        from olly.eligibility.repository import EligibilityRepository

        assert len(EligibilityRepository(uow).records_of_policy(active_family)) == 3


def test_cached_answers_are_the_bytes_sent_and_group_facts_are_invalidated_with_them(
    platform: Platform,
    tenant_id: uuid.UUID,
    active_family: uuid.UUID,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
) -> None:
    from olly.platform.cache import shared_cache

    cache, benefits = MemoryCache(), FakeBenefits()
    key = service.answer_key(cache, tenant_id, family["ben"], date(2026, 6, 1), "98")
    assert service.cached_answer(cache, key) is None
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        computed = service.answer(uow, family["ben"], date(2026, 6, 1), "98", benefits, cache, key)
    hit = service.cached_answer(cache, key)
    assert hit is not None
    assert hit.body == computed.body
    assert json.loads(hit.body) == computed.document == hit.document
    assert hit.body.startswith(b'{"member_id":"') and b" " not in hit.body[:40]  # compact, as FastAPI sends it

    loads: list[uuid.UUID] = []

    def load(uow: UnitOfWork) -> list[uuid.UUID]:
        loads.append(family["ben"])
        return [uuid.UUID(int=7)]

    groups = [service.group_accounts(platform.db, tenant_id, family["ben"], load) for _ in range(3)]
    assert groups == [frozenset({uuid.UUID(int=7)})] * 3
    assert len(loads) == 1  # two of the three came from the cache
    clock.set(datetime(2026, 3, 3, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.terminate(uow, active_family, Termination(reason=TerminationReason.VOLUNTARY))
        service.sync_policy(uow, active_family, shared_cache(platform.settings.redis_url))
    assert service.group_accounts(platform.db, tenant_id, family["ben"], load) == frozenset({uuid.UUID(int=7)})
    assert len(loads) == 2  # the coverage change abandoned the cached facts


class Ticking:
    """A monotonic clock for the cache that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_about_to_expire_is_served_then_recomputed_in_the_background(
    platform: Platform,
    tenant_id: uuid.UUID,
    active_family: uuid.UUID,
    family: dict[str, uuid.UUID],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from olly.platform.cache import shared_refresher

    class Longest:
        def uniform(self, low: float, high: float) -> float:
            return high

    monkeypatch.setattr(service, "_jitter", Longest())  # every entry lives the full 120 s
    ticking = Ticking()
    cache, benefits = MemoryCache(clock=ticking), FakeBenefits()
    on = date(2026, 6, 1)
    key = service.answer_key(cache, tenant_id, family["ben"], on, "98")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        service.answer(uow, family["ben"], on, "98", benefits, cache, key)
    groups_key = key.rsplit(":", 2)[0] + ":groups"
    assert cache.lookup(groups_key) == ((str(active_family_account(platform, tenant_id, active_family)),), 120.0)

    ticking.now += 95  # 25 s left: served as it is
    hit = service.cached_answer(cache, key)
    assert hit is not None and not hit.refresh_due
    ticking.now += 10  # 15 s left: served, and due for a refresh
    hit = service.cached_answer(cache, key)
    assert hit is not None and hit.refresh_due and hit.document["covered"]
    assert benefits.calls == 1
    for _ in range(3):  # asked for by three readers, recomputed once
        service.refresh_answer(platform.db, cache, tenant_id, family["ben"], on, "98", benefits)
    shared_refresher().drain()
    assert benefits.calls == 2
    refreshed = service.cached_answer(cache, key)
    assert refreshed is not None and not refreshed.refresh_due and refreshed.body == hit.body
    found = cache.lookup(groups_key)  # the decision point's facts were refreshed with it
    assert found is not None and found[1] == 120.0


def test_no_answer_outlives_the_ttl(
    platform: Platform, tenant_id: uuid.UUID, active_family: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    ticking = Ticking()
    cache, benefits = MemoryCache(clock=ticking), FakeBenefits()
    keys = [service.answer_key(cache, tenant_id, family["ben"], date(2026, 6, day), "98") for day in range(1, 21)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        for key, day in zip(keys, range(1, 21), strict=True):
            service.answer(uow, family["ben"], date(2026, 6, day), "98", benefits, cache, key)
    left = sorted(found[1] for key in keys if (found := cache.lookup_document(key)) is not None)
    assert len(left) == 20 and left[0] >= 90.0 and left[-1] <= 120.0 and left[0] != left[-1]  # spread out
    ticking.now += service.ANSWER_TTL_SECONDS
    assert all(service.cached_answer(cache, key) is None for key in keys)


def active_family_account(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> uuid.UUID:
    from olly.eligibility.repository import EligibilityRepository

    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return EligibilityRepository(uow).records_of_policy(policy_id)[0].account_id


def _outbox(platform: Platform, topic: str) -> list[Any]:
    from sqlalchemy import select

    from olly.platform.bus.models import OutboxRecord

    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        return list(uow.session.scalars(select(OutboxRecord).where(OutboxRecord.topic == topic)))


def _message(record: Any) -> Any:
    from olly.platform.bus.messages import Message

    return Message(
        topic=record.topic,
        partition=0,
        offset=record.id,
        key=record.key,
        event_id=record.event_id,
        event_type=record.event_type,
        schema_version=record.schema_version,
        tenant_id=record.tenant_id,
        correlation_id=record.correlation_id,
        causation_id=record.causation_id,
        occurred_at=record.occurred_at,
        created_at=record.created_at,
        payload=json.loads(record.payload),
    )


def test_a_dependents_termination_is_announced_whichever_event_comes_first(
    platform: Platform,
    tenant_id: uuid.UUID,
    active_family: uuid.UUID,
    family: dict[str, uuid.UUID],
    plans: FakePlans,
    clock: FixedClock,
) -> None:
    from olly.eligibility import handlers
    from olly.enrollment.schemas import DependentRemove

    clock.set(datetime(2026, 3, 10, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.remove_dependent(
            uow, active_family, DependentRemove(party_id=family["ben"], reason=TerminationReason.DIVORCE), plans
        )
    (changed,) = _outbox(platform, "enrollment.enrollment.plan_changed")
    (terminated,) = _outbox(platform, "enrollment.enrollment.terminated")
    # The repricing's event first: its copy already ends Ben's coverage, and says nothing.
    for record in (changed, terminated):
        with platform.db.unit_of_work(tenant_id) as uow:
            handlers.on_enrollment_changed(uow, _message(record))
    announced = [json.loads(r.payload) for r in _outbox(platform, "eligibility.coverage.terminated")]
    assert [(a["memberId"], a["terminationDate"], a["reason"]) for a in announced] == [
        (str(family["ben"]), "2026-03-31", "LOSS_OF_ELIGIBILITY")
    ]

    # The policy's end later announces the two still covered, not Ben again.
    clock.set(datetime(2026, 5, 4, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.terminate(uow, active_family, Termination(reason=TerminationReason.VOLUNTARY))
    ended = _outbox(platform, "enrollment.enrollment.terminated")[-1]
    with platform.db.unit_of_work(tenant_id) as uow:
        handlers.on_enrollment_changed(uow, _message(ended))
    announced = [json.loads(r.payload) for r in _outbox(platform, "eligibility.coverage.terminated")][1:]
    assert sorted((a["memberId"], a["terminationDate"], a["reason"]) for a in announced) == sorted(
        [(str(family["ana"]), "2026-05-31", "VOLUNTARY"), (str(family["cy"]), "2026-05-31", "VOLUNTARY")]
    )
