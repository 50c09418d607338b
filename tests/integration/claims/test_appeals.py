"""Appeals on both engines: the adjudicated-claims read model fed through the bus, the filing
window, one open appeal per claim, decisions and their events."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from olly.claims import appeals as service
from olly.claims.events import ClaimApproved, ClaimDenied
from olly.kernel.clock import FixedClock
from olly.kernel.errors import Conflict, NotFound
from olly.kernel.events import OutgoingEvent
from olly.platform.bus.runtime import BusRuntime, default_registry
from olly.platform.runtime import Platform

ADJUDICATED = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
MEMBER = uuid.UUID("01900000-0000-7000-8000-000000000001")
PROVIDER = uuid.UUID("01900000-0000-7000-8000-0000000000aa")


@pytest.fixture
def bus(platform: Platform) -> BusRuntime:
    return BusRuntime(platform.db, platform.settings, default_registry(), platform.outbox, clock=platform.clock)


def denied(claim_id: uuid.UUID, deadline: date = date(2026, 8, 29), at: datetime = ADJUDICATED) -> ClaimDenied:
    return ClaimDenied(
        claim_id=claim_id,
        member_id=MEMBER,
        provider_id=PROVIDER,
        denial_reason_code="CO-197",
        denial_reason_text="Required prior authorization not on file",
        appeal_deadline=deadline,
        adjudicated_at=at,
    )


def approved(claim_id: uuid.UUID, status: str = "PARTIALLY_APPROVED") -> ClaimApproved:
    zero = "0.00"
    return ClaimApproved(
        claim_id=claim_id,
        member_id=MEMBER,
        provider_id=PROVIDER,
        status=status,
        total_billed_amount="500.00",
        allowed_amount="200.00",
        paid_amount="160.00",
        member_responsibility="40.00",
        deductible_applied=zero,
        copay_applied=zero,
        coinsurance_applied="40.00",
        adjudicated_at=ADJUDICATED,
    )


def adjudicated(
    platform: Platform, tenant_id: uuid.UUID, bus: BusRuntime, *payloads: ClaimApproved | ClaimDenied
) -> None:
    """Publish as the claims core does, then let the appeals consumer build its read model."""
    with platform.db.unit_of_work(tenant_id) as uow:
        for payload in payloads:
            uow.publish(payload, key=payload.member_id)
    bus.drain()


def file(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        appeal = service.file_appeal(
            uow, service.AppealFiling(claim_id, "account:member", "The MRI was authorised by phone", "docs/a1.pdf")
        )
        return appeal.id


def test_the_read_model_keeps_the_latest_adjudication(
    platform: Platform, tenant_id: uuid.UUID, bus: BusRuntime
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    later = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    adjudicated(platform, tenant_id, bus, denied(first), approved(second))
    adjudicated(platform, tenant_id, bus, denied(first, date(2026, 9, 16), later))
    adjudicated(platform, tenant_id, bus, denied(first, date(2026, 1, 1)))  # older, arrives late: ignored
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        one, two = service.appealable_claim(uow, first), service.appealable_claim(uow, second)
        assert (one.status, one.appeal_deadline, one.adjudicated_at, one.denial_reason_code) == (
            "DENIED",
            date(2026, 9, 16),
            later,
            "CO-197",
        )
        # A partial approval carries no deadline: 180 days after 2 March is 29 August.
        assert (two.status, two.appeal_deadline, two.member_id, two.provider_id) == (
            "PARTIALLY_APPROVED",
            date(2026, 8, 29),
            MEMBER,
            PROVIDER,
        )


def test_day_180_is_allowed_and_day_181_refused(
    platform: Platform, tenant_id: uuid.UUID, bus: BusRuntime, clock: FixedClock
) -> None:
    on_time, late = uuid.uuid4(), uuid.uuid4()
    adjudicated(platform, tenant_id, bus, approved(on_time), approved(late))
    clock.set(datetime(2026, 8, 29, 23, 59, tzinfo=UTC))  # day 180 after 2 March
    appeal_id = file(platform, tenant_id, on_time)
    clock.set(datetime(2026, 8, 30, 0, 0, tzinfo=UTC))  # day 181
    with pytest.raises(service.AppealWindowClosed) as refused:
        file(platform, tenant_id, late)
    assert refused.value.status == 422
    assert refused.value.problem()["appealDeadline"] == "2026-08-29"
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        appeal = service.get(uow, appeal_id)
        assert (appeal.status, appeal.appeal_deadline, appeal.reason, appeal.documents_reference) == (
            "OPEN",
            date(2026, 8, 29),
            "The MRI was authorised by phone",
            "docs/a1.pdf",
        )
        # Post-service appeals are decided within 60 days of filing.
        assert appeal.decision_due_at == datetime(2026, 10, 28, 23, 59, tzinfo=UTC)
        assert [a.id for a in service.queue(uow)] == [appeal_id]
        assert service.queue(uow, status=service.AppealStatus.UPHELD) == []


def test_the_denial_events_deadline_is_the_window(
    platform: Platform, tenant_id: uuid.UUID, bus: BusRuntime, clock: FixedClock
) -> None:
    claim_id = uuid.uuid4()
    adjudicated(platform, tenant_id, bus, denied(claim_id, deadline=date(2026, 4, 2)))
    clock.set(datetime(2026, 4, 3, 8, 0, tzinfo=UTC))
    with pytest.raises(service.AppealWindowClosed):
        file(platform, tenant_id, claim_id)


def test_only_adverse_determinations_are_appealed(
    platform: Platform, tenant_id: uuid.UUID, bus: BusRuntime, clock: FixedClock
) -> None:
    paid_in_full = uuid.uuid4()
    adjudicated(platform, tenant_id, bus, approved(paid_in_full, status="APPROVED"))
    clock.set(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    with pytest.raises(service.ClaimNotAppealable):
        file(platform, tenant_id, paid_in_full)
    with pytest.raises(NotFound):
        file(platform, tenant_id, uuid.uuid4())


def _decide(
    platform: Platform, tenant_id: uuid.UUID, appeal_id: uuid.UUID, outcome: service.AppealOutcome
) -> list[OutgoingEvent]:
    with platform.db.unit_of_work(tenant_id) as uow:
        service.decide(uow, appeal_id, outcome, "Reviewed the phone log", "account:examiner")
        return list(uow.pending_events)


def test_one_open_appeal_then_upheld_then_overturned(
    platform: Platform, tenant_id: uuid.UUID, bus: BusRuntime, clock: FixedClock
) -> None:
    claim_id = uuid.uuid4()
    adjudicated(platform, tenant_id, bus, denied(claim_id))
    clock.set(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    first = file(platform, tenant_id, claim_id)
    with pytest.raises(service.AppealAlreadyOpen) as refused:
        file(platform, tenant_id, claim_id)
    assert refused.value.status == 409
    clock.set(datetime(2026, 3, 20, 11, 0, tzinfo=UTC))
    events = _decide(platform, tenant_id, first, service.AppealOutcome.UPHELD)
    assert [(e.topic, e.key, e.payload["eventType"], e.payload["resolvedAt"]) for e in events] == [
        ("claims.appeal.resolved", str(MEMBER), "APPEAL_UPHELD", "2026-03-20T11:00:00Z")
    ]
    with pytest.raises(Conflict):
        _decide(platform, tenant_id, first, service.AppealOutcome.OVERTURNED)
    second = file(platform, tenant_id, claim_id)  # the first is decided: a further appeal may be filed
    events = _decide(platform, tenant_id, second, service.AppealOutcome.OVERTURNED)
    assert [e.payload for e in events] == [
        {
            "eventType": "APPEAL_OVERTURNED",
            "schemaVersion": events[0].payload["schemaVersion"],
            "appealId": str(second),
            "claimId": str(claim_id),
            "memberId": str(MEMBER),
            "level": "INTERNAL",
            "resolvedAt": "2026-03-20T11:00:00Z",
        }
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [(a.status, a.decision_note) for a in service.queue(uow)] == [
            ("UPHELD", "Reviewed the phone log"),
            ("OVERTURNED", "Reviewed the phone log"),
        ]
