"""Plans as data: the benefit schedule, the rate tables, the checks a plan must pass, and rating.

Everything here is pure: frozen dataclasses in, a decision out. No database, no HTTP, no clock.
The document format (``document.py``) builds these objects; ``check_plan`` refuses a plan whose
parts contradict each other or a regulation; the ``quote_*`` functions price a household.

Field paths in the errors are the paths of the plan document (``deductible.in_network.family``),
so an author can find the line to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

from olly.kernel.errors import FieldError, ValidationFailed
from olly.kernel.money import Money, Rounding, exponent, total
from olly.kernel.periods import DatePeriod, add_months


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------
class Market(StrEnum):
    INDIVIDUAL = "individual"
    SMALL_GROUP = "small_group"
    LARGE_GROUP = "large_group"

    @property
    def is_group(self) -> bool:
        return self is not Market.INDIVIDUAL


class PlanType(StrEnum):
    PPO = "PPO"
    HMO = "HMO"
    EPO = "EPO"
    HDHP = "HDHP"
    POS = "POS"
    SUM_INSURED = "SUM_INSURED"

    @property
    def is_us_style(self) -> bool:
        """Deductible, copay, coinsurance and out-of-pocket maximum (everything but sum insured)."""
        return self is not PlanType.SUM_INSURED

    @property
    def is_closed_network(self) -> bool:
        """HMO and EPO pay out of network for emergencies only (CARC 242 otherwise)."""
        return self in (PlanType.HMO, PlanType.EPO)


class MetalLevel(StrEnum):
    CATASTROPHIC = "catastrophic"
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"


class Network(StrEnum):
    IN_NETWORK = "in_network"
    OUT_OF_NETWORK = "out_of_network"


class BenefitCategory(StrEnum):
    """What a claim line is mapped to before cost sharing. Sum-insured plans use the last group too."""

    PREVENTIVE = "preventive"
    OFFICE_VISIT = "office_visit"
    SPECIALIST = "specialist"
    TELEHEALTH = "telehealth"
    URGENT_CARE = "urgent_care"
    EMERGENCY = "emergency"
    AMBULANCE = "ambulance"
    INPATIENT_FACILITY = "inpatient_facility"
    INPATIENT_PROFESSIONAL = "inpatient_professional"
    OUTPATIENT_SURGERY = "outpatient_surgery"
    IMAGING = "imaging"
    ADVANCED_IMAGING = "advanced_imaging"
    LAB = "lab"
    MENTAL_HEALTH_OUTPATIENT = "mental_health_outpatient"
    MENTAL_HEALTH_INPATIENT = "mental_health_inpatient"
    MATERNITY = "maternity"
    REHABILITATION = "rehabilitation"
    CHIROPRACTIC = "chiropractic"
    HOME_HEALTH = "home_health"
    SKILLED_NURSING = "skilled_nursing"
    HOSPICE = "hospice"
    DME = "dme"
    PHARMACY_GENERIC = "pharmacy_generic"
    PHARMACY_PREFERRED_BRAND = "pharmacy_preferred_brand"
    PHARMACY_NON_PREFERRED_BRAND = "pharmacy_non_preferred_brand"
    PHARMACY_SPECIALTY = "pharmacy_specialty"
    DENTAL = "dental"
    VISION = "vision"
    # Sum-insured style
    DAY_CARE = "day_care"
    PRE_HOSPITALISATION = "pre_hospitalisation"
    POST_HOSPITALISATION = "post_hospitalisation"
    OPD_CONSULTATION = "opd_consultation"
    OPD_DIAGNOSTICS = "opd_diagnostics"
    OPD_PHARMACY = "opd_pharmacy"

    @property
    def is_opd(self) -> bool:
        return self.value.startswith("opd_")


#: Categories cost sharing must reach before a member pays anything out of an HSA-qualified HDHP
#: (IRC 223(c)(2)(C)): only preventive care is exempt from the deductible.
HDHP_DEDUCTIBLE_EXEMPT: Final = frozenset({BenefitCategory.PREVENTIVE})

#: Inpatient-type categories a sum-insured plan's IPD cover consists of.
IPD_CATEGORIES: Final = frozenset(
    {
        BenefitCategory.INPATIENT_FACILITY,
        BenefitCategory.DAY_CARE,
        BenefitCategory.PRE_HOSPITALISATION,
        BenefitCategory.POST_HOSPITALISATION,
    }
)


class FamilyDesign(StrEnum):
    """EMBEDDED: a member's own amount is met by their individual spend OR the family's.
    AGGREGATE: only the family amount counts once more than one person is covered."""

    EMBEDDED = "embedded"
    AGGREGATE = "aggregate"


class NetworkAccumulation(StrEnum):
    """SEPARATE: in- and out-of-network spend fill their own accumulators.
    COMBINED: spend in either network counts toward both."""

    SEPARATE = "separate"
    COMBINED = "combined"


class CopayApplies(StrEnum):
    """How a flat copay meets the deductible.

    INSTEAD_OF_DEDUCTIBLE: the copay is the member's share; the deductible does not apply.
    BEFORE_DEDUCTIBLE: the copay is taken first, the deductible and coinsurance apply to the rest.
    AFTER_DEDUCTIBLE: the member pays toward the deductible first; once it is met, the copay applies.
    """

    INSTEAD_OF_DEDUCTIBLE = "instead_of_deductible"
    BEFORE_DEDUCTIBLE = "before_deductible"
    AFTER_DEDUCTIBLE = "after_deductible"


class LimitKind(StrEnum):
    VISITS = "visits"
    UNITS = "units"
    AMOUNT = "amount"


class LimitPeriod(StrEnum):
    PLAN_YEAR = "plan_year"
    LIFETIME = "lifetime"
    DAY = "day"
    ADMISSION = "admission"


class PriorAuthAction(StrEnum):
    """What adjudication does to a line that needs prior authorization and has none approved."""

    DENY = "deny"  # CO-197
    PEND = "pend"


class AccumulatorPeriod(StrEnum):
    CALENDAR_YEAR = "calendar_year"
    POLICY_YEAR = "policy_year"


class Tier(StrEnum):
    EE = "EE"
    EE_SP = "EE+SP"
    EE_CH = "EE+CH"
    EE_FAM = "EE+FAM"


class Relationship(StrEnum):
    SUBSCRIBER = "subscriber"
    SPOUSE = "spouse"
    DOMESTIC_PARTNER = "domestic_partner"
    CHILD = "child"
    PARENT = "parent"
    PARENT_IN_LAW = "parent_in_law"
    SIBLING = "sibling"

    @property
    def is_partner(self) -> bool:
        return self in (Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER)


#: Dependents the US markets cover; parents, in-laws and siblings are for sum-insured plans.
US_DEPENDENTS: Final = frozenset({Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER, Relationship.CHILD})


class SumInsuredBasis(StrEnum):
    INDIVIDUAL = "individual"
    FAMILY_FLOATER = "family_floater"


class RatingMethod(StrEnum):
    TIER = "tier"
    AGE_RATED = "age_rated"
    AGE_BAND = "age_band"


class PremiumPeriod(StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"


# ACA rating rules (45 CFR 147.102).
ACA_AGE_RATIO_LIMIT: Final = Decimal(3)
ACA_TOBACCO_FACTOR_LIMIT: Final = Decimal("1.5")
ACA_ADULT_AGE: Final = 21
ACA_MAX_RATED_CHILDREN: Final = 3
"""In a family, premiums are summed over at most the three oldest children under 21."""
ACA_CHILD_AGE_LIMIT: Final = 26
"""Dependent children must be offered cover until they turn 26 (PHSA 2714)."""
ACA_MIN_APPEAL_DAYS: Final = 180
"""A claimant may file an internal appeal for at least 180 days after an adverse determination."""
ACA_APTC_GRACE_MONTHS: Final = 3
"""45 CFR 156.270(d): enrollees receiving advance premium tax credits get three consecutive months."""


# ---------------------------------------------------------------------------------------------
# The benefit schedule
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CostShare:
    """The member's share for one category in one network."""

    copay: Money
    copay_applies: CopayApplies
    deductible_applies: bool
    coinsurance_percent: Decimal

    @property
    def is_free(self) -> bool:
        return self.copay.is_zero and self.coinsurance_percent == 0 and not self.deductible_applies


