"""Adapters between the EDI gateway's ports and the other domains (composition layer).

The gateway (``olly.edi``) knows no other domain; these adapters call the domains' public and
service functions, like the roster import does, and ``install`` puts them on a database so every
unit of work of the API, the worker, the jobs and the CLI finds them (``olly.edi.ports.links_of``).

* 834 → enrollment: an employer partner's INS loops become policies (subscriber adds), dependents,
  terminations; other maintenance types are kept for a person (``AWAITING_ENROLLMENT``).
* 270 → eligibility → 271: the member is found by member number, birth date and family name (all
  three), and the eligibility answer becomes EB segments.
* 837 → claims intake (``ClaimIntakeAdapter``): the member is found like a 270's (member number,
  birth date, family name), the claim mapped to ``ClaimCreate`` and submitted with an idempotency
  key per sender, envelope control numbers and claim position.
* 276 → claim status → 277 (``ClaimStatusAdapter``).
* billing's payment runs → 835 (``RemittanceAdapter``): one remittance per provider payment, built
  from ``claims.public.remittance_detail`` of each claim it pays.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any, Final

from pydantic import ValidationError

from olly.billing import public as billing
from olly.claims import public as claims
from olly.edi import codes
from olly.edi import public as edi_public
from olly.edi.claims import ClaimProblem, ClaimSubmission
from olly.edi.codes import TransactionKind
from olly.edi.eligibility import Benefit, EligibilityAnswer, EligibilityInquiry, coverage_benefits
from olly.edi.enrollment import (
    COVERAGE_LEVELS,
    DependentMatch,
    EnrollmentChange,
    EnrollmentFile,
    EnrollmentMember,
    KnownDependent,
    Maintenance,
    MemberCoverage,
    identify_dependent,
)
from olly.edi.ports import (
    AWAITING_ENROLLMENT,
    EdiOrigin,
    EnrollmentOutcome,
    IntakeResult,
    Links,
    PartnerInfo,
    keep_pending,
)
from olly.edi.reconcile import RosterEntry
from olly.edi.remittance import (
    Adjustment,
    PayeeInfo,
    PayerInfo,
    Payment,
    ProviderAdjustment,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from olly.edi.status import NOT_FOUND, ClaimStatus, StatusAnswer, StatusInquiry
from olly.eligibility import service as eligibility
from olly.eligibility.service import BenefitSource
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.models import Policy
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market, QualifyingEvent, Relationship, TerminationReason
from olly.enrollment.schemas import (
    DependentAdd,
    DependentReinstate,
    DependentRemove,
    EnrollmentCreate,
    PlanChange,
    Termination,
)
from olly.kernel.errors import Conflict, FieldError, ValidationFailed
from olly.kernel.money import Money
from olly.platform import jsonfast
from olly.platform.db import Database, UnitOfWork
from olly.policy_admin import public as people
from olly.policy_admin import service as policy_admin
from olly.policy_admin.schemas import Address, AdministrativeGender, IndividualCreate
from olly.provider import public as providers

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


#: DMG03 → the administrative gender policy_admin keeps (other codes are not a gender it records).
GENDERS: dict[str, AdministrativeGender] = {"M": "M", "F": "F", "U": "U"}


def _person(change: EnrollmentChange) -> IndividualCreate:
    ssn = change.member_id if change.member_id_qualifier == "34" and change.member_id else None
    if change.birth_date is None:
        raise ValueError("the 834 member has no birth date (DMG02)")
    return IndividualCreate(
        given_name=change.first_name or "-",
        family_name=change.last_name,
        birth_date=change.birth_date,
        gender=GENDERS.get(change.gender),
        ssn=ssn,
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
            return _refused("partner_has_no_group_account")
        account_id = partner.group_account_id
        repo = EnrollmentRepository(uow)
        policy = repo.policy_for_employee(account_id, change.subscriber_id) if change.subscriber_id else None
        kind = change.kind
        if kind is Maintenance.ADDITION:
            party_id = _find_person(uow, change) or policy_admin.register_individual(uow, _person(change)).id
            effective = _begin(change)
            if effective is None:
                return _refused("no_effective_date")
            event = ADD_REASONS.get(change.maintenance_reason, QualifyingEvent.OPEN_ENROLLMENT)
            event_date = change.maintenance_effective or effective
            if change.is_subscriber:
                if policy is not None:
                    return EnrollmentOutcome(True, "ALREADY_ENROLLED", policy.id, policy.subscriber_party_id)
                plan = next((c.plan_description.strip() for c in change.coverages if c.plan_description.strip()), "")
                if not plan:
                    return _refused("no_plan_code")
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
                return _refused("unknown_subscriber")
            relationship = RELATIONSHIPS.get(change.relationship_code)
            if relationship is None:
                return _refused("unsupported_relationship")
            enrollment.add_dependent(
                uow,
                policy.id,
                DependentAdd(
                    party_id=party_id,
                    relationship=relationship,
                    qualifying_event=event,
                    event_date=event_date,
                ),
                self.plans,
            )
            return EnrollmentOutcome(True, "DEPENDENT_ADDED", policy.id, party_id)
        if kind is Maintenance.TERMINATION:
            if policy is None:
                return _refused("unknown_subscriber")
            reason = TERMINATION_REASONS.get(change.maintenance_reason, TerminationReason.EMPLOYMENT_ENDED)
            if change.is_subscriber:
                enrollment.terminate(uow, policy.id, Termination(reason=reason, termination_date=_end(change)))
                return EnrollmentOutcome(True, "TERMINATED", policy.id, policy.subscriber_party_id)
            dependent_id = _find_dependent(uow, change, policy)
            if isinstance(dependent_id, str):
                return _refused(dependent_id)
            enrollment.remove_dependent(
                uow,
                policy.id,
                DependentRemove(party_id=dependent_id, reason=reason, termination_date=_end(change)),
                self.plans,
            )
            return EnrollmentOutcome(True, "DEPENDENT_REMOVED", policy.id, dependent_id)
        if kind is Maintenance.CHANGE:
            return self._change(uow, change, policy)
        if kind is Maintenance.REINSTATEMENT:
            return self._reinstate(uow, change, policy)
        # Audit records (030) state what should be in force: comparing a full file needs a person.
        keep_pending(uow, "834", AWAITING_ENROLLMENT, change, origin)
        return EnrollmentOutcome(False, "PENDING", policy.id if policy else None)

    def _change(self, uow: UnitOfWork, change: EnrollmentChange, policy: Policy | None) -> EnrollmentOutcome:
        """INS 001: the member's name, birth date and address as sent; a plan change on the subscriber's
        HD (an HD 001/021 naming another plan); an HD 024 ends the member's coverage."""
        if policy is None:
            return _refused("unknown_subscriber")
        party_id = policy.subscriber_party_id if change.is_subscriber else _find_dependent(uow, change, policy)
        if isinstance(party_id, str):
            return _refused(party_id)
        ended = [c for c in change.coverages if c.maintenance == Maintenance.TERMINATION.value]
        wanted = [
            c
            for c in change.coverages
            if c.maintenance in {Maintenance.CHANGE.value, Maintenance.ADDITION.value} and c.plan_description.strip()
        ]
        if ended and not wanted:
            reason = TERMINATION_REASONS.get(change.maintenance_reason, TerminationReason.EMPLOYMENT_ENDED)
            if change.is_subscriber:
                enrollment.terminate(uow, policy.id, Termination(reason=reason, termination_date=_end(change)))
                return EnrollmentOutcome(True, "TERMINATED", policy.id, party_id)
            enrollment.remove_dependent(
                uow,
                policy.id,
                DependentRemove(party_id=party_id, reason=reason, termination_date=_end(change)),
                self.plans,
            )
            return EnrollmentOutcome(True, "DEPENDENT_REMOVED", policy.id, party_id)
        try:
            changed = list(_update_person(uow, party_id, change))
        except ValidationError:
            return _refused("bad_identifying_data")
        if wanted:
            plan = wanted[0].plan_description.strip()
            current = {f.plan_code for f in enrollment_public.coverage_facts(uow, policy.id, party_id)}
            if plan not in current:
                if not change.is_subscriber:
                    return _refused("dependent_plan_differs")
                begin = wanted[0].begin or change.maintenance_effective
                if begin is None:
                    return _refused("no_effective_date")
                event = ADD_REASONS.get(change.maintenance_reason, QualifyingEvent.OPEN_ENROLLMENT)
                enrollment.change_plan(
                    uow, policy.id, PlanChange(plan_code=plan, qualifying_event=event, event_date=begin), self.plans
                )
                changed.append("plan")
        return EnrollmentOutcome(True, "CHANGED" if changed else "UNCHANGED", policy.id, party_id)

    def _reinstate(self, uow: UnitOfWork, change: EnrollmentChange, policy: Policy | None) -> EnrollmentOutcome:
        """INS 025: the subscriber's undoes the policy's last termination (``enrollment.reinstate``); a
        dependent's, found as for a termination, undoes their last removal
        (``enrollment.reinstate_dependent``). Both with no gap in cover: the DTP dates sent are not
        used."""
        if policy is None:
            return _refused("unknown_subscriber")
        if change.is_subscriber:
            if policy.status != "TERMINATED":
                return _refused("not_terminated")
            enrollment.reinstate(uow, policy.id)
            return EnrollmentOutcome(True, "REINSTATED", policy.id, policy.subscriber_party_id)
        if policy.status == "TERMINATED":
            return _refused("policy_terminated")
        dependent_id = _find_dependent(uow, change, policy)
        if isinstance(dependent_id, str):
            return _refused(dependent_id)
        enrollment.reinstate_dependent(uow, policy.id, DependentReinstate(party_id=dependent_id), self.plans)
        return EnrollmentOutcome(True, "DEPENDENT_REINSTATED", policy.id, dependent_id)


