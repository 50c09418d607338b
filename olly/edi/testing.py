"""Factories for tests and benchmarks: synthetic X12 files with known content.

``professional_claims_file`` writes a clean 837P (005010X222A1) of any size, streaming, with
valid NPIs, ICD-10 diagnoses and balanced charges, so tests know every expected value and the
benchmark can make 100 MB or 1 GB files without holding them in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import BinaryIO

from olly.edi.remittance import (
    Adjustment,
    PayeeInfo,
    PayerInfo,
    Payment,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from olly.kernel.money import Money

BILLING_NPI = "1234567893"
RENDERING_NPI = "1245319599"
PROCEDURES = ("99213", "99214", "85025", "93000", "71046", "80053")
DIAGNOSES = ("E119", "I10", "J069", "M545", "R51", "Z0000")


@dataclass(frozen=True, slots=True)
class GeneratedClaim:
    claim_id: str
    member_id: str
    charges_cents: tuple[int, ...]

    @property
    def total_cents(self) -> int:
        return sum(self.charges_cents)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def claim_segments(index: int, lines: int = 2) -> tuple[GeneratedClaim, list[str]]:
    """The 2000B…2400 segments of claim ``index`` (HL ids filled in by the caller)."""
    member = f"M{index:09d}"
    charges = tuple(5000 + (index * 37 + n * 1100) % 20000 for n in range(lines))
    claim = GeneratedClaim(f"C{index:09d}", member, charges)
    segments = [
        "SBR*P*18*GRP0001******CI",
        f"NM1*IL*1*DOE*JANE****MI*{member}",
        "N3*1 MAIN ST",
        "N4*ANYTOWN*PA*171110000",
        "DMG*D8*19800101*F",
        "NM1*PR*2*OLLY HEALTH*****PI*OLLY1",
        f"CLM*{claim.claim_id}*{_money(claim.total_cents)}***11:B:1*Y*A*Y*Y",
        f"REF*G1*PA{index:07d}",
        f"HI*ABK:{DIAGNOSES[index % 6]}*ABF:{DIAGNOSES[(index + 1) % 6]}",
        f"NM1*82*1*SMITH*ANN****XX*{RENDERING_NPI}",
    ]
    for n, cents in enumerate(charges, start=1):
        segments += [
            f"LX*{n}",
            f"SV1*HC:{PROCEDURES[(index + n) % 6]}:25*{_money(cents)}*UN*1***1:2",
            f"DTP*472*D8*202601{1 + (index + n) % 28:02d}",
        ]
    return claim, segments


def professional_claims(
    claims: int, *, claims_per_set: int = 5000, lines: int = 2, bom: bool = False, newline: str = "\n"
) -> Iterator[str]:
    """The text of an 837P with ``claims`` claims, in pieces (one per segment)."""
    end = "~" + newline
    if bom:
        yield "\ufeff"
    yield (
        "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*OLLY           *260114*1200*^*00501*000000001*0*P*:"
        + end
    )
    sets = max(1, -(-claims // claims_per_set))
    yield f"GS*HC*SUBMITTER*OLLY*20260114*1200*1*X*005010X222A1{end}"
    index = 0
    for set_number in range(1, sets + 1):
        control = f"{set_number:04d}"
        body = [
            f"ST*837*{control}*005010X222A1",
            f"BHT*0019*00*BATCH{set_number}*20260114*1200*CH",
            "NM1*41*2*CLEARINGHOUSE*****46*SUBMITTER",
            "PER*IC*EDI DESK*TE*8005550100",
            "NM1*40*2*OLLY HEALTH*****46*OLLY",
            "HL*1**20*1",
            "NM1*85*2*GOOD CLINIC*****XX*" + BILLING_NPI,
            "N3*10 CLINIC RD",
            "N4*ANYTOWN*PA*171110000",
            "REF*EI*123456789",
        ]
        count = len(body)
        for text in body:
            yield text + end
        hl = 1
        for _ in range(min(claims_per_set, claims - index)):
            hl += 1
            _, segments = claim_segments(index, lines)
            header = f"HL*{hl}*1*22*0"
            yield header + end
            yield end.join(segments) + end
            count += 1 + len(segments)
            index += 1
        yield f"SE*{count + 1}*{control}{end}"
    yield f"GE*{sets}*1{end}"
    yield f"IEA*1*000000001{end}"


def write_professional_claims(target: BinaryIO, claims: int, **options: object) -> int:
    """Stream an 837P into ``target``; returns the bytes written."""
    written = 0
    buffer: list[str] = []
    size = 0
    for piece in professional_claims(claims, **options):  # type: ignore[arg-type]
        buffer.append(piece)
        size += len(piece)
        if size > 1 << 20:
            data = "".join(buffer).encode()
            target.write(data)
            written += len(data)
            buffer, size = [], 0
    data = "".join(buffer).encode()
    target.write(data)
    return written + len(data)


def professional_claims_text(claims: int, **options: object) -> str:
    return "".join(professional_claims(claims, **options))  # type: ignore[arg-type]


def sample_remittance(payee_npi: str = BILLING_NPI, *, method: str = "CHK") -> Remittance:
    """A balanced remittance of two claims: one paid with cost sharing, one denied (CO-197)."""
    usd = "USD"

    def money(text: str) -> Money:
        return Money.parse(text, usd)

    paid_claim = RemittanceClaim(
        claim_id="C000000000",
        charge=money("111.00"),
        paid=money("52.80"),
        payer_claim_number="OLLY-1",
        patient_member_id="M000000000",
        patient_last_name="DOE",
        patient_first_name="JANE",
        lines=(
            RemittanceLine(
                procedure_code="99214",
                modifiers=("25",),
                charge=money("50.00"),
                paid=money("24.00"),
                allowed=money("40.00"),
                units_paid=Decimal(1),
                service_date_from=date(2026, 1, 2),
                line_control_number="1",
                adjustments=(
                    Adjustment("CO", "45", money("10.00")),
                    Adjustment("PR", "3", money("10.00")),
                    Adjustment("PR", "2", money("6.00")),
                ),
            ),
            RemittanceLine(
                procedure_code="85025",
                charge=money("61.00"),
                paid=money("28.80"),
                allowed=money("36.00"),
                units_paid=Decimal(1),
                service_date_from=date(2026, 1, 3),
                adjustments=(Adjustment("CO", "45", money("25.00")), Adjustment("PR", "2", money("7.20"))),
                remarks=("N130",),
            ),
        ),
    )
    denied_claim = RemittanceClaim(
        claim_id="C000000001",
        charge=money("111.74"),
        paid=money("0.00"),
        payer_claim_number="OLLY-2",
        status="4",
        patient_member_id="M000000001",
        patient_last_name="ROE",
        patient_first_name="RICHARD",
        adjustments=(Adjustment("CO", "197", money("111.74")),),
    )
    return Remittance(
        payer=PayerInfo("OLLY HEALTH", "123456789", "1 PAYER WAY", "HARRISBURG", "PA", "17101", "8005550100"),
        payee=PayeeInfo("GOOD CLINIC", payee_npi, "987654321", "10 CLINIC RD", "ANYTOWN", "PA", "171110000"),
        payment=Payment(
            method,
            "CHK0001",
            date(2026, 1, 20),
            *(("011000015", "12345678", "021000021", "87654321") if method == "ACH" else ()),
        ),
        claims=(paid_claim, denied_claim),
        production_date=date(2026, 1, 19),
    )