@dataclass(frozen=True, slots=True)
class BenefitLimit:
    """At most ``quantity`` visits/units, or ``amount`` of plan payment, per ``period``."""

    kind: LimitKind
    period: LimitPeriod
    quantity: int | None = None
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class Benefit:
    category: BenefitCategory
    covered: bool
    in_network: CostShare | None
    out_of_network: CostShare | None
    limits: tuple[BenefitLimit, ...] = ()
    requires_prior_auth: bool = False
    requires_referral: bool = False

    def cost_share(self, network: Network) -> CostShare | None:
        """The member's share in ``network``; None means not covered there.

        Emergency care out of network gets in-network cost sharing when the plan states none
        (No Surprises Act); ``check_plan`` refuses a plan that states a different one.
        """
        if not self.covered:
            return None
        if network is Network.IN_NETWORK:
            return self.in_network
        if self.out_of_network is None and self.category is BenefitCategory.EMERGENCY:
            return self.in_network
        return self.out_of_network


@dataclass(frozen=True, slots=True)
class FamilyAmounts:
    individual: Money
    family: Money


@dataclass(frozen=True, slots=True)
class AccumulatorTerms:
    """A deductible or an out-of-pocket maximum."""

    in_network: FamilyAmounts
    out_of_network: FamilyAmounts | None
    family_design: FamilyDesign
    network_accumulation: NetworkAccumulation

    def amounts(self, network: Network) -> FamilyAmounts | None:
        return self.in_network if network is Network.IN_NETWORK else self.out_of_network


@dataclass(frozen=True, slots=True)
class PriorAuthorizationRules:
    when_missing: PriorAuthAction
    procedure_codes: frozenset[str]

    def requires(self, procedure_code: str) -> bool:
        return procedure_code.upper() in self.procedure_codes


@dataclass(frozen=True, slots=True)
class GracePeriodRule:
    days: int
    """Premium grace in days for everyone else (30: missed 2026-02-28, grace ends 2026-03-30)."""
    aptc_months: int | None
    """Three consecutive months for enrollees with advance premium tax credits (individual market)."""
    reinstatement_days: int | None = None
    """Days after an unpaid grace period ends in which paying every premium owed reinstates the
    policy with no gap; None when the plan does not allow reinstatement."""


@dataclass(frozen=True, slots=True)
class Administration:
    timely_filing_days: int
    appeal_window_days: int
    grace_period: GracePeriodRule
    high_dollar_pend_threshold: Money | None
    medically_unlikely_edits: Mapping[str, int]
    """Procedure code → most units payable per member per day (CO-151 above it)."""
    reimbursement_auto_approve_max: Money | None = None
    """Member reimbursement claims billing at most this are paid without document review (``None``:
    every reimbursement claim waits for a reviewer)."""

    def unit_cap(self, procedure_code: str) -> int | None:
        return self.medically_unlikely_edits.get(procedure_code.upper())


@dataclass(frozen=True, slots=True)
class RoomRentLimit:
    """Per-day room (and ICU) limit as a percentage of the sum insured or a fixed amount."""

    percent_of_sum_insured: Decimal | None
    amount_per_day: Money | None
    icu_percent_of_sum_insured: Decimal | None
    icu_amount_per_day: Money | None
    proportional_deduction: bool


@dataclass(frozen=True, slots=True)
class WaitingPeriods:
    initial_days: int
    initial_waived_for_accidents: bool
    pre_existing_months: int
    named_illness_months: int
    named_illnesses: tuple[str, ...]

    def initial_ends(self, cover_start: date) -> date:
        """Last day of the initial waiting period (cover for illness starts the day after)."""
        return cover_start + timedelta(days=self.initial_days - 1) if self.initial_days else cover_start - timedelta(1)

    def pre_existing_ends(self, cover_start: date) -> date:
        return add_months(cover_start, self.pre_existing_months) - timedelta(days=1)

    def named_illness_ends(self, cover_start: date) -> date:
        return add_months(cover_start, self.named_illness_months) - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SeniorCopay:
    from_age: int
    percent: Decimal


@dataclass(frozen=True, slots=True)
class SumInsuredTerms:
    amount: Money
    basis: SumInsuredBasis
    copay_percent: Decimal
    senior_copay: SeniorCopay | None
    room_rent: RoomRentLimit | None
    waiting_periods: WaitingPeriods
    minimum_hospitalisation_hours: int
    pre_hospitalisation_days: int
    post_hospitalisation_days: int
    ipd_covered: bool
    opd_covered: bool
    opd_annual_limit: Money | None

    def copay_percent_for(self, age: int) -> Decimal:
        """The co-pay percentage for a member of ``age`` (the senior rate where it is higher)."""
        if self.senior_copay is not None and age >= self.senior_copay.from_age:
            return max(self.copay_percent, self.senior_copay.percent)
        return self.copay_percent

    def room_rent_per_day(self) -> Money | None:
        """The room-rent limit per day (1% of a 5,00,000 sum insured is 5,000 a day)."""
        if self.room_rent is None:
            return None
        if self.room_rent.amount_per_day is not None:
            return self.room_rent.amount_per_day
        if self.room_rent.percent_of_sum_insured is not None:
            return self.amount.percent(self.room_rent.percent_of_sum_insured)
        return None

    def icu_rent_per_day(self) -> Money | None:
        if self.room_rent is None:
            return None
        if self.room_rent.icu_amount_per_day is not None:
            return self.room_rent.icu_amount_per_day
        if self.room_rent.icu_percent_of_sum_insured is not None:
            return self.amount.percent(self.room_rent.icu_percent_of_sum_insured)
        return None


@dataclass(frozen=True, slots=True)
class DependentRules:
    relationships: frozenset[Relationship]
    child_max_age: int
    """Children are covered while younger than this (26 in the US markets)."""
    max_members: int | None


