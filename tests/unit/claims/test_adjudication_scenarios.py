"""Hand-computed adjudication scenarios: every cent of every line, every code, every accumulator after.

The plans, fees and providers are in ``factories.py``. Reminders used in the comments below:

PPO in network: deductible 1,000 individual / 2,000 family; OOP max 3,000 / 6,000.
PPO out of network: deductible 2,000 / 4,000; OOP max 6,000 / 12,000.
Categories (in network): office visit $25 copay, no deductible; lab, imaging, surgery, medical 20%
after deductible; emergency $150 copay then deductible then 20%; mental health 10% after deductible;
physical therapy $30 copay, 20 visits a year, not covered out of network; drugs administered 20%, no
deductible, 100 units a year; DME 20% after deductible, $1,500 a year; preventive $0; cosmetic not
covered. Out of network: 40% after the out-of-network deductible, no copay.
Contract fees: 99211 $20, 99213 $92, 99395 $150, 99284 $250, 80053 $14, 70551 $400, 71046 $40,
71046-26 $12, 97110 $30/unit, 29881 $900, 90837 $123.45, J1100 $1.10/unit, E0114 $60; 99215 is
3.5 RVU × $33.4009 × 120%; anything else 60% of billed. Out-of-network maximum allowable: 99213 $80,
70551 $350, 99284 $200, 01402 $600; anything else 50% of billed.
Sum insured: ₹5,00,000 per member (policy year from 1 April), room rent 1% of sum insured per day
with proportional deduction of nursing, doctor and theatre charges, ICU 2% per day, ambulance
₹2,000 per claim, senior (60+) co-pay 20%, waiting periods 30 days / named illnesses 24 months /
pre-existing 36 months, member covered since 2025-04-01.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

import pytest

from olly.claims.rules import (
    AccumulatorKey,
    AccumulatorKind,
    AccumulatorSnapshot,
    AdjudicatedLine,
    AdjudicationRequest,
    AuthorizationStatus,
    BenefitLevel,
    CareSetting,
    ChargeType,
    ClaimFrequency,
    ClaimResult,
    ClaimStatus,
    FamilyDesign,
    LineStatus,
    MissingAuthorization,
    NetworkAccumulation,
    NetworkScope,
    PendReason,
    PlanType,
    PriorAuthorization,
    Submitter,
    adjudicate,
)
from olly.codesets.carc import Carc
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod
from tests.unit.claims import factories as f
from tests.unit.claims.factories import (
    BAD_NPI,
    DED,
    EXPIRED_NPI,
    FAM,
    FAMILY,
    OON_NPI,
    OOP,
    OUT,
    SUSPENDED_NPI,
    TIER2_NPI,
    bill,
    claim,
    hospital_claim,
    key,
    line,
    request,
    si_key,
    si_request,
    snapshot,
    usd,
)

VISITS = AccumulatorKind.BENEFIT_VISITS
UNITS = AccumulatorKind.BENEFIT_UNITS
AMOUNT = AccumulatorKind.BENEFIT_AMOUNT
ANY = NetworkScope.ANY
COMBINED = NetworkScope.COMBINED
A, R, D, P = LineStatus.APPROVED, LineStatus.REDUCED, LineStatus.DENIED, LineStatus.PENDED


@dataclass(frozen=True)
class Line:
    status: LineStatus
    allowed: str
    paid: str
    adjustments: str
    """``"CO-45 58.00; PR-3 25.00"``; remark codes follow the amount: ``"CO-16 45.00 M76"``."""
    deductible: str = "0.00"
    coinsurance: str = "0.00"
    copay: str = "0.00"


@dataclass(frozen=True)
class Scenario:
    name: str
    request: AdjudicationRequest
    status: ClaimStatus
    lines: tuple[Line, ...]
    after: Mapping[AccumulatorKey, str | int] = field(default_factory=dict)
    """Every non-zero accumulator after the result's movements (money as decimal strings)."""
    pends: tuple[PendReason, ...] = ()


SCENARIOS: list[Scenario] = []


def scenario(
    name: str,
    req: AdjudicationRequest,
    status: ClaimStatus,
    *lines: Line,
    after: Mapping[AccumulatorKey, str | int] | None = None,
    pends: tuple[PendReason, ...] = (),
) -> None:
    SCENARIOS.append(Scenario(name, req, status, lines, after or {}, pends))


def acc(values: Mapping[AccumulatorKey, str | int]) -> AccumulatorSnapshot:
    return snapshot(values)


MET = {key(DED): "1000.00", key(OOP): "1000.00"}  # in-network deductible met, OOP 1,000 used

# -- US style: cost sharing -------------------------------------------------------------------

# 99213 billed 150.00; fee 92.00 → allowed 92.00, CO-45 = 150 − 92 = 58.00.
# Office visit: copay 25.00, no deductible, no coinsurance → paid 92 − 25 = 67.00.
scenario(
    "copay only",
    request(claim(line("99213", "150.00"))),
    ClaimStatus.APPROVED,
    Line(A, "92.00", "67.00", "CO-45 58.00; PR-3 25.00", copay="25.00"),
    after={key(OOP): "25.00"},
)

# 71046 billed 120.00, fee 40.00 → CO-45 80.00. Deductible used 980 → 20.00 left → PR-1 20.00;
# coinsurance 20% of the remaining 20.00 = 4.00; paid 40 − 20 − 4 = 16.00.
scenario(
    "deductible partly met",
    request(claim(line("71046", "120.00")), accumulators=acc({key(DED): "980.00", key(OOP): "980.00"})),
    ClaimStatus.APPROVED,
    Line(A, "40.00", "16.00", "CO-45 80.00; PR-1 20.00; PR-2 4.00", deductible="20.00", coinsurance="4.00"),
    after={key(DED): "1000.00", key(OOP): "1004.00"},
)

# Deductible met: allowed 40.00, coinsurance 20% = 8.00, paid 32.00.
scenario(
    "coinsurance after deductible",
    request(claim(line("71046", "120.00")), accumulators=acc(MET)),
    ClaimStatus.APPROVED,
    Line(A, "40.00", "32.00", "CO-45 80.00; PR-2 8.00", coinsurance="8.00"),
    after={key(DED): "1000.00", key(OOP): "1008.00"},
)

# Nothing met: 80053 billed 45.00, fee 14.00 → CO-45 31.00; the whole 14.00 goes to the
# deductible; paid 0.00 — still an approved line.
scenario(
    "allowed amount all to deductible",
    request(claim(line("80053", "45.00"))),
    ClaimStatus.APPROVED,
    Line(A, "14.00", "0.00", "CO-45 31.00; PR-1 14.00", deductible="14.00"),
    after={key(DED): "14.00", key(OOP): "14.00"},
)