#: Why an 834 member was refused, by code (stable; never a data value).
REFUSALS = {
    "partner_has_no_group_account": "the sending employer has no group account to enrol into",
    "no_effective_date": "no coverage begin date (DTP*348) or maintenance date (DTP*303)",
    "no_plan_code": "no plan code in HD04",
    "unknown_subscriber": "no policy of this group has the subscriber id (REF*0F)",
    "unknown_dependent": (
        "no dependent of that relationship on the subscriber's policy matches the member"
        " (SSN, member number REF*23, or name or birth date)"
    ),
    "ambiguous_dependent": (
        "more than one dependent of that relationship on the subscriber's policy matches the member's"
        " name or birth date: send the SSN or the member number (REF*23)"
    ),
    "unsupported_relationship": "the relationship (INS02) is not one Olly covers",
    "dependent_plan_differs": "a dependent cannot be on another plan than the subscriber's policy",
    "not_terminated": "only a terminated policy can be reinstated",
    "policy_terminated": "the subscriber's policy is terminated: reinstate the subscriber (INS03 025) first",
    "bad_identifying_data": "the name, birth date or address sent is not valid",
}


def _refused(code: str) -> EnrollmentOutcome:
    return EnrollmentOutcome(False, "IGNORED", error_code=code, reason=REFUSALS[code])


def _find_dependent(uow: UnitOfWork, change: EnrollmentChange, policy: Policy) -> uuid.UUID | str:
    """The dependent of ``policy`` a change or termination is about, or the refusal's code. An SSN
    known to Olly decides; otherwise the policy's dependents of the INS02's relationship are the
    candidates (``identify_dependent``: member number REF*23, else name and birth date)."""
    relationship = RELATIONSHIPS.get(change.relationship_code)
    if relationship is None:
        return "unsupported_relationship"
    dependents = enrollment_public.policy_dependents(uow, policy.id, relationship.value)
    if change.member_id_qualifier == "34" and change.member_id:
        by_ssn = people.find_by_ssn(uow, change.member_id)
        if by_ssn is not None:
            return by_ssn if any(d.party_id == by_ssn for d in dependents) else "unknown_dependent"
    candidates = []
    for dependent in dependents:
        person = people.individual(uow, dependent.party_id)
        if person is not None:
            candidates.append(
                KnownDependent(
                    dependent.party_id,
                    dependent.member_number,
                    person.given_name,
                    person.family_name,
                    person.birth_date,
                )
            )
    match, party_id = identify_dependent(change, candidates)
    if match is DependentMatch.AMBIGUOUS:
        return "ambiguous_dependent"
    return party_id if party_id is not None else "unknown_dependent"


