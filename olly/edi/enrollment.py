"""834 (005010X220A1) ↔ Olly: reading (``EnrollmentChange``, one record per member loop, INS … up
to the next INS) and writing (``write_834``, a sponsor's members as Olly has them).

The enrollment domain decides what a change means for its policies; this module only reads what the
sponsor sent: who (subscriber id, member, relationship), what (INS03 maintenance type, the HD
coverages with their own maintenance types), and when (the DTP dates). The writer is the other way
round: a full-file snapshot (BGN08 4 "verify", every member INS03 030 audit) or a change file
(BGN08 2, each member's own maintenance type), for a sponsor's reconciliation or a vendor.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from olly.edi.grammar import parse_date
from olly.edi.syntax import Segment
from olly.edi.validate import Origin, SetContext
from olly.edi.writer import (
    ControlNumbers,
    EnvelopeSettings,
    Interchange,
    SegmentBuilder,
    TransactionSetText,
    build_interchange,
)
from olly.kernel.errors import FieldError, ValidationFailed

ENROLLMENT_VERSION = "005010X220A1"


class Maintenance(StrEnum):
    """INS03 / HD01 maintenance type codes."""

    CHANGE = "001"
    ADDITION = "021"
    TERMINATION = "024"
    REINSTATEMENT = "025"
    AUDIT = "030"
    """Full-file compare: the record states what should be in force."""


@dataclass(frozen=True, slots=True)
class CoverageChange:
    maintenance: str
    """HD01."""
    insurance_line: str
    """HD03: HLT, DEN, VIS, HMO, PPO …"""
    plan_description: str
    """HD04: the sponsor's plan/coverage id."""
    coverage_level: str
    """HD05: EMP, ESP, ECH, FAM, IND …"""
    begin: date | None = None
    """DTP*348."""
    end: date | None = None
    """DTP*349."""
    maintenance_effective: date | None = None
    """DTP*303 at coverage level."""


@dataclass(frozen=True, slots=True)
class EnrollmentChange:
    origin: Origin
    sponsor_id: str
    payer_id: str
    purpose: str
    """BGN01: 00 original, 15 re-submission, 22 information copy."""
    action: str
    """BGN08: 2 change, 4 verify, RX replace (full file)."""
    is_subscriber: bool
    relationship_code: str
    """INS02: 18 self, 01 spouse, 19 child, …"""
    maintenance: str
    """INS03."""
    maintenance_reason: str
    """INS04: e.g. 28 initial enrollment, 07 termination of benefits, 25 change in identifying data."""
    benefit_status: str
    """INS05: A active, C COBRA, S surviving insured, T tax-equity (TEFRA)."""
    employment_status: str
    subscriber_id: str
    """REF*0F: links dependants to their subscriber."""
    group_policy_number: str | None
    member_id: str | None
    """NM109 of the member (SSN when NM108 is 34, sponsor's id when ZZ)."""
    member_id_qualifier: str | None
    coverages: tuple[CoverageChange, ...]
    cobra_event: str | None = None
    member_reference: str | None = None
    """REF*23 (client number): the member's own number at the payer (Olly's member number), when the
    sponsor sends it. Unlike REF*0F it names this member, not the subscriber."""
    file_effective: date | None = None
    """DTP*007 of the header: the date the file (an audit's roster) is effective."""
    file_created: date | None = None
    """BGN03: the date the sponsor created the file."""
    maintenance_effective: date | None = None
    eligibility_begin: date | None = None
    eligibility_end: date | None = None
    last_name: str = field(default="", repr=False)
    first_name: str = field(default="", repr=False)
    middle_name: str = field(default="", repr=False)
    birth_date: date | None = field(default=None, repr=False)
    gender: str = field(default="", repr=False)
    address_lines: tuple[str, ...] = field(default=(), repr=False)
    city: str = field(default="", repr=False)
    state: str = field(default="", repr=False)
    postal_code: str = field(default="", repr=False)

    @property
    def kind(self) -> Maintenance | None:
        try:
            return Maintenance(self.maintenance)
        except ValueError:
            return None


def _date(segment: Segment) -> date | None:
    return parse_date(segment[3]) if segment[2] == "D8" else None