# 99215 priced on the base schedule: 3.5 RVU × 3,340.09 cents × 120% = 14,028.378 cents → 140.28.
# CO-45 = 200 − 140.28 = 59.72; office copay 25.00; paid 115.28.
scenario(
    "percent of base schedule with conversion factor",
    request(claim(line("99215", "200.00"))),
    ClaimStatus.APPROVED,
    Line(A, "140.28", "115.28", "CO-45 59.72; PR-3 25.00", copay="25.00"),
    after={key(OOP): "25.00"},
)

# 80061 has no fee: 60% of billed 87.45 = 52.47; CO-45 34.98. Deductible met; coinsurance
# 20% × 52.47 = 10.494 → 10.49 (half-up); paid 52.47 − 10.49 = 41.98.
scenario(
    "percent of billed fallback, coinsurance rounded down",
    request(claim(line("80061", "87.45")), accumulators=acc(MET)),
    ClaimStatus.APPROVED,
    Line(A, "52.47", "41.98", "CO-45 34.98; PR-2 10.49", coinsurance="10.49"),
    after={key(DED): "1000.00", key(OOP): "1010.49"},
)

# 90837 fee 123.45; mental health 10% = 12.345 → 12.35 (half-up on an exact half cent);
# paid 123.45 − 12.35 = 111.10; CO-45 200 − 123.45 = 76.55.
scenario(
    "coinsurance half cent rounds up",
    request(claim(line("90837", "200.00", diagnosis_pointers=(1,)), diagnoses=("F41.1",)), accumulators=acc(MET)),
    ClaimStatus.APPROVED,
    Line(A, "123.45", "111.10", "CO-45 76.55; PR-2 12.35", coinsurance="12.35"),
    after={key(DED): "1000.00", key(OOP): "1012.35"},
)

# OOP used 2,950 of 3,000 → 50.00 left. Line 1: coinsurance 8.00 (left 42.00), paid 32.00.
# Line 2: 29881 allowed 900, 20% = 180.00 capped at 42.00 → paid 858.00. Line 3: OOP met,
# member pays nothing, paid 14.00.
scenario(
    "out-of-pocket maximum reached mid-claim",
    request(
        claim(line("71046", "120.00"), line("29881", "2000.00"), line("80053", "45.00")),
        accumulators=acc({key(DED): "1000.00", key(OOP): "2950.00"}),
    ),
    ClaimStatus.APPROVED,
    Line(A, "40.00", "32.00", "CO-45 80.00; PR-2 8.00", coinsurance="8.00"),
    Line(A, "900.00", "858.00", "CO-45 1100.00; PR-2 42.00", coinsurance="42.00"),
    Line(A, "14.00", "14.00", "CO-45 31.00"),
    after={key(DED): "1000.00", key(OOP): "3000.00"},
)

# OOP 10.00 left: the 25.00 copay is capped at 10.00; paid 92 − 10 = 82.00.
scenario(
    "copay capped by the out-of-pocket maximum",
    request(claim(line("99213", "150.00")), accumulators=acc({key(DED): "1000.00", key(OOP): "2990.00"})),
    ClaimStatus.APPROVED,
    Line(A, "92.00", "82.00", "CO-45 58.00; PR-3 10.00", copay="10.00"),
    after={key(DED): "1000.00", key(OOP): "3000.00"},
)

# One $25 copay per visit (category and day): line 1 allowed 20.00 takes 20.00 of it, line 2 the
# remaining 5.00 → paid 92 − 5 = 87.00.
scenario(
    "visit copay spread over two lines of one visit",
    request(claim(line("99211", "30.00"), line("99213", "150.00"))),
    ClaimStatus.APPROVED,
    Line(A, "20.00", "0.00", "CO-45 10.00; PR-3 20.00", copay="20.00"),
    Line(A, "92.00", "87.00", "CO-45 58.00; PR-3 5.00", copay="5.00"),
    after={key(OOP): "25.00"},
)

# Family: two other members met 1,000 each → family 2,000 met. Embedded: this member's own
# deductible (0 used) is treated as met because the family's is → no deductible, 20% of 40 = 8.00.
scenario(
    "embedded family deductible met by two other members",
    request(
        claim(line("71046", "120.00")),
        coverage=f.coverage(family_id=FAMILY),
        accumulators=acc({key(DED, level=FAM): "2000.00", key(OOP, level=FAM): "2000.00"}),
    ),
    ClaimStatus.APPROVED,
    Line(A, "40.00", "32.00", "CO-45 80.00; PR-2 8.00", coinsurance="8.00"),
    after={key(DED, level=FAM): "2000.00", key(OOP, level=FAM): "2008.00", key(OOP): "8.00"},
)

# Member used 300 (700 left), family 1,950 (50 left) → deductible min(700, 50) = 50.00; 20% of the
# remaining 850 = 170.00; paid 900 − 50 − 170 = 680.00. Both levels move by 50 and 220.
scenario(
    "embedded family deductible nearly met",
    request(
        claim(line("29881", "2000.00")),
        coverage=f.coverage(family_id=FAMILY),
        accumulators=acc(
            {key(DED): "300.00", key(OOP): "300.00", key(DED, level=FAM): "1950.00", key(OOP, level=FAM): "1950.00"}
        ),
    ),
    ClaimStatus.APPROVED,
    Line(A, "900.00", "680.00", "CO-45 1100.00; PR-1 50.00; PR-2 170.00", deductible="50.00", coinsurance="170.00"),
    after={
        key(DED): "350.00",
        key(OOP): "520.00",
        key(DED, level=FAM): "2000.00",
        key(OOP, level=FAM): "2170.00",
    },
)

# Aggregate design: the member's 1,200 does not matter, only the family's 1,500 of 2,000 →
# deductible 500.00; 20% of 400 = 80.00; paid 320.00.
scenario(
    "aggregate family deductible",
    request(
        claim(line("29881", "2000.00")),
        schedule=f.ppo_schedule(family_design=FamilyDesign.AGGREGATE),
        coverage=f.coverage(family_id=FAMILY),
        accumulators=acc(
            {key(DED): "1200.00", key(OOP): "1200.00", key(DED, level=FAM): "1500.00", key(OOP, level=FAM): "1500.00"}
        ),
    ),
    ClaimStatus.APPROVED,
    Line(A, "900.00", "320.00", "CO-45 1100.00; PR-1 500.00; PR-2 80.00", deductible="500.00", coinsurance="80.00"),
    after={
        key(DED): "1700.00",
        key(OOP): "1780.00",
        key(DED, level=FAM): "2000.00",
        key(OOP, level=FAM): "2080.00",
    },
)

