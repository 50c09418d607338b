"""Claims' consumers: the adjudication worker, re-adjudication triggers, and the read models it
adjudicates from (coverage from enrollment, benefit schedules from plans, providers from provider).

Adjudication reads only claims' own tables; these handlers are the only place other domains'
``public.py`` functions are read, and only to copy what the engine needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from olly.claims import appeal_handlers, authorization_repository, plan_mapping, service, snapshots
from olly.claims import models as m
from olly.claims.repository import ClaimsRepository
from olly.enrollment import public as enrollment
from olly.plans import public as plans
from olly.platform.bus.messages import Handler, HandlerRegistry, Message
from olly.platform.db import UnitOfWork
from olly.policy_admin import public as parties
from olly.provider import public as provider

CLAIMS_GROUP: Final = "claims-claims-consumer"
ENROLLMENT_GROUP: Final = "claims-enrollment-consumer"
PROVIDER_GROUP: Final = "claims-provider-consumer"
EOB_GROUP: Final = "eob-claims-consumer"
"""Renders each final adjudication's EOB once the adjudication has committed (a group of its own,
so a worker of its own can take it off the adjudication worker's core)."""
ENROLLMENT_TOPICS: Final = (
    "enrollment.enrollment.submitted",
    "enrollment.enrollment.activated",
    "enrollment.enrollment.terminated",
    "enrollment.enrollment.plan_changed",
    "enrollment.underwriting.flagged",
    "enrollment.underwriting.withdrawn",
)


# -- the adjudication worker ------------------------------------------------------------------------
def on_claim_submitted(uow: UnitOfWork, message: Message) -> None:
    # The claim row commits with its event, so an unknown id is an event published without a
    # claim (a replay into another tenant, a synthetic test event): there is nothing to adjudicate.
    service.adjudicate_claim(uow, uuid.UUID(message.payload["claimId"]), missing_ok=True)


def prepare_claims_submitted(uow: UnitOfWork, messages: Sequence[Message]) -> Handler:
    """Read a chunk's claims and everything their adjudication needs at once; adjudicate each in turn."""
    claim_ids = {message.event_id: uuid.UUID(message.payload["claimId"]) for message in messages}
    chunk = service.ChunkReads(uow, list(claim_ids.values()))

    def on_claim_submitted_in_chunk(uow: UnitOfWork, message: Message) -> None:
        claim_id = claim_ids.get(message.event_id)  # each claim id parsed once
        chunk.adjudicate(claim_id if claim_id is not None else uuid.UUID(message.payload["claimId"]))

    return on_claim_submitted_in_chunk


# -- the EOB, rendered after the adjudication commits -------------------------------------------------
def _eob_request(message: Message) -> tuple[uuid.UUID, int | None, date | None]:
    payload = message.payload
    deadline = payload.get("appealDeadline")
    return (
        uuid.UUID(payload["claimId"]),
        payload.get("adjudicationSequence"),
        date.fromisoformat(deadline) if deadline else None,
    )


def on_claim_adjudicated(uow: UnitOfWork, message: Message) -> None:
    claim_id, sequence, deadline = _eob_request(message)
    service.store_eob(uow, claim_id, sequence=sequence, deadline=deadline)


def prepare_claims_adjudicated(uow: UnitOfWork, messages: Sequence[Message]) -> Handler:
    """Read a chunk's claims, adjudications and stored EOBs at once; render each EOB in turn."""
    reads = service.EobReads(uow, [_eob_request(message)[:2] for message in messages])

    def on_claim_adjudicated_in_chunk(uow: UnitOfWork, message: Message) -> None:
        claim_id, sequence, deadline = _eob_request(message)
        service.store_eob(uow, claim_id, sequence=sequence, deadline=deadline, reads=reads)

    return on_claim_adjudicated_in_chunk


def on_prior_auth_decision(uow: UnitOfWork, message: Message) -> None:
    if message.payload.get("eventType") == "PRIOR_AUTH_PENDED":
        return
    service.readjudicate_pended_for_member(uow, uuid.UUID(message.payload["memberId"]), "PRIOR_AUTH_DECIDED")