class EnrollmentMapper:
    """A ``TransactionHandler`` for one 834 set; ``emit`` gets each member record."""

    def __init__(self, context: SetContext, emit: Callable[[EnrollmentChange], None]) -> None:
        self.context = context
        self.emit = emit
        self.header: dict[str, str] = {"sponsor": "", "payer": "", "purpose": "", "action": ""}
        self.header_dates: dict[str, date | None] = {"effective": None, "created": None}
        self.member: dict[str, object] | None = None
        self.coverages: list[dict[str, object]] = []

    def segment(self, segment: Segment, loop_id: str) -> None:
        sid = segment.id
        if sid == "BGN":
            self.header.update(purpose=segment[1], action=segment[8])
            self.header_dates["created"] = parse_date(segment[3])
        elif sid == "DTP" and self.member is None and segment[1] == "007":
            self.header_dates["effective"] = _date(segment)
        elif sid == "N1" and loop_id == "1000A":
            self.header["sponsor"] = segment[4]
        elif sid == "N1" and loop_id == "1000B":
            self.header["payer"] = segment[4]
        elif sid == "INS":
            self._flush()
            self.member = {
                "origin": self.context.origin(segment),
                "is_subscriber": segment[1] == "Y",
                "relationship": segment[2],
                "maintenance": segment[3],
                "reason": segment[4],
                "status": segment[5],
                "cobra": segment[7] or None,
                "employment": segment[8],
            }
            self.coverages = []
        elif sid == "SE":
            self._flush()
        elif self.member is not None:
            self._member_segment(segment, loop_id)

    def end(self) -> None:
        self._flush()

    def _member_segment(self, segment: Segment, loop_id: str) -> None:
        member = self.member
        assert member is not None
        sid = segment.id
        if loop_id == "2000":
            if sid == "REF" and segment[1] == "0F":
                member["subscriber_id"] = segment[2]
            elif sid == "REF" and segment[1] == "1L":
                member["group"] = segment[2]
            elif sid == "REF" and segment[1] == "23":
                member["member_reference"] = segment[2]
            elif sid == "DTP":
                key = {"303": "effective", "356": "begin", "357": "end"}.get(segment[1])
                if key:
                    member[key] = _date(segment)
        elif loop_id == "2100A":
            if sid == "NM1":
                member.update(
                    last=segment[3],
                    first=segment[4],
                    middle=segment[5],
                    member_id=segment[9] or None,
                    qualifier=segment[8] or None,
                )
            elif sid == "N3":
                member["address"] = tuple(x for x in (segment[1], segment[2]) if x)
            elif sid == "N4":
                member.update(city=segment[1], state=segment[2], postal=segment[3])
            elif sid == "DMG":
                member.update(birth=parse_date(segment[2]) if segment[1] == "D8" else None, gender=segment[3])
        elif loop_id == "2300":
            if sid == "HD":
                self.coverages.append(
                    {"maintenance": segment[1], "line": segment[3], "plan": segment[4], "level": segment[5]}
                )
            elif sid == "DTP" and self.coverages:
                key = {"348": "begin", "349": "end", "303": "effective"}.get(segment[1])
                if key:
                    self.coverages[-1][key] = _date(segment)

    def _flush(self) -> None:
        member = self.member
        if member is None:
            return
        self.member = None

        def text(key: str) -> str:
            value = member.get(key)
            return value if isinstance(value, str) else ""

        def day(source: dict[str, object], key: str) -> date | None:
            value = source.get(key)
            return value if isinstance(value, date) else None

        coverages = tuple(
            CoverageChange(
                maintenance=str(c["maintenance"]),
                insurance_line=str(c["line"]),
                plan_description=str(c["plan"]),
                coverage_level=str(c["level"]),
                begin=day(c, "begin"),
                end=day(c, "end"),
                maintenance_effective=day(c, "effective"),
            )
            for c in self.coverages
        )
        address = member.get("address")
        origin = member["origin"]
        assert isinstance(origin, Origin)
        self.emit(
            EnrollmentChange(
                origin=origin,
                sponsor_id=self.header["sponsor"],
                payer_id=self.header["payer"],
                purpose=self.header["purpose"],
                action=self.header["action"],
                is_subscriber=bool(member["is_subscriber"]),
                relationship_code=text("relationship"),
                maintenance=text("maintenance"),
                maintenance_reason=text("reason"),
                benefit_status=text("status"),
                employment_status=text("employment"),
                subscriber_id=text("subscriber_id"),
                group_policy_number=text("group") or None,
                member_id=text("member_id") or None,
                member_id_qualifier=text("qualifier") or None,
                coverages=coverages,
                cobra_event=text("cobra") or None,
                member_reference=text("member_reference") or None,
                file_effective=self.header_dates["effective"],
                file_created=self.header_dates["created"],
                maintenance_effective=day(member, "effective"),
                eligibility_begin=day(member, "begin"),
                eligibility_end=day(member, "end"),
                last_name=text("last"),
                first_name=text("first"),
                middle_name=text("middle"),
                birth_date=day(member, "birth"),
                gender=text("gender"),
                address_lines=address if isinstance(address, tuple) else (),
                city=text("city"),
                state=text("state"),
                postal_code=text("postal"),
            )
        )