@dataclass(frozen=True, slots=True)
class OutOfNetworkAllowable:
    """The most the plan recognises for a service out of network (its "maximum allowable amount").

    Per unit of a procedure code (``"99213"``) or code and modifier (``"99213-26"``): a fixed amount
    when the plan lists one, else ``percent`` of a base schedule (relative value units × conversion
    factor, Medicare-style), else ``percent_of_billed`` of the charge. An out-of-network provider may
    bill the member whatever it charged above this (balance billing) except where the No Surprises
    Act applies.
    """

    amounts: Mapping[str, Money] = field(default_factory=dict)
    base_percent: Decimal | None = None
    conversion_factor: Decimal | None = None
    """Plan currency per relative value unit (e.g. 33.4009)."""
    relative_values: Mapping[str, Decimal] = field(default_factory=dict)
    percent_of_billed: Decimal | None = None

    def per_unit(self, currency: str) -> dict[str, Money]:
        """Every listed code's amount per unit: fixed amounts win; base amounts rounded half-up once."""
        found: dict[str, Money] = {}
        if self.base_percent is not None and self.conversion_factor is not None:
            scale = Decimal(10) ** exponent(currency)
            for key, units in self.relative_values.items():
                exact = units * self.conversion_factor * self.base_percent / 100 * scale
                found[key] = Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), currency)
        found.update(self.amounts)
        return found


@dataclass(frozen=True, slots=True)
class BenefitSchedule:
    """What adjudication needs from a plan version. Claims maps its read model from this."""

    plan_code: str
    plan_version: int
    plan_name: str
    plan_type: PlanType
    market: Market
    currency: str
    effective: DatePeriod
    accumulator_period: AccumulatorPeriod
    out_of_network_covered: bool
    deductible: AccumulatorTerms | None
    out_of_pocket_max: AccumulatorTerms | None
    benefits: Mapping[BenefitCategory, Benefit]
    prior_authorization: PriorAuthorizationRules
    administration: Administration
    sum_insured: SumInsuredTerms | None
    out_of_network_allowable: OutOfNetworkAllowable | None = None
    """None: out-of-network lines no contract prices wait for a person to price them."""

    def benefit(self, category: BenefitCategory) -> Benefit | None:
        """The category's benefit; None means the plan does not cover it (CO-96)."""
        return self.benefits.get(category)

    def cost_share(self, category: BenefitCategory, network: Network) -> CostShare | None:
        benefit = self.benefits.get(category)
        return None if benefit is None else benefit.cost_share(network)

    def requires_prior_auth(self, category: BenefitCategory, procedure_code: str) -> bool:
        benefit = self.benefits.get(category)
        return (benefit is not None and benefit.requires_prior_auth) or self.prior_authorization.requires(
            procedure_code
        )


# ---------------------------------------------------------------------------------------------
# Rate tables
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PercentContribution:
    """The employer pays a percentage of the tier premium (rounded half-up to the minor unit)."""

    percents: Mapping[Tier, Decimal]


@dataclass(frozen=True, slots=True)
class FixedContribution:
    """The employer pays a fixed amount per tier (never more than the premium)."""

    amounts: Mapping[Tier, Money]


EmployerContribution = PercentContribution | FixedContribution


@dataclass(frozen=True, slots=True)
class TierRateTable:
    period: PremiumPeriod
    rates: Mapping[Tier, Money]
    employer_contribution: EmployerContribution | None
    method: RatingMethod = RatingMethod.TIER


@dataclass(frozen=True, slots=True)
class AgeBand:
    """Ages ``min_age`` to ``max_age`` inclusive; ``max_age=None`` is open ("64+")."""

    min_age: int
    max_age: int | None

    def contains(self, age: int) -> bool:
        return self.min_age <= age and (self.max_age is None or age <= self.max_age)

    def label(self) -> str:
        if self.max_age is None:
            return f"{self.min_age}+"
        return str(self.min_age) if self.min_age == self.max_age else f"{self.min_age}-{self.max_age}"


@dataclass(frozen=True, slots=True)
class AgeRatedTable:
    """ACA individual / small-group rating: base rate × age × area × tobacco, per member."""

    period: PremiumPeriod
    base_rate: Money
    age_curve: tuple[tuple[AgeBand, Decimal], ...]
    tobacco_factor: Decimal
    tobacco_min_age: int
    rating_areas: Mapping[str, Decimal]
    default_rating_area: str | None = None
    """Used when a quote names no area (a plan sold in one area, or callers that do not know it)."""
    method: RatingMethod = RatingMethod.AGE_RATED

    def age_factor(self, age: int) -> Decimal | None:
        for band, factor in self.age_curve:
            if band.contains(age):
                return factor
        return None


@dataclass(frozen=True, slots=True)
class BandPremium:
    band: AgeBand
    premium: Money


@dataclass(frozen=True, slots=True)
class FamilyDiscount:
    min_members: int
    percent: Decimal


@dataclass(frozen=True, slots=True)
class AgeBandTable:
    """Sum-insured rating: a premium per age band, scaled by family size for a floater."""

    period: PremiumPeriod
    bands: tuple[BandPremium, ...]
    family_size_factors: Mapping[int, Decimal]
    family_discounts: tuple[FamilyDiscount, ...]
    method: RatingMethod = RatingMethod.AGE_BAND

    def premium_for(self, age: int) -> BandPremium | None:
        for entry in self.bands:
            if entry.band.contains(age):
                return entry
        return None


RateTable = TierRateTable | AgeRatedTable | AgeBandTable


# ---------------------------------------------------------------------------------------------
# A plan version
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlanVersion:
    code: str
    version: int
    name: str
    market: Market
    plan_type: PlanType
    currency: str
    effective_from: date
    effective_to: date | None
    metal_level: MetalLevel | None
    grandfathered: bool
    schedule: BenefitSchedule
    dependents: DependentRules
    rating: RateTable


@dataclass(frozen=True, slots=True)
class RegulatoryLimits:
    """Dollar limits that change every year; the installation sets them (see ``OLLY_PLANS_*``)."""

    aca_max_oop_self_only: Money
    aca_max_oop_family: Money
    hdhp_min_deductible_self_only: Money
    hdhp_min_deductible_family: Money
    hdhp_max_oop_self_only: Money
    hdhp_max_oop_family: Money


def default_limits_2026() -> RegulatoryLimits:
    """2026: HHS maximum annual limitation on cost sharing (revised July 2025) and IRS Rev. Proc. 2025-19."""
    usd = "USD"
    return RegulatoryLimits(
        aca_max_oop_self_only=Money(1_060_000, usd),
        aca_max_oop_family=Money(2_120_000, usd),
        hdhp_min_deductible_self_only=Money(170_000, usd),
        hdhp_min_deductible_family=Money(340_000, usd),
        hdhp_max_oop_self_only=Money(850_000, usd),
        hdhp_max_oop_family=Money(1_700_000, usd),
    )


# ---------------------------------------------------------------------------------------------
# Checks a plan must pass before it is stored
# ---------------------------------------------------------------------------------------------
def is_aca_plan(plan: PlanVersion) -> bool:
    """US-style, in dollars and not grandfathered: the ACA's cost-sharing and coverage rules apply.

    A copay-and-deductible plan in another currency (a UK plan with a GP copay in GBP) is not.
    """
    return plan.plan_type.is_us_style and plan.currency == "USD" and not plan.grandfathered


class _Problems:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: str, message: str, code: str = "invalid") -> None:
        self.errors.append(FieldError(path, message, code))


