"""Loading and reading plans in the database (SQLite and PostgreSQL): versions are append-only and
"which version was in force on date D" is exact."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from olly.kernel.errors import Conflict, NotFound, ValidationFailed
from olly.kernel.ids import uuid7
from olly.kernel.money import Money
from olly.plans import public, rules, service
from olly.plans.models import BenefitRecord, Plan, PlanVersionRecord
from olly.plans.rules import BenefitCategory, Network, QuotedMember, QuoteRequest, Relationship, Tier
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform
from tests.plan_documents import changed, demo_data, demo_version


def limits(platform: Platform) -> rules.RegulatoryLimits:
    return service.limits_from_settings(platform.settings)


def load(platform: Platform, tenant_id: uuid.UUID, data: dict[str, object]) -> list[service.LoadOutcome]:
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.load_text(uow, json.dumps(data, default=str), "json", limits(platform), source="test")


def counts(uow: UnitOfWork) -> tuple[int, int, int]:
    session = uow.session
    return (
        session.scalar(select(func.count()).select_from(Plan)) or 0,
        session.scalar(select(func.count()).select_from(PlanVersionRecord)) or 0,
        session.scalar(select(func.count()).select_from(BenefitRecord)) or 0,
    )


def read(platform: Platform, tenant_id: uuid.UUID) -> UnitOfWork:
    return platform.db.unit_of_work(tenant_id, read_only=True)


def test_load_demo_plans_then_again_unchanged(platform: Platform, tenant_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        first = service.load_demo_plans(uow, limits(platform))
    assert sorted((o.code, o.version, o.status) for o in first) == [
        ("OLLY-ACA-SILVER", 1, "created"),
        ("OLLY-FLOATER-5L", 1, "created"),
        ("OLLY-HDHP-3400", 1, "created"),
        ("OLLY-HMO-250", 1, "created"),
        ("OLLY-PPO-1000", 1, "created"),
    ]
    with read(platform, tenant_id) as uow:
        before = counts(uow)
    with platform.db.unit_of_work(tenant_id) as uow:
        second = service.load_demo_plans(uow, limits(platform))
    assert {o.status for o in second} == {"unchanged"}
    assert [o.version_id for o in second] == [o.version_id for o in first]
    with read(platform, tenant_id) as uow:
        assert counts(uow) == before
        listing = service.list_plans(uow, date(2026, 1, 15))
    assert [
        (item.code, item.latest_version, item.in_force.plan.version if item.in_force else None) for item in listing
    ] == [
        ("OLLY-ACA-SILVER", 1, 1),
        ("OLLY-FLOATER-5L", 1, 1),
        ("OLLY-HDHP-3400", 1, 1),
        ("OLLY-HMO-250", 1, 1),
        ("OLLY-PPO-1000", 1, 1),
    ]


def test_a_version_is_never_rewritten(platform: Platform, tenant_id: uuid.UUID) -> None:
    load(platform, tenant_id, demo_data("OLLY-PPO-1000"))
    with read(platform, tenant_id) as uow:
        original = service.get_version(uow, "OLLY-PPO-1000", 1)
        before = counts(uow)
    altered = changed(demo_data("OLLY-PPO-1000"), "benefits.office_visit.in_network.copay", "30.00")
    with pytest.raises(Conflict) as caught:
        load(platform, tenant_id, altered)
    assert caught.value.detail == (
        "plan OLLY-PPO-1000 version 1 is already loaded with different content; "
        "versions are never rewritten: load the change as a new version"
    )
    with read(platform, tenant_id) as uow:
        assert counts(uow) == before
        again = service.get_version(uow, "OLLY-PPO-1000", 1)
    assert again.document_sha256 == original.document_sha256
    assert again.document["benefits"]["office_visit"]["in_network"]["copay"] == "25.00"


def test_versions_in_force_by_date(platform: Platform, tenant_id: uuid.UUID) -> None:
    load(platform, tenant_id, demo_data("OLLY-PPO-1000"))
    with read(platform, tenant_id) as uow:
        v1_before = service.get_version(uow, "OLLY-PPO-1000", 1)
    v2 = demo_version("OLLY-PPO-1000", 2, "2026-07-01", benefits__office_visit__in_network__copay="30.00")
    assert [o.status for o in load(platform, tenant_id, v2)] == ["created"]

    with read(platform, tenant_id) as uow:

        def version_on(day: date) -> int | None:
            stored = service.find_version_in_force(uow, "OLLY-PPO-1000", day)
            return stored.plan.version if stored else None

        assert version_on(date(2025, 12, 31)) is None
        assert version_on(date(2026, 1, 1)) == 1
        assert version_on(date(2026, 6, 30)) == 1
        assert version_on(date(2026, 7, 1)) == 2
        assert version_on(date(2030, 1, 1)) == 2
        v1_after = service.get_version(uow, "OLLY-PPO-1000", 1)
        office_july = public.benefit_schedule(uow, "OLLY-PPO-1000", date(2026, 7, 1))
        office_june = public.benefit_schedule(uow, "OLLY-PPO-1000", date(2026, 6, 30))
        versions = service.list_versions(uow, "OLLY-PPO-1000")
    # Loading version 2 left version 1 exactly as it was.
    assert (v1_after.id, v1_after.document_sha256, v1_after.loaded_at) == (
        v1_before.id,
        v1_before.document_sha256,
        v1_before.loaded_at,
    )
    assert dict(v1_after.document) == dict(v1_before.document)
    assert office_june is not None
    assert office_july is not None
    june = office_june.cost_share(BenefitCategory.OFFICE_VISIT, Network.IN_NETWORK)
    july = office_july.cost_share(BenefitCategory.OFFICE_VISIT, Network.IN_NETWORK)
    assert june is not None
    assert july is not None
    assert (june.copay, july.copay) == (Money(2500, "USD"), Money(3000, "USD"))
    assert [(v.plan.version, v.plan.effective_from) for v in versions] == [
        (1, date(2026, 1, 1)),
        (2, date(2026, 7, 1)),
    ]


def test_an_end_date_ends_the_plan(platform: Platform, tenant_id: uuid.UUID) -> None:
    load(platform, tenant_id, changed(demo_data("OLLY-HMO-250"), "effective_to", "2026-12-31"))
    with read(platform, tenant_id) as uow:
        assert service.find_version_in_force(uow, "OLLY-HMO-250", date(2026, 12, 31)) is not None
        assert service.find_version_in_force(uow, "OLLY-HMO-250", date(2027, 1, 1)) is None
        with pytest.raises(NotFound) as caught:
            service.version_in_force(uow, "OLLY-HMO-250", date(2027, 1, 1))
    assert caught.value.detail == "plan OLLY-HMO-250 has no version in force on 2027-01-01"


@pytest.mark.parametrize(
    ("version", "effective_from", "expected"),
    [
        (
            2,
            "2026-01-10",  # the clock says 2026-01-15
            (
                "effective_from",
                "must be after today (2026-01-15): a new version may not change which version was in force "
                "on a past date",
            ),
        ),
        (2, "2026-01-01", ("effective_from", "must be after the effective_from of stored version 1 (2026-01-01)")),
    ],
    ids=["retroactive", "same-start"],
)
def test_a_new_version_may_not_change_the_past(
    platform: Platform, tenant_id: uuid.UUID, version: int, effective_from: str, expected: tuple[str, str]
) -> None:
    load(platform, tenant_id, demo_data("OLLY-PPO-1000"))
    with read(platform, tenant_id) as uow:
        before = counts(uow)
    with pytest.raises(ValidationFailed) as caught:
        load(platform, tenant_id, demo_version("OLLY-PPO-1000", version, effective_from))
    assert [(e.field, e.message) for e in caught.value.errors] == [expected]
    with read(platform, tenant_id) as uow:
        assert counts(uow) == before


def test_versions_only_go_up(platform: Platform, tenant_id: uuid.UUID) -> None:
    load(platform, tenant_id, demo_version("OLLY-PPO-1000", 3, "2026-01-01"))
    with pytest.raises(ValidationFailed) as caught:
        load(platform, tenant_id, demo_version("OLLY-PPO-1000", 2, "2027-01-01"))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("version", "must be greater than the latest stored version (3)")
    ]


def test_a_first_load_may_bring_history(platform: Platform, tenant_id: uuid.UUID) -> None:
    # A plan new to Olly may arrive with its past versions: nothing was in force here before.
    bundle = {
        "plans": [
            demo_version("OLLY-HMO-250", 1, "2025-01-01"),
            demo_version("OLLY-HMO-250", 2, "2026-01-01", rating__tiers__EE="512.00"),
        ]
    }
    outcomes = load(platform, tenant_id, bundle)
    assert [(o.version, o.status) for o in outcomes] == [(1, "created"), (2, "created")]
    with read(platform, tenant_id) as uow:
        q2025 = public.quote_premium(uow, "OLLY-HMO-250", date(2025, 6, 1), QuoteRequest(tier=Tier.EE))
        q2026 = public.quote_premium(uow, "OLLY-HMO-250", date(2026, 1, 15), QuoteRequest(tier=Tier.EE))
    # 498.76 - 450.00 = 48.76 in 2025; 512.00 - 450.00 = 62.00 in 2026
    assert (q2025.plan_version, q2025.member_premium) == (1, Money(4876, "USD"))
    assert (q2026.plan_version, q2026.member_premium) == (2, Money(6200, "USD"))


def test_a_document_with_one_bad_plan_writes_nothing(platform: Platform, tenant_id: uuid.UUID) -> None:
    bundle = {
        "plans": [
            demo_data("OLLY-PPO-1000"),
            changed(demo_data("OLLY-ACA-SILVER"), "rating.tobacco_factor", "1.75"),
        ]
    }
    with pytest.raises(ValidationFailed) as caught:
        load(platform, tenant_id, bundle)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("plans.1.rating.tobacco_factor", "must not exceed 1.5 (the ACA allows tobacco rating up to 1.5:1)")
    ]
    with read(platform, tenant_id) as uow:
        assert counts(uow) == (0, 0, 0)


def test_benefit_rows_copy_the_cost_sharing(platform: Platform, tenant_id: uuid.UUID) -> None:
    [ppo] = load(platform, tenant_id, demo_data("OLLY-PPO-1000"))
    [hmo] = load(platform, tenant_id, demo_data("OLLY-HMO-250"))
    with read(platform, tenant_id) as uow:
        rows = {(r.category, r.network): r for r in service.repository.benefit_rows(uow.session, ppo.version_id)}
        hmo_rows = {(r.category, r.network): r for r in service.repository.benefit_rows(uow.session, hmo.version_id)}
    office_in, office_out = rows[("office_visit", "in_network")], rows[("office_visit", "out_of_network")]
    assert (office_in.covered, office_in.copay_minor, office_in.copay_applies, office_in.deductible_applies) == (
        True,
        2500,
        "instead_of_deductible",
        False,
    )
    assert (office_out.copay_minor, office_out.coinsurance_basis_points, office_out.deductible_applies) == (
        0,
        4000,
        True,
    )
    assert rows[("inpatient_facility", "in_network")].requires_prior_auth is True
    assert rows[("dental", "in_network")].covered is False
    assert rows[("dental", "in_network")].copay_minor is None
    # Two rows per listed category (in and out of network).
    assert len(rows) == 2 * 26  # the PPO lists 26 categories
    # HMO: nothing out of network except the emergency, which carries in-network cost sharing.
    assert hmo_rows[("office_visit", "out_of_network")].covered is False
    emergency_out = hmo_rows[("emergency", "out_of_network")]
    assert (emergency_out.covered, emergency_out.copay_minor) == (True, 25000)


def test_each_tenant_has_its_own_plans(platform: Platform, tenant_id: uuid.UUID) -> None:
    other = uuid7()
    load(platform, tenant_id, demo_data("OLLY-PPO-1000"))
    with read(platform, other) as uow:
        assert service.list_plans(uow, date(2026, 1, 15)) == []
        assert public.plan_version_in_force(uow, "OLLY-PPO-1000", date(2026, 1, 15)) is None
    # The other tenant may load its own plan under the same code.
    different = changed(demo_data("OLLY-PPO-1000"), "rating.tiers.EE", "700.00")
    assert [o.status for o in load(platform, other, different)] == ["created"]
    with read(platform, other) as uow:
        theirs = public.quote_premium(uow, "OLLY-PPO-1000", date(2026, 1, 15), QuoteRequest(tier=Tier.EE))
    with read(platform, tenant_id) as uow:
        ours = public.quote_premium(uow, "OLLY-PPO-1000", date(2026, 1, 15), QuoteRequest(tier=Tier.EE))
    assert (theirs.total_premium, ours.total_premium) == (Money(70000, "USD"), Money(61234, "USD"))


def test_public_read_functions(platform: Platform, tenant_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        service.load_demo_plans(uow, limits(platform))
    day = date(2026, 3, 1)
    with read(platform, tenant_id) as uow:
        info = public.plan_version_in_force(uow, public.DEMO_PLAN_CODES["family_floater"], day)
        everything = public.plans_in_force(uow, day)
        schedule = public.benefit_schedule(uow, "OLLY-ACA-SILVER", day)
        as_document = public.benefit_schedule_document(uow, "OLLY-ACA-SILVER", day)
        quote = public.quote_premium(
            uow,
            "OLLY-ACA-SILVER",
            day,
            QuoteRequest(members=(QuotedMember(Relationship.SUBSCRIBER, 40),), rating_area="1"),
        )
        missing = public.benefit_schedule(uow, "NO-SUCH-PLAN", day)
        before_start = public.plan_version_in_force(uow, "OLLY-PPO-1000", date(2025, 12, 31))
    assert info is not None
    assert (info.plan_code, info.plan_version, info.currency, info.market, info.plan_type) == (
        "OLLY-FLOATER-5L",
        1,
        "INR",
        public.Market.INDIVIDUAL,
        public.PlanType.SUM_INSURED,
    )
    assert info.dependents.relationships >= {Relationship.PARENT, Relationship.SIBLING}
    assert info.dependents.max_members == 6
    assert (info.rating_method, info.premium_period, info.sum_insured_basis) == (
        public.RatingMethod.AGE_BAND,
        public.PremiumPeriod.ANNUAL,
        public.SumInsuredBasis.FAMILY_FLOATER,
    )
    assert [i.plan_code for i in everything] == sorted(public.DEMO_PLAN_CODES.values())
    assert schedule is not None
    assert schedule.plan_code == "OLLY-ACA-SILVER"
    lab = schedule.cost_share(BenefitCategory.LAB, Network.IN_NETWORK)
    assert lab is not None
    assert lab.copay == Money(2000, "USD")
    assert schedule.out_of_pocket_max is not None
    assert schedule.out_of_pocket_max.in_network.individual == Money(980000, "USD")
    assert as_document is not None
    assert as_document["out_of_pocket_max"]["in_network"] == {"individual": "9800.00", "family": "19600.00"}
    assert quote.total_premium == Money(49263, "USD")  # 385.47 x 1.278 = 492.63066 -> 492.63
    assert (missing, before_start) == (None, None)


def test_quotes_with_an_employers_own_contribution(platform: Platform, tenant_id: uuid.UUID) -> None:
    load(platform, tenant_id, demo_data("OLLY-PPO-1000"))
    day = date(2026, 2, 1)
    with read(platform, tenant_id) as uow:
        by_percent = service.quote(
            uow, "OLLY-PPO-1000", day, QuoteRequest(tier=Tier.EE), contribution_percent=Decimal(50)
        )
        by_amount = service.quote(uow, "OLLY-PPO-1000", day, QuoteRequest(tier=Tier.EE), contribution_amount="500.00")
        with pytest.raises(ValidationFailed) as too_much:
            service.quote(uow, "OLLY-PPO-1000", day, QuoteRequest(tier=Tier.EE), contribution_amount="700.00")
        with pytest.raises(ValidationFailed) as bad_amount:
            service.quote(uow, "OLLY-PPO-1000", day, QuoteRequest(tier=Tier.EE), contribution_amount="5.001")
    # 612.34 x 50% = 306.17; member 306.17
    assert (by_percent.employer_contribution, by_percent.member_premium) == (Money(30617, "USD"), Money(30617, "USD"))
    # 612.34 - 500.00 = 112.34
    assert by_amount.member_premium == Money(11234, "USD")
    assert [(e.field, e.message) for e in too_much.value.errors] == [
        ("employer_contribution", "exceeds the EE premium (612.34)")
    ]
    assert [(e.field, e.message) for e in bad_amount.value.errors] == [
        ("employer_contribution.amount", "must be an amount in USD such as 250.00")
    ]


def test_unknown_plans_are_not_found(platform: Platform, tenant_id: uuid.UUID) -> None:
    with read(platform, tenant_id) as uow:
        with pytest.raises(NotFound) as caught:
            service.version_in_force(uow, "NOPE", date(2026, 1, 15))
        assert caught.value.detail == "no plan with code NOPE"
        with pytest.raises(NotFound):
            service.get_version(uow, "NOPE", 1)
        with pytest.raises(NotFound):
            public.quote_premium(uow, "NOPE", date(2026, 1, 15), QuoteRequest(tier=Tier.EE))
