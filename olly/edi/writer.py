"""Writing X12: segments, envelopes and control numbers.

Values never carry a delimiter: a separator character inside a value (a ``*`` typed in a name) is
replaced by a space, because X12 5010 has no escape mechanism and the alternative is a file the
partner cannot read. Trailing empty elements and components are dropped, as the standard asks.
Dates and times of an envelope come from the caller (``now``), never from the system clock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from olly.edi.syntax import Delimiters

Element = str | Sequence[str] | None
"""A simple element (str), a composite (a sequence of components) or absent (None/"")."""


class SegmentBuilder:
    """Collects the segments of one transaction set (or any run of segments) as text."""

    def __init__(self, delimiters: Delimiters | None = None) -> None:
        self.delimiters = delimiters or Delimiters.default()
        d = self.delimiters
        forbidden = {d.element, d.component, d.segment} | ({d.repetition} if d.repetition else set())
        self._table = str.maketrans(dict.fromkeys(forbidden, " "))
        distinct = len(forbidden) == (4 if d.repetition else 3)
        self._others = tuple(forbidden - {d.element, d.component}) if distinct else None
        self.segments: list[str] = []

    def clean(self, value: str) -> str:
        return value.translate(self._table)

    def render(self, segment_id: str, elements: Iterable[Element]) -> str:
        # Nearly every element holds no delimiter: the segment is joined as given and checked once (the
        # delimiters it holds are exactly those the join put there), which is what cleaning each
        # element gives, at a fraction of the cost (an 835 has millions of elements). Anything else
        # (a delimiter to clean, delimiters that are not distinct) takes the element-wise way.
        elements = tuple(elements)
        if self._others is None:
            return self._render_each(segment_id, elements)
        component = self.delimiters.component
        parts = [segment_id]
        joins = 0  # component separators the composites put in
        for element in elements:
            if element is None:
                parts.append("")
            elif isinstance(element, str):
                parts.append(element)
            else:
                components = [c or "" for c in element]
                while components and not components[-1]:
                    components.pop()
                if components:
                    joins += len(components) - 1
                parts.append(component.join(components))
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        separator = self.delimiters.element
        text = separator.join(parts)
        if text.count(separator) != len(parts) - 1 or text.count(component) != joins:
            return self._render_each(segment_id, elements)
        for delimiter in self._others:
            if delimiter in text:
                return self._render_each(segment_id, elements)
        return text

    def _render_each(self, segment_id: str, elements: Iterable[Element]) -> str:
        d, table = self.delimiters, self._table
        parts = [segment_id]
        for element in elements:
            if element is None:
                parts.append("")
            elif isinstance(element, str):
                parts.append(element.translate(table))  # ``clean`` inlined: an 835 has millions of elements
            else:
                components = [(c or "").translate(table) for c in element]
                while components and not components[-1]:
                    components.pop()
                parts.append(d.component.join(components))
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        return d.element.join(parts)

    def add(self, segment_id: str, *elements: Element) -> None:
        self.segments.append(self.render(segment_id, elements))

    def add_repeated(self, segment_id: str, position: int, values: Sequence[str], *elements: Element) -> None:
        """Like ``add`` but element ``position`` (1-based) holds ``values`` joined by the repetition separator."""
        rendered = list(elements)
        separator = self.delimiters.repetition or ""
        joined = separator.join(self.clean(v) for v in values)
        rendered.insert(position - 1, joined)
        self.add(segment_id, *rendered)

    def __len__(self) -> int:
        return len(self.segments)


@dataclass(frozen=True, slots=True)
class Party:
    """One side of an exchange: interchange id (ISA05/06 or 07/08) and application code (GS02/03)."""

    qualifier: str
    id: str
    application_code: str = ""

    @property
    def code(self) -> str:
        return self.application_code or self.id


@dataclass(frozen=True, slots=True)
class EnvelopeSettings:
    sender: Party
    receiver: Party
    usage: str = "P"
    """ISA15: P production, T test."""
    acknowledgment_requested: bool = False
    delimiters: Delimiters = field(default_factory=Delimiters.default)


class ControlNumbers(Protocol):
    """Allocates outbound control numbers; a database sequence backs it in production."""

    def next_interchange(self, sender: Party) -> int: ...

    def next_group(self, sender: Party) -> int: ...


class InMemoryControlNumbers:
    def __init__(self, start: int = 1) -> None:
        self._next = {"isa": start, "gs": start}
        self._lock = threading.Lock()

    def _take(self, kind: str) -> int:
        with self._lock:
            value = self._next[kind]
            self._next[kind] = value + 1 if value < 999_999_999 else 1
            return value

    def next_interchange(self, sender: Party) -> int:
        return self._take("isa")

    def next_group(self, sender: Party) -> int:
        return self._take("gs")


def isa_segment(settings: EnvelopeSettings, control_number: int, now: datetime) -> str:
    d = settings.delimiters
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        settings.sender.qualifier.ljust(2)[:2],
        settings.sender.id.ljust(15)[:15],
        settings.receiver.qualifier.ljust(2)[:2],
        settings.receiver.id.ljust(15)[:15],
        now.strftime("%y%m%d"),
        now.strftime("%H%M"),
        d.repetition or "^",
        "00501",
        f"{control_number:09d}",
        "1" if settings.acknowledgment_requested else "0",
        settings.usage,
        d.component,
    ]
    return d.element.join(fields)


@dataclass(frozen=True, slots=True)
class TransactionSetText:
    """The body of one transaction set, ST to SE exclusive of both."""

    set_id: str
    reference: str
    segments: tuple[str, ...]
    reference_in_header: bool = True
    """Write ST03; the 835 guide (X221A1) marks it not used."""


@dataclass(frozen=True, slots=True)
class Interchange:
    text: str
    interchange_control_number: int
    group_control_number: int
    set_control_numbers: tuple[str, ...]


def build_interchange(
    settings: EnvelopeSettings,
    functional_id: str,
    version: str,
    sets: Sequence[TransactionSetText],
    *,
    control_numbers: ControlNumbers,
    now: datetime,
    line_breaks: bool = True,
) -> Interchange:
    """One ISA/GS envelope around ``sets``, with counts and control numbers filled in."""
    d = settings.delimiters
    isa_number = control_numbers.next_interchange(settings.sender)
    gs_number = control_numbers.next_group(settings.sender)
    out = [
        isa_segment(settings, isa_number, now),
        d.element.join(
            [
                "GS",
                functional_id,
                settings.sender.code,
                settings.receiver.code,
                now.strftime("%Y%m%d"),
                now.strftime("%H%M"),
                str(gs_number),
                "X",
                version,
            ]
        ),
    ]
    set_numbers: list[str] = []
    for index, transaction in enumerate(sets, start=1):
        control = f"{index:04d}"
        set_numbers.append(control)
        header = ["ST", transaction.set_id, control]
        if transaction.reference_in_header:
            header.append(transaction.reference)
        out.append(d.element.join(header))
        out.extend(transaction.segments)
        out.append(d.element.join(["SE", str(len(transaction.segments) + 2), control]))
    out.append(d.element.join(["GE", str(len(sets)), str(gs_number)]))
    out.append(d.element.join(["IEA", "1", f"{isa_number:09d}"]))
    separator = d.segment + ("\n" if line_breaks else "")
    return Interchange(separator.join(out) + separator, isa_number, gs_number, tuple(set_numbers))
