"""Read functions other domains may call synchronously; results are frozen."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import distinct, func, or_, select

from olly.enrollment.models import CobraCase, CoverageSpan, Policy, PolicyElement, PolicyTerm
from olly.enrollment.repository import EnrollmentRepository
from olly.kernel.periods import DatePeriod
from olly.platform.db import UnitOfWork


@dataclass(frozen=True, slots=True)
class BillableTerm:
    """One policy term's premium and the days it is in force within a billing period."""

    policy_id: uuid.UUID
    policy_number: str
    account_id: uuid.UUID
    subscriber_party_id: uuid.UUID
    market: str
    policy_status: str
    term_id: uuid.UUID
    plan_id: uuid.UUID
    plan_code: str
    tier_code: str
    currency: str
    total_premium_minor: int
    """The whole family's premium per ``premium_period``."""
    member_premium_minor: int
    """The subscriber's share of ``total_premium_minor`` (the rest is the employer's)."""
    premium_period: str
    """``MONTHLY`` or ``ANNUAL``."""
    covered_from: date
    covered_to: date
    """The part of the billing period the subscriber is covered under this term (inclusive)."""
    covered_people: int


def billable_terms(
    uow: UnitOfWork, period: DatePeriod, policy_ids: Collection[uuid.UUID] | None = None
) -> list[BillableTerm]:
    """Every term with the subscriber covered for at least one day of ``period`` (as now known);
    only of ``policy_ids`` when given (billing's adjustment of one policy)."""
    assert period.end is not None
    only = () if policy_ids is None else (Policy.id.in_(list(policy_ids)),)
    only_spans = () if policy_ids is None else (CoverageSpan.policy_id.in_(list(policy_ids)),)
    # Columns, not entities, and everyone on each term counted in one query: a billing run reads
    # every policy of the period (a query per policy made 100,000 policies quadratic on SQLite).
    rows = uow.session.execute(
        select(
            Policy.id,
            Policy.policy_number,
            Policy.account_id,
            Policy.subscriber_party_id,
            Policy.market,
            Policy.status,
            PolicyTerm.id,
            PolicyTerm.plan_id,
            PolicyTerm.plan_code,
            PolicyTerm.tier_code,
            PolicyTerm.currency,
            PolicyTerm.total_premium_minor,
            PolicyTerm.member_premium_minor,
            PolicyTerm.premium_period,
            CoverageSpan.valid_from,
            CoverageSpan.valid_to,
        )
        .join(PolicyTerm, PolicyTerm.policy_id == Policy.id)
        .join(CoverageSpan, CoverageSpan.term_id == PolicyTerm.id)
        .where(
            CoverageSpan.superseded_at.is_(None),
            CoverageSpan.party_id == Policy.subscriber_party_id,
            CoverageSpan.valid_from <= period.end,
            or_(CoverageSpan.valid_to.is_(None), CoverageSpan.valid_to >= period.start),
            Policy.status.in_(["SUBMITTED", "ACTIVE", "TERMINATED"]),
            *only,
        )
        .order_by(Policy.policy_number, CoverageSpan.valid_from)
    ).all()
    counted = uow.session.execute(
        select(CoverageSpan.term_id, func.count(distinct(CoverageSpan.party_id)))
        .where(CoverageSpan.superseded_at.is_(None), *only_spans)
        .group_by(CoverageSpan.term_id)
    )
    people = {term_id: int(count) for term_id, count in counted}
    result = []
    for row in rows:
        (policy_id, number, account_id, subscriber, market, status, term_id, plan_id, plan_code, tier) = row[:10]
        currency, total, member, premium_period, valid_from, valid_to = row[10:]
        result.append(
            BillableTerm(
                policy_id=policy_id,
                policy_number=number,
                account_id=account_id,
                subscriber_party_id=subscriber,
                market=market,
                policy_status=status,
                term_id=term_id,
                plan_id=plan_id,
                plan_code=plan_code,
                tier_code=tier,
                currency=currency,
                total_premium_minor=total,
                member_premium_minor=member,
                premium_period=premium_period,
                covered_from=max(valid_from, period.start),
                covered_to=min(valid_to or period.end, period.end),
                covered_people=people.get(term_id, 0),
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class PolicySummary:
    policy_id: uuid.UUID
    policy_number: str
    market: str
    status: str
    account_id: uuid.UUID
    subscriber_party_id: uuid.UUID


def policy(uow: UnitOfWork, policy_id: uuid.UUID) -> PolicySummary | None:
    found = EnrollmentRepository(uow).policy(policy_id)
    if found is None:
        return None
    return PolicySummary(
        found.id, found.policy_number, found.market, found.status, found.account_id, found.subscriber_party_id
    )


def cobra_policy_of_case(uow: UnitOfWork, cobra_case_id: uuid.UUID) -> uuid.UUID | None:
    """The continuation policy a COBRA election created (None before the election)."""
    case = uow.session.get(CobraCase, cobra_case_id)
    return None if case is None else case.cobra_policy_id


@dataclass(frozen=True, slots=True)
class CoverageFact:
    """One current coverage span of one person, with what eligibility needs to answer about it."""

    policy_id: uuid.UUID
    account_id: uuid.UUID
    market: str
    policy_status: str
    party_id: uuid.UUID
    subscriber_party_id: uuid.UUID
    relationship: str
    member_number: str
    plan_id: uuid.UUID
    plan_code: str
    coverage_type: str
    tier_code: str
    valid_from: date
    valid_to: date | None


def coverage_facts(uow: UnitOfWork, policy_id: uuid.UUID, party_id: uuid.UUID | None = None) -> list[CoverageFact]:
    """The current coverage spans of a policy (or of one person on it), as now known."""
    repo = EnrollmentRepository(uow)
    found = repo.policy(policy_id)
    if found is None:
        return []
    elements = {e.id: e for e in repo.elements(policy_id)}
    terms = {t.id: t for t in repo.terms(policy_id)}
    facts = []
    for span in repo.current_spans(policy_id):
        if party_id is not None and span.party_id != party_id:
            continue
        element, term = elements[span.element_id], terms[span.term_id]
        facts.append(
            CoverageFact(
                policy_id=found.id,
                account_id=found.account_id,
                market=found.market,
                policy_status=found.status,
                party_id=span.party_id,
                subscriber_party_id=found.subscriber_party_id,
                relationship=element.relationship,
                member_number=element.member_number,
                plan_id=term.plan_id,
                plan_code=term.plan_code,
                coverage_type=term.coverage_type,
                tier_code=term.tier_code,
                valid_from=span.valid_from,
                valid_to=span.valid_to,
            )
        )
    return facts


@dataclass(frozen=True, slots=True)
class DeclaredCondition:
    """A pre-existing disease declared at enrolment (an underwriting flag): PHI, for claims only."""

    party_id: uuid.UUID
    diagnosis_codes: tuple[str, ...]
    """ICD-10-CM codes or categories without the dot (``E11`` covers every E11.x)."""
    waiting_period_months: int | None


def declared_conditions(uow: UnitOfWork, policy_id: uuid.UUID) -> list[DeclaredCondition]:
    """The pre-existing diseases declared on a policy that name their ICD-10-CM codes; a withdrawn
    finding (recorded by mistake) is no declaration."""
    return [
        DeclaredCondition(flag.party_id, tuple(flag.diagnosis_codes), flag.waiting_period_months)
        for flag in EnrollmentRepository(uow).underwriting_flags(policy_id)
        if flag.flag == "PRE_EXISTING_DISEASE" and flag.diagnosis_codes and flag.withdrawn_at is None
    ]


def policies_in_force_or_ended(uow: UnitOfWork) -> list[uuid.UUID]:
    """Every ACTIVE or TERMINATED policy, oldest first (for read models rebuilt from current state)."""
    query = select(Policy.id).where(Policy.status.in_(("ACTIVE", "TERMINATED"))).order_by(Policy.id)
    return list(uow.session.scalars(query))


def policies_of_account(uow: UnitOfWork, account_id: uuid.UUID) -> list[uuid.UUID]:
    return list(uow.session.scalars(select(Policy.id).where(Policy.account_id == account_id)))


def group_accounts_of(uow: UnitOfWork, party_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """The accounts of the group-market policies that cover (or covered) this person, as now known."""
    rows = uow.session.execute(
        select(Policy.account_id)
        .join(CoverageSpan, CoverageSpan.policy_id == Policy.id)
        .where(
            CoverageSpan.party_id == party_id,
            CoverageSpan.superseded_at.is_(None),
            Policy.market == "GROUP",
        )
        .distinct()
    )
    return frozenset(rows.scalars())


def covered_in_groups(
    uow: UnitOfWork, party_ids: Collection[uuid.UUID], group_account_ids: Collection[uuid.UUID]
) -> frozenset[uuid.UUID]:
    """Those of ``party_ids`` a group-market policy of one of these accounts covers (or covered)."""
    if not party_ids or not group_account_ids:
        return frozenset()
    rows = uow.session.execute(
        select(CoverageSpan.party_id)
        .join(Policy, Policy.id == CoverageSpan.policy_id)
        .where(
            CoverageSpan.party_id.in_(sorted(set(party_ids))),
            CoverageSpan.superseded_at.is_(None),
            Policy.market == "GROUP",
            Policy.account_id.in_(sorted(set(group_account_ids))),
        )
        .distinct()
    )
    return frozenset(rows.scalars())


def dependents_of(uow: UnitOfWork, subscriber_party_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """Everyone covered (or once covered, as now known) on this subscriber's policies but the subscriber."""
    rows = uow.session.execute(
        select(CoverageSpan.party_id)
        .join(Policy, Policy.id == CoverageSpan.policy_id)
        .where(
            Policy.subscriber_party_id == subscriber_party_id,
            CoverageSpan.superseded_at.is_(None),
            CoverageSpan.party_id != subscriber_party_id,
        )
        .distinct()
    )
    return frozenset(rows.scalars())


@dataclass(frozen=True, slots=True)
class PolicyDependent:
    party_id: uuid.UUID
    relationship: str
    member_number: str


def policy_dependents(uow: UnitOfWork, policy_id: uuid.UUID, relationship: str | None = None) -> list[PolicyDependent]:
    """The people a policy covers or covered other than its subscriber (each once: a person added
    again keeps the latest number), optionally only those of one relationship, in the order added."""
    repo = EnrollmentRepository(uow)
    found = repo.policy(policy_id)
    if found is None:
        return []
    latest: dict[uuid.UUID, PolicyDependent] = {}
    for element in repo.elements(policy_id):
        if element.party_id == found.subscriber_party_id:
            continue
        latest[element.party_id] = PolicyDependent(element.party_id, element.relationship, element.member_number)
    return [d for d in latest.values() if relationship is None or d.relationship == relationship]


def is_member(uow: UnitOfWork, party_id: uuid.UUID) -> bool:
    """Whether this person has ever been on a policy (as subscriber or dependent)."""
    return uow.session.scalar(select(PolicyElement.id).where(PolicyElement.party_id == party_id).limit(1)) is not None


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    party_id: uuid.UUID
    relationship: str
    """Their relationship to the subscriber on the latest policy that covered them."""


def household_of(uow: UnitOfWork, subscriber_party_id: uuid.UUID) -> list[HouseholdMember]:
    """The people this subscriber's policies cover (or covered), each once, subscriber excluded."""
    rows = uow.session.execute(
        select(PolicyElement.party_id, PolicyElement.relationship)
        .join(Policy, Policy.id == PolicyElement.policy_id)
        .where(Policy.subscriber_party_id == subscriber_party_id, PolicyElement.party_id != subscriber_party_id)
        .order_by(PolicyElement.created_at)
    )
    latest: dict[uuid.UUID, str] = {}
    for party_id, relationship in rows:
        latest[party_id] = relationship
    return [HouseholdMember(party_id, relationship) for party_id, relationship in latest.items()]


@dataclass(frozen=True, slots=True)
class PolicyTermSummary:
    policy_id: uuid.UUID
    policy_number: str
    market: str
    status: str
    account_id: uuid.UUID
    plan_code: str
    tier_code: str
    currency: str
    total_premium_minor: int
    member_premium_minor: int
    premium_period: str
    period_start: date
    covered_people: int


def policies_of_subscriber(uow: UnitOfWork, subscriber_party_id: uuid.UUID) -> list[PolicyTermSummary]:
    """The policies this person is the subscriber of, newest first, each with its first term."""
    repo = EnrollmentRepository(uow)
    found = []
    policies = uow.session.scalars(
        select(Policy).where(Policy.subscriber_party_id == subscriber_party_id).order_by(Policy.created_at.desc())
    )
    for policy in policies:
        terms = repo.terms(policy.id)
        if not terms:
            continue
        term = terms[0]
        people = {s.party_id for s in repo.current_spans(policy.id) if s.term_id == term.id}
        found.append(
            PolicyTermSummary(
                policy.id,
                policy.policy_number,
                policy.market,
                policy.status,
                policy.account_id,
                term.plan_code,
                term.tier_code,
                term.currency,
                term.total_premium_minor,
                term.member_premium_minor,
                term.premium_period,
                term.period_start,
                len(people),
            )
        )
    return found
