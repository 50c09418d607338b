import io
import json
import logging

from olly.platform.logging import REDACTED, configure_logging, get_logger, scrub_value


def test_scrubber_redacts_phi_shaped_values_and_keys() -> None:
    assert scrub_value("ssn 123-45-6789 on file") == f"ssn {REDACTED} on file"
    assert scrub_value("member 123456789") == f"member {REDACTED}"
    assert scrub_value("write to jane.doe@example.com") == f"write to {REDACTED}"
    assert scrub_value("call (555) 123-4567") == f"call {REDACTED}"
    assert scrub_value("born 1980-04-12") == f"born {REDACTED}"
    assert scrub_value({"dob": "x", "nested": {"email": "y", "count": 3}}) == {
        "dob": REDACTED,
        "nested": {"email": REDACTED, "count": 3},
    }
    assert scrub_value("claim 01a2 status APPROVED") == "claim 01a2 status APPROVED"


def test_log_lines_are_json_with_request_id_and_no_phi() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    import structlog

    structlog.contextvars.bind_contextvars(request_id="req-12345678")
    try:
        get_logger("test").info("lookup", ssn="123-45-6789", note="for 987-65-4321", count=2)
        logging.getLogger("uvicorn.error").warning("oops jane@example.com")
    finally:
        structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["request_id"] == "req-12345678"
    assert lines[0]["ssn"] == REDACTED
    assert lines[0]["note"] == f"for {REDACTED}"
    assert lines[0]["count"] == 2
    assert lines[1]["event"] == f"oops {REDACTED}"
    text = stream.getvalue()
    assert "123-45-6789" not in text and "987-65-4321" not in text and "jane@example.com" not in text
