"""The EOB PDF: valid PDF 1.4 structure (every xref offset points at its object) and the amounts."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import replace
from datetime import date

from olly.claims import eob
from olly.claims.eob import EobContent, EobResult, plain_reason, render
from olly.claims.rules import Adjustment, ClaimResult, ClaimStatus, LineResult, LineStatus, adjudicate
from olly.claims.snapshots import result_from_json, result_to_json, totals_of
from olly.codesets.carc import Carc, GroupCode
from olly.codesets.rarc import Rarc
from olly.kernel.money import Money
from tests.unit.claims.factories import claim, line, request


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
    pdf = render(EobContent("c-1", "2026-01-10", "1234567893", EobResult.of(result()), date(2026, 7, 14)))
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
    pdf = render(EobContent("c-(1)", "2026-01-10", "1234567893", EobResult.of(result()), date(2026, 7, 14)))
    assert b"Claim c-\\(1\\)" in pdf


def many_lines() -> ClaimResult:
    """Thirty lines (three pages of text), each with a remark code on its write-off, one denied."""
    lines = tuple(
        replace(
            result().lines[0],
            line_number=number,
            status=LineStatus.DENIED if number == 7 else LineStatus.APPROVED,
            adjustments=(
                Adjustment(
                    GroupCode.CONTRACTUAL, Carc.EXCEEDS_MAXIMUM_ALLOWABLE, usd(5000), (Rarc.INVALID_PROCEDURE_CODE,)
                ),
                Adjustment(GroupCode.PATIENT_RESPONSIBILITY, Carc.COPAY, usd(2500)),
            ),
        )
        for number in range(1, 31)
    )
    return replace(result(), status=ClaimStatus.PARTIALLY_APPROVED, lines=lines, totals=totals_of(lines, "USD"))


def test_the_pdf_bytes_are_those_rendered_before_the_eob_read_only_what_it_prints() -> None:
    """SHA-256 of the PDFs as rendered from a whole ``ClaimResult`` (before ``EobResult``): same
    bytes, one page and three, with a reference that is not Latin-1."""
    one_page = render(EobContent("c-1", "2026-01-10", "1234567893", EobResult.of(result()), date(2026, 7, 14)))
    three_pages = render(
        EobContent(
            "c-\u00e9\u2192(2)\\",
            "2026-01-10 to 2026-01-12",
            "1234567893",
            EobResult.of(many_lines()),
            date(2026, 7, 14),
        )
    )
    assert hashlib.sha256(one_page).hexdigest() == "61cce4656a9c2bcf8fe7b71ea0ac2e90ad01562d2d22b5a937177525245515d1"
    assert hashlib.sha256(three_pages).hexdigest() == "542f0115a9fdcde2f177d8e2b260ed132f79d86e9db3deeb353481e1b361350b"
    assert three_pages.count(b"/Type /Page ") == 3
    assert b"Claim c-\xe9?\\(2\\)\\\\" in three_pages  # é is Latin-1, the arrow is not


def test_an_eob_read_from_a_stored_result_is_the_one_read_from_the_whole_result() -> None:
    adjudicated = adjudicate(request(claim(line("99213", "150.00"), line("85025", "61.00"), line("99999", "20.00"))))
    stored = result_to_json(adjudicated)
    assert EobResult.from_stored(stored) == EobResult.of(result_from_json(stored)) == EobResult.of(adjudicated)
    assert [item.status for item in EobResult.from_stored(stored).lines] == [
        item.status.value for item in adjudicated.lines
    ]
    denied = result_to_json(many_lines())
    assert EobResult.from_stored(denied) == EobResult.of(many_lines())


def test_object_key_names_the_eob_by_a_uuid5_of_claim_and_sequence() -> None:
    tenant_id = uuid.UUID("00000000-0000-7000-8000-000000000001")
    for index in range(200):
        claim_id = uuid.UUID(int=index * 0x9E3779B97F4A7C15_F39CC0605CEDC834 % 2**128)
        for sequence in (1, 2, 17):
            expected = f"{tenant_id}/eob/{uuid.uuid5(eob.KEY_NAMESPACE, f'{claim_id}/{sequence}')}"
            assert eob.object_key(tenant_id, claim_id, sequence) == expected


def test_an_eob_rendered_from_a_stored_result_has_the_bytes_of_one_rendered_from_its_eob_result() -> None:
    """``render_stored`` (the EOB consumer's way) prints what ``render`` prints of
    ``EobResult.from_stored``: one page and three, a reference to escape, a negative amount, yen."""
    adjudicated = adjudicate(request(claim(line("99213", "150.00"), line("85025", "61.00"), line("99999", "20.00"))))
    refund = replace(
        result(),
        currency="JPY",
        lines=(replace(result().lines[0], paid=Money(-7500, "JPY"), billed=Money(15000, "JPY"), adjustments=()),),
    )
    cases = [
        ("c-1", "2026-01-10", result_to_json(result())),
        ("c-\u00e9\u2192(2)\\", "2026-01-10 to 2026-01-12", result_to_json(many_lines())),
        ("c-3", "2026-01-10", result_to_json(adjudicated)),
        ("c-4", "2026-01-10", result_to_json(refund)),
    ]
    for reference, dates, stored in cases:
        expected = render(EobContent(reference, dates, "1234567893", EobResult.from_stored(stored), date(2026, 7, 14)))
        assert eob.render_stored(reference, dates, "1234567893", stored, date(2026, 7, 14)) == expected
    assert b"(Plan paid: JPY -7500)" in eob.render_stored(
        "c-4", "2026-01-10", "1234567893", cases[3][2], date(2026, 7, 14)
    )
