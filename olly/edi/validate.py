"""Structural validation of inbound files: envelopes, counts, control numbers, guides.

``Validator`` takes segments one at a time (constant memory apart from the per-set results the
acknowledgements need) and builds a ``ValidationReport``: per interchange the TA1 notes, per group
the AK9 errors, per transaction set the IK5 errors and every IK3/IK4 the guide walk found. Nothing
here raises on bad input: every problem becomes a code on the report, and ``olly.edi.acks`` turns
the report into the TA1 and 999 to send back.

Handlers (the transaction mappers) can ride along: for each transaction set of a kind they handle
they see every segment with the loop the guide placed it in.
"""

from __future__ import annotations

import os
import re
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Final, Protocol

from olly.edi.codes import (
    VERSIONS,
    Acknowledgment,
    ElementError,
    GroupError,
    InterchangeNote,
    SegmentError,
    SetError,
    TransactionKind,
    Version,
    version_for,
)
from olly.edi.grammar import ElementProblem, SegmentProblem, Walker, parse_date
from olly.edi.guides import GUIDES
from olly.edi.syntax import Delimiters, Segment, SegmentReader, X12SyntaxError

#: IK3s kept per transaction set; beyond it they are counted, not stored (a garbage file must not
#: grow memory). The 999 reports the first ones, which is what a sender needs to fix the file.
MAX_PROBLEMS_PER_SET: Final = 100
_CONTROL = re.compile(r"^\d{1,9}$")
_ISA_QUALIFIERS: Final = frozenset(["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"])
#: TA105 for each reason the tokenizer can give up.
UNREADABLE_NOTES: Final = {
    "isa_missing": InterchangeNote.INVALID_CONTROL_STRUCTURE,
    "isa_invalid": InterchangeNote.INVALID_CONTROL_STRUCTURE,
    "invalid_element_separator": InterchangeNote.INVALID_ELEMENT_SEPARATOR,
    "invalid_component": InterchangeNote.INVALID_COMPONENT_SEPARATOR,
    "invalid_terminator": InterchangeNote.INVALID_SEGMENT_TERMINATOR,
    "segment_too_long": InterchangeNote.INVALID_SEGMENT_TERMINATOR,
}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a transaction came from: enough to find it again in the stored raw file."""

    interchange_control_number: str
    group_control_number: str
    set_control_number: str
    segment_number: int
    """Ordinal of the segment that starts the item (CLM, INS, HL …) in the file."""
    offset: int
    """Byte offset of that segment."""
    sender_id: str = ""

    @property
    def set_key(self) -> tuple[str, str, str]:
        return (self.interchange_control_number, self.group_control_number, self.set_control_number)


@dataclass(slots=True)
class SetReport:
    set_id: str
    control_number: str
    reference: str
    kind: TransactionKind | None
    segment_number: int
    offset: int
    errors: list[SetError] = field(default_factory=list)
    problems: list[SegmentProblem] = field(default_factory=list)
    problems_dropped: int = 0
    segment_count: int = 0

    @property
    def acknowledgment(self) -> Acknowledgment:
        return Acknowledgment.REJECTED if self.errors or self.problems else Acknowledgment.ACCEPTED

    @property
    def accepted(self) -> bool:
        return self.acknowledgment is Acknowledgment.ACCEPTED


@dataclass(slots=True)
class GroupReport:
    functional_id: str
    sender_code: str
    receiver_code: str
    control_number: str
    version: str
    segment_number: int
    offset: int
    sets: list[SetReport] = field(default_factory=list)
    errors: list[GroupError] = field(default_factory=list)
    declared_sets: int | None = None

    @property
    def accepted_sets(self) -> int:
        return sum(1 for s in self.sets if s.accepted)

    @property
    def acknowledgment(self) -> Acknowledgment:
        if self.errors:
            return Acknowledgment.REJECTED
        accepted = self.accepted_sets
        if accepted == len(self.sets) and self.sets:
            return Acknowledgment.ACCEPTED
        if accepted == 0:
            return Acknowledgment.REJECTED
        return Acknowledgment.PARTIALLY_ACCEPTED


@dataclass(slots=True)
class InterchangeReport:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    control_number: str
    version: str
    acknowledgment_requested: bool
    usage: str
    delimiters: Delimiters
    segment_number: int
    offset: int
    notes: list[InterchangeNote] = field(default_factory=list)
    groups: list[GroupReport] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.notes

    @property
    def sender(self) -> str:
        return f"{self.sender_qualifier.strip()}:{self.sender_id.strip()}"


@dataclass(slots=True)
class ValidationReport:
    interchanges: list[InterchangeReport] = field(default_factory=list)
    unreadable: X12SyntaxError | None = None
    """Set when the bytes could not be tokenized at all (no usable ISA, a runaway segment)."""
    unreadable_header: bytes = b""
    segments: int = 0
    bytes: int = 0

    @property
    def accepted(self) -> bool:
        """True when everything in the file was accepted."""
        return (
            self.unreadable is None
            and bool(self.interchanges)
            and all(
                i.accepted and all(g.acknowledgment is Acknowledgment.ACCEPTED for g in i.groups)
                for i in self.interchanges
            )
        )

    def accepted_sets(self) -> set[tuple[str, str, str]]:
        """Keys (ISA13, GS06, ST02) of every transaction set whose set, group and interchange were accepted."""
        keys: set[tuple[str, str, str]] = set()
        for interchange in self.interchanges:
            if not interchange.accepted:
                continue
            for group in interchange.groups:
                if group.errors:
                    continue
                for report in group.sets:
                    if report.accepted:
                        keys.add((interchange.control_number, group.control_number, report.control_number))
        return keys

    def transaction_sets(self) -> Iterator[tuple[InterchangeReport, GroupReport, SetReport]]:
        for interchange in self.interchanges:
            for group in interchange.groups:
                for report in group.sets:
                    yield interchange, group, report


def expected_set_ids(group: GroupReport) -> set[str]:
    """The transaction set ids a group's functional id and version call for (ST01)."""
    return {
        v.set_id
        for (reference, _), v in VERSIONS.items()
        if reference == group.version and v.functional_id == group.functional_id
    }


