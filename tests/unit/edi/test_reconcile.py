"""``reconcile``: an 834 audit's members paired with the roster in force and compared, on plain data."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

from olly.edi.enrollment import CoverageChange, EnrollmentChange, EnrollmentMember, MemberCoverage
from olly.edi.reconcile import Discrepancy, RosterEntry, effective_date, reconcile
from olly.edi.validate import Origin

ON = date(2026, 6, 1)
SUBSCRIBER = uuid.UUID(int=1)
SPOUSE = uuid.UUID(int=2)


def change(
    segment: int,
    *,
    subscriber: bool = True,
    maintenance: str = "030",
    ssn: str | None = None,
    first: str = "ANA",
    last: str = "RUIZ",
    born: date | None = date(1985, 5, 5),
    coverages: tuple[CoverageChange, ...] = (),
) -> EnrollmentChange:
    return EnrollmentChange(
        origin=Origin("000000001", "1", "0001", segment, segment * 40),
        sponsor_id="123456789",
        payer_id="987654321",
        purpose="00",
        action="4",
        is_subscriber=subscriber,
        relationship_code="18" if subscriber else "01",
        maintenance=maintenance,
        maintenance_reason="XN",
        benefit_status="A",
        employment_status="FT",
        subscriber_id="E1",
        group_policy_number=None,
        member_id=ssn,
        member_id_qualifier="34" if ssn else None,
        coverages=coverages,
        first_name=first,
        last_name=last,
        birth_date=born,
    )


def entry(
    party: uuid.UUID,
    *,
    subscriber: bool = True,
    ssn: str | None = None,
    first: str = "ANA",
    born: date = date(1985, 5, 5),
    spans: tuple[MemberCoverage, ...] = (),
    terminated: bool = False,
) -> RosterEntry:
    member = EnrollmentMember(
        is_subscriber=subscriber,
        relationship_code="18" if subscriber else "01",
        subscriber_id="E1",
        coverages=spans,
        member_id=ssn,
        last_name="RUIZ",
        first_name=first,
        birth_date=born,
    )
    return RosterEntry(member, f"M-{party.int}", party, terminated)


def hd(plan: str, level: str, begin: date | None, end: date | None = None) -> CoverageChange:
    return CoverageChange("030", "HLT", plan, level, begin, end)


def test_a_repriced_span_is_one_coverage_and_the_term_end_is_not_a_difference() -> None:
    spans = (
        MemberCoverage("PPO", "ESP", date(2026, 1, 1), date(2026, 3, 31)),
        MemberCoverage("PPO", "EMP", date(2026, 4, 1), date(2026, 12, 31)),
    )
    result = reconcile(
        [change(8, coverages=(hd("PPO", "EMP", date(2026, 1, 1)),))],
        [entry(SUBSCRIBER, spans=spans)],
        ON,
        full_file=True,
    )
    assert (result.matched, result.findings) == (1, ())
    # a terminated policy's end is a real end: the file not stating it is a difference
    ended = reconcile(
        [change(8, coverages=(hd("PPO", "EMP", date(2026, 1, 1)),))],
        [entry(SUBSCRIBER, spans=spans, terminated=True)],
        ON,
        full_file=True,
    )
    assert [(f.kind, f.file_value, f.enrolled_value) for f in ended.findings] == [
        (Discrepancy.COVERAGE_DATES_DIFFER, "2026-01-01..", "2026-01-01..2026-12-31")
    ]


def test_a_dependent_is_paired_by_ssn_whatever_its_name_and_the_level_is_compared() -> None:
    roster = [
        entry(SUBSCRIBER, spans=(MemberCoverage("PPO", "ESP", date(2026, 1, 1), None),)),
        entry(SPOUSE, subscriber=False, ssn="219093333", first="LUIS", born=date(1984, 1, 1)),
    ]
    members = [
        change(8, coverages=(hd("PPO", "EMP", date(2026, 1, 1)),)),
        change(14, subscriber=False, ssn="219093333", first="LUISA", born=date(1984, 1, 2)),
    ]
    result = reconcile(members, roster, ON, full_file=True)
    assert [(f.kind, f.segment_number, f.member_number, f.file_value, f.enrolled_value) for f in result.findings] == [
        (Discrepancy.COVERAGE_LEVEL_DIFFERS, 8, "M-1", "EMP", "ESP"),
        (Discrepancy.NAME_DIFFERS, 14, "M-2", None, None),
        (Discrepancy.BIRTH_DATE_DIFFERS, 14, "M-2", None, None),
    ]
    assert result.counts() == {
        "membersInFile": 2,
        "audited": 2,
        "enrolled": 2,
        "matched": 0,
        "NOT_ENROLLED": 0,
        "NOT_IN_FILE": 0,
        "PLAN_DIFFERS": 0,
        "COVERAGE_LEVEL_DIFFERS": 1,
        "COVERAGE_DATES_DIFFER": 0,
        "NAME_DIFFERS": 1,
        "BIRTH_DATE_DIFFERS": 1,
        "GENDER_DIFFERS": 0,
    }


def test_a_stated_gender_that_differs_is_a_finding_and_an_unknown_one_is_not() -> None:
    known = entry(SUBSCRIBER)
    known = replace(known, member=replace(known.member, gender="F"))
    unknown = entry(SPOUSE, subscriber=False, first="LUIS")  # Olly holds no gender: written as U

    def findings(subscriber_gender: str, spouse_gender: str) -> list[tuple[Discrepancy, int, str, object, object]]:
        members = [
            replace(change(8), gender=subscriber_gender),
            replace(change(14, subscriber=False, first="LUIS"), gender=spouse_gender),
        ]
        result = reconcile(members, [known, unknown], ON, full_file=True)
        assert result.counts()["GENDER_DIFFERS"] == len(result.findings)
        return [
            (f.kind, f.segment_number, f.member_number or "", f.file_value, f.enrolled_value) for f in result.findings
        ]

    assert findings("M", "M") == [
        (Discrepancy.GENDER_DIFFERS, 8, "M-1", None, None),  # the value is never shown, like a name's
        (Discrepancy.GENDER_DIFFERS, 14, "M-2", None, None),
    ]
    assert findings("F", "F") == [(Discrepancy.GENDER_DIFFERS, 14, "M-2", None, None)]
    # U (unknown) or no DMG03 states nothing: no difference, whatever Olly holds
    assert findings("U", "") == []
    assert findings("", "U") == []


def test_members_that_are_not_audit_records_pair_but_are_not_compared() -> None:
    roster = [entry(SUBSCRIBER), entry(SPOUSE, subscriber=False, first="LUIS", born=date(1984, 1, 1))]
    # a termination (024) of the spouse in a full file: present, so not absent; not compared either
    members = [change(8), change(14, subscriber=False, maintenance="024", first="LUIS", born=date(1999, 9, 9))]
    result = reconcile(members, roster, ON, full_file=True)
    assert (result.members_in_file, result.audited, result.matched, result.findings) == (2, 1, 1, ())
    # without the spouse, a full file reports them absent; a change file does not
    assert [f.kind for f in reconcile(members[:1], roster, ON, full_file=True).findings] == [Discrepancy.NOT_IN_FILE]
    assert reconcile(members[:1], roster, ON, full_file=False).findings == ()


def test_the_effective_date_is_dtp_007_then_bgn03_then_the_arrival() -> None:
    base = change(8)
    assert effective_date(base, ON) == ON
    with_bgn = replace(base, file_created=date(2026, 2, 1))
    assert effective_date(with_bgn, ON) == date(2026, 2, 1)
    assert effective_date(replace(with_bgn, file_effective=date(2026, 3, 1)), ON) == date(2026, 3, 1)
