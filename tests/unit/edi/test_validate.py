from __future__ import annotations

import pytest

from olly.edi.codes import Acknowledgment, ElementError, GroupError, InterchangeNote, SegmentError, SetError
from olly.edi.testing import professional_claims_text
from olly.edi.validate import InMemoryInterchangeStore, validate
from tests.unit.edi.conftest import fixture_bytes

GOOD_SAMPLES = [
    "834_ls_le_ls.txt",
    "claim-level-status.276",
    "dependent-health-benefit-check.270",
    "enroll-employee-multiple-products.834",
    "two-claims-single-provider.837i",
]


@pytest.mark.parametrize("name", GOOD_SAMPLES)
def test_well_formed_samples_are_accepted(name: str) -> None:
    report = validate(fixture_bytes(name))
    assert report.accepted
    assert [s.problems for _, _, s in report.transaction_sets()] == [[]]


def test_a_generated_837p_is_accepted_with_every_set() -> None:
    report = validate(professional_claims_text(7, claims_per_set=3).encode())
    assert report.accepted
    assert [s.control_number for _, _, s in report.transaction_sets()] == ["0001", "0002", "0003"]
    assert report.interchanges[0].groups[0].declared_sets == 3


def test_x12_complex_reports_wrong_counts_and_malformed_diagnoses() -> None:
    report = validate(fixture_bytes("x12_complex.txt"))
    group = report.interchanges[0].groups[0]
    assert group.errors == [GroupError.SET_COUNT_MISMATCH]
    assert group.acknowledgment is Acknowledgment.REJECTED
    first, second = group.sets
    assert first.errors == [SetError.SEGMENT_COUNT_MISMATCH, SetError.SEGMENTS_IN_ERROR]
    assert second.errors == [SetError.SEGMENT_COUNT_MISMATCH, SetError.SEGMENTS_IN_ERROR]
    hi = first.problems[0]
    assert (hi.segment_id, hi.position, hi.loop_id, hi.error) == ("HI", 26, "2300", SegmentError.HAS_ELEMENT_ERRORS)
    # "HI*BK*8901*BF*87200*BF:5559": qualifiers without codes, codes where qualifiers belong
    assert [(e.position, e.component, e.error) for e in hi.elements] == [
        (1, 2, ElementError.REQUIRED_MISSING),
        (2, 1, ElementError.TOO_LONG),
        (2, 2, ElementError.REQUIRED_MISSING),
        (3, 2, ElementError.REQUIRED_MISSING),
        (4, 1, ElementError.TOO_LONG),
        (4, 2, ElementError.REQUIRED_MISSING),
    ]
    assert hi.segment_number == 28
    missing = [p for p in first.problems if p.error is SegmentError.REQUIRED_SEGMENT_MISSING]
    assert [(p.segment_id, p.loop_id) for p in missing] == [("REF", "2330C")] * 4
    hl = [p for p in first.problems if p.segment_id == "HL"]
    assert [(p.position, [e.error for e in p.elements]) for p in hl] == [
        (64, [ElementError.PATTERN_MISMATCH, ElementError.INVALID_CODE]),
        (68, [ElementError.PATTERN_MISMATCH]),
    ]


def test_x12_277_with_mismatched_iea_is_an_interchange_rejection() -> None:
    report = validate(fixture_bytes("x12_277_x212.txt"))
    assert report.interchanges[0].notes == [InterchangeNote.CONTROL_NUMBER_MISMATCH]
    assert report.accepted_sets() == set()


def test_many_claims_sample_has_a_wrong_segment_count_and_caps_its_problem_list() -> None:
    report = validate(fixture_bytes("x12_many_claims.txt"))
    (_, _, only), *_ = list(report.transaction_sets())
    assert SetError.SEGMENT_COUNT_MISMATCH in only.errors
    assert len(only.problems) == 100
    assert only.problems_dropped > 1000
    assert report.segments == 11490


