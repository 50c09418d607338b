"""834 audit files compared with what is in force: the reconciliation of an employer's roster.

An audit (INS03 030, usually in a full file, BGN08 4 "verify" or RX "replace") states who the
sponsor believes is covered, on which plan and tier, from when. ``reconcile`` pairs each member of
the file with the enrollment in force on the file's effective date (``RosterEntry``, from the
``EnrollmentSource`` port) and lists what differs. Pure: frozen data in, frozen data out.

Pairing: a subscriber by the sponsor's subscriber id (REF*0F); a dependent among the enrolled
dependents of the same subscriber id, by SSN (NM108 34), then given name and birth date, then given
name alone, then birth date alone (each only when it singles one person out), so a dependent whose
name or birth date differs is still found and the difference reported.

Findings name the member by the subscriber id, Olly's member number and party id, and the field
that differs; plan codes, tiers and coverage dates carry both values, names and birth dates never
do (the reader opens the member to see them), and neither does a gender (DMG03). A DMG03 of U (or
none) states nothing to compare: it is not a difference from a gender Olly knows.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from olly.edi.enrollment import CoverageChange, EnrollmentChange, EnrollmentMember, Maintenance, MemberCoverage

#: DMG03 codes that state a gender (U is unknown).
STATED_GENDERS = frozenset({"M", "F"})

#: BGN08 of a file that carries the sponsor's whole population (verify, replace).
FULL_FILE_ACTIONS = frozenset({"4", "RX"})


class Discrepancy(StrEnum):
    """What an audit record and the enrollment in force disagree on."""

    NOT_ENROLLED = "NOT_ENROLLED"
    """In the file, but nobody enrolled under the subscriber id matches."""
    NOT_IN_FILE = "NOT_IN_FILE"
    """Enrolled under the sponsor's group, absent from a full file."""
    PLAN_DIFFERS = "PLAN_DIFFERS"
    """HD04 is not the plan in force."""
    COVERAGE_LEVEL_DIFFERS = "COVERAGE_LEVEL_DIFFERS"
    """HD05 is not the tier in force."""
    COVERAGE_DATES_DIFFER = "COVERAGE_DATES_DIFFER"
    """DTP*348/349 are not the begin/end of the coverage in force."""
    NAME_DIFFERS = "NAME_DIFFERS"
    BIRTH_DATE_DIFFERS = "BIRTH_DATE_DIFFERS"
    GENDER_DIFFERS = "GENDER_DIFFERS"
    """DMG03 states M or F and Olly holds another gender (or none)."""


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One person covered under the sponsor's group on the effective date (or from a later day)."""

    member: EnrollmentMember
    """As Olly would write it in an 834 (subscriber id, relationship, name, birth date, spans)."""
    member_number: str
    """Olly's member number (what the report names the member by)."""
    party_id: uuid.UUID
    policy_terminated: bool = False
    """The policy is terminated: its last span's end is a termination, not the end of a term."""


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Discrepancy
    subscriber_id: str
    relationship_code: str
    """INS02 (the file's, or the one Olly would write for an enrolled member absent from the file)."""
    segment_number: int | None = None
    """Position in the file of the member's INS (None when absent from the file)."""
    member_number: str | None = None
    party_id: uuid.UUID | None = None
    file_value: str | None = None
    """Plan, tier or dates as the file states them; None for names, birth dates and genders."""
    enrolled_value: str | None = None

    def view(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "subscriberId": self.subscriber_id,
            "relationship": self.relationship_code,
            "segment": self.segment_number,
            "memberNumber": self.member_number,
            "partyId": str(self.party_id) if self.party_id else None,
            "fileValue": self.file_value,
            "enrolledValue": self.enrolled_value,
        }