class InterchangeStore(Protocol):
    """Interchange control numbers already received, per sender (duplicate detection)."""

    def seen(self, sender: str, control_number: str) -> bool: ...

    def record(self, sender: str, control_number: str) -> None: ...


class InMemoryInterchangeStore:
    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()

    def seen(self, sender: str, control_number: str) -> bool:
        return (sender, control_number) in self._seen

    def record(self, sender: str, control_number: str) -> None:
        self._seen.add((sender, control_number))


@dataclass(frozen=True, slots=True)
class SetContext:
    kind: TransactionKind
    version: Version
    interchange: InterchangeReport
    group: GroupReport
    report: SetReport
    delimiters: Delimiters

    def origin(self, segment: Segment) -> Origin:
        return Origin(
            self.interchange.control_number,
            self.group.control_number,
            self.report.control_number,
            segment.number,
            segment.offset,
            self.interchange.sender,
        )


class TransactionHandler(Protocol):
    def segment(self, segment: Segment, loop_id: str) -> None: ...

    def end(self) -> None: ...


HandlerFactory = Callable[[SetContext], "TransactionHandler | None"]


class _HierarchyCheck:
    """HL01 counts up from 1; HL02 names an earlier HL. Levels kept as one byte per HL id."""

    __slots__ = ("count", "levels")

    def __init__(self) -> None:
        self.count = 0
        self.levels = array("B")

    def check(self, segment: Segment) -> list[ElementProblem]:
        problems: list[ElementProblem] = []
        self.count += 1
        if segment[1] != str(self.count):
            problems.append(ElementProblem(1, ElementError.PATTERN_MISMATCH, reference="628"))
        parent = segment[2]
        if parent and (not parent.isdigit() or not 0 < int(parent) < self.count):
            problems.append(ElementProblem(2, ElementError.INVALID_CODE, reference="734"))
        self.levels.append(0)
        return problems


