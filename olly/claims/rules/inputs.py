"""What the adjudication engine reads: a claim and snapshots of everything it is judged against.

Every input is a frozen dataclass built by the caller (the claims service from its own read models,
a test, a REPL). Money is ``Money``; percentages are ``Decimal`` per cent (``Decimal("20")`` is 20%);
dates are ``date``. Nothing here reads a clock or a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from olly.kernel.money import Money, Rounding
from olly.kernel.periods import DatePeriod

# -- enumerations ---------------------------------------------------------------------------------


class ClaimType(StrEnum):
    PROFESSIONAL = "PROFESSIONAL"
    """837P / CMS-1500: procedure codes and a place of service on every line."""
    INSTITUTIONAL = "INSTITUTIONAL"
    """837I / UB-04: revenue codes on every line, procedure codes where the facility reports them."""


class ClaimFrequency(StrEnum):
    """CLM05-3."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class Submitter(StrEnum):
    PROVIDER = "PROVIDER"
    """A provider billed the plan (cashless in the sum-insured style)."""
    MEMBER_REIMBURSEMENT = "MEMBER_REIMBURSEMENT"
    """A member paid and claims it back with bills, prescriptions and a discharge summary."""


class CareSetting(StrEnum):
    OPD = "OPD"
    """Out-patient care."""
    IPD = "IPD"
    """In-patient care: hospitalisation of 24 hours or more, or a listed day-care procedure."""


class ChargeType(StrEnum):
    """What a line of a hospital bill is for (the sum-insured style prices and limits by it)."""

    ROOM_RENT = "ROOM_RENT"
    ICU = "ICU"
    NURSING = "NURSING"
    DOCTOR_FEES = "DOCTOR_FEES"
    OPERATION_THEATRE = "OPERATION_THEATRE"
    INVESTIGATIONS = "INVESTIGATIONS"
    PHARMACY = "PHARMACY"
    CONSUMABLES = "CONSUMABLES"
    IMPLANTS = "IMPLANTS"
    AMBULANCE = "AMBULANCE"
    CONSULTATION = "CONSULTATION"
    OTHER = "OTHER"


class PlanType(StrEnum):
    PPO = "PPO"
    HMO = "HMO"
    EPO = "EPO"
    HDHP = "HDHP"
    SUM_INSURED = "SUM_INSURED"

    @property
    def requires_network(self) -> bool:
        """HMO and EPO pay nothing out of network except where the No Surprises Act applies."""
        return self in (PlanType.HMO, PlanType.EPO)


class NetworkStatus(StrEnum):
    IN_NETWORK = "IN_NETWORK"
    OUT_OF_NETWORK = "OUT_OF_NETWORK"


class CredentialingStatus(StrEnum):
    APPROVED = "APPROVED"
    PENDING = "PENDING"
    NOT_CREDENTIALED = "NOT_CREDENTIALED"
    """Registered with the plan, never credentialed (the provider registry's first standing)."""
    DENIED = "DENIED"
    EXPIRED = "EXPIRED"
    SUSPENDED = "SUSPENDED"


class FamilyDesign(StrEnum):
    EMBEDDED = "EMBEDDED"
    """A member's deductible is met when their own amount or the family amount is met."""
    AGGREGATE = "AGGREGATE"
    """Only the family amount counts for a member covered with family (self-only coverage uses the individual one)."""


class NetworkAccumulation(StrEnum):
    SEPARATE = "SEPARATE"
    """In-network and out-of-network spending fill separate deductibles and out-of-pocket maximums."""
    COMBINED = "COMBINED"
    """One deductible and one out-of-pocket maximum (the in-network amounts) for both."""


class MissingAuthorization(StrEnum):
    DENY = "DENY"
    PEND = "PEND"