# Aggregate design but self-only coverage: the individual 1,000 applies; 900 used → 100.00;
# 20% of 800 = 160.00; paid 640.00.
scenario(
    "aggregate design with self-only coverage uses the individual deductible",
    request(
        claim(line("29881", "2000.00")),
        schedule=f.ppo_schedule(family_design=FamilyDesign.AGGREGATE),
        accumulators=acc({key(DED): "900.00", key(OOP): "900.00"}),
    ),
    ClaimStatus.APPROVED,
    Line(A, "900.00", "640.00", "CO-45 1100.00; PR-1 100.00; PR-2 160.00", deductible="100.00", coinsurance="160.00"),
    after={key(DED): "1000.00", key(OOP): "1160.00"},
)

# Preventive in network: allowed 150.00 (fee), member pays 0, paid 150.00; no accumulator moves.
scenario(
    "preventive in network at no cost",
    request(claim(line("99395", "200.00"), diagnoses=("Z00.00",))),
    ClaimStatus.APPROVED,
    Line(A, "150.00", "150.00", "CO-45 50.00"),
)

# Preventive out of network: 50% of 200 = 100.00 allowed, PR-45 100.00 may be balance billed;
# the out-of-network deductible (2,000 left) takes all 100.00.
scenario(
    "preventive out of network has ordinary cost sharing",
    request(claim(line("99395", "200.00"), diagnoses=("Z00.00",), billing_npi=OON_NPI)),
    ClaimStatus.APPROVED,
    Line(A, "100.00", "0.00", "PR-45 100.00; PR-1 100.00", deductible="100.00"),
    after={key(DED, network=OUT): "100.00", key(OOP, network=OUT): "100.00"},
)

# -- networks and the No Surprises Act ------------------------------------------------------

# PPO, out of network: maximum allowable 80.00; the other 70.00 is the member's (PR-45 balance
# bill). Out-of-network deductible met → 40% of 80 = 32.00; paid 48.00.
scenario(
    "out of network with balance billing",
    request(
        claim(line("99213", "150.00"), billing_npi=OON_NPI),
        accumulators=acc({key(DED, network=OUT): "2000.00", key(OOP, network=OUT): "2000.00"}),
    ),
    ClaimStatus.APPROVED,
    Line(A, "80.00", "48.00", "PR-45 70.00; PR-2 32.00", coinsurance="32.00"),
    after={key(DED, network=OUT): "2000.00", key(OOP, network=OUT): "2032.00"},
)

# In-network deductible met does not help out of network: 50% of 120 = 60.00 allowed, all to the
# separate out-of-network deductible.
scenario(
    "out-of-network accumulators are separate",
    request(claim(line("71046", "120.00"), billing_npi=OON_NPI), accumulators=acc(MET)),
    ClaimStatus.APPROVED,
    Line(A, "60.00", "0.00", "PR-45 60.00; PR-1 60.00", deductible="60.00"),
    after={
        key(DED): "1000.00",
        key(OOP): "1000.00",
        key(DED, network=OUT): "60.00",
        key(OOP, network=OUT): "60.00",
    },
)

# Combined accumulation: the 1,000 met (combined) counts out of network; 40% of 60 = 24.00.
scenario(
    "combined in- and out-of-network accumulators",
    request(
        claim(line("71046", "120.00"), billing_npi=OON_NPI),
        schedule=f.ppo_schedule(network_accumulation=NetworkAccumulation.COMBINED),
        accumulators=acc({key(DED, network=COMBINED): "1000.00", key(OOP, network=COMBINED): "1000.00"}),
    ),
    ClaimStatus.APPROVED,
    Line(A, "60.00", "36.00", "PR-45 60.00; PR-2 24.00", coinsurance="24.00"),
    after={key(DED, network=COMBINED): "1000.00", key(OOP, network=COMBINED): "1024.00"},
)

# Emergency at an out-of-network provider: allowed 200.00 (maximum allowable); the 700.00 above it
# is a write-off (CO-45: no balance billing); in-network cost sharing: copay 150.00, deductible
# met, 20% of 50 = 10.00; paid 40.00; in-network accumulators move.
scenario(
    "No Surprises Act emergency",
    request(
        claim(line("99284", "900.00"), billing_npi=OON_NPI, is_emergency=True, place_of_service="23"),
        accumulators=acc(MET),
    ),
    ClaimStatus.APPROVED,
    Line(A, "200.00", "40.00", "CO-45 700.00; PR-2 10.00; PR-3 150.00", coinsurance="10.00", copay="150.00"),
    after={key(DED): "1000.00", key(OOP): "1160.00"},
)

# EPO emergency out of network: 50% of 1,200 = 600.00 allowed, CO-45 600.00. Copay 150.00, then
# the deductible (600 left) takes the remaining 450.00; nothing left for coinsurance; paid 0.00.
scenario(
    "EPO out-of-network emergency: copay then deductible",
    request(
        claim(line("99285", "1200.00"), billing_npi=OON_NPI, is_emergency=True, place_of_service="23"),
        coverage=f.coverage(plan_type=PlanType.EPO),
        accumulators=acc({key(DED): "400.00", key(OOP): "400.00"}),
    ),
    ClaimStatus.APPROVED,
    Line(A, "600.00", "0.00", "CO-45 600.00; PR-1 450.00; PR-3 150.00", deductible="450.00", copay="150.00"),
    after={key(DED): "850.00", key(OOP): "1000.00"},
)

# HMO, out-of-network anaesthetist at an in-network hospital: protected (ancillary). Allowed 600.00,
# CO-45 900.00; medical 20% after the (met) deductible = 120.00; paid 480.00.
scenario(
    "No Surprises Act ancillary provider at an in-network facility",
    request(
        claim(
            line("01402", "1500.00"),
            billing_npi=OON_NPI,
            is_ancillary=True,
            facility_in_network=True,
            place_of_service="22",
            diagnoses=("M17.11",),
        ),
        coverage=f.coverage(plan_type=PlanType.HMO),
        accumulators=acc(MET),
    ),
    ClaimStatus.APPROVED,
    Line(A, "600.00", "480.00", "CO-45 900.00; PR-2 120.00", coinsurance="120.00"),
    after={key(DED): "1000.00", key(OOP): "1120.00"},
)

# HMO, out of network, no emergency: CO-242 for the whole charge.
scenario(
    "HMO out of network denied",
    request(claim(line("99213", "150.00"), billing_npi=OON_NPI), coverage=f.coverage(plan_type=PlanType.HMO)),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-242 150.00"),
)

