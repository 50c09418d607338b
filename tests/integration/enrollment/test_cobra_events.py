"""What COBRA extensions and early ends announce, with the fixed clock: the reason on
``enrollment.enrollment.terminated`` (catalog ``reason`` and Olly's ``detailedReason``),
``enrollment.cobra.extended`` and ``enrollment.cobra.ended``, the beneficiary's inbox, and consumers
fed an event written before ``detailedReason`` existed (Avro v1).

Ana (employee) and Ben (spouse) are covered by their employer's group PPO; Ana's employment ends on
20 March 2026 (group cover ends on 31 March, continuation from 1 April 2026 to 30 September 2027).
"""

from __future__ import annotations

import json
import uuid
from datetime import date

from sqlalchemy import select

from olly.eligibility.repository import EligibilityRepository
from olly.enrollment import service
from olly.enrollment.models import Policy
from olly.enrollment.rules import CobraEnd, CobraSecondEvent, TerminationReason
from olly.enrollment.schemas import CobraEndCreate, CobraSecondEventCreate, Termination
from olly.kernel.clock import FixedClock
from olly.platform.bus.models import OutboxRecord, ProcessedEvent
from olly.platform.runtime import Platform
from tests.factories import FakePlans
from tests.integration.enrollment.cobra_support import at, cobra_inbox, disability, elect, events, policy_of
from tests.support.bus import drain


def _terminations(platform: Platform, policy_id: uuid.UUID) -> list[tuple[object, ...]]:
    return [
        (e["memberId"], e["terminationDate"], e["reason"], e.get("detailedReason"))
        for e in events(platform, "enrollment.enrollment.terminated")
        if e["enrollmentId"] == str(policy_id)
    ]


def _end(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, group: uuid.UUID, data: CobraEndCreate
) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.end_cobra(uow, group, data, plans).id


