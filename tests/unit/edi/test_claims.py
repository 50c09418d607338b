from __future__ import annotations

import dataclasses
import json
from datetime import date, time
from decimal import Decimal

from olly.edi import codes
from olly.edi.claim_ack import AcknowledgedClaim, ClaimAcknowledgment, write_277ca
from olly.edi.claims import ClaimProblem, ClaimSubmission, is_valid_npi
from olly.edi.codes import TransactionKind
from olly.edi.inbound import read_all, transactions
from olly.edi.ports import to_jsonable
from olly.edi.testing import BILLING_NPI, RENDERING_NPI, professional_claims_text
from olly.edi.writer import EnvelopeSettings, InMemoryControlNumbers
from olly.kernel.money import Money
from tests.unit.edi.conftest import NOW, fixture_bytes
from tests.unit.edi.pyx12_judge import judge


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def test_npi_check_digit() -> None:
    assert is_valid_npi("1234567893")
    assert not is_valid_npi("1234567890")
    assert not is_valid_npi("123456789")
    assert not is_valid_npi("12345678a3")


def test_837i_sample_maps_every_field_and_flags_icd9() -> None:
    result = read_all(fixture_bytes("two-claims-single-provider.837i"))
    first, second = result.of_type(ClaimSubmission)
    assert first.kind is TransactionKind.CLAIM_INSTITUTIONAL
    assert (first.claim_id, first.total_charge, first.frequency_code, first.facility_code) == (
        "756048Q",
        usd("89.95"),
        "1",
        "13",
    )
    assert (first.billing_npi, first.billing_tax_id, first.payer_id, first.subscriber_member_id) == (
        "1234567890",
        "123456789",
        "99999",
        "030005074",
    )
    assert first.attending_npi == "1122334455"
    assert first.statement_from == first.statement_to == date(2005, 3, 15)
    assert [(d.qualifier, d.code) for d in first.diagnoses] == [("BK", "3669"), ("BF", "4019"), ("BF", "79431")]
    assert [(line.revenue_code, line.procedure_code, line.charge, line.units) for line in first.lines] == [
        ("0305", "85025", usd("13.39"), Decimal("1.00")),
        ("0730", "93005", usd("76.56"), Decimal("3.00")),
    ]
    assert first.origin.segment_number == 21
    assert first.origin.set_key == ("000000907", "1", "987654")
    assert [(p.category, p.status, p.field) for p in first.problems] == [
        ("A7", "254", "diagnoses.0.qualifier"),
        ("A7", "255", "diagnoses.1.qualifier"),
        ("A7", "255", "diagnoses.2.qualifier"),
        ("A7", "562", "billing_npi"),
    ]
    assert second.claim_id == "756049Q"
    assert second.total_charge == usd("50.00")
    assert (second.subscriber_last_name, second.subscriber_first_name) == ("SMITH", "JOE")
    # no PHI in representations
    assert "SMITH" not in repr(second)
    assert "3669" not in repr(first)


def test_generated_837p_maps_to_exact_claims() -> None:
    text = professional_claims_text(3, claims_per_set=2)
    claims = read_all(text.encode()).of_type(ClaimSubmission)
    assert [c.claim_id for c in claims] == ["C000000000", "C000000001", "C000000002"]
    first = claims[0]
    assert first.accepted
    assert first.kind is TransactionKind.CLAIM_PROFESSIONAL
    assert (first.billing_npi, first.rendering_npi) == (BILLING_NPI, RENDERING_NPI)
    assert first.prior_authorization == "PA0000000"
    assert first.total_charge == usd("111.00")
    assert [(d.qualifier, d.code) for d in first.diagnoses] == [("ABK", "E119"), ("ABF", "I10")]
    assert [
        (
            line.line_number,
            line.procedure_code,
            line.modifiers,
            line.charge,
            line.diagnosis_pointers,
            line.service_date_from,
        )
        for line in first.lines
    ] == [
        (1, "99214", ("25",), usd("50.00"), (1, 2), date(2026, 1, 2)),
        (2, "85025", ("25",), usd("61.00"), (1, 2), date(2026, 1, 3)),
    ]
    assert claims[2].origin.set_control_number == "0002"
    assert (first.patient_is_subscriber, first.relationship_code, first.subscriber_member_id) == (
        True,
        "18",
        "M000000000",
    )