# -- which dependent a change is about ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KnownDependent:
    """A dependent already on the subscriber's policy with the relationship the INS02 names."""

    party_id: uuid.UUID
    member_number: str
    first_name: str = field(default="", repr=False)
    last_name: str = field(default="", repr=False)
    birth_date: date | None = field(default=None, repr=False)


class DependentMatch(StrEnum):
    FOUND = "FOUND"
    NONE = "NONE"
    AMBIGUOUS = "AMBIGUOUS"
    """More than one candidate fits: the change is refused, never applied to a guess."""


def _folded(value: str) -> str:
    return " ".join(value.split()).casefold()


def identify_dependent(
    change: EnrollmentChange, candidates: Sequence[KnownDependent]
) -> tuple[DependentMatch, uuid.UUID | None]:
    """The dependent a member loop without a known SSN is about, among ``candidates`` (the people on
    the subscriber's policy with the INS02's relationship). With a member number (REF*23) it decides
    alone. Otherwise the one dependent matching both the name (family and given) and the birth date;
    else the one matching either, so a correction of one of the two still finds the person. Two or
    more at either step are ambiguous."""
    if change.member_reference:
        found = [c for c in candidates if c.member_number == change.member_reference.strip()]
        return (DependentMatch.FOUND, found[0].party_id) if len(found) == 1 else (DependentMatch.NONE, None)
    family, given = _folded(change.last_name), _folded(change.first_name)

    def same_name(c: KnownDependent) -> bool:
        return bool(family) and _folded(c.last_name) == family and _folded(c.first_name) == given

    def same_birth(c: KnownDependent) -> bool:
        return change.birth_date is not None and c.birth_date == change.birth_date

    for fits in (
        [c for c in candidates if same_name(c) and same_birth(c)],
        [c for c in candidates if same_name(c) or same_birth(c)],
    ):
        if len(fits) == 1:
            return DependentMatch.FOUND, fits[0].party_id
        if len(fits) > 1:
            return DependentMatch.AMBIGUOUS, None
    return DependentMatch.NONE, None


# -- writing ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MemberCoverage:
    """One HD loop of a written member: the plan and its dates."""

    plan_code: str
    """HD04."""
    coverage_level: str
    """HD05: EMP, ESP, ECH, FAM (``COVERAGE_LEVELS`` maps Olly's tiers)."""
    begin: date
    end: date | None = None
    insurance_line: str = "HLT"
    maintenance: str = Maintenance.AUDIT.value


@dataclass(frozen=True, slots=True)
class EnrollmentMember:
    """One INS loop to write."""

    is_subscriber: bool
    relationship_code: str
    """INS02: 18 self, 01 spouse, 53 domestic partner, 19 child."""
    subscriber_id: str
    """REF*0F: the sponsor's id of the subscriber (the employee id)."""
    coverages: tuple[MemberCoverage, ...]
    maintenance: str = Maintenance.AUDIT.value
    maintenance_reason: str = "XN"
    """INS04: XN notification only (audit), AI no reason given …"""
    benefit_status: str = "A"
    employment_status: str = "FT"
    """INS08 of a subscriber (AC active, FT full-time, TE terminated)."""
    group_policy_number: str | None = None
    """REF*1L."""
    member_reference: str | None = None
    """REF*23 (client number): Olly's member number of this member, so a sponsor that keeps it can
    name the member exactly when it sends a change or an audit back."""
    member_id: str | None = field(default=None, repr=False)
    member_id_qualifier: str | None = None
    """NM108: 34 SSN, ZZ the sponsor's id."""
    last_name: str = field(default="", repr=False)
    first_name: str = field(default="", repr=False)
    middle_name: str = field(default="", repr=False)
    birth_date: date | None = field(default=None, repr=False)
    gender: str = field(default="U", repr=False)
    """DMG03: F, M, U."""
    address_lines: tuple[str, ...] = field(default=(), repr=False)
    city: str = field(default="", repr=False)
    state: str = field(default="", repr=False)
    postal_code: str = field(default="", repr=False)


