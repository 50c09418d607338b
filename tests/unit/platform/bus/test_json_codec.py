"""The JSON value codec of the Kafka transport: compact UTF-8 out, any JSON object in."""

from __future__ import annotations

import json

import pytest

from olly.platform.bus.serialization import JsonCodec

TOPIC = "claims.claim.adjudicated"
PAYLOAD = {"eventType": "CLAIM_APPROVED", "schemaVersion": "1.0", "paidAmount": "95.22", "note": "Zoë", "lines": [1]}


def test_encode_writes_the_same_bytes_as_before() -> None:
    encoded = JsonCodec().encode(TOPIC, PAYLOAD)
    assert encoded == json.dumps(PAYLOAD, separators=(",", ":"), ensure_ascii=False).encode()
    assert encoded == (
        b'{"eventType":"CLAIM_APPROVED","schemaVersion":"1.0","paidAmount":"95.22","note":"Zo\xc3\xab","lines":[1]}'
    )


@pytest.mark.parametrize(
    "value",
    [
        json.dumps(PAYLOAD, separators=(",", ":"), ensure_ascii=False).encode(),
        json.dumps(PAYLOAD).encode(),  # another producer's style: spaces, ASCII escapes
        json.dumps(PAYLOAD, indent=2).encode(),
    ],
)
def test_decode_reads_any_json_object(value: bytes) -> None:
    assert JsonCodec().decode(TOPIC, value) == PAYLOAD


@pytest.mark.parametrize("value", [b"[1,2]", b'"text"', b"null"])
def test_decode_refuses_what_is_not_an_object(value: bytes) -> None:
    with pytest.raises(ValueError, match="a message value must be a JSON object"):
        JsonCodec().decode(TOPIC, value)


def test_decode_refuses_malformed_json() -> None:
    with pytest.raises(json.JSONDecodeError):
        JsonCodec().decode(TOPIC, b'{"eventType":')
