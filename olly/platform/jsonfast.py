"""JSON for the paths that store and carry data: bus payloads and headers, sealed JSON columns and
the database's JSON columns.

orjson does the work (on these paths' values it encodes 8 to 12 times and decodes about twice as fast
as the ``json`` module); ``json`` takes over wherever orjson would refuse a value ``json`` took or
read a text differently, so a value encodes to the same JSON data as before and every text the
``json`` module wrote reads back equal:

* encoding: dict keys that are not strings, ints beyond 64 bits, strings with lone surrogates and
  nesting deeper than 254 go through ``json`` (so do datetimes and dataclasses, which ``json``
  refused and still refuses with a ``TypeError``);
* decoding: ``NaN``/``Infinity``, numbers beyond a double, lone surrogate escapes and a byte-order
  mark (orjson refuses them), and any run of 19 or more digits (orjson would read an integer beyond
  64 bits as a float) go through ``json``.

The output is compact UTF-8, not ``\\uXXXX`` escapes. orjson writes two kinds of value otherwise
than ``json``, and no caller passes either: a NaN or an infinity becomes ``null`` (``json`` wrote the
non-standard ``NaN``, which PostgreSQL's json type refuses) and a UUID or a plain Enum its value
(``json`` refused them). The values these paths carry are JSON-ready: money as decimal strings, no
float.

Never use this for bytes that are hashed, signed or compared: those keep their own ``json`` encoders
(the audit chain's canonical JSON, the claims idempotency hash, the plan document hash, the Avro
schema fingerprints).
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

# A datetime or a dataclass goes to the (absent) default hook, so orjson refuses it and ``json``
# raises the TypeError it always raised, rather than orjson quietly writing an ISO string or a dict.
_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_SORTED_OPTIONS: Final = _OPTIONS | orjson.OPT_SORT_KEYS

#: Every byte to a space except the ASCII digits (to "0"), to find a long run of digits at C speed.
_DIGITS_ONLY: Final = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
#: orjson reads an integer below -2**63 or from 2**64 up as a float; either has 19 digits or more.
_WIDE_NUMBER: Final = b"0" * 19


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    """``value`` as compact UTF-8 JSON, object keys sorted when ``sort_keys``."""
    try:
        return orjson.dumps(value, option=_SORTED_OPTIONS if sort_keys else _OPTIONS)
    except orjson.JSONEncodeError:
        # ASCII escapes keep a lone surrogate encodable; the text reads back to the same value.
        return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys).encode()


def dumps_text(value: Any) -> str:
    """``dumps`` as a ``str``, for text columns."""
    return dumps(value).decode()


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """The value of a JSON text, equal to what ``json.loads`` reads from it.

    Anything but text or bytes is a ``TypeError``, as with ``json.loads`` (SQLAlchemy's SQLite JSON
    type counts on it to pass a bare number through)."""
    if isinstance(data, bytes):
        raw = data
    elif isinstance(data, str):
        raw = data.encode("utf-8", "surrogatepass")
    elif isinstance(data, (bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise TypeError(f"the JSON object must be str, bytes or bytearray, not {type(data).__name__}")
    if _WIDE_NUMBER not in raw.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw if isinstance(data, memoryview) else data)
