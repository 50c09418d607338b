"""834 (005010X220A1) → ``EnrollmentChange``: one record per member loop (INS … up to the next INS).

The enrollment domain decides what a change means for its policies; this module only reads what the
sponsor sent: who (subscriber id, member, relationship), what (INS03 maintenance type, the HD
coverages with their own maintenance types), and when (the DTP dates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from olly.edi.grammar import parse_date
from olly.edi.syntax import Segment
from olly.edi.validate import Origin, SetContext


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
        self.member: dict[str, object] | None = None
        self.coverages: list[dict[str, object]] = []

    def segment(self, segment: Segment, loop_id: str) -> None:
        sid = segment.id
        if sid == "BGN":
            self.header.update(purpose=segment[1], action=segment[8])
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
