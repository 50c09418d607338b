"""The adjudication engine: one claim in, one explained decision out.

Lines are adjudicated in claim order and each line runs the steps of DOMAIN.md in order:
eligibility → provider → codes → edits → prior authorisation → pricing → benefits → cost sharing
(or the sum-insured steps) → balance. The first step that denies a line ends it: the whole charge
becomes one denial adjustment. A pend does not end a line: the remaining steps still run so a
reviewer sees the provisional amounts, and the claim's status tells the caller not to finalise it.

Accumulators move line by line through a working ledger, so a later line sees an earlier line's
deductible, out-of-pocket, limit and sum-insured use. All money is integer minor units inside;
every percentage and proportion is computed exactly and rounded once (``arithmetic``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from olly.claims.rules.accumulators import (
    AccumulatorKey,
    AccumulatorKind,
    AccumulatorLevel,
    AccumulatorMovement,
    AccumulatorSnapshot,
    Ledger,
    NetworkScope,
    plan_year_start,
)
from olly.claims.rules.arithmetic import percent_of, product_of, scale
from olly.claims.rules.inputs import (
    AdjudicatedLine,
    AuthorizationStatus,
    BenefitCategory,
    BenefitSchedule,
    CareSetting,
    ChargeType,
    Claim,
    ClaimFrequency,
    ClaimLine,
    ClaimType,
    CostShare,
    CoverageSnapshot,
    CredentialingStatus,
    FamilyDesign,
    LimitUnit,
    MissingAuthorization,
    NetworkAccumulation,
    NetworkLimits,
    NetworkStatus,
    PlanType,
    PricingSnapshot,
    PriorAuthorization,
    ProviderSnapshot,
    SubLimit,
    SubLimitPer,
    Submitter,
    SumInsuredTerms,
)
from olly.claims.rules.results import (
    Adjustment,
    BenefitLevel,
    ClaimResult,
    ClaimStatus,
    ClaimTotals,
    LineResult,
    LineStatus,
    Outcome,
    PendReason,
    Step,
    TraceStep,
    TraceValue,
)
from olly.claims.rules.reversal import reverse
from olly.codesets.carc import Carc, GroupCode
from olly.codesets.cpt import is_cpt_format
from olly.codesets.hcpcs import hcpcs_code, is_level_ii_format, is_valid_hcpcs_modifier
from olly.codesets.icd10 import is_billable_diagnosis, normalise
from olly.codesets.npi import is_valid_npi
from olly.codesets.place_of_service import is_valid_place_of_service
from olly.codesets.rarc import Rarc
from olly.kernel.errors import BusinessRuleViolation, FieldError, ValidationFailed
from olly.kernel.money import Money
from olly.kernel.periods import add_months, age_on

_CO = GroupCode.CONTRACTUAL
_PR = GroupCode.PATIENT_RESPONSIBILITY
_NO_LIMIT = 1 << 62  # stands for "no out-of-pocket maximum" in min() arithmetic
#: Whether an NPI is well formed with a valid check digit, remembered across claims (a pure function
#: of the number; a payer's claims come from the same few providers).
_valid_npi = functools.lru_cache(maxsize=65_536)(is_valid_npi)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjudicationRequest:
    """Everything one adjudication reads. The caller loads it; the engine only computes."""

    claim: Claim
    coverage: CoverageSnapshot
    schedule: BenefitSchedule
    pricing: PricingSnapshot
    accumulators: AccumulatorSnapshot
    adjudication_date: date
    providers: Mapping[str, ProviderSnapshot]
    """Provider snapshots by NPI (the billing provider's decides network status and contract)."""
    prior_authorizations: tuple[PriorAuthorization, ...] = ()
    history: tuple[AdjudicatedLine, ...] = ()
    """Finalised lines of the member's earlier claims, for duplicate edits."""
    replaces: ClaimResult | None = None
    """For a replacement (7) or void (8): the final result of the claim being replaced or voided."""
    waived: Mapping[int, frozenset[Carc]] = field(default_factory=dict)
    """Per line number, the denials an overturned appeal set aside (``APPEAL_WAIVABLE``): the step
    that would deny the line for one of them passes it instead, and the line is priced and shared
    as any other."""


#: Denials an overturned appeal sets aside on the lines it denied: the claim's own record, not the
#: member's cover or the plan's terms (a duplicate shown to be none, proof of timely filing, an
#: authorisation granted after the service, a condition shown not to be pre-existing).
APPEAL_WAIVABLE: Final = frozenset(
    {Carc.DUPLICATE, Carc.TIMELY_FILING, Carc.AUTHORIZATION_ABSENT, Carc.PRE_EXISTING_CONDITION}
)


_NOTHING_WAIVED: Final[frozenset[Carc]] = frozenset()


class EngineInvariantBroken(AssertionError):
    """A line did not balance: a defect in the engine, never a property of the input."""


def adjudicate(request: AdjudicationRequest) -> ClaimResult:
    """Adjudicate one claim. Raises ``ValidationFailed`` for structurally impossible input."""
    _validate(request)
    claim = request.claim
    currency = request.schedule.currency
    if claim.frequency is ClaimFrequency.VOID:
        return _void(request)
    accumulators = request.accumulators
    history = request.history
    reversal = None
    claim_trace: list[TraceStep] = []
    if claim.frequency is ClaimFrequency.REPLACEMENT:
        replaced = _replaced(request)
        reversal = reverse(replaced)
        accumulators = accumulators.apply(reversal.movements)
        history = tuple(line for line in history if line.claim_id != replaced.claim_id)
        claim_trace.append(
            TraceStep(
                Step.REVERSAL,
                Outcome.APPLIED,
                "The replaced claim's payment and accumulator movements were reversed before adjudication.",
                (("replaced_claim_id", replaced.claim_id),),
                (("paid_reversed", reversal.paid), ("movements_reversed", len(reversal.movements))),
            )
        )
    state = _ClaimState(request, accumulators, history)
    if state.room_trace is not None:
        claim_trace.append(state.room_trace)
    lines = tuple(_adjudicate_line(line, state) for line in claim.lines)
    pend_reasons = _claim_pends(request, lines, claim_trace)
    for line_result in lines:
        for reason in line_result.pend_reasons:
            if line_result.status is LineStatus.PENDED and reason not in pend_reasons:
                pend_reasons.append(reason)
    status = _claim_status(lines, pend_reasons)
    movements = tuple(movement for line_result in lines for movement in line_result.movements)
    return ClaimResult(
        claim_id=claim.claim_id,
        member_id=claim.member_id,
        status=status,
        currency=currency,
        adjudicated_on=request.adjudication_date,
        lines=lines,
        totals=_totals(lines, currency),
        pend_reasons=tuple(pend_reasons),
        trace=tuple(claim_trace),
        reversal=reversal,
        movements=movements,
    )


# -- claim-level ----------------------------------------------------------------------------------


def _validate(request: AdjudicationRequest) -> None:
    claim = request.claim
    schedule = request.schedule
    errors: list[FieldError] = []
    if not claim.lines:
        errors.append(FieldError("claim.lines", "a claim needs at least one line", "required"))
    seen: set[int] = set()
    for index, line in enumerate(claim.lines):
        where = f"claim.lines.{index}"
        if line.line_number < 1 or line.line_number in seen:
            errors.append(FieldError(f"{where}.line_number", "must be positive and unique", "invalid"))
        seen.add(line.line_number)
        if line.units < 1:
            errors.append(FieldError(f"{where}.units", "must be at least 1", "invalid"))
        if line.charge.currency != schedule.currency:
            errors.append(FieldError(f"{where}.charge", "currency differs from the plan's", "currency_mismatch"))
        elif line.charge.amount < 0:
            errors.append(FieldError(f"{where}.charge", "must not be negative", "invalid"))
        if line.service_date_to is not None and line.service_date_to < line.service_date_from:
            errors.append(FieldError(f"{where}.service_date_to", "is before the service start", "invalid"))
        if line.service_date_from > claim.received_on:
            errors.append(FieldError(f"{where}.service_date_from", "is after the claim was received", "invalid"))
    if request.coverage.member_id != claim.member_id:
        errors.append(FieldError("coverage.member_id", "is not the claim's member", "mismatch"))
    is_sum_insured = request.coverage.plan_type is PlanType.SUM_INSURED
    if is_sum_insured != (schedule.sum_insured is not None):
        errors.append(
            FieldError(
                "schedule.sum_insured", "sum-insured terms go with (and only with) a sum-insured plan", "invalid"
            )
        )
    if claim.frequency is not ClaimFrequency.ORIGINAL:
        if request.replaces is None:
            errors.append(FieldError("replaces", "a replacement or void needs the result it replaces", "required"))
        elif claim.original_claim_id != request.replaces.claim_id:
            errors.append(FieldError("claim.original_claim_id", "does not name the replaced result", "mismatch"))
    if errors:
        raise ValidationFailed(errors)


def _replaced(request: AdjudicationRequest) -> ClaimResult:
    replaced = request.replaces
    assert replaced is not None  # _validate guarantees it
    if replaced.member_id != request.claim.member_id:
        raise BusinessRuleViolation("a replacement or void must be for the same member as the claim it replaces")
    return replaced


def _void(request: AdjudicationRequest) -> ClaimResult:
    replaced = _replaced(request)
    reversal = reverse(replaced)
    currency = request.schedule.currency
    zero = Money(0, currency)
    step = TraceStep(
        Step.REVERSAL,
        Outcome.APPLIED,
        "The voided claim's payment and accumulator movements were reversed.",
        (("voided_claim_id", replaced.claim_id),),
        (("paid_reversed", reversal.paid), ("movements_reversed", len(reversal.movements))),
    )
    return ClaimResult(
        claim_id=request.claim.claim_id,
        member_id=request.claim.member_id,
        status=ClaimStatus.VOIDED,
        currency=currency,
        adjudicated_on=request.adjudication_date,
        lines=(),
        totals=ClaimTotals(zero, zero, zero, zero, zero, zero, zero, zero),
        trace=(step,),
        reversal=reversal,
    )


def _claim_pends(
    request: AdjudicationRequest, lines: tuple[LineResult, ...], trace: list[TraceStep]
) -> list[PendReason]:
    claim = request.claim
    schedule = request.schedule
    reasons: list[PendReason] = []
    billed = sum(line.charge.amount for line in claim.lines)
    anything_payable = any(line.status is not LineStatus.DENIED for line in lines)
    threshold = schedule.high_dollar_threshold
    if threshold is not None and anything_payable and billed >= threshold.amount:
        reasons.append(PendReason.HIGH_DOLLAR)
        trace.append(
            TraceStep(
                Step.CLAIM_REVIEW,
                Outcome.PENDED,
                "The claim bills at least the plan's high-dollar review threshold.",
                (("billed", Money(billed, schedule.currency)), ("threshold", threshold)),
            )
        )
    if claim.submitter is Submitter.MEMBER_REIMBURSEMENT and anything_payable:
        auto = schedule.reimbursement_auto_approve_max
        inputs: tuple[tuple[str, TraceValue], ...] = (
            ("billed", Money(billed, schedule.currency)),
            ("auto_approve_max", auto),
        )
        if auto is None or billed > auto.amount:
            reasons.append(PendReason.DOCUMENTS_TO_REVIEW)
            trace.append(
                TraceStep(
                    Step.CLAIM_REVIEW,
                    Outcome.PENDED,
                    "A member reimbursement claim's documents need review before payment: "
                    + (
                        "the plan sets no auto-approval amount."
                        if auto is None
                        else "it bills more than the plan's auto-approval amount."
                    ),
                    inputs,
                )
            )
        else:
            trace.append(
                TraceStep(
                    Step.CLAIM_REVIEW,
                    Outcome.PASSED,
                    "A member reimbursement claim billing at most the plan's auto-approval amount is paid "
                    "without document review.",
                    inputs,
                )
            )
    return reasons


def _claim_status(lines: tuple[LineResult, ...], pend_reasons: list[PendReason]) -> ClaimStatus:
    if pend_reasons:
        return ClaimStatus.PENDED
    statuses = {line.status for line in lines}
    if statuses == {LineStatus.DENIED}:
        return ClaimStatus.DENIED
    if statuses == {LineStatus.APPROVED}:
        return ClaimStatus.APPROVED
    return ClaimStatus.PARTIALLY_APPROVED


def _totals(lines: tuple[LineResult, ...], currency: str) -> ClaimTotals:
    billed = allowed = paid = deductible = coinsurance = copay = patient = contractual = 0
    for line in lines:
        billed += line.billed.amount
        allowed += line.allowed.amount
        paid += line.paid.amount
        deductible += line.deductible.amount
        coinsurance += line.coinsurance.amount
        copay += line.copay.amount
        for adjustment in line.adjustments:
            if adjustment.group is _PR:
                patient += adjustment.amount.amount
            elif adjustment.group is _CO:
                contractual += adjustment.amount.amount
    return ClaimTotals(
        billed=Money(billed, currency),
        allowed=Money(allowed, currency),
        paid=Money(paid, currency),
        deductible=Money(deductible, currency),
        coinsurance=Money(coinsurance, currency),
        copay=Money(copay, currency),
        patient_responsibility=Money(patient, currency),
        contractual=Money(contractual, currency),
    )


class _ClaimState:
    """What lines of one claim share: the ledger, visit copays, authorisation units, the room-rent ratio."""

    __slots__ = (
        "auth_units_used",
        "billable",
        "claim",
        "copay_left",
        "coverage",
        "currency",
        "diagnoses",
        "duplicates",
        "ledger",
        "moneys",
        "plan_years",
        "request",
        "room_ratio",
        "room_trace",
        "schedule",
        "sub_limit_used",
        "visit_decisions",
    )

    def __init__(
        self, request: AdjudicationRequest, accumulators: AccumulatorSnapshot, history: tuple[AdjudicatedLine, ...]
    ):
        self.request = request
        self.claim = request.claim
        self.coverage = request.coverage
        self.schedule = request.schedule
        self.currency = request.schedule.currency
        self.ledger = Ledger(accumulators)
        self.copay_left: dict[tuple[str, date], int] = {}
        self.visit_decisions: dict[tuple[str, date], bool] = {}
        self.auth_units_used: dict[str, int] = {}
        self.sub_limit_used: dict[ChargeType, int] = {}
        self.plan_years: dict[date, date] = {}
        self.moneys: dict[int, Money] = {}
        self.diagnoses = tuple(normalise(code) for code in self.claim.diagnoses)
        self.billable: dict[tuple[str, date], bool] = {}
        self.duplicates: dict[tuple[str, date, str | None, str | None], list[AdjudicatedLine]] = {}
        member = self.claim.member_id
        billing = self.claim.billing_npi
        for previous in history:
            if previous.was_denied or previous.claim_id == self.claim.claim_id:
                continue
            if previous.member_id != member or previous.billing_npi != billing:
                continue
            key = (member, previous.service_date, previous.procedure_code, previous.revenue_code)
            self.duplicates.setdefault(key, []).append(previous)
        self.room_ratio: tuple[ChargeType, int, int] | None = None
        self.room_trace: TraceStep | None = None
        if self.schedule.sum_insured is not None:
            self._room_rent(self.schedule.sum_insured)

    def money(self, amount: int) -> Money:
        """``Money`` in the plan's currency; instances are shared (they are immutable) to save allocations."""
        money = self.moneys.get(amount)
        if money is None:
            money = self.moneys[amount] = Money(amount, self.currency)
        return money

    def is_valid_npi(self, npi: str) -> bool:
        return _valid_npi(npi)

    def is_billable(self, diagnosis: str, service_date: date) -> bool:
        key = (diagnosis, service_date)
        billable = self.billable.get(key)
        if billable is None:
            billable = self.billable[key] = is_billable_diagnosis(diagnosis, service_date)
        return billable

    def plan_year(self, service_date: date) -> date:
        year = self.plan_years.get(service_date)
        if year is None:
            schedule = self.schedule
            year = plan_year_start(service_date, schedule.plan_year_start_month, schedule.plan_year_start_day)
            self.plan_years[service_date] = year
        return year

    def _room_rent(self, terms: SumInsuredTerms) -> None:
        # The proportion is set by the whole stay, so it is computed once before any line is adjudicated.
        for sub_limit in terms.sub_limits:
            if not sub_limit.proportional_deduction or sub_limit.per is not SubLimitPer.DAY:
                continue
            rooms = [line for line in self.claim.lines if line.charge_type is sub_limit.charge_type]
            if not rooms:
                continue
            per_day = _sub_limit_base(sub_limit, terms, self.schedule)
            days = sum(line.units for line in rooms)
            billed = sum(line.charge.amount for line in rooms)
            eligible = per_day * days
            if billed > eligible:
                self.room_ratio = (sub_limit.charge_type, eligible, billed)
            self.room_trace = TraceStep(
                Step.BENEFITS,
                Outcome.APPLIED if billed > eligible else Outcome.PASSED,
                "Room charges compared with the room sub-limit; above it, associated charges are cut in proportion."
                if billed > eligible
                else "Room charges are within the room sub-limit; no proportional deduction.",
                (
                    ("room_billed", Money(billed, self.currency)),
                    ("days", days),
                    ("limit_per_day", Money(per_day, self.currency)),
                ),
                (("room_eligible", Money(eligible, self.currency)), ("proportion_applied", billed > eligible)),
            )
            return


def _sub_limit_base(sub_limit: SubLimit, terms: SumInsuredTerms, schedule: BenefitSchedule) -> int:
    """The sub-limit per day or per claim in minor units."""
    if sub_limit.percent_of_sum_insured is not None:
        return percent_of(terms.sum_insured.amount, sub_limit.percent_of_sum_insured, schedule.rounding)
    if sub_limit.amount is not None:
        return sub_limit.amount.amount
    raise ValueError("a sub-limit needs a percentage of the sum insured or an amount")


# -- one line -------------------------------------------------------------------------------------


class _Line:
    """Working state of one line while its steps run."""

    __slots__ = (
        "allowed",
        "billed",
        "category",
        "coinsurance",
        "copay",
        "cost_share",
        "deductible",
        "denial",
        "diagnoses",
        "level",
        "line",
        "movements",
        "network",
        "pends",
        "place_of_service",
        "pricing_excess",
        "pricing_group",
        "prior_auth_id",
        "reductions",
        "shortfall",
        "tier",
        "trace",
        "waived",
    )

    def __init__(self, line: ClaimLine, waived: frozenset[Carc] = _NOTHING_WAIVED) -> None:
        self.line = line
        self.waived = waived
        self.billed = line.charge.amount
        self.allowed = 0
        self.trace: list[TraceStep] = []
        self.pends: list[PendReason] = []
        self.denial: tuple[GroupCode, Carc, tuple[Rarc, ...]] | None = None
        self.movements: list[AccumulatorMovement] = []
        self.network = NetworkStatus.OUT_OF_NETWORK
        self.level = BenefitLevel.OUT_OF_NETWORK
        self.tier: str | None = None
        self.pricing_excess = 0
        self.pricing_group = _CO
        self.reductions: list[tuple[GroupCode, Carc, int, tuple[Rarc, ...]]] = []
        self.copay = self.deductible = self.coinsurance = self.shortfall = 0
        self.category: BenefitCategory | None = None
        self.cost_share: CostShare | None = None
        self.prior_auth_id: str | None = None
        self.place_of_service: str | None = None
        self.diagnoses: tuple[str, ...] = ()

    def deny(
        self,
        step: Step,
        group: GroupCode,
        carc: Carc,
        note: str,
        inputs: tuple[tuple[str, TraceValue], ...] = (),
        rarcs: tuple[Rarc, ...] = (),
    ) -> bool:
        """Deny the line (the remaining steps do not run): False. A denial an overturned appeal set
        aside is recorded as waived and the line goes on: True."""
        if carc in self.waived:
            self.trace.append(
                TraceStep(
                    step, Outcome.PASSED, f"{note} Set aside on appeal.", inputs, (("waived", f"{group}-{carc}"),)
                )
            )
            return True
        self.denial = (group, carc, rarcs)
        self.trace.append(TraceStep(step, Outcome.DENIED, note, inputs, (("adjustment", f"{group}-{carc}"),)))
        return False

    def pend(self, step: Step, reason: PendReason, note: str, inputs: tuple[tuple[str, TraceValue], ...] = ()) -> None:
        self.pends.append(reason)
        self.trace.append(TraceStep(step, Outcome.PENDED, note, inputs, (("pend_reason", reason),)))


def _adjudicate_line(line: ClaimLine, state: _ClaimState) -> LineResult:
    waived = state.request.waived
    work = _Line(line, waived.get(line.line_number, _NOTHING_WAIVED) if waived else _NOTHING_WAIVED)
    for step in _SUM_INSURED_STEPS if state.schedule.sum_insured is not None else _US_STEPS:
        if not step(work, state):
            break  # denied: the remaining steps do not run
    return _balance(work, state)


def _eligibility(work: _Line, state: _ClaimState) -> bool:
    service_date = work.line.service_date_from
    periods = state.coverage.periods
    for period in periods:
        if period.contains(service_date):
            work.trace.append(
                TraceStep(
                    Step.ELIGIBILITY,
                    Outcome.PASSED,
                    "The member was covered on the date of service.",
                    (("service_date", service_date),),
                    (("coverage_start", period.start), ("coverage_end", period.end)),
                )
            )
            return True
    inputs: tuple[tuple[str, TraceValue], ...] = (("service_date", service_date),)
    if not periods:
        return work.deny(Step.ELIGIBILITY, _CO, Carc.NOT_OUR_MEMBER, "The member has no coverage period.", inputs)
    if service_date < min(period.start for period in periods):
        return work.deny(Step.ELIGIBILITY, _CO, Carc.BEFORE_COVERAGE, "The service was before coverage began.", inputs)
    return work.deny(Step.ELIGIBILITY, _CO, Carc.AFTER_COVERAGE, "The service was after coverage ended.", inputs)


def _provider(work: _Line, state: _ClaimState) -> bool:
    claim = state.claim
    billing = claim.billing_npi
    if not state.is_valid_npi(billing):
        return work.deny(
            Step.PROVIDER,
            _CO,
            Carc.MISSING_OR_INVALID_INFORMATION,
            "The billing provider's NPI fails the NPI check digit.",
            rarcs=(Rarc.INVALID_BILLING_PROVIDER_ID,),
        )
    rendering = work.line.rendering_npi or claim.rendering_npi
    if rendering is not None and not state.is_valid_npi(rendering):
        return work.deny(
            Step.PROVIDER,
            _CO,
            Carc.MISSING_OR_INVALID_INFORMATION,
            "The rendering provider's NPI fails the NPI check digit.",
            rarcs=(Rarc.INVALID_RENDERING_PROVIDER_ID,),
        )
    provider = state.request.providers.get(billing)
    credentialing: CredentialingStatus | None
    if provider is None:
        network = NetworkStatus.OUT_OF_NETWORK
        note = "The billing provider is not known to the plan: out of network."
        credentialing = None
    elif provider.credentialing is CredentialingStatus.SUSPENDED:
        return work.deny(
            Step.PROVIDER,
            _CO,
            Carc.PROVIDER_NOT_ELIGIBLE,
            "The billing provider's credentialing is suspended.",
            (("billing_npi", billing), ("credentialing", provider.credentialing)),
        )
    elif provider.credentialing is not CredentialingStatus.APPROVED:
        network = NetworkStatus.OUT_OF_NETWORK
        note = "The billing provider's credentialing is not current: treated as out of network."
        credentialing = provider.credentialing
    else:
        network = provider.network_status
        work.tier = provider.tier
        note = "The billing provider is credentialed; network status from the provider directory."
        credentialing = provider.credentialing
    work.network = network
    plan_type = state.coverage.plan_type
    if network is NetworkStatus.IN_NETWORK:
        work.level = BenefitLevel.IN_NETWORK
    elif plan_type is not PlanType.SUM_INSURED and (
        claim.is_emergency or (claim.is_ancillary and claim.facility_in_network)
    ):
        # No Surprises Act: emergency care, or ancillary care at an in-network facility, gets
        # in-network cost sharing and may not be balance billed.
        work.level = BenefitLevel.NO_SURPRISES
        note += " No Surprises Act protection applies."
    elif plan_type.requires_network:
        return work.deny(
            Step.PROVIDER,
            _CO,
            Carc.OUT_OF_NETWORK,
            f"An {plan_type} plan does not pay out-of-network care outside an emergency.",
            (("billing_npi", billing), ("plan_type", plan_type)),
        )
    else:
        work.level = BenefitLevel.OUT_OF_NETWORK
    work.trace.append(
        TraceStep(
            Step.PROVIDER,
            Outcome.PASSED,
            note,
            (("billing_npi", billing), ("rendering_npi", rendering), ("credentialing", credentialing)),
            (("network", network), ("benefit_level", work.level), ("tier", work.tier)),
        )
    )
    return True


def _codes(work: _Line, state: _ClaimState) -> bool:
    line = work.line
    claim = state.claim
    service_date = line.service_date_from
    diagnoses: list[str] = []
    for pointer in line.diagnosis_pointers or (1,):
        if 1 <= pointer <= len(state.diagnoses):
            diagnoses.append(state.diagnoses[pointer - 1])
        else:
            return work.deny(
                Step.CODES,
                _CO,
                Carc.MISSING_OR_INVALID_INFORMATION,
                "A diagnosis pointer names no diagnosis on the claim.",
                (("pointer", pointer),),
                (Rarc.INVALID_DIAGNOSIS,),
            )
    for diagnosis in diagnoses:
        if not state.is_billable(diagnosis, service_date):
            return work.deny(
                Step.CODES,
                _CO,
                Carc.MISSING_OR_INVALID_INFORMATION,
                "A diagnosis is not a billable ICD-10-CM code on the date of service.",
                (("diagnosis", diagnosis), ("service_date", service_date)),
                (Rarc.INVALID_DIAGNOSIS,),
            )
    work.diagnoses = tuple(diagnoses)
    code = line.procedure_code
    is_bill_item = line.charge_type is not None and code is None
    if code is not None:
        if is_level_ii_format(code):
            entry = hcpcs_code(code)
            if entry is None:
                return work.deny(
                    Step.CODES,
                    _CO,
                    Carc.MISSING_OR_INVALID_INFORMATION,
                    "The procedure code is not in the HCPCS Level II code set.",
                    (("procedure_code", code),),
                    (Rarc.INVALID_PROCEDURE_CODE,),
                )
            if entry.added_on is not None and entry.added_on > service_date:
                return work.deny(
                    Step.CODES,
                    _CO,
                    Carc.PROCEDURE_INVALID_ON_DATE,
                    "The HCPCS code was not yet valid on the date of service.",
                    (("procedure_code", code), ("valid_from", entry.added_on)),
                )
        elif not is_cpt_format(code):
            return work.deny(
                Step.CODES,
                _CO,
                Carc.MISSING_OR_INVALID_INFORMATION,
                "The procedure code is neither CPT-shaped nor HCPCS Level II.",
                (("procedure_code", code),),
                (Rarc.INVALID_PROCEDURE_CODE,),
            )
    elif claim.claim_type is ClaimType.PROFESSIONAL and not is_bill_item:
        return work.deny(
            Step.CODES,
            _CO,
            Carc.MISSING_OR_INVALID_INFORMATION,
            "A professional line needs a procedure code.",
            rarcs=(Rarc.INVALID_PROCEDURE_CODE,),
        )
    if claim.claim_type is ClaimType.INSTITUTIONAL and not is_bill_item:
        revenue = line.revenue_code
        if revenue is None or len(revenue) != 4 or not revenue.isdigit():
            return work.deny(
                Step.CODES,
                _CO,
                Carc.MISSING_OR_INVALID_INFORMATION,
                "An institutional line needs a four-digit revenue code.",
                (("revenue_code", revenue),),
                (Rarc.INVALID_REVENUE_CODE,),
            )
    for modifier in line.modifiers:
        if not (len(modifier) == 2 and (modifier.isdigit() or is_valid_hcpcs_modifier(modifier))):
            return work.deny(
                Step.CODES,
                _CO,
                Carc.MODIFIER_INCONSISTENT,
                "A modifier is neither a two-digit CPT modifier nor a HCPCS modifier.",
                (("modifier", modifier),),
            )
    place = line.place_of_service or claim.place_of_service
    work.place_of_service = place
    needs_place = claim.claim_type is ClaimType.PROFESSIONAL and not is_bill_item
    if (place is None and needs_place) or (place is not None and not is_valid_place_of_service(place)):
        return work.deny(
            Step.CODES,
            _CO,
            Carc.MISSING_OR_INVALID_INFORMATION,
            "The place of service is missing or not an assigned code.",
            (("place_of_service", place),),
            (Rarc.INVALID_PLACE_OF_SERVICE,),
        )
    work.trace.append(
        TraceStep(
            Step.CODES,
            Outcome.PASSED,
            "Diagnosis, procedure, modifiers and place of service are valid.",
            (
                ("diagnoses", " ".join(work.diagnoses)),
                ("procedure_code", code),
                ("modifiers", " ".join(line.modifiers)),
                ("revenue_code", line.revenue_code),
                ("place_of_service", place),
            ),
        )
    )
    return True


def _edits(work: _Line, state: _ClaimState) -> bool:
    line = work.line
    claim = state.claim
    key = (claim.member_id, line.service_date_from, line.procedure_code, line.revenue_code)
    previous = state.duplicates.get(key)
    if previous:
        modifiers = sorted(line.modifiers)
        same_service = [p for p in previous if sorted(p.modifiers) == modifiers]
        for earlier in same_service:
            if earlier.units == line.units and earlier.charge == line.charge:
                return work.deny(
                    Step.EDITS,
                    _CO,
                    Carc.DUPLICATE,
                    "The same service was already adjudicated on an earlier claim.",
                    (("earlier_claim_id", earlier.claim_id), ("earlier_line", earlier.line_number)),
                )
        if same_service:
            work.pend(
                Step.EDITS,
                PendReason.SUSPECTED_DUPLICATE,
                "An earlier claim has the same service on the same day with other units or charge.",
                (("earlier_claim_id", same_service[0].claim_id), ("earlier_line", same_service[0].line_number)),
            )
    days = (claim.received_on - line.last_service_date).days
    limit = state.schedule.timely_filing_days
    if days > limit:
        return work.deny(
            Step.EDITS,
            _CO,
            Carc.TIMELY_FILING,
            "The claim was received after the plan's filing limit.",
            (("days_after_service", days), ("filing_limit_days", limit)),
        )
    code = line.procedure_code
    maximum = state.schedule.medically_unlikely_edits.get(code) if code is not None else None
    if maximum is not None and line.units > maximum:
        return work.deny(
            Step.EDITS,
            _CO,
            Carc.UNITS_NOT_SUPPORTED,
            "The line bills more units than the medically unlikely edit allows.",
            (("units", line.units), ("maximum_units", maximum)),
            (Rarc.UNITS_ABOVE_MAXIMUM,),
        )
    work.trace.append(
        TraceStep(
            Step.EDITS,
            Outcome.PASSED,
            "No exact duplicate; filed in time; units within the edit.",
            (("days_after_service", days), ("filing_limit_days", limit), ("units", line.units)),
            (("maximum_units", maximum),),
        )
    )
    return True


def _prior_authorization(work: _Line, state: _ClaimState) -> bool:
    line = work.line
    code = line.procedure_code
    schedule = state.schedule
    if code is None or code not in schedule.prior_auth_codes:
        work.trace.append(
            TraceStep(
                Step.PRIOR_AUTHORIZATION, Outcome.PASSED, "The plan does not require authorisation for this code."
            )
        )
        return True
    claim = state.claim
    start, end = line.service_date_from, line.last_service_date
    candidates = [
        auth
        for auth in state.request.prior_authorizations
        if auth.member_id == claim.member_id and code in auth.procedure_codes
    ]
    usable: list[PriorAuthorization] = []
    for auth in candidates:
        if not auth.status.is_approved or not (auth.period.contains(start) and auth.period.contains(end)):
            continue
        if auth.units_approved is not None:
            left = auth.units_approved - auth.units_used - state.auth_units_used.get(auth.auth_id, 0)
            if left < line.units:
                continue
        usable.append(auth)
    if usable:
        usable.sort(key=lambda auth: auth.reference != claim.prior_auth_reference)
        chosen = usable[0]
        state.auth_units_used[chosen.auth_id] = state.auth_units_used.get(chosen.auth_id, 0) + line.units
        work.prior_auth_id = chosen.auth_id
        work.trace.append(
            TraceStep(
                Step.PRIOR_AUTHORIZATION,
                Outcome.APPLIED,
                "An approved authorisation covers the code, dates and units.",
                (("procedure_code", code), ("units", line.units)),
                (("prior_auth_id", chosen.auth_id),),
            )
        )
        return True
    inputs: tuple[tuple[str, TraceValue], ...] = (
        ("procedure_code", code),
        ("units", line.units),
        ("reference", claim.prior_auth_reference),
    )
    if any(auth.status is AuthorizationStatus.PENDING and auth.period.contains(start) for auth in candidates):
        work.pend(
            Step.PRIOR_AUTHORIZATION,
            PendReason.PRIOR_AUTH_PENDING,
            "An authorisation request for this service awaits its decision.",
            inputs,
        )
        return True
    mismatch = any(auth.status.is_approved for auth in candidates)
    # A denied request for the service is a decision, not a missing authorisation: never pended.
    refused = any(auth.status is AuthorizationStatus.DENIED and auth.period.contains(start) for auth in candidates)
    if schedule.missing_authorization is MissingAuthorization.PEND and not refused:
        work.pend(
            Step.PRIOR_AUTHORIZATION,
            PendReason.PRIOR_AUTH_REQUIRED,
            "The service needs authorisation and none on file covers it; the plan pends such lines.",
            inputs,
        )
        return True
    return work.deny(
        Step.PRIOR_AUTHORIZATION,
        _CO,
        Carc.AUTHORIZATION_ABSENT,
        "The service needs authorisation and none on file covers its code, dates and units.",
        inputs,
        (Rarc.NOT_AS_AUTHORIZED,) if mismatch else (),
    )


def _pricing(work: _Line, state: _ClaimState) -> bool:
    line = work.line
    pricing: PricingSnapshot = state.request.pricing
    rounding = state.schedule.rounding
    code = line.procedure_code or line.revenue_code or (line.charge_type.value if line.charge_type else "")
    keys: list[tuple[str, str | None]] = [(code, modifier) for modifier in line.modifiers]
    keys.append((code, None))
    billed = work.billed
    amount: int | None = None
    method = ""
    rate: TraceValue = None
    if work.level is BenefitLevel.IN_NETWORK:
        contract = pricing.contract
        if contract is not None:
            for key in keys:
                fee = contract.fee_schedule.get(key)
                if fee is not None:
                    amount, method, rate = fee.amount * line.units, "fee_schedule", fee
                    break
            if amount is None and contract.conversion_factor_minor is not None:
                for key in keys:
                    rvu = contract.base_schedule_units.get(key)
                    if rvu is not None:
                        per_unit = product_of(
                            (rvu, contract.conversion_factor_minor, contract.base_schedule_percent / 100), rounding
                        )
                        amount, method, rate = per_unit * line.units, "percent_of_base_schedule", rvu
                        break
            if amount is None and contract.percent_of_billed is not None:
                amount = percent_of(billed, contract.percent_of_billed, rounding)
                method, rate = "percent_of_billed", contract.percent_of_billed
        missing = PendReason.NO_CONTRACT_RATE
    else:
        out = pricing.out_of_network
        for key in keys:
            fee = out.maximum_allowable.get(key)
            if fee is not None:
                amount, method, rate = fee.amount * line.units, "maximum_allowable", fee
                break
        if amount is None and out.percent_of_billed is not None:
            amount = percent_of(billed, out.percent_of_billed, rounding)
            method, rate = "percent_of_billed", out.percent_of_billed
        missing = PendReason.NO_OUT_OF_NETWORK_RATE
    if amount is None:
        work.pend(
            Step.PRICING,
            missing,
            "No rate prices this code; the billed amount stands provisionally as allowed.",
            (("code", code), ("billed", line.charge)),
        )
        amount, method = billed, "provisional_billed"
    allowed = min(billed, amount)
    work.allowed = allowed
    work.pricing_excess = billed - allowed
    if work.level is BenefitLevel.OUT_OF_NETWORK:
        # Out of network the member may be billed the difference; the No Surprises Act forbids it.
        work.pricing_group = _PR
    work.trace.append(
        TraceStep(
            Step.PRICING,
            Outcome.APPLIED,
            "Allowed amount is the lower of billed and the rate.",
            (("method", method), ("rate", rate), ("units", line.units), ("billed", line.charge)),
            (
                ("rate_amount", state.money(amount)),
                ("allowed", state.money(allowed)),
                ("above_allowed", state.money(work.pricing_excess)),
                ("above_allowed_group", work.pricing_group),
            ),
        )
    )
    if work.pricing_excess and work.level is not BenefitLevel.IN_NETWORK:
        balance_billed = work.pricing_group is _PR
        work.trace.append(
            TraceStep(
                Step.PRICING,
                Outcome.APPLIED,
                "Out of network the plan recognises at most its maximum allowable amount; the provider may "
                "bill the member the charge above it (balance billing, PR-45), which counts toward no "
                "deductible or out-of-pocket maximum."
                if balance_billed
                else "The No Surprises Act applies: the provider may not bill the member the charge above "
                "the allowed amount (CO-45).",
                (("billed", line.charge), ("allowed", state.money(allowed))),
                (("balance_bill", state.money(work.pricing_excess if balance_billed else 0)),),
            )
        )
    return True


def _category(line: ClaimLine, work: _Line, state: _ClaimState) -> str:
    for rule in state.schedule.category_rules:
        if rule.matches(line, work.place_of_service, state.claim):
            return rule.category
    return state.schedule.default_category


def _benefits(work: _Line, state: _ClaimState) -> bool:
    line = work.line
    schedule = state.schedule
    terms_si = schedule.sum_insured
    group = _PR if terms_si is not None else _CO
    code = _category(line, work, state)
    category = schedule.categories.get(code)
    in_network_terms = work.level is not BenefitLevel.OUT_OF_NETWORK
    if category is None:
        return work.deny(
            Step.BENEFITS,
            group,
            Carc.NON_COVERED,
            "The line maps to no benefit category of the plan.",
            (("category", code),),
        )
    work.category = category
    if in_network_terms:
        cost_share = category.tier_cost_shares.get(work.tier) if work.tier is not None else None
        cost_share = cost_share or category.in_network
    else:
        cost_share = category.out_of_network
    inputs: tuple[tuple[str, TraceValue], ...] = (("category", code), ("benefit_level", work.level))
    if not category.covered or cost_share is None:
        return work.deny(
            Step.BENEFITS,
            group,
            Carc.NON_COVERED,
            "The plan does not cover this benefit category at this network level.",
            inputs,
            (Rarc.SEE_PLAN_BENEFITS,),
        )
    work.cost_share = cost_share
    if terms_si is not None and not _sum_insured_cover(work, state, terms_si, group):
        return False
    if category.limit is not None and not _benefit_limit(work, state, category, group):
        return False
    if terms_si is not None:
        _sub_limits(work, state, terms_si)
    work.trace.append(
        TraceStep(
            Step.BENEFITS,
            Outcome.APPLIED if work.reductions else Outcome.PASSED,
            "Covered benefit category"
            + (" (preventive)." if category.is_preventive else ".")
            + (" Reduced by a limit." if work.reductions else ""),
            inputs,
            (("allowed_after_limits", state.money(work.allowed)),),
        )
    )
    return True


def _sum_insured_cover(work: _Line, state: _ClaimState, terms: SumInsuredTerms, group: GroupCode) -> bool:
    claim = state.claim
    service_date = work.line.service_date_from
    setting = claim.care_setting
    if setting is CareSetting.OPD and not terms.opd_covered:
        return work.deny(Step.BENEFITS, group, Carc.NON_COVERED, "The policy does not cover out-patient care.")
    if setting is CareSetting.IPD:
        if not terms.ipd_covered:
            return work.deny(Step.BENEFITS, group, Carc.NON_COVERED, "The policy does not cover in-patient care.")
        hours = claim.inpatient_hours
        if hours is not None and hours < 24 and not claim.is_day_care:
            return work.deny(
                Step.BENEFITS,
                group,
                Carc.NON_COVERED,
                "In-patient cover needs 24 hours in hospital unless the procedure is a listed day-care procedure.",
                (("inpatient_hours", hours),),
            )
    start = state.coverage.coverage_start
    accident = claim.is_accident
    initial_end = start + timedelta(days=terms.initial_waiting_days)
    if service_date < initial_end and not accident:
        return work.deny(
            Step.BENEFITS,
            group,
            Carc.NOT_COVERED_BY_BENEFIT_PLAN,
            "The service falls in the initial waiting period (accidents are exempt).",
            (("covered_since", start), ("waiting_ends", initial_end), ("service_date", service_date)),
        )
    named_end = add_months(start, terms.named_illness_waiting_months)
    if service_date < named_end and _matches_any(work.diagnoses, terms.named_illness_diagnoses):
        return work.deny(
            Step.BENEFITS,
            group,
            Carc.NOT_COVERED_BY_BENEFIT_PLAN,
            "The diagnosis is a named illness still within its waiting period.",
            (("covered_since", start), ("waiting_ends", named_end)),
        )
    months = state.coverage.pre_existing_waiting_months
    pre_existing_end = add_months(start, terms.pre_existing_waiting_months if months is None else months)
    if service_date < pre_existing_end and _matches_any(work.diagnoses, state.coverage.pre_existing_diagnoses):
        return work.deny(
            Step.BENEFITS,
            group,
            Carc.PRE_EXISTING_CONDITION,
            "The diagnosis is a declared pre-existing condition still within its waiting period.",
            (("covered_since", start), ("waiting_ends", pre_existing_end)),
        )
    return True


def _matches_any(diagnoses: tuple[str, ...], prefixes: tuple[str, ...]) -> bool:
    if not prefixes:
        return False
    cleaned = [normalise(prefix) for prefix in prefixes]
    return any(code.startswith(prefix) for code in diagnoses for prefix in cleaned)


def _benefit_limit(work: _Line, state: _ClaimState, category: BenefitCategory, group: GroupCode) -> bool:
    limit = category.limit
    assert limit is not None
    line = work.line
    member = state.claim.member_id
    service_date = line.service_date_from
    kind = {
        LimitUnit.VISITS: AccumulatorKind.BENEFIT_VISITS,
        LimitUnit.UNITS: AccumulatorKind.BENEFIT_UNITS,
        LimitUnit.AMOUNT: AccumulatorKind.BENEFIT_AMOUNT,
    }[limit.unit]
    key = AccumulatorKey(
        kind, AccumulatorLevel.MEMBER, member, state.plan_year(service_date), NetworkScope.ANY, category.code
    )
    used = state.ledger.get(key)
    remaining = max(0, limit.maximum - used)
    inputs: tuple[tuple[str, TraceValue], ...] = (
        ("limit_unit", limit.unit),
        ("maximum", limit.maximum),
        ("used_before", used),
    )
    if limit.unit is LimitUnit.VISITS:
        visit = (category.code, service_date)
        decided = state.visit_decisions.get(visit)
        if decided is None:
            decided = remaining >= 1
            state.visit_decisions[visit] = decided
            if decided:
                state.ledger.move(key, 1, work.movements)
        if not decided:
            return work.deny(
                Step.BENEFITS, group, Carc.BENEFIT_MAXIMUM_REACHED, "The plan-year visit limit is reached.", inputs
            )
        return True
    if remaining == 0:
        return work.deny(Step.BENEFITS, group, Carc.BENEFIT_MAXIMUM_REACHED, "The plan-year limit is reached.", inputs)
    if limit.unit is LimitUnit.UNITS:
        units = line.units
        if units > remaining:
            # Only the units left are allowed: the allowed amount is pro-rated to them.
            kept = scale(work.allowed, remaining, units, state.schedule.rounding)
            work.reductions.append((group, Carc.BENEFIT_MAXIMUM_REACHED, work.allowed - kept, ()))
            work.allowed = kept
            units = remaining
        state.ledger.move(key, units, work.movements)
        return True
    if work.allowed > remaining:
        work.reductions.append((group, Carc.BENEFIT_MAXIMUM_REACHED, work.allowed - remaining, ()))
        work.allowed = remaining
    state.ledger.move(key, work.allowed, work.movements)
    return True


def _sub_limits(work: _Line, state: _ClaimState, terms: SumInsuredTerms) -> None:
    line = work.line
    rounding = state.schedule.rounding
    charge_type = line.charge_type
    if charge_type is None:
        return
    for sub_limit in terms.sub_limits:
        if sub_limit.charge_type is not charge_type:
            continue
        base = _sub_limit_base(sub_limit, terms, state.schedule)
        if sub_limit.per is SubLimitPer.DAY:
            cap = base * line.units
        else:
            cap = max(0, base - state.sub_limit_used.get(charge_type, 0))
        if work.allowed > cap:
            work.reductions.append((_PR, Carc.BENEFIT_MAXIMUM_REACHED, work.allowed - cap, ()))
            work.trace.append(
                TraceStep(
                    Step.BENEFITS,
                    Outcome.APPLIED,
                    "The charge is above its sub-limit; the excess is not payable.",
                    (
                        ("charge_type", charge_type),
                        ("per", sub_limit.per),
                        ("sub_limit", state.money(cap)),
                    ),
                    (("reduction", state.money(work.allowed - cap)),),
                )
            )
            work.allowed = cap
        if sub_limit.per is SubLimitPer.CLAIM:
            state.sub_limit_used[charge_type] = state.sub_limit_used.get(charge_type, 0) + work.allowed
    ratio = state.room_ratio
    if (
        ratio is not None
        and charge_type is not ratio[0]  # the room line was already cut to its own sub-limit
        and charge_type in terms.proportional_deduction_charge_types
        and work.allowed
    ):
        _, eligible, billed = ratio
        kept = scale(work.allowed, eligible, billed, rounding)
        work.reductions.append((_PR, Carc.BENEFIT_MAXIMUM_REACHED, work.allowed - kept, ()))
        work.trace.append(
            TraceStep(
                Step.BENEFITS,
                Outcome.APPLIED,
                "An associated charge is cut in the proportion of eligible to billed room rent.",
                (
                    ("charge_type", charge_type),
                    ("room_eligible", state.money(eligible)),
                    ("room_billed", state.money(billed)),
                ),
                (("before", state.money(work.allowed)), ("after", state.money(kept))),
            )
        )
        work.allowed = kept


def _scope(work: _Line, schedule: BenefitSchedule) -> tuple[NetworkScope, NetworkLimits]:
    if schedule.network_accumulation is NetworkAccumulation.COMBINED:
        return NetworkScope.COMBINED, schedule.in_network
    if work.level is BenefitLevel.OUT_OF_NETWORK:
        return NetworkScope.OUT_OF_NETWORK, schedule.out_of_network
    return NetworkScope.IN_NETWORK, schedule.in_network


def _cost_sharing(work: _Line, state: _ClaimState) -> bool:
    category = work.category
    cost_share = work.cost_share
    assert category is not None
    assert cost_share is not None
    allowed = work.allowed
    if category.is_preventive and work.level is not BenefitLevel.OUT_OF_NETWORK:
        work.trace.append(
            TraceStep(
                Step.COST_SHARING,
                Outcome.APPLIED,
                "In-network preventive care: the member pays nothing.",
                (("allowed", state.money(allowed)),),
                (("member_share", state.money(0)),),
            )
        )
        return True
    schedule = state.schedule
    claim = state.claim
    line = work.line
    service_date = line.service_date_from
    year = state.plan_year(service_date)
    scope, limits = _scope(work, schedule)
    member = claim.member_id
    family = state.coverage.family_id
    ledger = state.ledger

    def key(kind: AccumulatorKind, level: AccumulatorLevel) -> AccumulatorKey:
        holder = member if level is AccumulatorLevel.MEMBER else family
        assert holder is not None
        return AccumulatorKey(kind, level, holder, year, scope)

    ded_member = key(AccumulatorKind.DEDUCTIBLE, AccumulatorLevel.MEMBER)
    oop_member = key(AccumulatorKind.OUT_OF_POCKET, AccumulatorLevel.MEMBER)
    ded_family = key(AccumulatorKind.DEDUCTIBLE, AccumulatorLevel.FAMILY) if family else None
    oop_family = key(AccumulatorKind.OUT_OF_POCKET, AccumulatorLevel.FAMILY) if family else None

    deductible_left = _deductible_left(limits, schedule.family_design, ledger, ded_member, ded_family)
    oop_left = _oop_left(limits, ledger, oop_member, oop_family)
    rest = allowed
    visit = (category.code, service_date)
    copay_left = state.copay_left.get(visit, cost_share.copay.amount)
    copay = min(copay_left, rest, oop_left)
    state.copay_left[visit] = copay_left - copay
    rest -= copay
    oop_left -= copay
    deductible = 0
    if cost_share.deductible_applies:
        deductible = min(rest, deductible_left, oop_left)
        rest -= deductible
        oop_left -= deductible
    coinsurance = min(percent_of(rest, cost_share.coinsurance_percent, schedule.rounding), oop_left)
    work.copay, work.deductible, work.coinsurance = copay, deductible, coinsurance
    share = copay + deductible + coinsurance
    movements = work.movements
    ledger.move(ded_member, deductible, movements)
    if ded_family is not None:
        ledger.move(ded_family, deductible, movements)
    ledger.move(oop_member, share, movements)
    if oop_family is not None:
        ledger.move(oop_family, share, movements)
    work.trace.append(
        TraceStep(
            Step.COST_SHARING,
            Outcome.APPLIED,
            "Copay, then deductible, then coinsurance, capped by the out-of-pocket maximum.",
            (
                ("allowed", state.money(allowed)),
                ("accumulators", scope),
                ("copay_due", state.money(copay_left)),
                ("deductible_remaining", state.money(deductible_left)),
                ("deductible_applies", cost_share.deductible_applies),
                ("coinsurance_percent", cost_share.coinsurance_percent),
                (
                    "out_of_pocket_remaining",
                    None if oop_left + share >= _NO_LIMIT else state.money(oop_left + share),
                ),
            ),
            (
                ("copay", state.money(copay)),
                ("deductible", state.money(deductible)),
                ("coinsurance", state.money(coinsurance)),
                ("paid", state.money(allowed - share)),
            ),
        )
    )
    return True


def _deductible_left(
    limits: NetworkLimits,
    design: FamilyDesign,
    ledger: Ledger,
    member_key: AccumulatorKey,
    family_key: AccumulatorKey | None,
) -> int:
    individual = limits.deductible_individual
    family = limits.deductible_family
    individual_left = None if individual is None else max(0, individual.amount - ledger.get(member_key))
    family_left = None
    if family is not None and family_key is not None:
        family_left = max(0, family.amount - ledger.get(family_key))
    if family_left is None:
        return individual_left or 0
    if design is FamilyDesign.AGGREGATE or individual_left is None:
        return family_left
    # Embedded: met when the member's own amount or the family's is met.
    return min(individual_left, family_left)


def _oop_left(
    limits: NetworkLimits, ledger: Ledger, member_key: AccumulatorKey, family_key: AccumulatorKey | None
) -> int:
    # The individual maximum always binds inside a family (ACA: never above the self-only limit).
    left = _NO_LIMIT
    if limits.out_of_pocket_individual is not None:
        left = max(0, limits.out_of_pocket_individual.amount - ledger.get(member_key))
    if limits.out_of_pocket_family is not None and family_key is not None:
        left = min(left, max(0, limits.out_of_pocket_family.amount - ledger.get(family_key)))
    return left


def _sum_insured(work: _Line, state: _ClaimState) -> bool:
    terms = state.schedule.sum_insured
    assert terms is not None
    line = work.line
    claim = state.claim
    schedule = state.schedule
    service_date = line.service_date_from
    percent = terms.copay_percent
    age = None
    birth = state.coverage.birth_date
    if birth is not None and terms.senior_copay_percent is not None:
        age = age_on(birth, service_date)
        if age >= terms.senior_age:
            percent = terms.senior_copay_percent
    allowed = work.allowed
    copay = percent_of(allowed, percent, schedule.rounding)
    payable = allowed - copay
    floater = terms.floater and state.coverage.family_id is not None
    holder = state.coverage.family_id if floater and state.coverage.family_id else claim.member_id
    key = AccumulatorKey(
        AccumulatorKind.SUM_INSURED,
        AccumulatorLevel.FAMILY if floater else AccumulatorLevel.MEMBER,
        holder,
        state.plan_year(service_date),
    )
    used = state.ledger.get(key)
    left = max(0, terms.sum_insured.amount - used)
    paid = min(payable, left)
    work.copay = copay
    work.shortfall = payable - paid
    state.ledger.move(key, paid, work.movements)
    work.trace.append(
        TraceStep(
            Step.SUM_INSURED,
            Outcome.APPLIED,
            "Co-pay percentage on the admissible amount, then payment up to the sum insured left.",
            (
                ("admissible", state.money(allowed)),
                ("copay_percent", percent),
                ("age", age),
                ("floater", floater),
                ("sum_insured", terms.sum_insured),
                ("sum_insured_left", state.money(left)),
            ),
            (
                ("copay", state.money(copay)),
                ("paid", state.money(paid)),
                ("beyond_sum_insured", state.money(work.shortfall)),
            ),
        )
    )
    return True


_LineStep = Callable[[_Line, _ClaimState], bool]
_US_STEPS: tuple[_LineStep, ...] = (
    _eligibility,
    _provider,
    _codes,
    _edits,
    _prior_authorization,
    _pricing,
    _benefits,
    _cost_sharing,
)
_SUM_INSURED_STEPS: tuple[_LineStep, ...] = (*_US_STEPS[:-1], _sum_insured)


def _balance(work: _Line, state: _ClaimState) -> LineResult:
    line = work.line
    billed = work.billed
    adjustments: list[Adjustment]
    zero = state.money(0)
    if work.denial is not None:
        group, carc, rarcs = work.denial
        adjustments = [Adjustment(group, carc, line.charge, rarcs)]
        result = LineResult(
            line_number=line.line_number,
            status=LineStatus.DENIED,
            billed=line.charge,
            allowed=zero,
            paid=zero,
            deductible=zero,
            coinsurance=zero,
            copay=zero,
            adjustments=tuple(adjustments),
            movements=(),
            trace=tuple(work.trace),
            benefit_category=work.category.code if work.category else None,
            benefit_level=None,
        )
        if work.movements:
            raise EngineInvariantBroken("a denied line moved accumulators")
        return result
    adjustments = []
    if work.pricing_excess:
        adjustments.append(
            Adjustment(work.pricing_group, Carc.EXCEEDS_MAXIMUM_ALLOWABLE, state.money(work.pricing_excess))
        )
    for group, carc, amount, rarcs in work.reductions:
        if amount:
            adjustments.append(Adjustment(group, carc, state.money(amount), rarcs))
    if work.deductible:
        adjustments.append(Adjustment(_PR, Carc.DEDUCTIBLE, state.money(work.deductible)))
    if work.coinsurance:
        adjustments.append(Adjustment(_PR, Carc.COINSURANCE, state.money(work.coinsurance)))
    if work.copay:
        adjustments.append(Adjustment(_PR, Carc.COPAY, state.money(work.copay)))
    if work.shortfall:
        adjustments.append(Adjustment(_PR, Carc.BENEFIT_MAXIMUM_REACHED, state.money(work.shortfall)))
    share = work.copay + work.deductible + work.coinsurance
    paid = work.allowed - share - work.shortfall
    if share > work.allowed or paid < 0:
        raise EngineInvariantBroken("member share above the allowed amount")
    if billed != paid + sum(adjustment.amount.amount for adjustment in adjustments):
        raise EngineInvariantBroken("billed differs from paid plus adjustments")
    reduced = any(amount for _, _, amount, _ in work.reductions) or work.shortfall
    status = LineStatus.PENDED if work.pends else (LineStatus.REDUCED if reduced else LineStatus.APPROVED)
    work.trace.append(
        TraceStep(
            Step.BALANCE,
            Outcome.PASSED,
            "Billed equals paid plus adjustments.",
            (("billed", line.charge),),
            (("paid", state.money(paid)), ("adjustments", len(adjustments))),
        )
    )
    return LineResult(
        line_number=line.line_number,
        status=status,
        billed=line.charge,
        allowed=state.money(work.allowed),
        paid=state.money(paid),
        deductible=state.money(work.deductible),
        coinsurance=state.money(work.coinsurance),
        copay=state.money(work.copay),
        adjustments=tuple(adjustments),
        movements=tuple(work.movements),
        trace=tuple(work.trace),
        pend_reasons=tuple(work.pends),
        benefit_category=work.category.code if work.category else None,
        benefit_level=work.level,
        prior_auth_id=work.prior_auth_id,
    )
