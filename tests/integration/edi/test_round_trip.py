"""837 of N claims → (adjudicated lines) → 835 whose CLP totals equal the adjudicated amounts."""

from __future__ import annotations

from datetime import date

from olly.edi.claims import ClaimSubmission
from olly.edi.inbound import read_all
from olly.edi.remittance import (
    Adjustment,
    LineOutcome,
    PayeeInfo,
    PayerInfo,
    Payment,
    Remittance,
    remittance_claim,
    write_payment_run,
)
from olly.edi.testing import BILLING_NPI, professional_claims_text
from olly.edi.writer import InMemoryControlNumbers, Party
from olly.kernel.money import Money
from tests.unit.edi.conftest import NOW
from tests.unit.edi.pyx12_judge import judge


def adjudicate(claim: ClaimSubmission) -> list[LineOutcome]:
    """A fixed contract for the test: allowed 80% of billed, member coinsurance 20% of allowed."""
    outcomes = []
    for line in claim.lines:
        allowed = line.charge.percent(80)
        coinsurance = allowed.percent(20)
        outcomes.append(
            LineOutcome(
                paid=allowed - coinsurance,
                adjustments=(Adjustment("CO", "45", line.charge - allowed), Adjustment("PR", "2", coinsurance)),
                allowed=allowed,
            )
        )
    return outcomes


def test_837_to_835_claim_by_claim() -> None:
    claims = read_all(professional_claims_text(25, claims_per_set=10).encode()).of_type(ClaimSubmission)
    assert len(claims) == 25
    remittance_claims = tuple(
        remittance_claim(claim, payer_claim_number=f"OLLY-{n}", outcomes=adjudicate(claim))
        for n, claim in enumerate(claims)
    )
    remittance = Remittance(
        payer=PayerInfo("OLLY HEALTH", "123456789", "1 PAYER WAY", "HARRISBURG", "PA", "17101", "8005550100"),
        payee=PayeeInfo("GOOD CLINIC", BILLING_NPI, "987654321"),
        payment=Payment("CHK", "CHK0099", date(2026, 1, 20)),
        claims=remittance_claims,
        production_date=date(2026, 1, 19),
    )
    (written,) = write_payment_run(
        [remittance], sender=Party("ZZ", "OLLY"), control_numbers=InMemoryControlNumbers(), now=NOW
    )
    assert judge(written.interchange.text) == []
    clp = [line.rstrip("~").split("*") for line in written.interchange.text.splitlines() if line.startswith("CLP*")]
    assert [row[1] for row in clp] == [c.claim_id for c in claims]
    expected_paid = [sum(o.paid.amount for o in adjudicate(c)) for c in claims]
    assert [Money.parse(row[4], "USD").amount for row in clp] == expected_paid
    assert [Money.parse(row[3], "USD") for row in clp] == [c.total_charge for c in claims]
    # first claim by hand: lines 50.00 and 61.00 → allowed 40.00 + 48.80, coinsurance 8.00 + 9.76
    assert clp[0][3:6] == ["111.00", "71.04", "17.76"]
    assert written.total_paid == Money(sum(expected_paid), "USD")