def check_plan(plan: PlanVersion, limits: RegulatoryLimits) -> list[FieldError]:
    """Every contradiction and regulatory breach in ``plan``, each naming its document path."""
    problems = _Problems()
    schedule = plan.schedule
    if plan.effective_to is not None and plan.effective_to < plan.effective_from:
        problems.add("effective_to", "must not be before effective_from", "dates_out_of_order")
    _check_style(plan, problems)
    for name, terms in (("deductible", schedule.deductible), ("out_of_pocket_max", schedule.out_of_pocket_max)):
        if terms is not None:
            _check_accumulator(name, terms, schedule.out_of_network_covered, problems)
    _check_oop_covers_deductible(schedule, problems)
    if is_aca_plan(plan):
        _check_aca_cost_sharing(plan, limits, problems)
    if plan.plan_type is PlanType.HDHP:
        _check_hdhp(plan, limits, problems)
    _check_benefits(plan, problems)
    _check_administration(plan, problems)
    _check_dependents(plan, problems)
    if schedule.sum_insured is not None:
        _check_sum_insured(plan, schedule.sum_insured, problems)
    _check_rating(plan, problems)
    return problems.errors


def _check_style(plan: PlanVersion, problems: _Problems) -> None:
    schedule = plan.schedule
    if plan.plan_type is PlanType.SUM_INSURED:
        if schedule.sum_insured is None:
            problems.add("sum_insured", "is required for a SUM_INSURED plan", "required")
    else:
        if schedule.sum_insured is not None:
            problems.add("sum_insured", f"is only for SUM_INSURED plans, not {plan.plan_type.value}", "not_allowed")
        if schedule.deductible is None:
            problems.add("deductible", f"is required for a {plan.plan_type.value} plan", "required")
        if schedule.out_of_pocket_max is None:
            problems.add("out_of_pocket_max", f"is required for a {plan.plan_type.value} plan", "required")
    if plan.plan_type.is_closed_network and schedule.out_of_network_covered:
        problems.add(
            "out_of_network_covered",
            f"must be false for an {plan.plan_type.value} plan (out of network only for emergencies)",
            "closed_network",
        )
    if plan.market is Market.INDIVIDUAL and plan.plan_type.is_us_style and plan.metal_level is None:
        problems.add("metal_level", "is required for an individual-market plan", "required")


def _check_accumulator(name: str, terms: AccumulatorTerms, oon_covered: bool, problems: _Problems) -> None:
    for network, amounts in ((Network.IN_NETWORK, terms.in_network), (Network.OUT_OF_NETWORK, terms.out_of_network)):
        if amounts is None:
            continue
        if amounts.family < amounts.individual:
            problems.add(
                f"{name}.{network.value}.family",
                f"must be at least the individual amount ({amounts.individual.to_decimal_string()})",
                "family_below_individual",
            )
    if oon_covered and terms.out_of_network is None:
        problems.add(f"{name}.out_of_network", "is required when the plan covers out-of-network care", "required")
    if not oon_covered and terms.out_of_network is not None:
        problems.add(f"{name}.out_of_network", "is not allowed: the plan covers no out-of-network care", "not_allowed")


def _check_oop_covers_deductible(schedule: BenefitSchedule, problems: _Problems) -> None:
    deductible, oop = schedule.deductible, schedule.out_of_pocket_max
    if deductible is None or oop is None:
        return
    for network in Network:
        ded, cap = deductible.amounts(network), oop.amounts(network)
        if ded is None or cap is None:
            continue
        for level in ("individual", "family"):
            ded_amount: Money = getattr(ded, level)
            cap_amount: Money = getattr(cap, level)
            if cap_amount < ded_amount:
                problems.add(
                    f"out_of_pocket_max.{network.value}.{level}",
                    f"must be at least the {level} deductible ({ded_amount.to_decimal_string()})",
                    "oop_below_deductible",
                )


def _check_aca_cost_sharing(plan: PlanVersion, limits: RegulatoryLimits, problems: _Problems) -> None:
    oop = plan.schedule.out_of_pocket_max
    if oop is None:
        return
    self_only, family = limits.aca_max_oop_self_only, limits.aca_max_oop_family
    if oop.in_network.individual > self_only:
        problems.add(
            "out_of_pocket_max.in_network.individual",
            f"exceeds the ACA self-only limit of {self_only.to_decimal_string()}",
            "aca_oop_limit",
        )
    if oop.in_network.family > family:
        problems.add(
            "out_of_pocket_max.in_network.family",
            f"exceeds the ACA limit of {family.to_decimal_string()} for other than self-only coverage",
            "aca_oop_limit",
        )
    # Inside a family no one may pay more than the self-only limit (45 CFR 156.130 embedded rule),
    # so an aggregate family maximum above it would let one member exceed it.
    if oop.family_design is FamilyDesign.AGGREGATE and oop.in_network.family > self_only:
        problems.add(
            "out_of_pocket_max.family_design",
            "must be embedded when the family maximum exceeds the ACA self-only limit "
            f"of {self_only.to_decimal_string()}",
            "aca_embedded_oop",
        )


def _check_hdhp(plan: PlanVersion, limits: RegulatoryLimits, problems: _Problems) -> None:
    deductible, oop = plan.schedule.deductible, plan.schedule.out_of_pocket_max
    if deductible is None or oop is None or plan.currency != limits.hdhp_min_deductible_self_only.currency:
        return
    if deductible.in_network.individual < limits.hdhp_min_deductible_self_only:
        problems.add(
            "deductible.in_network.individual",
            f"is below the HDHP minimum of {limits.hdhp_min_deductible_self_only.to_decimal_string()}",
            "hdhp_minimum_deductible",
        )
    if deductible.in_network.family < limits.hdhp_min_deductible_family:
        problems.add(
            "deductible.in_network.family",
            f"is below the HDHP family minimum of {limits.hdhp_min_deductible_family.to_decimal_string()}",
            "hdhp_minimum_deductible",
        )
    # An embedded individual deductible inside family cover must itself reach the family minimum.
    if (
        deductible.family_design is FamilyDesign.EMBEDDED
        and deductible.in_network.individual < limits.hdhp_min_deductible_family
    ):
        problems.add(
            "deductible.in_network.individual",
            "is an embedded deductible below the HDHP family minimum of "
            f"{limits.hdhp_min_deductible_family.to_decimal_string()}",
            "hdhp_embedded_deductible",
        )
    if oop.in_network.individual > limits.hdhp_max_oop_self_only:
        problems.add(
            "out_of_pocket_max.in_network.individual",
            f"exceeds the HDHP maximum of {limits.hdhp_max_oop_self_only.to_decimal_string()}",
            "hdhp_maximum_oop",
        )
    if oop.in_network.family > limits.hdhp_max_oop_family:
        problems.add(
            "out_of_pocket_max.in_network.family",
            f"exceeds the HDHP family maximum of {limits.hdhp_max_oop_family.to_decimal_string()}",
            "hdhp_maximum_oop",
        )
    for category, benefit in plan.schedule.benefits.items():
        if category in HDHP_DEDUCTIBLE_EXEMPT or benefit.in_network is None:
            continue
        share = benefit.in_network
        if not share.deductible_applies:
            problems.add(
                f"benefits.{category.value}.in_network.deductible_applies",
                "must be true on an HDHP (only preventive care is paid before the deductible)",
                "hdhp_first_dollar",
            )
        elif share.copay.amount and share.copay_applies is not CopayApplies.AFTER_DEDUCTIBLE:
            problems.add(
                f"benefits.{category.value}.in_network.copay_applies",
                "must be after_deductible on an HDHP",
                "hdhp_first_dollar",
            )


