"""A deletion request removes a person's eligibility copies; their dependents' copies stay, naming
the pseudonym as subscriber.

Ana's group PPO covers her, Ben (spouse) and Cy (child) from 1 January 2026; Tom has a policy of
his own. The copies are made on 15 January; claims' spending of Ana, Ben (with the family's) and
Tom arrives on 3 February.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Uuid, func, select

from olly.claims.events import AccumulatorUpdated
from olly.eligibility import rules, service
from olly.eligibility.models import AccumulatorBalance, CoverageRecord
from olly.eligibility.personal_data import EligibilityPersonalData
from olly.eligibility.repository import EligibilityRepository
from olly.kernel.clock import FixedClock
from olly.platform.cache import shared_cache
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory
from olly.platform.runtime import Platform
from tests.factories import FakePlans, enroll, person

PSEUDONYM = uuid.UUID("01900000-0000-7000-8000-0000000000ff")
SPENT_ON = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)


class NoBenefits:
    """Coverage only: the plan's benefits are not what these tests are about."""

    def benefits(self, uow: UnitOfWork, plan_code: str, on: date, row: rules.CoverageRow) -> None:
        return None


def _spent(member: uuid.UUID, family: uuid.UUID | None, used: str) -> dict[str, Any]:
    return AccumulatorUpdated(
        member_id=member,
        family_id=family,
        claim_id=uuid.uuid4(),
        plan_year=date(2026, 1, 1),
        deductible_used_in_network=used,
        deductible_used_out_of_network="0.00",
        out_of_pocket_used_in_network=used,
        out_of_pocket_used_out_of_network="0.00",
        family_deductible_used_in_network=used if family else None,
        family_deductible_used_out_of_network="0.00" if family else None,
        family_out_of_pocket_used_in_network=used if family else None,
        family_out_of_pocket_used_out_of_network="0.00" if family else None,
        updated_at=SPENT_ON,
    ).wire()