# Provider tier 2: the tier's copay (40.00) replaces the standard 25.00; paid 92 − 40 = 52.00.
scenario(
    "provider tier cost sharing",
    request(claim(line("99213", "150.00"), billing_npi=TIER2_NPI)),
    ClaimStatus.APPROVED,
    Line(A, "92.00", "52.00", "CO-45 58.00; PR-3 40.00", copay="40.00"),
    after={key(OOP): "40.00"},
)

# Credentialing expired: priced and cost-shared out of network: 80.00 allowed, PR-45 70.00, all
# 80.00 to the out-of-network deductible.
scenario(
    "expired credentialing is treated as out of network",
    request(claim(line("99213", "150.00"), billing_npi=EXPIRED_NPI)),
    ClaimStatus.APPROVED,
    Line(A, "80.00", "0.00", "PR-45 70.00; PR-1 80.00", deductible="80.00"),
    after={key(DED, network=OUT): "80.00", key(OOP, network=OUT): "80.00"},
)

# Credentialing suspended: the line is denied before pricing; the whole 150.00 is CO-B7.
scenario(
    "suspended provider denied",
    request(claim(line("99213", "150.00"), billing_npi=SUSPENDED_NPI)),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-B7 150.00"),
)

# -- prior authorisation -------------------------------------------------------------------

MRI = ("70551", "1800.00")
MRI_CLAIM = claim(line(*MRI), diagnoses=("G43.909",))