def _check_dates(segment: Segment) -> list[ElementProblem]:
    """DTP03 and DMG02 must be real dates in the format their qualifier names."""
    if segment.id == "DTP":
        fmt, value, position = segment[2], segment[3], 3
    else:
        fmt, value, position = segment[1], segment[2], 2
    if not value:
        return []
    if fmt == "D8":
        ok = len(value) == 8 and parse_date(value) is not None
    elif fmt == "RD8":
        start, _, end = value.partition("-")
        ok = len(start) == 8 and len(end) == 8 and parse_date(start) is not None and parse_date(end) is not None
        ok = ok and start <= end
    else:
        return []
    return [] if ok else [ElementProblem(position, ElementError.INVALID_DATE, reference="1251")]


class Validator:
    """Feed segments in file order; read ``report`` at the end (after ``finish``)."""

    def __init__(
        self,
        *,
        store: InterchangeStore | None = None,
        receiver_ids: Iterable[str] | None = None,
        handlers: HandlerFactory | None = None,
        check_elements: bool = True,
    ) -> None:
        """``check_elements`` False follows each set's loops for its handler without checking any
        segment's elements (nor HL numbering, nor dates): for a second reading of a file whose sets
        were checked by the first, whose report answers for them."""
        self.report = ValidationReport()
        self._check_elements = check_elements
        self._store = store
        self._receivers = frozenset(r.strip() for r in receiver_ids) if receiver_ids is not None else None
        self._handlers = handlers
        self._interchange: InterchangeReport | None = None
        self._group: GroupReport | None = None
        self._set: SetReport | None = None
        self._walker: Walker | None = None
        self._handler: TransactionHandler | None = None
        self._hierarchy: _HierarchyCheck | None = None
        self._position = 0
        self._group_controls: set[str] = set()
        self._set_controls: set[str] = set()
        self._group_supported = False
        self._version: Version | None = None
        self._skipping_group = False

    # -- entry points --------------------------------------------------------------------------
    def run(self, reader: SegmentReader) -> ValidationReport:
        try:
            for segment in reader:
                self.feed(segment)
        except X12SyntaxError as error:
            self.fail(error)
        self.report.bytes = reader.bytes_read
        self.finish()
        return self.report

    def feed(self, segment: Segment) -> None:
        self.report.segments += 1
        segment_id = segment.id
        if self._set is not None and segment_id not in ("SE", "ST", "GE", "IEA", "GS", "ISA"):
            self._in_set(segment)
            return
        if segment_id == "ISA":
            self._start_interchange(segment)
        elif segment_id == "IEA":
            self._end_interchange(segment)
        elif segment_id == "GS":
            self._start_group(segment)
        elif segment_id == "GE":
            self._end_group(segment)
        elif segment_id == "ST":
            self._start_set(segment)
        elif segment_id == "SE":
            self._end_set(segment)
        else:
            # A segment between envelopes (outside any ST…SE): the interchange's structure is broken.
            self._note(InterchangeNote.INVALID_CONTENT)

    def fail(self, error: X12SyntaxError) -> None:
        """The tokenizer gave up: the interchange it was in (or the last one) is rejected with the reason."""
        self.report.unreadable = error
        target = self._interchange or (self.report.interchanges[-1] if self.report.interchanges else None)
        if target is not None:
            note = UNREADABLE_NOTES.get(error.reason, InterchangeNote.INVALID_CONTROL_STRUCTURE)
            if note not in target.notes:
                target.notes.append(note)

    def finish(self) -> None:
        if self._set is not None:
            self._set.errors.append(SetError.TRAILER_MISSING)
            self._close_set(complete=False)
        if self._group is not None:
            self._group_error(GroupError.TRAILER_MISSING)
            self._group = None
        if self._interchange is not None:
            self._note(InterchangeNote.PREMATURE_END_OF_FILE)
            self._interchange = None

    # -- interchange ---------------------------------------------------------------------------
    def _note(self, note: InterchangeNote) -> None:
        if self._interchange is not None and note not in self._interchange.notes:
            self._interchange.notes.append(note)

    def _start_interchange(self, segment: Segment) -> None:
        if self._interchange is not None:
            self.finish()
        e = segment.elements + [""] * (17 - len(segment.elements))
        interchange = InterchangeReport(
            sender_qualifier=e[5],
            sender_id=e[6],
            receiver_qualifier=e[7],
            receiver_id=e[8],
            date=e[9],
            time=e[10],
            control_number=e[13],
            version=e[12],
            acknowledgment_requested=e[14] == "1",
            usage=e[15],
            delimiters=self._delimiters(),
            segment_number=segment.number,
            offset=segment.offset,
        )
        self._interchange = interchange
        self.report.interchanges.append(interchange)
        self._group_controls = set()
        checks = [
            (e[1] in ("00", "03"), InterchangeNote.INVALID_AUTHORIZATION_QUALIFIER),
            (e[3] in ("00", "01"), InterchangeNote.INVALID_SECURITY_QUALIFIER),
            (e[5] in _ISA_QUALIFIERS, InterchangeNote.INVALID_SENDER_QUALIFIER),
            (bool(e[6].strip()), InterchangeNote.INVALID_SENDER_ID),
            (e[7] in _ISA_QUALIFIERS, InterchangeNote.INVALID_RECEIVER_QUALIFIER),
            (bool(e[8].strip()), InterchangeNote.INVALID_RECEIVER_ID),
            (e[9].isdigit() and parse_date(e[9]) is not None, InterchangeNote.INVALID_DATE),
            (_valid_time(e[10]), InterchangeNote.INVALID_TIME),
            (e[12] == "00501", InterchangeNote.VERSION_NOT_SUPPORTED),
            (e[13].isdigit() and len(e[13]) == 9, InterchangeNote.INVALID_CONTROL_NUMBER),
            (e[14] in ("0", "1"), InterchangeNote.INVALID_ACKNOWLEDGMENT_REQUESTED),
            (e[15] in ("P", "T"), InterchangeNote.INVALID_TEST_INDICATOR),
        ]
        for ok, note in checks:
            if not ok:
                self._note(note)
        if self._receivers is not None and e[8].strip() not in self._receivers:
            self._note(InterchangeNote.UNKNOWN_RECEIVER_ID)
        if self._store is not None and self._store.seen(interchange.sender, interchange.control_number):
            self._note(InterchangeNote.DUPLICATE_CONTROL_NUMBER)

    def _end_interchange(self, segment: Segment) -> None:
        interchange = self._interchange
        if interchange is None:
            return
        if self._set is not None:
            self._set.errors.append(SetError.TRAILER_MISSING)
            self._close_set(complete=False)
        if self._group is not None:
            self._group_error(GroupError.TRAILER_MISSING)
            self._group = None
        if segment[2] != interchange.control_number:
            self._note(InterchangeNote.CONTROL_NUMBER_MISMATCH)
        if segment[1] != str(len(interchange.groups)):
            self._note(InterchangeNote.INVALID_GROUP_COUNT)
        if self._store is not None and interchange.accepted:
            self._store.record(interchange.sender, interchange.control_number)
        self._interchange = None

    # -- group ---------------------------------------------------------------------------------
    def _group_error(self, error: GroupError) -> None:
        if self._group is not None and error not in self._group.errors:
            self._group.errors.append(error)

    def _start_group(self, segment: Segment) -> None:
        if self._interchange is None:
            return
        if self._set is not None:
            self._set.errors.append(SetError.TRAILER_MISSING)
            self._close_set(complete=False)
        if self._group is not None:
            self._group_error(GroupError.TRAILER_MISSING)
        group = GroupReport(
            functional_id=segment[1],
            sender_code=segment[2],
            receiver_code=segment[3],
            control_number=segment[6],
            version=segment[8],
            segment_number=segment.number,
            offset=segment.offset,
        )
        self._group = group
        self._interchange.groups.append(group)
        self._set_controls = set()
        if _CONTROL.match(group.control_number) is None:
            self._group_error(GroupError.CONTROL_NUMBER_INVALID)
        elif group.control_number in self._group_controls:
            self._group_error(GroupError.CONTROL_NUMBER_NOT_UNIQUE)
        self._group_controls.add(group.control_number)
        versions = [v for (reference, _), v in VERSIONS.items() if reference == group.version]
        matching = [v for v in versions if v.functional_id == group.functional_id]
        self._skipping_group = False
        if not versions:
            self._group_error(GroupError.VERSION_NOT_SUPPORTED)
            self._skipping_group = True
        elif not matching:
            self._group_error(GroupError.NOT_SUPPORTED)
            self._skipping_group = True
        if segment[7] != "X" or parse_date(segment[4]) is None or len(segment[4]) != 8 or not _valid_time(segment[5]):
            self._group_error(GroupError.NOT_SUPPORTED)

    def _end_group(self, segment: Segment) -> None:
        group = self._group
        if group is None:
            self._note(InterchangeNote.INVALID_CONTROL_STRUCTURE)
            return
        if self._set is not None:
            self._set.errors.append(SetError.TRAILER_MISSING)
            self._close_set(complete=False)
        if segment[2] != group.control_number:
            self._group_error(GroupError.CONTROL_NUMBER_MISMATCH)
        group.declared_sets = int(segment[1]) if segment[1].isdigit() else None
        if group.declared_sets != len(group.sets):
            self._group_error(GroupError.SET_COUNT_MISMATCH)
        self._group = None

    # -- transaction set -----------------------------------------------------------------------
    def _start_set(self, segment: Segment) -> None:
        if self._set is not None:
            self._set.errors.append(SetError.TRAILER_MISSING)
            self._close_set(complete=False)
        group, interchange = self._group, self._interchange
        if group is None or interchange is None:
            if interchange is not None:
                self._note(InterchangeNote.INVALID_CONTROL_STRUCTURE)
            return
        reference = segment[3] or group.version
        report = SetReport(segment[1], segment[2], reference, None, segment.number, segment.offset)
        group.sets.append(report)
        self._set = report
        self._position = 1
        self._walker = None
        self._handler = None
        self._hierarchy = None
        if self._skipping_group:
            report.errors.append(SetError.NOT_SUPPORTED)
            return
        control = segment[2]
        if not (4 <= len(control) <= 9) or not control.isalnum():
            report.errors.append(SetError.INVALID_CONTROL_NUMBER)
        elif control in self._set_controls:
            report.errors.append(SetError.CONTROL_NUMBER_NOT_UNIQUE)
        self._set_controls.add(control)
        expected = expected_set_ids(group)
        if segment[1] not in expected:
            report.errors.append(SetError.INVALID_SET_IDENTIFIER)
            return
        version = version_for(reference, segment[1])
        if version is None or version.functional_id != group.functional_id:
            report.errors.append(SetError.INVALID_IMPLEMENTATION_REFERENCE if segment[3] else SetError.NOT_SUPPORTED)
            return
        if segment[3] and segment[3] != group.version:
            report.errors.append(SetError.INVALID_IMPLEMENTATION_REFERENCE)
        report.kind = version.kind
        guide = GUIDES.get(version.kind)
        if guide is None:
            report.errors.append(SetError.NOT_SUPPORTED)
            return
        delimiters = self._delimiters()
        self._walker = Walker(
            guide, delimiters.component, delimiters.repetition, delimiters.element, check=self._check_elements
        )
        self._walker.start(segment)
        if version.kind not in (TransactionKind.ENROLLMENT,) and self._check_elements:
            self._hierarchy = _HierarchyCheck()
        if self._handlers is not None:
            context = SetContext(version.kind, version, interchange, group, report, delimiters)
            self._handler = self._handlers(context)
            if self._handler is not None:
                self._handler.segment(segment, "")

    def _delimiters(self) -> Delimiters:
        return self._reader_delimiters or Delimiters.default()

    _reader_delimiters: Delimiters | None = None

    def use_delimiters(self, delimiters: Delimiters | None) -> None:
        self._reader_delimiters = delimiters

    def _in_set(self, segment: Segment) -> None:
        self._position += 1
        walker = self._walker
        if walker is None:
            return
        node = walker.step(segment, self._position)
        if node is not None:
            extra: list[ElementProblem] = []
            segment_id = segment.id
            if segment_id == "HL" and self._hierarchy is not None:
                extra = self._hierarchy.check(segment)
            elif (segment_id == "DTP" or segment_id == "DMG") and self._check_elements:
                extra = _check_dates(segment)
            if extra:
                walker.problems.append(
                    SegmentProblem(
                        segment_id,
                        self._position,
                        walker.loop_id,
                        SegmentError.HAS_ELEMENT_ERRORS,
                        tuple(extra),
                        segment.number,
                        segment.offset,
                    )
                )
        if self._handler is not None:
            self._handler.segment(segment, walker.loop_id)
        if len(walker.problems) > MAX_PROBLEMS_PER_SET:
            assert self._set is not None
            self._set.problems_dropped += len(walker.problems) - MAX_PROBLEMS_PER_SET
            del walker.problems[MAX_PROBLEMS_PER_SET:]

    def _end_set(self, segment: Segment) -> None:
        report = self._set
        if report is None:
            if self._group is not None:
                self._group_error(GroupError.NOT_SUPPORTED)
            return
        self._position += 1
        if self._walker is not None:
            self._walker.step(segment, self._position)
        if segment[1] != str(self._position):
            report.errors.append(SetError.SEGMENT_COUNT_MISMATCH)
        if segment[2] != report.control_number:
            report.errors.append(SetError.CONTROL_NUMBER_MISMATCH)
        self._close_set(complete=True)

    def _close_set(self, *, complete: bool) -> None:
        report = self._set
        assert report is not None
        walker = self._walker
        if walker is not None:
            if complete:
                walker.finish(self._position)
            report.problems.extend(walker.problems[: MAX_PROBLEMS_PER_SET - len(report.problems)])
            report.problems_dropped += max(0, len(walker.problems) - MAX_PROBLEMS_PER_SET)
            if report.problems and SetError.SEGMENTS_IN_ERROR not in report.errors:
                report.errors.append(SetError.SEGMENTS_IN_ERROR)
        report.segment_count = self._position
        if self._handler is not None:
            self._handler.end()
        self._set = None
        self._walker = None
        self._handler = None
        self._hierarchy = None