def test_an_early_end_gives_its_reason_to_the_termination_and_tells_the_beneficiary(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    # the group policy's own termination carries Olly's reason too
    assert _terminations(platform, terminated) == [(str(ana), "2026-03-31", "LOSS_OF_ELIGIBILITY", "EMPLOYMENT_ENDED")]
    at(clock, date(2026, 4, 2))
    cobra = elect(platform, tenant_id, plans, terminated, ana, ben)
    drain(platform)
    # Ben is covered by his new employer from 1 September; Ana entitled to Medicare from 1 October
    at(clock, date(2026, 7, 10))
    bens = _end(
        platform,
        tenant_id,
        plans,
        terminated,
        CobraEndCreate(
            party_id=ben,
            reason=CobraEnd.OTHER_GROUP_COVERAGE,
            event_date=date(2026, 9, 1),
            end_date=date(2026, 8, 31),
        ),
    )
    drain(platform)
    at(clock, date(2026, 9, 15))
    anas = _end(
        platform,
        tenant_id,
        plans,
        terminated,
        CobraEndCreate(party_id=ana, reason=CobraEnd.MEDICARE_ENTITLEMENT, event_date=date(2026, 10, 1)),
    )
    assert _terminations(platform, cobra) == [
        (str(ben), "2026-08-31", "LOSS_OF_ELIGIBILITY", "OTHER_GROUP_COVERAGE"),
        (str(ana), "2026-09-30", "LOSS_OF_ELIGIBILITY", "MEDICARE_ENTITLEMENT"),
    ]
    assert events(platform, "enrollment.cobra.ended") == [
        {
            "eventType": "COBRA_ENDED",
            "schemaVersion": "1.0",
            "cobraCaseId": str(bens),
            "memberId": str(ben),
            "reason": "OTHER_GROUP_COVERAGE",
            "coverageEndDate": "2026-08-31",
            "endedAt": "2026-07-10T10:00:00Z",
        },
        {
            "eventType": "COBRA_ENDED",
            "schemaVersion": "1.0",
            "cobraCaseId": str(anas),
            "memberId": str(ana),
            "reason": "MEDICARE_ENTITLEMENT",
            "coverageEndDate": "2026-09-30",
            "endedAt": "2026-09-15T10:00:00Z",
        },
    ]
    assert events(platform, "enrollment.cobra.extended") == []
    drain(platform)
    assert cobra_inbox(platform, tenant_id, ben)[-1] == (
        "COBRA_ENDED_OTHER_GROUP_COVERAGE",
        "Your continuation coverage ends",
        "You are covered by another group health plan, so COBRA continuation ends early: it covers you until "
        "2026-08-31.",
    )
    assert cobra_inbox(platform, tenant_id, ana)[-1] == (
        "COBRA_ENDED_MEDICARE_ENTITLEMENT",
        "Your continuation coverage ends",
        "You are entitled to Medicare, so COBRA continuation ends early: it covers you until 2026-09-30.",
    )
    # eligibility passes the catalog's reason on (it was VOLUNTARY): the group cover's end, then the
    # continuation's
    assert [
        (e["terminationDate"], e["reason"])
        for e in events(platform, "eligibility.coverage.terminated")
        if e["memberId"] == str(ana)
    ] == [("2026-03-31", "LOSS_OF_ELIGIBILITY"), ("2026-09-30", "LOSS_OF_ELIGIBILITY")]


def test_a_termination_event_from_before_detailed_reason_is_consumed_as_before(
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
    drain(platform)
    at(clock, date(2026, 7, 10))
    _end(
        platform,
        tenant_id,
        plans,
        terminated,
        CobraEndCreate(party_id=ben, reason=CobraEnd.OTHER_GROUP_COVERAGE, event_date=date(2026, 8, 1)),
    )
    # the event as a producer before Avro v2 wrote it: no detailedReason
    with platform.db.unit_of_work(None, all_tenants=True) as uow:
        row = uow.session.scalars(
            select(OutboxRecord)
            .where(OutboxRecord.topic == "enrollment.enrollment.terminated")
            .order_by(OutboxRecord.id.desc())
            .limit(1)
        ).one()
        payload = json.loads(row.payload)
        assert payload.pop("detailedReason") == "OTHER_GROUP_COVERAGE"
        row.payload = json.dumps(payload)
        event_id = row.event_id
    drain(platform)
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        dead = uow.session.scalars(select(OutboxRecord.topic).where(OutboxRecord.topic.like("%.dlq"))).all()
        handled = set(
            uow.session.scalars(select(ProcessedEvent.consumer_group).where(ProcessedEvent.event_id == event_id))
        )
    assert (dead, handled) == (
        [],
        {"eligibility-enrollment-consumer", "claims-enrollment-consumer", "billing-enrollment-consumer"},
    )
    # eligibility's copy of the coverage follows: Ben covered to 31 July
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        records = EligibilityRepository(uow).records_of_policy(cobra)
        assert sorted((r.party_id == ben, r.valid_from, r.valid_to) for r in records if r.party_id == ben) == [
            (True, date(2026, 4, 1), date(2026, 7, 31))
        ]


def test_a_disability_extension_is_announced_to_each_beneficiary_of_the_event(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    elect(platform, tenant_id, plans, terminated, ana, ben)
    drain(platform)
    at(clock, date(2026, 12, 1))
    with platform.db.unit_of_work(tenant_id) as uow:
        extended = service.record_cobra_disability(
            uow, terminated, disability(ben, date(2026, 5, 15), date(2026, 11, 2)), plans
        )
        case_ids = {c.party_id: c.id for c in extended}
    assert events(platform, "enrollment.cobra.extended") == [
        {
            "eventType": "COBRA_EXTENDED",
            "schemaVersion": "1.0",
            "cobraCaseId": str(case_ids[party]),
            "memberId": str(party),
            "extension": "DISABILITY",
            "previousCoverageEndDate": "2027-09-30",
            "coverageEndDate": "2028-08-31",
            "extendedAt": "2026-12-01T10:00:00Z",
        }
        for party in (ana, ben)
    ]
    # no date of the determination travels
    assert "2026-05-15" not in json.dumps(events(platform, "enrollment.cobra.extended"))
    drain(platform)
    disability_message = (
        "COBRA_EXTENDED_DISABILITY",
        "Your continuation coverage was extended",
        "After a Social Security disability determination, COBRA continuation may cover you until 2028-08-31 "
        "(instead of 2027-09-30).",
    )
    assert cobra_inbox(platform, tenant_id, ana)[-1] == cobra_inbox(platform, tenant_id, ben)[-1] == disability_message


def test_the_employees_death_ends_their_continuation_and_tells_no_one_of_it(
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
    drain(platform)
    at(clock, date(2026, 6, 10))
    death = CobraSecondEventCreate(event=CobraSecondEvent.DEATH, event_date=date(2026, 6, 3), party_ids=[ben])
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_cobra_second_event(uow, terminated, death, plans)
    assert _terminations(platform, anas) == [(str(ana), "2026-06-30", "OTHER", "DEATH")]
    assert [(e["memberId"], e["reason"], e["coverageEndDate"]) for e in events(platform, "enrollment.cobra.ended")] == [
        (str(ana), "DEATH", "2026-06-30")
    ]
    assert [
        (e["memberId"], e["extension"], e["previousCoverageEndDate"], e["coverageEndDate"])
        for e in events(platform, "enrollment.cobra.extended")
    ] == [(str(ben), "SECOND_EVENT", "2027-09-30", "2029-03-31")]
    assert policy_of(platform, tenant_id, terminated, ben).id != anas
    drain(platform)
    assert [kind for kind, _, _ in cobra_inbox(platform, tenant_id, ana)] == [
        "COBRA_ELECTION_NOTICE",
        "COBRA_ELECTED",
    ]
    assert cobra_inbox(platform, tenant_id, ben)[-1] == (
        "COBRA_EXTENDED_SECOND_EVENT",
        "Your continuation coverage was extended",
        "After a second qualifying event, COBRA continuation may cover you until 2029-03-31 (instead of 2027-09-30).",
    )


def test_a_continuation_lapsed_for_non_payment_ends_its_cases_and_a_reinstatement_reopens_them(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    """The continuation policy itself ends (billing's lapse: a NON_PAYMENT termination) rather than
    through a case: every case it continued ends with it, and each beneficiary is told; undoing the
    termination (a late payment billing accepted) continues the cases as they were."""
    ana, ben = family["ana"], family["ben"]
    at(clock, date(2026, 4, 2))
    cobra = elect(platform, tenant_id, plans, terminated, ana, ben)
    drain(platform)
    at(clock, date(2026, 6, 3))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.terminate(
            uow, cobra, Termination(reason=TerminationReason.NON_PAYMENT, termination_date=date(2026, 5, 31))
        )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        cases = {c.party_id: (c.status, c.ended_on, c.end_reason) for c in service.cobra_cases(uow, terminated)}
    assert cases == {ana: ("ENDED", date(2026, 5, 31), "NON_PAYMENT"), ben: ("ENDED", date(2026, 5, 31), "NON_PAYMENT")}
    assert sorted(
        (e["memberId"], e["reason"], e["coverageEndDate"]) for e in events(platform, "enrollment.cobra.ended")
    ) == sorted([(str(ana), "NON_PAYMENT", "2026-05-31"), (str(ben), "NON_PAYMENT", "2026-05-31")])
    drain(platform)
    assert cobra_inbox(platform, tenant_id, ben)[-1] == (
        "COBRA_ENDED_NON_PAYMENT",
        "Your continuation coverage ended",
        "The continuation premium was not paid in time, so COBRA continuation ended: it covered you until 2026-05-31.",
    )
    at(clock, date(2026, 6, 10))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.reinstate(uow, cobra, reason="late premium accepted")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        cases = {c.party_id: (c.status, c.ended_on, c.end_reason) for c in service.cobra_cases(uow, terminated)}
        assert uow.session.get(Policy, cobra).status == "ACTIVE"  # type: ignore[union-attr]
    assert cases == {ana: ("ELECTED", None, None), ben: ("ELECTED", None, None)}