def auth(**overrides: object) -> PriorAuthorization:
    base = PriorAuthorization(
        auth_id="PA1",
        member_id=f.MEMBER,
        status=AuthorizationStatus.APPROVED,
        procedure_codes=frozenset({"70551"}),
        period=DatePeriod(date(2026, 3, 1), date(2026, 3, 31)),
        units_approved=1,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


# 70551 is on the plan's authorisation list and no authorisation is on file; the plan denies:
# the whole 1,800.00 is CO-197, nothing allowed, no accumulator moves.
scenario(
    "missing authorisation denied",
    request(MRI_CLAIM),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-197 1800.00"),
)

# Pend variant: the line still shows its provisional amounts: fee 400.00, CO-45 1,400.00,
# deductible met, 20% = 80.00, paid 320.00.
scenario(
    "missing authorisation pended",
    request(
        MRI_CLAIM,
        schedule=f.ppo_schedule(missing_authorization=MissingAuthorization.PEND),
        accumulators=acc(MET),
    ),
    ClaimStatus.PENDED,
    Line(P, "400.00", "320.00", "CO-45 1400.00; PR-2 80.00", coinsurance="80.00"),
    after={key(DED): "1000.00", key(OOP): "1080.00"},
    pends=(PendReason.PRIOR_AUTH_REQUIRED,),
)

# A denied request for the service is a decision, not a missing authorisation: denied CO-197 even
# where the plan pends missing ones (no N54: no approval exists).
scenario(
    "authorisation denied where the plan pends missing ones",
    request(
        MRI_CLAIM,
        schedule=f.ppo_schedule(missing_authorization=MissingAuthorization.PEND),
        prior_authorizations=(auth(status=AuthorizationStatus.DENIED, units_approved=0),),
    ),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-197 1800.00"),
)

# The approval covers code, date and 1 unit: priced as usual — fee 400.00, CO-45 1,400.00,
# deductible met, 20% = 80.00, paid 320.00.
scenario(
    "approved authorisation on file",
    request(MRI_CLAIM, prior_authorizations=(auth(),), accumulators=acc(MET)),
    ClaimStatus.APPROVED,
    Line(A, "400.00", "320.00", "CO-45 1400.00; PR-2 80.00", coinsurance="80.00"),
    after={key(DED): "1000.00", key(OOP): "1080.00"},
)

# A request awaiting its decision pends the line even where the plan denies missing ones.
# Provisional: 400.00 allowed, all to the deductible.
scenario(
    "authorisation decision pending",
    request(MRI_CLAIM, prior_authorizations=(auth(status=AuthorizationStatus.PENDING),)),
    ClaimStatus.PENDED,
    Line(P, "400.00", "0.00", "CO-45 1400.00; PR-1 400.00", deductible="400.00"),
    after={key(DED): "400.00", key(OOP): "400.00"},
    pends=(PendReason.PRIOR_AUTH_PENDING,),
)

# An approval exists but for April; the March service is not covered by it: CO-197 with N54.
scenario(
    "authorisation for other dates",
    request(MRI_CLAIM, prior_authorizations=(auth(period=DatePeriod(date(2026, 4, 1), date(2026, 4, 30))),)),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-197 1800.00 N54"),
)

# One approved unit: line 1 uses it (paid 320.00 as above), line 2 the next day finds none left.
scenario(
    "authorised units used up by an earlier line",
    request(
        claim(line(*MRI), line(*MRI, day=date(2026, 3, 11)), diagnoses=("G43.909",)),
        prior_authorizations=(auth(),),
        accumulators=acc(MET),
    ),
    ClaimStatus.PARTIALLY_APPROVED,
    Line(A, "400.00", "320.00", "CO-45 1400.00; PR-2 80.00", coinsurance="80.00"),
    Line(D, "0.00", "0.00", "CO-197 1800.00 N54"),
    after={key(DED): "1000.00", key(OOP): "1080.00"},
)

# -- edits ------------------------------------------------------------------------------------

# Service 2026-01-05, received 2027-01-06: 366 days > 365.
scenario(
    "timely filing exceeded",
    request(claim(line("99213", "150.00", day=date(2026, 1, 5)), received_on=date(2027, 1, 6))),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-29 150.00"),
)

# The same late claim after an appeal overturned its denial (proof of timely filing): the edit is set
# aside and the visit paid as in "timely filing on the last day".
scenario(
    "timely filing set aside on appeal",
    request(
        claim(line("99213", "150.00", day=date(2026, 1, 5)), received_on=date(2027, 1, 6)),
        waived={1: frozenset({Carc.TIMELY_FILING})},
    ),
    ClaimStatus.APPROVED,
    Line(A, "92.00", "67.00", "CO-45 58.00; PR-3 25.00", copay="25.00"),
    after={key(OOP): "25.00"},
)

# Received on day 365 exactly: in time; copay-only visit as in "copay only".
scenario(
    "timely filing on the last day",
    request(claim(line("99213", "150.00", day=date(2026, 1, 5)), received_on=date(2027, 1, 5))),
    ClaimStatus.APPROVED,
    Line(A, "92.00", "67.00", "CO-45 58.00; PR-3 25.00", copay="25.00"),
    after={key(OOP): "25.00"},
)


def earlier(charge: str = "150.00", *, denied: bool = False) -> AdjudicatedLine:
    return AdjudicatedLine(
        claim_id="C0",
        line_number=1,
        member_id=f.MEMBER,
        billing_npi=f.IN_NPI,
        service_date=date(2026, 3, 10),
        procedure_code="99213",
        modifiers=(),
        units=1,
        charge=usd(charge),
        was_denied=denied,
    )


# An earlier claim already has 99213, same member, provider, day, units and 150.00: CO-18 150.00.
scenario(
    "exact duplicate",
    request(claim(line("99213", "150.00")), history=(earlier(),)),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-18 150.00"),
)

# Same service, other charge: pended for review with the provisional copay-only result.
scenario(
    "suspected duplicate pended",
    request(claim(line("99213", "150.00")), history=(earlier("140.00"),)),
    ClaimStatus.PENDED,
    Line(P, "92.00", "67.00", "CO-45 58.00; PR-3 25.00", copay="25.00"),
    after={key(OOP): "25.00"},
    pends=(PendReason.SUSPECTED_DUPLICATE,),
)

# The earlier identical line was denied, so this one is adjudicated normally (copay-only visit).
scenario(
    "a denied earlier line is not a duplicate",
    request(claim(line("99213", "150.00")), history=(earlier(denied=True),)),
    ClaimStatus.APPROVED,
    Line(A, "92.00", "67.00", "CO-45 58.00; PR-3 25.00", copay="25.00"),
    after={key(OOP): "25.00"},
)

# 97110 allows 4 units per line; 6 are billed: the whole 270.00 is CO-151 with N362.
scenario(
    "units above the medically unlikely edit",
    request(claim(line("97110", "270.00", units=6))),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-151 270.00 N362"),
)

# -- codes, eligibility, providers -------------------------------------------------------------

# Line 2 points at E11, a category that is not billable → CO-16 with M76; line 1 is paid.
scenario(
    "invalid ICD-10-CM diagnosis on one line",
    request(
        claim(line("99213", "150.00"), line("80053", "45.00", diagnosis_pointers=(2,)), diagnoses=("J06.9", "E11"))
    ),
    ClaimStatus.PARTIALLY_APPROVED,
    Line(A, "92.00", "67.00", "CO-45 58.00; PR-3 25.00", copay="25.00"),
    Line(D, "0.00", "0.00", "CO-16 45.00 M76"),
    after={key(OOP): "25.00"},
)

# The line points at diagnosis 3 of a one-diagnosis claim: CO-16 150.00 with M76.
scenario(
    "diagnosis pointer to nothing",
    request(claim(line("99213", "150.00", diagnosis_pointers=(3,)))),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-16 150.00 M76"),
)

# J0000 has the Level II shape but is not in the CMS file: CO-16 80.00 with M51.
scenario(
    "unknown HCPCS code",
    request(claim(line("J0000", "80.00"))),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-16 80.00 M51"),
)

# A2036 was added on 2025-10-01: not billable for a service on 2025-09-15.
scenario(
    "HCPCS code not yet valid on the date of service",
    request(
        claim(line("A2036", "80.00", day=date(2025, 9, 15)), received_on=date(2025, 9, 20)),
        coverage=f.coverage(periods=(DatePeriod(date(2025, 1, 1), date(2026, 12, 31)),)),
    ),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-181 80.00"),
)

# Place of service 30 is unassigned: CO-16 150.00 with M77.
scenario(
    "invalid place of service",
    request(claim(line("99213", "150.00"), place_of_service="30")),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-16 150.00 M77"),
)

# ZZ is neither a two-digit CPT modifier nor a HCPCS modifier: CO-4 150.00.
scenario(
    "invalid modifier",
    request(claim(line("99213", "150.00", modifiers=("ZZ",)))),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-4 150.00"),
)

# The professional component has its own fee: 71046-26 → 12.00; deductible met, 20% = 2.40.
scenario(
    "modifier-specific fee",
    request(claim(line("71046", "50.00", modifiers=("26",))), accumulators=acc(MET)),
    ClaimStatus.APPROVED,
    Line(A, "12.00", "9.60", "CO-45 38.00; PR-2 2.40", coinsurance="2.40"),
    after={key(DED): "1000.00", key(OOP): "1002.40"},
)

# 1234567890 fails the Luhn check over 80840 (the check digit is 3): CO-16 150.00 with N257.
scenario(
    "invalid billing NPI",
    request(claim(line("99213", "150.00"), billing_npi=BAD_NPI)),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-16 150.00 N257"),
)

# Coverage starts 2026-01-01; service 2025-12-20: CO-26 150.00.
scenario(
    "service before coverage",
    request(claim(line("99213", "150.00", day=date(2025, 12, 20)), received_on=date(2026, 1, 10))),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-26 150.00"),
)

# Coverage ended 2026-03-31; service 2026-04-02: CO-27 150.00.
scenario(
    "service after termination",
    request(
        claim(line("99213", "150.00", day=date(2026, 4, 2)), received_on=date(2026, 4, 10)),
        coverage=f.coverage(periods=(DatePeriod(date(2026, 1, 1), date(2026, 3, 31)),)),
    ),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-27 150.00"),
)

# -- benefits and limits ---------------------------------------------------------------------

# 15780 maps to the cosmetic category, which the plan does not cover: CO-96 900.00 with N130.
scenario(
    "category not covered",
    request(claim(line("15780", "900.00"))),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-96 900.00 N130"),
)

# Physical therapy has no out-of-network benefit (PPO): CO-96 90.00 with N130.
scenario(
    "category not covered out of network",
    request(claim(line("97110", "90.00", units=2), billing_npi=OON_NPI)),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-96 90.00 N130"),
)

# 20 of 20 therapy visits used this plan year: CO-119 90.00; the count stays at 20.
scenario(
    "visit limit reached",
    request(
        claim(line("97110", "90.00", units=2)),
        accumulators=acc({key(VISITS, network=ANY, category="physical_therapy"): 20}),
    ),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "CO-119 90.00"),
    after={key(VISITS, network=ANY, category="physical_therapy"): 20},
)

# 19 of 20 visits used; two lines on one day are one visit (19 → 20) with one $30 copay:
# line 1 97110 × 2 = 60.00 allowed, copay 30.00, paid 30.00; line 2 97530: 60% of 50 = 30.00,
# copay already taken, paid 30.00.
scenario(
    "two lines of one day count as one visit",
    request(
        claim(line("97110", "90.00", units=2), line("97530", "50.00")),
        accumulators=acc({key(VISITS, network=ANY, category="physical_therapy"): 19}),
    ),
    ClaimStatus.APPROVED,
    Line(A, "60.00", "30.00", "CO-45 30.00; PR-3 30.00", copay="30.00"),
    Line(A, "30.00", "30.00", "CO-45 20.00"),
    after={key(VISITS, network=ANY, category="physical_therapy"): 20, key(OOP): "30.00"},
)