def test_claims_of_rejected_sets_are_not_handed_to_intake() -> None:
    result = read_all(fixture_bytes("x12_complex.txt"))
    assert result.transactions == ()
    everything = list(transactions(fixture_bytes("x12_complex.txt"), result.report, accepted_only=False))
    assert [c.claim_id for c in everything if isinstance(c, ClaimSubmission)] == [
        "A37YH556",
        "A37YH667",
        "A37YH668",
        "A37YH556",
        "A37YH667",
        "A37YH668",
    ]
    icd9 = [p for c in everything if isinstance(c, ClaimSubmission) for p in c.problems if p.field.startswith("diag")]
    assert {(p.category, p.status) for p in icd9} == {("A7", "255")}


def test_charges_that_do_not_add_up_reject_the_claim() -> None:
    text = professional_claims_text(1).replace("CLM*C000000000*111.00", "CLM*C000000000*112.00")
    (claim,) = read_all(text.encode()).of_type(ClaimSubmission)
    assert [(p.category, p.status, p.field) for p in claim.problems] == [("A7", "178", "total_charge")]


def test_277ca_from_what_intake_kept_of_each_claim_is_the_same_text(olly_to_partner: EnvelopeSettings) -> None:
    good = read_all(professional_claims_text(3).encode()).of_type(ClaimSubmission)
    bad = read_all(fixture_bytes("two-claims-single-provider.837i")).of_type(ClaimSubmission)
    unknown_member = ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_SUBSCRIBER_ID, "member", "IL")
    dependent = dataclasses.replace(good[2], patient_last_name="ROE", patient_first_name="", billing_tax_id=None)
    answers: list[tuple[ClaimSubmission, str | None, tuple[ClaimProblem, ...]]] = [
        (good[0], "OLLY-1", ()),
        (good[1], None, (unknown_member,)),
        (dependent, "OLLY-3", ()),
        (bad[0], None, ()),
        (dataclasses.replace(bad[1], billing_npi=BILLING_NPI, billing_name="GOOD CLINIC"), "OLLY-4", ()),
    ]

    def text(items: list[ClaimAcknowledgment] | list[AcknowledgedClaim]) -> str:
        return write_277ca(
            items,
            payer_name="OLLY HEALTH",
            payer_id="OLLY1",
            received=date(2026, 1, 14),
            settings=olly_to_partner,
            control_numbers=InMemoryControlNumbers(),
            now=NOW,
        ).text

    whole = text([ClaimAcknowledgment(claim, number, extra) for claim, number, extra in answers])
    kept = [AcknowledgedClaim.of(claim, number, extra) for claim, number, extra in answers]
    assert text(kept) == whole
    assert [item.accepted for item in kept] == [True, False, True, False, False]
    assert "NM1*QC*1*ROE*****MI*" in whole