class AuthorizationStatus(StrEnum):
    APPROVED = "APPROVED"
    PARTIALLY_APPROVED = "PARTIALLY_APPROVED"
    PENDING = "PENDING"
    DENIED = "DENIED"

    @property
    def is_approved(self) -> bool:
        return self in (AuthorizationStatus.APPROVED, AuthorizationStatus.PARTIALLY_APPROVED)


class LimitUnit(StrEnum):
    VISITS = "VISITS"
    """One visit per category per date of service on a claim, however many lines it has."""
    UNITS = "UNITS"
    AMOUNT = "AMOUNT"
    """Allowed amount, in minor units."""


class SubLimitPer(StrEnum):
    DAY = "DAY"
    """Per unit of the line (a room-rent line's units are days)."""
    CLAIM = "CLAIM"


# -- the claim ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimLine:
    line_number: int
    charge: Money
    service_date_from: date
    service_date_to: date | None = None
    procedure_code: str | None = None
    """CPT or HCPCS Level II; on institutional lines only where reported; on sum-insured bill items optional."""
    modifiers: tuple[str, ...] = ()
    units: int = 1
    diagnosis_pointers: tuple[int, ...] = (1,)
    """1-based positions in ``Claim.diagnoses``."""
    place_of_service: str | None = None
    """Overrides the claim's place of service for this line."""
    revenue_code: str | None = None
    charge_type: ChargeType | None = None
    rendering_npi: str | None = None
    """Overrides the claim's rendering provider for this line."""

    @property
    def last_service_date(self) -> date:
        return self.service_date_to or self.service_date_from


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    claim_id: str
    member_id: str
    claim_type: ClaimType
    lines: tuple[ClaimLine, ...]
    diagnoses: tuple[str, ...]
    """ICD-10-CM codes, principal first, with or without the dot."""
    billing_npi: str
    received_on: date
    frequency: ClaimFrequency = ClaimFrequency.ORIGINAL
    original_claim_id: str | None = None
    """For a replacement or void: the claim it replaces or voids."""
    rendering_npi: str | None = None
    place_of_service: str | None = None
    prior_auth_reference: str | None = None
    is_emergency: bool = False
    is_accident: bool = False
    is_ancillary: bool = False
    """Ancillary care (anaesthesia, pathology, radiology, assistant surgeon, …) given at a facility."""
    facility_in_network: bool = False
    """The facility where the care was given is in network (with ``is_ancillary``, the No Surprises Act case)."""
    submitter: Submitter = Submitter.PROVIDER
    care_setting: CareSetting | None = None
    inpatient_hours: int | None = None
    is_day_care: bool = False
    """A listed day-care procedure: covered as IPD under 24 hours."""


# -- the member's coverage ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageSnapshot:
    member_id: str
    plan_type: PlanType
    periods: tuple[DatePeriod, ...]
    family_id: str | None = None
    """Set when the member is covered as part of a family (not self-only)."""
    covered_since: date | None = None
    """Start of continuous coverage, from which waiting periods run; the earliest period start when absent."""
    birth_date: date | None = None
    pre_existing_diagnoses: tuple[str, ...] = ()
    """ICD-10-CM codes or prefixes declared at enrolment (``"E11"`` covers every E11.x)."""
    pre_existing_waiting_months: int | None = None
    """The underwriter's waiting period for this member's declared conditions (the plan's when absent)."""

    @property
    def coverage_start(self) -> date:
        if self.covered_since is not None:
            return self.covered_since
        return min(period.start for period in self.periods)


# -- the benefit schedule (claims' own read model of the plan) -----------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CostShare:
    """What the member pays in one benefit category at one network level, in this order."""

    copay: Money
    """Flat amount per visit (category and date of service), taken first."""
    coinsurance_percent: Decimal = Decimal(0)
    """Member's percentage of what remains after copay and deductible."""
    deductible_applies: bool = True

    def __post_init__(self) -> None:
        if self.copay.amount < 0 or not 0 <= self.coinsurance_percent <= 100:
            raise ValueError("a copay is never negative and coinsurance is a percentage from 0 to 100")