# 95 of 100 units used; J1100 × 10 = 11.00 at the fee; only 5 units left → allowed 11.00 × 5/10 =
# 5.50, CO-119 5.50; 20% (no deductible) = 1.10; paid 4.40; CO-45 30 − 11 = 19.00.
scenario(
    "unit limit partly reached",
    request(
        claim(line("J1100", "30.00", units=10)),
        accumulators=acc({key(UNITS, network=ANY, category="drugs_administered"): 95}),
    ),
    ClaimStatus.PARTIALLY_APPROVED,
    Line(R, "5.50", "4.40", "CO-45 19.00; CO-119 5.50; PR-2 1.10", coinsurance="1.10"),
    after={key(UNITS, network=ANY, category="drugs_administered"): 100, key(OOP): "1.10"},
)

# DME: 1,480 of 1,500 used → only 20.00 of the 60.00 allowed remains (CO-119 40.00); deductible
# met, 20% of 20 = 4.00; paid 16.00; CO-45 95 − 60 = 35.00.
scenario(
    "amount limit partly reached",
    request(
        claim(line("E0114", "95.00"), diagnoses=("S82.001A",)),
        accumulators=acc({**MET, key(AMOUNT, network=ANY, category="dme"): "1480.00"}),
    ),
    ClaimStatus.PARTIALLY_APPROVED,
    Line(R, "20.00", "16.00", "CO-45 35.00; CO-119 40.00; PR-2 4.00", coinsurance="4.00"),
    after={**MET, key(OOP): "1004.00", key(AMOUNT, network=ANY, category="dme"): "1500.00"},
)

# -- claim-level pends --------------------------------------------------------------------------

# Billed 60,000 ≥ the 50,000 threshold: pended; provisional 900.00 allowed, all to the deductible.
scenario(
    "high-dollar claim pended",
    request(claim(line("29881", "60000.00"))),
    ClaimStatus.PENDED,
    Line(A, "900.00", "0.00", "CO-45 59100.00; PR-1 900.00", deductible="900.00"),
    after={key(DED): "900.00", key(OOP): "900.00"},
    pends=(PendReason.HIGH_DOLLAR,),
)

# -- sum-insured style ----------------------------------------------------------------------------

# Room limit 1% of ₹5,00,000 = ₹5,000/day; 4 days billed ₹32,000 (₹8,000/day) → eligible ₹20,000,
# PR-119 ₹12,000. Associated charges × 20,000/32,000 = 0.625: nursing 8,000 → 5,000; doctor
# 24,000 → 15,000; theatre 12,345.67 → 7,716.04375 → 7,716.04 (PR-119 4,629.63). Pharmacy is not
# associated: paid in full. Age 45: no co-pay. Paid 20,000 + 5,000 + 15,000 + 10,000 + 7,716.04.
scenario(
    "room-rent sub-limit with proportional deduction",
    si_request(
        hospital_claim(
            bill(ChargeType.ROOM_RENT, "32000.00", units=4),
            bill(ChargeType.NURSING, "8000.00"),
            bill(ChargeType.DOCTOR_FEES, "24000.00"),
            bill(ChargeType.PHARMACY, "10000.00"),
            bill(ChargeType.OPERATION_THEATRE, "12345.67"),
        )
    ),
    ClaimStatus.PARTIALLY_APPROVED,
    Line(R, "20000.00", "20000.00", "PR-119 12000.00"),
    Line(R, "5000.00", "5000.00", "PR-119 3000.00"),
    Line(R, "15000.00", "15000.00", "PR-119 9000.00"),
    Line(A, "10000.00", "10000.00", ""),
    Line(R, "7716.04", "7716.04", "PR-119 4629.63"),
    after={si_key(): "57716.04"},
)

# Room ₹4,500/day is within ₹5,000: no proportion. ICU cap 2% = ₹10,000/day × 2 = ₹20,000 →
# PR-119 ₹5,000. Nursing paid in full.
scenario(
    "ICU sub-limit without proportional deduction",
    si_request(
        hospital_claim(
            bill(ChargeType.ROOM_RENT, "9000.00", units=2),
            bill(ChargeType.ICU, "25000.00", units=2),
            bill(ChargeType.NURSING, "4000.00"),
        )
    ),
    ClaimStatus.PARTIALLY_APPROVED,
    Line(A, "9000.00", "9000.00", ""),
    Line(R, "20000.00", "20000.00", "PR-119 5000.00"),
    Line(A, "4000.00", "4000.00", ""),
    after={si_key(): "33000.00"},
)

# Ambulance ₹2,000 per claim: ₹1,500 paid, then only ₹500 of ₹1,200 (PR-119 ₹700).
scenario(
    "per-claim sub-limit shared by two lines",
    si_request(hospital_claim(bill(ChargeType.AMBULANCE, "1500.00"), bill(ChargeType.AMBULANCE, "1200.00"))),
    ClaimStatus.PARTIALLY_APPROVED,
    Line(A, "1500.00", "1500.00", ""),
    Line(R, "500.00", "500.00", "PR-119 700.00"),
    after={si_key(): "2000.00"},
)

# Family floater ₹3,00,000 with ₹2,90,000 used → ₹10,000 left. Room 2 × ₹3,000 is exactly the
# 1% limit → paid 6,000 (4,000 left); doctor 9,000 → paid 4,000, PR-119 5,000; pharmacy 2,000 →
# nothing left, PR-119 2,000.
scenario(
    "family floater exhausted mid-claim",
    si_request(
        hospital_claim(
            bill(ChargeType.ROOM_RENT, "6000.00", units=2),
            bill(ChargeType.DOCTOR_FEES, "9000.00"),
            bill(ChargeType.PHARMACY, "2000.00"),
        ),
        schedule=f.sum_insured_schedule(sum_insured=f.sum_insured_terms(sum_insured=f.inr("300000.00"), floater=True)),
        coverage=f.si_coverage(family_id=FAMILY),
        accumulators=AccumulatorSnapshot({si_key(FAM): 29000000}),
    ),
    ClaimStatus.PARTIALLY_APPROVED,
    Line(A, "6000.00", "6000.00", ""),
    Line(R, "9000.00", "4000.00", "PR-119 5000.00"),
    Line(R, "2000.00", "0.00", "PR-119 2000.00"),
    after={si_key(FAM): "300000.00"},
)

