"""Adapters between the EDI gateway's ports and the other domains (composition layer).

The gateway (``olly.edi``) knows no other domain; these adapters call the domains' public and
service functions, like the roster import does, and ``install`` puts them on a database so every
unit of work of the API, the worker, the jobs and the CLI finds them (``olly.edi.ports.links_of``).

* 834 → enrollment: an employer partner's INS loops become policies (subscriber adds), dependents,
  terminations; other maintenance types are kept for a person (``AWAITING_ENROLLMENT``).
* 270 → eligibility → 271: the member is found by member number, birth date and family name (all
  three), and the eligibility answer becomes EB segments.
* 837 and 276 use the gateway's default adapters until the claims domain arrives; payment runs
  have no source until billing's ``payment_run`` exists.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from olly.edi.eligibility import Benefit, EligibilityAnswer, EligibilityInquiry, coverage_benefits
from olly.edi.enrollment import EnrollmentChange, Maintenance
from olly.edi.ports import AWAITING_ENROLLMENT, EdiOrigin, EnrollmentOutcome, Links, PartnerInfo, keep_pending
from olly.eligibility import service as eligibility
from olly.eligibility.service import BenefitSource
from olly.enrollment import service as enrollment
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market, QualifyingEvent, Relationship, TerminationReason
from olly.enrollment.schemas import DependentAdd, DependentRemove, EnrollmentCreate, Termination
from olly.kernel.money import Money
from olly.platform.db import Database, UnitOfWork
from olly.policy_admin import public as people
from olly.policy_admin import service as policy_admin
from olly.policy_admin.schemas import IndividualCreate

#: INS02 → Olly's relationship of a dependent.
RELATIONSHIPS = {
    "01": Relationship.SPOUSE,
    "53": Relationship.DOMESTIC_PARTNER,
    "19": Relationship.CHILD,
    "09": Relationship.CHILD,
    "17": Relationship.CHILD,
    "10": Relationship.CHILD,
    "15": Relationship.CHILD,
}
#: INS04 (maintenance reason) of a termination → Olly's termination reason.
TERMINATION_REASONS = {
    "03": TerminationReason.DEATH,
    "01": TerminationReason.DIVORCE,
    "59": TerminationReason.NON_PAYMENT,
    "AI": TerminationReason.VOLUNTARY,
}
#: INS04 of an addition → qualifying event.
ADD_REASONS = {
    "02": QualifyingEvent.BIRTH,
    "05": QualifyingEvent.ADOPTION,
    "32": QualifyingEvent.MARRIAGE,
    "28": QualifyingEvent.NEW_HIRE,
    "EC": QualifyingEvent.OPEN_ENROLLMENT,
    "AI": QualifyingEvent.OPEN_ENROLLMENT,
}


def _person(change: EnrollmentChange) -> IndividualCreate:
    ssn = change.member_id if change.member_id_qualifier == "34" and change.member_id else None
    if change.birth_date is None:
        raise ValueError("the 834 member has no birth date (DMG02)")
    return IndividualCreate(
        given_name=change.first_name or "-", family_name=change.last_name, birth_date=change.birth_date, ssn=ssn
    )


def _find_person(uow: UnitOfWork, change: EnrollmentChange) -> uuid.UUID | None:
    if change.member_id_qualifier == "34" and change.member_id:
        found = people.find_by_ssn(uow, change.member_id)
        if found is not None:
            return found
    if change.birth_date is None or not change.last_name:
        return None
    first = change.first_name.casefold()
    matches = [
        p.party_id
        for p in people.find_people(uow, family_name=change.last_name, birth_date=change.birth_date)
        if not first or first in p.display_name.casefold().split()
    ]
    return matches[0] if len(matches) == 1 else None


def _begin(change: EnrollmentChange) -> date | None:
    for coverage in change.coverages:
        if coverage.begin is not None:
            return coverage.begin
    return change.eligibility_begin or change.maintenance_effective


def _end(change: EnrollmentChange) -> date | None:
    for coverage in change.coverages:
        if coverage.end is not None:
            return coverage.end
    return change.eligibility_end or change.maintenance_effective


class EnrollmentAdapter:
    """``EnrollmentSink`` over enrollment's and policy_admin's functions, for employer partners."""

    def __init__(self, plans: enrollment.PlanCatalog) -> None:
        self.plans = plans

    def apply(
        self, uow: UnitOfWork, change: EnrollmentChange, origin: EdiOrigin, partner: PartnerInfo | None
    ) -> EnrollmentOutcome:
        if partner is None or partner.group_account_id is None:
            return EnrollmentOutcome(False, "IGNORED", error_code="partner_has_no_group_account")
        account_id = partner.group_account_id
        repo = EnrollmentRepository(uow)
        policy = repo.policy_for_employee(account_id, change.subscriber_id) if change.subscriber_id else None
        kind = change.kind
        if kind is Maintenance.ADDITION:
            party_id = _find_person(uow, change) or policy_admin.register_individual(uow, _person(change)).id
            effective = _begin(change)
            if effective is None:
                return EnrollmentOutcome(False, "IGNORED", error_code="no_effective_date")
            event = ADD_REASONS.get(change.maintenance_reason, QualifyingEvent.OPEN_ENROLLMENT)
            event_date = change.maintenance_effective or effective
            if change.is_subscriber:
                if policy is not None:
                    return EnrollmentOutcome(True, "ALREADY_ENROLLED", policy.id, policy.subscriber_party_id)
                plan = next((c.plan_description.strip() for c in change.coverages if c.plan_description.strip()), "")
                if not plan:
                    return EnrollmentOutcome(False, "IGNORED", error_code="no_plan_code")
                created = enrollment.enroll(
                    uow,
                    EnrollmentCreate(
                        market=Market.GROUP,
                        account_id=account_id,
                        subscriber_party_id=party_id,
                        plan_code=plan,
                        effective_date=effective,
                        qualifying_event=event,
                        event_date=None if event is QualifyingEvent.OPEN_ENROLLMENT else event_date,
                    ),
                    self.plans,
                )
                created.subscriber_external_id = change.subscriber_id
                return EnrollmentOutcome(True, "ENROLLED", created.id, party_id)
            if policy is None:
                return EnrollmentOutcome(False, "IGNORED", error_code="unknown_subscriber")
            relationship = RELATIONSHIPS.get(change.relationship_code)
            if relationship is None:
                return EnrollmentOutcome(False, "IGNORED", error_code="unsupported_relationship")
            enrollment.add_dependent(
                uow,
                policy.id,
                DependentAdd(
                    party_id=party_id,
                    relationship=relationship,
                    qualifying_event=event,
                    event_date=event_date,
                ),
            )
            return EnrollmentOutcome(True, "DEPENDENT_ADDED", policy.id, party_id)
        if kind is Maintenance.TERMINATION:
            if policy is None:
                return EnrollmentOutcome(False, "IGNORED", error_code="unknown_subscriber")
            reason = TERMINATION_REASONS.get(change.maintenance_reason, TerminationReason.EMPLOYMENT_ENDED)
            if change.is_subscriber:
                enrollment.terminate(uow, policy.id, Termination(reason=reason, termination_date=_end(change)))
                return EnrollmentOutcome(True, "TERMINATED", policy.id, policy.subscriber_party_id)
            dependent_id = _find_person(uow, change)
            if dependent_id is None:
                return EnrollmentOutcome(False, "IGNORED", error_code="unknown_dependent")
            enrollment.remove_dependent(
                uow, policy.id, DependentRemove(party_id=dependent_id, reason=reason, termination_date=_end(change))
            )
            return EnrollmentOutcome(True, "DEPENDENT_REMOVED", policy.id, dependent_id)
        # Changes, reinstatements and audit records need a person's judgement for now: keep them.
        keep_pending(uow, "834", AWAITING_ENROLLMENT, change, origin)
        return EnrollmentOutcome(False, "PENDING", policy.id if policy else None)


def _remaining(accumulator: dict[str, Any] | None, key: str, currency: str) -> Money | None:
    return Money.parse(str(accumulator[key]), currency) if accumulator is not None else None


def _in_network(accumulators: list[dict[str, Any]]) -> dict[str, Any] | None:
    for value in accumulators:
        if value.get("network") in ("IN_NETWORK", "IN", "in_network"):
            return value
    return accumulators[0] if accumulators else None


class EligibilityAdapter:
    """``EligibilityResponder`` over eligibility's member search and answer."""

    def __init__(self, benefits: BenefitSource) -> None:
        self.benefits = benefits

    def answer(self, uow: UnitOfWork, inquiry: EligibilityInquiry, origin: EdiOrigin) -> EligibilityAnswer:
        person = (
            inquiry.dependent if inquiry.dependent is not None and inquiry.dependent.member_id else inquiry.subscriber
        )
        if not person.member_id:
            return EligibilityAnswer(inquiry, found=False, rejection_reason="72")
        if person.birth_date is None:
            return EligibilityAnswer(inquiry, found=False, rejection_reason="58")
        party_id = eligibility.find_member(uow, person.member_id, person.birth_date, person.last_name)
        if party_id is None:
            return EligibilityAnswer(inquiry, found=False, rejection_reason="75")
        on = inquiry.service_date_from or uow.clock.now().date()
        general = eligibility.check(uow, party_id, on, "30", self.benefits)
        if "coverage_start" not in general:
            return EligibilityAnswer(inquiry, found=False, rejection_reason="75")
        active = bool(general["covered"])
        currency = general.get("currency", "USD")
        deductible = _in_network(general.get("deductible", []))
        out_of_pocket = _in_network(general.get("out_of_pocket", []))
        copays: list[tuple[str, Money]] = []
        coinsurance: list[tuple[str, Decimal]] = []
        for service_type in inquiry.service_types:
            if service_type == "30" or not active:
                continue
            answer = eligibility.check(uow, party_id, on, service_type, self.benefits)
            share = (answer.get("service") or {}).get("in_network")
            if not share:
                continue
            copay = Money.parse(share["copay"], currency)
            if not copay.is_zero:
                copays.append((service_type, copay))
            percent = Decimal(share["coinsurance_percent"])
            if percent:
                coinsurance.append((service_type, percent / 100))
        benefits: tuple[Benefit, ...] = coverage_benefits(
            active=active,
            plan_name=str(general.get("plan_name") or general.get("plan_code") or ""),
            deductible_remaining=_remaining(deductible, "individual_remaining", currency),
            deductible_family_remaining=_remaining(deductible, "family_remaining", currency),
            out_of_pocket_remaining=_remaining(out_of_pocket, "individual_remaining", currency),
            out_of_pocket_family_remaining=_remaining(out_of_pocket, "family_remaining", currency),
            copays=copays,
            coinsurance=coinsurance,
        )
        return EligibilityAnswer(
            inquiry,
            found=True,
            plan_begin=date.fromisoformat(general["coverage_start"]),
            plan_end=date.fromisoformat(general["coverage_end"]) if general.get("coverage_end") else None,
            group_number=None,
            benefits=benefits,
        )


def build_links(plans: enrollment.PlanCatalog, benefits: BenefitSource) -> Links:
    return Links(enrollment=EnrollmentAdapter(plans), eligibility=EligibilityAdapter(benefits))


def install(db: Database, links: Links | None = None) -> Links:
    """Make ``links`` (default: the adapters above over the plans catalog and benefits) the gateway's."""
    if links is None:
        from olly.eligibility.plan_benefits import PlanBenefitSource
        from olly.enrollment.plan_catalog import PlansCatalog

        links = build_links(PlansCatalog(), PlanBenefitSource())
    db.session_info["edi_links"] = links
    return links
