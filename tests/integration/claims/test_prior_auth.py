"""Prior authorisations on both engines: due times, the queue, decisions and their events, units
used, and the engine inputs the adjudication loader reads."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from olly.claims import prior_auth as service
from olly.claims import rules
from olly.claims.authorization_public import prior_authorizations_for, record_units_used, release_units
from olly.claims.jobs import OVERDUE_JOB, escalate_overdue_prior_auths
from olly.kernel.clock import FixedClock
from olly.kernel.errors import BusinessRuleViolation, Conflict, ValidationFailed
from olly.kernel.events import OutgoingEvent
from olly.kernel.periods import DatePeriod
from olly.platform.audit import AuditEvent
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from tests.unit.claims import factories as f

RECEIVED = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
MEMBER = uuid.UUID("01900000-0000-7000-8000-000000000001")
PROVIDER = uuid.UUID("01900000-0000-7000-8000-0000000000aa")
MRI = "70551"
KNEE = "27447"


def request_data(
    *, expedited: bool = False, member: uuid.UUID = MEMBER, **overrides: Any
) -> service.PriorAuthRequestData:
    data = service.PriorAuthRequestData(
        member_id=member,
        requesting_provider_id=PROVIDER,
        requesting_npi=f.IN_NPI,
        services=(service.RequestedService(MRI, 1), service.RequestedService(KNEE, 2)),
        service_from=date(2026, 3, 5),
        service_to=date(2026, 3, 31),
        expedited=expedited,
        diagnosis_codes=("G43.909",),
        clinical_notes="Headaches for six weeks",
    )
    return replace(data, **overrides)


def submit(platform: Platform, tenant_id: uuid.UUID, **overrides: Any) -> tuple[uuid.UUID, list[OutgoingEvent]]:
    with platform.db.unit_of_work(tenant_id) as uow:
        view = service.submit_request(uow, request_data(**overrides))
        events = list(uow.pending_events)
    return view.request.id, events


def decide(
    platform: Platform, tenant_id: uuid.UUID, prior_auth_id: uuid.UUID, **fields: Any
) -> tuple[service.PriorAuthView, list[OutgoingEvent]]:
    data = service.PriorAuthDecisionData(decided_by="account:reviewer", **fields)
    with platform.db.unit_of_work(tenant_id) as uow:
        view = service.decide(uow, prior_auth_id, data)
        events = list(uow.pending_events)
    return view, events


@pytest.fixture(autouse=True)
def _received(clock: FixedClock) -> None:
    clock.set(RECEIVED)


def test_due_times_are_72_hours_expedited_and_7_days_standard(platform: Platform, tenant_id: uuid.UUID) -> None:
    urgent, events = submit(platform, tenant_id, expedited=True)
    standard, _ = submit(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert service.get(uow, urgent).request.decision_due_at == datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
        assert service.get(uow, standard).request.decision_due_at == datetime(2026, 3, 9, 14, 30, tzinfo=UTC)
        stored = service.get(uow, urgent).request
        assert stored.status == "PENDING"
        assert stored.diagnosis_codes == ["G43.909"]
        assert stored.clinical_notes == "Headaches for six weeks"
    assert [(e.topic, e.key, e.payload["eventType"], e.payload["expedited"]) for e in events] == [
        ("claims.prior_auth.decision", str(MEMBER), "PRIOR_AUTH_PENDED", True)
    ]
    assert "G43" not in str(events[0].payload) and "Headaches" not in str(events[0].payload)


def test_phi_is_sealed_at_rest(platform: Platform, tenant_id: uuid.UUID) -> None:
    from olly.claims.authorization_models import PriorAuthorizationRequest

    prior_auth_id, _ = submit(platform, tenant_id)
    table = table_of(PriorAuthorizationRequest)
    with platform.db.connect() as connection:
        row = connection.execute(
            select(table.c.diagnosis_codes, table.c.clinical_notes).where(table.c.id == prior_auth_id)
        ).one()
    assert b"G43" not in bytes(row.diagnosis_codes)
    assert b"Headaches" not in bytes(row.clinical_notes)


def test_overdue_flag_and_queue_by_due_time(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock) -> None:
    standard, _ = submit(platform, tenant_id)  # due 9 March 14:30
    urgent, _ = submit(platform, tenant_id, expedited=True)  # due 5 March 14:30
    clock.set(datetime(2026, 3, 5, 14, 30, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        queue = service.queue(uow)
        assert [(v.request.id, v.overdue) for v in queue] == [(urgent, False), (standard, False)]
        assert service.queue(uow, overdue=True) == []
    clock.advance(timedelta(seconds=1))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [v.request.id for v in service.queue(uow, overdue=True)] == [urgent]
        assert [v.request.id for v in service.queue(uow, overdue=False)] == [standard]
        assert service.get(uow, urgent).overdue is True
    clock.set(datetime(2026, 3, 9, 14, 30, 1, tzinfo=UTC))
    view, _ = decide(platform, tenant_id, urgent, outcome=service.DecisionOutcome.APPROVED)
    assert (view.overdue, view.decided_late) == (False, True)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [v.request.id for v in service.queue(uow, overdue=True)] == [standard]
        assert [v.request.id for v in service.queue(uow, status=service.PriorAuthStatus.APPROVED)] == [urgent]


def test_overdue_job_escalates_once_with_an_audit_record(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    urgent, _ = submit(platform, tenant_id, expedited=True)
    submit(platform, tenant_id)
    clock.set(datetime(2026, 3, 6, 8, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert escalate_overdue_prior_auths(uow) == 1
    with platform.db.unit_of_work(tenant_id) as uow:
        assert escalate_overdue_prior_auths(uow) == 0
        assert service.get(uow, urgent).request.escalated_at == datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    events = table_of(AuditEvent)
    with platform.db.connect() as connection:
        rows = connection.execute(
            select(events.c.subject, events.c.action, events.c.resource_id).where(
                events.c.action == "prior_auth.escalate"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(f"job:{OVERDUE_JOB}", "prior_auth.escalate", str(urgent))]


def test_approval_publishes_the_decision_and_gives_approved_engine_inputs(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    prior_auth_id, _ = submit(platform, tenant_id)
    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    view, events = decide(platform, tenant_id, prior_auth_id, outcome=service.DecisionOutcome.APPROVED)
    assert view.request.status == "APPROVED"
    assert [(s.procedure_code, s.units_approved) for s in view.services] == [(MRI, 1), (KNEE, 2)]
    assert [e.payload for e in events] == [
        {
            "eventType": "PRIOR_AUTH_APPROVED",
            "schemaVersion": events[0].payload["schemaVersion"],
            "priorAuthId": str(prior_auth_id),
            "memberId": str(MEMBER),
            "providerId": str(PROVIDER),
            "expedited": False,
            "approvedUnits": 3,
            "validFrom": "2026-03-05",
            "validTo": "2026-03-31",
            "reasonCode": None,
            "decidedAt": "2026-03-03T10:00:00Z",
        }
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        inputs = prior_authorizations_for(uow, MEMBER)
    assert [(i.procedure_codes, i.status, i.units_approved, i.units_used, i.period, i.reference) for i in inputs] == [
        (
            frozenset({MRI}),
            rules.AuthorizationStatus.APPROVED,
            1,
            0,
            DatePeriod(date(2026, 3, 5), date(2026, 3, 31)),
            str(prior_auth_id),
        ),
        (
            frozenset({KNEE}),
            rules.AuthorizationStatus.APPROVED,
            2,
            0,
            DatePeriod(date(2026, 3, 5), date(2026, 3, 31)),
            str(prior_auth_id),
        ),
    ]
    assert {i.auth_id for i in inputs} == {str(s.id) for s in view.services}


def test_partial_approval_denial_and_their_checks(platform: Platform, tenant_id: uuid.UUID) -> None:
    partial, _ = submit(platform, tenant_id)
    denied, _ = submit(platform, tenant_id)
    with pytest.raises(ValidationFailed) as refused:
        decide(platform, tenant_id, partial, outcome=service.DecisionOutcome.PARTIALLY_APPROVED)
    assert {e.field for e in refused.value.errors} == {"body.approved", "body.denialReasonCode"}
    with pytest.raises(ValidationFailed):
        decide(platform, tenant_id, denied, outcome=service.DecisionOutcome.DENIED)  # no reason
    view, events = decide(
        platform,
        tenant_id,
        partial,
        outcome=service.DecisionOutcome.PARTIALLY_APPROVED,
        approved=(service.ApprovedService(KNEE, 1),),
        valid_from=date(2026, 3, 10),
        valid_to=date(2026, 3, 20),
        denial_reason_code="50",
    )
    assert [(s.procedure_code, s.units_approved) for s in view.services] == [(MRI, 0), (KNEE, 1)]
    payload = events[0].payload
    assert (payload["eventType"], payload["approvedUnits"], payload["reasonCode"]) == ("PRIOR_AUTH_APPROVED", 1, "50")
    view, events = decide(
        platform,
        tenant_id,
        denied,
        outcome=service.DecisionOutcome.DENIED,
        denial_reason_code="50",
        note="No red flags",
    )
    assert (view.request.status, view.request.valid_from, view.request.decision_note) == (
        "DENIED",
        None,
        "No red flags",
    )
    assert (events[0].payload["eventType"], events[0].payload["approvedUnits"]) == ("PRIOR_AUTH_DENIED", None)
    with pytest.raises(Conflict):
        decide(platform, tenant_id, denied, outcome=service.DecisionOutcome.APPROVED)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        inputs = {(i.reference, next(iter(i.procedure_codes))): i for i in prior_authorizations_for(uow, MEMBER)}
    assert inputs[(str(partial), MRI)].status is rules.AuthorizationStatus.DENIED
    assert inputs[(str(partial), KNEE)].status is rules.AuthorizationStatus.PARTIALLY_APPROVED
    assert inputs[(str(partial), KNEE)].period == DatePeriod(date(2026, 3, 10), date(2026, 3, 20))
    assert inputs[(str(denied), MRI)].status is rules.AuthorizationStatus.DENIED


def test_units_used_are_recorded_per_claim_and_released(platform: Platform, tenant_id: uuid.UUID) -> None:
    prior_auth_id, _ = submit(platform, tenant_id)
    view, _ = decide(platform, tenant_id, prior_auth_id, outcome=service.DecisionOutcome.APPROVED)
    knee = str(view.services[1].id)
    claim_1, claim_2 = uuid.uuid4(), uuid.uuid4()
    with platform.db.unit_of_work(tenant_id) as uow:
        assert record_units_used(uow, knee, claim_1, 1) == 1
        assert record_units_used(uow, knee, claim_1, 1) == 1  # the same claim again: no double count
        assert record_units_used(uow, knee, claim_2, 1) == 2
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(BusinessRuleViolation):
        record_units_used(uow, knee, uuid.uuid4(), 1)  # 2 approved, 2 used
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [i.units_used for i in prior_authorizations_for(uow, MEMBER)] == [0, 2]
    with platform.db.unit_of_work(tenant_id) as uow:
        release_units(uow, claim_1)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [i.units_used for i in prior_authorizations_for(uow, MEMBER)] == [0, 1]


def _engine(inputs: list[rules.PriorAuthorization], *, units: int = 1) -> rules.ClaimResult:
    claim = f.claim(
        f.line(MRI, "1800.00", units=units, day=date(2026, 3, 10)),
        member_id=str(MEMBER),
        diagnoses=("G43.909",),
    )
    return rules.adjudicate(
        f.request(claim, coverage=f.coverage(member_id=str(MEMBER)), prior_authorizations=tuple(inputs))
    )


def _codes(result: rules.ClaimResult) -> list[str]:
    return [a.code for a in result.lines[0].adjustments]


def test_the_engine_accepts_what_prior_authorizations_for_produces(platform: Platform, tenant_id: uuid.UUID) -> None:
    approved, _ = submit(platform, tenant_id)
    other = uuid.UUID("01900000-0000-7000-8000-000000000002")
    denied, _ = submit(platform, tenant_id, member=other)
    view, _ = decide(platform, tenant_id, approved, outcome=service.DecisionOutcome.APPROVED)
    decide(platform, tenant_id, denied, outcome=service.DecisionOutcome.DENIED, denial_reason_code="50")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        mine, theirs = prior_authorizations_for(uow, MEMBER), prior_authorizations_for(uow, other)
    result = _engine(mine)
    # Deductible not met: fee 400.00 allowed, CO-45 1,400.00, all 400.00 to the deductible; no CO-197.
    assert result.lines[0].status is rules.LineStatus.APPROVED
    assert _codes(result) == ["CO-45", "PR-1"]
    assert result.lines[0].prior_auth_id == str(view.services[0].id)
    # The denied request, given to the engine for the same claim (of that member), denies CO-197.
    their_claim = _engine([replace(i, member_id=str(MEMBER)) for i in theirs])
    assert their_claim.lines[0].status is rules.LineStatus.DENIED
    assert [(a.code, a.amount.to_decimal_string()) for a in their_claim.lines[0].adjustments] == [("CO-197", "1800.00")]
    # Two units against one approved: the approval does not cover the units, CO-197.
    assert _codes(_engine(mine, units=2)) == ["CO-197"]


def test_an_undecided_request_pends_the_line(platform: Platform, tenant_id: uuid.UUID) -> None:
    submit(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        inputs = prior_authorizations_for(uow, MEMBER)
    result = _engine(inputs)
    assert result.status is rules.ClaimStatus.PENDED
    assert result.pend_reasons == (rules.PendReason.PRIOR_AUTH_PENDING,)


def test_the_cli_lists_the_queue_and_escalates(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from olly.claims import authorization_cli
    from olly.cli import app

    monkeypatch.setattr(authorization_cli, "build_platform", lambda: platform)
    urgent, _ = submit(platform, tenant_id, expedited=True)
    clock.set(datetime(2026, 3, 6, 8, 0, tzinfo=UTC))
    runner = CliRunner()
    listed = runner.invoke(app, ["claims", "prior-auth", "queue", "--overdue"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert str(urgent) in listed.output
    assert "OVERDUE" in listed.output
    assert "Headaches" not in listed.output
    escalated = runner.invoke(app, ["claims", "prior-auth", "escalate-overdue"])
    assert (escalated.exit_code, escalated.output.strip()) == (0, "1 request(s) escalated")
    appeals = runner.invoke(app, ["claims", "appeals", "queue"], env={"COLUMNS": "250"})
    assert appeals.exit_code == 0, appeals.output


def test_the_scheduler_finds_the_overdue_job(platform: Platform) -> None:
    from olly.platform.jobs import JobScheduler, discover_jobs

    scheduler = JobScheduler(platform.db, "test")
    assert "olly.claims.jobs" in discover_jobs(scheduler)
    assert scheduler.jobs[OVERDUE_JOB].every_seconds == 300.0


def test_a_request_is_checked_before_anything_is_stored(platform: Platform, tenant_id: uuid.UUID) -> None:
    bad = request_data(
        services=(service.RequestedService("7055", 1), service.RequestedService(KNEE, 0)),
        service_to=date(2026, 3, 1),
        requesting_npi="12345",
        diagnosis_codes=("g43.909", "not a code!!"),  # a code in lower case is a code
    )
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed) as refused:
        service.submit_request(uow, bad)
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("body.services.0.procedureCode", "code_format"),
        ("body.services.1.units", "too_small"),
        ("body.serviceTo", "period"),
        ("body.diagnosisCodes.1", "code_format"),
        ("body.requestingNpi", "npi"),
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert service.queue(uow) == []