@dataclass(frozen=True, slots=True)
class Reconciliation:
    effective: date
    full_file: bool
    members_in_file: int
    """INS loops of the transaction set (every maintenance type)."""
    audited: int
    """Of them, audit records (030): the ones compared."""
    enrolled: int
    """People covered under the group on the effective date or from a later day."""
    matched: int
    """Audit records paired with an enrolled person and agreeing on everything compared."""
    findings: tuple[Finding, ...]

    def counts(self) -> dict[str, int]:
        """The summary: no identifier, no value; every kind present, zero when none."""
        by_kind = Counter(f.kind for f in self.findings)
        return {
            "membersInFile": self.members_in_file,
            "audited": self.audited,
            "enrolled": self.enrolled,
            "matched": self.matched,
            **{kind.value: by_kind.get(kind, 0) for kind in Discrepancy},
        }


def effective_date(change: EnrollmentChange, received: date) -> date:
    """The day an audit is compared on: DTP*007, else the file's creation (BGN03), else its arrival."""
    return change.file_effective or change.file_created or received


def _fold(value: str) -> str:
    return " ".join(value.split()).casefold()


def _ssn(change: EnrollmentChange) -> str | None:
    return change.member_id if change.member_id_qualifier == "34" and change.member_id else None


def _pair(change: EnrollmentChange, candidates: list[RosterEntry]) -> RosterEntry | None:
    """The enrolled person ``change`` is about, among ``candidates`` (the subscriber id's people)."""
    if change.is_subscriber:
        return next((c for c in candidates if c.member.is_subscriber), None)
    dependents = [c for c in candidates if not c.member.is_subscriber]
    ssn = _ssn(change)
    if ssn:
        found = [c for c in dependents if c.member.member_id == ssn]
        if found:
            return found[0]
    given = _fold(change.first_name)
    tests = (
        lambda c: bool(given) and _fold(c.member.first_name) == given and c.member.birth_date == change.birth_date,
        lambda c: bool(given) and _fold(c.member.first_name) == given,
        lambda c: change.birth_date is not None and c.member.birth_date == change.birth_date,
    )
    for test in tests:
        found = [c for c in dependents if test(c)]
        if len(found) == 1:
            return found[0]
    return None


@dataclass(frozen=True, slots=True)
class _Span:
    plan_code: str
    coverage_level: str
    begin: date
    end: date | None


def _spans(coverages: Sequence[MemberCoverage]) -> list[_Span]:
    """Olly's spans with contiguous spans of one plan joined (a repricing splits a span, the sponsor
    sees one coverage); the tier is the latest span's."""
    joined: list[_Span] = []
    for c in sorted(coverages, key=lambda c: c.begin):
        last = joined[-1] if joined else None
        contiguous = last is not None and last.end is not None and last.end + timedelta(days=1) == c.begin
        if last is not None and contiguous and last.plan_code == c.plan_code:
            joined[-1] = _Span(c.plan_code, c.coverage_level, last.begin, c.end)
            continue
        joined.append(_Span(c.plan_code, c.coverage_level, c.begin, c.end))
    return joined


def _in_force(begin: date | None, end: date | None, on: date) -> bool:
    return (begin is None or begin <= on) and (end is None or end >= on)


def _enrolled_span(entry: RosterEntry, on: date) -> _Span | None:
    spans = _spans(entry.member.coverages)
    current = [s for s in spans if _in_force(s.begin, s.end, on)]
    if current:
        return current[0]
    later = [s for s in spans if s.begin > on]
    return later[0] if later else (spans[-1] if spans else None)


def _file_coverage(change: EnrollmentChange, enrolled: _Span, on: date) -> CoverageChange | None:
    stated = list(change.coverages)
    candidates = [c for c in stated if _in_force(c.begin, c.end, on)] or stated
    same_plan = [c for c in candidates if c.plan_description.strip() == enrolled.plan_code]
    chosen = same_plan or candidates
    return chosen[0] if chosen else None


def _dates(begin: date | None, end: date | None) -> str:
    return f"{begin.isoformat() if begin else ''}..{end.isoformat() if end else ''}"