def _update_person(uow: UnitOfWork, party_id: uuid.UUID, change: EnrollmentChange) -> tuple[str, ...]:
    address = None
    if change.address_lines and change.city and change.state and change.postal_code:
        address = Address(
            line1=change.address_lines[0],
            line2=change.address_lines[1] if len(change.address_lines) > 1 else None,
            city=change.city,
            region=change.state,
            postal_code=change.postal_code,
        )
    return people.update_individual(
        uow,
        party_id,
        given_name=change.first_name or None,
        family_name=change.last_name or None,
        birth_date=change.birth_date,
        address=address,
        # U in a change says nothing new: it never replaces a gender already known
        gender=GENDERS.get(change.gender) if change.gender in ("M", "F") else None,
    )


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
        # the 271 answers in the loop of the person asked about: the gender is theirs only when it is them
        answered = inquiry.dependent is None or person is inquiry.dependent
        record = people.individual(uow, party_id) if answered else None
        return EligibilityAnswer(
            inquiry,
            found=True,
            plan_begin=date.fromisoformat(general["coverage_start"]),
            plan_end=date.fromisoformat(general["coverage_end"]) if general.get("coverage_end") else None,
            group_number=None,
            benefits=benefits,
            member_gender=record.gender if record is not None else None,
        )


# -- 837 → claims intake ---------------------------------------------------------------------------
#: 277CA status of a claim whose patient the payer cannot find (507 code 33: subscriber and
#: subscriber id not found), with entity IL (the subscriber) or QC (a dependent patient).
STATUS_MEMBER_NOT_FOUND = "33"
CATEGORY_UNPROCESSABLE = "A3"


def _diagnosis(code: str) -> str:
    """An 837 diagnosis (no period: J069) in the ICD-10-CM form the claims intake keeps (J06.9)."""
    bare = code.strip().upper().replace(".", "")
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


def _units(value: Decimal) -> int:
    return max(1, int(value.to_integral_value(rounding=ROUND_CEILING)))


def idempotency_key(claim: ClaimSubmission, origin: EdiOrigin) -> str:
    """One key per claim of one transmission: sender, ISA13, GS06, ST02 and the CLM's position."""
    sender = claim.origin.sender_id or (str(origin.partner_id) if origin.partner_id else "")
    return ":".join(
        (
            "837",
            sender,
            origin.interchange_control_number,
            origin.group_control_number,
            origin.set_control_number,
            str(origin.segment_number),
        )
    )[:200]


def claim_origin(claim: ClaimSubmission, origin: EdiOrigin) -> str:
    """What the claim keeps of its 837 (encrypted with the claim's detail): the envelope, CLM01, and
    what the 835 echoes back (CLM05, the patient as sent, the line control numbers)."""
    dependent = not claim.patient_is_subscriber
    return json.dumps(
        {
            "kind": claim.kind.value,
            "file": str(origin.file_id),
            "sender": claim.origin.sender_id,
            "isa": origin.interchange_control_number,
            "gs": origin.group_control_number,
            "st": origin.set_control_number,
            "segment": origin.segment_number,
            "claim": claim.claim_id,
            "facility": claim.facility_code,
            "frequency": claim.frequency_code,
            "memberNumber": claim.subscriber_member_id,
            "patient": [
                claim.patient_last_name if dependent else claim.subscriber_last_name,
                claim.patient_first_name if dependent else claim.subscriber_first_name,
            ],
            "lineControl": [line.line_control_number for line in claim.lines],
        },
        separators=(",", ":"),
    )


def find_patient(uow: UnitOfWork, claim: ClaimSubmission) -> uuid.UUID | None:
    """The member an 837 claim is for: member number (NM1*IL NM109), birth date and family name must
    all match (eligibility's member search). A dependent without their own member number is looked
    for among the subscriber's dependents by family name and birth date."""
    number = claim.subscriber_member_id
    if not number:
        return None
    if claim.patient_is_subscriber:
        if claim.subscriber_birth_date is None or not claim.subscriber_last_name:
            return None
        return eligibility.find_member(uow, number, claim.subscriber_birth_date, claim.subscriber_last_name)
    if claim.patient_birth_date is None or not claim.patient_last_name:
        return None
    found = eligibility.find_member(uow, number, claim.patient_birth_date, claim.patient_last_name)
    if found is not None or claim.subscriber_birth_date is None or not claim.subscriber_last_name:
        return found
    subscriber = eligibility.find_member(uow, number, claim.subscriber_birth_date, claim.subscriber_last_name)
    if subscriber is None:
        return None
    dependents = enrollment_public.dependents_of(uow, subscriber)
    matches = [
        p.party_id
        for p in people.find_people(uow, family_name=claim.patient_last_name, birth_date=claim.patient_birth_date)
        if p.party_id in dependents
    ]
    return matches[0] if len(matches) == 1 else None


#: Type-of-bill facility digits (CLM05-1's first) whose second digit says in-patient or out-patient:
#: hospital, skilled nursing, religious non-medical institution.
_CLASSIFIED_FACILITIES: Final = frozenset("124")


def care_setting_of(facility_type: str) -> claims.CareSetting | None:
    """The care setting an 837I's facility type code (CLM05-1: the type of bill's facility digit,
    then its classification) says, when it says one: 1 (in-patient, Part A) or 2 (in-patient, Part
    B) and 8 (swing bed) at a hospital, SNF or religious institution are in-patient; 3 (out-patient)
    and 4 (other, e.g. referenced diagnostics) there, a clinic (7x), an ambulatory surgery centre (83)
    and a critical access hospital's out-patient bill (85) are out-patient. Home health, hospice and
    the rest say neither."""
    if len(facility_type) != 2 or not facility_type.isdigit():
        return None
    facility, classification = facility_type[0], facility_type[1]
    if facility in _CLASSIFIED_FACILITIES:
        if classification in "128":
            return claims.CareSetting.IPD
        if classification in "34":
            return claims.CareSetting.OPD
        return None
    if facility == "7" or facility_type in ("83", "85"):
        return claims.CareSetting.OPD
    return None