def _valid_time(value: str) -> bool:
    if len(value) not in (4, 6, 7, 8) or not value.isdigit():
        return False
    return int(value[:2]) < 24 and int(value[2:4]) < 60


def validate(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    store: InterchangeStore | None = None,
    receiver_ids: Iterable[str] | None = None,
    handlers: HandlerFactory | None = None,
    chunk_size: int = 1 << 20,
    on_progress: Callable[[int], None] | None = None,
) -> ValidationReport:
    """Tokenize and validate a whole file; never raises on bad content (see ``report.unreadable``)."""
    reader = SegmentReader(source, chunk_size=chunk_size)
    validator = Validator(store=store, receiver_ids=receiver_ids, handlers=handlers)
    last_delimiters = None
    try:
        for segment in reader:
            if reader.delimiters is not last_delimiters:
                last_delimiters = reader.delimiters
                validator.use_delimiters(last_delimiters)
            validator.feed(segment)
            if on_progress is not None and segment.number % 4096 == 0:
                on_progress(reader.bytes_read)
    except X12SyntaxError as error:
        validator.fail(error)
        if not validator.report.interchanges:
            validator.report.unreadable_header = _peek_header(source)
    validator.report.bytes = reader.bytes_read
    validator.finish()
    if on_progress is not None:
        on_progress(reader.bytes_read)
    return validator.report


def _peek_header(source: str | os.PathLike[str] | bytes | BinaryIO) -> bytes:
    """The first bytes of an unreadable file, for a best-effort TA1 (control number, parties)."""
    if isinstance(source, bytes):
        return source[:512]
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            return handle.read(512)
    return b""