@dataclass(frozen=True, slots=True, kw_only=True)
class BenefitLimit:
    unit: LimitUnit
    maximum: int
    """Visits or units, or minor units of allowed amount, per member per plan year."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BenefitCategory:
    code: str
    covered: bool = True
    is_preventive: bool = False
    """In network the member pays nothing (ACA preventive services)."""
    in_network: CostShare | None = None
    """``None``: not covered in network."""
    out_of_network: CostShare | None = None
    """``None``: not covered out of network."""
    tier_cost_shares: Mapping[str, CostShare] = field(default_factory=dict)
    """In-network cost sharing by provider tier, where the plan has tiers."""
    limit: BenefitLimit | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryRule:
    """Maps a line to a benefit category. Every non-empty criterion must hold; the first matching rule wins."""

    category: str
    procedure_codes: frozenset[str] = frozenset()
    procedure_ranges: tuple[tuple[str, str], ...] = ()
    """Inclusive ranges of same-shaped codes, such as ``("99202", "99215")``."""
    revenue_codes: frozenset[str] = frozenset()
    charge_types: frozenset[ChargeType] = frozenset()
    places_of_service: frozenset[str] = frozenset()
    care_settings: frozenset[CareSetting] = frozenset()
    emergency: bool | None = None

    def matches(self, line: ClaimLine, place_of_service: str | None, claim: Claim) -> bool:
        if (self.procedure_codes or self.procedure_ranges or self.revenue_codes or self.charge_types) and not (
            self._matches_service(line)
        ):
            return False
        if self.places_of_service and place_of_service not in self.places_of_service:
            return False
        if self.care_settings and claim.care_setting not in self.care_settings:
            return False
        return self.emergency is None or self.emergency == claim.is_emergency

    def _matches_service(self, line: ClaimLine) -> bool:
        code = line.procedure_code
        if code is not None:
            if code in self.procedure_codes:
                return True
            for low, high in self.procedure_ranges:
                if low <= code <= high and len(low) == len(code):
                    return True
        revenue = line.revenue_code
        if revenue is not None and revenue in self.revenue_codes:
            return True
        return line.charge_type is not None and line.charge_type in self.charge_types


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkLimits:
    """Deductible and out-of-pocket maximum at one network level; ``None`` means none (or unlimited for OOP)."""

    deductible_individual: Money | None = None
    deductible_family: Money | None = None
    out_of_pocket_individual: Money | None = None
    out_of_pocket_family: Money | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubLimit:
    """A cap on one kind of hospital charge in the sum-insured style."""

    charge_type: ChargeType
    per: SubLimitPer
    percent_of_sum_insured: Decimal | None = None
    amount: Money | None = None
    proportional_deduction: bool = False
    """When the billed rate exceeds this cap, associated charges are cut in the same proportion (room rent)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SumInsuredTerms:
    sum_insured: Money
    """Per member per policy year, or per family with ``floater``."""
    floater: bool = False
    copay_percent: Decimal = Decimal(0)
    senior_copay_percent: Decimal | None = None
    senior_age: int = 60
    initial_waiting_days: int = 30
    """No cover in the first days of continuous coverage, except for accidents."""
    pre_existing_waiting_months: int = 36
    named_illness_waiting_months: int = 24
    named_illness_diagnoses: tuple[str, ...] = ()
    """ICD-10-CM codes or prefixes of the illnesses with their own waiting period (cataract, hernia, …)."""
    sub_limits: tuple[SubLimit, ...] = ()
    proportional_deduction_charge_types: frozenset[ChargeType] = frozenset(
        {ChargeType.NURSING, ChargeType.DOCTOR_FEES, ChargeType.OPERATION_THEATRE}
    )
    """Charges "associated" with the room (pharmacy, consumables, implants and diagnostics never are)."""
    opd_covered: bool = False
    ipd_covered: bool = True

    def __post_init__(self) -> None:
        percents = [self.copay_percent, self.senior_copay_percent or 0]
        percents += [limit.percent_of_sum_insured or 0 for limit in self.sub_limits]
        if self.sum_insured.amount < 0 or not all(0 <= percent <= 100 for percent in percents):
            raise ValueError("the sum insured is never negative and percentages run from 0 to 100")