# Covered since 2026-05-20: the initial 30-day wait runs to 2026-06-19; an illness on 2026-06-02
# is not covered (PR-204).
WAITING = f.si_coverage(periods=(DatePeriod(date(2026, 5, 20), date(2027, 5, 19)),))
scenario(
    "initial waiting period",
    si_request(hospital_claim(bill(ChargeType.PHARMACY, "10000.00")), coverage=WAITING),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "PR-204 10000.00"),
)

# Same dates, but an accident (fracture): the initial wait does not apply; pharmacy 10,000 paid in full.
scenario(
    "accidents are exempt from the initial waiting period",
    si_request(
        hospital_claim(bill(ChargeType.PHARMACY, "10000.00"), is_accident=True, diagnoses=("S82.001A",)),
        coverage=WAITING,
    ),
    ClaimStatus.APPROVED,
    Line(A, "10000.00", "10000.00", ""),
    after={si_key(): "10000.00"},
)

# Declared diabetes (E11), covered since 2025-04-01: excluded until 2028-04-01 (36 months).
scenario(
    "pre-existing disease waiting period",
    si_request(
        hospital_claim(bill(ChargeType.PHARMACY, "10000.00"), diagnoses=("E11.9",)),
        coverage=f.si_coverage(pre_existing_diagnoses=("E11",)),
    ),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "PR-51 10000.00"),
)

# Covered since 2022-01-01: the 36 months ended 2025-01-01, so diabetes care is now paid.
scenario(
    "pre-existing disease after its waiting period",
    si_request(
        hospital_claim(bill(ChargeType.PHARMACY, "10000.00"), diagnoses=("E11.9",)),
        coverage=f.si_coverage(
            pre_existing_diagnoses=("E11",), periods=(DatePeriod(date(2022, 1, 1), date(2027, 3, 31)),)
        ),
    ),
    ClaimStatus.APPROVED,
    Line(A, "10000.00", "10000.00", ""),
    after={si_key(): "10000.00"},
)

# Cataract (H25) is a named illness with 24 months' wait from 2025-04-01 → not before 2027-04-01.
scenario(
    "named illness waiting period",
    si_request(hospital_claim(bill(ChargeType.OPERATION_THEATRE, "30000.00"), diagnoses=("H25.9",))),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "PR-204 30000.00"),
)

# Born 1960-01-01: 66 on 2026-06-02 → senior co-pay 20%: 10,000 → 2,000 (PR-3), paid 8,000;
# 12,345.67 → 2,469.134 → 2,469.13, paid 9,876.54.
scenario(
    "senior citizen co-pay percentage",
    si_request(
        hospital_claim(bill(ChargeType.PHARMACY, "10000.00"), bill(ChargeType.INVESTIGATIONS, "12345.67")),
        coverage=f.si_coverage(birth_date=date(1960, 1, 1)),
    ),
    ClaimStatus.APPROVED,
    Line(A, "10000.00", "8000.00", "PR-3 2000.00", copay="2000.00"),
    Line(A, "12345.67", "9876.54", "PR-3 2469.13", copay="2469.13"),
    after={si_key(): "17876.54"},
)

# A 10% co-pay for every age: 10,000 → 1,000.
scenario(
    "policy co-pay percentage",
    si_request(
        hospital_claim(bill(ChargeType.PHARMACY, "10000.00")),
        schedule=f.sum_insured_schedule(sum_insured=f.sum_insured_terms(copay_percent=Decimal(10))),
    ),
    ClaimStatus.APPROVED,
    Line(A, "10000.00", "9000.00", "PR-3 1000.00", copay="1000.00"),
    after={si_key(): "9000.00"},
)

# The policy has no OPD cover: the 1,500 consultation is the member's, PR-96.
scenario(
    "out-patient care not covered by the policy",
    si_request(hospital_claim(bill(ChargeType.CONSULTATION, "1500.00"), care_setting=CareSetting.OPD)),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "PR-96 1500.00"),
)

# 10 hours in hospital and not a listed day-care procedure: not a covered hospitalisation, PR-96.
scenario(
    "in-patient stay under 24 hours",
    si_request(hospital_claim(bill(ChargeType.OPERATION_THEATRE, "20000.00"), inpatient_hours=10)),
    ClaimStatus.DENIED,
    Line(D, "0.00", "0.00", "PR-96 20000.00"),
)

# The same 10-hour stay for a listed day-care procedure is covered: paid 20,000 (age 45, no co-pay).
scenario(
    "day-care procedure under 24 hours",
    si_request(hospital_claim(bill(ChargeType.OPERATION_THEATRE, "20000.00"), inpatient_hours=10, is_day_care=True)),
    ClaimStatus.APPROVED,
    Line(A, "20000.00", "20000.00", ""),
    after={si_key(): "20000.00"},
)

# Reimbursement claims pend for document review …
scenario(
    "member reimbursement pends for documents",
    si_request(hospital_claim(bill(ChargeType.PHARMACY, "10000.00"), submitter=Submitter.MEMBER_REIMBURSEMENT)),
    ClaimStatus.PENDED,
    Line(A, "10000.00", "10000.00", ""),
    after={si_key(): "10000.00"},
    pends=(PendReason.DOCUMENTS_TO_REVIEW,),
)

# … unless the policy auto-approves under ₹20,000.
scenario(
    "member reimbursement under the auto-approval threshold",
    si_request(
        hospital_claim(bill(ChargeType.PHARMACY, "10000.00"), submitter=Submitter.MEMBER_REIMBURSEMENT),
        schedule=f.sum_insured_schedule(reimbursement_auto_approve_max=f.inr("20000.00")),
    ),
    ClaimStatus.APPROVED,
    Line(A, "10000.00", "10000.00", ""),
    after={si_key(): "10000.00"},
)

# The auto-approval amount is inclusive: billed exactly ₹20,000.00 is paid without review …
scenario(
    "member reimbursement at exactly the auto-approval amount",
    si_request(
        hospital_claim(bill(ChargeType.PHARMACY, "20000.00"), submitter=Submitter.MEMBER_REIMBURSEMENT),
        schedule=f.sum_insured_schedule(reimbursement_auto_approve_max=f.inr("20000.00")),
    ),
    ClaimStatus.APPROVED,
    Line(A, "20000.00", "20000.00", ""),
    after={si_key(): "20000.00"},
)

# … and one paisa more waits for document review (the line is priced; payment waits for the reviewer).
scenario(
    "member reimbursement one paisa above the auto-approval amount",
    si_request(
        hospital_claim(bill(ChargeType.PHARMACY, "20000.01"), submitter=Submitter.MEMBER_REIMBURSEMENT),
        schedule=f.sum_insured_schedule(reimbursement_auto_approve_max=f.inr("20000.00")),
    ),
    ClaimStatus.PENDED,
    Line(A, "20000.01", "20000.01", ""),
    after={si_key(): "20000.01"},
    pends=(PendReason.DOCUMENTS_TO_REVIEW,),
)