def _check_benefits(plan: PlanVersion, problems: _Problems) -> None:
    schedule = plan.schedule
    benefits = schedule.benefits
    if is_aca_plan(plan):
        for required in (BenefitCategory.PREVENTIVE, BenefitCategory.EMERGENCY):
            benefit = benefits.get(required)
            if benefit is None or not benefit.covered:
                problems.add(
                    f"benefits.{required.value}", f"must be covered by a {plan.plan_type.value} plan", "required"
                )
        preventive = benefits.get(BenefitCategory.PREVENTIVE)
        if preventive is not None and preventive.in_network is not None and not preventive.in_network.is_free:
            problems.add(
                "benefits.preventive.in_network",
                "must cost the member nothing in network: no copay, no coinsurance, no deductible",
                "preventive_not_free",
            )
    emergency = benefits.get(BenefitCategory.EMERGENCY)
    if (
        emergency is not None
        and emergency.out_of_network is not None
        and emergency.out_of_network != emergency.in_network
    ):
        problems.add(
            "benefits.emergency.out_of_network",
            "must equal the in-network cost sharing (No Surprises Act); leave it out to inherit it",
            "emergency_cost_sharing",
        )
    for category, benefit in benefits.items():
        base = f"benefits.{category.value}"
        if (
            benefit.out_of_network is not None
            and not schedule.out_of_network_covered
            and category is not BenefitCategory.EMERGENCY
        ):
            problems.add(
                f"{base}.out_of_network",
                "is not allowed: the plan covers out-of-network care for emergencies only",
                "closed_network",
            )
        for share_name, share in (("in_network", benefit.in_network), ("out_of_network", benefit.out_of_network)):
            if share is not None and share.copay.amount and not plan.plan_type.is_us_style:
                problems.add(
                    f"{base}.{share_name}.copay",
                    "must be 0 on a sum-insured plan: state its co-pay as coinsurance_percent",
                    "not_allowed",
                )
        for index, limit in enumerate(benefit.limits):
            if (
                limit.amount is not None
                and schedule.sum_insured is not None
                and limit.amount > schedule.sum_insured.amount
            ):
                problems.add(
                    f"{base}.limits.{index}.amount",
                    f"exceeds the sum insured ({schedule.sum_insured.amount.to_decimal_string()})",
                    "limit_above_sum_insured",
                )
        seen: set[tuple[LimitKind, LimitPeriod]] = set()
        for index, limit in enumerate(benefit.limits):
            key = (limit.kind, limit.period)
            if key in seen:
                problems.add(
                    f"{base}.limits.{index}",
                    f"repeats a {limit.kind.value} limit per {limit.period.value}",
                    "duplicate_limit",
                )
            seen.add(key)


def _check_administration(plan: PlanVersion, problems: _Problems) -> None:
    grace = plan.schedule.administration.grace_period
    if grace.aptc_months is not None:
        if plan.market is not Market.INDIVIDUAL or not plan.plan_type.is_us_style:
            problems.add(
                "administration.grace_period.aptc_months",
                "applies only to US individual-market plans (advance premium tax credits)",
                "not_allowed",
            )
        elif grace.aptc_months != ACA_APTC_GRACE_MONTHS:
            problems.add(
                "administration.grace_period.aptc_months",
                f"must be {ACA_APTC_GRACE_MONTHS} (45 CFR 156.270)",
                "aca_grace_period",
            )
    appeal_days = plan.schedule.administration.appeal_window_days
    if is_aca_plan(plan) and appeal_days < ACA_MIN_APPEAL_DAYS:
        problems.add(
            "administration.appeal_window_days",
            f"must be at least {ACA_MIN_APPEAL_DAYS} (ACA internal appeals, 29 CFR 2560.503-1)",
            "aca_appeal_window",
        )
    threshold = plan.schedule.administration.high_dollar_pend_threshold
    if threshold is not None and threshold.is_zero:
        problems.add("administration.high_dollar_pend_threshold", "must be greater than 0", "invalid")
    auto = plan.schedule.administration.reimbursement_auto_approve_max
    if auto is not None and auto.is_zero:
        problems.add("administration.reimbursement_auto_approve_max", "must be greater than 0", "invalid")
    elif auto is not None and threshold is not None and auto.amount >= threshold.amount:
        problems.add(
            "administration.reimbursement_auto_approve_max",
            "must be below high_dollar_pend_threshold (a high-dollar claim is always reviewed)",
            "above_high_dollar",
        )


def _check_dependents(plan: PlanVersion, problems: _Problems) -> None:
    rules = plan.dependents
    if plan.plan_type.is_us_style:
        for relationship in sorted(rules.relationships - US_DEPENDENTS):
            problems.add(
                "dependents.relationships",
                f"{relationship.value} is a dependent of sum-insured plans only",
                "not_allowed",
            )
        if (
            is_aca_plan(plan)
            and Relationship.CHILD in rules.relationships
            and rules.child_max_age < ACA_CHILD_AGE_LIMIT
        ):
            problems.add(
                "dependents.child_max_age",
                f"must be at least {ACA_CHILD_AGE_LIMIT}: children are covered until they turn 26",
                "aca_dependent_age",
            )


def _check_sum_insured(plan: PlanVersion, terms: SumInsuredTerms, problems: _Problems) -> None:
    benefits = plan.schedule.benefits
    if terms.amount.is_zero:
        problems.add("sum_insured.amount", "must be greater than 0", "invalid")
    room = terms.room_rent
    if room is not None:
        if (room.percent_of_sum_insured is None) == (room.amount_per_day is None):
            problems.add(
                "sum_insured.room_rent",
                "needs exactly one of percent_of_sum_insured and amount_per_day",
                "invalid",
            )
        if room.icu_percent_of_sum_insured is not None and room.icu_amount_per_day is not None:
            problems.add(
                "sum_insured.room_rent",
                "needs at most one of icu_percent_of_sum_insured and icu_amount_per_day",
                "invalid",
            )
        for name, amount in (("amount_per_day", room.amount_per_day), ("icu_amount_per_day", room.icu_amount_per_day)):
            if amount is not None and amount > terms.amount:
                problems.add(
                    f"sum_insured.room_rent.{name}",
                    f"exceeds the sum insured ({terms.amount.to_decimal_string()})",
                    "limit_above_sum_insured",
                )
    if terms.opd_annual_limit is not None and terms.opd_annual_limit > terms.amount:
        problems.add(
            "sum_insured.opd.annual_limit",
            f"exceeds the sum insured ({terms.amount.to_decimal_string()})",
            "limit_above_sum_insured",
        )
    opd_categories = [c for c, b in benefits.items() if c.is_opd and b.covered]
    if terms.opd_covered and not opd_categories:
        problems.add("sum_insured.opd.covered", "is true but no opd_* benefit category is covered", "inconsistent")
    if not terms.opd_covered:
        for category in opd_categories:
            problems.add(
                f"benefits.{category.value}", "is covered but sum_insured.opd.covered is false", "inconsistent"
            )
        if terms.opd_annual_limit is not None:
            problems.add("sum_insured.opd.annual_limit", "is set but OPD is not covered", "inconsistent")
    ipd_categories = [c for c, b in benefits.items() if c in IPD_CATEGORIES and b.covered]
    if terms.ipd_covered and BenefitCategory.INPATIENT_FACILITY not in ipd_categories:
        problems.add("benefits.inpatient_facility", "must be covered when sum_insured.ipd_covered is true", "required")
    if not terms.ipd_covered:
        for category in ipd_categories:
            problems.add(
                f"benefits.{category.value}", "is covered but sum_insured.ipd_covered is false", "inconsistent"
            )
    if terms.senior_copay is not None and terms.senior_copay.percent < terms.copay_percent:
        problems.add(
            "sum_insured.senior_copay.percent",
            "must not be below the plan's co-pay percentage",
            "inconsistent",
        )


