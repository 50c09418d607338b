"""TA1 and 999 (005010X231A1) acknowledgements from a ``ValidationReport``.

* TA1 when an interchange is rejected (its notes say why) or when the sender asked for one (ISA14=1).
* One 999 per accepted interchange, one ST*999 per functional group: AK1, an AK2 loop per
  transaction set with its IK3/IK4 errors and IK5 verdict, AK9 for the group.

The answer goes from the inbound receiver back to the inbound sender. The 999 never copies the bad
data back (IK404 is left out): acknowledgements are stored and logged, and the data may be PHI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from olly.edi.codes import VERSIONS, Acknowledgment, InterchangeNote
from olly.edi.syntax import Delimiters
from olly.edi.validate import UNREADABLE_NOTES, GroupReport, InterchangeReport, ValidationReport, expected_set_ids
from olly.edi.writer import (
    ControlNumbers,
    EnvelopeSettings,
    Interchange,
    Party,
    SegmentBuilder,
    TransactionSetText,
    build_interchange,
    isa_segment,
)

IMPLEMENTATION_ACK_VERSION = "005010X231A1"
_ISA_GUESS = re.compile(
    rb"ISA.(.{2}).(.{10}).(.{2}).(.{10}).(.{2}).(.{15}).(.{2}).(.{15}).(\d{6}).(\d{4}).+?(\d{9})", re.S
)


_KNOWN_SET_IDS = frozenset(v.set_id for v in VERSIONS.values())
_KNOWN_FUNCTIONAL_IDS = frozenset(v.functional_id for v in VERSIONS.values())
_NOT_SEGMENT_ID = re.compile(r"[^A-Z0-9]")
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


_NO_DELIMITERS = str.maketrans("", "", "*:^~")


def _echo(value: str, maximum: int, minimum: int = 1, *, digits: bool = False, fill: str = "0") -> str:
    """A received value echoed back, made safe for the element it goes into.

    Acknowledgements repeat ids from the sender's file, which may be corrupt: control characters
    and the standard delimiters (``* : ^ ~``, which a file with other delimiters may carry as data)
    are dropped and the length clamped, so the 999 itself always validates.
    """
    cleaned = _PRINTABLE.sub("", value).translate(_NO_DELIMITERS).strip()
    if digits:
        cleaned = "".join(c for c in cleaned if c.isdigit())
    cleaned = cleaned[:maximum]
    return cleaned.ljust(minimum, fill) if len(cleaned) < minimum else cleaned


def _segment_id(value: str) -> str:
    cleaned = "".join(_NOT_SEGMENT_ID.sub("", value.upper()))[:3]
    return cleaned if len(cleaned) >= 2 and cleaned[0].isalpha() else "ZZZ"


@dataclass(frozen=True, slots=True)
class Acknowledgments:
    ta1: tuple[Interchange, ...]
    implementation: tuple[Interchange, ...]
    """The 999s."""

    @property
    def texts(self) -> list[str]:
        return [i.text for i in (*self.ta1, *self.implementation)]


_QUALIFIERS = frozenset(["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"])


def _party(qualifier: str, identifier: str) -> Party:
    qualifier = qualifier.strip()
    cleaned = _echo(identifier, 15)
    if qualifier not in _QUALIFIERS or not cleaned:
        return Party("ZZ", cleaned or "UNKNOWN")
    return Party(qualifier, cleaned)


def _reply_settings(
    interchange: InterchangeReport, delimiters: Delimiters | None, usage: str | None
) -> EnvelopeSettings:
    return EnvelopeSettings(
        sender=_party(interchange.receiver_qualifier, interchange.receiver_id),
        receiver=_party(interchange.sender_qualifier, interchange.sender_id),
        usage=usage or (interchange.usage if interchange.usage in ("P", "T") else "P"),
        delimiters=delimiters or Delimiters.default(),
    )


def _ta1(
    settings: EnvelopeSettings,
    control_number: str,
    date: str,
    time: str,
    accepted: bool,
    note: InterchangeNote,
    control_numbers: ControlNumbers,
    now: datetime,
) -> Interchange:
    d = settings.delimiters
    number = control_numbers.next_interchange(settings.sender)
    segments = [
        isa_segment(settings, number, now),
        d.element.join(["TA1", control_number, date, time, "A" if accepted else "R", note.value]),
        d.element.join(["IEA", "0", f"{number:09d}"]),
    ]
    separator = d.segment + "\n"
    return Interchange(separator.join(segments) + separator, number, 0, ())


def _guess_header(header: bytes) -> tuple[InterchangeReport | None, str, str, str]:
    match = _ISA_GUESS.search(header[:300])
    if match is None:
        return None, "000000000", "", ""
    parts = [g.decode("latin-1") for g in match.groups()]
    report = InterchangeReport(
        sender_qualifier=parts[4],
        sender_id=parts[5],
        receiver_qualifier=parts[6],
        receiver_id=parts[7],
        date=parts[8],
        time=parts[9],
        control_number=parts[10],
        version="",
        acknowledgment_requested=False,
        usage="P",
        delimiters=Delimiters.default(),
        segment_number=1,
        offset=0,
    )
    return report, parts[10], parts[8], parts[9]


def _ak9_counts(group: GroupReport) -> tuple[str, str, str]:
    received = len(group.sets)
    included = group.declared_sets if group.declared_sets is not None else received
    return str(included), str(received), str(group.accepted_sets if not group.errors else 0)


def _functional_id(group: GroupReport) -> str:
    """AK101: the group's GS01. It must be a real functional identifier code, so a corrupt one is
    answered with the code of the transaction sets the group holds (``FA`` when none is known
    either); AK102 still names the group by its control number, and AK9 rejects it as not supported."""
    if group.functional_id in _KNOWN_FUNCTIONAL_IDS:
        return group.functional_id
    held = {report.set_id for report in group.sets}
    found = sorted({v.functional_id for v in VERSIONS.values() if v.set_id in held})
    return found[0] if found else "FA"


def implementation_acknowledgment(group: GroupReport, delimiters: Delimiters | None = None) -> TransactionSetText:
    """The body of one 999 transaction set acknowledging ``group``."""
    out = SegmentBuilder(delimiters)
    out.add(
        "AK1",
        _functional_id(group),
        _echo(group.control_number, 9, digits=True),
        _echo(group.version, 12) or None,
    )
    # A group refused as a whole (unknown version or functional id) gets no AK2 loops: its sets
    # were never read, and AK9 says why.
    refused_whole = any(e.value in ("1", "2") for e in group.errors)
    if not refused_whole:
        for report in group.sets:
            set_id = report.set_id
            if set_id not in _KNOWN_SET_IDS:
                # AK201 must be a real transaction set id: a corrupt ST01 is answered with the id the
                # group calls for, and IK5 says the identifier was invalid.
                set_id = min(expected_set_ids(group) or {"999"})
            out.add(
                "AK2",
                set_id,
                _echo(report.control_number, 9, 4),
                _echo(report.reference, 35) or None,
            )
            for problem in report.problems:
                out.add(
                    "IK3",
                    _segment_id(problem.segment_id),
                    str(problem.position),
                    problem.loop_id[:4] or None,
                    problem.error.value,
                )
                for element in problem.elements:
                    position = [str(element.position)]
                    if element.component or element.repetition:
                        position.append(str(element.component) if element.component else "")
                    if element.repetition:
                        position.append(str(element.repetition))
                    out.add("IK4", position, element.reference or None, element.error.value)
            ack = Acknowledgment.ACCEPTED if report.accepted else Acknowledgment.REJECTED
            out.add("IK5", ack.value, *[e.value for e in report.errors[:5]])
    ack9 = group.acknowledgment
    included, received, accepted = _ak9_counts(group)
    out.add("AK9", ack9.value, included, received, accepted, *[e.value for e in group.errors[:5]])
    return TransactionSetText("999", IMPLEMENTATION_ACK_VERSION, tuple(out.segments))


def acknowledge(
    report: ValidationReport,
    *,
    control_numbers: ControlNumbers,
    now: datetime,
    delimiters: Delimiters | None = None,
    usage: str | None = None,
) -> Acknowledgments:
    """Every TA1 and 999 the file calls for. ``now`` stamps the envelopes (from the caller's clock)."""
    ta1: list[Interchange] = []
    acks: list[Interchange] = []
    if report.unreadable is not None and not report.interchanges:
        guessed, control, date, time = _guess_header(report.unreadable_header)
        note = UNREADABLE_NOTES.get(report.unreadable.reason, InterchangeNote.INVALID_CONTROL_STRUCTURE)
        if guessed is None:
            guessed = InterchangeReport(
                "ZZ", "UNKNOWN", "ZZ", "UNKNOWN", "", "", control, "", False, "P", Delimiters.default(), 1, 0
            )
        settings = _reply_settings(guessed, delimiters, usage)
        ta1.append(
            _ta1(
                settings,
                control if control.isdigit() else "000000000",
                date if date.isdigit() and len(date) == 6 else now.strftime("%y%m%d"),
                time if time.isdigit() and len(time) == 4 else now.strftime("%H%M"),
                False,
                note,
                control_numbers,
                now,
            )
        )
        return Acknowledgments(tuple(ta1), ())
    for interchange in report.interchanges:
        settings = _reply_settings(interchange, delimiters, usage)
        if not interchange.accepted or interchange.acknowledgment_requested:
            note = interchange.notes[0] if interchange.notes else InterchangeNote.NO_ERROR
            control = interchange.control_number if interchange.control_number.isdigit() else "000000000"
            control = control[:9].rjust(9, "0")
            date = (
                interchange.date
                if interchange.date.isdigit() and len(interchange.date) == 6
                else now.strftime("%y%m%d")
            )
            time = (
                interchange.time if interchange.time.isdigit() and len(interchange.time) == 4 else now.strftime("%H%M")
            )
            ta1.append(_ta1(settings, control, date, time, interchange.accepted, note, control_numbers, now))
        if not interchange.accepted or not interchange.groups:
            continue
        sets = [implementation_acknowledgment(group, settings.delimiters) for group in interchange.groups]
        # GS02/GS03 echo the sender's group codes, cleaned like every other echoed value (AN 2-15)
        group_sender = Party(
            settings.sender.qualifier, settings.sender.id, _echo(interchange.groups[0].receiver_code, 15, 2, fill="X")
        )
        group_receiver = Party(
            settings.receiver.qualifier, settings.receiver.id, _echo(interchange.groups[0].sender_code, 15, 2, fill="X")
        )
        group_settings = EnvelopeSettings(group_sender, group_receiver, settings.usage, False, settings.delimiters)
        acks.append(
            build_interchange(
                group_settings,
                "FA",
                IMPLEMENTATION_ACK_VERSION,
                sets,
                control_numbers=control_numbers,
                now=now,
            )
        )
    return Acknowledgments(tuple(ta1), tuple(acks))
