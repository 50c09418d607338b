"""The X12 tokenizer: bytes in, segments out, in constant memory.

Delimiters come from the interchange header, which X12 fixes at 106 characters: the element
separator is the 4th character, the repetition separator ISA11 the 83rd, the component separator
ISA16 the 105th and the segment terminator the 106th. Real files add a UTF-8 byte-order mark, line
breaks or indentation between segments: whitespace before a segment and CR/LF after it are dropped.

The reader pulls fixed-size chunks, splits each on the terminator in C (``bytes.split``), and
keeps only the unfinished tail, so memory stays flat whatever the file size. Every segment knows
its ordinal number in the file and the byte offset where it starts, and so does every error.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from olly.kernel.errors import OllyError

ISA_LENGTH: Final = 106
CHUNK_SIZE: Final = 1 << 20
#: Longest segment accepted before the reader gives up on finding a terminator (a binary file, a
#: wrong terminator): keeps a garbage file from growing the carry buffer without bound.
MAX_SEGMENT_BYTES: Final = 1 << 16
_BOM: Final = b"\xef\xbb\xbf"
_WHITESPACE: Final = b" \t\r\n\x0b\x0c"
# (start, end) of each ISA element inside the fixed-width header, counting "ISA" as 0..2.
ISA_FIELDS: Final = (
    (4, 6),
    (7, 17),
    (18, 20),
    (21, 31),
    (32, 34),
    (35, 50),
    (51, 53),
    (54, 69),
    (70, 76),
    (77, 81),
    (82, 83),
    (84, 89),
    (90, 99),
    (100, 101),
    (102, 103),
    (104, 105),
)


class X12SyntaxError(OllyError):
    """The bytes cannot be read as X12 at all (no usable ISA, a runaway segment)."""

    status = 422
    code = "x12_syntax_error"
    title = "The file is not readable X12"

    def __init__(self, detail: str, *, segment_number: int, offset: int, reason: str) -> None:
        super().__init__(
            f"{detail} (segment {segment_number}, byte {offset})",
            extra={"segmentNumber": segment_number, "byteOffset": offset, "reason": reason},
        )
        self.segment_number = segment_number
        self.offset = offset
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    component: str
    segment: str
    repetition: str | None = None
    """``None`` when ISA11 is not a separator (the 4010 habit of sending ``U`` there)."""

    @classmethod
    def default(cls) -> Delimiters:
        return cls(element="*", component=":", segment="~", repetition="^")


class Segment:
    """One segment: ``elements[0]`` is the segment id, so ``seg[1]`` is XX01 as the guides number it."""

    __slots__ = ("elements", "id", "number", "offset", "raw_length", "text")

    def __init__(self, elements: list[str], number: int, offset: int, raw_length: int, text: str = "") -> None:
        self.elements = elements
        self.text = text
        """The segment as received, without its terminator (for the validator's fast path)."""
        self.id = elements[0]
        self.number = number
        """1-based position in the file (ISA is 1)."""
        self.offset = offset
        """Byte offset of the segment's first character."""
        self.raw_length = raw_length

    def __getitem__(self, index: int) -> str:
        elements = self.elements
        return elements[index] if index < len(elements) else ""

    def get(self, index: int) -> str:
        return self[index]

    def __len__(self) -> int:
        return len(self.elements)

    def __repr__(self) -> str:
        # Values may be PHI: the representation names the segment and where it is, never its data.
        return f"Segment({self.id!r}, number={self.number}, offset={self.offset}, elements={len(self.elements) - 1})"


def _open(source: str | os.PathLike[str] | bytes | BinaryIO) -> tuple[BinaryIO, bool]:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, str | os.PathLike):
        return Path(source).open("rb"), True
    return source, False


def parse_isa(header: bytes, *, offset: int = 0, segment_number: int = 1) -> tuple[Delimiters, list[str]]:
    """Delimiters and the 16 ISA elements from a 106-byte header; raises ``X12SyntaxError`` if malformed."""
    if len(header) < ISA_LENGTH or not header.startswith(b"ISA"):
        raise X12SyntaxError(
            "the interchange does not start with a 106-character ISA segment",
            segment_number=segment_number,
            offset=offset,
            reason="isa_missing",
        )
    try:
        text = header[:ISA_LENGTH].decode("ascii")
    except UnicodeDecodeError:
        raise X12SyntaxError(
            "the ISA segment has non-ASCII characters",
            segment_number=segment_number,
            offset=offset,
            reason="isa_invalid",
        ) from None
    separator = text[3]
    separators_at = [end for _, end in ISA_FIELDS[:-1]]
    if separator.isalnum() or separator.isspace() or any(text[i] != separator for i in separators_at):
        raise X12SyntaxError(
            "the ISA segment is not fixed-width or its element separator is invalid",
            segment_number=segment_number,
            offset=offset,
            reason="invalid_element_separator",
        )
    component, terminator, repetition = text[104], text[105], text[82]
    if component.isalnum() or component in (separator, terminator) or component == " ":
        raise X12SyntaxError(
            "the ISA16 component separator is invalid",
            segment_number=segment_number,
            offset=offset,
            reason="invalid_component",
        )
    if terminator.isalnum() or terminator in (separator, " "):
        raise X12SyntaxError(
            "the segment terminator is invalid",
            segment_number=segment_number,
            offset=offset,
            reason="invalid_terminator",
        )
    # 4010 put the standards identifier "U" in ISA11; senders still do in 5010 files. A letter or
    # digit there cannot be a separator without corrupting data, so it is read as "no repetition".
    repetition_separator: str | None = repetition
    if repetition.isalnum() or repetition in (separator, component, terminator, " "):
        repetition_separator = None
    elements = [text[start:end] for start, end in ISA_FIELDS]
    return Delimiters(separator, component, terminator, repetition_separator), elements