def on_appeal_resolved(uow: UnitOfWork, message: Message) -> None:
    if message.payload.get("eventType") != "APPEAL_OVERTURNED":
        return
    appeal = authorization_repository.appeal(uow.session, uuid.UUID(message.payload["appealId"]))
    lines = appeal.allowed_lines if appeal is not None else None  # no appeal recorded here: every line
    service.readjudicate_after_overturn(uow, uuid.UUID(message.payload["claimId"]), lines=lines)


# -- coverage and benefit schedules --------------------------------------------------------------------
def sync_schedule(
    uow: UnitOfWork, plan_code: str, plan_id: uuid.UUID, on: date, *, refresh: bool = False
) -> m.BenefitScheduleView | None:
    """Copy the plan version in force on ``on`` into claims' schedule read model (once per version;
    ``refresh`` re-copies a version already there, for settings claims learned to read since)."""
    info = plans.plan_version_in_force(uow, plan_code, on)
    schedule = plans.benefit_schedule(uow, plan_code, on)
    if info is None or schedule is None:
        return None
    repo = ClaimsRepository(uow)
    row = repo.schedule_version(plan_code, info.plan_version)
    if row is not None and not refresh:
        return row
    engine_schedule = plan_mapping.benefit_schedule(schedule, str(plan_id))
    data = snapshots.schedule_to_json(engine_schedule) | {
        "outOfNetworkAllowable": snapshots.out_of_network_to_json(plan_mapping.out_of_network_pricing(schedule))
    }
    if row is None:
        row = m.BenefitScheduleView(plan_code=plan_code, plan_version=info.plan_version)
        uow.session.add(row)
    elif row.schedule.get("planId") and row.schedule["planId"] != data["planId"]:
        data["planId"] = row.schedule["planId"]  # keep the plan id the first copy recorded
    row.effective_from = info.effective_from
    row.effective_to = info.effective_to
    row.appeal_window_days = schedule.administration.appeal_window_days
    row.schedule = data
    row.synced_at = uow.clock.now()
    uow.session.flush()
    return row


Spans = dict[uuid.UUID, list[tuple[date, date | None]]]
"""Per member, coverage spans (first day, last day or None while open-ended)."""


@dataclass(frozen=True, slots=True)
class CoverageChange:
    gained: Spans
    """The days each member's copy covers that the copy before did not, as spans."""
    lost: Spans
    """The days the copy before covered that the copy now does not, as spans."""


def sync_policy(
    uow: UnitOfWork, policy_id: uuid.UUID, *, refreshed: set[tuple[str, date]] | None = None, lock: bool = True
) -> CoverageChange:
    """Re-copy a policy's coverage (idempotent: the copy is of enrollment's current knowledge); returns
    the spans each member gained and lost.

    ``refreshed``: also re-copy each plan schedule the policy uses, once per (plan, date) in the set
    the caller keeps across policies (the back-fill). ``lock``: take the members' coverage locks
    first (``ClaimsRepository.lock_coverage``), for a caller that adjudicates their claims again
    on what the copy gained or lost; the back-fill, which adjudicates nothing again, copies
    thousands of policies in a transaction without holding a lock for each of their members."""
    # Coverage counts for claims once the policy is in force (a submitted group enrolment is not yet).
    facts = [f for f in enrollment.coverage_facts(uow, policy_id) if f.policy_status in ("ACTIVE", "TERMINATED")]
    repo = ClaimsRepository(uow)
    existing = {row.member_id: row for row in repo.coverage_of_policy(policy_id)}
    people = {fact.party_id for fact in facts}
    if lock:  # adjudications reading these members' coverage finish first, later ones wait for this copy
        repo.lock_coverage(people | existing.keys(), exclusive=True)
    family_id = str(policy_id) if len(people) > 1 else None
    by_person: dict[uuid.UUID, list[enrollment.CoverageFact]] = {}
    for fact in facts:
        by_person.setdefault(fact.party_id, []).append(fact)
    gained: Spans = {}
    lost: Spans = {}
    declared: dict[uuid.UUID, list[enrollment.DeclaredCondition]] = {}
    for condition in enrollment.declared_conditions(uow, policy_id) if facts else ():
        declared.setdefault(condition.party_id, []).append(condition)
    for party_id, spans in by_person.items():
        spans.sort(key=lambda fact: fact.valid_from)
        latest = spans[-1]
        info = plans.plan_version_in_force(uow, latest.plan_code, latest.valid_from)
        plan_type = info.plan_type.value if info else "PPO"  # the catalog's type: POS stays POS
        for span in spans:
            again = refreshed is not None and (span.plan_code, span.valid_from) not in refreshed
            sync_schedule(uow, span.plan_code, span.plan_id, span.valid_from, refresh=again)
            if refreshed is not None:
                refreshed.add((span.plan_code, span.valid_from))
        periods: list[list[str | None]] = [
            [span.valid_from.isoformat(), span.valid_to.isoformat() if span.valid_to else None] for span in spans
        ]
        person = parties.person(uow, party_id)  # before the new row exists (a read flushes the session)
        row = existing.pop(party_id, None)
        before = row.periods if row is not None else []
        if new_spans := days_outside(periods, before):
            gained[party_id] = new_spans
        if old_spans := days_outside(before, periods):
            lost[party_id] = old_spans
        if row is None:
            row = m.CoverageView(member_id=party_id, policy_id=policy_id)
            uow.session.add(row)
        row.family_id = family_id
        row.plan_id = latest.plan_id
        row.plan_code = latest.plan_code
        row.plan_type = plan_type
        row.periods = periods
        row.birth_date = person.birth_date if person is not None else None
        row.pre_existing = _pre_existing(declared.get(party_id, ()))
        row.synced_at = uow.clock.now()
    # A member enrollment no longer names at all (their records erased at a deletion request) lost
    # no cover: their claims are left as they were.
    for row in existing.values():
        row.periods = []
        row.synced_at = uow.clock.now()
    return CoverageChange(gained, lost)