def claim_create(claim: ClaimSubmission, member_id: uuid.UUID) -> claims.ClaimCreate:
    """The claims intake's form of an 837P/837I claim (raises pydantic's ``ValidationError``)."""
    professional = claim.kind is TransactionKind.CLAIM_PROFESSIONAL
    lines = []
    for line in claim.lines:
        procedure = line.procedure_code if line.procedure_qualifier in ("HC", "") and line.procedure_code else None
        start = line.service_date_from or claim.statement_from
        end = line.service_date_to or (None if line.service_date_from else claim.statement_to)
        lines.append(
            claims.ClaimLineCreate(
                procedure_code=procedure,
                modifiers=list(line.modifiers),
                revenue_code=line.revenue_code,
                units=_units(line.units),
                charge=line.charge.to_decimal_string(),
                diagnosis_pointers=list(line.diagnosis_pointers) or [1],
                place_of_service=line.place_of_service,
                service_date_from=start,  # a line without any date fails the schema: a 277CA rejection
                service_date_to=end if end != start else None,
                rendering_npi=line.rendering_npi,
            )
        )
    frequency = claim.frequency_code if claim.frequency_code in ("7", "8") else "1"
    original = None
    if frequency != "1" and claim.payer_claim_control_number:
        try:
            original = uuid.UUID(claim.payer_claim_control_number)
        except ValueError:
            original = None
    prior_auth = claim.prior_authorization or next(
        (line.prior_authorization for line in claim.lines if line.prior_authorization), None
    )
    return claims.ClaimCreate(
        claim_type="PROFESSIONAL" if professional else "INSTITUTIONAL",
        member_id=member_id,
        billing_npi=claim.billing_npi or "",
        rendering_npi=claim.rendering_npi or (None if professional else claim.attending_npi),
        place_of_service=claim.facility_code if professional and claim.facility_code else None,
        currency=claim.total_charge.currency,
        diagnoses=[_diagnosis(d.code) for d in claim.diagnoses],
        lines=lines,
        frequency=frequency,
        original_claim_id=original,
        prior_auth_reference=prior_auth,
        care_setting=None if professional else care_setting_of(claim.facility_code),
        inpatient_hours=None if professional else claim.inpatient_hours,
    )


def _problem(error: FieldError) -> ClaimProblem:
    """An intake validation error as a 277CA STC (the field path, never the value)."""
    field = error.field.removeprefix("body.")
    parts = field.split(".")
    line = int(parts[1]) + 1 if len(parts) > 1 and parts[0] == "lines" and parts[1].isdigit() else None
    entity = None
    if "serviceDate" in field:
        status = codes.STATUS_LINE_DATE
    elif "procedureCode" in field:
        status = codes.STATUS_PROCEDURE
    elif field.startswith("diagnoses"):
        status = codes.STATUS_DIAGNOSIS
    elif field in ("billingNpi", "renderingNpi") or field.endswith("renderingNpi"):
        status, entity = codes.STATUS_PROVIDER_NPI, "85" if field == "billingNpi" else "82"
    else:
        status = codes.STATUS_MISSING_OR_INVALID
    return ClaimProblem(codes.CATEGORY_REJECTED_INVALID, status, field, entity, line)


def _field_errors(error: ValidationError) -> list[FieldError]:
    return [
        FieldError(".".join(str(part) for part in item["loc"]) or "claim", item["msg"], item["type"])
        for item in error.errors(include_url=False, include_input=False)
    ]


MemberFinder = Callable[[UnitOfWork, ClaimSubmission], uuid.UUID | None]


class ClaimIntakeAdapter:
    """``ClaimIntake`` over ``claims.public.submit_claim`` (source ``EDI``). ``members`` finds the
    patient (default ``find_patient``)."""

    def __init__(self, members: MemberFinder | None = None) -> None:
        self.members = members or find_patient

    def submit(self, uow: UnitOfWork, claim: ClaimSubmission, origin: EdiOrigin) -> IntakeResult:
        prepared = self._prepare(uow, claim, origin, {})
        if isinstance(prepared, IntakeResult):
            return prepared
        try:
            with uow.session.begin_nested():
                submission = claims.submit_claim(
                    uow, prepared.data, source="EDI", idempotency_key=prepared.idempotency_key, origin=prepared.origin
                )
        except (ValidationFailed, Conflict) as refusal:
            return _claim_refusal(refusal)
        return IntakeResult(accepted=True, claim_id=str(submission.claim_id), transaction_id=submission.transaction_id)

    def submit_chunk(self, uow: UnitOfWork, items: Sequence[tuple[ClaimSubmission, EdiOrigin]]) -> list[IntakeResult]:
        """``submit`` for each of a chunk of claims, in order, through ``claims.submit_claims``: each
        claim accepted or refused on its own, the chunk's reads and writes done together."""
        senders: dict[uuid.UUID, PartnerInfo | None] = {}
        answers: list[IntakeResult | None] = []
        prepared: list[claims.IntakeItem] = []
        for claim, origin in items:
            item = self._prepare(uow, claim, origin, senders)
            if isinstance(item, IntakeResult):
                answers.append(item)
            else:
                answers.append(None)
                prepared.append(item)
        outcomes = iter(claims.submit_claims(uow, prepared, source="EDI") if prepared else ())
        results = []
        for answer in answers:
            if answer is None:
                outcome = next(outcomes)
                answer = (
                    IntakeResult(accepted=True, claim_id=str(outcome.claim_id), transaction_id=outcome.transaction_id)
                    if isinstance(outcome, claims.Submission)
                    else _claim_refusal(outcome)
                )
            results.append(answer)
        return results

    def _prepare(
        self,
        uow: UnitOfWork,
        claim: ClaimSubmission,
        origin: EdiOrigin,
        senders: dict[uuid.UUID, PartnerInfo | None],
    ) -> claims.IntakeItem | IntakeResult:
        """The claims intake's form of the claim, or why it is refused before the intake sees it."""
        sender = None
        if origin.partner_id:
            if origin.partner_id not in senders:
                senders[origin.partner_id] = edi_public.partner(uow, origin.partner_id)
            sender = senders[origin.partner_id]
        if (
            sender is not None
            and sender.kind == "PROVIDER"
            and sender.provider_ids
            and claim.billing_npi not in sender.provider_ids
        ):  # a provider partner bills only under the NPIs it acts for (a clearinghouse for any)
            problem = ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_PROVIDER_NPI, "billingNpi", "85")
            return IntakeResult(accepted=False, problems=(problem,))
        member_id = self.members(uow, claim)
        if member_id is None:
            entity = "IL" if claim.patient_is_subscriber else "QC"
            problem = ClaimProblem(CATEGORY_UNPROCESSABLE, STATUS_MEMBER_NOT_FOUND, "subscriber.memberId", entity)
            return IntakeResult(accepted=False, problems=(problem,))
        try:
            data = claim_create(claim, member_id)
        except ValidationError as error:
            return IntakeResult(accepted=False, problems=tuple(_problem(e) for e in _field_errors(error)))
        return claims.IntakeItem(data, idempotency_key(claim, origin), claim_origin(claim, origin))


