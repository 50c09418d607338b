"""The plan document: a YAML or JSON file describing one plan version (or ``plans:`` several).

Reading a document goes in four steps, each reporting every problem it finds with the dotted path
of the field at fault (``benefits.office_visit.in_network.coinsurance_percent``):

1. ``parse_text``: YAML or JSON to plain data. Unquoted decimals become ``Decimal`` (never a
   float); duplicate keys and YAML aliases are refused.
2. ``PlanDocument`` (pydantic): shapes, types, ranges, money in the plan's currency, and the
   checks local to one section (a limit needs exactly one of visits/units/amount, ...).
3. ``to_plan_version``: the validated document as the frozen ``rules.PlanVersion``.
4. ``rules.check_plan``: cross-field and regulatory checks (run by the service at load time).

``canonical`` renders the validated document with every default filled in; that form is what
is stored, hashed and served, and it reads back to the same plan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from olly.kernel.errors import FieldError, ValidationFailed
from olly.kernel.money import Money, exponent
from olly.kernel.periods import DatePeriod
from olly.plans import rules
from olly.plans.rules import (
    AccumulatorPeriod,
    BenefitCategory,
    CopayApplies,
    FamilyDesign,
    LimitKind,
    LimitPeriod,
    Market,
    MetalLevel,
    NetworkAccumulation,
    PlanType,
    PremiumPeriod,
    PriorAuthAction,
    Relationship,
    SumInsuredBasis,
    Tier,
)

MAX_DOCUMENT_BYTES: Final = 1_000_000
DocumentFormat = Literal["yaml", "json"]


# ---------------------------------------------------------------------------------------------
# Step 1: text to data
# ---------------------------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    """Safe YAML with decimals kept exact, duplicate keys refused and aliases refused."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(
                None, None, "aliases (*name) are not allowed in a plan document", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                continue  # the base loader reports unhashable keys
            if key in seen:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | str:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:  # .inf / .nan: leave the text for the field to refuse
        return text


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _yaml_decimal)


def _no_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def guess_format(name: str | None, content_type: str | None = None) -> DocumentFormat:
    if content_type and "json" in content_type.lower():
        return "json"
    if name and name.lower().endswith(".json"):
        return "json"
    return "yaml"