def _check_rating(plan: PlanVersion, problems: _Problems) -> None:
    rating = plan.rating
    if isinstance(rating, TierRateTable):
        _check_tier_table(plan, rating, problems)
    elif isinstance(rating, AgeRatedTable):
        if not plan.plan_type.is_us_style or plan.market is Market.LARGE_GROUP:
            problems.add(
                "rating.method",
                "age_rated is for US individual and small-group plans",
                "rating_method_not_allowed",
            )
        check_age_rated_table(rating, problems.errors)
    else:
        if plan.plan_type is not PlanType.SUM_INSURED:
            problems.add("rating.method", "age_band is for SUM_INSURED plans", "rating_method_not_allowed")
        basis = plan.schedule.sum_insured.basis if plan.schedule.sum_insured else SumInsuredBasis.INDIVIDUAL
        _check_age_band_table(plan, rating, basis, problems)


def _check_tier_table(plan: PlanVersion, table: TierRateTable, problems: _Problems) -> None:
    for tier in Tier:
        rate = table.rates.get(tier)
        if rate is None:
            problems.add("rating.tiers", f"has no premium for tier {tier.value}", "missing_tier")
        elif rate.is_zero:
            problems.add(f"rating.tiers.{tier.value}", "must be greater than 0", "invalid")
    contribution = table.employer_contribution
    if contribution is None:
        return
    if not plan.market.is_group:
        problems.add(
            "rating.employer_contribution",
            "applies only to group plans",
            "not_allowed",
        )
    if isinstance(contribution, FixedContribution):
        for tier, amount in contribution.amounts.items():
            rate = table.rates.get(tier)
            if rate is not None and amount > rate:
                problems.add(
                    "rating.employer_contribution",
                    f"pays {amount.to_decimal_string()} for {tier.value}, more than its premium "
                    f"({rate.to_decimal_string()})",
                    "contribution_above_premium",
                )
    tiers = contribution.percents if isinstance(contribution, PercentContribution) else contribution.amounts
    for tier in tiers:
        if tier not in table.rates:
            problems.add(
                "rating.employer_contribution", f"names tier {tier.value}, which has no premium", "unknown_tier"
            )


def check_age_rated_table(table: AgeRatedTable, errors: list[FieldError]) -> None:
    """Cover every age 0 to 64+, adults within 3:1, tobacco within 1.5:1 (45 CFR 147.102)."""
    bands = [band for band, _factor in table.age_curve]
    before = len(errors)
    _check_bands_contiguous("rating.age_curve", bands, first_age=0, errors=errors)
    if len(errors) == before and (bands[-1].max_age is not None or bands[-1].min_age > 64):
        errors.append(
            FieldError("rating.age_curve", "must end with an open band no later than 64+", "age_curve_incomplete")
        )
    for band, factor in table.age_curve:
        if factor <= 0:
            errors.append(FieldError(f"rating.age_curve.{band.label()}", "must be greater than 0", "invalid"))
    adult = [
        (band, factor) for band, factor in table.age_curve if band.max_age is None or band.max_age >= ACA_ADULT_AGE
    ]
    factors = [factor for _band, factor in adult if factor > 0]
    if factors:
        low, high = min(factors), max(factors)
        if high > low * ACA_AGE_RATIO_LIMIT:
            ratio = (high / low).quantize(Decimal("0.001"))
            errors.append(
                FieldError(
                    "rating.age_curve",
                    f"adult factors vary {ratio}:1 (from {low} to {high}); the ACA allows at most 3:1",
                    "aca_age_ratio",
                )
            )
    if table.tobacco_factor < 1:
        errors.append(FieldError("rating.tobacco_factor", "must be at least 1.0", "invalid"))
    elif table.tobacco_factor > ACA_TOBACCO_FACTOR_LIMIT:
        errors.append(
            FieldError(
                "rating.tobacco_factor",
                f"must not exceed {ACA_TOBACCO_FACTOR_LIMIT} (the ACA allows tobacco rating up to 1.5:1)",
                "aca_tobacco_ratio",
            )
        )
    if not table.rating_areas:
        errors.append(FieldError("rating.rating_areas", "must name at least one rating area", "required"))
    if table.default_rating_area is not None and table.default_rating_area not in table.rating_areas:
        errors.append(FieldError("rating.default_rating_area", "is not one of rating_areas", "unknown_rating_area"))
    for area, factor in table.rating_areas.items():
        if factor <= 0:
            errors.append(FieldError(f"rating.rating_areas.{area}", "must be greater than 0", "invalid"))
    if table.base_rate.is_zero:
        errors.append(FieldError("rating.base_rate", "must be greater than 0", "invalid"))


def _check_bands_contiguous(
    path: str, bands: list[AgeBand], *, first_age: int | None, errors: list[FieldError]
) -> None:
    """Bands must not overlap or leave gaps (and must start at ``first_age`` when one is given)."""
    if not bands:
        errors.append(FieldError(path, "must have at least one age band", "required"))
        return
    ordered = sorted(bands, key=lambda b: b.min_age)
    if first_age is not None and ordered[0].min_age != first_age:
        errors.append(FieldError(path, f"must start at age {first_age}", "age_bands_gap"))
    reach = ordered[0]  # the band reaching the oldest age so far
    for current in ordered[1:]:
        if reach.max_age is None or reach.max_age >= current.min_age:
            errors.append(FieldError(path, f"bands {reach.label()} and {current.label()} overlap", "age_bands_overlap"))
        elif reach.max_age + 1 != current.min_age:
            first, last = reach.max_age + 1, current.min_age - 1
            missing = f"age {first} has" if first == last else f"ages {first} to {last} have"
            errors.append(FieldError(path, f"{missing} no band", "age_bands_gap"))
        if reach.max_age is not None and (current.max_age is None or current.max_age > reach.max_age):
            reach = current