def _claim_refusal(refusal: ValidationFailed | Conflict) -> IntakeResult:
    if isinstance(refusal, ValidationFailed):
        return IntakeResult(accepted=False, problems=tuple(_problem(e) for e in refusal.errors))
    # a Conflict: the same position of the same transmission with another content
    problem = ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_MISSING_OR_INVALID, "claim")
    return IntakeResult(accepted=False, problems=(problem,))


# -- 276 → claim status → 277 ----------------------------------------------------------------------
#: Claims' status → (STC01-1 category, STC01-2 status) of a 277.
STATUS_CODES: dict[str, tuple[str, str]] = {
    "RECEIVED": ("A2", "20"),  # accepted into adjudication
    "PENDED": ("P2", "20"),  # pending, in review
    "APPROVED": ("F0", "3"),  # finalized, adjudicated and queued for payment
    "PARTIALLY_APPROVED": ("F0", "3"),
    "DENIED": ("F2", "4"),  # finalized, denied
    "PAID": ("F1", "65"),  # finalized, paid
    "REPLACED": ("F3", "1"),  # finalized, revised: see the remittance advice
    "VOIDED": ("F3", "1"),
}


class ClaimStatusAdapter:
    """``ClaimStatusLookup`` over ``claims.public.claim_status`` and billing's payment of the claim.

    The 276 must name the payer claim number (REF*1K, from the 277CA) and the billing provider's
    NPI must be the claim's; anything else is "not found" (A4:35), never another provider's claim."""

    def lookup(self, uow: UnitOfWork, inquiry: StatusInquiry, origin: EdiOrigin) -> StatusAnswer:
        try:
            claim_id = uuid.UUID(inquiry.payer_claim_number or "")
        except ValueError:
            return StatusAnswer(inquiry, (NOT_FOUND,))
        view = claims.claim_status(uow, claim_id)
        if view is None or (inquiry.provider_npi and inquiry.provider_npi != view.billing_npi):
            return StatusAnswer(inquiry, (NOT_FOUND,))
        status = view.status
        payment = billing.claim_payment(uow, claim_id) if status in ("APPROVED", "PARTIALLY_APPROVED") else None
        if payment is not None:
            status = "PAID"
        category, code = STATUS_CODES.get(status, ("P1", "20"))
        effective = (view.adjudicated_at or view.received_at).date()
        if payment is not None:
            effective = payment.paid_on
        final = category.startswith("F")
        return StatusAnswer(
            inquiry,
            (ClaimStatus(category, code, effective=effective),),
            payer_claim_number=str(view.claim_id),
            total_charge=view.billed,
            paid_amount=view.paid if final and view.paid is not None else None,
            paid_date=payment.paid_on if payment is not None else None,
            # STC09 holds 16 characters: a longer EFT trace is left to the 835 (TRN02).
            check_number=payment.trace_number if payment is not None and len(payment.trace_number) <= 16 else None,
        )


# -- payment runs → 835 ----------------------------------------------------------------------------
#: A payment's method in billing → the 835's BPR04.
METHODS = {"ACH": "ACH", "CHECK": "CHK"}

BankAccounts = Callable[[UnitOfWork, uuid.UUID], "tuple[str, str] | billing.PayeeBank | None"]
"""A payee's bank: (routing, account) or billing's ``PayeeBank`` (with its account type)."""


def billing_bank_accounts(uow: UnitOfWork, payee_id: uuid.UUID) -> billing.PayeeBank | None:
    """The default payee bank lookup: billing's ``payee_bank_accounts``."""
    return billing.payee_bank_account(uow, payee_id)


"""(routing, account) of a payee by its id, for an ACH 835; None when unknown."""


def _origin_of(detail: claims.RemittanceClaim) -> dict[str, Any]:
    if not detail.origin:
        return {}
    try:
        value = jsonfast.loads(detail.origin)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class _Amounts:
    """One ``Money`` per amount and currency, and one ``Adjustment`` per group, reason and amount,
    among the CLPs of a run's 835s: they repeat few (a line's charge is often its allowed and its
    paid, copays recur), and an 835 keeps every CLP until it is written, each object one more for
    every pass of the cyclic collector (sharing them halved what a 20,000-claim 835 kept)."""

    __slots__ = ("_adjustments", "_money")

    def __init__(self) -> None:
        self._money: dict[tuple[int, str], Money] = {}
        self._adjustments: dict[tuple[str, str, int, str], Adjustment] = {}

    def money(self, amount: int, currency: str) -> Money:
        key = (amount, currency)
        money = self._money.get(key)
        if money is None:
            money = self._money[key] = Money(amount, currency)
        return money

    def adjustment(self, group: str, reason: str, amount: int, currency: str) -> Adjustment:
        key = (group, reason, amount, currency)
        adjustment = self._adjustments.get(key)
        if adjustment is None:
            adjustment = self._adjustments[key] = Adjustment(group, reason, self.money(amount, currency))
        return adjustment


def _adjustment(item: claims.RemittanceAdjustment, sign: int = 1, shared: _Amounts | None = None) -> Adjustment:
    if shared is not None:
        return shared.adjustment(item.group, item.carc, sign * item.amount.amount, item.amount.currency)
    return Adjustment(item.group, item.carc, Money(sign * item.amount.amount, item.amount.currency))


#: The 835's CLP06 (claim filing indicator) of each plan type. A POS plan reports 13 though claims
#: adjudicates it as a PPO; a high-deductible plan rides a preferred-provider network; a sum-insured
#: policy is indemnity insurance. A claim without coverage reports 12, as before.
FILING_INDICATOR: Final = {"PPO": "12", "HDHP": "12", "POS": "13", "EPO": "14", "HMO": "HM", "SUM_INSURED": "15"}