def parse_text(raw: bytes | str, fmt: DocumentFormat) -> Any:
    """Plain data from a document; ``ValidationFailed`` on field ``document`` when unreadable."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise ValidationFailed([FieldError("document", f"is larger than {MAX_DOCUMENT_BYTES} bytes", "too_large")])
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed([FieldError("document", "is not UTF-8 text", "not_utf8")]) from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ValidationFailed([FieldError("document", f"is larger than {MAX_DOCUMENT_BYTES} bytes", "too_large")])
    if not raw.strip():
        raise ValidationFailed([FieldError("document", "is empty", "empty")])
    if fmt == "json":
        try:
            return json.loads(raw, parse_float=Decimal, object_pairs_hook=_no_duplicate_pairs)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(
                [
                    FieldError(
                        "document", f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", "syntax"
                    )
                ]
            ) from None
        except ValueError as exc:
            raise ValidationFailed([FieldError("document", f"is not valid JSON: {exc}", "syntax")]) from None
    try:
        return yaml.load(raw, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ValidationFailed([FieldError("document", f"is not valid YAML: {problem}{where}", "syntax")]) from None
    except yaml.YAMLError as exc:
        raise ValidationFailed([FieldError("document", f"is not valid YAML: {type(exc).__name__}", "syntax")]) from None


# ---------------------------------------------------------------------------------------------
# Step 2: field types with messages a plan author can act on
# ---------------------------------------------------------------------------------------------
def _problem(code: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(code, message, context or None)


_AMOUNT_RE: Final = re.compile(r"^(?P<number>-?\d+(?:\.\d+)?)(?:\s+(?P<currency>[A-Za-z]{3}))?$")


def _decimal_text(value: Any, what: str) -> str:
    if isinstance(value, (bool, float)):
        raise _problem("float_not_allowed", f"must be {what} written as a decimal string (not a float)")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _problem("not_a_number", f"must be {what}")
        return format(value, "f")
    if isinstance(value, str):
        return value.strip()
    raise _problem("wrong_type", f"must be {what}")


def _to_money(value: Any, info: ValidationInfo) -> Money:
    if isinstance(value, Money):
        return value
    text = _decimal_text(value, 'an amount such as "250.00"')
    match = _AMOUNT_RE.match(text)
    if match is None:
        raise _problem("invalid_amount", 'must be an amount such as "250.00"')
    number, stated = match.group("number"), match.group("currency")
    if number.startswith("-"):
        raise _problem("negative_amount", "must not be negative")
    plan_currency = (info.context or {}).get("currency")
    if stated is not None:
        stated = stated.upper()
        if plan_currency is not None and stated != plan_currency:
            raise _problem("currency_mismatch", f"is in {stated} but the plan's currency is {plan_currency}")
    currency = stated or plan_currency or "USD"  # without a valid plan currency that field fails anyway
    try:
        places = exponent(currency)
    except ValidationFailed:
        raise _problem("unknown_currency", f"names an unsupported currency {currency}") from None
    fraction = number.partition(".")[2]
    if len(fraction) > places:
        raise _problem("too_many_decimals", f"has more than {places} decimal places for {currency}")
    return Money.parse(number, currency)


Amount = Annotated[
    Money,
    PlainValidator(_to_money),
    PlainSerializer(lambda m: m.to_decimal_string(), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?( [A-Z]{3})?$", "examples": ["250.00"]}),
]


def _to_percent(value: Any) -> Decimal:
    text = _decimal_text(value, "a percentage between 0 and 100")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _problem("invalid_percent", "must be a percentage between 0 and 100") from None
    if not number.is_finite() or number < 0 or number > 100:
        raise _problem("percent_range", "must be between 0 and 100")
    if number != number.quantize(Decimal("0.01")):
        raise _problem("percent_precision", "must have at most 2 decimal places")
    return number


Percent = Annotated[
    Decimal,
    PlainValidator(_to_percent),
    PlainSerializer(lambda d: _decimal_out(d), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["20"]}),
]


def _to_factor(value: Any) -> Decimal:
    text = _decimal_text(value, "a positive decimal factor such as 1.25")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _problem("invalid_factor", "must be a positive decimal factor such as 1.25") from None
    if not number.is_finite() or number <= 0:
        raise _problem("factor_range", "must be greater than 0")
    if number != number.quantize(Decimal("0.000001")):
        raise _problem("factor_precision", "must have at most 6 decimal places")
    return number


Factor = Annotated[
    Decimal,
    PlainValidator(_to_factor),
    PlainSerializer(lambda d: _decimal_out(d), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,6})?$", "examples": ["1.278"]}),
]


def _decimal_out(value: Decimal) -> str:
    return format(value, "f")


def _int_range(low: int, high: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value < low or value > high:
            raise _problem("out_of_range", f"must be between {low} and {high}")
        return value

    return check


def _between(low: int, high: int) -> AfterValidator:
    """A whole-number range with a message naming both ends."""
    return AfterValidator(_int_range(low, high))


_PROCEDURE_RE: Final = re.compile(r"^(?:\d{5}|\d{4}[FT]|[A-V]\d{4})$")


def _procedure_code(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:05d}"
    if not isinstance(value, str) or not _PROCEDURE_RE.match(value.strip().upper()):
        raise _problem("invalid_procedure_code", "must be a CPT or HCPCS Level II code such as 70551 or E0601")
    return value.strip().upper()


ProcedureCode = Annotated[str, PlainValidator(_procedure_code), WithJsonSchema({"type": "string"})]

_CODE_RE: Final = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,39}$")


def _plan_code(value: Any) -> str:
    if not isinstance(value, str) or not _CODE_RE.match(value.strip()):
        raise _problem(
            "invalid_plan_code",
            "must be 2 to 40 upper-case letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return value.strip()


PlanCode = Annotated[str, PlainValidator(_plan_code), WithJsonSchema({"type": "string", "pattern": _CODE_RE.pattern})]


def _currency_code(value: Any) -> str:
    if not isinstance(value, str):
        raise _problem("invalid_currency", "must be an ISO 4217 currency code such as USD")
    code = value.strip().upper()
    try:
        exponent(code)
    except ValidationFailed:
        raise _problem("unknown_currency", "is not a supported ISO 4217 currency code") from None
    return code


CurrencyCode = Annotated[str, PlainValidator(_currency_code), WithJsonSchema({"type": "string", "examples": ["USD"]})]


def _text_key(value: Any) -> Any:
    """YAML reads ``15:`` and ``1:`` as numbers; keys such as age bands and areas are text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


_BAND_RE: Final = re.compile(r"^(?P<low>\d{1,3})(?:(?P<plus>\+)|-(?P<high>\d{1,3}))?$")


def parse_band(text: str) -> rules.AgeBand:
    match = _BAND_RE.match(text.strip())
    if match is None:
        raise ValueError(text)
    low = int(match.group("low"))
    if match.group("plus"):
        return rules.AgeBand(low, None)
    high = int(match.group("high")) if match.group("high") else low
    if high < low:
        raise ValueError(text)
    return rules.AgeBand(low, high)