def test_duplicate_interchange_control_number_from_the_same_sender() -> None:
    store = InMemoryInterchangeStore()
    data = fixture_bytes("enroll-employee-multiple-products.834")
    assert validate(data, store=store).accepted
    again = validate(data, store=store)
    assert again.interchanges[0].notes == [InterchangeNote.DUPLICATE_CONTROL_NUMBER]
    other_sender = data.replace(b"ZZ*123456789012345", b"ZZ*999456789012345", 1)
    assert validate(other_sender, store=store).accepted


def test_a_rejected_interchange_is_not_remembered_as_received() -> None:
    store = InMemoryInterchangeStore()
    data = fixture_bytes("x12_277_x212.txt")
    validate(data, store=store)
    assert not store.seen("ZZ:MCKESSON_TSH", "000000001")


def test_unknown_receiver_is_refused_when_receivers_are_listed() -> None:
    data = fixture_bytes("claim-level-status.276")
    assert validate(data, receiver_ids={"12345"}).accepted
    assert validate(data, receiver_ids={"OLLY"}).interchanges[0].notes == [InterchangeNote.UNKNOWN_RECEIVER_ID]


def test_unknown_version_refuses_the_group() -> None:
    data = fixture_bytes("enroll-employee-multiple-products.834").replace(b"005010X220A1", b"004010X095A1")
    group = validate(data).interchanges[0].groups[0]
    assert group.errors == [GroupError.VERSION_NOT_SUPPORTED]
    assert group.sets[0].errors == [SetError.NOT_SUPPORTED]


def test_missing_se_and_ge_are_reported_at_their_levels() -> None:
    text = fixture_bytes("enroll-employee-multiple-products.834").decode()
    text = text.replace("SE*18*0001~\n", "").replace("GE*1*20213~\n", "")
    report = validate(text.encode())
    group = report.interchanges[0].groups[0]
    assert group.sets[0].errors == [SetError.TRAILER_MISSING]
    assert group.errors == [GroupError.TRAILER_MISSING]


def test_truncated_file_is_a_premature_end() -> None:
    data = fixture_bytes("enroll-employee-multiple-products.834")
    report = validate(data[:400])
    assert InterchangeNote.PREMATURE_END_OF_FILE in report.interchanges[0].notes


def test_invalid_dates_and_codes_are_element_errors() -> None:
    text = fixture_bytes("enroll-employee-multiple-products.834").decode()
    text = text.replace("DTP*356*D8*19960523", "DTP*356*D8*19960231").replace("INS*Y*18*021", "INS*Y*18*099")
    (_, _, report), *_ = list(validate(text.encode()).transaction_sets())
    found = [(p.segment_id, p.position, [(e.position, e.error) for e in p.elements]) for p in report.problems]
    assert found == [("INS", 5, [(3, ElementError.INVALID_CODE)]), ("DTP", 8, [(3, ElementError.INVALID_DATE)])]
    assert report.acknowledgment is Acknowledgment.REJECTED


def test_segment_not_in_the_transaction_is_reported() -> None:
    text = fixture_bytes("enroll-employee-multiple-products.834").decode().replace("DTP*356", "ZZZ*356")
    (_, _, report), *_ = list(validate(text.encode()).transaction_sets())
    assert [(p.segment_id, p.error) for p in report.problems] == [("ZZZ", SegmentError.NOT_IN_TRANSACTION_SET)]


def test_missing_iea_before_the_next_interchange_rejects_only_the_first() -> None:
    data = fixture_bytes("enroll-employee-multiple-products.834")
    second = data.replace(b"000010216", b"000010217")
    report = validate(data.replace(b"IEA*1*000010216~", b"") + second)
    assert [i.control_number for i in report.interchanges] == ["000010216", "000010217"]
    assert report.interchanges[0].notes == [InterchangeNote.PREMATURE_END_OF_FILE]
    assert report.interchanges[1].notes == []
    assert report.accepted_sets() == {("000010217", "20213", "0001")}