def _clp(
    detail: claims.RemittanceClaim,
    sent: dict[str, Any],
    *,
    reversal: bool = False,
    shared: _Amounts | None = None,
) -> RemittanceClaim:
    """The CLP (with its SVC lines) of one adjudicated claim; ``reversal`` negates every amount
    (CLP02 22: the earlier payment of a replaced or voided claim is taken back). ``shared``: the
    amounts and adjustments equal ones of other CLPs share."""
    sign = -1 if reversal else 1
    money = shared.money if shared is not None else Money
    controls = sent.get("lineControl") or []
    lines = []
    for line in detail.lines:
        control = controls[line.line_number - 1] if line.line_number - 1 < len(controls) else None
        lines.append(
            RemittanceLine(
                procedure_code=line.procedure_code or "",
                modifiers=line.modifiers,
                revenue_code=line.revenue_code,
                charge=money(sign * line.billed.amount, line.billed.currency),
                paid=money(sign * line.paid.amount, line.paid.currency),
                adjustments=tuple(_adjustment(a, sign, shared) for a in line.adjustments),
                units_paid=Decimal(line.units),
                service_date_from=line.service_date,
                allowed=money(sign * line.allowed.amount, line.allowed.currency),
                line_control_number=control,
                remarks=line.rarcs,
            )
        )
    patient = sent.get("patient") or ["", ""]
    if reversal:
        status = "22"
    elif detail.status == "DENIED":
        status = "4"
    else:
        status = "1"
    return RemittanceClaim(
        claim_id=str(sent.get("claim") or detail.claim_id)[:38],
        charge=money(sign * detail.billed.amount, detail.currency),
        paid=money(sign * detail.paid.amount, detail.currency),
        payer_claim_number=str(detail.claim_id),
        lines=tuple(lines),
        status=status,
        facility_code=str(sent["facility"]) if sent.get("facility") else None,
        frequency_code="8" if reversal else (str(sent["frequency"]) if sent.get("frequency") else None),
        filing_indicator=FILING_INDICATOR.get(detail.plan_type or "", "12"),
        patient_member_id=str(sent["memberNumber"]) if sent.get("memberNumber") else None,
        patient_last_name=str(patient[0] or ""),
        patient_first_name=str(patient[1] or ""),
    )


#: Claims of a payment whose remittance details are read together.
_DETAIL_CHUNK = 500


def _details_in_turn(
    uow: UnitOfWork, paid: Sequence[billing.PaidClaim]
) -> Iterator[tuple[tuple[uuid.UUID, int | None], claims.RemittanceClaim | None]]:
    """The remittance detail of each paid claim in turn: the next claims' in a few queries, not a few
    each, and each let go of once its CLP is written (``claims.remittance_details_in_turn``)."""
    for start in range(0, len(paid), _DETAIL_CHUNK):
        wanted = [(p.claim_id, p.adjudication_sequence) for p in paid[start : start + _DETAIL_CHUNK]]
        yield from claims.remittance_details_in_turn(uow, wanted)


def _recovery_adjustments(
    payment: billing.PayeePayment, reversed_here: dict[str, int], taken_earlier: dict[str, int]
) -> tuple[ProviderAdjustment, ...]:
    """The PLBs of the earlier payments this payment took back, one per claim, naming it (PLB03-2
    its payer claim number, the CLP07 of its reversal):

    * a replaced claim reversed in this 835 (CLP02 22): ``FB`` for what this payment recovered of it
      less the reversal: nothing when recovered here in full, negative (the balance forwarded)
      when the payee's new claims did not cover it. What earlier payments already took back of it
      (``taken_earlier``, each a ``WO`` then, the claim not yet reversed) is a negative ``WO``
      under the same reference: the reversal takes it now, so those earlier ones are cancelled;
    * a replaced claim reversed in an earlier 835: ``FB`` for what this payment recovered, the
      balance forwarded then taken back, under the same reference;
    * a claim never reversed in an 835 (a void, which has no CLP of its own; a replacement not paid
      yet; a re-adjudication that paid less): ``WO``, overpayment recovery, for what this payment
      took back of it."""
    adjustments: dict[tuple[str, str], int] = {}
    for item in payment.recovered:
        reference = str(item.claim_id)
        forwarded = item.part == 0 and (reference in reversed_here or item.reversal_reported)
        code = "FB" if forwarded else "WO"
        adjustments[code, reference] = adjustments.get((code, reference), 0) + item.amount_minor
    for reference, amount in reversed_here.items():
        earlier = min(taken_earlier.get(reference, 0), amount)
        adjustments["WO", reference] = adjustments.get(("WO", reference), 0) - earlier
        adjustments["FB", reference] = adjustments.get(("FB", reference), 0) - (amount - earlier)
    return tuple(
        ProviderAdjustment(code, reference, Money(amount, payment.currency))
        for (code, reference), amount in adjustments.items()
        if amount
    )