def _policies(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Ana's family policy, Tom and his policy, copied and with spending recorded."""
    policy = enroll(platform, tenant_id, plans, family, activate=True)
    tom = person(platform, tenant_id, "Tom", date(1980, 3, 3))
    tom_policy = enroll(platform, tenant_id, plans, {"ana": tom}, (), activate=True)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.sync_policy(uow, policy)
        service.sync_policy(uow, tom_policy)
    clock.set(SPENT_ON)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_accumulators(uow, _spent(family["ana"], None, "150.00"))
        service.record_accumulators(uow, _spent(family["ben"], policy, "40.00"))
        service.record_accumulators(uow, _spent(tom, None, "75.00"))
    return policy, tom, tom_policy


def _naming(uow: UnitOfWork, party: uuid.UUID) -> set[str]:
    """Every ``table.column`` of eligibility that still holds this id."""
    found = set()
    for model in (CoverageRecord, AccumulatorBalance):
        for column in model.__table__.columns:
            if not isinstance(column.type, Uuid) or column.name == "tenant_id":
                continue
            if uow.session.scalar(select(func.count()).select_from(model).where(column == party)):
                found.add(f"{model.__tablename__}.{column.name}")
    return found


def _rows_naming(uow: UnitOfWork, party: uuid.UUID) -> list[dict[str, Any]]:
    rows = []
    for model in (CoverageRecord, AccumulatorBalance):
        for row in uow.session.scalars(select(model)):
            values = {a.key: getattr(row, a.key) for a in model.__mapper__.column_attrs}
            if party in values.values():
                rows.append(values)
    return sorted(rows, key=lambda r: str(r["id"]))


def _summary(items: list[PersonalDataItem]) -> list[tuple[str, str, RecordCategory, date]]:
    return [(i.record_type, i.record_id, i.category, i.record_date) for i in items]


def test_deleting_a_subscriber_removes_their_copies_and_names_the_pseudonym_on_their_dependents(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    ana, ben, cy = family["ana"], family["ben"], family["cy"]
    policy, tom, tom_policy = _policies(platform, tenant_id, plans, family, clock)
    cache = shared_cache(platform.db.settings.redis_url)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        answer = service.check(uow, ana, date(2026, 2, 10), "30", NoBenefits(), cache)
        assert (answer["covered"], answer["relationship"]) == (True, "SELF")
        repo = EligibilityRepository(uow)
        (record,) = repo.records_of(ana)
        (balance,) = repo.member_balances(ana)
        toms = _rows_naming(uow, tom)
        assert _naming(uow, ana) == {
            "coverage_records.party_id",
            "coverage_records.subscriber_party_id",
            "eligibility_accumulators.holder_id",
        }
    handler, subject = EligibilityPersonalData(), DataSubject(tenant_id, ana, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id) as uow:
        items = handler.find(uow, subject)
        assert _summary(items) == [
            ("coverage_record", str(record.id), RecordCategory.OTHER, date(2026, 1, 15)),
            ("policy_subscriber", str(policy), RecordCategory.OTHER, date(2026, 1, 15)),
            ("accumulator_balance", str(balance.id), RecordCategory.OTHER, date(2026, 2, 3)),
        ]
        # a dependent's own copy only; a stranger's nothing of Ana's
        assert [i.record_type for i in handler.find(uow, DataSubject(tenant_id, cy, PSEUDONYM))] == ["coverage_record"]
        assert [i.record_type for i in handler.find(uow, DataSubject(tenant_id, tom, PSEUDONYM))] == [
            "coverage_record",
            "accumulator_balance",
        ]
        handler.delete(uow, subject, items)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert _naming(uow, ana) == set()
        repo = EligibilityRepository(uow)
        assert sorted((r.party_id, r.subscriber_party_id) for r in repo.records_of_policy(policy)) == sorted(
            [(ben, PSEUDONYM), (cy, PSEUDONYM)]
        )
        balances = {
            (b.holder_id, b.level, b.deductible_in_network_minor)
            for b in uow.session.scalars(select(AccumulatorBalance))
        }
        assert balances == {(ben, "MEMBER", 4000), (policy, "FAMILY", 4000), (tom, "MEMBER", 7500)}
        assert _rows_naming(uow, tom) == toms
        assert handler.find(uow, subject) == []
        # the cached answer was abandoned when the deletion committed; the family is still covered
        assert service.check(uow, ana, date(2026, 2, 10), "30", NoBenefits(), cache)["status"] == "NOT_FOUND"
        assert service.check(uow, ben, date(2026, 2, 10), "30", NoBenefits(), cache)["covered"] is True
        assert service.check(uow, tom, date(2026, 2, 10), "30", NoBenefits(), cache)["covered"] is True
        assert repo.parties_of_policies([tom_policy]) == {(tom_policy, tom)}


def test_a_copy_is_never_kept_pseudonymising_deletes_it_too(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    policy, tom, _ = _policies(platform, tenant_id, plans, family, clock)
    handler, subject = EligibilityPersonalData(), DataSubject(tenant_id, family["ben"], PSEUDONYM)
    with platform.db.unit_of_work(tenant_id) as uow:
        items = handler.find(uow, subject)
        assert [i.record_type for i in items] == ["coverage_record", "accumulator_balance"]
        handler.pseudonymise(uow, subject, items)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert _naming(uow, family["ben"]) == _naming(uow, PSEUDONYM) == set()
        records = EligibilityRepository(uow).records_of_policy(policy)
        assert sorted((r.party_id, r.subscriber_party_id) for r in records) == sorted(
            [(family["ana"], family["ana"]), (family["cy"], family["ana"])]
        )
        assert {(b.holder_id, b.level) for b in uow.session.scalars(select(AccumulatorBalance))} == {
            (family["ana"], "MEMBER"),
            (policy, "FAMILY"),
            (tom, "MEMBER"),
        }