def test_277ca_accepts_and_rejects_each_claim_and_validates_with_pyx12(olly_to_partner: EnvelopeSettings) -> None:
    good = read_all(professional_claims_text(2).encode()).of_type(ClaimSubmission)
    bad = read_all(fixture_bytes("two-claims-single-provider.837i")).of_type(ClaimSubmission)[1]
    unknown_member = ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_SUBSCRIBER_ID, "member", "IL")
    interchange = write_277ca(
        [
            ClaimAcknowledgment(good[0], payer_claim_number="OLLY-1"),
            ClaimAcknowledgment(good[1], extra_problems=(unknown_member,)),
            ClaimAcknowledgment(dataclasses.replace(bad, billing_npi=BILLING_NPI, billing_name="GOOD CLINIC")),
        ],
        payer_name="OLLY HEALTH",
        payer_id="OLLY1",
        received=date(2026, 1, 14),
        settings=olly_to_partner,
        control_numbers=InMemoryControlNumbers(),
        now=NOW,
    )
    assert judge(interchange.text) == []
    lines = interchange.text.splitlines()
    assert "STC*A1:19:PR*20260115*WQ*272.74~" in lines
    assert lines[
        lines.index("STC*A1:19:PR*20260115*WQ*272.74~") + 1 : lines.index("STC*A1:19:PR*20260115*WQ*272.74~") + 5
    ] == [
        "QTY*90*1~",
        "QTY*AA*2~",
        "AMT*YU*111.00~",
        "AMT*YY*161.74~",
    ]
    claim_statuses = [line for line in lines if line.startswith(("TRN*2*C", "TRN*2*7", "STC*A2", "STC*A7", "REF*1K"))]
    assert claim_statuses == [
        "TRN*2*C000000000~",
        "STC*A2:20*20260115*WQ*111.00~",
        "REF*1K*OLLY-1~",
        "TRN*2*C000000001~",
        "STC*A7:164:IL*20260115*U*111.74~",
        "TRN*2*756049Q~",
        "STC*A7:254*20260115*U*50.00~",
        "STC*A7:562:85*20260115*U*50.00~",
    ]


def test_277ca_names_the_lines_a_problem_is_about_and_validates_with_pyx12(olly_to_partner: EnvelopeSettings) -> None:
    text = professional_claims_text(2)
    # The first claim's second line points at a third diagnosis the claim does not have and carries
    # the provider's line number; the second claim is fine.
    text = text.replace(
        "SV1*HC:85025:25*61.00*UN*1***1:2~\nDTP*472*D8*20260103~",
        "SV1*HC:85025:25*61.00*UN*2***3~\nDTP*472*RD8*20260103-20260104~\nREF*6R*LINE-B~",
        1,
    )
    text = text.replace("SE*45*0001~", "SE*46*0001~", 1)
    first, second = read_all(text.encode()).of_type(ClaimSubmission)
    assert [(p.status, p.field, p.line_number) for p in first.problems] == [("255", "lines.diagnosis_pointers", 2)]
    unknown_member = ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_SUBSCRIBER_ID, "member", "IL")
    bad_date = ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_LINE_DATE, "lines.1.serviceDate", None, 2)
    interchange = write_277ca(
        [
            ClaimAcknowledgment(first, extra_problems=(bad_date,)),
            ClaimAcknowledgment(second, extra_problems=(unknown_member,)),
        ],
        payer_name="OLLY HEALTH",
        payer_id="OLLY1",
        received=date(2026, 1, 14),
        settings=olly_to_partner,
        control_numbers=InMemoryControlNumbers(),
        now=NOW,
    )
    assert judge(interchange.text) == []
    lines = interchange.text.splitlines()
    start = lines.index("TRN*2*C000000000~")
    assert lines[start : start + 8] == [
        "TRN*2*C000000000~",
        "STC*A7:255*20260115*U*111.00~",
        "STC*A7:187*20260115*U*111.00~",
        "DTP*472*RD8*20260102-20260104~",
        "SVC*HC:85025:25*61.00*****2~",  # 2220D: the line, its two problems, its number, its dates
        "STC*A7:255*20260115*U*******A7:187~",
        "REF*FJ*LINE-B~",
        "DTP*472*RD8*20260103-20260104~",
    ]
    # A problem of the member is the claim's alone: no line is named.
    other = lines.index("TRN*2*C000000001~")
    assert not any(line.startswith("SVC*") for line in lines[other:])
    kept = AcknowledgedClaim.of(first, None, (bad_date,))
    assert [line.line_number for line in kept.lines] == [2]
    assert AcknowledgedClaim.of(second).lines == ()


def inpatient_837i(*stay: str, frequency: str = "1", statement: str = "20050314-20050315") -> bytes:
    """The 837I sample's first claim as a hospital in-patient bill (type of bill 11x) with ``stay``'s
    DTP segments after its statement dates; SE01 counts the added segments."""
    text = fixture_bytes("two-claims-single-provider.837i").decode()
    text = text.replace("CLM*756048Q*89.95***13:A:1*", f"CLM*756048Q*89.95***11:A:{frequency}*", 1)
    dates = "".join(f"~\n{segment}" for segment in stay)
    text = text.replace("DTP*434*RD8*20050315-20050315", f"DTP*434*RD8*{statement}{dates}", 1)
    return text.replace("SE*48*987654", f"SE*{48 + len(stay)}*987654", 1).encode()


