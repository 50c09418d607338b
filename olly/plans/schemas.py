"""Request and response models of the plans API (camelCase on the wire, money as decimal strings).

The plan document itself is a file format with its own model (``document.PlanDocument``); the
API accepts it as the request body of ``POST /api/v1/plans`` and serves it in its canonical form.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from olly.plans import rules, service


class _Api(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PlanVersionSummaryRead(_Api):
    code: str
    version: int
    name: str
    market: rules.Market
    plan_type: rules.PlanType
    currency: str
    metal_level: rules.MetalLevel | None
    effective_from: date
    effective_to: date | None
    rating_method: rules.RatingMethod
    loaded_at: datetime
    document_sha256: str

    @classmethod
    def of(cls, stored: service.StoredVersion) -> PlanVersionSummaryRead:
        plan = stored.plan
        return cls(
            code=plan.code,
            version=plan.version,
            name=plan.name,
            market=plan.market,
            plan_type=plan.plan_type,
            currency=plan.currency,
            metal_level=plan.metal_level,
            effective_from=plan.effective_from,
            effective_to=plan.effective_to,
            rating_method=plan.rating.method,
            loaded_at=stored.loaded_at,
            document_sha256=stored.document_sha256,
        )


class PlanVersionRead(PlanVersionSummaryRead):
    document: dict[str, Any] = Field(description="The canonical plan document (see docs/plans.md)")

    @classmethod
    def of(cls, stored: service.StoredVersion) -> PlanVersionRead:
        summary = PlanVersionSummaryRead.of(stored)
        return cls(**summary.model_dump(), document=dict(stored.document))


class PlanListItemRead(_Api):
    code: str
    latest_version: int
    in_force: PlanVersionSummaryRead | None = Field(description="The version in force on the date asked; null if none")


class PlanListRead(_Api):
    on: date
    plans: list[PlanListItemRead]


class LoadedVersionRead(_Api):
    code: str
    version: int
    effective_from: date
    status: str = Field(description="created, or unchanged when the same version was already loaded as is")


class LoadResultRead(_Api):
    loaded: list[LoadedVersionRead]

    @classmethod
    def of(cls, outcomes: list[service.LoadOutcome]) -> LoadResultRead:
        return cls(
            loaded=[
                LoadedVersionRead(code=o.code, version=o.version, effective_from=o.effective_from, status=o.status)
                for o in outcomes
            ]
        )


class QuoteMemberCreate(_Api):
    relationship: rules.Relationship
    age: Annotated[int, Field(ge=0, le=120, description="Completed years on the coverage start date")]
    tobacco_user: bool = False


class ContributionOverrideCreate(_Api):
    """The employer's own contribution for this quote: a percentage or an amount (one of them)."""

    percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] | None = None
    amount: Annotated[str, Field(pattern=r"^\d+(\.\d+)?$", examples=["450.00"])] | None = None

    @model_validator(mode="after")
    def _one(self) -> ContributionOverrideCreate:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("give exactly one of percent and amount")
        return self


class QuoteCreate(_Api):
    on: date | None = Field(None, description="Coverage date; the version in force then is used (default today)")
    tier: rules.Tier | None = None
    members: list[QuoteMemberCreate] = Field(default_factory=list, max_length=20)
    rating_area: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    employer_contribution: ContributionOverrideCreate | None = None

    def to_request(self) -> rules.QuoteRequest:
        return rules.QuoteRequest(
            members=tuple(rules.QuotedMember(m.relationship, m.age, m.tobacco_user) for m in self.members),
            tier=self.tier,
            rating_area=self.rating_area,
        )


class MemberPremiumRead(_Api):
    index: int
    relationship: rules.Relationship
    age: int
    rated: bool
    factors: dict[str, str]
    premium: str


class QuoteRead(_Api):
    plan_code: str
    plan_version: int
    on: date
    method: rules.RatingMethod
    period: rules.PremiumPeriod
    tier_code: rules.Tier
    currency: str
    total_premium: str
    employer_contribution: str
    member_premium: str
    members: list[MemberPremiumRead]
    steps: list[str]

    @classmethod
    def of(cls, quote: rules.PremiumQuote, on: date) -> QuoteRead:
        return cls(
            plan_code=quote.plan_code,
            plan_version=quote.plan_version,
            on=on,
            method=quote.method,
            period=quote.period,
            tier_code=quote.tier,
            currency=quote.currency,
            total_premium=quote.total_premium.to_decimal_string(),
            employer_contribution=quote.employer_contribution.to_decimal_string(),
            member_premium=quote.member_premium.to_decimal_string(),
            members=[
                MemberPremiumRead(
                    index=line.index,
                    relationship=line.relationship,
                    age=line.age,
                    rated=line.rated,
                    factors={name: format(value, "f") for name, value in line.factors},
                    premium=line.premium.to_decimal_string(),
                )
                for line in quote.members
            ],
            steps=list(quote.steps),
        )
