"""Table-driven structure of a transaction set: loops, segments, usage, repeats, element rules.

An implementation guide is written here as a tree: a ``Loop`` holds ``Seg`` and ``Loop`` children in
guide order; a loop starts at its first child (the trigger segment, told apart by a qualifier such
as NM101="85" or HL03="22"). ``Walker`` follows the segments of one transaction set through the
tree the way the guides describe it (forward within a loop, into a child loop on its trigger, back
up to an enclosing loop otherwise) and reports every deviation as a 999 segment or element error.

Element rules come in two layers: the X12 dictionary (type, length, standard-mandatory) in
``olly.edi.dictionary``, and per-loop overrides in the guide tree (codes a qualifier must take,
elements the guide requires).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from olly.edi.codes import ElementError, SegmentError
from olly.edi.syntax import Segment

UNBOUNDED: Final = 1 << 30
REQUIRED, SITUATIONAL, NOT_USED = "R", "S", "N"

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_NUMBER = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")
_TIME = re.compile(r"^([01]\d|2[0-3])[0-5]\d([0-5]\d(\d{1,2})?)?$")


@dataclass(frozen=True, slots=True)
class ElementRule:
    kind: str
    """AN, ID, N0…N9 (implied decimals), R (decimal), DT, TM, or C (composite)."""
    minimum: int
    maximum: int
    required: bool = False
    codes: frozenset[str] | None = None
    components: tuple[ElementRule, ...] = ()
    repeat: int = 1
    not_used: bool = False


def _check_simple(value: str, rule: ElementRule) -> ElementError | None:
    kind = rule.kind
    if kind == "AN" or kind == "ID":
        size = len(value)
        if size < rule.minimum:
            return ElementError.TOO_SHORT
        if size > rule.maximum:
            return ElementError.TOO_LONG
        if rule.codes is not None and value not in rule.codes:
            return ElementError.INVALID_CODE
        return None
    if kind == "R":
        if _DECIMAL.match(value) is None:
            return ElementError.INVALID_CHARACTER
        digits = len(value) - value.count("-") - value.count(".")
        if digits > rule.maximum:
            return ElementError.TOO_LONG
        return None
    if kind[0] == "N":
        if _NUMBER.match(value) is None:
            return ElementError.INVALID_CHARACTER
        digits = len(value) - (value[0] == "-")
        if digits < rule.minimum:
            return ElementError.TOO_SHORT
        if digits > rule.maximum:
            return ElementError.TOO_LONG
        if rule.codes is not None and value not in rule.codes:
            return ElementError.INVALID_CODE
        return None
    if kind == "DT":
        if len(value) != rule.minimum or not value.isdigit():
            return ElementError.INVALID_DATE
        if parse_date(value) is None:
            return ElementError.INVALID_DATE
        return None
    if kind == "TM":
        if len(value) < rule.minimum or len(value) > rule.maximum or _TIME.match(value) is None:
            return ElementError.INVALID_TIME
        return None
    return None


def parse_date(value: str) -> date | None:
    """CCYYMMDD (or YYMMDD, read as 20YY) to a date; ``None`` when not a real calendar date."""
    try:
        if len(value) == 8:
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        if len(value) == 6:
            return date(2000 + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return None
    return None


def _simple_pattern(rule: ElementRule, forbidden: str) -> str:
    kind = rule.kind
    if (rule.codes is not None and kind in ("ID", "AN")) or (rule.codes is not None and kind[0] == "N"):
        return "(?:" + "|".join(re.escape(code) for code in sorted(rule.codes, key=len, reverse=True)) + ")"
    if kind in ("AN", "ID"):
        return f"[^{forbidden}\ufffd]{{{rule.minimum},{rule.maximum}}}"
    if kind == "R":
        return f"-?(?:\\d{{1,{rule.maximum}}}|(?=\\.?\\d)(?=[\\d.]{{2,{rule.maximum + 1}}}(?![\\d.]))\\d*\\.\\d*)"
    if kind[0] == "N":
        return f"-?\\d{{{rule.minimum},{rule.maximum}}}"
    if kind == "DT":
        return "\\d{8}" if rule.minimum == 8 else "\\d{6}"
    if kind == "TM":
        return "(?:[01]\\d|2[0-3])[0-5]\\d(?:[0-5]\\d(?:\\d{1,2})?)?"
    raise ValueError(kind)


def _element_pattern(rule: ElementRule, component: str, repetition: str | None, forbidden: str) -> str:
    if rule.not_used:
        return ""
    if rule.kind == "C":
        comp = re.escape(component)
        tail = ""
        for comp_rule in reversed(rule.components):
            body = "" if comp_rule.not_used else _simple_pattern(comp_rule, forbidden)
            piece = body if comp_rule.required else f"(?:{body})?"
            tail = f"{piece}(?:{comp}{tail})?" if tail else piece
        single = tail
    else:
        single = _simple_pattern(rule, forbidden)
    if rule.repeat > 1 and repetition:
        single = f"{single}(?:{re.escape(repetition)}{single}){{0,{rule.repeat - 1}}}"
    return single if rule.required else f"(?:{single})?"


def compile_segment_pattern(
    segment_id: str, rules: tuple[ElementRule, ...], element: str, component: str, repetition: str | None
) -> re.Pattern[str]:
    """One regular expression accepting exactly the clean forms of a segment (the validator's fast path).

    A segment that does not match is re-checked element by element, which names the problem; so the
    pattern may be stricter than the rules (then a clean segment just takes the slow path), never looser.
    """
    forbidden = re.escape(element + component + (repetition or ""))
    sep = re.escape(element)
    tail = ""
    for rule in reversed(rules):
        body = _element_pattern(rule, component, repetition, forbidden)
        group = f"{sep}{body}{tail}"
        tail = group if rule.required else f"(?:{group})?"
    return re.compile(re.escape(segment_id) + tail)


@dataclass(frozen=True, slots=True)
class ElementProblem:
    position: int
    """IK401-1: element position in the segment (1-based)."""
    error: ElementError
    component: int = 0
    """IK401-2 when the problem is in one component of a composite (1-based), else 0."""
    repetition: int = 0
    """IK401-3 when the element repeats (1-based), else 0."""
    reference: str = ""
    """IK402: data element reference number, when known."""


def check_elements(
    elements: list[str], rules: tuple[ElementRule, ...], component: str, repetition: str | None
) -> list[ElementProblem]:
    """Every element problem of one segment (an empty list when clean)."""
    problems: list[ElementProblem] = []
    count = len(elements) - 1
    if count > len(rules):
        for position in range(len(rules) + 1, count + 1):
            if elements[position]:
                problems.append(ElementProblem(position, ElementError.TOO_MANY_ELEMENTS))
                break
    for position, rule in enumerate(rules, start=1):
        value = elements[position] if position <= count else ""
        if not value:
            if rule.required:
                problems.append(ElementProblem(position, ElementError.REQUIRED_MISSING))
            continue
        if rule.not_used:
            problems.append(ElementProblem(position, ElementError.NOT_USED_PRESENT))
            continue
        if "\ufffd" in value:
            problems.append(ElementProblem(position, ElementError.INVALID_CHARACTER))
            continue
        values = [value]
        if repetition is not None and repetition in value:
            values = value.split(repetition)
            if len(values) > rule.repeat:
                problems.append(ElementProblem(position, ElementError.TOO_MANY_REPETITIONS))
                continue
        for rep_index, item in enumerate(values, start=1):
            rep = rep_index if rule.repeat > 1 else 0
            if rule.kind == "C":
                parts = item.split(component)
                if len(parts) > len(rule.components):
                    problems.append(ElementProblem(position, ElementError.TOO_MANY_COMPONENTS, repetition=rep))
                    continue
                for comp_index, comp_rule in enumerate(rule.components, start=1):
                    part = parts[comp_index - 1] if comp_index <= len(parts) else ""
                    if not part:
                        if comp_rule.required:
                            problems.append(ElementProblem(position, ElementError.REQUIRED_MISSING, comp_index, rep))
                        continue
                    if comp_rule.not_used:
                        problems.append(ElementProblem(position, ElementError.NOT_USED_PRESENT, comp_index, rep))
                        continue
                    error = _check_simple(part, comp_rule)
                    if error is not None:
                        problems.append(ElementProblem(position, error, comp_index, rep))
            else:
                if component in item and rule.kind not in ("AN",):
                    problems.append(ElementProblem(position, ElementError.TOO_MANY_COMPONENTS, repetition=rep))
                    continue
                error = _check_simple(item, rule)
                if error is not None:
                    problems.append(ElementProblem(position, error, repetition=rep))
    return problems


# -- the guide tree ---------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Seg:
    id: str
    usage: str = SITUATIONAL
    max_use: int = 1
    qualifier: tuple[int, frozenset[str]] | None = None
    """Element position and the values that select this segment among same-id siblings."""
    codes: Mapping[int, frozenset[str]] = field(default_factory=dict)
    """Further element code lists the guide sets here."""
    require: tuple[int, ...] = ()
    """Elements the guide requires here beyond the dictionary's mandatory ones."""
    not_used: tuple[int, ...] = ()
    rules: tuple[ElementRule, ...] = ()
    """Filled by ``compile_guide`` from the dictionary and the overrides above."""
    date_positions: tuple[int, ...] = ()
    patterns: dict[tuple[str, str, str | None], re.Pattern[str]] = field(default_factory=dict)
    """Fast-path patterns per delimiter set, compiled on first use."""

    def problems(
        self, segment: Segment, key: tuple[str, str, str | None], component: str, repetition: str | None
    ) -> list[ElementProblem]:
        """Element problems of ``segment`` here; ``key`` is the (element, component, repetition) delimiters."""
        pattern = self.patterns.get(key)
        if pattern is None:
            pattern = compile_segment_pattern(self.id, self.rules, key[0], component, repetition)
            self.patterns[key] = pattern
        if pattern.fullmatch(segment.text) is not None:
            if not self.date_positions:
                return []
            elements = segment.elements
            if all(
                position >= len(elements) or not elements[position] or parse_date(elements[position]) is not None
                for position in self.date_positions
            ):
                return []
        return check_elements(segment.elements, self.rules, component, repetition)

    def matches(self, segment: Segment) -> bool:
        if self.qualifier is None:
            return True
        position, values = self.qualifier
        return segment[position] in values


@dataclass(slots=True, eq=False)
class Loop:
    id: str
    usage: str
    max_repeat: int
    children: list[Seg | Loop]
    index: dict[str, list[tuple[int, Seg | Loop]]] = field(default_factory=dict)
    required: tuple[int, ...] = ()
    """Indices of required children (filled by ``compile_guide``)."""
    fast: dict[str, list[tuple[int, Seg | Loop, Seg | None, int, frozenset[str]]]] = field(default_factory=dict)
    """``index`` flattened for the walker: (child index, node, trigger if a loop, qualifier position, values)."""

    @property
    def trigger(self) -> Seg:
        first = self.children[0]
        assert isinstance(first, Seg)
        return first


def seg(
    segment_id: str,
    usage: str = SITUATIONAL,
    max_use: int = 1,
    *,
    q: tuple[int, str] | None = None,
    codes: Mapping[int, str] | None = None,
    require: Iterable[int] = (),
    not_used: Iterable[int] = (),
) -> Seg:
    """Guide shorthand: ``seg("NM1", R, q=(1, "85"))``; code lists are space-separated strings."""
    return Seg(
        segment_id,
        usage,
        max_use,
        (q[0], frozenset(q[1].split())) if q else None,
        {k: frozenset(v.split()) for k, v in (codes or {}).items()},
        tuple(require),
        tuple(not_used),
    )


def loop(loop_id: str, usage: str, max_repeat: int, children: list[Seg | Loop]) -> Loop:
    return Loop(loop_id, usage, max_repeat, children)


@dataclass(slots=True, eq=False)
class Guide:
    """A compiled transaction set: ``root`` is the loop holding ST … SE."""

    name: str
    root: Loop
    segment_ids: frozenset[str]


def compile_guide(name: str, root: Loop, dictionary: Mapping[str, tuple[ElementRule, ...]]) -> Guide:
    ids: set[str] = set()

    def visit(node: Loop) -> None:
        node.index = {}
        node.required = tuple(i for i, c in enumerate(node.children) if c.usage == REQUIRED)
        for position, child in enumerate(node.children):
            if isinstance(child, Loop):
                visit(child)
                trigger = child.trigger
                node.index.setdefault(trigger.id, []).append((position, child))
            else:
                ids.add(child.id)
                base = dictionary.get(child.id)
                if base is None:
                    raise KeyError(f"segment {child.id} is not in the element dictionary")
                rules = list(base)
                for pos, values in ([child.qualifier] if child.qualifier else []) + list(child.codes.items()):
                    if pos <= len(rules):
                        rule = rules[pos - 1]
                        if rule.kind == "C":
                            first = rule.components[0]
                            comps = (
                                ElementRule(first.kind, first.minimum, first.maximum, True, values),
                                *rule.components[1:],
                            )
                            rules[pos - 1] = ElementRule(
                                "C", rule.minimum, rule.maximum, rule.required, None, comps, rule.repeat
                            )
                        else:
                            rules[pos - 1] = ElementRule(
                                rule.kind, rule.minimum, rule.maximum, rule.required, values, (), rule.repeat
                            )
                for pos in child.require:
                    rule = rules[pos - 1]
                    rules[pos - 1] = ElementRule(
                        rule.kind, rule.minimum, rule.maximum, True, rule.codes, rule.components, rule.repeat
                    )
                for pos in child.not_used:
                    rule = rules[pos - 1]
                    rules[pos - 1] = ElementRule(
                        rule.kind, rule.minimum, rule.maximum, False, rule.codes, rule.components, rule.repeat, True
                    )
                child.rules = tuple(rules)
                child.date_positions = tuple(i for i, r in enumerate(rules, start=1) if r.kind == "DT")
                node.index.setdefault(child.id, []).append((position, child))

    def flatten(node: Loop) -> None:
        node.fast = {}
        for segment_id, entries in node.index.items():
            flat = []
            for child_index, child in entries:
                trigger = child.trigger if isinstance(child, Loop) else None
                qualifier = (trigger or child).qualifier  # type: ignore[union-attr]
                position, values = qualifier if qualifier else (0, frozenset())
                flat.append((child_index, child, trigger, position, values))
            node.fast[segment_id] = flat
        for child in node.children:
            if isinstance(child, Loop):
                flatten(child)

    visit(root)
    flatten(root)
    return Guide(name, root, frozenset(ids))


# -- walking ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentProblem:
    """One IK3 (with its IK4s): ``position`` counts from ST = 1."""

    segment_id: str
    position: int
    loop_id: str
    error: SegmentError
    elements: tuple[ElementProblem, ...] = ()
    segment_number: int = 0
    """Ordinal of the segment in the file (for people; the 999 uses ``position``)."""
    offset: int = 0


class _Frame:
    __slots__ = ("counts", "current", "loop", "start_position")

    def __init__(self, loop: Loop, start_position: int) -> None:
        self.loop = loop
        self.current = 0
        self.counts: dict[int, int] = {0: 1}
        self.start_position = start_position


class Walker:
    """Follows one transaction set through a guide. Feed every segment from ST to SE to ``step``."""

    __slots__ = ("check", "component", "current", "element", "guide", "key", "problems", "repetition", "stack")

    def __init__(
        self, guide: Guide, component: str, repetition: str | None, element: str = "*", *, check: bool = True
    ) -> None:
        self.guide = guide
        self.check = check
        """Whether each segment's elements are checked; without, only the loops are followed (for a
        set whose elements were checked already)."""
        self.element = element
        self.key = (element, component, repetition)
        self.component = component
        self.repetition = repetition
        self.stack: list[_Frame] = [_Frame(guide.root, 1)]
        self.problems: list[SegmentProblem] = []
        self.current: Segment | None = None
        """The segment being placed: where a missing required segment was noticed."""

    def start(self, header: Segment) -> None:
        """Check the ST segment itself (the root loop's trigger)."""
        if not self.check:
            return
        problems = self.guide.root.trigger.problems(header, self.key, self.component, self.repetition)
        if problems:
            self._report(header, 1, SegmentError.HAS_ELEMENT_ERRORS, problems)

    @property
    def loop_id(self) -> str:
        return self.stack[-1].loop.id

    def step(self, segment: Segment, position: int) -> Seg | None:
        """Place ``segment`` (``position`` counts from ST = 1); returns the guide node it matched."""
        stack = self.stack
        segment_id = segment.id
        elements = segment.elements
        size = len(elements)
        self.current = segment
        top = len(stack) - 1
        depth = top
        fallback: tuple[int, int, Seg] | None = None
        while depth >= 0:
            frame = stack[depth]
            candidates = frame.loop.fast.get(segment_id)
            if candidates is not None:
                current = frame.current
                for child_index, node, trigger, qualifier_at, qualifiers in candidates:
                    # index 0 is the frame's own trigger: seeing it again starts a new loop instance
                    if child_index < current or (child_index == 0 and depth > 0):
                        continue
                    if qualifier_at == 0 or (elements[qualifier_at] if qualifier_at < size else "") in qualifiers:
                        if depth != top:
                            self._close_to(depth, position)
                        if trigger is None:
                            return self._enter_segment(frame, child_index, node, segment, position)  # type: ignore[arg-type]
                        return self._enter_loop(frame, child_index, node, segment, position)  # type: ignore[arg-type]
                    if fallback is None:
                        fallback = (depth, child_index, trigger or node)  # type: ignore[assignment]
            depth -= 1
        if fallback is not None and fallback[0] == top:
            # The right segment with a qualifier no guide branch takes: an invalid code, not a lost segment.
            _, _, node = fallback
            problems = check_elements(segment.elements, node.rules, self.component, self.repetition)
            self._report(segment, position, SegmentError.HAS_ELEMENT_ERRORS, problems)
            return None
        if _SEGMENT_ID.match(segment_id) is None:
            error = SegmentError.UNRECOGNIZED_SEGMENT
        elif segment_id not in self.guide.segment_ids:
            error = SegmentError.NOT_IN_TRANSACTION_SET
        else:
            error = SegmentError.UNEXPECTED_SEGMENT
        self._report(segment, position, error, [])
        return None

    def finish(self, position: int) -> None:
        """Close every open loop at the end of the set (reports required segments never seen)."""
        self._close_to(0, position)
        self._missing_in(self.stack[0], position)

    # -- internals ---------------------------------------------------------------------------
    def _report(self, segment: Segment, position: int, error: SegmentError, problems: list[ElementProblem]) -> None:
        self.problems.append(
            SegmentProblem(segment.id, position, self.loop_id, error, tuple(problems), segment.number, segment.offset)
        )

    def _missing_in(self, frame: _Frame, position: int, upto: int | None = None) -> None:
        children = frame.loop.children
        end = len(children) if upto is None else upto
        current = frame.current
        for index in frame.loop.required:
            if index <= current or index >= end:
                continue
            child = children[index]
            if index not in frame.counts:
                seg_id = child.id if isinstance(child, Seg) else child.trigger.id
                at = self.current
                self.problems.append(
                    SegmentProblem(
                        seg_id,
                        position,
                        frame.loop.id,
                        SegmentError.REQUIRED_SEGMENT_MISSING,
                        (),
                        at.number if at is not None else 0,
                        at.offset if at is not None else 0,
                    )
                )

    def _close_to(self, depth: int, position: int) -> None:
        stack = self.stack
        while len(stack) - 1 > depth:
            frame = stack.pop()
            self._missing_in(frame, position)

    def _enter_segment(self, frame: _Frame, index: int, node: Seg, segment: Segment, position: int) -> Seg:
        if index != frame.current:
            self._missing_in(frame, position, index)
            frame.current = index
        counts = frame.counts
        used = counts[index] + 1 if index in counts else 1
        counts[index] = used
        if used > node.max_use:
            self._report(segment, position, SegmentError.SEGMENT_OVER_MAXIMUM_USE, [])
            return node
        if node.usage == NOT_USED:
            self._report(segment, position, SegmentError.NOT_USED_SEGMENT_PRESENT, [])
            return node
        if not self.check:
            return node
        problems = node.problems(segment, self.key, self.component, self.repetition)
        if problems:
            self._report(segment, position, SegmentError.HAS_ELEMENT_ERRORS, problems)
        return node

    def _enter_loop(self, frame: _Frame, index: int, node: Loop, segment: Segment, position: int) -> Seg:
        if index != frame.current:
            self._missing_in(frame, position, index)
            frame.current = index
        used = frame.counts.get(index, 0) + 1
        frame.counts[index] = used
        child = _Frame(node, position)
        self.stack.append(child)
        trigger = node.trigger
        if used > node.max_repeat:
            self._report(segment, position, SegmentError.LOOP_OVER_MAXIMUM, [])
            return trigger
        if not self.check:
            return trigger
        problems = trigger.problems(segment, self.key, self.component, self.repetition)
        if problems:
            self._report(segment, position, SegmentError.HAS_ELEMENT_ERRORS, problems)
        return trigger