def _check_age_band_table(plan: PlanVersion, table: AgeBandTable, basis: SumInsuredBasis, problems: _Problems) -> None:
    bands = [entry.band for entry in table.bands]
    _check_bands_contiguous("rating.age_bands", bands, first_age=None, errors=problems.errors)
    for index, entry in enumerate(table.bands):
        if entry.premium.is_zero:
            problems.add(f"rating.age_bands.{index}.premium", "must be greater than 0", "invalid")
    sizes = sorted(table.family_size_factors)
    if basis is SumInsuredBasis.FAMILY_FLOATER:
        if not sizes:
            problems.add("rating.family_size_factors", "are required for a family floater", "required")
        elif sizes != list(range(1, sizes[-1] + 1)):
            problems.add("rating.family_size_factors", "must cover every family size from 1 upwards", "gap")
        for size, factor in table.family_size_factors.items():
            if factor <= 0:
                problems.add(f"rating.family_size_factors.{size}", "must be greater than 0", "invalid")
        max_members = plan.dependents.max_members
        if sizes and max_members is not None and max_members > sizes[-1]:
            problems.add(
                "rating.family_size_factors",
                f"stop at {sizes[-1]} members but dependents.max_members allows {max_members}",
                "gap",
            )
        if table.family_discounts:
            problems.add("rating.family_discounts", "apply to individual sum insured, not a floater", "not_allowed")
    else:
        if sizes:
            problems.add("rating.family_size_factors", "apply to a family floater only", "not_allowed")
    previous = 0
    for index, discount in enumerate(table.family_discounts):
        if discount.min_members <= previous:
            problems.add(
                f"rating.family_discounts.{index}.min_members",
                "must increase from one discount to the next",
                "invalid",
            )
        previous = discount.min_members


# ---------------------------------------------------------------------------------------------
# Rating
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QuotedMember:
    relationship: Relationship
    age: int
    tobacco_user: bool = False


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    members: tuple[QuotedMember, ...] = ()
    tier: Tier | None = None
    rating_area: str | None = None
    employer_contribution: EmployerContribution | None = None
    """Overrides the rate table's default contribution (an employer's own policy)."""


@dataclass(frozen=True, slots=True)
class MemberPremium:
    index: int
    relationship: Relationship
    age: int
    rated: bool
    factors: tuple[tuple[str, Decimal], ...]
    premium: Money


@dataclass(frozen=True, slots=True)
class PremiumQuote:
    plan_code: str
    plan_version: int
    method: RatingMethod
    period: PremiumPeriod
    tier: Tier
    currency: str
    total_premium: Money
    employer_contribution: Money
    member_premium: Money
    members: tuple[MemberPremium, ...] = ()
    steps: tuple[str, ...] = field(default=())
    """The arithmetic, one line per step, so a reviewer can redo it by hand."""


def tier_for(members: Iterable[QuotedMember]) -> Tier:
    """EE alone; EE+SP with a spouse or partner; EE+CH with other dependents; EE+FAM with both."""
    dependents = [m for m in members if m.relationship is not Relationship.SUBSCRIBER]
    partner = any(m.relationship.is_partner for m in dependents)
    others = any(not m.relationship.is_partner for m in dependents)
    if partner and others:
        return Tier.EE_FAM
    if partner:
        return Tier.EE_SP
    if others:
        return Tier.EE_CH
    return Tier.EE


def check_members(rules: DependentRules, members: tuple[QuotedMember, ...]) -> list[FieldError]:
    """The household the plan can cover: one subscriber, at most one partner, allowed dependents."""
    errors: list[FieldError] = []
    if not members:
        return [FieldError("members", "must list the people to cover", "required")]
    subscribers = [m for m in members if m.relationship is Relationship.SUBSCRIBER]
    if len(subscribers) != 1:
        errors.append(FieldError("members", "must include exactly one subscriber", "subscriber_count"))
    if sum(1 for m in members if m.relationship.is_partner) > 1:
        errors.append(FieldError("members", "may include at most one spouse or domestic partner", "partner_count"))
    if rules.max_members is not None and len(members) > rules.max_members:
        errors.append(FieldError("members", f"may include at most {rules.max_members} people", "too_many_members"))
    for index, member in enumerate(members):
        if member.age < 0:
            errors.append(FieldError(f"members.{index}.age", "must not be negative", "invalid"))
        if member.relationship is Relationship.SUBSCRIBER:
            continue
        if member.relationship not in rules.relationships:
            errors.append(
                FieldError(
                    f"members.{index}.relationship",
                    f"{member.relationship.value} is not a dependent this plan covers",
                    "relationship_not_covered",
                )
            )
        elif member.relationship is Relationship.CHILD and member.age >= rules.child_max_age:
            errors.append(
                FieldError(
                    f"members.{index}.age",
                    f"children are covered while younger than {rules.child_max_age}",
                    "child_too_old",
                )
            )
    return errors


def quote_premium(plan: PlanVersion, request: QuoteRequest) -> PremiumQuote:
    """Price ``request`` on ``plan``; raises ``ValidationFailed`` naming the request field at fault."""
    rating = plan.rating
    if request.employer_contribution is not None and not (plan.market.is_group and isinstance(rating, TierRateTable)):
        raise ValidationFailed(
            [FieldError("employer_contribution", "applies only to tier-rated group plans", "not_allowed")]
        )
    if isinstance(rating, TierRateTable):
        return quote_tier(plan, rating, request)
    errors = check_members(plan.dependents, request.members)
    if errors:
        raise ValidationFailed(errors)
    if isinstance(rating, AgeRatedTable):
        return quote_age_rated(plan, rating, request)
    return quote_age_band(plan, rating, request)


def quote_tier(plan: PlanVersion, table: TierRateTable, request: QuoteRequest) -> PremiumQuote:
    """Tier premium; the employer pays its contribution and the member the rest."""
    if request.members:
        errors = check_members(plan.dependents, request.members)
        if errors:
            raise ValidationFailed(errors)
    derived = tier_for(request.members) if request.members else None
    tier = request.tier or derived
    if tier is None:
        raise ValidationFailed([FieldError("tier", "is required (or list the members)", "required")])
    if derived is not None and request.tier is not None and derived is not request.tier:
        raise ValidationFailed(
            [
                FieldError(
                    "tier", f"is {request.tier.value} but the members listed make {derived.value}", "tier_mismatch"
                )
            ]
        )
    rate = table.rates.get(tier)
    if rate is None:  # check_plan refuses such a table; kept for tables built by hand
        raise ValidationFailed([FieldError("tier", f"has no premium on this plan: {tier.value}", "unknown_tier")])
    steps = [f"{tier.value} premium {rate.to_decimal_string()} {table.period.value}"]
    contribution = request.employer_contribution or table.employer_contribution
    employer = Money.zero(rate.currency)
    if isinstance(contribution, PercentContribution):
        percent = contribution.percents.get(tier, Decimal(0))
        employer = rate.percent(percent, Rounding.HALF_UP)
        steps.append(
            f"employer {percent}% of {rate.to_decimal_string()} = {employer.to_decimal_string()}"
            " (half-up to the minor unit)"
        )
    elif isinstance(contribution, FixedContribution):
        employer = contribution.amounts.get(tier, Money.zero(rate.currency))
        if employer > rate:
            raise ValidationFailed(
                [
                    FieldError(
                        "employer_contribution",
                        f"exceeds the {tier.value} premium ({rate.to_decimal_string()})",
                        "contribution_above_premium",
                    )
                ]
            )
        steps.append(f"employer fixed {employer.to_decimal_string()}")
    member = rate - employer
    steps.append(f"member {rate.to_decimal_string()} - {employer.to_decimal_string()} = {member.to_decimal_string()}")
    return PremiumQuote(
        plan_code=plan.code,
        plan_version=plan.version,
        method=RatingMethod.TIER,
        period=table.period,
        tier=tier,
        currency=rate.currency,
        total_premium=rate,
        employer_contribution=employer,
        member_premium=member,
        steps=tuple(steps),
    )