class RemittanceAdapter:
    """``RemittanceSource`` over ``billing.public.payment_run`` and ``claims.public.remittance_detail``.

    One remittance per provider payment of the run (billing makes one per billing NPI, so each NPI
    is one payee whatever provider ids its claims carry): a CLP per claim it pays (preceded by a
    reversal CLP when the claim replaced or voided an earlier one, or, for a supplement billing pays
    after a re-adjudication paid more, by the reversal of the adjudication paid before), SVC and CAS
    per line. What the payment recovered of earlier claims' payments, and reversals not (yet)
    recovered, are PLBs naming each claim (``_recovery_adjustments``); any other difference between
    the CLP04s and what billing paid is a PLB (FB, the run id), so the 835 states the payment made.
    Member payees (reimbursements) get no 835: they are told by their EOB. An EFT names both banks
    (the payer's from ``OLLY_EDI_PAYER_BANK``, the payee's from billing's payee bank accounts);
    without them it is written as a cheque advice (BPR04 CHK) with the EFT
    trace in TRN02."""

    def __init__(
        self,
        payer: PayerInfo | None = None,
        *,
        payer_bank: tuple[str, str] | None = None,
        payee_banks: BankAccounts | None = None,
    ) -> None:
        self.payer = payer
        self.payer_bank = payer_bank
        self.payee_banks = payee_banks

    def _payer(self, uow: UnitOfWork) -> tuple[PayerInfo, tuple[str, str] | None]:
        if self.payer is not None:
            return self.payer, self.payer_bank
        settings = uow.session.info["database"].settings
        street, city, state, postal = [*settings.edi_payer_address.split("|"), "", "", "", ""][:4]
        payer = PayerInfo(settings.edi_payer_name, settings.edi_payer_tax_id, street, city, state, postal)
        routing, _, account = settings.edi_payer_bank.partition("|")
        return payer, self.payer_bank or ((routing, account) if routing and account else None)

    def payment_run(self, uow: UnitOfWork, run_id: str) -> Sequence[Remittance]:
        try:
            run_uuid = uuid.UUID(run_id)
        except ValueError:
            return ()
        advice = billing.payment_run(uow, run_uuid)
        if advice is None:
            return ()
        payer, payer_bank = self._payer(uow)
        remittances = []
        shared = _Amounts()
        for payment in advice.payments:
            if payment.payee != "PROVIDER":
                continue
            clps: list[RemittanceClaim] = []
            reversed_here: dict[str, int] = {}  # a voided or replaced claim → its reversal CLP's amount, positive
            npi = payment.payee_npi or ""  # billing pays a provider once a run per billing NPI
            for paid, (_, detail) in zip(payment.claims, _details_in_turn(uow, payment.claims), strict=True):
                if detail is None:
                    raise ValidationFailed(
                        [FieldError(f"claims.{paid.claim_id}", "the paid claim has no final result", "not_final")]
                    )
                npi = npi or detail.billing_npi
                sent = _origin_of(detail)
                if paid.is_supplement:
                    # Re-adjudicated to pay more after it was paid: the earlier adjudication is
                    # reversed and the new one reported in full; the two CLPs net to this payment.
                    earlier = None
                    if paid.reverses_sequence is not None:
                        earlier = claims.remittance_detail(uow, paid.claim_id, paid.reverses_sequence)
                    if earlier is not None:
                        clps.append(_clp(earlier, sent, reversal=True, shared=shared))
                elif detail.reversal_of is not None:
                    original = claims.remittance_detail(uow, detail.reversal_of)
                    if original is not None:
                        reversal = _clp(original, _origin_of(original) or sent, reversal=True, shared=shared)
                        clps.append(reversal)
                        key = str(original.claim_id)
                        reversed_here[key] = reversed_here.get(key, 0) - reversal.paid.amount
                clps.append(_clp(detail, sent, shared=shared))
            total = sum(c.paid.amount for c in clps)
            taken_earlier = (
                billing.recovered_before(uow, payment.payment_id, (uuid.UUID(c) for c in reversed_here))
                if reversed_here
                else {}
            )
            adjustments = _recovery_adjustments(
                payment, reversed_here, {str(claim_id): amount for claim_id, amount in taken_earlier.items()}
            )
            rest = total - sum(a.amount.amount for a in adjustments) - payment.amount_minor
            if rest:  # not explained by a recovery (e.g. a payment from before recoveries were recorded)
                adjustments += (ProviderAdjustment("FB", run_id[:50], Money(rest, payment.currency)),)
            remittances.append(
                Remittance(
                    payer=payer,
                    payee=self._payee(uow, payment.payee_id, npi),
                    payment=self._payment(uow, payment, payer_bank),
                    claims=tuple(clps),
                    production_date=advice.run_date,
                    provider_adjustments=adjustments,
                )
            )
        return remittances

    def _payee(self, uow: UnitOfWork, payee_id: uuid.UUID, npi: str) -> PayeeInfo:
        known = providers.provider_by_id(uow, payee_id)
        return PayeeInfo(name=known.name if known else f"PROVIDER {npi}", npi=known.npi if known else npi)

    def _payment(self, uow: UnitOfWork, payment: billing.PayeePayment, payer_bank: tuple[str, str] | None) -> Payment:
        method = METHODS.get(payment.method, "CHK")
        if method == "ACH":
            found = self.payee_banks(uow, payment.payee_id) if self.payee_banks else None
            payee_bank = (
                (found.routing_number, found.account_number, found.account_type)
                if isinstance(found, billing.PayeeBank)
                else ((found[0], found[1], "DA") if found else None)
            )
            if payer_bank is None or payee_bank is None:
                # Without both banks an 835 cannot describe the EFT: it goes out as a cheque advice
                # (BPR04 CHK) with the EFT trace in TRN02, which every reader can post.
                return Payment("CHK", payment.trace_number, payment.paid_on)
            return Payment(
                "ACH",
                payment.trace_number,
                payment.paid_on,
                sender_routing=payer_bank[0],
                sender_account=payer_bank[1],
                receiver_routing=payee_bank[0],
                receiver_account=payee_bank[1],
                receiver_account_type=payee_bank[2],
            )
        return Payment(method, payment.trace_number, payment.paid_on)


#: Olly's relationship → INS02 of a written 834.
INS02_OF = {"SELF": "18", "SPOUSE": "01", "DOMESTIC_PARTNER": "53", "CHILD": "19"}  # others: G8 other relative


#: Enrollment's transaction → (INS03/HD01 maintenance type, INS04 reason) of a change file.
CHANGE_CODES = {
    "NEW": (Maintenance.ADDITION.value, "28"),  # initial enrollment
    "ADD_DEPENDENT": (Maintenance.ADDITION.value, "28"),
    "REMOVE_DEPENDENT": (Maintenance.TERMINATION.value, "07"),  # termination of benefits
    "TERMINATION": (Maintenance.TERMINATION.value, "07"),
    "PLAN_CHANGE": (Maintenance.CHANGE.value, "AI"),  # no reason given
    "REINSTATEMENT": (Maintenance.REINSTATEMENT.value, "41"),  # re-enrollment
    "REINSTATE_DEPENDENT": (Maintenance.REINSTATEMENT.value, "41"),
}


