"""The fast JSON codec: compact UTF-8 out, and every text the json module wrote reads back equal."""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from olly.platform import jsonfast

CLAIM_EVENT: dict[str, Any] = {
    "eventType": "CLAIM_APPROVED",
    "schemaVersion": "1.0",
    "claimId": "01a20d0d-4517-778c-b4ba-56583951433d",
    "status": "APPROVED",
    "paidAmount": "95.22",
    "lines": [{"lineNumber": 1, "carc": None, "isEmergency": False}],
    "patientName": "Zoë Ångström-Núñez 山田 😀",
}

#: The value shapes the hot paths carry, plus the edges JSON allows (empty, unicode, negative, nested).
VALUES: list[Any] = [
    CLAIM_EVENT,
    {},
    [],
    "",
    "Española",
    0,
    -1,
    2**63 - 1,
    -(2**63),
    2**64 - 1,
    0.5,
    -0.0,
    True,
    None,
    {"b": {"d": [1, {"f": 2, "e": 3}], "c": None}, "a": '\u00e9\u2028\t"\\/'},
    [["2026-01-01", None], ["2026-02-01", "2026-12-31"]],
]

#: What the former encoders wrote for a value: the outbox and the JSON codec (compact, UTF-8),
#: sealed JSON columns (compact, sorted, ASCII escapes), SQLAlchemy and psycopg (``json.dumps``).
FORMER_ENCODERS: dict[str, Any] = {
    "outbox": lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode(),
    "sealed": lambda v: json.dumps(v, separators=(",", ":"), sort_keys=True).encode(),
    "column": json.dumps,
}


