from __future__ import annotations

import io

import pytest

from olly.edi.syntax import Delimiters, SegmentReader, X12SyntaxError, parse_isa, read_segments
from tests.unit.edi.conftest import fixture_bytes

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260114*1200*^*00501*000000001*0*P*:~"
BODY = (
    "GS*HC*S*R*20260114*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019*00*1*20260114*1200*CH~"
    "SE*3*0001~GE*1*1~IEA*1*000000001~"
)


def test_delimiters_come_from_the_fixed_width_isa() -> None:
    delimiters, elements = parse_isa(ISA.encode())
    assert delimiters == Delimiters(element="*", component=":", segment="~", repetition="^")
    assert elements[5] == "SENDER         "
    assert elements[12] == "000000001"
    assert len(elements) == 16


def test_other_delimiters_are_read_from_the_isa() -> None:
    text = ISA.replace("*", "|").replace("^", "!").replace(":~", ">\n") + BODY.replace("*", "|").replace("~", "\n")
    segments = list(read_segments(text.encode()))
    assert [s.id for s in segments] == ["ISA", "GS", "ST", "BHT", "SE", "GE", "IEA"]
    assert segments[3][6] == "CH"


def test_a_letter_in_isa11_is_the_4010_standards_id_not_a_separator() -> None:
    delimiters, _ = parse_isa(ISA.replace("*^*", "*U*").encode())
    assert delimiters.repetition is None


def test_bom_line_breaks_and_indentation_between_segments_are_tolerated() -> None:
    plain = list(read_segments((ISA + BODY).encode()))
    messy_text = "\ufeff  \r\n" + ISA + "\r\n" + BODY.replace("~", "~\r\n    ")
    messy = list(read_segments(messy_text.encode("utf-8")))
    assert [s.elements for s in messy] == [s.elements for s in plain]
    assert messy[0].offset == 3 + 4  # after the BOM and the blank line
    assert messy[1].offset == messy_text.encode().index(b"GS*")


def test_chunked_reading_gives_the_same_segments_and_offsets_at_any_chunk_size() -> None:
    data = fixture_bytes("x12_complex.txt")
    whole = [(s.elements, s.number, s.offset) for s in SegmentReader(data)]
    for size in (1, 7, 106, 4096):
        assert [(s.elements, s.number, s.offset) for s in SegmentReader(io.BytesIO(data), chunk_size=size)] == whole
    assert len(whole) == 298
    assert all(data[offset : offset + len(e[0])].decode() == e[0] for e, _, offset in whole)


def test_every_segment_knows_its_number_and_byte_offset() -> None:
    data = (ISA + BODY).encode()
    segments = list(read_segments(data))
    assert [s.number for s in segments] == [1, 2, 3, 4, 5, 6, 7]
    assert segments[2].offset == data.index(b"ST*")
    assert "0001" not in repr(segments[2])  # the representation carries no data values


def test_two_interchanges_with_different_delimiters_in_one_file() -> None:
    second = (ISA + BODY).replace("*", "|").replace("~", "!")
    second = second.replace("|^|", "|^|")
    segments = list(read_segments(((ISA + BODY) + "\n" + second).encode()))
    assert [s.id for s in segments].count("ISA") == 2
    assert segments[-1].elements == ["IEA", "1", "000000001"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "isa_missing"),
        (b"hello world, this is not an X12 file at all" * 4, "isa_missing"),
        ((ISA[:50] + ISA[51:] + "X").encode(), "invalid_element_separator"),
        (ISA.replace(":~", "*~").encode() + BODY.encode(), "invalid_component"),
    ],
)
def test_unreadable_input_raises_a_syntax_error_with_its_position(data: bytes, reason: str) -> None:
    with pytest.raises(X12SyntaxError) as caught:
        list(read_segments(data))
    assert caught.value.reason == reason
    assert caught.value.segment_number == 1


def test_a_runaway_segment_is_refused_with_its_position_instead_of_growing_memory() -> None:
    data = (ISA + "GS*" + "A" * 200_000).encode()
    reader = SegmentReader(data, chunk_size=4096, max_segment_bytes=65536)
    with pytest.raises(X12SyntaxError) as caught:
        list(reader)
    assert caught.value.reason == "segment_too_long"
    assert caught.value.segment_number == 2
    assert caught.value.offset == 106


def test_a_last_segment_without_terminator_is_still_handed_on() -> None:
    segments = list(read_segments((ISA + BODY[:-1]).encode()))
    assert segments[-1].elements == ["IEA", "1", "000000001"]


def test_an_isa_before_the_previous_iea_starts_a_new_interchange() -> None:
    # found by fuzzing: the second ISA must be read as a fixed-width header, not as a data segment
    first = ISA + BODY.replace("GE*1*1~IEA*1*000000001~", "")
    second = (ISA + BODY).replace("000000001", "000000002")
    segments = list(read_segments((first + "\n" + second).encode()))
    isa = [s for s in segments if s.id == "ISA"]
    assert [s.elements[13] for s in isa] == ["000000001", "000000002"]
    assert all(len(s.elements) == 17 for s in isa)