def days_outside(spans: list[list[str | None]], within: list[list[str | None]]) -> list[tuple[date, date | None]]:
    """The days of ``spans`` that none of ``within`` covers, as spans (ISO ``[from, to or None]``
    pairs in, first and last day out): a span split in two (a plan change) loses and gains nothing."""

    def merged(pairs: list[list[str | None]]) -> list[tuple[date, date]]:
        runs: list[tuple[date, date]] = []
        for start, end in sorted(
            (date.fromisoformat(str(a)), date.fromisoformat(b) if b else date.max) for a, b in pairs
        ):
            if runs and start <= runs[-1][1] + timedelta(days=1):
                runs[-1] = (runs[-1][0], max(runs[-1][1], end))
            else:
                runs.append((start, end))
        return runs

    left: list[tuple[date, date | None]] = []
    cover = merged(within)
    for start, end in merged(spans):
        for cut_start, cut_end in cover:
            if cut_end < start or cut_start > end:
                continue
            if cut_start > start:
                left.append((start, cut_start - timedelta(days=1)))
            if cut_end >= end:
                break
            start = cut_end + timedelta(days=1)
        else:
            left.append((start, None if end == date.max else end))
    return left


def _pre_existing(conditions: Sequence[enrollment.DeclaredCondition]) -> dict[str, Any] | None:
    """A member's declared conditions in one entry: every code, and the longest waiting period stated."""
    if not conditions:
        return None
    codes = sorted({code for condition in conditions for code in condition.diagnosis_codes})
    months = [c.waiting_period_months for c in conditions if c.waiting_period_months is not None]
    return {"codes": codes, "months": max(months) if months else None}


def on_enrollment_changed(uow: UnitOfWork, message: Message) -> None:
    """Re-copy the policy's coverage; a member's claims on days the copy has just gained or lost are
    adjudicated again: those denied for want of coverage on gained days, those paid or approved on
    lost days (``service.readjudicate_after_coverage``)."""
    change = sync_policy(uow, uuid.UUID(message.payload["enrollmentId"]))
    for member_id, spans in change.gained.items():
        service.readjudicate_after_coverage(uow, member_id, spans)
    for member_id, spans in change.lost.items():
        service.readjudicate_after_coverage_lost(uow, member_id, spans)


def on_underwriting_withdrawn(uow: UnitOfWork, message: Message) -> None:
    """A finding withdrawn (recorded by mistake): claims' copy of the cover loses it, and the member's
    claims denied as a pre-existing condition meanwhile are adjudicated again."""
    on_enrollment_changed(uow, message)
    service.readjudicate_after_withdrawal(uow, uuid.UUID(message.payload["memberId"]))


