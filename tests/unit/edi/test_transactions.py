"""834, 270/271 and 276/277: what Olly reads and what it writes back."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from olly.edi.codes import Acknowledgment
from olly.edi.eligibility import EligibilityAnswer, EligibilityInquiry, coverage_benefits, write_271
from olly.edi.enrollment import EnrollmentChange, Maintenance
from olly.edi.inbound import read_all
from olly.edi.status import NOT_FOUND, ClaimStatus, StatusAnswer, StatusInquiry, write_277
from olly.edi.validate import validate
from olly.edi.writer import EnvelopeSettings, InMemoryControlNumbers
from olly.kernel.money import Money
from tests.unit.edi.conftest import ALL_SAMPLES, NOW, fixture_bytes


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def guide_problems(text: str) -> list[tuple[str, int, str, str]]:
    """Olly's table-driven implementation-guide check of a file it wrote (there is no pyx12 map)."""
    report = validate(text.encode())
    assert report.interchanges
    assert report.interchanges[0].notes == []
    found = []
    for _, group, transaction in report.transaction_sets():
        assert group.errors == []
        found += [(p.segment_id, p.position, p.loop_id, p.error.value) for p in transaction.problems]
        found += [("IK5", 0, "", e.value) for e in transaction.errors]
    return found


# -- 834 ------------------------------------------------------------------------------------------


def test_834_addition_of_an_employee_with_two_products() -> None:
    (change,) = read_all(fixture_bytes("enroll-employee-multiple-products.834")).of_type(EnrollmentChange)
    assert change.kind is Maintenance.ADDITION
    assert (change.sponsor_id, change.payer_id, change.purpose, change.action) == ("999888777", "654456654", "00", "2")
    assert (change.is_subscriber, change.relationship_code, change.benefit_status, change.employment_status) == (
        True,
        "18",
        "A",
        "FT",
    )
    assert (change.subscriber_id, change.group_policy_number, change.member_id) == (
        "123456789",
        "123456001",
        "123456789",
    )
    assert change.eligibility_begin == date(1996, 5, 23)
    assert (change.birth_date, change.gender, change.city, change.postal_code) == (
        date(1940, 8, 16),
        "M",
        "CAMP HILL",
        "17011",
    )
    assert [(c.maintenance, c.insurance_line, c.begin) for c in change.coverages] == [
        ("021", "HLT", date(1996, 6, 1)),
        ("021", "VIS", date(1996, 6, 1)),
    ]
    assert "DOE" not in repr(change)


def test_834_change_with_reporting_categories_and_coverage_dates() -> None:
    (change,) = read_all(fixture_bytes("834_ls_le_ls.txt")).of_type(EnrollmentChange)
    assert change.kind is Maintenance.CHANGE
    assert (change.maintenance_reason, change.eligibility_begin, change.eligibility_end) == (
        "AI",
        date(2012, 9, 1),
        date(2013, 3, 31),
    )
    assert (change.member_id_qualifier, change.member_id, change.last_name) == ("34", "544001234", "SUBSCRIBER LAST 1")
    (coverage,) = change.coverages
    assert (coverage.insurance_line, coverage.coverage_level, coverage.begin) == ("HMO", "IND", date(2012, 9, 1))


# -- 270 / 271 -------------------------------------------------------------------------------------


def _inquiry() -> EligibilityInquiry:
    (inquiry,) = read_all(fixture_bytes("dependent-health-benefit-check.270")).of_type(EligibilityInquiry)
    return inquiry


def test_270_for_a_dependent() -> None:
    inquiry = _inquiry()
    assert (inquiry.payer_id, inquiry.provider_id, inquiry.provider_id_qualifier) == ("842610001", "2000034", "SV")
    assert inquiry.subscriber.member_id == "11122333301"
    assert inquiry.dependent is not None
    assert (inquiry.dependent.last_name, inquiry.dependent.birth_date) == ("SMITH", date(1978, 10, 14))
    assert (inquiry.trace_number, inquiry.trace_originator) == ("93175-012547", "9877281234")
    assert inquiry.service_date_from == inquiry.service_date_to == date(2006, 5, 1)
    assert inquiry.service_types == ("30",)