def _compare(change: EnrollmentChange, entry: RosterEntry, on: date) -> list[Finding]:
    found: list[Finding] = []

    def add(kind: Discrepancy, file_value: str | None = None, enrolled_value: str | None = None) -> None:
        found.append(
            Finding(
                kind,
                change.subscriber_id,
                change.relationship_code,
                change.origin.segment_number,
                entry.member_number,
                entry.party_id,
                file_value,
                enrolled_value,
            )
        )

    enrolled = _enrolled_span(entry, on)
    stated = _file_coverage(change, enrolled, on) if enrolled is not None else None
    if enrolled is not None and stated is not None:
        plan = stated.plan_description.strip()
        if plan and plan != enrolled.plan_code:
            add(Discrepancy.PLAN_DIFFERS, plan, enrolled.plan_code)
        level = stated.coverage_level.strip()
        if level and level != enrolled.coverage_level:
            add(Discrepancy.COVERAGE_LEVEL_DIFFERS, level, enrolled.coverage_level)
        # Olly's end of an active policy is its term's last day, which a sponsor does not send:
        # the end is compared when the file states one or the policy was terminated.
        end_known = stated.end is not None or entry.policy_terminated
        ends_differ = end_known and stated.end != enrolled.end
        if (stated.begin is not None and stated.begin != enrolled.begin) or ends_differ:
            add(
                Discrepancy.COVERAGE_DATES_DIFFER,
                _dates(stated.begin, stated.end),
                _dates(enrolled.begin, enrolled.end if end_known else None),
            )
    person = entry.member
    family_differs = bool(change.last_name) and _fold(change.last_name) != _fold(person.last_name)
    given_differs = bool(change.first_name) and _fold(change.first_name) != _fold(person.first_name)
    if family_differs or given_differs:
        add(Discrepancy.NAME_DIFFERS)
    if change.birth_date is not None and change.birth_date != person.birth_date:
        add(Discrepancy.BIRTH_DATE_DIFFERS)
    # U is "unknown" to the sponsor too: only a stated M or F can disagree (as a change's U changes nothing)
    if change.gender in STATED_GENDERS and change.gender != person.gender:
        add(Discrepancy.GENDER_DIFFERS)
    return found


def reconcile(
    members: Sequence[EnrollmentChange], roster: Sequence[RosterEntry], on: date, *, full_file: bool
) -> Reconciliation:
    """Compare the audit records (030) among ``members`` (one transaction set's INS loops, in file
    order) with ``roster`` on ``on``. Every member of the set pairs (so an add or a termination
    in a full file is not reported absent); only audit records are compared. Enrolled people no
    member pairs with are ``NOT_IN_FILE`` when the set is a full file."""
    by_subscriber: dict[str, list[RosterEntry]] = defaultdict(list)
    for enrolled in roster:
        by_subscriber[enrolled.member.subscriber_id].append(enrolled)
    paired: set[uuid.UUID] = set()
    findings: list[Finding] = []
    audited = matched = 0
    for change in members:
        remaining = [e for e in by_subscriber.get(change.subscriber_id, []) if e.party_id not in paired]
        entry = _pair(change, remaining)
        if entry is not None:
            paired.add(entry.party_id)
        if change.kind is not Maintenance.AUDIT:
            continue
        audited += 1
        if entry is None:
            findings.append(
                Finding(
                    Discrepancy.NOT_ENROLLED,
                    change.subscriber_id,
                    change.relationship_code,
                    change.origin.segment_number,
                )
            )
            continue
        differences = _compare(change, entry, on)
        findings += differences
        matched += not differences
    if full_file:
        for absent in roster:
            if absent.party_id not in paired:
                findings.append(
                    Finding(
                        Discrepancy.NOT_IN_FILE,
                        absent.member.subscriber_id,
                        absent.member.relationship_code,
                        None,
                        absent.member_number,
                        absent.party_id,
                    )
                )
    return Reconciliation(on, full_file, len(members), audited, len(roster), matched, tuple(findings))