# -- providers ------------------------------------------------------------------------------------------
def sync_provider(uow: UnitOfWork, provider_id: uuid.UUID, on: date) -> m.ProviderView | None:
    """Copy a provider's credentialing, network standing on ``on`` and contract rates (with the
    contract's dates), and every contract period with its rates (adjudication takes the one covering
    the date of service), into claims' read model."""
    summary = provider.provider_by_id(uow, provider_id)
    if summary is None:
        return None
    standing = provider.network_status(uow, provider_id, on)
    repo = ClaimsRepository(uow)
    row = repo.provider(summary.npi)
    if row is None:
        row = m.ProviderView(npi=summary.npi, provider_id=provider_id, synced_at=uow.clock.now())
        uow.session.add(row)
    row.provider_id = provider_id
    row.credentialing_status = summary.credentialing_status.value
    in_network = standing is not None and standing.status is provider.NetworkStatus.IN_NETWORK
    row.network_status = "IN_NETWORK" if in_network else "OUT_OF_NETWORK"
    row.tier = standing.tier if standing else None
    row.contract_id = standing.contract_id if standing else None
    row.contract = None
    row.contract_from = standing.effective_from if standing else None
    row.contract_to = standing.effective_to if standing else None
    rates: dict[uuid.UUID, dict[str, Any] | None] = {}

    def rates_of(contract_id: uuid.UUID) -> dict[str, Any] | None:
        if contract_id not in rates:
            terms = provider.contract_fee_schedule(uow, contract_id)
            contract = plan_mapping.contract(terms) if terms is not None else None
            rates[contract_id] = snapshots.contract_to_json(contract, terms.currency) if contract and terms else None
        return rates[contract_id]

    if standing is not None and standing.contract_id is not None:
        row.contract = rates_of(standing.contract_id)
    row.periods = [
        {
            "from": period.start.isoformat(),
            "to": period.end.isoformat() if period.end else None,
            "contractId": str(period.contract_id),
            "tier": period.tier,
            "rates": rates_of(period.contract_id),
        }
        for period in provider.contract_periods(uow, provider_id)
    ]
    row.synced_at = uow.clock.now()
    return row


def on_network_updated(uow: UnitOfWork, message: Message) -> None:
    payload = message.payload
    row = sync_provider(uow, uuid.UUID(payload["providerId"]), date.fromisoformat(payload["effectiveDate"]))
    if row is None:
        return
    if payload["networkStatus"] == "IN_NETWORK":
        row.contract_id = uuid.UUID(payload["contractId"])
        row.contract_from = date.fromisoformat(payload["effectiveDate"])
        end = payload.get("terminationDate")
        row.contract_to = date.fromisoformat(end) if end else None
        row.network_status = "IN_NETWORK"
    elif row.contract_id is not None and str(row.contract_id) == payload["contractId"]:
        row.network_status = "OUT_OF_NETWORK"
        row.contract = None


def on_credentialing_changed(uow: UnitOfWork, message: Message) -> None:
    payload = message.payload
    provider_id = uuid.UUID(payload["providerId"])
    repo = ClaimsRepository(uow)
    row = repo.provider(payload["npi"])
    if row is None:
        row = sync_provider(uow, provider_id, uow.clock.now().date())
        if row is None:
            return
    row.credentialing_status = payload["credentialingStatus"]
    row.synced_at = uow.clock.now()


def register(registry: HandlerRegistry) -> None:
    registry.subscribe("claims.claim.submitted", CLAIMS_GROUP, on_claim_submitted, prepare=prepare_claims_submitted)
    registry.subscribe("claims.claim.adjudicated", EOB_GROUP, on_claim_adjudicated, prepare=prepare_claims_adjudicated)
    registry.subscribe("claims.prior_auth.decision", CLAIMS_GROUP, on_prior_auth_decision)
    registry.subscribe("claims.appeal.resolved", CLAIMS_GROUP, on_appeal_resolved)
    for topic in ENROLLMENT_TOPICS:
        handler = on_underwriting_withdrawn if topic == "enrollment.underwriting.withdrawn" else on_enrollment_changed
        registry.subscribe(topic, ENROLLMENT_GROUP, handler)
    registry.subscribe("provider.network.updated", PROVIDER_GROUP, on_network_updated)
    registry.subscribe("provider.credentialing.status_changed", PROVIDER_GROUP, on_credentialing_changed)
    appeal_handlers.register(registry)