def same(left: Any, right: Any) -> bool:
    """Equal, with the same types all the way down (1 is not 1.0) and NaN equal to NaN."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right) and repr(left) == repr(right)


def test_the_output_is_compact_utf8_with_keys_in_the_order_given() -> None:
    assert jsonfast.dumps({"b": 1, "a": ["é", None, True, 0.5]}) == b'{"b":1,"a":["\xc3\xa9",null,true,0.5]}'
    assert jsonfast.dumps_text({"name": "Zoë 山田"}) == '{"name":"Zoë 山田"}'


@pytest.mark.parametrize("value", VALUES)
def test_the_bytes_are_the_json_modules_compact_utf8_form(value: Any) -> None:
    assert jsonfast.dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    assert jsonfast.dumps_text(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert jsonfast.dumps(value, sort_keys=True) == (
        json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    )


def test_sorted_keys_are_sorted_at_every_depth() -> None:
    value = {"b": {"z": 1, "y": [{"d": 1, "c": 2}]}, "a": 0, "É": 1, "Z": 2}
    assert jsonfast.dumps(value, sort_keys=True) == '{"Z":2,"a":0,"b":{"y":[{"c":2,"d":1}],"z":1},"É":1}'.encode()


@pytest.mark.parametrize("value", VALUES)
def test_round_trip(value: Any) -> None:
    assert same(jsonfast.loads(jsonfast.dumps(value)), value)
    assert same(jsonfast.loads(jsonfast.dumps_text(value)), value)
    assert same(jsonfast.loads(jsonfast.dumps(value, sort_keys=True)), json.loads(json.dumps(value, sort_keys=True)))


@pytest.mark.parametrize("encoder", FORMER_ENCODERS)
@pytest.mark.parametrize("value", VALUES)
def test_what_the_former_encoders_wrote_reads_back_as_the_json_module_reads_it(encoder: str, value: Any) -> None:
    written = FORMER_ENCODERS[encoder](value)
    text = written if isinstance(written, str) else written.decode()
    raw = text.encode()
    for form in (raw, text, bytearray(raw), memoryview(raw)):
        assert same(jsonfast.loads(form), json.loads(text))
        assert jsonfast.loads(form) == value


# Texts the json module writes or reads that orjson refuses or reads otherwise: each reads as json reads it.
EDGE_TEXTS: list[str] = [
    "NaN",
    '{"ratio":NaN,"top":Infinity,"bottom":-Infinity}',
    "1e400",
    "-1e400",
    str(2**64),
    str(-(2**63) - 1),
    str(2**70),
    "[123456789012345678901234567890, -123456789012345678901234567890]",
    '{"id":"1234567890123456789012"}',
    "0.1000000000000000055511151231257827",
    '"\\ud800"',
    '{"lone":"\\udfff tail"}',
    '"\\ud83d\\ude00"',
    '{"a":1,"a":2}',
]


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_edge_texts_read_as_the_json_module_reads_them(text: str) -> None:
    assert same(jsonfast.loads(text), json.loads(text))
    assert same(jsonfast.loads(text.encode("utf-8", "surrogatepass")), json.loads(text))


def test_big_integers_stay_exact_integers() -> None:
    assert jsonfast.loads(b'{"n":18446744073709551616}') == {"n": 2**64}
    assert type(jsonfast.loads(b"[-9223372036854775809]")[0]) is int
    assert jsonfast.loads(jsonfast.dumps({"n": 2**70, "m": -(2**70)})) == {"n": 2**70, "m": -(2**70)}


def test_a_byte_order_mark_reads_as_the_json_module_reads_it() -> None:
    assert jsonfast.loads(b'\xef\xbb\xbf{"a":1}') == {"a": 1}


def test_values_orjson_refuses_encode_as_the_json_module_did() -> None:
    assert jsonfast.dumps({1: "a", 2.5: "b", None: "c", False: "d"}) == b'{"1":"a","2.5":"b","null":"c","false":"d"}'
    assert jsonfast.dumps({2: "b", 1: "a"}, sort_keys=True) == b'{"1":"a","2":"b"}'
    assert jsonfast.dumps([2**64, -(2**63) - 1]) == b"[18446744073709551616,-9223372036854775809]"
    # a lone surrogate leaves as an ASCII escape (encodable) and comes back as itself
    assert jsonfast.dumps({"s": "\ud800é"}) == b'{"s":"\\ud800\\u00e9"}'
    assert jsonfast.loads(jsonfast.dumps_text({"s": "\ud800é"})) == {"s": "\ud800é"}
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    assert jsonfast.dumps(deep) == b"[" * 301 + b"]" * 301


@dataclasses.dataclass
class _Point:
    x: int


@pytest.mark.parametrize(
    "value", [datetime(2026, 1, 2, tzinfo=UTC), date(2026, 1, 2), _Point(1), {"when": date(2026, 1, 2)}, object()]
)
def test_what_the_json_module_refused_is_still_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match="is not JSON serializable"):
        jsonfast.dumps(value)
    with pytest.raises(TypeError, match="is not JSON serializable"):
        jsonfast.dumps(value, sort_keys=True)


def test_keys_of_mixed_types_cannot_be_sorted_as_before() -> None:
    with pytest.raises(TypeError, match="not supported between instances"):
        jsonfast.dumps({1: "a", "b": 2}, sort_keys=True)


def test_only_text_or_bytes_are_read() -> None:
    # SQLAlchemy's SQLite JSON type passes a bare number stored in a JSON column through on this TypeError.
    with pytest.raises(TypeError, match="must be str, bytes or bytearray, not int"):
        jsonfast.loads(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "{", '{"a":}', "[1,]", "nul", b"\xff\xfe{".decode("latin-1")])
def test_malformed_text_is_a_json_decode_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        jsonfast.loads(text)


def test_a_uuid_is_written_as_its_string() -> None:
    # json refused a UUID; orjson writes str(uuid). No caller passes one (payloads are JSON-ready).
    value = uuid.UUID("01a20d0d-4517-778c-b4ba-56583951433d")
    assert jsonfast.dumps([value]) == b'["01a20d0d-4517-778c-b4ba-56583951433d"]'


def test_non_finite_floats_are_written_as_null() -> None:
    # json wrote the non-standard NaN/Infinity tokens (PostgreSQL's json type refuses them); no path
    # this codec serves carries a float (money is decimal strings, counts are ints).
    assert jsonfast.dumps([math.nan, math.inf, -math.inf]) == b"[null,null,null]"