class MembersAdapter:
    """``EnrollmentSource`` over ``enrollment.public.coverage_facts`` and ``policy_admin.public.individual``.

    A full file: everyone covered under an employer partner's group account on the as-of date or
    later, one INS per person (subscriber first, INS03 030), one HD per coverage span (a plan change
    is two). A change file (``since``): one INS per person touched by each enrollment transaction
    recorded from ``since`` to ``as_of``, in the order recorded, with the maintenance type of the
    transaction (``CHANGE_CODES``) and the person's coverage spans as now known."""

    def snapshot(
        self, uow: UnitOfWork, partner: PartnerInfo, as_of: date, since: date | None = None
    ) -> EnrollmentFile | None:
        if partner.group_account_id is None:
            return None
        account = people.account(uow, partner.group_account_id)
        if account is None:
            return None
        settings = uow.session.info["database"].settings
        repo = EnrollmentRepository(uow)
        members: list[EnrollmentMember] = []
        for policy_id in sorted(enrollment_public.policies_of_account(uow, account.account_id)):
            policy = repo.policy(policy_id)
            if policy is None or policy.status not in {"ACTIVE", "TERMINATED"}:
                continue
            facts = enrollment_public.coverage_facts(uow, policy_id)
            if since is None:
                members += [entry.member for entry in self._covered(uow, policy, account.account_number, facts, as_of)]
                continue
            everyone = sorted({f.party_id for f in facts}, key=lambda p: (p != policy.subscriber_party_id, str(p)))
            added: set[uuid.UUID] = set()  # one 021 per person (a NEW names the dependents added with it)
            for transaction in repo.transactions(policy_id):
                recorded = transaction.recorded_at.date()
                codes = CHANGE_CODES.get(transaction.transaction_type)
                if codes is None or not since <= recorded <= as_of:
                    continue
                named = transaction.detail.get("partyId")
                touched = [uuid.UUID(named)] if named else everyone
                for party_id in touched:
                    if codes[0] == Maintenance.ADDITION.value:
                        if party_id in added:
                            continue
                        added.add(party_id)
                    member = self._member(uow, policy, account.account_number, party_id, facts, codes)
                    if member is not None:
                        members.append(member)
        return EnrollmentFile(
            sponsor_name=account.name,
            sponsor_id=account.account_number,
            sponsor_qualifier="94",
            payer_name=settings.edi_payer_name,
            payer_id=settings.edi_payer_tax_id,
            reference=f"{partner.code}-{as_of.strftime('%Y%m%d')}"[:50],
            members=tuple(members),
            as_of=as_of,
            full_file=since is None,
        )

    def roster(self, uow: UnitOfWork, partner: PartnerInfo, on: date) -> list[RosterEntry] | None:
        """The people of ``snapshot(on)`` with their member numbers and party ids (an audit's
        reconciliation compares them with the sponsor's file)."""
        if partner.group_account_id is None:
            return None
        account = people.account(uow, partner.group_account_id)
        if account is None:
            return None
        repo = EnrollmentRepository(uow)
        entries: list[RosterEntry] = []
        for policy_id in sorted(enrollment_public.policies_of_account(uow, account.account_id)):
            policy = repo.policy(policy_id)
            if policy is None or policy.status not in {"ACTIVE", "TERMINATED"}:
                continue
            facts = enrollment_public.coverage_facts(uow, policy_id)
            entries += self._covered(uow, policy, account.account_number, facts, on)
        return entries

    def _covered(
        self,
        uow: UnitOfWork,
        policy: Policy,
        group_number: str,
        facts: Sequence[enrollment_public.CoverageFact],
        on: date,
    ) -> list[RosterEntry]:
        """Everyone of ``policy`` covered on ``on`` or later, subscriber first."""
        current = [f for f in facts if f.valid_to is None or f.valid_to >= on]
        order = sorted({f.party_id for f in current}, key=lambda p: (p != policy.subscriber_party_id, str(p)))
        entries = []
        for party_id in order:
            member = self._member(uow, policy, group_number, party_id, current)
            if member is not None:
                number = next(f.member_number for f in current if f.party_id == party_id)
                entries.append(RosterEntry(member, number, party_id, policy.status == "TERMINATED"))
        return entries

    @staticmethod
    def _member(
        uow: UnitOfWork,
        policy: Policy,
        group_number: str,
        party_id: uuid.UUID,
        facts: Sequence[enrollment_public.CoverageFact],
        codes: tuple[str, str] = (Maintenance.AUDIT.value, "XN"),
    ) -> EnrollmentMember | None:
        spans = sorted((f for f in facts if f.party_id == party_id), key=lambda f: f.valid_from)
        person = people.individual(uow, party_id)
        if person is None or not spans:
            return None
        address = person.address or {}
        subscriber = party_id == policy.subscriber_party_id
        return EnrollmentMember(
            is_subscriber=subscriber,
            relationship_code=INS02_OF.get(spans[0].relationship, "G8"),
            subscriber_id=policy.subscriber_external_id or spans[0].member_number,
            maintenance=codes[0],
            maintenance_reason=codes[1],
            group_policy_number=group_number,
            member_reference=spans[0].member_number,
            member_id=person.ssn,
            member_id_qualifier="34" if person.ssn else None,
            last_name=person.family_name,
            first_name=person.given_name,
            birth_date=person.birth_date,
            gender=person.gender or "U",
            address_lines=tuple(x for x in (address.get("line1"), address.get("line2")) if x),
            city=address.get("city", ""),
            state=address.get("region", ""),
            postal_code=address.get("postal_code", ""),
            employment_status="FT" if policy.status == "ACTIVE" else "TE",
            coverages=tuple(
                MemberCoverage(
                    plan_code=f.plan_code,
                    coverage_level=COVERAGE_LEVELS.get(f.tier_code, "EMP"),
                    begin=f.valid_from,
                    end=f.valid_to,
                    maintenance=codes[0],
                )
                for f in spans
            ),
        )


def build_links(
    plans: enrollment.PlanCatalog,
    benefits: BenefitSource,
    *,
    payer: PayerInfo | None = None,
    payer_bank: tuple[str, str] | None = None,
    payee_banks: BankAccounts | None = None,
) -> Links:
    return Links(
        claims=ClaimIntakeAdapter(),
        status=ClaimStatusAdapter(),
        enrollment=EnrollmentAdapter(plans),
        eligibility=EligibilityAdapter(benefits),
        remittances=RemittanceAdapter(payer, payer_bank=payer_bank, payee_banks=payee_banks or billing_bank_accounts),
        members=MembersAdapter(),
    )


def install(db: Database, links: Links | None = None) -> Links:
    """Make ``links`` (default: the adapters above over the plans catalog and benefits) the gateway's."""
    if links is None:
        from olly.eligibility.plan_benefits import PlanBenefitSource
        from olly.enrollment.plan_catalog import PlansCatalog

        links = build_links(PlansCatalog(), PlanBenefitSource())
    db.session_info["edi_links"] = links
    return links
