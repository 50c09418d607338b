"""The EOB PDF: valid PDF 1.4 structure (every xref offset points at its object) and the amounts."""

from __future__ import annotations

import re
from datetime import date

from olly.claims.eob import EobContent, plain_reason, render
from olly.claims.rules import Adjustment, ClaimResult, ClaimStatus, LineResult, LineStatus
from olly.claims.snapshots import totals_of
from olly.codesets.carc import Carc, GroupCode
from olly.kernel.money import Money


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def result() -> ClaimResult:
    line = LineResult(
        line_number=1,
        status=LineStatus.APPROVED,
        billed=usd(15000),
        allowed=usd(10000),
        paid=usd(7500),
        deductible=usd(0),
        coinsurance=usd(0),
        copay=usd(2500),
        adjustments=(
            Adjustment(GroupCode.CONTRACTUAL, Carc.EXCEEDS_MAXIMUM_ALLOWABLE, usd(5000)),
            Adjustment(GroupCode.PATIENT_RESPONSIBILITY, Carc.COPAY, usd(2500)),
        ),
        movements=(),
        trace=(),
    )
    return ClaimResult(
        claim_id="c-1",
        member_id="m-1",
        status=ClaimStatus.APPROVED,
        currency="USD",
        adjudicated_on=date(2026, 1, 15),
        lines=(line,),
        totals=totals_of((line,), "USD"),
    )


def test_pdf_structure_and_amounts() -> None:
    pdf = render(EobContent("c-1", "2026-01-10", "1234567893", result(), date(2026, 7, 14)))
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[startxref:].startswith(b"xref\n0 ")
    count = int(re.match(rb"xref\n0 (\d+)\n", pdf[startxref:]).group(1))  # type: ignore[union-attr]
    entries = re.findall(rb"(\d{10}) 00000 n \n", pdf[startxref:])
    assert len(entries) == count - 1
    for number, offset in enumerate(entries, start=1):
        assert pdf[int(offset) :].startswith(f"{number} 0 obj\n".encode())
    for length, body in re.findall(rb"<< /Length (\d+) >>\nstream\n(.*?)\nendstream", pdf, re.S):
        assert int(length) == len(body)
    for text in (
        b"Amount billed: USD 150.00",
        b"Plan allowed: USD 100.00",
        b"Plan paid: USD 75.00",
        b"You owe: USD 25.00",
    ):
        assert text in pdf
    assert b"CO-45" in pdf and b"PR-3" in pdf
    assert b"appeal until 2026-07-14" in pdf


def test_every_reason_reads_plainly_and_parentheses_are_escaped() -> None:
    assert plain_reason(Carc.COPAY) == "Your copay for this visit."
    assert "(" in plain_reason(Carc.OTHER_PAYER_PRIMARY)
    # CARC 45 written off by an in-network provider, or owed by the member out of network
    assert "may not bill you" in plain_reason(Carc.EXCEEDS_MAXIMUM_ALLOWABLE, GroupCode.CONTRACTUAL)
    assert plain_reason(Carc.EXCEEDS_MAXIMUM_ALLOWABLE, GroupCode.PATIENT_RESPONSIBILITY).startswith(
        "The provider is outside your plan's network and charged more than the plan's maximum allowable "
        "amount; the provider may bill you for the difference (balance billing)"
    )
    pdf = render(EobContent("c-(1)", "2026-01-10", "1234567893", result(), date(2026, 7, 14)))
    assert b"Claim c-\\(1\\)" in pdf
