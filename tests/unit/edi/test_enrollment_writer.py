"""The 834 writer: pyx12-valid, and read back by Olly's own 834 reader to the same members."""

from __future__ import annotations

from datetime import date

import pytest

from olly.edi import read_all
from olly.edi.enrollment import (
    EnrollmentChange,
    EnrollmentFile,
    EnrollmentMember,
    MemberCoverage,
    write_834,
)
from olly.edi.writer import EnvelopeSettings, InMemoryControlNumbers
from olly.kernel.errors import ValidationFailed
from tests.unit.edi.conftest import NOW
from tests.unit.edi.pyx12_judge import judge

SUBSCRIBER = EnrollmentMember(
    is_subscriber=True,
    relationship_code="18",
    subscriber_id="E100",
    group_policy_number="G-ACME",
    member_id="219091111",
    member_id_qualifier="34",
    last_name="NGUYEN",
    first_name="LAN",
    birth_date=date(1980, 2, 2),
    gender="F",
    address_lines=("12 MARKET ST", "APT 4"),
    city="HARRISBURG",
    state="PA",
    postal_code="17101",
    coverages=(MemberCoverage("PPO-2026", "FAM", date(2026, 2, 1), date(2026, 12, 31)),),
)
CHILD = EnrollmentMember(
    is_subscriber=False,
    relationship_code="19",
    subscriber_id="E100",
    last_name="NGUYEN",
    first_name="KIM",
    birth_date=date(2012, 4, 1),
    coverages=(MemberCoverage("PPO-2026", "FAM", date(2026, 2, 1), date(2026, 3, 31)),),
)


def _file(*members: EnrollmentMember) -> EnrollmentFile:
    return EnrollmentFile(
        sponsor_name="ACME*CORP",
        sponsor_id="123456789",
        payer_name="OLLY HEALTH",
        payer_id="987654321",
        reference="ACME-20260115",
        members=members,
        as_of=date(2026, 1, 15),
    )


def test_834_snapshot_is_valid_for_pyx12_and_reads_back(olly_to_partner: EnvelopeSettings) -> None:
    interchange = write_834(
        _file(SUBSCRIBER, CHILD), settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW
    )
    assert judge(interchange.text) == []
    lines = interchange.text.split("~\n")
    assert lines[2:8] == [
        "ST*834*0001*005010X220A1",
        "BGN*00*ACME-20260115*20260115*0900****4",
        "DTP*007*D8*20260115",
        "N1*P5*ACME CORP*FI*123456789",
        "N1*IN*OLLY HEALTH*FI*987654321",
        "INS*Y*18*030*XN*A***FT",
    ]
    result = read_all(interchange.text.encode())
    assert result.report.accepted
    changes = [t for t in result.transactions if isinstance(t, EnrollmentChange)]
    assert [
        (
            c.is_subscriber,
            c.relationship_code,
            c.maintenance,
            c.subscriber_id,
            c.group_policy_number,
            c.member_id,
            c.last_name,
            c.first_name,
            c.birth_date,
            c.gender,
            c.address_lines,
            (c.city, c.state, c.postal_code),
            [(h.maintenance, h.plan_description, h.coverage_level, h.begin, h.end) for h in c.coverages],
        )
        for c in changes
    ] == [
        (
            True,
            "18",
            "030",
            "E100",
            "G-ACME",
            "219091111",
            "NGUYEN",
            "LAN",
            date(1980, 2, 2),
            "F",
            ("12 MARKET ST", "APT 4"),
            ("HARRISBURG", "PA", "17101"),
            [("030", "PPO-2026", "FAM", date(2026, 2, 1), date(2026, 12, 31))],
        ),
        (
            False,
            "19",
            "030",
            "E100",
            None,
            None,
            "NGUYEN",
            "KIM",
            date(2012, 4, 1),
            "U",
            (),
            ("", "", ""),
            [("030", "PPO-2026", "FAM", date(2026, 2, 1), date(2026, 3, 31))],
        ),
    ]
    assert {c.sponsor_id for c in changes} == {"123456789"}


def test_an_834_without_members_is_refused(olly_to_partner: EnvelopeSettings) -> None:
    with pytest.raises(ValidationFailed) as refused:
        write_834(_file(), settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW)
    assert [e.code for e in refused.value.errors] == ["empty"]
