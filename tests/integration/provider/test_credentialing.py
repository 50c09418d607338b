"""Credentialing timelines on the fixed clock, on SQLite and PostgreSQL.

Approval → reminders 120/90/30 days before recredentialing → EXPIRED when overdue; licence lapse →
EXPIRED; sanction → SUSPENDED; denial; recredentialing that supersedes the previous approval.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from olly.kernel.clock import FixedClock
from olly.kernel.errors import BusinessRuleViolation, Conflict
from olly.provider import rules as r
from olly.provider import service
from tests.integration.provider import factories

STATUS_TOPIC = "provider.credentialing.status_changed"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def run_timers(work, clock: FixedClock) -> service.TimerRunReport:  # type: ignore[no-untyped-def]
    with work() as uow:
        return service.run_due_timers(uow, clock.now())


def standing(work, provider_id: uuid.UUID) -> tuple[str, list[tuple[str, str, str]]]:  # type: ignore[no-untyped-def]
    with work() as uow:
        timeline = service.credentialing_timeline(uow, provider_id)
        return timeline.provider.credentialing_status, [
            (c.from_status, c.to_status, c.reason) for c in timeline.status_changes
        ]


def pending_timers(work, provider_id: uuid.UUID) -> list[tuple[str, datetime, int | None]]:  # type: ignore[no-untyped-def]
    with work() as uow:
        return [
            (t.kind, t.due_at, t.days_before)
            for t in service.credentialing_timeline(uow, provider_id).timers
            if t.status == "PENDING"
        ]


def test_approval_reminders_and_expiry_when_recredentialing_is_overdue(work, clock: FixedClock, outbox) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        provider = service.register_provider(
            uow, factories.individual(npi="1234567893", licence_expires_on=date(2030, 6, 30))
        )
        provider_id = provider.id
        service.create_contract(
            uow, service.ContractDraft(provider_id, "K-2026-001", "PPO", "TIER_1", date(2026, 1, 1))
        )
        request_id = service.open_credentialing(uow, provider_id).id
    with work() as uow:
        factories.complete_verification(uow, request_id)
        assert service.request_details(uow, request_id).request.state == "COMMITTEE_REVIEW"

    clock.set(at(2026, 1, 28, 10))
    outbox.clear()
    with work() as uow:
        service.decide(uow, request_id, r.CommitteeDecision.APPROVE, actor="committee", effective_on=date(2026, 2, 1))
    assert outbox.payloads(STATUS_TOPIC) == [
        {
            "eventType": "CREDENTIALING_APPROVED",
            "schemaVersion": "1.0",
            "providerId": str(provider_id),
            "npi": "1234567893",
            "providerName": "Jane Smith MD",
            "specialty": "Orthopaedic Surgery",
            "credentialingStatus": "APPROVED",
            "networkStatus": "IN_NETWORK",
            "effectiveDate": "2026-02-01",
            "approvedAt": "2026-01-28T10:00:00Z",
            "changedAt": "2026-01-28T10:00:00Z",
            "reason": "COMMITTEE_APPROVED",
            "requestId": str(request_id),
        }
    ]
    assert outbox.events[-1].key == str(provider_id)
    assert pending_timers(work, provider_id) == [
        ("RECREDENTIALING_REMINDER", at(2028, 9, 30), 120),
        ("RECREDENTIALING_REMINDER", at(2028, 10, 30), 90),
        ("RECREDENTIALING_REMINDER", at(2028, 12, 29), 30),
        ("RECREDENTIALING_DUE", at(2029, 1, 28), None),
        ("LICENCE_EXPIRY", at(2030, 7, 1), None),
    ]

    # A minute before the first reminder nothing is due.
    clock.set(at(2028, 9, 29, 23, 59))
    assert run_timers(work, clock).fired == 0

    clock.set(at(2028, 9, 30))
    first = run_timers(work, clock)
    assert (first.fired, first.reminders, first.requests_opened, first.status_changes) == (1, 1, 1, 0)
    assert run_timers(work, clock).fired == 0  # a fired timer never fires again
    with work() as uow:
        timeline = service.credentialing_timeline(uow, provider_id)
        assert [(x.days_before, x.recredentialing_due_on, x.sent_at) for x in timeline.reminders] == [
            (120, date(2029, 1, 28), at(2028, 9, 30))
        ]
        assert [(req.request.kind, req.request.state) for req in timeline.requests] == [
            ("INITIAL", "APPROVED"),
            ("RECREDENTIALING", "APPLICATION"),
        ]

    clock.set(at(2028, 10, 30, 6))
    assert (run_timers(work, clock).reminders, run_timers(work, clock).fired) == (1, 0)
    clock.set(at(2028, 12, 29, 6))
    third = run_timers(work, clock)
    assert (third.reminders, third.requests_opened) == (1, 0)  # the open request is reused

    outbox.clear()
    clock.set(at(2029, 1, 28, 0, 5))
    overdue = run_timers(work, clock)
    assert (overdue.fired, overdue.status_changes) == (1, 1)
    status, changes = standing(work, provider_id)
    assert status == "EXPIRED"
    assert changes == [
        ("NOT_CREDENTIALED", "APPROVED", "COMMITTEE_APPROVED"),
        ("APPROVED", "EXPIRED", "RECREDENTIALING_OVERDUE"),
    ]
    [expired] = outbox.payloads(STATUS_TOPIC)
    assert (expired["eventType"], expired["networkStatus"], expired["effectiveDate"], expired["approvedAt"]) == (
        "CREDENTIALING_EXPIRED",
        "OUT_OF_NETWORK",
        "2029-01-28",
        "2026-01-28T10:00:00Z",
    )
    with work() as uow:
        reminders = service.credentialing_timeline(uow, provider_id).reminders
        assert [(x.days_before, x.sent_at) for x in reminders] == [
            (120, at(2028, 9, 30)),
            (90, at(2028, 10, 30, 6)),
            (30, at(2028, 12, 29, 6)),
        ]
        assert service.request_details(uow, request_id).request.state == "EXPIRED"
    assert pending_timers(work, provider_id) == [("LICENCE_EXPIRY", at(2030, 7, 1), None)]


def test_recredentialing_on_time_supersedes_the_previous_approval(work, clock: FixedClock, outbox) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        provider_id = service.register_provider(uow, factories.individual(licence_expires_on=date(2032, 1, 31))).id
    clock.set(at(2026, 1, 28, 10))
    with work() as uow:
        first_request = factories.credential(uow, provider_id)
    clock.set(at(2028, 9, 30, 1))
    assert run_timers(work, clock).requests_opened == 1
    with work() as uow:
        recredentialing = service.credentialing_timeline(uow, provider_id).requests[-1].request.id
        factories.complete_verification(uow, recredentialing)
    clock.set(at(2028, 11, 15, 14))
    outbox.clear()
    with work() as uow:
        service.decide(uow, recredentialing, r.CommitteeDecision.APPROVE, actor="committee")
    [approved] = outbox.payloads(STATUS_TOPIC)
    assert (approved["eventType"], approved["approvedAt"], approved["effectiveDate"]) == (
        "CREDENTIALING_APPROVED",
        "2028-11-15T14:00:00Z",
        "2028-11-15",
    )
    with work() as uow:
        assert service.request_details(uow, first_request).request.state == "SUPERSEDED"
        provider = service.provider_details(uow, provider_id).provider
        assert (provider.credentialing_status, provider.recredentialing_due_on) == ("APPROVED", date(2031, 11, 15))
    # the old cycle's remaining timers were cancelled; the new cycle has its own
    assert pending_timers(work, provider_id) == [
        ("RECREDENTIALING_REMINDER", at(2031, 7, 18), 120),
        ("RECREDENTIALING_REMINDER", at(2031, 8, 17), 90),
        ("RECREDENTIALING_REMINDER", at(2031, 10, 16), 30),
        ("RECREDENTIALING_DUE", at(2031, 11, 15), None),
        ("LICENCE_EXPIRY", at(2032, 2, 1), None),
    ]
    clock.set(at(2029, 1, 28, 1))
    assert run_timers(work, clock).fired == 0
    assert standing(work, provider_id)[0] == "APPROVED"


def test_licence_lapse_expires_credentialing_and_a_renewal_prevents_it(work, clock: FixedClock, outbox) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        lapsing = service.register_provider(uow, factories.individual(licence_expires_on=date(2026, 6, 30))).id
        renewing = service.register_provider(
            uow, factories.individual(first_name="Ravi", last_name="Patel", licence_expires_on=date(2026, 6, 30))
        ).id
        factories.credential(uow, lapsing)
        factories.credential(uow, renewing)
    clock.set(at(2026, 6, 20, 12))
    with work() as uow:
        [licence] = service.provider_details(uow, renewing).licences
        service.renew_licence(uow, licence.id, date(2028, 6, 30))
    clock.set(at(2026, 6, 30, 23, 59))
    assert run_timers(work, clock).fired == 0  # valid through its expiry date
    outbox.clear()
    clock.set(at(2026, 7, 1, 0, 0))
    report = run_timers(work, clock)
    assert (report.fired, report.status_changes) == (1, 1)
    assert standing(work, lapsing) == (
        "EXPIRED",
        [("NOT_CREDENTIALED", "APPROVED", "COMMITTEE_APPROVED"), ("APPROVED", "EXPIRED", "LICENCE_LAPSED")],
    )
    assert standing(work, renewing)[0] == "APPROVED"
    [event] = outbox.payloads(STATUS_TOPIC)
    assert (event["eventType"], event["providerId"], event["effectiveDate"], event["reason"]) == (
        "CREDENTIALING_EXPIRED",
        str(lapsing),
        "2026-07-01",
        "LICENCE_LAPSED",
    )
    # the expired approval's recredentialing timers are cancelled; the renewed licence has a new expiry timer
    assert pending_timers(work, lapsing) == []
    assert ("LICENCE_EXPIRY", at(2028, 7, 1), None) in pending_timers(work, renewing)


def test_a_new_licence_in_the_same_state_covers_the_lapse(work, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        provider_id = service.register_provider(uow, factories.individual(licence_expires_on=date(2026, 6, 30))).id
        factories.credential(uow, provider_id)
        service.add_licence(uow, provider_id, r.LicenceDraft("NY", "NY-NEW-1", date(2029, 6, 30)))
    clock.set(at(2026, 7, 1, 3))
    report = run_timers(work, clock)
    assert (report.fired, report.status_changes) == (1, 0)
    assert standing(work, provider_id)[0] == "APPROVED"


def test_a_sanction_suspends_and_blocks_reapproval_until_lifted(work, clock: FixedClock, outbox) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        provider_id = service.register_provider(uow, factories.individual()).id
        first_request = factories.credential(uow, provider_id)
        service.create_contract(uow, service.ContractDraft(provider_id, "K-9", "PPO", "TIER_1", date(2026, 1, 1)))
    clock.set(at(2026, 3, 2, 15, 30))
    outbox.clear()
    with work() as uow:
        sanction = service.record_sanction(
            uow, provider_id, r.SanctionSource.OIG_LEIE, "LEIE 2026-02 entry 4411", date(2026, 3, 1), actor="compliance"
        )
        sanction_id = sanction.id
    [event] = outbox.payloads(STATUS_TOPIC)
    assert (event["eventType"], event["credentialingStatus"], event["networkStatus"], event["changedAt"]) == (
        "CREDENTIALING_SUSPENDED",
        "SUSPENDED",
        "OUT_OF_NETWORK",
        "2026-03-02T15:30:00Z",
    )
    with work() as uow:
        assert service.request_details(uow, first_request).request.state == "SUSPENDED"
        assert service.network_decision(
            uow, service.provider_details(uow, provider_id).provider, date(2026, 3, 2)
        ).reason == ("credentialing_suspended")
    assert pending_timers(work, provider_id) == [("LICENCE_EXPIRY", at(2027, 7, 1), None)]

    with work() as uow:
        request_id = service.open_credentialing(uow, provider_id).id
        factories.complete_verification(uow, request_id)
    outbox.clear()
    with pytest.raises(BusinessRuleViolation) as refused, work() as uow:
        service.decide(uow, request_id, r.CommitteeDecision.APPROVE, actor="committee")
    assert refused.value.extra["reason"] == "active_sanction"
    with work() as uow:  # nothing changed
        assert service.request_details(uow, request_id).request.state == "COMMITTEE_REVIEW"
    assert standing(work, provider_id)[0] == "SUSPENDED"
    assert outbox.events == []

    with work() as uow:
        service.lift_sanction(uow, sanction_id, date(2026, 3, 2))
        service.decide(uow, request_id, r.CommitteeDecision.APPROVE, actor="committee")
    assert standing(work, provider_id)[0] == "APPROVED"
    assert outbox.types(STATUS_TOPIC) == ["CREDENTIALING_APPROVED"]


def test_denial_and_refused_steps_change_nothing(work, clock: FixedClock, outbox) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        provider_id = service.register_provider(uow, factories.individual()).id
        request_id = service.open_credentialing(uow, provider_id).id
    with pytest.raises(Conflict), work() as uow:
        service.open_credentialing(uow, provider_id)
    with pytest.raises(BusinessRuleViolation) as missing, work() as uow:
        service.add_document(uow, request_id, factories.document(r.DocumentKind.APPLICATION_FORM))
        service.submit_application(uow, request_id)
    assert missing.value.extra["missing"] == ["ATTESTATION"]
    with work() as uow:  # the whole unit of work rolled back, including the document added first
        details = service.request_details(uow, request_id)
        assert (details.request.state, details.documents, details.verifications) == ("APPLICATION", [], [])

    with work() as uow:
        factories.complete_verification(uow, request_id)
    with pytest.raises(BusinessRuleViolation), work() as uow:
        service.decide(uow, request_id, r.CommitteeDecision.DENY, actor="committee", reason="")
    clock.advance(timedelta(days=3))
    with work() as uow:
        service.decide(uow, request_id, r.CommitteeDecision.DENY, actor="committee", reason="incomplete work history")
    assert standing(work, provider_id) == ("DENIED", [("NOT_CREDENTIALED", "DENIED", "COMMITTEE_DENIED")])
    [denied] = outbox.payloads(STATUS_TOPIC)
    assert (denied["eventType"], denied["approvedAt"], denied["networkStatus"]) == (
        "CREDENTIALING_DENIED",
        None,
        "OUT_OF_NETWORK",
    )
    assert pending_timers(work, provider_id) == [("LICENCE_EXPIRY", at(2027, 7, 1), None)]


def test_failed_verification_still_reaches_the_committee_which_cannot_approve(work) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        provider_id = service.register_provider(uow, factories.individual()).id
        request_id = service.open_credentialing(uow, provider_id).id
        for kind in factories.REQUIRED_DOCUMENTS:
            service.add_document(uow, request_id, factories.document(kind))
        service.submit_application(uow, request_id)
        for item in r.VerificationItem:
            status = (
                r.VerificationStatus.FAILED
                if item is r.VerificationItem.EXCLUSION_CHECK
                else r.VerificationStatus.VERIFIED
            )
            service.record_verification(uow, request_id, item, status, source="SAM.gov", evidence="record", actor="v")
    with pytest.raises(BusinessRuleViolation) as refused, work() as uow:
        service.decide(uow, request_id, r.CommitteeDecision.APPROVE, actor="committee")
    assert refused.value.extra["items"] == ["EXCLUSION_CHECK"]
    assert standing(work, provider_id) == ("NOT_CREDENTIALED", [])


def test_a_failing_timer_is_retried_with_backoff_and_others_still_fire(work, clock: FixedClock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        ok = service.register_provider(uow, factories.individual(licence_expires_on=date(2026, 2, 1))).id
        bad = service.register_provider(
            uow, factories.individual(last_name="Okafor", licence_expires_on=date(2026, 2, 1))
        ).id
        factories.credential(uow, ok)
        factories.credential(uow, bad)
    original = service._change_status

    def flaky(uow, provider, *args, **kwargs):  # type: ignore[no-untyped-def]
        if provider.id == bad:
            raise BusinessRuleViolation("simulated refusal")
        return original(uow, provider, *args, **kwargs)

    monkeypatch.setattr(service, "_change_status", flaky)
    clock.set(at(2026, 2, 2, 8))
    report = run_timers(work, clock)
    assert (report.fired, report.failed, report.status_changes) == (1, 1, 1)
    assert standing(work, ok)[0] == "EXPIRED"
    assert standing(work, bad)[0] == "APPROVED"
    with work() as uow:
        [timer] = [t for t in service.credentialing_timeline(uow, bad).timers if t.kind == "LICENCE_EXPIRY"]
        assert (timer.status, timer.attempts, timer.last_error, timer.due_at) == (
            "PENDING",
            1,
            "business_rule_violation",
            at(2026, 2, 2, 8, 1),
        )
    monkeypatch.setattr(service, "_change_status", original)
    clock.set(at(2026, 2, 2, 8, 1))
    assert run_timers(work, clock).status_changes == 1
    assert standing(work, bad)[0] == "EXPIRED"