#: Olly's tier codes → HD05 coverage level.
COVERAGE_LEVELS = {"EE": "EMP", "EE+SP": "ESP", "EE+CH": "ECH", "EE+FAM": "FAM"}


@dataclass(frozen=True, slots=True)
class EnrollmentFile:
    sponsor_name: str
    sponsor_id: str
    """N104 of 1000A."""
    payer_name: str
    payer_id: str
    """N104 of 1000B (the payer's tax id, N103 FI)."""
    reference: str
    """BGN02: the file's own reference (e.g. the as-of date and partner)."""
    members: tuple[EnrollmentMember, ...]
    as_of: date
    """DTP*007 (the file's effective date)."""
    sponsor_qualifier: str = "FI"
    """N103 of 1000A: FI tax id, 24 employer id number, 94 an id the receiver assigned."""
    full_file: bool = True
    """BGN08 4 (verify: the whole population) when true, 2 (changes) otherwise."""


def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def _member_segments(member: EnrollmentMember, out: SegmentBuilder) -> None:
    out.add(
        "INS",
        "Y" if member.is_subscriber else "N",
        member.relationship_code,
        member.maintenance,
        member.maintenance_reason,
        member.benefit_status,
        None,
        None,
        member.employment_status if member.is_subscriber else None,
    )
    out.add("REF", "0F", member.subscriber_id)
    if member.group_policy_number:
        out.add("REF", "1L", member.group_policy_number)
    if member.member_reference:
        out.add("REF", "23", member.member_reference)
    out.add(
        "NM1",
        "IL",
        "1",
        member.last_name,
        member.first_name,
        member.middle_name,
        None,
        None,
        member.member_id_qualifier if member.member_id else None,
        member.member_id,
    )
    if member.address_lines and member.city and member.state and member.postal_code:
        out.add("N3", *member.address_lines[:2])
        out.add("N4", member.city, member.state, member.postal_code)
    if member.birth_date is not None:
        out.add("DMG", "D8", _d8(member.birth_date), member.gender or "U")
    for coverage in member.coverages:
        out.add("HD", coverage.maintenance, None, coverage.insurance_line, coverage.plan_code, coverage.coverage_level)
        out.add("DTP", "348", "D8", _d8(coverage.begin))
        if coverage.end is not None:
            out.add("DTP", "349", "D8", _d8(coverage.end))


def write_834(
    enrollment: EnrollmentFile, *, settings: EnvelopeSettings, control_numbers: ControlNumbers, now: datetime
) -> Interchange:
    """One 834 interchange (one ST) with every member of ``enrollment``, subscribers before their
    dependents as given. ``now`` dates the BGN and the envelopes. The guide requires at least one
    member loop, so a file without members is refused (``ValidationFailed``)."""
    if not enrollment.members:
        raise ValidationFailed([FieldError("members", "an 834 needs at least one member", "empty")])
    out = SegmentBuilder(settings.delimiters)
    out.add(
        "BGN",
        "00",
        enrollment.reference[:50],
        now.strftime("%Y%m%d"),
        now.strftime("%H%M"),
        None,
        None,
        None,
        "4" if enrollment.full_file else "2",
    )
    out.add("DTP", "007", "D8", _d8(enrollment.as_of))
    out.add("N1", "P5", enrollment.sponsor_name[:60], enrollment.sponsor_qualifier, enrollment.sponsor_id)
    out.add("N1", "IN", enrollment.payer_name[:60], "FI", enrollment.payer_id)
    for member in enrollment.members:
        _member_segments(member, out)
    body = TransactionSetText("834", ENROLLMENT_VERSION, tuple(out.segments))
    return build_interchange(settings, "BE", ENROLLMENT_VERSION, [body], control_numbers=control_numbers, now=now)
