from __future__ import annotations

import pytest

from olly.edi.acks import acknowledge
from olly.edi.validate import validate
from olly.edi.writer import InMemoryControlNumbers
from tests.unit.edi.conftest import ALL_SAMPLES, NOW, fixture_bytes
from tests.unit.edi.pyx12_judge import judge


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_every_999_olly_writes_validates_clean_with_pyx12(name: str) -> None:
    acks = acknowledge(validate(fixture_bytes(name)), control_numbers=InMemoryControlNumbers(), now=NOW)
    for interchange in acks.implementation:
        assert judge(interchange.text) == []


def test_999_for_x12_complex_lists_each_set_and_the_group_count_error() -> None:
    acks = acknowledge(validate(fixture_bytes("x12_complex.txt")), control_numbers=InMemoryControlNumbers(), now=NOW)
    (ack,) = acks.implementation
    lines = ack.text.splitlines()
    assert lines[0].startswith(
        "ISA*00*          *00*          *ZZ*RECEIVERS.ID   *ZZ*SUBMITTERS.ID  *260115*0900*^*00501*"
    )
    assert lines[1] == "GS*FA*RECEIVER CODE*SENDER CODE*20260115*0900*1*X*005010X231A1~"
    assert lines[2:6] == [
        "ST*999*0001*005010X231A1~",
        "AK1*HC*1*005010X222A1~",
        "AK2*837*987654*005010X222A1~",
        "IK3*HI*26*2300*8~",
    ]
    assert lines[6:12] == ["IK4*1:2**1~", "IK4*2:1**5~", "IK4*2:2**1~", "IK4*3:2**1~", "IK4*4:1**5~", "IK4*4:2**1~"]
    assert lines.count("IK5*R*4*5~") == 2
    assert "AK2*837*987655*005010X222A1~" in lines
    assert lines[-4] == "AK9*R*1*2*0*5~"
    # the sender asked for a TA1 (ISA14=1): it gets one saying the interchange itself was fine
    (ta1,) = acks.ta1
    assert ta1.text.splitlines()[1] == "TA1*000000905*030101*1253*A*000~"


def test_999_accepts_a_clean_file() -> None:
    acks = acknowledge(
        validate(fixture_bytes("two-claims-single-provider.837i")), control_numbers=InMemoryControlNumbers(), now=NOW
    )
    # ISA14=1 in this sample: a TA1 accepting the interchange comes with the 999
    assert [t.text.splitlines()[1] for t in acks.ta1] == ["TA1*000000907*131031*1147*A*000~"]
    body = acks.implementation[0].text.splitlines()[2:-2]
    assert body == [
        "ST*999*0001*005010X231A1~",
        "AK1*HC*1*005010X223A3~",
        "AK2*837*987654*005010X223A3~",
        "IK5*A~",
        "AK9*A*1*1*1~",
        "SE*6*0001~",
    ]


def test_interchange_error_gets_a_ta1_and_no_999() -> None:
    acks = acknowledge(validate(fixture_bytes("x12_277_x212.txt")), control_numbers=InMemoryControlNumbers(), now=NOW)
    assert acks.implementation == ()
    (ta1,) = acks.ta1
    lines = ta1.text.splitlines()
    assert lines[0][: 106 - 1].count("*") == 16
    assert "*ZZ*208459         *ZZ*MCKESSON_TSH   *" in lines[0]
    assert lines[1] == "TA1*000000001*200107*2319*R*001~"
    assert lines[2] == "IEA*0*000000001~"


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (b"not x12 at all, not even close to being an interchange header" * 3, "022"),
        (
            b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
            b"*260114*1200*^*00501*000000007*0*P**~",
            "027",
        ),
    ],
)
def test_unreadable_file_still_gets_a_ta1(data: bytes, note: str) -> None:
    report = validate(data)
    assert report.unreadable is not None
    (ta1,) = acknowledge(report, control_numbers=InMemoryControlNumbers(), now=NOW).ta1
    segment = ta1.text.splitlines()[1]
    assert segment.endswith(f"*R*{note}~")


def test_unreadable_file_with_a_readable_header_answers_its_control_number() -> None:
    data = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260114*1200*^*00501*000000007*0*P**~"
    (ta1,) = acknowledge(validate(data), control_numbers=InMemoryControlNumbers(), now=NOW).ta1
    lines = ta1.text.splitlines()
    assert lines[1] == "TA1*000000007*260114*1200*R*027~"
    assert "*ZZ*RECEIVER       *ZZ*SENDER         *" in lines[0]


def test_the_pyx12_judge_does_find_errors() -> None:
    # guards every "judge(...) == []" above: the judge must see what pyx12 sees
    found = judge(fixture_bytes("x12_complex.txt").decode())
    assert any("HI01-02" in message for message in found)
    assert any("GE count" in message for message in found)


def test_a_corrupt_transaction_set_id_is_answered_with_the_groups_id_and_ik5_6() -> None:
    data = fixture_bytes("enroll-employee-multiple-products.834").replace(b"ST*834*0001", b"ST*370*0001")
    (ack,) = acknowledge(validate(data), control_numbers=InMemoryControlNumbers(), now=NOW).implementation
    lines = ack.text.splitlines()
    assert "AK2*834*0001*005010X220A1~" in lines
    assert "IK5*R*6~" in lines
    assert judge(ack.text) == []