def _age_band_text(value: Any) -> str:
    value = _text_key(value)
    if not isinstance(value, str):
        raise _problem("invalid_age_band", "must be an age band such as 21, 18-35 or 64+")
    try:
        parse_band(value)
    except ValueError:
        raise _problem("invalid_age_band", "must be an age band such as 21, 18-35 or 64+") from None
    return value.strip()


AgeBandText = Annotated[str, PlainValidator(_age_band_text), WithJsonSchema({"type": "string", "examples": ["18-35"]})]
AreaKey = Annotated[str, BeforeValidator(_text_key), Field(min_length=1, max_length=20)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- the benefit schedule ----------------------------------------------------------------------
class CostShareIn(_Model):
    copay: Amount | None = None
    copay_applies: CopayApplies | None = None
    deductible_applies: bool = False
    coinsurance_percent: Percent = Decimal(0)

    @model_validator(mode="after")
    def _copay_meets_deductible(self, info: ValidationInfo) -> CostShareIn:
        if self.copay is None:
            self.copay = Money.zero((info.context or {}).get("currency") or "USD")
        # Default: a copay replaces the deductible unless the deductible applies, then it comes first.
        if self.copay_applies is None:
            self.copay_applies = (
                CopayApplies.BEFORE_DEDUCTIBLE if self.deductible_applies else CopayApplies.INSTEAD_OF_DEDUCTIBLE
            )
        elif self.copay_applies is CopayApplies.INSTEAD_OF_DEDUCTIBLE and self.deductible_applies:
            raise _problem(
                "copay_timing",
                "instead_of_deductible contradicts deductible_applies: true",
                field="copay_applies",
            )
        elif self.copay_applies is not CopayApplies.INSTEAD_OF_DEDUCTIBLE and not self.deductible_applies:
            raise _problem(
                "copay_timing",
                f"{self.copay_applies.value} needs deductible_applies: true",
                field="copay_applies",
            )
        return self


class LimitIn(_Model):
    per: LimitPeriod
    visits: Annotated[int, _between(1, 100_000)] | None = None
    units: Annotated[int, _between(1, 100_000)] | None = None
    amount: Amount | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> LimitIn:
        given = [v for v in (self.visits, self.units, self.amount) if v is not None]
        if len(given) != 1:
            raise _problem("limit_kind", "needs exactly one of visits, units or amount")
        if self.amount is not None and self.amount.is_zero:
            raise _problem("limit_amount", "must be greater than 0", field="amount")
        return self


class BenefitIn(_Model):
    covered: bool = True
    in_network: CostShareIn | None = None
    out_of_network: CostShareIn | None = None
    limits: list[LimitIn] = Field(default_factory=list)
    requires_prior_auth: bool = False
    requires_referral: bool = False

    @model_validator(mode="after")
    def _covered_has_cost_sharing(self) -> BenefitIn:
        if self.covered and self.in_network is None:
            raise _problem("required", "is required for a covered benefit (or set covered: false)", field="in_network")
        if not self.covered:
            for name in ("in_network", "out_of_network"):
                if getattr(self, name) is not None:
                    raise _problem("not_allowed", "is not allowed on a benefit with covered: false", field=name)
            if self.limits:
                raise _problem("not_allowed", "are not allowed on a benefit with covered: false", field="limits")
        return self


class FamilyAmountsIn(_Model):
    individual: Amount
    family: Amount


class AccumulatorIn(_Model):
    family_design: FamilyDesign = FamilyDesign.EMBEDDED
    network_accumulation: NetworkAccumulation = NetworkAccumulation.SEPARATE
    in_network: FamilyAmountsIn
    out_of_network: FamilyAmountsIn | None = None


class PriorAuthorizationIn(_Model):
    when_missing: PriorAuthAction = PriorAuthAction.DENY
    procedure_codes: list[ProcedureCode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_duplicates(self) -> PriorAuthorizationIn:
        seen: dict[str, int] = {}
        for index, code in enumerate(self.procedure_codes):
            if code in seen:
                raise _problem(
                    "duplicate_code",
                    f"repeats procedure_codes.{seen[code]}",
                    field=f"procedure_codes.{index}",
                )
            seen[code] = index
        return self


class GracePeriodIn(_Model):
    days: Annotated[int, _between(1, 90)] = 30
    aptc_months: Annotated[int, _between(1, 12)] | None = None
    reinstatement_days: Annotated[int, _between(1, 365)] | None = None
    """Days after an unpaid grace period ends in which paying everything owed reinstates the policy
    (absent: a lapse for non-payment is final)."""


class AdministrationIn(_Model):
    timely_filing_days: Annotated[int, _between(1, 1095)] = 365
    appeal_window_days: Annotated[int, _between(1, 730)] = 180
    grace_period: GracePeriodIn = Field(default_factory=GracePeriodIn)
    high_dollar_pend_threshold: Amount | None = None
    reimbursement_auto_approve_max: Amount | None = None
    medically_unlikely_edits: dict[ProcedureCode, Annotated[int, _between(1, 9_999)]] = Field(default_factory=dict)


_FEE_KEY_RE: Final = re.compile(r"^(?P<code>[0-9A-Z]{5})(?:-(?P<modifier>[0-9A-Z]{2}))?$")


def _fee_key(value: Any) -> str:
    text = value.strip().upper() if isinstance(value, str) else value
    match = _FEE_KEY_RE.match(text) if isinstance(text, str) else None
    if match is None or not _PROCEDURE_RE.match(match.group("code")):
        raise _problem("invalid_fee_key", "must be a procedure code, optionally with a modifier: 99213 or 99213-26")
    return text


FeeKey = Annotated[str, PlainValidator(_fee_key), WithJsonSchema({"type": "string", "examples": ["99213-26"]})]


class BaseScheduleIn(_Model):
    conversion_factor: Factor
    percent: Factor
    relative_values: dict[FeeKey, Factor] = Field(min_length=1)

    @model_validator(mode="after")
    def _sensible_percent(self) -> BaseScheduleIn:
        if self.percent > 1000:
            raise _problem("percent_range", "must be at most 1000", field="percent")
        return self


class OutOfNetworkAllowableIn(_Model):
    amounts: dict[FeeKey, Amount] = Field(default_factory=dict)
    base_schedule: BaseScheduleIn | None = None
    percent_of_billed: Percent | None = None

    @model_validator(mode="after")
    def _something(self) -> OutOfNetworkAllowableIn:
        if not self.amounts and self.base_schedule is None and self.percent_of_billed is None:
            raise _problem("empty", "needs amounts, a base_schedule or percent_of_billed")
        return self


class DependentsIn(_Model):
    relationships: list[Relationship] | None = None
    child_max_age: Annotated[int, _between(1, 40)] | None = None
    max_members: Annotated[int, _between(1, 20)] | None = None

    @field_validator("relationships")
    @classmethod
    def _dependents_only(cls, value: list[Relationship] | None) -> list[Relationship] | None:
        if value is None:
            return value
        if Relationship.SUBSCRIBER in value:
            raise _problem("not_allowed", "lists dependents only; the subscriber is always covered")
        if len(set(value)) != len(value):
            raise _problem("duplicate", "names a relationship twice")
        return value


class RoomRentIn(_Model):
    percent_of_sum_insured: Percent | None = None
    amount_per_day: Amount | None = None
    icu_percent_of_sum_insured: Percent | None = None
    icu_amount_per_day: Amount | None = None
    proportional_deduction: bool = True


class WaitingPeriodsIn(_Model):
    initial_days: Annotated[int, _between(0, 90)] = 30
    initial_waived_for_accidents: bool = True
    pre_existing_months: Annotated[int, _between(0, 48)] = 36
    named_illness_months: Annotated[int, _between(0, 48)] = 24
    named_illnesses: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(default_factory=list)

    @field_validator("named_illnesses")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len({v.lower() for v in value}) != len(value):
            raise _problem("duplicate", "names an illness twice")
        return value


class SeniorCopayIn(_Model):
    from_age: Annotated[int, _between(18, 120)]
    percent: Percent


class HospitalisationIn(_Model):
    minimum_hours: Annotated[int, _between(0, 72)] = 24
    pre_days: Annotated[int, _between(0, 180)] = 30
    post_days: Annotated[int, _between(0, 365)] = 60


class OpdIn(_Model):
    covered: bool = False
    annual_limit: Amount | None = None


class SumInsuredIn(_Model):
    amount: Amount
    basis: SumInsuredBasis
    copay_percent: Percent = Decimal(0)
    senior_copay: SeniorCopayIn | None = None
    room_rent: RoomRentIn | None = None
    waiting_periods: WaitingPeriodsIn = Field(default_factory=WaitingPeriodsIn)
    hospitalisation: HospitalisationIn = Field(default_factory=HospitalisationIn)
    ipd_covered: bool = True
    opd: OpdIn = Field(default_factory=OpdIn)


# -- rating --------------------------------------------------------------------------------------
def _same_currency(value: str | None, info: ValidationInfo) -> str | None:
    plan_currency = (info.context or {}).get("currency")
    if value is not None and plan_currency is not None and value != plan_currency:
        raise _problem("currency_mismatch", f"must equal the plan currency {plan_currency}")
    return value


class _RatingBase(_Model):
    currency: CurrencyCode | None = None

    @field_validator("currency")
    @classmethod
    def _plan_currency(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _same_currency(value, info)


class ContributionIn(_Model):
    """Exactly one of: ``percent`` (all tiers), ``percent_by_tier``, ``fixed`` (all tiers), ``fixed_by_tier``."""

    percent: Percent | None = None
    percent_by_tier: dict[Tier, Percent] | None = None
    fixed: Amount | None = None
    fixed_by_tier: dict[Tier, Amount] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ContributionIn:
        given = [n for n in ("percent", "percent_by_tier", "fixed", "fixed_by_tier") if getattr(self, n) is not None]
        if len(given) != 1:
            raise _problem("contribution_kind", "needs exactly one of percent, percent_by_tier, fixed, fixed_by_tier")
        return self


class TierRatingIn(_RatingBase):
    method: Literal["tier"]
    period: PremiumPeriod = PremiumPeriod.MONTHLY
    tiers: dict[Tier, Amount]
    employer_contribution: ContributionIn | None = None


class AgeRatedIn(_RatingBase):
    method: Literal["age_rated"]
    period: PremiumPeriod = PremiumPeriod.MONTHLY
    base_rate: Amount
    age_curve: dict[AgeBandText, Factor]
    tobacco_factor: Factor = Decimal(1)
    tobacco_min_age: Annotated[int, _between(0, 120)] = 21
    rating_areas: dict[AreaKey, Factor]
    default_rating_area: AreaKey | None = None


class AgeBandPremiumIn(_Model):
    ages: AgeBandText
    premium: Amount


class FamilyDiscountIn(_Model):
    min_members: Annotated[int, _between(2, 20)]
    percent: Percent


class AgeBandRatingIn(_RatingBase):
    method: Literal["age_band"]
    period: PremiumPeriod = PremiumPeriod.ANNUAL
    age_bands: list[AgeBandPremiumIn] = Field(min_length=1)
    family_size_factors: dict[Annotated[int, _between(1, 20)], Factor] = Field(default_factory=dict)
    family_discounts: list[FamilyDiscountIn] = Field(default_factory=list)


RatingIn = Annotated[TierRatingIn | AgeRatedIn | AgeBandRatingIn, Field(discriminator="method")]
RATING_METHODS: Final = ("tier", "age_rated", "age_band")


# -- the document ----------------------------------------------------------------------------------
US_DEFAULT_DEPENDENTS: Final = [Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER, Relationship.CHILD]
SUM_INSURED_DEFAULT_DEPENDENTS: Final = [
    Relationship.SPOUSE,
    Relationship.CHILD,
    Relationship.PARENT,
    Relationship.PARENT_IN_LAW,
    Relationship.SIBLING,
]


class PlanDocument(_Model):
    """One version of one plan."""

    format_version: Literal[1] = 1
    code: PlanCode
    version: Annotated[int, _between(1, 1_000_000)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] | None = None
    market: Market
    plan_type: PlanType
    currency: CurrencyCode
    effective_from: date
    effective_to: date | None = None
    metal_level: MetalLevel | None = None
    grandfathered: bool = False
    accumulator_period: AccumulatorPeriod = AccumulatorPeriod.CALENDAR_YEAR
    out_of_network_covered: bool | None = None
    dependents: DependentsIn = Field(default_factory=DependentsIn)
    deductible: AccumulatorIn | None = None
    out_of_pocket_max: AccumulatorIn | None = None
    benefits: dict[BenefitCategory, BenefitIn] = Field(min_length=1)
    prior_authorization: PriorAuthorizationIn = Field(default_factory=PriorAuthorizationIn)
    administration: AdministrationIn = Field(default_factory=AdministrationIn)
    sum_insured: SumInsuredIn | None = None
    out_of_network_allowable: OutOfNetworkAllowableIn | None = None
    rating: RatingIn

    @model_validator(mode="after")
    def _defaults_by_style(self) -> PlanDocument:
        us_style = self.plan_type.is_us_style
        if self.out_of_network_covered is None:
            self.out_of_network_covered = not self.plan_type.is_closed_network
        if self.dependents.relationships is None:
            self.dependents.relationships = list(US_DEFAULT_DEPENDENTS if us_style else SUM_INSURED_DEFAULT_DEPENDENTS)
        if self.dependents.child_max_age is None:
            # US: to 26 (ACA). Sum-insured retail products commonly cover children to 25.
            self.dependents.child_max_age = rules.ACA_CHILD_AGE_LIMIT if us_style else 25
        grace = self.administration.grace_period
        if grace.aptc_months is None and us_style and self.market is Market.INDIVIDUAL:
            grace.aptc_months = rules.ACA_APTC_GRACE_MONTHS
        return self


class PlanBundle(_Model):
    plans: list[Any] = Field(min_length=1)


# ---------------------------------------------------------------------------------------------
# Pydantic errors as field errors
# ---------------------------------------------------------------------------------------------
_GENERIC: Final[dict[str, str]] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be text",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date without a time",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
}

_CATEGORY_LIST: Final = ", ".join(c.value for c in BenefitCategory)


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """Translate pydantic's errors into ``FieldError``s with document paths and plain messages."""
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in err["loc"]]
        kind = err["type"]
        ctx = err.get("ctx") or {}
        # A discriminated union puts the tag in the path: rating.tier.tiers → rating.tiers.
        loc = [p for i, p in enumerate(loc) if not (i > 0 and loc[i - 1] == "rating" and p in RATING_METHODS)]
        is_key = bool(loc) and loc[-1] == "[key]"
        if is_key:
            loc = loc[:-1]
        if "field" in ctx:
            loc.extend(str(ctx["field"]).split("."))
        path = ".".join([p for p in [prefix.rstrip(".")] if p] + loc) or "document"
        if kind in ("union_tag_not_found", "union_tag_invalid"):
            errors.append(
                FieldError(f"{path}.method", f"must be one of: {', '.join(RATING_METHODS)}", "invalid_method")
            )
            continue
        if is_key and kind == "enum" and len(loc) >= 2 and loc[-2] == "benefits":
            message = f"is not a known benefit category (known: {_CATEGORY_LIST})"
            errors.append(FieldError(path, message, "unknown_benefit_category"))
            continue
        if kind == "enum":
            message = f"must be one of: {_expected(ctx)}"
            kind = "invalid_choice"
        elif kind == "literal_error":
            message = f"must be {_expected(ctx)}"
        elif kind in _GENERIC:
            message = _GENERIC[kind]
        elif kind == "too_short" or kind.endswith("_too_short"):
            message = "must not be empty"
        elif kind == "string_too_long":
            message = f"must be at most {ctx.get('max_length')} characters"
        else:
            message = str(err["msg"])
            if message.startswith("Value error, "):
                message = message[len("Value error, ") :]
        errors.append(FieldError(path, message, kind))
    return errors


def _expected(ctx: dict[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace("'", "")


# ---------------------------------------------------------------------------------------------
# Reading documents
# ---------------------------------------------------------------------------------------------
def _currency_of(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("currency"), str):
        code = str(data["currency"]).strip().upper()
        try:
            exponent(code)
        except ValidationFailed:
            return None
        return code
    return None


def validate_plan(data: Any, prefix: str = "") -> PlanDocument:
    """One plan document, validated; ``ValidationFailed`` lists every field error."""
    try:
        return PlanDocument.model_validate(data, context={"currency": _currency_of(data)})
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc, prefix)) from None


def validate_documents(data: Any) -> list[PlanDocument]:
    """A single plan, or ``plans: [...]``; all must be valid, and no code+version may repeat."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            [FieldError("document", "must be a mapping: one plan, or plans: [...]", "not_a_mapping")]
        )
    if "plans" not in data:
        return [validate_plan(data)]
    try:
        bundle = PlanBundle.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc)) from None
    documents: list[PlanDocument] = []
    errors: list[FieldError] = []
    for index, item in enumerate(bundle.plans):
        try:
            documents.append(validate_plan(item, prefix=f"plans.{index}"))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    seen: dict[tuple[str, int], int] = {}
    for index, doc in enumerate(documents):
        key = (doc.code, doc.version)
        if key in seen:
            errors.append(
                FieldError(
                    f"plans.{index}.version",
                    f"repeats plans.{seen[key]}: {doc.code} version {doc.version} appears twice",
                    "duplicate_version",
                )
            )
        seen[key] = index
    by_code: dict[str, list[tuple[int, PlanDocument]]] = {}
    for index, doc in enumerate(documents):
        by_code.setdefault(doc.code, []).append((index, doc))
    for entries in by_code.values():
        ordered = sorted(entries, key=lambda entry: entry[1].version)
        for (_earlier_index, earlier), (index, later) in pairwise(ordered):
            if later.version != earlier.version and later.effective_from <= earlier.effective_from:
                errors.append(
                    FieldError(
                        f"plans.{index}.effective_from",
                        f"must be after version {earlier.version}'s effective_from "
                        f"({earlier.effective_from.isoformat()})",
                        "versions_out_of_order",
                    )
                )
    if errors:
        raise ValidationFailed(errors)
    return documents


def read_documents(raw: bytes | str, fmt: DocumentFormat) -> list[PlanDocument]:
    return validate_documents(parse_text(raw, fmt))


def canonical(doc: PlanDocument) -> dict[str, Any]:
    """The stored form: JSON-ready, defaults filled in, money as decimal strings."""
    return doc.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------------------------------------
# Step 3: the frozen plan the rules work on
# ---------------------------------------------------------------------------------------------
def _cost_share(share: CostShareIn | None, currency: str) -> rules.CostShare | None:
    if share is None:
        return None
    assert share.copay_applies is not None  # filled in by the model validator
    return rules.CostShare(
        copay=share.copay or Money.zero(currency),
        copay_applies=share.copay_applies,
        deductible_applies=share.deductible_applies,
        coinsurance_percent=share.coinsurance_percent,
    )


def _limit(limit: LimitIn) -> rules.BenefitLimit:
    if limit.visits is not None:
        return rules.BenefitLimit(LimitKind.VISITS, limit.per, quantity=limit.visits)
    if limit.units is not None:
        return rules.BenefitLimit(LimitKind.UNITS, limit.per, quantity=limit.units)
    return rules.BenefitLimit(LimitKind.AMOUNT, limit.per, amount=limit.amount)


def _accumulator(terms: AccumulatorIn | None) -> rules.AccumulatorTerms | None:
    if terms is None:
        return None
    oon = terms.out_of_network
    return rules.AccumulatorTerms(
        in_network=rules.FamilyAmounts(terms.in_network.individual, terms.in_network.family),
        out_of_network=None if oon is None else rules.FamilyAmounts(oon.individual, oon.family),
        family_design=terms.family_design,
        network_accumulation=terms.network_accumulation,
    )


def _out_of_network(terms: OutOfNetworkAllowableIn | None) -> rules.OutOfNetworkAllowable | None:
    if terms is None:
        return None
    base = terms.base_schedule
    return rules.OutOfNetworkAllowable(
        amounts=MappingProxyType(dict(terms.amounts)),
        base_percent=base.percent if base else None,
        conversion_factor=base.conversion_factor if base else None,
        relative_values=MappingProxyType(dict(base.relative_values) if base else {}),
        percent_of_billed=terms.percent_of_billed,
    )


def _sum_insured(terms: SumInsuredIn | None) -> rules.SumInsuredTerms | None:
    if terms is None:
        return None
    room = terms.room_rent
    waiting = terms.waiting_periods
    return rules.SumInsuredTerms(
        amount=terms.amount,
        basis=terms.basis,
        copay_percent=terms.copay_percent,
        senior_copay=None
        if terms.senior_copay is None
        else rules.SeniorCopay(terms.senior_copay.from_age, terms.senior_copay.percent),
        room_rent=None
        if room is None
        else rules.RoomRentLimit(
            percent_of_sum_insured=room.percent_of_sum_insured,
            amount_per_day=room.amount_per_day,
            icu_percent_of_sum_insured=room.icu_percent_of_sum_insured,
            icu_amount_per_day=room.icu_amount_per_day,
            proportional_deduction=room.proportional_deduction,
        ),
        waiting_periods=rules.WaitingPeriods(
            initial_days=waiting.initial_days,
            initial_waived_for_accidents=waiting.initial_waived_for_accidents,
            pre_existing_months=waiting.pre_existing_months,
            named_illness_months=waiting.named_illness_months,
            named_illnesses=tuple(waiting.named_illnesses),
        ),
        minimum_hospitalisation_hours=terms.hospitalisation.minimum_hours,
        pre_hospitalisation_days=terms.hospitalisation.pre_days,
        post_hospitalisation_days=terms.hospitalisation.post_days,
        ipd_covered=terms.ipd_covered,
        opd_covered=terms.opd.covered,
        opd_annual_limit=terms.opd.annual_limit,
    )


def _contribution(contribution: ContributionIn | None) -> rules.EmployerContribution | None:
    if contribution is None:
        return None
    if contribution.percent is not None:
        return rules.PercentContribution(MappingProxyType(dict.fromkeys(Tier, contribution.percent)))
    if contribution.percent_by_tier is not None:
        return rules.PercentContribution(MappingProxyType(dict(contribution.percent_by_tier)))
    if contribution.fixed is not None:
        return rules.FixedContribution(MappingProxyType(dict.fromkeys(Tier, contribution.fixed)))
    assert contribution.fixed_by_tier is not None
    return rules.FixedContribution(MappingProxyType(dict(contribution.fixed_by_tier)))


def _rating(rating: TierRatingIn | AgeRatedIn | AgeBandRatingIn) -> rules.RateTable:
    if isinstance(rating, TierRatingIn):
        return rules.TierRateTable(
            period=rating.period,
            rates=MappingProxyType(dict(rating.tiers)),
            employer_contribution=_contribution(rating.employer_contribution),
        )
    if isinstance(rating, AgeRatedIn):
        curve = sorted(((parse_band(k), v) for k, v in rating.age_curve.items()), key=lambda kv: kv[0].min_age)
        return rules.AgeRatedTable(
            period=rating.period,
            base_rate=rating.base_rate,
            age_curve=tuple(curve),
            tobacco_factor=rating.tobacco_factor,
            tobacco_min_age=rating.tobacco_min_age,
            rating_areas=MappingProxyType(dict(rating.rating_areas)),
            default_rating_area=rating.default_rating_area,
        )
    return rules.AgeBandTable(
        period=rating.period,
        bands=tuple(rules.BandPremium(parse_band(b.ages), b.premium) for b in rating.age_bands),
        family_size_factors=MappingProxyType(dict(rating.family_size_factors)),
        family_discounts=tuple(rules.FamilyDiscount(d.min_members, d.percent) for d in rating.family_discounts),
    )


def to_plan_version(doc: PlanDocument) -> rules.PlanVersion:
    currency = doc.currency
    benefits = {
        category: rules.Benefit(
            category=category,
            covered=benefit.covered,
            in_network=_cost_share(benefit.in_network, currency),
            out_of_network=_cost_share(benefit.out_of_network, currency),
            limits=tuple(_limit(limit) for limit in benefit.limits),
            requires_prior_auth=benefit.requires_prior_auth,
            requires_referral=benefit.requires_referral,
        )
        for category, benefit in doc.benefits.items()
    }
    admin = doc.administration
    assert doc.out_of_network_covered is not None
    assert doc.dependents.relationships is not None
    assert doc.dependents.child_max_age is not None
    schedule = rules.BenefitSchedule(
        plan_code=doc.code,
        plan_version=doc.version,
        plan_name=doc.name,
        plan_type=doc.plan_type,
        market=doc.market,
        currency=currency,
        effective=DatePeriod(doc.effective_from, doc.effective_to)
        if doc.effective_to is None or doc.effective_to >= doc.effective_from
        else DatePeriod(doc.effective_from, doc.effective_from),
        accumulator_period=doc.accumulator_period,
        out_of_network_covered=doc.out_of_network_covered,
        deductible=_accumulator(doc.deductible),
        out_of_pocket_max=_accumulator(doc.out_of_pocket_max),
        benefits=MappingProxyType(benefits),
        prior_authorization=rules.PriorAuthorizationRules(
            when_missing=doc.prior_authorization.when_missing,
            procedure_codes=frozenset(doc.prior_authorization.procedure_codes),
        ),
        administration=rules.Administration(
            timely_filing_days=admin.timely_filing_days,
            appeal_window_days=admin.appeal_window_days,
            grace_period=rules.GracePeriodRule(
                admin.grace_period.days, admin.grace_period.aptc_months, admin.grace_period.reinstatement_days
            ),
            high_dollar_pend_threshold=admin.high_dollar_pend_threshold,
            medically_unlikely_edits=MappingProxyType(dict(admin.medically_unlikely_edits)),
            reimbursement_auto_approve_max=admin.reimbursement_auto_approve_max,
        ),
        sum_insured=_sum_insured(doc.sum_insured),
        out_of_network_allowable=_out_of_network(doc.out_of_network_allowable),
    )
    return rules.PlanVersion(
        code=doc.code,
        version=doc.version,
        name=doc.name,
        market=doc.market,
        plan_type=doc.plan_type,
        currency=currency,
        effective_from=doc.effective_from,
        effective_to=doc.effective_to,
        metal_level=doc.metal_level,
        grandfathered=doc.grandfathered,
        schedule=schedule,
        dependents=rules.DependentRules(
            relationships=frozenset(doc.dependents.relationships),
            child_max_age=doc.dependents.child_max_age,
            max_members=doc.dependents.max_members,
        ),
        rating=_rating(doc.rating),
    )


def checked_plan(doc: PlanDocument, limits: rules.RegulatoryLimits, prefix: str = "") -> rules.PlanVersion:
    """The plan, after every cross-field and regulatory check; ``ValidationFailed`` otherwise."""
    plan = to_plan_version(doc)
    problems = rules.check_plan(plan, limits)
    if problems:
        raise ValidationFailed(
            [FieldError(f"{prefix}.{e.field}" if prefix else e.field, e.message, e.code) for e in problems]
        )
    return plan