class SegmentReader:
    """Iterate the segments of one file (any number of interchanges), reading ``chunk_size`` bytes at a time.

    ``delimiters`` is set once the first ISA has been read; a later interchange with other delimiters
    switches them. Bytes that cannot be tokenized raise ``X12SyntaxError`` carrying the position.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | bytes | BinaryIO,
        *,
        chunk_size: int = CHUNK_SIZE,
        max_segment_bytes: int = MAX_SEGMENT_BYTES,
    ) -> None:
        self._stream, self._owned = _open(source)
        self._chunk_size = chunk_size
        self._max_segment = max_segment_bytes
        self.delimiters: Delimiters | None = None
        self.bytes_read = 0
        """Bytes consumed so far (for progress bars)."""
        self.segments_read = 0

    def close(self) -> None:
        if self._owned:
            self._stream.close()

    def __enter__(self) -> SegmentReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> bytes:
        chunk = self._stream.read(self._chunk_size)
        self.bytes_read += len(chunk)
        return chunk

    def __iter__(self) -> Iterator[Segment]:
        try:
            yield from self._segments()
        finally:
            self.close()

    def _segments(self) -> Iterator[Segment]:
        buffer = self._read()
        offset = 0  # absolute offset of buffer[0]
        if buffer.startswith(_BOM):
            buffer, offset = buffer[3:], 3
        number = 0
        while True:
            # -- find the next ISA, skipping whitespace; anything else here is not X12 -----------
            while True:
                stripped = buffer.lstrip(_WHITESPACE)
                offset += len(buffer) - len(stripped)
                buffer = stripped
                if len(buffer) >= ISA_LENGTH:
                    break
                more = self._read()
                if not more:
                    break
                buffer += more
            if not buffer:
                if number == 0:
                    raise X12SyntaxError("the file is empty", segment_number=1, offset=offset, reason="isa_missing")
                return
            delimiters, isa_elements = parse_isa(buffer, offset=offset, segment_number=number + 1)
            self.delimiters = delimiters
            number += 1
            self.segments_read = number
            yield Segment(["ISA", *isa_elements], number, offset, ISA_LENGTH, buffer[: ISA_LENGTH - 1].decode("ascii"))
            buffer = buffer[ISA_LENGTH:]
            offset += ISA_LENGTH
            # -- segments until IEA -------------------------------------------------------------
            terminator = delimiters.segment.encode("ascii")
            separator = delimiters.element
            separator_byte = separator.encode("ascii")
            max_segment = self._max_segment
            finished_interchange = False
            while not finished_interchange:
                parts = buffer.split(terminator)
                carry = parts.pop()
                consumed = 0
                for index, part in enumerate(parts):
                    body = part.lstrip(_WHITESPACE)
                    start = offset + consumed + len(part) - len(body)
                    consumed += len(part) + 1
                    if not body:
                        continue
                    if body[-1] in b"\r\n":
                        body = body.rstrip(b"\r\n")
                    if body.startswith(b"ISA") and len(body) > 3 and body[3:4] == separator_byte:
                        # A new interchange before this one's IEA: re-read it as a fixed-width header
                        # (its delimiters may differ); the validator reports the missing IEA.
                        rest = terminator.join(parts[index + 1 :])
                        head = part.lstrip(_WHITESPACE)
                        buffer = head + terminator + (rest + terminator + carry if index + 1 < len(parts) else carry)
                        offset = start
                        finished_interchange = True
                        break
                    try:
                        text = body.decode("utf-8")
                    except UnicodeDecodeError:
                        # Keep the segment (so the validator can report it) with replacement characters.
                        text = body.decode("utf-8", "replace")
                    number += 1
                    elements = text.split(separator)
                    yield Segment(elements, number, start, len(body), text)
                    if elements[0] == "IEA":
                        # The rest may be another interchange with other delimiters: re-scan it.
                        rest = terminator.join(parts[index + 1 :])
                        buffer = (rest + terminator + carry) if index + 1 < len(parts) else carry
                        offset += consumed
                        finished_interchange = True
                        break
                if finished_interchange:
                    self.segments_read = number
                    break
                self.segments_read = number
                offset += consumed
                more = self._read()
                if not more:
                    tail = carry.strip(_WHITESPACE)
                    if tail:
                        # A last segment without its terminator: hand it on; the envelope check reports it.
                        start = offset + (len(carry) - len(carry.lstrip(_WHITESPACE)))
                        number += 1
                        self.segments_read = number
                        text = tail.decode("utf-8", "replace")
                        yield Segment(text.split(separator), number, start, len(tail), text)
                    return
                if len(carry) > max_segment:
                    raise X12SyntaxError(
                        "a segment is longer than the limit: wrong terminator or not an X12 file",
                        segment_number=number + 1,
                        offset=offset,
                        reason="segment_too_long",
                    )
                buffer = carry + more
            # the loop above left `buffer` at the first byte after the IEA terminator
            if not buffer.strip(_WHITESPACE):
                more = self._read()
                if not more:
                    return
                offset += len(buffer)
                buffer = more


def read_segments(
    source: str | os.PathLike[str] | bytes | BinaryIO, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[Segment]:
    """Shorthand for ``iter(SegmentReader(source))``."""
    return iter(SegmentReader(source, chunk_size=chunk_size))