def test_271_with_coverage_accumulators_and_cost_sharing(olly_to_partner: EnvelopeSettings) -> None:
    inquiry = dataclasses.replace(_inquiry(), dependent=None)
    answer = EligibilityAnswer(
        inquiry,
        found=True,
        plan_begin=date(2026, 1, 1),
        plan_end=date(2026, 12, 31),
        group_number="GRP0001",
        benefits=coverage_benefits(
            active=True,
            plan_name="GOLD PPO",
            insurance_type="PR",
            deductible_remaining=usd("750.00"),
            out_of_pocket_remaining=usd("4200.50"),
            copays=[("98", usd("25.00")), ("UC", usd("50.00"))],
            coinsurance=[("30", Decimal("0.20"))],
        ),
    )
    interchange = write_271([answer], settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW)
    assert guide_problems(interchange.text) == []
    lines = interchange.text.splitlines()
    start = lines.index("HL*3*2*22*0~")
    assert lines[start:-2] == [
        "HL*3*2*22*0~",
        "TRN*2*93175-012547*9877281234~",
        "NM1*IL*1******MI*11122333301~",
        "REF*6P*GRP0001~",
        "DTP*346*D8*20260101~",
        "DTP*347*D8*20261231~",
        "EB*1*IND*30*PR*GOLD PPO~",
        "EB*C*IND*30***29*750.00*****Y~",
        "EB*G*IND*30***29*4200.50*****Y~",
        "EB*B*IND*98***27*25.00*****Y~",
        "EB*B*IND*UC***27*50.00*****Y~",
        "EB*A*IND*30*****0.2****Y~",
        "SE*19*0001~",
    ]


def test_271_for_a_dependent_and_for_a_member_not_found(olly_to_partner: EnvelopeSettings) -> None:
    inquiry = _inquiry()
    found = EligibilityAnswer(
        inquiry, found=True, dependent_relationship="19", benefits=coverage_benefits(active=False, plan_name="GOLD PPO")
    )
    missing = EligibilityAnswer(dataclasses.replace(inquiry, dependent=None), found=False, rejection_reason="72")
    interchange = write_271(
        [found, missing], settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW
    )
    assert guide_problems(interchange.text) == []
    lines = interchange.text.splitlines()
    assert "HL*4*3*23*0~" in lines
    assert "NM1*03*1*SMITH*MARY~" in lines
    assert "INS*N*19~" in lines
    assert "EB*6*IND*30*C1*GOLD PPO~" in lines
    assert "AAA*N**72*C~" in lines


def test_271_dmg_states_the_gender_olly_holds_for_a_member_found(olly_to_partner: EnvelopeSettings) -> None:
    inquiry = _inquiry()  # the dependent is asked about with DMG*D8*19781014 (no gender)
    assert inquiry.dependent is not None
    asked_as_female = dataclasses.replace(inquiry, dependent=dataclasses.replace(inquiry.dependent, gender="F"))
    benefits = coverage_benefits(active=True, plan_name="GOLD PPO")
    answers = [
        EligibilityAnswer(inquiry, found=True, benefits=benefits, member_gender="M"),
        EligibilityAnswer(inquiry, found=True, benefits=benefits),
        EligibilityAnswer(asked_as_female, found=True, benefits=benefits, member_gender="M"),
        EligibilityAnswer(asked_as_female, found=False, rejection_reason="75"),
    ]
    written = []
    for answer in answers:
        text = write_271([answer], settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW).text
        assert guide_problems(text) == []
        written.append([line for line in text.splitlines() if line.startswith("DMG*")])
    assert written == [
        ["DMG*D8*19781014*M~"],
        ["DMG*D8*19781014*U~"],  # found, and Olly holds no gender: unknown
        ["DMG*D8*19781014*M~"],  # Olly's record, not what was asked
        ["DMG*D8*19781014*F~"],  # not found: as asked
    ]


def test_the_271_guide_check_catches_a_bad_eb_code(olly_to_partner: EnvelopeSettings) -> None:
    answer = EligibilityAnswer(
        dataclasses.replace(_inquiry(), dependent=None),
        found=True,
        benefits=coverage_benefits(active=True, plan_name="P"),
    )
    text = write_271([answer], settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW).text
    assert guide_problems(text.replace("EB*1*IND", "EB*Z9*IND")) == [("EB", 10, "2110C", "8"), ("IK5", 0, "", "5")]


# -- 276 / 277 -------------------------------------------------------------------------------------