@dataclass(frozen=True, slots=True, kw_only=True)
class BenefitSchedule:
    plan_id: str
    currency: str
    categories: Mapping[str, BenefitCategory]
    default_category: str
    category_rules: tuple[CategoryRule, ...] = ()
    in_network: NetworkLimits = NetworkLimits()
    out_of_network: NetworkLimits = NetworkLimits()
    family_design: FamilyDesign = FamilyDesign.EMBEDDED
    network_accumulation: NetworkAccumulation = NetworkAccumulation.SEPARATE
    plan_year_start_month: int = 1
    plan_year_start_day: int = 1
    prior_auth_codes: frozenset[str] = frozenset()
    missing_authorization: MissingAuthorization = MissingAuthorization.DENY
    timely_filing_days: int = 365
    medically_unlikely_edits: Mapping[str, int] = field(default_factory=dict)
    """Most units of a procedure one line may carry."""
    high_dollar_threshold: Money | None = None
    """A claim billing at least this much pends for review."""
    reimbursement_auto_approve_max: Money | None = None
    """Member reimbursement claims billing at most this skip document review; ``None``: always reviewed."""
    sum_insured: SumInsuredTerms | None = None
    rounding: Rounding = Rounding.HALF_UP

    def __post_init__(self) -> None:
        if self.default_category not in self.categories:
            raise ValueError("the default benefit category must be one of the schedule's categories")
        date(2001, self.plan_year_start_month, self.plan_year_start_day)  # refuses 29 February and nonsense


# -- providers and pricing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSnapshot:
    npi: str
    network_status: NetworkStatus
    credentialing: CredentialingStatus = CredentialingStatus.APPROVED
    tier: str | None = None


FeeKey = tuple[str, str | None]
"""A code (procedure or revenue) and one pricing modifier, or ``None`` for the code's base rate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    """An in-network provider's rates, tried in order: fee schedule, percentage of a base schedule, of billed."""

    fee_schedule: Mapping[FeeKey, Money] = field(default_factory=dict)
    """Amount per unit."""
    base_schedule_units: Mapping[FeeKey, Decimal] = field(default_factory=dict)
    """Relative value units per unit of service (an RBRVS-style base schedule)."""
    conversion_factor_minor: Decimal | None = None
    """Minor units per relative value unit (``Decimal("3340.09")`` is $33.4009)."""
    base_schedule_percent: Decimal = Decimal(100)
    percent_of_billed: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutOfNetworkPricing:
    maximum_allowable: Mapping[FeeKey, Money] = field(default_factory=dict)
    """Amount per unit the plan recognises out of network."""
    percent_of_billed: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PricingSnapshot:
    contract: Contract | None = None
    """The billing provider's contract when in network."""
    out_of_network: OutOfNetworkPricing = OutOfNetworkPricing()


# -- prior authorisations and history -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorAuthorization:
    auth_id: str
    member_id: str
    status: AuthorizationStatus
    procedure_codes: frozenset[str]
    period: DatePeriod
    reference: str | None = None
    units_approved: int | None = None
    """``None``: no unit cap."""
    units_used: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjudicatedLine:
    """A line of an earlier, finalised claim, for duplicate detection."""

    claim_id: str
    line_number: int
    member_id: str
    billing_npi: str
    service_date: date
    procedure_code: str | None
    modifiers: tuple[str, ...]
    units: int
    charge: Money
    revenue_code: str | None = None
    was_denied: bool = False