def quote_age_rated(plan: PlanVersion, table: AgeRatedTable, request: QuoteRequest) -> PremiumQuote:
    """ACA: each member's base × age × area × tobacco factor, rounded half-up to the cent once;
    the family premium is the sum, counting at most the three oldest children under 21."""
    area = request.rating_area or table.default_rating_area
    if area is None:
        raise ValidationFailed([FieldError("rating_area", "is required for an age-rated plan", "required")])
    area_factor = table.rating_areas.get(area)
    if area_factor is None:
        raise ValidationFailed([FieldError("rating_area", "is not a rating area of this plan", "unknown_rating_area")])
    members = request.members
    young_children = [
        i for i, m in enumerate(members) if m.relationship is Relationship.CHILD and m.age < ACA_ADULT_AGE
    ]
    # The oldest first; on equal ages the one listed first. Only three of them are rated.
    young_children.sort(key=lambda i: (-members[i].age, i))
    unrated = set(young_children[ACA_MAX_RATED_CHILDREN:])
    lines: list[MemberPremium] = []
    default = "" if request.rating_area else " (the plan's default area)"
    steps: list[str] = [f"base rate {table.base_rate.to_decimal_string()}, area {area}{default} factor {area_factor}"]
    for index, member in enumerate(members):
        age_factor = table.age_factor(member.age)
        if age_factor is None:  # check_age_rated_table guarantees a band for every age
            raise ValidationFailed([FieldError(f"members.{index}.age", "has no age factor", "no_age_factor")])
        factors: list[tuple[str, Decimal]] = [("age", age_factor), ("area", area_factor)]
        if member.tobacco_user and member.age >= table.tobacco_min_age:
            factors.append(("tobacco", table.tobacco_factor))
        if index in unrated:
            lines.append(
                MemberPremium(index, member.relationship, member.age, False, tuple(factors), Money.zero(plan.currency))
            )
            steps.append(
                f"member {index} ({member.relationship.value}, {member.age}): not rated, 4th or later child under 21"
            )
            continue
        product = Decimal(1)
        for _name, factor in factors:
            product *= factor
        premium = table.base_rate.times(product, Rounding.HALF_UP)
        lines.append(MemberPremium(index, member.relationship, member.age, True, tuple(factors), premium))
        shown = " x ".join(str(f) for _n, f in factors)
        steps.append(
            f"member {index} ({member.relationship.value}, {member.age}): "
            f"{table.base_rate.to_decimal_string()} x {shown} = {premium.to_decimal_string()}"
        )
    family = total((line.premium for line in lines), plan.currency)
    steps.append(f"total {family.to_decimal_string()}")
    return PremiumQuote(
        plan_code=plan.code,
        plan_version=plan.version,
        method=RatingMethod.AGE_RATED,
        period=table.period,
        tier=tier_for(members),
        currency=plan.currency,
        total_premium=family,
        employer_contribution=Money.zero(plan.currency),
        member_premium=family,
        members=tuple(lines),
        steps=tuple(steps),
    )


def quote_age_band(plan: PlanVersion, table: AgeBandTable, request: QuoteRequest) -> PremiumQuote:
    """Sum insured. Floater: the eldest member's band premium × the family-size factor, rounded once.
    Individual: each member's band premium, summed, less any family discount (rounded half-up)."""
    members = request.members
    terms = plan.schedule.sum_insured
    basis = terms.basis if terms is not None else SumInsuredBasis.INDIVIDUAL
    lines: list[MemberPremium] = []
    steps: list[str] = []
    if basis is SumInsuredBasis.FAMILY_FLOATER:
        eldest_index = max(range(len(members)), key=lambda i: (members[i].age, -i))
        eldest = members[eldest_index]
        entry = table.premium_for(eldest.age)
        if entry is None:
            raise ValidationFailed(
                [
                    FieldError(
                        f"members.{eldest_index}.age",
                        "has no premium band (the eldest member sets the band)",
                        "no_age_band",
                    )
                ]
            )
        factor = table.family_size_factors.get(len(members))
        if factor is None:
            raise ValidationFailed(
                [FieldError("members", f"a family of {len(members)} has no family-size factor", "family_too_large")]
            )
        premium = entry.premium.times(factor, Rounding.HALF_UP)
        steps.append(
            f"eldest member {eldest_index} age {eldest.age}: band {entry.band.label()} premium "
            f"{entry.premium.to_decimal_string()}"
        )
        steps.append(
            f"{entry.premium.to_decimal_string()} x family of {len(members)} factor {factor} = "
            f"{premium.to_decimal_string()} (half-up to the minor unit)"
        )
        for index, member in enumerate(members):
            lines.append(
                MemberPremium(
                    index,
                    member.relationship,
                    member.age,
                    index == eldest_index,
                    (("family_size", factor),) if index == eldest_index else (),
                    premium if index == eldest_index else Money.zero(plan.currency),
                )
            )
        family = premium
    else:
        for index, member in enumerate(members):
            entry = table.premium_for(member.age)
            if entry is None:
                raise ValidationFailed([FieldError(f"members.{index}.age", "has no premium band", "no_age_band")])
            lines.append(MemberPremium(index, member.relationship, member.age, True, (), entry.premium))
            steps.append(
                f"member {index} ({member.relationship.value}, {member.age}): band {entry.band.label()} "
                f"{entry.premium.to_decimal_string()}"
            )
        gross = total((line.premium for line in lines), plan.currency)
        discount_percent = Decimal(0)
        for rule in table.family_discounts:
            if len(members) >= rule.min_members:
                discount_percent = rule.percent
        discount = gross.percent(discount_percent, Rounding.HALF_UP)
        family = gross - discount
        steps.append(
            f"sum {gross.to_decimal_string()} less family discount {discount_percent}% "
            f"({discount.to_decimal_string()}) = {family.to_decimal_string()}"
        )
    return PremiumQuote(
        plan_code=plan.code,
        plan_version=plan.version,
        method=RatingMethod.AGE_BAND,
        period=table.period,
        tier=tier_for(members),
        currency=plan.currency,
        total_premium=family,
        employer_contribution=Money.zero(plan.currency),
        member_premium=family,
        members=tuple(lines),
        steps=tuple(steps),
    )


# ---------------------------------------------------------------------------------------------
# Sum-insured claim helpers the claims engine can call
# ---------------------------------------------------------------------------------------------
def proportional_deduction(associated_charges: Money, room_rent_charged_per_day: Money, limit_per_day: Money) -> Money:
    """What is payable of the charges that scale with the room when the room exceeds its limit.

    A room at 8,000 a day against a 5,000 limit pays 5,000/8,000 of the associated charges
    (doctor's fees, nursing, ...), rounded half-up to the minor unit. Within the limit nothing is cut.
    """
    if room_rent_charged_per_day <= limit_per_day or room_rent_charged_per_day.is_zero:
        return associated_charges
    ratio = Decimal(limit_per_day.amount) / Decimal(room_rent_charged_per_day.amount)
    return associated_charges.times(ratio, Rounding.HALF_UP)
