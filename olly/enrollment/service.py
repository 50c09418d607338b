"""Enrollment use cases. Every change is a PolicyTransaction; coverage spans are never edited in
place (see models). Services never commit: the unit of work does."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import NoReturn, Protocol

from olly.codesets import icd10
from olly.enrollment import letters, rules
from olly.enrollment.events import (
    CobraElected,
    CobraEnded,
    CobraExtended,
    CobraNoticeSent,
    EnrollmentActivated,
    EnrollmentPlanChanged,
    EnrollmentSubmitted,
    EnrollmentTerminated,
    UnderwritingFlagged,
    UnderwritingWithdrawn,
)
from olly.enrollment.models import (
    CobraCase,
    CoverageSpan,
    Policy,
    PolicyElement,
    PolicyTerm,
    PolicyTransaction,
    Quote,
    UnderwritingFlag,
)
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import (
    CobraEvent,
    Market,
    QualifyingEvent,
    Relationship,
    TerminationReason,
    TransactionType,
    WithdrawalReason,
)
from olly.enrollment.schemas import (
    CobraDisabilityCreate,
    CobraElection,
    CobraEndCreate,
    CobraEventCreate,
    CobraSecondEventCreate,
    DependentAdd,
    DependentReinstate,
    DependentRemove,
    EnrollmentCreate,
    PlanChange,
    Termination,
)
from olly.kernel.errors import BusinessRuleViolation, Conflict, FieldError, NotFound, OllyError, ValidationFailed
from olly.kernel.ids import uuid7
from olly.kernel.money import Money
from olly.kernel.periods import age_on, end_of_month
from olly.platform.db import UnitOfWork
from olly.platform.objectstore import object_store_of
from olly.policy_admin import public as people


@dataclass(frozen=True, slots=True)
class RatedMember:
    relationship: Relationship
    birth_date: date


@dataclass(frozen=True, slots=True)
class PlanChoice:
    """What enrollment needs to know of a plan version for one family on one date."""

    plan_id: uuid.UUID
    plan_code: str
    coverage_type: str
    currency: str
    period_start: date
    period_end: date
    total_premium_minor: int
    member_premium_minor: int
    premium_period: str = "MONTHLY"
    """``MONTHLY`` or ``ANNUAL`` (sum-insured products are usually priced by the year)."""


class PlanCatalog(Protocol):
    """The plans domain, as enrollment sees it (implemented over ``olly.plans.public``)."""

    def choose(
        self, uow: UnitOfWork, plan_code: str, on: date, market: Market, tier_code: str, members: list[RatedMember]
    ) -> PlanChoice:
        """The version of ``plan_code`` in force on ``on`` and its premium for these members."""
        ...


@dataclass(frozen=True, slots=True)
class Coverage:
    """One answer to "is this person covered on this date"."""

    policy: Policy
    term: PolicyTerm
    element: PolicyElement
    span: CoverageSpan


# ---------------------------------------------------------------------------------------------
def enroll(uow: UnitOfWork, data: EnrollmentCreate, plans: PlanCatalog) -> Policy:
    """A new policy for a subscriber and their dependents (status SUBMITTED until activated)."""
    repo = EnrollmentRepository(uow)
    today = uow.clock.today()
    if data.market == Market.COBRA:
        raise ValidationFailed(
            [FieldError("market", "COBRA coverage starts with an election after a qualifying event", "cobra_election")]
        )
    if data.qualifying_event == QualifyingEvent.OPEN_ENROLLMENT:
        effective = data.effective_date
    else:
        if data.event_date is None:
            raise ValidationFailed([FieldError("event_date", "is required with a qualifying event", "required")])
        effective = rules.special_enrollment_effective_date(data.market, data.qualifying_event, data.event_date, today)
    if effective < today - timedelta(days=rules.SPECIAL_ENROLLMENT_DAYS[data.market]):
        raise BusinessRuleViolation("coverage cannot start that far in the past", extra={"field": "effective_date"})
    subscriber_born = _birth_date(uow, data.subscriber_party_id, "subscriber_party_id")
    if any(repo.spans_on(data.subscriber_party_id, effective)):
        raise BusinessRuleViolation(
            "the subscriber already has coverage on this date", extra={"field": "effective_date"}
        )
    members = [RatedMember(Relationship.SELF, subscriber_born)]
    errors: list[FieldError] = []
    seen = {data.subscriber_party_id}
    for index, dependent in enumerate(data.dependents):
        if dependent.party_id in seen:
            errors.append(FieldError(f"dependents.{index}.party_id", "appears twice", "duplicate"))
            continue
        seen.add(dependent.party_id)
        try:
            born = _birth_date(uow, dependent.party_id, f"dependents.{index}.party_id")
        except ValidationFailed as missing:
            errors.extend(missing.errors)
            continue
        for problem in rules.dependent_problems(data.market, rules.Person(dependent.relationship, born), effective):
            errors.append(FieldError(f"dependents.{index}.{problem.field}", problem.message, problem.code))
        members.append(RatedMember(dependent.relationship, born))
    if errors:
        raise ValidationFailed(errors)
    tier = rules.tier_code([d.relationship for d in data.dependents])
    plan = plans.choose(uow, data.plan_code, effective, data.market, tier, members)
    now = uow.clock.now()
    policy = Policy(
        id=uuid7(),
        policy_number=_number("POL"),
        market=data.market.value,
        account_id=data.account_id,
        subscriber_party_id=data.subscriber_party_id,
        status="SUBMITTED",
        created_at=now,
    )
    term = _term(policy.id, plan, tier, effective, now)
    transaction = _transaction(
        policy.id,
        TransactionType.NEW,
        effective,
        now,
        reason=data.qualifying_event.value,
        event_date=data.event_date,
        detail={"planId": str(plan.plan_id), "tierCode": tier, "dependentCount": len(data.dependents)},
    )
    repo.add(policy, term, transaction)
    uow.flush()
    for party_id, relationship in [(data.subscriber_party_id, Relationship.SELF)] + [
        (d.party_id, d.relationship) for d in data.dependents
    ]:
        _cover(repo, policy, term, party_id, relationship, effective, transaction.id, now)
    uow.flush()
    _submitted(uow, policy, term, policy.subscriber_party_id, "NEW", effective, len(data.dependents))
    return policy


def activate(uow: UnitOfWork, policy_id: uuid.UUID) -> Policy:
    policy = _policy(uow, policy_id)
    if policy.status != "SUBMITTED":
        raise BusinessRuleViolation(f"a {policy.status.lower()} policy cannot be activated")
    policy.status = "ACTIVE"
    policy.status_reason = None
    _activated(uow, policy)
    return policy


def fail_activation(uow: UnitOfWork, policy_id: uuid.UUID, reason: str) -> Policy:
    """Compensate a failed activation: the submitted coverage is withdrawn and the reason kept."""
    policy = _policy(uow, policy_id)
    if policy.status != "SUBMITTED":
        raise BusinessRuleViolation(f"a {policy.status.lower()} policy cannot fail activation")
    now = uow.clock.now()
    repo = EnrollmentRepository(uow)
    for span in repo.current_spans(policy.id):
        span.superseded_at = now
    policy.status = "ACTIVATION_FAILED"
    policy.status_reason = reason[:200]
    repo.add(
        _transaction(
            policy.id, TransactionType.TERMINATION, uow.clock.today(), now, reason="ACTIVATION_FAILED", detail={}
        )
    )
    return policy


def activate_due(uow: UnitOfWork) -> list[Policy]:
    """Group policies activate on their effective date (the saga's group branch)."""
    activated = []
    for policy in EnrollmentRepository(uow).policies_due_for_activation(uow.clock.today()):
        if policy.market == Market.GROUP.value:
            activated.append(activate(uow, policy.id))
    return activated


def add_dependent(uow: UnitOfWork, policy_id: uuid.UUID, data: DependentAdd, plans: PlanCatalog) -> PolicyTransaction:
    """Cover one more person from the qualifying event's effective date; the policy is priced again
    from that date for the new household (a new term when the premium changes; see ``_rerate``).
    Every way in (the API, the roster import, the employer portal, EDI 834) comes through here."""
    policy = _live_policy(uow, policy_id)
    repo = EnrollmentRepository(uow)
    market = Market(policy.market)
    effective = rules.special_enrollment_effective_date(
        market, data.qualifying_event, data.event_date, uow.clock.today()
    )
    born = _birth_date(uow, data.party_id, "party_id")
    problems = rules.dependent_problems(market, rules.Person(data.relationship, born), effective)
    if problems:
        raise ValidationFailed(problems)
    if any(s.party_id == data.party_id for s in repo.current_spans(policy.id) if _open_after(s, effective)):
        raise BusinessRuleViolation("this person is already covered on the policy", extra={"field": "party_id"})
    term = _term_on(repo, policy.id, effective)
    now = uow.clock.now()
    transaction = _transaction(
        policy.id,
        TransactionType.ADD_DEPENDENT,
        effective,
        now,
        reason=data.qualifying_event.value,
        event_date=data.event_date,
        detail={"partyId": str(data.party_id), "relationship": data.relationship.value},
    )
    repo.add(transaction)
    uow.flush()
    term = _rerate(uow, policy, term, effective, plans, transaction, now, joining=[(data.relationship, born)])
    _cover(repo, policy, term, data.party_id, data.relationship, effective, transaction.id, now, until=term.period_end)
    _submitted(uow, policy, term, data.party_id, "ADD_DEPENDENT", effective, None)
    return transaction


class CobraBeneficiaryRemoval(BusinessRuleViolation):
    code = "cobra_beneficiary"
    title = "A continuation policy's beneficiaries leave it through their COBRA case"


def remove_dependent(
    uow: UnitOfWork,
    policy_id: uuid.UUID,
    data: DependentRemove,
    plans: PlanCatalog,
    *,
    cobra_end: rules.CobraEnd | rules.CobraRemoval | None = None,
    by_cobra_case: bool = False,
) -> PolicyTransaction:
    """End one dependent's coverage; the policy is priced again from the day after for those still
    covered (a new term when the premium changes; see ``_rerate``). Every way in comes through here.
    ``cobra_end``: continuation ended early (or the person leaves for a policy of their own after a
    second event), the transaction's and the event's reason. A continuation policy's beneficiary
    leaves only through their COBRA case (``by_cobra_case``), which ends or moves the case too."""
    policy = _live_policy(uow, policy_id)
    if data.party_id == policy.subscriber_party_id:
        raise BusinessRuleViolation("the subscriber is removed by terminating the policy", extra={"field": "party_id"})
    if policy.market == Market.COBRA.value and not by_cobra_case:
        raise CobraBeneficiaryRemoval(
            "a continuation policy's beneficiary leaves it through their COBRA case (cobra-ends)",
            extra={"field": "party_id"},
        )
    last_day = rules.termination_date(data.termination_date, data.reason, uow.clock.today())
    repo = EnrollmentRepository(uow)
    now = uow.clock.now()
    transaction = _transaction(
        policy.id,
        TransactionType.REMOVE_DEPENDENT,
        last_day,
        now,
        reason=(cobra_end or data.reason).value,
        detail={"partyId": str(data.party_id)},
    )
    repo.add(transaction)
    uow.flush()
    if not _end_spans(repo, policy.id, last_day, transaction.id, now, party_id=data.party_id):
        raise NotFound("this person is not covered on the policy after that date")
    _terminated(uow, policy, _term_on(repo, policy.id, last_day), data.party_id, last_day, cobra_end or data.reason)
    day_after = last_day + timedelta(days=1)
    if any(t.period_start <= day_after <= t.period_end for t in repo.terms(policy.id)):
        uow.flush()
        _rerate(uow, policy, _term_on(repo, policy.id, day_after), day_after, plans, transaction, now, joining=[])
    return transaction


def _rerate(
    uow: UnitOfWork,
    policy: Policy,
    current: PolicyTerm,
    effective: date,
    plans: PlanCatalog,
    transaction: PolicyTransaction,
    now: datetime,
    *,
    joining: list[tuple[Relationship, date]],
) -> PolicyTerm:
    """Price the policy again from ``effective`` for everyone covered then (plus ``joining``): when
    the tier or the premium changes, a new term of the same plan starts that day and every span open
    after it moves to it (as a plan change does), with ``enrollment.enrollment.plan_changed``.
    Returns the term in force from ``effective``."""
    repo = EnrollmentRepository(uow)
    spans = [
        s
        for s in repo.current_spans(policy.id)
        if s.term_id == current.id and _open_after(s, effective) and s.valid_from <= current.period_end
    ]
    covered_then = [s for s in spans if s.valid_from <= effective]
    elements = {e.id: e for e in repo.elements(policy.id)}
    members = [
        RatedMember(Relationship(elements[s.element_id].relationship), _birth_date(uow, s.party_id, "party_id"))
        for s in covered_then
    ] + [RatedMember(relationship, born) for relationship, born in joining]
    members.sort(key=lambda m: m.relationship != Relationship.SELF)
    tier = rules.tier_code([m.relationship for m in members if m.relationship != Relationship.SELF])
    plan = _priced(
        uow,
        plans,
        current.plan_code,
        effective,
        Market(policy.market),
        tier,
        members,
        percent=_cobra_percent(repo, policy, effective),
    )
    if (
        tier == current.tier_code
        and plan.total_premium_minor == current.total_premium_minor
        and plan.member_premium_minor == current.member_premium_minor
    ):
        return current
    new_term = _term(policy.id, plan, tier, effective, now)
    new_term.period_end = current.period_end
    repo.add(new_term)
    uow.flush()
    _move_spans(repo, spans, effective, new_term, transaction, now)
    uow.flush()
    _publish_plan_changed(uow, policy, current.plan_id, new_term, effective, now)
    return new_term


def _move_spans(
    repo: EnrollmentRepository,
    spans: list[CoverageSpan],
    effective: date,
    new_term: PolicyTerm,
    transaction: PolicyTransaction,
    now: datetime,
) -> None:
    """Each span is superseded (history kept): the part before ``effective`` stays on its term, the
    rest moves to ``new_term``."""
    for span in spans:
        span.superseded_at = now
        if span.valid_from < effective:
            repo.add(_span_like(span, valid_to=effective - timedelta(days=1), transaction_id=transaction.id, now=now))
        repo.add(
            _span_like(
                span,
                valid_from=max(span.valid_from, effective),
                term_id=new_term.id,
                transaction_id=transaction.id,
                now=now,
            )
        )


def _publish_plan_changed(
    uow: UnitOfWork, policy: Policy, previous_plan_id: uuid.UUID, new_term: PolicyTerm, effective: date, now: datetime
) -> None:
    """``enrollment.enrollment.plan_changed`` for a new term (a plan change, or a repricing)."""
    uow.publish(
        EnrollmentPlanChanged(
            enrollment_id=policy.id,
            member_id=policy.subscriber_party_id,
            previous_plan_id=previous_plan_id,
            plan_id=new_term.plan_id,
            effective_date=effective,
            tier_code=new_term.tier_code,
            member_premium=_amount(new_term.member_premium_minor, new_term.currency),
            total_premium=_amount(new_term.total_premium_minor, new_term.currency),
            currency=new_term.currency,
            changed_at=now,
        ),
        key=policy.id,
    )


def change_plan(uow: UnitOfWork, policy_id: uuid.UUID, data: PlanChange, plans: PlanCatalog) -> PolicyTransaction:
    policy = _live_policy(uow, policy_id)
    market = Market(policy.market)
    repo = EnrollmentRepository(uow)
    effective = rules.special_enrollment_effective_date(
        market, data.qualifying_event, data.event_date, uow.clock.today()
    )
    current_term = _term_on(repo, policy.id, effective)
    spans = [s for s in repo.current_spans(policy.id) if _open_after(s, effective)]
    members = [
        RatedMember(Relationship(e.relationship), _birth_date(uow, e.party_id, "party_id"))
        for e in repo.elements(policy.id)
        if any(s.element_id == e.id for s in spans)
    ]
    plan = _priced(
        uow,
        plans,
        data.plan_code,
        effective,
        market,
        current_term.tier_code,
        members,
        percent=_cobra_percent(repo, policy, effective),
    )
    now = uow.clock.now()
    new_term = _term(policy.id, plan, current_term.tier_code, effective, now)
    new_term.period_end = min(plan.period_end, current_term.period_end)
    transaction = _transaction(
        policy.id,
        TransactionType.PLAN_CHANGE,
        effective,
        now,
        reason=data.qualifying_event.value,
        event_date=data.event_date,
        detail={"fromPlanId": str(current_term.plan_id), "toPlanId": str(plan.plan_id)},
    )
    repo.add(new_term, transaction)
    uow.flush()
    _move_spans(repo, spans, effective, new_term, transaction, now)
    _publish_plan_changed(uow, policy, current_term.plan_id, new_term, effective, now)
    return transaction


def terminate(
    uow: UnitOfWork,
    policy_id: uuid.UUID,
    data: Termination,
    *,
    cobra_end: rules.CobraEnd | None = None,
    by_cobra_case: bool = False,
) -> PolicyTransaction:
    """End the policy (everyone on it) on ``termination_date``. ``cobra_end``: continuation ended
    early, the transaction's, the status's and the event's reason. A continuation policy ended
    otherwise than by its cases' own flows (``by_cobra_case``), a lapse for non-payment say, ends
    the cases it continues too (``enrollment.cobra.ended``)."""
    policy = _live_policy(uow, policy_id)
    last_day = rules.termination_date(data.termination_date, data.reason, uow.clock.today())
    repo = EnrollmentRepository(uow)
    now = uow.clock.now()
    why = cobra_end or data.reason
    transaction = _transaction(policy.id, TransactionType.TERMINATION, last_day, now, reason=why.value, detail={})
    repo.add(transaction)
    uow.flush()
    _end_spans(repo, policy.id, last_day, transaction.id, now)
    policy.status = "TERMINATED"
    policy.status_reason = why.value
    terms = [t for t in repo.terms(policy.id) if t.period_start <= last_day] or repo.terms(policy.id)
    _terminated(uow, policy, terms[-1], policy.subscriber_party_id, last_day, why)
    if policy.market == Market.COBRA.value and not by_cobra_case:
        ended = rules.cobra_case_end(data.reason)
        for case in _continuing_cases(repo, policy.id):
            case.status, case.ended_on, case.end_reason = "ENDED", min(last_day, case.continuation_end), ended.value
            _cobra_ended(uow, case)
    return transaction


def reinstate(uow: UnitOfWork, policy_id: uuid.UUID, *, reason: str | None = None) -> PolicyTransaction:
    """Undo the last termination of a policy with no gap in coverage (e.g. premium paid late).

    Everyone's coverage is restored exactly as it stood before the termination (the spans that the
    termination superseded are recorded again), so a dependent whose coverage was due to end earlier
    still ends then. The termination stays in the history: asked "as known at" a moment between the
    two, coverage still ends on the termination date."""
    policy = _policy(uow, policy_id)
    repo = EnrollmentRepository(uow)
    if policy.status != "TERMINATED":
        raise BusinessRuleViolation("only a terminated policy can be reinstated")
    history = repo.transactions(policy.id)
    last = next((t for t in reversed(history) if t.transaction_type == TransactionType.TERMINATION.value), None)
    if last is None:
        raise BusinessRuleViolation("the policy has no termination to undo")
    now = uow.clock.now()
    effective = last.effective_date + timedelta(days=1)
    transaction = _transaction(
        policy.id,
        TransactionType.REINSTATEMENT,
        effective,
        now,
        reason=reason[:40] if reason else None,
        detail={"reinstates": str(last.id)},
    )
    repo.add(transaction)
    uow.flush()
    before = repo.spans_superseded_at(policy.id, last.recorded_at)
    for span in repo.current_spans(policy.id):
        if span.transaction_id != last.id:
            continue
        span.superseded_at = now
        if not before:  # no record of what the termination replaced: reopen to the term's end
            term = repo.term(span.term_id)
            repo.add(
                _span_like(span, valid_to=term.period_end if term else None, transaction_id=transaction.id, now=now)
            )
    for span in before:
        repo.add(_span_like(span, transaction_id=transaction.id, now=now))
    policy.status = "ACTIVE"
    policy.status_reason = None
    if policy.market == Market.COBRA.value:  # the cases the undone termination ended continue
        reasons = {reason.value for reason in TerminationReason}
        undone = rules.cobra_case_end(TerminationReason(last.reason)).value if last.reason in reasons else None
        for case in repo.cobra_cases_of_policy(policy.id):
            if (
                case.status == "ENDED"
                and case.end_reason == undone
                and case.ended_on == min(last.effective_date, case.continuation_end)
            ):
                case.status, case.ended_on, case.end_reason = "ELECTED", None, None
    uow.flush()
    terms = [t for t in repo.terms(policy.id) if t.period_start <= effective] or repo.terms(policy.id)
    _submitted(uow, policy, terms[-1], policy.subscriber_party_id, "REINSTATEMENT", effective, None)
    _activated(uow, policy)
    return transaction


class NoRemovalToUndo(BusinessRuleViolation):
    code = "no_removal_to_undo"
    title = "The person has no removal to undo on this policy"


class PolicyTerminated(BusinessRuleViolation):
    code = "policy_terminated"
    title = "The policy is terminated"


class RemovalTiedToCobra(BusinessRuleViolation):
    code = "removal_tied_to_cobra"
    title = "A removal that started or ended COBRA continuation is not undone"


class RenewedSinceRemoval(BusinessRuleViolation):
    code = "renewed_since_removal"
    title = "The policy was renewed after the removal"


#: The transactions that name one dependent: the last of them says whether a removal is in effect.
_DEPENDENT_CHANGES = frozenset(
    t.value
    for t in (TransactionType.ADD_DEPENDENT, TransactionType.REMOVE_DEPENDENT, TransactionType.REINSTATE_DEPENDENT)
)


def reinstate_dependent(
    uow: UnitOfWork, policy_id: uuid.UUID, data: DependentReinstate, plans: PlanCatalog
) -> PolicyTransaction:
    """Undo a dependent's last removal with no gap in cover (a child removed by mistake, say).

    The cover the removal ended is restored day for day: the spans it superseded are recorded again
    (as ``reinstate`` does for a termination), each day on the term in force then (a term that
    replaced the person's, by the removal's own repricing or a later change, keeps the days it
    holds). The removal stays in the history: asked "as known at" a moment between the two, the
    person's cover still ends on the removal's date. The policy is priced again from the day cover
    resumes, as for an added dependent (``_rerate``), and ``enrollment.enrollment.submitted``
    (``REINSTATE_DEPENDENT``) names the person: eligibility and claims copy the cover again and
    billing adjusts the months already billed.

    Any removal reason may be undone (a death or a divorce reported in error included) except one
    tied to COBRA continuation, whose case would go on offering, or continuing, cover the person
    then never lost. The person must still be a dependent the market allows on the day cover
    resumes, as for an addition (a child 26 or older is refused)."""
    policy = _policy(uow, policy_id)
    if policy.status == "TERMINATED":
        raise PolicyTerminated("the policy is terminated: reinstate the policy first")
    if policy.status not in {"SUBMITTED", "ACTIVE"}:
        raise BusinessRuleViolation(f"a {policy.status.lower()} policy cannot be changed")
    repo = EnrollmentRepository(uow)
    removal = _removal_to_undo(repo, policy, data.party_id)
    before = [s for s in repo.spans_superseded_at(policy.id, removal.recorded_at) if s.party_id == data.party_id]
    if not before:
        raise NoRemovalToUndo("there is no record of the cover the removal ended", extra={"field": "party_id"})
    elements = {e.id: e for e in repo.elements(policy.id)}
    relationship = Relationship(elements[before[0].element_id].relationship)
    born = _birth_date(uow, data.party_id, "party_id")
    day_after = removal.effective_date + timedelta(days=1)
    resumes = min(max(s.valid_from, day_after) for s in before)
    problems = rules.dependent_problems(Market(policy.market), rules.Person(relationship, born), resumes)
    if problems:
        raise ValidationFailed(problems)
    now = uow.clock.now()
    transaction = _transaction(
        policy.id,
        TransactionType.REINSTATE_DEPENDENT,
        resumes,
        now,
        detail={"partyId": str(data.party_id), "reinstates": str(removal.id)},
    )
    repo.add(transaction)
    uow.flush()
    # Price each stretch of the restored days on the term in force then (the person joining), then
    # record them: on a term that did not change, next to the days the removal kept, one span again.
    pieces: list[tuple[CoverageSpan, PolicyTerm, date, date | None]] = []
    for span in before:
        terms = repo.terms(policy.id)
        span_end = span.valid_to or next(t.period_end for t in terms if t.id == span.term_id)
        periods = [(t.period_start, t.period_end) for t in terms]
        for index, start, end in rules.terms_in_force(periods, max(span.valid_from, day_after), span_end):
            term = _rerate(uow, policy, terms[index], start, plans, transaction, now, joining=[(relationship, born)])
            pieces.append((span, term, start, span.valid_to if end == span_end else end))
    kept = [s for s in repo.current_spans(policy.id) if s.party_id == data.party_id]
    for span, term, start, until in pieces:
        adjacent = next((s for s in kept if s.term_id == term.id and s.valid_to == start - timedelta(days=1)), None)
        if adjacent is not None:
            adjacent.superseded_at = now
            repo.add(_span_like(adjacent, valid_to=until, transaction_id=transaction.id, now=now))
            continue
        repo.add(
            _span_like(span, term_id=term.id, valid_from=start, valid_to=until, transaction_id=transaction.id, now=now)
        )
    uow.flush()
    _submitted(uow, policy, _term_on(repo, policy.id, resumes), data.party_id, "REINSTATE_DEPENDENT", resumes, None)
    return transaction


def _removal_to_undo(repo: EnrollmentRepository, policy: Policy, party_id: uuid.UUID) -> PolicyTransaction:
    """The removal a dependent's reinstatement undoes: the person's last change on the policy, when it
    is a removal that no COBRA case and no renewal has built on since."""
    if party_id == policy.subscriber_party_id:
        raise NoRemovalToUndo("the subscriber is reinstated with the policy", extra={"field": "party_id"})
    if policy.market == Market.COBRA.value:
        raise RemovalTiedToCobra("a continuation policy's people leave it through their COBRA case")
    history = repo.transactions(policy.id)
    named = [
        t for t in history if t.transaction_type in _DEPENDENT_CHANGES and t.detail.get("partyId") == str(party_id)
    ]
    if not named or named[-1].transaction_type != TransactionType.REMOVE_DEPENDENT.value:
        raise NoRemovalToUndo("the person has no removal in effect on this policy", extra={"field": "party_id"})
    removal = named[-1]
    if any(case.transaction_id == removal.id for case in repo.cobra_cases(policy.id)):
        raise RemovalTiedToCobra("the removal was a COBRA qualifying event: the person was offered continuation")
    if any(t.transaction_type == TransactionType.RENEWAL.value for t in history[history.index(removal) + 1 :]):
        raise RenewedSinceRemoval("the policy was renewed after the removal: add the person again")
    return removal


def renew(uow: UnitOfWork, policy_id: uuid.UUID, plan_code: str, plans: PlanCatalog) -> PolicyTerm:
    """Open the next plan year's term for everyone covered at the end of the current one."""
    policy = _live_policy(uow, policy_id)
    repo = EnrollmentRepository(uow)
    terms = repo.terms(policy.id)
    current = terms[-1]
    start = current.period_end + timedelta(days=1)
    spans = [s for s in repo.current_spans(policy.id) if s.term_id == current.id and _open_after(s, current.period_end)]
    elements = {e.id: e for e in repo.elements(policy.id)}
    members = [
        RatedMember(Relationship(elements[s.element_id].relationship), _birth_date(uow, s.party_id, "party_id"))
        for s in spans
    ]
    market = Market(policy.market)
    plan = _priced(uow, plans, plan_code, start, market, current.tier_code, members)
    now = uow.clock.now()
    term = _term(policy.id, plan, current.tier_code, start, now)
    segments = [(term, [s.party_id for s in spans])]
    if market == Market.COBRA:
        cases = _continuing_cases(repo, policy.id)
        if cases:
            cap = max(c.continuation_end for c in cases)
            if start > cap:
                raise CobraNotAvailable(f"COBRA continuation ended on {cap.isoformat()}")
            ends = {c.party_id: c.continuation_end for c in cases}
            beneficiaries = [
                (s.party_id, Relationship(elements[s.element_id].relationship), ends.get(s.party_id, cap))
                for s in spans
            ]
            segments = _cobra_segments(
                uow,
                plans,
                policy.id,
                plan_code,
                start,
                min(plan.period_end, cap),
                beneficiaries,
                _premium_increase(cases),
            )
            term = segments[0][0]
    by_party = {s.party_id: s for s in spans}
    transaction = _transaction(policy.id, TransactionType.RENEWAL, start, now, detail={"planId": str(term.plan_id)})
    repo.add(*(t for t, _ in segments), transaction)
    uow.flush()
    for added, parties in segments:
        for party_id in parties:
            repo.add(
                CoverageSpan(
                    id=uuid7(),
                    element_id=by_party[party_id].element_id,
                    term_id=added.id,
                    policy_id=policy.id,
                    party_id=party_id,
                    valid_from=added.period_start,
                    valid_to=added.period_end,
                    recorded_at=now,
                    superseded_at=None,
                    transaction_id=transaction.id,
                )
            )
    _submitted(uow, policy, term, policy.subscriber_party_id, "RENEWAL", start, len(spans) - 1)
    return term


def coverage_on(
    uow: UnitOfWork, party_id: uuid.UUID, on: date, *, as_known_at: datetime | None = None
) -> list[Coverage]:
    """Who covers ``party_id`` on ``on``: as known now, or as it stood at ``as_known_at``."""
    repo = EnrollmentRepository(uow)
    answers = []
    for span in repo.spans_on(party_id, on, as_known_at):
        policy, term = repo.policy(span.policy_id), repo.term(span.term_id)
        element = uow.session.get(PolicyElement, span.element_id)
        if policy is not None and term is not None and element is not None:
            answers.append(Coverage(policy, term, element, span))
    return answers


# ---------------------------------------------------------------------------------------------
#: How long a quote's price holds.
QUOTE_VALID_DAYS = 30


def quote(
    uow: UnitOfWork,
    plans: PlanCatalog,
    *,
    market: Market,
    plan_code: str,
    effective_date: date,
    members: list[RatedMember],
) -> Quote:
    """Price a household on a plan and keep the quote (valid for 30 days)."""
    if not members or members[0].relationship != Relationship.SELF:
        raise ValidationFailed([FieldError("members", "the first member must be the subscriber (SELF)", "invalid")])
    errors = [
        FieldError(f"members.{i}.{p.field}", p.message, p.code)
        for i, m in enumerate(members[1:], start=1)
        for p in rules.dependent_problems(market, rules.Person(m.relationship, m.birth_date), effective_date)
    ]
    if errors:
        raise ValidationFailed(errors)
    tier = rules.tier_code([m.relationship for m in members[1:]])
    plan = plans.choose(uow, plan_code, effective_date, market, tier, members)
    row = Quote(
        id=uuid7(),
        market=market.value,
        plan_id=plan.plan_id,
        plan_code=plan.plan_code,
        effective_date=effective_date,
        tier_code=tier,
        currency=plan.currency,
        total_premium_minor=plan.total_premium_minor,
        member_premium_minor=plan.member_premium_minor,
        premium_period=plan.premium_period,
        lines=[{"relationship": m.relationship.value, "age": age_on(m.birth_date, effective_date)} for m in members],
        valid_until=uow.clock.today() + timedelta(days=QUOTE_VALID_DAYS),
        created_at=uow.clock.now(),
    )
    EnrollmentRepository(uow).add(row)
    return row


def flag_underwriting(
    uow: UnitOfWork,
    policy_id: uuid.UUID,
    *,
    party_id: uuid.UUID,
    flag: str,
    waiting_period_months: int | None = None,
    loading_percent: int | None = None,
    detail: str | None = None,
    diagnosis_codes: Sequence[str] = (),
) -> UnderwritingFlag:
    """Record an underwriting finding; ``diagnosis_codes`` (ICD-10-CM codes or categories) let claims
    apply a pre-existing disease's waiting period to the diagnoses it covers. Publishes
    ``enrollment.underwriting.flagged`` (ids only), so claims learns a finding recorded after the
    policy's last enrollment event."""
    policy = _live_policy(uow, policy_id)
    problems = rules.underwriting_problems(
        Market(policy.market), flag, waiting_period_months, loading_percent, diagnosis_codes
    )
    if problems:
        raise ValidationFailed(problems)
    if not any(e.party_id == party_id for e in EnrollmentRepository(uow).elements(policy.id)):
        raise ValidationFailed([FieldError("party_id", "is not covered on this policy", "not_covered")])
    row = UnderwritingFlag(
        id=uuid7(),
        policy_id=policy.id,
        party_id=party_id,
        flag=flag,
        waiting_period_months=waiting_period_months,
        loading_percent=loading_percent,
        detail=detail,
        diagnosis_codes=[icd10.normalise(code) for code in diagnosis_codes] or None,
        recorded_at=uow.clock.now(),
    )
    EnrollmentRepository(uow).add(row)
    uow.publish(
        UnderwritingFlagged(enrollment_id=policy.id, member_id=party_id, flag_id=row.id, flagged_at=row.recorded_at),
        key=policy.id,
    )
    return row


class UnderwritingFlagNotFound(NotFound):
    code = "underwriting_flag_not_found"
    title = "No such underwriting finding on this policy"


class UnderwritingFlagAlreadyWithdrawn(Conflict):
    code = "underwriting_flag_already_withdrawn"
    title = "The underwriting finding was already withdrawn"


def withdraw_underwriting(
    uow: UnitOfWork,
    policy_id: uuid.UUID,
    flag_id: uuid.UUID,
    *,
    reason: WithdrawalReason,
    note: str | None = None,
) -> UnderwritingFlag:
    """Withdraw a finding recorded by mistake: it stays on record (when and why it was withdrawn)
    and no longer applies. Publishes ``enrollment.underwriting.withdrawn`` (ids only), so claims
    re-copies the policy's coverage without it from the next claim on.

    Whatever the policy's status: a terminated policy's claims (filed late, for days it covered)
    still read its findings. A finding of another policy is, here, no such finding."""
    policy = _policy(uow, policy_id)  # locked: two withdrawals of one finding queue, the second is refused
    repo = EnrollmentRepository(uow)
    row = repo.underwriting_flag(flag_id, for_update=True)
    if row is None or row.policy_id != policy.id:
        raise UnderwritingFlagNotFound()
    if row.withdrawn_at is not None:
        raise UnderwritingFlagAlreadyWithdrawn(
            f"withdrawn on {row.withdrawn_at.date().isoformat()}", extra={"withdrawnAt": row.withdrawn_at.isoformat()}
        )
    problems = rules.withdrawal_problems(reason, note)
    if problems:
        raise ValidationFailed(problems)
    row.withdrawn_at = uow.clock.now()
    row.withdrawal_reason = reason.value
    row.withdrawal_note = note.strip() if note and note.strip() else None
    uow.publish(
        UnderwritingWithdrawn(
            enrollment_id=policy.id, member_id=row.party_id, flag_id=row.id, withdrawn_at=row.withdrawn_at
        ),
        key=policy.id,
    )
    return row


# ---------------------------------------------------------------------------------------------
# COBRA continuation (docs/enrollment.md, "COBRA continuation")
class CobraNotAvailable(BusinessRuleViolation):
    code = "cobra_not_available"
    title = "COBRA continuation is not available here"


class NotQualifiedBeneficiary(BusinessRuleViolation):
    code = "not_a_qualified_beneficiary"
    title = "The person is not a qualified beneficiary of this qualifying event"


class CobraElectionWindowClosed(BusinessRuleViolation):
    code = "cobra_election_window_closed"
    title = "The COBRA election window has closed"


class CobraAlreadyElected(Conflict):
    code = "cobra_already_elected"
    title = "COBRA continuation was already elected"


_COBRA_TERMINATIONS = {
    CobraEvent.TERMINATION: TerminationReason.EMPLOYMENT_ENDED,
    CobraEvent.REDUCED_HOURS: TerminationReason.EMPLOYMENT_ENDED,
    CobraEvent.DEATH: TerminationReason.DEATH,
    CobraEvent.DIVORCE: TerminationReason.DIVORCE,
    CobraEvent.LOSS_OF_DEPENDENT_STATUS: TerminationReason.AGED_OUT,
}
_DEPENDENT_EVENTS = {
    CobraEvent.DIVORCE: frozenset({Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER}),
    CobraEvent.LOSS_OF_DEPENDENT_STATUS: frozenset({Relationship.CHILD}),
}


def record_cobra_event(
    uow: UnitOfWork, policy_id: uuid.UUID, data: CobraEventCreate, plans: PlanCatalog
) -> list[CobraCase]:
    """Record a COBRA qualifying event on an employer group policy.

    The group cover ends by the ordinary termination rules (at the end of the event's month; a month
    already over is refused, as any retroactive termination is): the whole policy for the employee's
    events (termination of employment, reduced hours, death), one dependent for a divorce or a child
    losing dependent status (the policy is then priced again for those who stay). Each person who
    loses cover is a qualified beneficiary (for a death, the dependents only) and gets an election
    notice dated today, with ``enrollment.cobra.notice_sent``."""
    policy = _live_policy(uow, policy_id)
    if policy.market != Market.GROUP.value:
        raise CobraNotAvailable("COBRA continues employer group cover only")
    repo = EnrollmentRepository(uow)
    today = uow.clock.today()
    if data.event_date > today:
        raise ValidationFailed([FieldError("event_date", "is in the future", "future_event")])
    entitled_on = data.employee_medicare_entitlement_date
    if entitled_on is not None and data.event not in rules.COBRA_EMPLOYMENT_EVENTS:
        raise ValidationFailed(
            [
                FieldError(
                    "employee_medicare_entitlement_date",
                    "is only for a termination of employment or reduced hours",
                    "not_allowed",
                )
            ]
        )
    if entitled_on is not None and entitled_on > data.event_date:
        raise ValidationFailed(
            [
                FieldError(
                    "employee_medicare_entitlement_date",
                    "is after the event (an entitlement during continuation is a second qualifying event)",
                    "after_event",
                )
            ]
        )
    deadlines = _notice_deadlines(data, today)
    last_day = end_of_month(data.event_date)
    reason = _COBRA_TERMINATIONS[data.event]
    elements = {e.party_id: e for e in repo.elements(policy.id)}
    covered = [
        s.party_id for s in repo.current_spans(policy.id) if s.valid_from <= last_day and _open_after(s, last_day)
    ]
    if data.event in _DEPENDENT_EVENTS:
        party = data.party_id
        if party is None:
            raise ValidationFailed([FieldError("party_id", "name the dependent who loses cover", "required")])
        element = elements.get(party)
        if party not in covered or element is None:
            raise NotQualifiedBeneficiary("the person is not covered on the policy on that date")
        if Relationship(element.relationship) not in _DEPENDENT_EVENTS[data.event]:
            raise ValidationFailed(
                [FieldError("party_id", f"a {data.event.value.lower()} is not a qualifying event for this person")]
            )
        transaction = remove_dependent(
            uow, policy.id, DependentRemove(party_id=party, reason=reason, termination_date=last_day), plans
        )
        beneficiaries = [party]
    else:
        if data.party_id is not None:
            raise ValidationFailed(
                [FieldError("party_id", "is only for a dependent's qualifying event", "not_allowed")]
            )
        transaction = terminate(uow, policy.id, Termination(reason=reason, termination_date=last_day))
        beneficiaries = [
            p
            for p in dict.fromkeys(covered)
            if not (data.event == CobraEvent.DEATH and p == policy.subscriber_party_id)
        ]
    window = rules.cobra_window(data.event, last_day, today)
    medicare_end = (
        rules.cobra_medicare_continuation_end(data.event_date, window.loss_date, entitled_on)
        if entitled_on is not None
        else None
    )
    now = uow.clock.now()
    cases = []
    for party_id in beneficiaries:
        # The employee's Medicare entitlement lengthens the spouse's and children's continuation only.
        dependent = elements[party_id].relationship != Relationship.SELF.value
        longer = medicare_end is not None and dependent
        case = CobraCase(
            id=uuid7(),
            group_policy_id=policy.id,
            party_id=party_id,
            relationship=elements[party_id].relationship,
            qualifying_event=data.event.value,
            event_date=data.event_date,
            loss_date=window.loss_date,
            notice_date=today,
            election_deadline=window.election_deadline,
            continuation_end=medicare_end if longer and medicare_end is not None else window.continuation_end,
            status="OFFERED",
            cobra_policy_id=None,
            elected_on=None,
            transaction_id=transaction.id,
            created_at=now,
            extension=rules.CobraExtension.MEDICARE_ENTITLEMENT.value if longer else None,
            medicare_entitlement_date=entitled_on,
            employer_notified_on=data.employer_notified_on,
            notice_due=deadlines.notice_due if deadlines else None,
            is_notice_late=deadlines.is_notice_late if deadlines else None,
            is_employer_notice_late=deadlines.is_employer_late if deadlines else None,
            disability_notice_by=rules.cobra_disability_notice_limit(data.event, window.loss_date),
        )
        repo.add(case)
        cases.append(case)
        uow.publish(
            CobraNoticeSent(
                cobra_case_id=case.id,
                member_id=party_id,
                qualifying_event=data.event.value,
                qualifying_event_date=data.event_date,
                election_deadline=window.election_deadline,
                notice_sent_at=now,
            ),
            key=policy.id,
        )
    uow.flush()
    _print_election_notices(uow, policy, cases, last_day, plans)
    return cases


def _notice_deadlines(data: CobraEventCreate, today: date) -> rules.CobraNoticeDeadlines | None:
    """The notice deadlines of an employer's event (the notice goes out today); a dependent's event
    (divorce, loss of dependent status) is told to the plan by the family, not the employer."""
    notified = data.employer_notified_on
    if notified is not None:
        field = "employer_notified_on"
        if data.event not in rules.COBRA_EMPLOYER_EVENTS:
            raise ValidationFailed([FieldError(field, "is only for the employer's events", "not_allowed")])
        if notified > today:
            raise ValidationFailed([FieldError(field, "is in the future", "future_date")])
        if notified < data.event_date:
            raise ValidationFailed([FieldError(field, "is before the event", "before_event")])
    if data.event not in rules.COBRA_EMPLOYER_EVENTS:
        return None
    return rules.cobra_notice_deadlines(data.event_date, notified, today)


def _print_election_notices(
    uow: UnitOfWork, group: Policy, cases: Sequence[CobraCase], last_day: date, plans: PlanCatalog
) -> None:
    """Each beneficiary's election notice as a letter: the premium alone, and for everyone offered
    electing together."""
    if not cases:
        return
    repo = EnrollmentRepository(uow)
    term = _term_on(repo, group.id, last_day)
    loss = cases[0].loss_date
    ordered, relationships = _cobra_household(cases)
    together = None
    if len(cases) > 1:
        members = [
            RatedMember(r, _birth_date(uow, c.party_id, "party_id"))
            for r, c in zip(relationships, ordered, strict=True)
        ]
        tier = rules.tier_code(relationships[1:])
        together = _priced(uow, plans, term.plan_code, loss, Market.COBRA, tier, members).total_premium_minor
    for case in cases:
        person = people.person(uow, case.party_id)
        alone = _priced(
            uow,
            plans,
            term.plan_code,
            loss,
            Market.COBRA,
            "EE",
            [RatedMember(Relationship.SELF, _birth_date(uow, case.party_id, "party_id"))],
        )
        case.notice_object_key = letters.store(
            uow,
            letters.ElectionNotice(
                beneficiary_name=person.display_name if person is not None else "qualified beneficiary",
                notice_date=case.notice_date,
                event=CobraEvent(case.qualifying_event),
                event_date=case.event_date,
                plan_code=term.plan_code,
                loss_date=case.loss_date,
                election_deadline=case.election_deadline,
                continuation_end=case.continuation_end,
                currency=alone.currency,
                premium_alone_minor=alone.total_premium_minor,
                premium_together_minor=together,
                offered_together=len(cases),
            ),
        )


def cobra_notice(uow: UnitOfWork, case_id: uuid.UUID) -> bytes:
    """A beneficiary's printed election notice (PDF)."""
    case = uow.session.get(CobraCase, case_id)
    if case is None or case.notice_object_key is None:
        raise NotFound("no such notice")
    return object_store_of(uow).get(uow, case.notice_object_key)


_ELECTION_ORDER = {Relationship.SELF: 0, Relationship.SPOUSE: 1, Relationship.DOMESTIC_PARTNER: 1}


def elect_cobra(uow: UnitOfWork, policy_id: uuid.UUID, data: CobraElection, plans: PlanCatalog) -> Policy:
    """Qualified beneficiaries of one qualifying event elect continuation together.

    A COBRA policy (market ``COBRA``) on the group plan covers them from the first day without group
    cover, whenever in the window they elect, so there is no gap; it is billed to a household account
    at 102 % of the full group premium for their tier. It waits for its first premium (due 45 days
    after the election) as an individual policy does; ``enrollment.enrollment.submitted`` (election
    type ``COBRA``) and one ``enrollment.cobra.elected`` per beneficiary are published."""
    repo = EnrollmentRepository(uow)
    group_policy = repo.policy(policy_id)
    if group_policy is None:
        raise NotFound("policy not found")
    today, now = uow.clock.today(), uow.clock.now()
    all_cases = repo.cobra_cases(group_policy.id)
    cases: list[CobraCase] = []
    for party_id in dict.fromkeys(data.party_ids):
        offered = [c for c in all_cases if c.party_id == party_id]
        if not offered:
            raise NotQualifiedBeneficiary(
                "the person is not a qualified beneficiary of this policy's qualifying events"
            )
        case = offered[-1]
        if case.status != "OFFERED":
            raise CobraAlreadyElected("this qualified beneficiary has already elected continuation")
        if rules.cobra_election_problem(today, case.election_deadline) is not None:
            raise CobraElectionWindowClosed(
                f"the election window closed on {case.election_deadline.isoformat()}",
                extra={"electionDeadline": case.election_deadline.isoformat()},
            )
        if repo.spans_on(party_id, case.loss_date):
            raise CobraNotAvailable("the person is covered on the day the group cover was to end (reinstated?)")
        cases.append(case)
    if len({c.transaction_id for c in cases}) != 1:
        raise ValidationFailed(
            [FieldError("party_ids", "beneficiaries elect together only for the same qualifying event", "mixed_events")]
        )
    cases, relationships = _cobra_household(cases)
    first = cases[0]
    loss = first.loss_date
    subscriber = first.party_id
    members = [
        RatedMember(r, _birth_date(uow, c.party_id, "party_ids")) for r, c in zip(relationships, cases, strict=True)
    ]
    tier = rules.tier_code(relationships[1:])
    group_term = _term_on(repo, group_policy.id, loss - timedelta(days=1))
    plan = _priced(uow, plans, group_term.plan_code, loss, Market.COBRA, tier, members)
    account_id = _cobra_account(uow, data.account_id, subscriber, plan.currency)
    policy = Policy(
        id=uuid7(),
        policy_number=_number("POL"),
        market=Market.COBRA.value,
        account_id=account_id,
        subscriber_party_id=subscriber,
        status="SUBMITTED",
        created_at=now,
    )
    beneficiaries = [(c.party_id, r, c.continuation_end) for r, c in zip(relationships, cases, strict=True)]
    segments = _cobra_segments(
        uow,
        plans,
        policy.id,
        group_term.plan_code,
        loss,
        min(plan.period_end, first.continuation_end),
        beneficiaries,
        None,
    )
    term = segments[0][0]
    transaction = _transaction(
        policy.id,
        TransactionType.COBRA_ELECTION,
        loss,
        now,
        reason=first.qualifying_event,
        event_date=first.event_date,
        detail={
            "groupPolicyId": str(group_policy.id),
            "cobraCaseIds": [str(c.id) for c in cases],
            "planId": str(plan.plan_id),
            "tierCode": tier,
        },
    )
    repo.add(policy, *(t for t, _ in segments), transaction)
    uow.flush()
    relationship_of = {c.party_id: r for r, c in zip(relationships, cases, strict=True)}
    for segment, parties in segments:
        for party_id in parties:
            _cover(
                repo, policy, segment, party_id, relationship_of[party_id], segment.period_start, transaction.id, now
            )
    for case in cases:
        case.status, case.cobra_policy_id, case.elected_on = "ELECTED", policy.id, today
    uow.flush()
    _submitted(uow, policy, term, subscriber, "COBRA", loss, len(cases) - 1)
    first_premium_due = today + timedelta(days=rules.COBRA_FIRST_PREMIUM_DAYS)
    for case in cases:
        uow.publish(
            CobraElected(
                cobra_case_id=case.id,
                member_id=case.party_id,
                plan_id=term.plan_id,
                coverage_start_date=loss,
                coverage_end_date=case.continuation_end,
                first_premium_due_date=first_premium_due,
                monthly_premium=_amount(term.total_premium_minor, term.currency),
                currency=term.currency,
                elected_at=now,
            ),
            key=policy.id,
        )
    return policy


def _cobra_household(cases: Sequence[CobraCase]) -> tuple[list[CobraCase], list[Relationship]]:
    """Who is the subscriber of a continuation policy, and how the others are rated under them.

    The subscriber is whoever may continue longest (their cover must last as long as the policy's),
    then the employee, a spouse or partner, a child. Under the employee everyone keeps their
    relationship; under a spouse the employee is their spouse and the others their children; under
    a child the employee is their parent and the others their siblings, rated as children."""
    ordered = sorted(
        cases, key=lambda c: (-c.continuation_end.toordinal(), _ELECTION_ORDER.get(Relationship(c.relationship), 2))
    )
    first = Relationship(ordered[0].relationship)
    relationships = [Relationship.SELF]
    for case in ordered[1:]:
        own = Relationship(case.relationship)
        if first == Relationship.SELF:
            relationships.append(own)
        elif own == Relationship.SELF:
            relationships.append(first if first != Relationship.CHILD else Relationship.PARENT)
        else:
            relationships.append(Relationship.CHILD)
    return ordered, relationships


def cobra_cases(uow: UnitOfWork, policy_id: uuid.UUID) -> list[CobraCase]:
    """The qualified beneficiaries of a group policy's qualifying events, oldest first."""
    repo = EnrollmentRepository(uow)
    if repo.policy(policy_id) is None:
        raise NotFound("policy not found")
    return repo.cobra_cases(policy_id)


# -- extensions and early ends (docs/enrollment.md, "Extensions" and "Early end") ----------------
class CobraNotExtendable(BusinessRuleViolation):
    code = rules.CobraRefusal.NOT_EXTENDABLE.value
    title = "Only an 18-month continuation is extended"


class CobraNotElected(BusinessRuleViolation):
    code = rules.CobraRefusal.NOT_ELECTED.value
    title = "The beneficiary has not elected continuation"


class CobraDisabledTooLate(BusinessRuleViolation):
    code = rules.CobraRefusal.DISABLED_TOO_LATE.value
    title = "The disability began after the first 60 days of continuation"


class CobraNoticeTooLate(BusinessRuleViolation):
    code = rules.CobraRefusal.NOTICE_TOO_LATE.value
    title = "The plan was told too late"


class CobraEventOutsideContinuation(BusinessRuleViolation):
    code = rules.CobraRefusal.EVENT_OUTSIDE_CONTINUATION.value
    title = "The second qualifying event is outside the continuation"


class CobraSecondEventNotForThisPerson(BusinessRuleViolation):
    code = rules.CobraRefusal.NOT_FOR_THIS_PERSON.value
    title = "The event is not a second qualifying event for this beneficiary"


class CobraSecondEventWithoutLossOfCover(BusinessRuleViolation):
    code = rules.CobraRefusal.NO_LOSS_OF_COVER.value
    title = "The event would not have ended the beneficiary's group cover"


class CobraAlreadyExtended(Conflict):
    code = rules.CobraRefusal.ALREADY_EXTENDED.value
    title = "Continuation is already extended"


class CobraAlreadyEnded(Conflict):
    code = "cobra_already_ended"
    title = "Continuation has already ended"


class CobraEndRefused(BusinessRuleViolation):
    code = "cobra_end_refused"
    title = "This does not end continuation"


_REFUSALS: dict[rules.CobraRefusal, type[OllyError]] = {
    rules.CobraRefusal.NOT_EXTENDABLE: CobraNotExtendable,
    rules.CobraRefusal.NOT_ELECTED: CobraNotElected,
    rules.CobraRefusal.DISABLED_TOO_LATE: CobraDisabledTooLate,
    rules.CobraRefusal.NOTICE_TOO_LATE: CobraNoticeTooLate,
    rules.CobraRefusal.EVENT_OUTSIDE_CONTINUATION: CobraEventOutsideContinuation,
    rules.CobraRefusal.NOT_FOR_THIS_PERSON: CobraSecondEventNotForThisPerson,
    rules.CobraRefusal.NO_LOSS_OF_COVER: CobraSecondEventWithoutLossOfCover,
    rules.CobraRefusal.ALREADY_EXTENDED: CobraAlreadyExtended,
}


def _refuse(refused: rules.CobraRefused) -> NoReturn:
    extra = {"noticeDeadline": refused.deadline.isoformat()} if refused.deadline is not None else None
    raise _REFUSALS[refused.refusal](refused.message, extra=extra)


def _case_of(repo: EnrollmentRepository, group_policy_id: uuid.UUID, party_id: uuid.UUID) -> CobraCase:
    """The person's latest case on the group policy; ended continuation cannot change any more."""
    offered = [c for c in repo.cobra_cases(group_policy_id) if c.party_id == party_id]
    if not offered:
        raise NotQualifiedBeneficiary("the person is not a qualified beneficiary of this policy's qualifying events")
    case = offered[-1]
    if case.status == "ENDED":
        raise CobraAlreadyEnded(f"continuation ended on {case.ended_on.isoformat() if case.ended_on else '?'}")
    return case


def _facts(case: CobraCase) -> rules.CobraCaseFacts:
    return rules.CobraCaseFacts(
        event=CobraEvent(case.qualifying_event),
        relationship=Relationship(case.relationship),
        event_date=case.event_date,
        loss_date=case.loss_date,
        continuation_end=case.continuation_end,
        elected=case.status == "ELECTED",
        extension=rules.CobraExtension(case.extension) if case.extension else None,
    )


def _group_policy(repo: EnrollmentRepository, policy_id: uuid.UUID) -> Policy:
    found = repo.policy(policy_id)
    if found is None:
        raise NotFound("policy not found")
    return found


def record_cobra_disability(
    uow: UnitOfWork, policy_id: uuid.UUID, data: CobraDisabilityCreate, plans: PlanCatalog
) -> list[CobraCase]:
    """A qualified beneficiary of an 18-month event was found disabled by the Social Security
    Administration: every beneficiary of that event may continue 29 months, and the continuation
    policy that covers the disabled person costs 150 % of the full group premium from the 19th month
    (the others, on policies of their own, keep paying 102 %). Returns the event's cases."""
    repo = EnrollmentRepository(uow)
    group = _group_policy(repo, policy_id)
    today = uow.clock.today()
    problems = []
    if data.determined_on > today:
        problems.append(FieldError("determined_on", "is in the future", "future_date"))
    if data.disabled_since > data.determined_on:
        problems.append(FieldError("disabled_since", "is after the determination", "after_determination"))
    if problems:
        raise ValidationFailed(problems)
    case = _case_of(repo, group.id, data.party_id)
    decision = rules.cobra_disability_extension(_facts(case), data.disabled_since, data.determined_on, today)
    if isinstance(decision, rules.CobraRefused):
        _refuse(decision)
    case.disability = {
        "disabledSince": data.disabled_since.isoformat(),
        "determinedOn": data.determined_on.isoformat(),
        "notifiedOn": today.isoformat(),
        "noticeDeadline": decision.notice_deadline.isoformat(),
    }
    case.premium_increase_from = decision.premium_increase_from
    event_cases = [c for c in repo.cobra_cases(group.id) if c.transaction_id == case.transaction_id]
    _extend(
        uow,
        [c for c in event_cases if c.status != "ENDED"],
        decision.continuation_end,
        rules.CobraExtension.DISABILITY,
        plans,
    )
    return event_cases


def record_cobra_second_event(
    uow: UnitOfWork, policy_id: uuid.UUID, data: CobraSecondEventCreate, plans: PlanCatalog
) -> list[CobraCase]:
    """A second qualifying event during an 18-month (or 29-month) continuation: the spouse or
    children it concerns may continue 36 months from the original loss of cover.

    When they share a continuation policy with the employee (its subscriber), they leave it at the
    end of this month (it is priced again for those who stay; after a death it ends) and continue on
    a policy of their own from the first of the next month, with the spouse as subscriber (else the
    first child), billed to the household account given or a new one."""
    repo = EnrollmentRepository(uow)
    group = _group_policy(repo, policy_id)
    today = uow.clock.today()
    problems = []
    if data.event_date > today:
        problems.append(FieldError("event_date", "is in the future", "future_event"))
    medicare = data.event == rules.CobraSecondEvent.MEDICARE_ENTITLEMENT
    if medicare and data.group_cover_would_end is None:
        problems.append(
            FieldError(
                "group_cover_would_end",
                "say whether the group plan ends a spouse's and children's cover on the employee's Medicare "
                "entitlement",
                "required",
            )
        )
    if not medicare and data.group_cover_would_end is not None:
        problems.append(
            FieldError("group_cover_would_end", "is only for the employee's Medicare entitlement", "not_allowed")
        )
    if problems:
        raise ValidationFailed(problems)
    decided: list[tuple[CobraCase, rules.CobraExtended]] = []
    for party_id in dict.fromkeys(data.party_ids):
        case = _case_of(repo, group.id, party_id)
        decision = rules.cobra_second_event_extension(
            _facts(case), data.event, data.event_date, today, group_cover_would_end=bool(data.group_cover_would_end)
        )
        if isinstance(decision, rules.CobraRefused):
            _refuse(decision)
        decided.append((case, decision))
    if len({c.transaction_id for c, _ in decided}) != 1:
        raise ValidationFailed(
            [FieldError("party_ids", "name beneficiaries of one first qualifying event", "mixed_events")]
        )
    cases = [c for c, _ in decided]
    # Who leaves a shared continuation policy, checked before anything is written.
    leaving: list[tuple[Policy, list[CobraCase], list[CobraCase]]] = []
    for cobra_policy_id in dict.fromkeys(c.cobra_policy_id for c in cases if c.cobra_policy_id is not None):
        cobra = _policy(uow, cobra_policy_id)
        moving = [c for c in cases if c.cobra_policy_id == cobra.id]
        staying = [c for c in _continuing_cases(repo, cobra.id) if c not in moving]
        if not staying or any(c.party_id == cobra.subscriber_party_id for c in moving):
            continue  # the policy is theirs: it is extended as it is
        if cobra.status != "ACTIVE":
            raise CobraNotAvailable("the continuation policy is not in force yet (its first premium is unpaid)")
        # After a death the employee's continuation ends: everyone else on it must continue on their own.
        if data.event == rules.CobraSecondEvent.DEATH and any(c.party_id != cobra.subscriber_party_id for c in staying):
            raise ValidationFailed(
                [FieldError("party_ids", "name every spouse and child on the continuation policy", "incomplete")]
            )
        leaving.append((cobra, moving, staying))
    former_ends = _former_ends(repo, cases)
    _lengthen(uow, cases, decided[0][1].continuation_end, rules.CobraExtension.SECOND_EVENT)
    for case, decision in decided:
        case.second_event, case.second_event_date = data.event.value, data.event_date
        case.second_event_notice_deadline = decision.notice_deadline
    uow.flush()
    last_day = end_of_month(today)
    for cobra, moving, staying in leaving:
        if data.event == rules.CobraSecondEvent.DEATH:
            terminate(
                uow,
                cobra.id,
                Termination(reason=TerminationReason.DEATH, termination_date=last_day),
                by_cobra_case=True,
            )
            for case in staying:
                case.status, case.ended_on, case.end_reason = "ENDED", last_day, rules.CobraEnd.DEATH.value
                _cobra_ended(uow, case)
        else:
            removal, why = _SECOND_EVENT_REMOVALS[data.event]
            for case in moving:
                remove_dependent(
                    uow,
                    cobra.id,
                    DependentRemove(party_id=case.party_id, reason=removal, termination_date=last_day),
                    plans,
                    cobra_end=why,
                    by_cobra_case=True,
                )
        _new_cobra_policy(uow, cobra, moving, last_day + timedelta(days=1), data.account_id, plans, data.event.value)
    for cobra_policy_id, former_end in former_ends.items():
        _continue_cobra_policy(uow, cobra_policy_id, former_end, plans, rules.CobraExtension.SECOND_EVENT.value)
    return cases


#: How a spouse or child leaves the employee's continuation policy after a second event: the
#: ordinary removal reason and, when none fits, the reason the transaction and the event carry.
_SECOND_EVENT_REMOVALS: dict[rules.CobraSecondEvent, tuple[TerminationReason, rules.CobraRemoval | None]] = {
    rules.CobraSecondEvent.DIVORCE: (TerminationReason.DIVORCE, None),
    rules.CobraSecondEvent.LOSS_OF_DEPENDENT_STATUS: (TerminationReason.AGED_OUT, None),
    rules.CobraSecondEvent.MEDICARE_ENTITLEMENT: (
        TerminationReason.VOLUNTARY,
        rules.CobraRemoval.EMPLOYEE_MEDICARE_ENTITLEMENT,
    ),
}


def end_cobra(uow: UnitOfWork, policy_id: uuid.UUID, data: CobraEndCreate, plans: PlanCatalog) -> CobraCase:
    """Continuation ends early: the beneficiary is covered by another group plan, or entitled to
    Medicare, after electing (or has died). Cover ends by the ordinary termination rules (the end of
    this month, or of the month of ``end_date``; never in the past). When the subscriber leaves and
    others stay, they continue on a policy of their own (see ``record_cobra_second_event``)."""
    repo = EnrollmentRepository(uow)
    group = _group_policy(repo, policy_id)
    today = uow.clock.today()
    case = _case_of(repo, group.id, data.party_id)
    if case.status != "ELECTED" or case.cobra_policy_id is None or case.elected_on is None:
        raise CobraNotElected("the beneficiary has not elected continuation")
    problem = rules.cobra_end_problem(data.reason, data.event_date, case.elected_on)
    if problem is not None:
        raise CobraEndRefused(problem)
    last_day = rules.termination_date(data.end_date, TerminationReason.VOLUNTARY, today)
    if last_day >= case.continuation_end:
        raise CobraEndRefused(f"continuation ends on {case.continuation_end.isoformat()} in any case")
    cobra = _live_policy(uow, case.cobra_policy_id)
    staying = [c for c in _continuing_cases(repo, cobra.id) if c.id != case.id]
    if case.party_id != cobra.subscriber_party_id:
        remove_dependent(
            uow,
            cobra.id,
            DependentRemove(party_id=case.party_id, reason=TerminationReason.VOLUNTARY, termination_date=last_day),
            plans,
            cobra_end=data.reason,
            by_cobra_case=True,
        )
    else:
        if staying and cobra.status != "ACTIVE":
            raise CobraNotAvailable("the continuation policy is not in force yet (its first premium is unpaid)")
        if staying:
            _new_cobra_policy(
                uow, cobra, staying, last_day + timedelta(days=1), data.account_id, plans, data.reason.value
            )
        terminate(
            uow,
            cobra.id,
            Termination(reason=TerminationReason.VOLUNTARY, termination_date=last_day),
            cobra_end=data.reason,
            by_cobra_case=True,
        )
    case.status, case.ended_on, case.end_reason = "ENDED", last_day, data.reason.value
    _cobra_ended(uow, case)
    return case


def _extend(
    uow: UnitOfWork, cases: Sequence[CobraCase], new_end: date, extension: rules.CobraExtension, plans: PlanCatalog
) -> None:
    """Continuation of ``cases`` now lasts to ``new_end`` (never shortened); their continuation
    policies go on past their former end when the plan year does."""
    former_ends = _former_ends(EnrollmentRepository(uow), cases)
    _lengthen(uow, cases, new_end, extension)
    uow.flush()
    for policy_id, former_end in former_ends.items():
        _continue_cobra_policy(uow, policy_id, former_end, plans, extension.value)


def _former_ends(repo: EnrollmentRepository, cases: Sequence[CobraCase]) -> dict[uuid.UUID, date]:
    """The continuation policies of ``cases``, each with the last day it may cover as things stand."""
    policies = dict.fromkeys(
        c.cobra_policy_id for c in cases if c.cobra_policy_id is not None and c.status == "ELECTED"
    )
    return {p: max(c.continuation_end for c in _continuing_cases(repo, p)) for p in policies if p is not None}


def _lengthen(uow: UnitOfWork, cases: Sequence[CobraCase], new_end: date, extension: rules.CobraExtension) -> None:
    """Each case whose continuation ends sooner now ends on ``new_end``, with ``enrollment.cobra.extended``."""
    for case in cases:
        if new_end <= case.continuation_end:
            continue
        previous = case.continuation_end
        case.continuation_end, case.extension = new_end, extension.value
        uow.publish(
            CobraExtended(
                cobra_case_id=case.id,
                member_id=case.party_id,
                extension=extension.value,
                previous_coverage_end_date=previous,
                coverage_end_date=new_end,
                extended_at=uow.clock.now(),
            ),
            key=case.group_policy_id,
        )


def _cobra_ended(uow: UnitOfWork, case: CobraCase) -> None:
    """``enrollment.cobra.ended`` for a case just ended early."""
    if case.ended_on is None or case.end_reason is None:
        return
    uow.publish(
        CobraEnded(
            cobra_case_id=case.id,
            member_id=case.party_id,
            reason=case.end_reason,
            coverage_end_date=case.ended_on,
            ended_at=uow.clock.now(),
        ),
        key=case.group_policy_id,
    )


def _continue_cobra_policy(
    uow: UnitOfWork, policy_id: uuid.UUID, former_end: date, plans: PlanCatalog, reason: str
) -> None:
    """A continuation policy whose last term was cut at its former maximum goes on to the end of
    that plan year (or the new maximum, if sooner); the next plan year is a renewal, as ever."""
    repo = EnrollmentRepository(uow)
    policy = _policy(uow, policy_id)
    if policy.status not in {"SUBMITTED", "ACTIVE"}:
        return
    last = repo.terms(policy.id)[-1]
    if last.period_end != former_end:
        return  # the plan year ends first: renewal continues the cover
    start = former_end + timedelta(days=1)
    cases = _continuing_cases(repo, policy.id)
    if not cases:
        return
    cap = max(c.continuation_end for c in cases)
    # Everyone covered to their own case's end (a baby added to the policy has no case: the policy's).
    ends = {s.party_id: cap for s in repo.current_spans(policy.id)} | {c.party_id: c.continuation_end for c in cases}
    spans = [
        s
        for s in repo.current_spans(policy.id)
        if s.term_id == last.id and s.valid_to == last.period_end and ends[s.party_id] >= start
    ]
    if not spans:
        return
    elements = {e.id: e for e in repo.elements(policy.id)}
    members = [
        RatedMember(Relationship(elements[s.element_id].relationship), _birth_date(uow, s.party_id, "party_id"))
        for s in spans
    ]
    year_end = plans.choose(uow, last.plan_code, last.period_start, Market.GROUP, last.tier_code, members).period_end
    if start > year_end:
        return
    beneficiaries = [(s.party_id, Relationship(elements[s.element_id].relationship), ends[s.party_id]) for s in spans]
    end = min(year_end, max(last_day for _, _, last_day in beneficiaries))
    segments = _cobra_segments(
        uow, plans, policy.id, last.plan_code, start, end, beneficiaries, _premium_increase(cases)
    )
    now = uow.clock.now()
    term = segments[0][0]
    transaction = _transaction(
        policy.id,
        TransactionType.COBRA_EXTENSION,
        start,
        now,
        reason=reason,
        detail={"planId": str(term.plan_id), "tierCode": term.tier_code, "continuationEnd": end.isoformat()},
    )
    repo.add(*(t for t, _ in segments), transaction)
    uow.flush()
    by_party = {s.party_id: s for s in spans}
    for segment, parties in segments:
        for party_id in parties:
            repo.add(
                _span_like(
                    by_party[party_id],
                    term_id=segment.id,
                    valid_from=segment.period_start,
                    valid_to=segment.period_end,
                    transaction_id=transaction.id,
                    now=now,
                )
            )
    uow.flush()
    _publish_plan_changed(uow, policy, last.plan_id, term, start, now)


def _new_cobra_policy(
    uow: UnitOfWork,
    source: Policy,
    cases: Sequence[CobraCase],
    start: date,
    account_id: uuid.UUID | None,
    plans: PlanCatalog,
    reason: str,
) -> Policy:
    """Beneficiaries leaving ``source`` continue, from ``start``, on a policy of their own (in force at
    once: its premiums are billed by the monthly runs): the spouse as subscriber, else the first
    child; the others are rated as children."""
    repo = EnrollmentRepository(uow)
    ordered, relationships = _cobra_household(cases)
    first = ordered[0]
    source_term = _term_on(repo, source.id, start - timedelta(days=1))
    now = uow.clock.now()
    policy_id = uuid7()
    beneficiaries = [(c.party_id, r, c.continuation_end) for r, c in zip(relationships, ordered, strict=True)]
    members = [RatedMember(r, _birth_date(uow, p, "party_ids")) for p, r, _ in beneficiaries]
    year_end = plans.choose(uow, source_term.plan_code, start, Market.GROUP, "EE", members).period_end
    end = min(year_end, first.continuation_end)
    segments = _cobra_segments(
        uow, plans, policy_id, source_term.plan_code, start, end, beneficiaries, _premium_increase(ordered)
    )
    term = segments[0][0]
    policy = Policy(
        id=policy_id,
        policy_number=_number("POL"),
        market=Market.COBRA.value,
        account_id=_cobra_account(uow, account_id, first.party_id, term.currency),
        subscriber_party_id=first.party_id,
        status="ACTIVE",
        created_at=now,
    )
    transaction = _transaction(
        policy.id,
        TransactionType.COBRA_EXTENSION,
        start,
        now,
        reason=reason,
        detail={
            "fromPolicyId": str(source.id),
            "cobraCaseIds": [str(c.id) for c in ordered],
            "planId": str(term.plan_id),
            "tierCode": term.tier_code,
        },
    )
    repo.add(policy, *(t for t, _ in segments), transaction)
    uow.flush()
    relationship_of = {p: r for p, r, _ in beneficiaries}
    for segment, parties in segments:
        for party_id in parties:
            _cover(
                repo, policy, segment, party_id, relationship_of[party_id], segment.period_start, transaction.id, now
            )
    for case in ordered:
        case.cobra_policy_id = policy.id
    uow.flush()
    _submitted(uow, policy, term, first.party_id, "COBRA", start, len(ordered) - 1)
    _activated(uow, policy)
    return policy


def _cobra_account(uow: UnitOfWork, account_id: uuid.UUID | None, subscriber: uuid.UUID, currency: str) -> uuid.UUID:
    """The household account billed for the continuation: the one given, or a new one."""
    if account_id is None:
        return people.open_household(uow, subscriber, currency)
    found = people.account(uow, account_id)
    if found is None or found.kind != "HOUSEHOLD":
        raise ValidationFailed([FieldError("account_id", "must be a household account", "not_household")])
    return account_id


def _priced(
    uow: UnitOfWork,
    plans: PlanCatalog,
    plan_code: str,
    on: date,
    market: Market,
    tier: str,
    members: list[RatedMember],
    *,
    percent: int = rules.COBRA_PREMIUM_PERCENT,
) -> PlanChoice:
    """The plan's price for these members; a COBRA policy pays 102 % of the full group premium (150 %
    in a disability extension; the employer's share included), all of it the beneficiary's."""
    if market != Market.COBRA:
        return plans.choose(uow, plan_code, on, market, tier, members)
    group = plans.choose(uow, plan_code, on, Market.GROUP, tier, members)
    premium = rules.cobra_premium(group.total_premium_minor, percent)
    return replace(group, total_premium_minor=premium, member_premium_minor=premium)


def _continuing_cases(repo: EnrollmentRepository, cobra_policy_id: uuid.UUID) -> list[CobraCase]:
    """The elected cases a continuation policy covers (not those ended early)."""
    return [c for c in repo.cobra_cases_of_policy(cobra_policy_id) if c.status == "ELECTED"]


def _premium_increase(cases: Sequence[CobraCase]) -> date | None:
    """The first day of the disability extension's 150 % premium, when one of ``cases`` is the
    disabled beneficiary's (others, on continuation policies of their own, keep paying 102 %)."""
    days = [c.premium_increase_from for c in cases if c.premium_increase_from is not None]
    return min(days) if days else None


def _cobra_segments(
    uow: UnitOfWork,
    plans: PlanCatalog,
    policy_id: uuid.UUID,
    plan_code: str,
    start: date,
    end: date,
    beneficiaries: Sequence[tuple[uuid.UUID, Relationship, date]],
    increase: date | None,
) -> list[tuple[PolicyTerm, list[uuid.UUID]]]:
    """The terms of a continuation policy from ``start`` to ``end`` for ``beneficiaries`` (each with their
    relationship and the last day of their own continuation): a new term, priced again for those
    who stay, the day after someone's continuation ends, and on the first day of a disability
    extension's 150 % premium. Each term comes with the people it covers (not yet stored)."""
    cuts = {last + timedelta(days=1) for _, _, last in beneficiaries if start <= last < end}
    if increase is not None and start < increase <= end:
        cuts.add(increase)
    starts = [start, *sorted(cuts)]
    now = uow.clock.now()
    segments = []
    for index, segment_start in enumerate(starts):
        segment_end = starts[index + 1] - timedelta(days=1) if index + 1 < len(starts) else end
        present = [(party_id, relationship) for party_id, relationship, last in beneficiaries if last >= segment_start]
        members = [RatedMember(r, _birth_date(uow, p, "party_id")) for p, r in present]
        members.sort(key=lambda m: m.relationship != Relationship.SELF)
        tier = rules.tier_code([m.relationship for m in members if m.relationship != Relationship.SELF])
        percent = (
            rules.COBRA_DISABILITY_PREMIUM_PERCENT
            if increase is not None and segment_start >= increase
            else rules.COBRA_PREMIUM_PERCENT
        )
        plan = _priced(uow, plans, plan_code, segment_start, Market.COBRA, tier, members, percent=percent)
        term = _term(policy_id, plan, tier, segment_start, now)
        term.period_end = segment_end
        segments.append((term, [p for p, _ in present]))
    return segments


def _cobra_percent(repo: EnrollmentRepository, policy: Policy, on: date) -> int:
    """The share of the full group premium a continuation policy pays from ``on``."""
    if policy.market != Market.COBRA.value:
        return rules.COBRA_PREMIUM_PERCENT
    increase = _premium_increase(_continuing_cases(repo, policy.id))
    if increase is not None and on >= increase:
        return rules.COBRA_DISABILITY_PREMIUM_PERCENT
    return rules.COBRA_PREMIUM_PERCENT


# ---------------------------------------------------------------------------------------------
# Events: keyed by policy, so one policy's changes are consumed in the order they were made.
# The catalog's ``reason`` is coarse: Olly's own travels beside it as ``detailedReason``. Continuation
# ended by other group cover or Medicare is a loss of eligibility for it (29 U.S.C. 1162(2)(D)).
_TERMINATION_REASONS: dict[str, str] = {
    TerminationReason.VOLUNTARY: "VOLUNTARY",
    TerminationReason.NON_PAYMENT: "NON_PAYMENT",
    TerminationReason.FRAUD: "FRAUD",
    TerminationReason.EMPLOYMENT_ENDED: "LOSS_OF_ELIGIBILITY",
    TerminationReason.AGED_OUT: "LOSS_OF_ELIGIBILITY",
    TerminationReason.DIVORCE: "LOSS_OF_ELIGIBILITY",
    TerminationReason.DEATH: "OTHER",
    rules.CobraEnd.OTHER_GROUP_COVERAGE: "LOSS_OF_ELIGIBILITY",
    rules.CobraEnd.MEDICARE_ENTITLEMENT: "LOSS_OF_ELIGIBILITY",
    rules.CobraEnd.DEATH: "OTHER",
    rules.CobraRemoval.EMPLOYEE_MEDICARE_ENTITLEMENT: "LOSS_OF_ELIGIBILITY",
}


def _amount(minor: int, currency: str) -> str:
    return Money(minor, currency).to_decimal_string()


def _submitted(
    uow: UnitOfWork,
    policy: Policy,
    term: PolicyTerm,
    member_id: uuid.UUID,
    election: str,
    effective: date,
    dependents: int | None,
) -> None:
    covered = {s.party_id for s in EnrollmentRepository(uow).current_spans(policy.id) if s.term_id == term.id}
    uow.publish(
        EnrollmentSubmitted(
            enrollment_id=policy.id,
            member_id=member_id,
            group_id=policy.account_id if policy.market == Market.GROUP.value else None,
            plan_id=term.plan_id,
            election_type=election,
            effective_date=effective,
            tier_code=term.tier_code,
            member_premium=_amount(term.member_premium_minor, term.currency),
            total_premium=_amount(term.total_premium_minor, term.currency),
            currency=term.currency,
            dependent_count=dependents if dependents is not None else max(0, len(covered) - 1),
            submitted_at=uow.clock.now(),
        ),
        key=policy.id,
    )


def _activated(uow: UnitOfWork, policy: Policy) -> None:
    terms = EnrollmentRepository(uow).terms(policy.id)
    today = uow.clock.today()
    term = next((t for t in reversed(terms) if t.period_start <= today), terms[0])
    uow.publish(
        EnrollmentActivated(
            enrollment_id=policy.id,
            member_id=policy.subscriber_party_id,
            group_id=policy.account_id if policy.market == Market.GROUP.value else None,
            plan_id=term.plan_id,
            effective_date=term.period_start,
            tier_code=term.tier_code,
            activated_at=uow.clock.now(),
        ),
        key=policy.id,
    )


def _terminated(
    uow: UnitOfWork,
    policy: Policy,
    term: PolicyTerm,
    member_id: uuid.UUID,
    last_day: date,
    why: TerminationReason | rules.CobraEnd | rules.CobraRemoval,
) -> None:
    uow.publish(
        EnrollmentTerminated(
            enrollment_id=policy.id,
            member_id=member_id,
            plan_id=term.plan_id,
            termination_date=last_day,
            reason=_TERMINATION_REASONS[why],
            detailed_reason=why.value,
            terminated_at=uow.clock.now(),
        ),
        key=policy.id,
    )


def _birth_date(uow: UnitOfWork, party_id: uuid.UUID, field: str) -> date:
    """The date of birth enrollment rules and rating need; an unknown person is a field error."""
    person = people.person(uow, party_id)
    if person is None:
        raise ValidationFailed([FieldError(field, "no such person", "unknown_party")])
    if person.birth_date is None:
        raise ValidationFailed([FieldError(field, "the person has no date of birth on file", "missing_birth_date")])
    return person.birth_date


def _policy(uow: UnitOfWork, policy_id: uuid.UUID) -> Policy:
    policy = EnrollmentRepository(uow).policy(policy_id, for_update=True)
    if policy is None:
        raise NotFound("policy not found")
    return policy


def _live_policy(uow: UnitOfWork, policy_id: uuid.UUID) -> Policy:
    policy = _policy(uow, policy_id)
    if policy.status not in {"SUBMITTED", "ACTIVE"}:
        raise BusinessRuleViolation(f"a {policy.status.lower()} policy cannot be changed")
    return policy


def _term(policy_id: uuid.UUID, plan: PlanChoice, tier: str, start: date, now: datetime) -> PolicyTerm:
    return PolicyTerm(
        id=uuid7(),
        policy_id=policy_id,
        plan_id=plan.plan_id,
        plan_code=plan.plan_code,
        coverage_type=plan.coverage_type,
        tier_code=tier,
        period_start=start,
        period_end=plan.period_end,
        currency=plan.currency,
        total_premium_minor=plan.total_premium_minor,
        member_premium_minor=plan.member_premium_minor,
        premium_period=plan.premium_period,
        created_at=now,
    )


def _term_on(repo: EnrollmentRepository, policy_id: uuid.UUID, on: date) -> PolicyTerm:
    for term in reversed(repo.terms(policy_id)):
        if term.period_start <= on <= term.period_end:
            return term
    raise BusinessRuleViolation("the policy has no coverage term on that date", extra={"field": "event_date"})


def _transaction(
    policy_id: uuid.UUID,
    kind: TransactionType,
    effective: date,
    now: datetime,
    *,
    reason: str | None = None,
    event_date: date | None = None,
    detail: dict[str, object],
) -> PolicyTransaction:
    return PolicyTransaction(
        id=uuid7(),
        policy_id=policy_id,
        transaction_type=kind.value,
        reason=reason,
        event_date=event_date,
        effective_date=effective,
        recorded_at=now,
        detail=detail,
    )


def _cover(
    repo: EnrollmentRepository,
    policy: Policy,
    term: PolicyTerm,
    party_id: uuid.UUID,
    relationship: Relationship,
    start: date,
    transaction_id: uuid.UUID,
    now: datetime,
    *,
    until: date | None = None,
) -> None:
    element = next((e for e in repo.elements(policy.id) if e.party_id == party_id), None)
    if element is None:
        element = PolicyElement(
            id=uuid7(),
            policy_id=policy.id,
            party_id=party_id,
            element_type="employee" if relationship == Relationship.SELF else "dependent",
            relationship=relationship.value,
            member_number=_member_number(repo),
            coverage_terms={"planId": str(term.plan_id), "planCode": term.plan_code, "tierCode": term.tier_code},
            created_at=now,
        )
        repo.add(element)
        repo.uow.flush()
    repo.add(
        CoverageSpan(
            id=uuid7(),
            element_id=element.id,
            term_id=term.id,
            policy_id=policy.id,
            party_id=party_id,
            valid_from=start,
            valid_to=until if until is not None else term.period_end,
            recorded_at=now,
            superseded_at=None,
            transaction_id=transaction_id,
        )
    )


def _end_spans(
    repo: EnrollmentRepository,
    policy_id: uuid.UUID,
    last_day: date,
    transaction_id: uuid.UUID,
    now: datetime,
    *,
    party_id: uuid.UUID | None = None,
) -> int:
    ended = 0
    for span in repo.current_spans(policy_id):
        if party_id is not None and span.party_id != party_id:
            continue
        if not _open_after(span, last_day + timedelta(days=1)):
            continue
        span.superseded_at = now
        ended += 1
        if span.valid_from <= last_day:
            repo.add(_span_like(span, valid_to=last_day, transaction_id=transaction_id, now=now))
    return ended


def _open_after(span: CoverageSpan, day: date) -> bool:
    """Whether the span still covers ``day`` or later."""
    return span.valid_to is None or span.valid_to >= day


def _span_like(span: CoverageSpan, *, transaction_id: uuid.UUID, now: datetime, **changes: object) -> CoverageSpan:
    values: dict[str, object] = {
        "element_id": span.element_id,
        "term_id": span.term_id,
        "policy_id": span.policy_id,
        "party_id": span.party_id,
        "valid_from": span.valid_from,
        "valid_to": span.valid_to,
    }
    values.update(changes)
    return CoverageSpan(id=uuid7(), recorded_at=now, superseded_at=None, transaction_id=transaction_id, **values)


def _number(prefix: str) -> str:
    return f"{prefix}-{secrets.randbelow(10**10):010d}"


def _member_number(repo: EnrollmentRepository) -> str:
    while True:
        candidate = f"M{secrets.randbelow(10**9):09d}"
        if repo.element_by_member_number(candidate) is None:
            return candidate