# -- replacement and void ---------------------------------------------------------------------

# The original: deductible 990 used → 10.00 left; 71046 allowed 40.00: deductible 10.00, 20% of
# 30 = 6.00, paid 24.00; CO-45 80.00.
START = {key(DED): "990.00", key(OOP): "990.00"}
ORIGINAL_REQUEST = request(claim(line("71046", "120.00")), accumulators=acc(START))
scenario(
    "original claim later replaced and voided",
    ORIGINAL_REQUEST,
    ClaimStatus.APPROVED,
    Line(A, "40.00", "24.00", "CO-45 80.00; PR-1 10.00; PR-2 6.00", deductible="10.00", coinsurance="6.00"),
    after={key(DED): "1000.00", key(OOP): "1006.00"},
)
ORIGINAL: ClaimResult = adjudicate(ORIGINAL_REQUEST)
AFTER_ORIGINAL = ORIGINAL_REQUEST.accumulators.apply(ORIGINAL.movements)
ORIGINAL_HISTORY = (
    AdjudicatedLine(
        claim_id="C1",
        line_number=1,
        member_id=f.MEMBER,
        billing_npi=f.IN_NPI,
        service_date=date(2026, 3, 10),
        procedure_code="71046",
        modifiers=(),
        units=1,
        charge=usd("120.00"),
    ),
)

# Replacement with the charge corrected to 100.00: the original is reversed first (deductible back
# to 990), so the new line again takes 10.00 deductible and 6.00 coinsurance, paid 24.00, CO-45
# 60.00. The original's own line is not a duplicate of its replacement. Net: as if only the
# replacement had ever been adjudicated.
scenario(
    "replacement claim",
    request(
        claim(line("71046", "100.00"), claim_id="C2", frequency=ClaimFrequency.REPLACEMENT, original_claim_id="C1"),
        accumulators=AFTER_ORIGINAL,
        history=ORIGINAL_HISTORY,
        replaces=ORIGINAL,
    ),
    ClaimStatus.APPROVED,
    Line(A, "40.00", "24.00", "CO-45 60.00; PR-1 10.00; PR-2 6.00", deductible="10.00", coinsurance="6.00"),
    after={key(DED): "1000.00", key(OOP): "1006.00"},
)

# Void: no lines; the reversal returns the accumulators to exactly where they started.
scenario(
    "void claim",
    request(
        claim(line("71046", "120.00"), claim_id="C3", frequency=ClaimFrequency.VOID, original_claim_id="C1"),
        accumulators=AFTER_ORIGINAL,
        history=ORIGINAL_HISTORY,
        replaces=ORIGINAL,
    ),
    ClaimStatus.VOIDED,
    after=START,
)


def _render(result_line: object) -> str:
    from olly.claims.rules import LineResult

    assert isinstance(result_line, LineResult)
    parts = []
    for adjustment in result_line.adjustments:
        text = f"{adjustment.code} {adjustment.amount.to_decimal_string()}"
        if adjustment.rarcs:
            text += " " + " ".join(rarc.value for rarc in adjustment.rarcs)
        parts.append(text)
    return "; ".join(parts)


def test_there_are_at_least_forty_scenarios() -> None:
    assert len(SCENARIOS) >= 40
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)


@pytest.mark.parametrize("case", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(case: Scenario) -> None:
    result = adjudicate(case.request)
    currency = case.request.schedule.currency

    def money(text: str) -> Money:
        return Money.parse(text, currency)

    assert result.status is case.status
    assert result.pend_reasons == case.pends
    assert len(result.lines) == len(case.lines)
    for actual, expected in zip(result.lines, case.lines, strict=True):
        where = f"line {actual.line_number}"
        assert actual.status is expected.status, where
        assert _render(actual) == expected.adjustments, where
        assert actual.allowed == money(expected.allowed), where
        assert actual.paid == money(expected.paid), where
        assert actual.deductible == money(expected.deductible), where
        assert actual.coinsurance == money(expected.coinsurance), where
        assert actual.copay == money(expected.copay), where
        assert actual.is_balanced(), where
    # Claim totals are sums of lines.
    assert result.totals.billed.amount == sum(line.billed.amount for line in result.lines)
    assert result.totals.paid.amount == sum(line.paid.amount for line in result.lines)
    assert result.totals.allowed.amount == sum(line.allowed.amount for line in result.lines)
    # Accumulators: the reversal (if any) first, then this result's movements.
    state = case.request.accumulators
    if result.reversal is not None:
        state = state.apply(result.reversal.movements)
    state = state.apply(result.movements)
    expected_state = {k: (Money.parse(v, currency).amount if isinstance(v, str) else v) for k, v in case.after.items()}
    assert dict(state.values) == expected_state


def test_replacement_reverses_the_original_exactly() -> None:
    replacement = next(s for s in SCENARIOS if s.name == "replacement claim")
    result = adjudicate(replacement.request)
    assert result.reversal is not None
    assert result.reversal.reversed_claim_id == "C1"
    assert result.reversal.paid == usd("-24.00")
    assert [(m.key, m.delta) for m in result.reversal.movements] == [(key(OOP), -1600), (key(DED), -1000)]
    reversed_line = result.reversal.lines[0]
    assert (reversed_line.billed, reversed_line.allowed, reversed_line.paid) == (
        usd("-120.00"),
        usd("-40.00"),
        usd("-24.00"),
    )
    assert [(a.code, a.amount) for a in reversed_line.adjustments] == [
        ("CO-45", usd("-80.00")),
        ("PR-1", usd("-10.00")),
        ("PR-2", usd("-6.00")),
    ]


def test_void_has_no_lines_and_reverses_the_payment() -> None:
    void = next(s for s in SCENARIOS if s.name == "void claim")
    result = adjudicate(void.request)
    assert result.lines == ()
    assert result.reversal is not None
    assert result.reversal.paid == usd("-24.00")
    assert result.totals.paid == usd("0.00")


def test_no_surprises_line_reports_its_benefit_level() -> None:
    case = next(s for s in SCENARIOS if s.name == "No Surprises Act emergency")
    assert adjudicate(case.request).lines[0].benefit_level is BenefitLevel.NO_SURPRISES


def test_authorisation_used_is_recorded() -> None:
    case = next(s for s in SCENARIOS if s.name == "approved authorisation on file")
    assert adjudicate(case.request).lines[0].prior_auth_id == "PA1"