def test_276_inquiries_one_per_claim() -> None:
    inquiries = read_all(fixture_bytes("claim-level-status.276")).of_type(StatusInquiry)
    assert [(i.trace_number, i.claim_id, i.total_charge, i.patient_last_name) for i in inquiries] == [
        ("ABCXYZ1", "SM123456", usd("8513.88"), None),
        ("ABCXYZ2", "J0234567", usd("7599.00"), None),
        ("ABCXYZ3", "MA345678", None, "MANN"),
    ]
    assert (inquiries[0].payer_id, inquiries[0].provider_npi, inquiries[0].subscriber_member_id) == (
        "12345",
        "1666666661",
        "123456789A",
    )
    assert (inquiries[0].service_date_from, inquiries[0].service_date_to) == (date(2005, 8, 31), date(2005, 9, 6))


def test_277_answers_validate_against_the_guide(olly_to_partner: EnvelopeSettings) -> None:
    first, _, dependent = read_all(fixture_bytes("claim-level-status.276")).of_type(StatusInquiry)
    answers = [
        StatusAnswer(
            first,
            (ClaimStatus("F1", "65"),),
            payer_claim_number="OLLY-7",
            paid_amount=usd("6120.00"),
            paid_date=date(2026, 1, 10),
            check_number="CHK0042",
        ),
        StatusAnswer(dependent, (NOT_FOUND,)),
    ]
    interchange = write_277(answers, settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW)
    assert guide_problems(interchange.text) == []
    lines = interchange.text.splitlines()
    assert "STC*F1:65*20260115**8513.88*6120.00*20260110**20260110*CHK0042~" in lines
    assert "REF*1K*OLLY-7~" in lines
    assert "DTP*472*RD8*20050831-20050906~" in lines
    assert lines[lines.index("NM1*QC*1*MANN*JOSEPH~") + 1 : lines.index("NM1*QC*1*MANN*JOSEPH~") + 4] == [
        "TRN*2*ABCXYZ3~",
        "STC*A4:35*20260115~",
        "REF*EJ*MA345678~",
    ]


def test_the_277_sample_only_breaks_the_guide_by_using_not_used_stc_elements() -> None:
    # The clearinghouse sample sends STC03 (action code) and STC12 (free text) in 2200D, which the
    # X212 guide marks "not used" (pyx12's shipped X212 map says the same); all else conforms.
    report = validate(fixture_bytes("x12_277_x212.txt"))
    (_, _, transaction), *_ = list(report.transaction_sets())
    assert transaction.acknowledgment is Acknowledgment.REJECTED
    assert {
        (p.segment_id, p.loop_id, tuple((e.position, e.error.value) for e in p.elements)) for p in transaction.problems
    } == {("STC", "2200D", ((3, "I10"), (12, "I10")))}
    assert len(transaction.problems) == 8


# -- the second reading ---------------------------------------------------------------------------


def test_the_second_reading_maps_what_a_checking_reading_maps() -> None:
    """``transactions`` follows the loops without checking elements (pass 1 did): each fixture's
    transactions, those of rejected sets and of sets with element errors included, are the same as a
    reading that checks every element gives."""
    from collections import deque

    from olly.edi.claims import ClaimOptions
    from olly.edi.inbound import _handler_factory, transactions
    from olly.edi.syntax import SegmentReader
    from olly.edi.testing import professional_claims_text
    from olly.edi.validate import Validator

    def checking(data: bytes) -> list[object]:
        found: deque[object] = deque()
        validator = Validator(handlers=_handler_factory(found.append, None, ClaimOptions()))
        reader = SegmentReader(data)
        for segment in reader:
            validator.use_delimiters(reader.delimiters)
            validator.feed(segment)
        validator.finish()
        return list(found)

    # a date that is no date, an HL that names no parent
    flawed = (
        professional_claims_text(3).replace("DTP*472*D8*20260102", "DTP*472*D8*20261302").replace("HL*2*1*", "HL*2*9*")
    )
    samples = [fixture_bytes(name) for name in ALL_SAMPLES] + [flawed.encode()]
    for data in samples:
        report = validate(data)
        assert list(transactions(data, report, accepted_only=False)) == checking(data)
    problems = [p for *_, transaction in validate(flawed.encode()).transaction_sets() for p in transaction.problems]
    assert {p.segment_id for p in problems} >= {"DTP", "HL"}
    assert len(checking(flawed.encode())) == 3
