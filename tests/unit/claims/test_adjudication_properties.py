"""Properties of the engine over generated claims, plans and accumulator states (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from olly.claims.rules import (
    AccumulatorKind,
    AccumulatorLevel,
    AccumulatorSnapshot,
    AdjudicationRequest,
    ChargeType,
    ClaimFrequency,
    ClaimResult,
    ClaimStatus,
    FamilyDesign,
    LimitUnit,
    NetworkAccumulation,
    NetworkScope,
    PlanType,
    adjudicate,
    reverse,
)
from olly.codesets.carc import GroupCode
from olly.kernel.money import Money
from tests.unit.claims import factories as f
from tests.unit.claims.factories import DED, FAM, FAMILY, OOP, OUT, key, si_key

CODES = [
    "99211",
    "99213",
    "99215",
    "99395",
    "99284",
    "80053",
    "80061",
    "71046",
    "29881",
    "90837",
    "97110",
    "J1100",
    "E0114",
    "15780",
    "01402",
    "J0000",
]
NPIS = [f.IN_NPI, f.IN_NPI, f.IN_NPI, f.OON_NPI, f.TIER2_NPI, f.EXPIRED_NPI]
START = date(2026, 1, 1)


@st.composite
def ppo_requests(draw: st.DrawFn) -> AdjudicationRequest:
    family = draw(st.booleans())
    design = draw(st.sampled_from(list(FamilyDesign)))
    accumulation = draw(st.sampled_from(list(NetworkAccumulation)))
    plan_type = draw(st.sampled_from([PlanType.PPO, PlanType.HMO, PlanType.EPO, PlanType.HDHP]))
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        code = draw(st.sampled_from(CODES))
        units = draw(st.integers(1, 5))
        cents = draw(st.integers(0, 500_000))
        day = START + timedelta(days=draw(st.integers(0, 80)))
        lines.append(f.line(code, Money(cents, "USD").to_decimal_string(), day=day, units=units))
    claim = f.claim(
        *lines,
        billing_npi=draw(st.sampled_from(NPIS)),
        is_emergency=draw(st.booleans()),
        received_on=date(2026, 4, 1),
        diagnoses=("M17.11",),
    )
    values: dict = {}
    scopes = [NetworkScope.COMBINED] if accumulation is NetworkAccumulation.COMBINED else [NetworkScope.IN_NETWORK, OUT]
    for scope in scopes:
        scale = 1 if scope is not OUT else 2  # out-of-network limits are twice the in-network ones
        ded_member = draw(st.integers(0, 100_000 * scale))
        oop_member = draw(st.integers(ded_member, 300_000 * scale))
        values[key(DED, network=scope)] = ded_member
        values[key(OOP, network=scope)] = oop_member
        if family:
            ded_family = draw(st.integers(ded_member, 200_000 * scale))
            values[key(DED, level=FAM, network=scope)] = ded_family
            values[key(OOP, level=FAM, network=scope)] = draw(st.integers(max(oop_member, ded_family), 600_000 * scale))
    values[key(AccumulatorKind.BENEFIT_UNITS, network=NetworkScope.ANY, category="drugs_administered")] = draw(
        st.integers(0, 100)
    )
    values[key(AccumulatorKind.BENEFIT_AMOUNT, network=NetworkScope.ANY, category="dme")] = draw(
        st.integers(0, 150_000)
    )
    return f.request(
        claim,
        coverage=f.coverage(family_id=FAMILY if family else None, plan_type=plan_type),
        schedule=f.ppo_schedule(family_design=design, network_accumulation=accumulation),
        accumulators=AccumulatorSnapshot(values),
    )


def _check_lines(result: ClaimResult) -> None:
    for line in result.lines:
        assert line.billed.amount == line.paid.amount + sum(a.amount.amount for a in line.adjustments)
        assert line.member_cost_share <= line.allowed
        assert 0 <= line.allowed.amount <= line.billed.amount
        assert line.paid.amount >= 0
        assert all(a.amount.amount >= 0 for a in line.adjustments)
        patient = sum(a.amount.amount for a in line.adjustments if a.group is GroupCode.PATIENT_RESPONSIBILITY)
        assert patient >= line.member_cost_share.amount
    assert result.totals.paid.amount == sum(line.paid.amount for line in result.lines)
    assert result.totals.billed.amount == sum(line.billed.amount for line in result.lines)


def _check_limits(request: AdjudicationRequest, state: AccumulatorSnapshot) -> None:
    schedule = request.schedule
    for accumulator_key, value in state.values.items():
        limits = schedule.out_of_network if accumulator_key.network is OUT else schedule.in_network
        family = accumulator_key.level is AccumulatorLevel.FAMILY
        if accumulator_key.kind is AccumulatorKind.DEDUCTIBLE:
            limit = limits.deductible_family if family else limits.deductible_individual
            if family or schedule.family_design is FamilyDesign.EMBEDDED or request.coverage.family_id is None:
                assert limit is not None
                assert value <= limit.amount
        elif accumulator_key.kind is AccumulatorKind.OUT_OF_POCKET:
            limit = limits.out_of_pocket_family if family else limits.out_of_pocket_individual
            assert limit is not None
            assert value <= limit.amount
        elif accumulator_key.kind in (AccumulatorKind.BENEFIT_UNITS, AccumulatorKind.BENEFIT_AMOUNT):
            category_limit = schedule.categories[accumulator_key.category].limit
            assert category_limit is not None
            assert category_limit.unit in (LimitUnit.UNITS, LimitUnit.AMOUNT)
            assert value <= category_limit.maximum


@settings(max_examples=300, deadline=None)
@given(ppo_requests())
def test_lines_balance_and_member_share_never_exceeds_allowed(request: AdjudicationRequest) -> None:
    _check_lines(adjudicate(request))


@settings(max_examples=300, deadline=None)
@given(ppo_requests())
def test_accumulators_never_exceed_their_maximum(request: AdjudicationRequest) -> None:
    _check_limits(request, request.accumulators)  # the generator starts within limits …
    result = adjudicate(request)
    _check_limits(request, request.accumulators.apply(result.movements))  # … and the engine keeps it so


@settings(max_examples=300, deadline=None)
@given(ppo_requests())
def test_adjudicate_then_void_restores_accumulators_exactly(request: AdjudicationRequest) -> None:
    result = adjudicate(request)
    if result.status is ClaimStatus.PENDED:
        result = replace(result, status=ClaimStatus.APPROVED)  # as if a reviewer approved it unchanged
    after = request.accumulators.apply(result.movements)
    void = adjudicate(
        replace(
            request,
            claim=replace(
                request.claim, claim_id="VOID", frequency=ClaimFrequency.VOID, original_claim_id=result.claim_id
            ),
            accumulators=after,
            replaces=result,
        )
    )
    assert void.status is ClaimStatus.VOIDED
    assert void.reversal is not None
    assert after.apply(void.reversal.movements) == request.accumulators
    assert void.reversal.paid.amount == -result.totals.paid.amount
    assert reverse(result).movements == void.reversal.movements


@settings(max_examples=200, deadline=None)
@given(ppo_requests())
def test_replacing_a_claim_with_itself_changes_nothing(request: AdjudicationRequest) -> None:
    original = adjudicate(request)
    if original.status is ClaimStatus.PENDED:
        original = replace(original, status=ClaimStatus.APPROVED)
    after = request.accumulators.apply(original.movements)
    again = adjudicate(
        replace(
            request,
            claim=replace(
                request.claim, claim_id="C2", frequency=ClaimFrequency.REPLACEMENT, original_claim_id=original.claim_id
            ),
            accumulators=after,
            replaces=original,
        )
    )
    assert again.reversal is not None
    assert after.apply(again.reversal.movements).apply(again.movements) == after
    assert [line.paid for line in again.lines] == [line.paid for line in original.lines]


@st.composite
def sum_insured_requests(draw: st.DrawFn) -> AdjudicationRequest:
    floater = draw(st.booleans())
    sum_insured = draw(st.integers(10_000_00, 10_00_000_00))
    lines = [
        f.bill(
            draw(st.sampled_from(list(ChargeType))),
            Money(draw(st.integers(0, 3_00_000_00)), "INR").to_decimal_string(),
            units=draw(st.integers(1, 6)),
        )
        for _ in range(draw(st.integers(1, 8)))
    ]
    holder_level = FAM if floater else AccumulatorLevel.MEMBER
    used = draw(st.integers(0, sum_insured))
    return f.si_request(
        f.hospital_claim(*lines, is_accident=draw(st.booleans())),
        schedule=f.sum_insured_schedule(
            sum_insured=f.sum_insured_terms(sum_insured=Money(sum_insured, "INR"), floater=floater)
        ),
        coverage=f.si_coverage(
            family_id=FAMILY if floater else None,
            birth_date=draw(st.sampled_from([date(1950, 1, 1), date(1990, 1, 1)])),
        ),
        accumulators=AccumulatorSnapshot({si_key(holder_level): used}),
    )


@settings(max_examples=300, deadline=None)
@given(sum_insured_requests())
def test_sum_insured_is_never_exceeded_and_lines_balance(request: AdjudicationRequest) -> None:
    result = adjudicate(request)
    _check_lines(result)
    terms = request.schedule.sum_insured
    assert terms is not None
    after = request.accumulators.apply(result.movements)
    for value in after.values.values():
        assert value <= terms.sum_insured.amount
    voided = after.apply(reverse(replace(result, status=ClaimStatus.APPROVED)).movements)
    assert voided == request.accumulators