def first_claim(data: bytes) -> ClaimSubmission:
    result = read_all(data)
    assert len(result.report.accepted_sets()) == 1, "the 999 accepts the set: a stay is the claim's business"
    return result.of_type(ClaimSubmission)[0]


def stay_problems(claim: ClaimSubmission) -> list[tuple[str, str, str]]:
    return [(p.category, p.status, p.field) for p in claim.problems if p.status in ("189", "190")]


def test_an_inpatient_bill_gives_the_hours_from_admission_to_discharge() -> None:
    overnight = first_claim(inpatient_837i("DTP*435*DT*200503142130", "DTP*096*TM*1015"))
    assert (overnight.admission_date, overnight.admission_time, overnight.discharge_time) == (
        date(2005, 3, 14),
        time(21, 30),
        time(10, 15),
    )
    assert overnight.inpatient_hours == 12  # 21:30 to 10:15 next day: 12 h 45 min, whole hours
    assert stay_problems(overnight) == []
    kept = json.loads(json.dumps(to_jsonable(overnight)))  # as a claim waits for claims intake
    assert (kept["admission_date"], kept["admission_time"], kept["discharge_time"]) == (
        "2005-03-14",
        "21:30:00",
        "10:15:00",
    )
    week = first_claim(inpatient_837i("DTP*435*DT*200503100800", "DTP*096*TM*1000", statement="20050310-20050315"))
    assert week.inpatient_hours == 5 * 24 + 2
    exactly_a_day = first_claim(inpatient_837i("DTP*435*DT*200503140900", "DTP*096*TM*0900"))
    assert exactly_a_day.inpatient_hours == 24


def test_hours_are_unknown_without_both_clock_times_or_before_discharge() -> None:
    day_only = first_claim(inpatient_837i("DTP*435*D8*20050314", "DTP*096*TM*1015"))
    assert (day_only.admission_date, day_only.admission_time, day_only.inpatient_hours) == (
        date(2005, 3, 14),
        None,
        None,
    )
    no_discharge_hour = first_claim(inpatient_837i("DTP*435*DT*200503142130"))
    assert no_discharge_hour.inpatient_hours is None
    interim = first_claim(inpatient_837i("DTP*435*DT*200503142130", "DTP*096*TM*1015", frequency="2"))
    assert interim.inpatient_hours is None  # still in hospital: the statement's end is no discharge
    outpatient = first_claim(fixture_bytes("two-claims-single-provider.837i"))
    assert (outpatient.admission_date, outpatient.inpatient_hours) == (None, None)


def test_unreadable_or_impossible_stays_reject_the_claim_with_189_or_190() -> None:
    assert stay_problems(first_claim(inpatient_837i("DTP*435*DT*20050314", "DTP*096*TM*1015"))) == [
        ("A7", "189", "admission_date")
    ]
    assert stay_problems(first_claim(inpatient_837i("DTP*435*DT*200502301200"))) == [("A7", "189", "admission_date")]
    assert stay_problems(first_claim(inpatient_837i("DTP*435*DT*200503142130", "DTP*096*TM*2460"))) == [
        ("A7", "190", "discharge_time")
    ]
    assert stay_problems(first_claim(inpatient_837i("DTP*435*DT*200503142130", "DTP*096*D8*20050315"))) == [
        ("A7", "190", "discharge_time")
    ]
    same_day_backwards = inpatient_837i("DTP*435*DT*200503151400", "DTP*096*TM*0900", statement="20050315-20050315")
    assert stay_problems(first_claim(same_day_backwards)) == [("A7", "190", "discharge_time")]
    admitted_after_the_statement = inpatient_837i("DTP*435*D8*20050316", statement="20050314-20050315")
    assert stay_problems(first_claim(admitted_after_the_statement)) == [("A7", "189", "admission_date")]
