"""Structured JSON logs with a request id on every line and PHI scrubbed before anything is written.

The scrubber is a last line of defence: code must not log PHI in the first place. It redacts the
values of keys that name personal data, and anything in any value that looks like an SSN, an
e-mail address, a phone number or a date of birth.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

import structlog

REDACTED: Final = "[redacted]"

_SENSITIVE_KEYS: Final = re.compile(
    r"(ssn|social|dob|birth|first_?name|last_?name|full_?name|given|family_?name|address|street|postal|zip|"
    r"phone|email|e_mail|password|secret|token|authorization|cookie|diagnos|icd|member_?number|subscriber_?id|"
    r"national_?id|mrn)",
    re.IGNORECASE,
)
_PATTERNS: Final = (
    re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),  # SSN with dashes
    re.compile(r"(?<!\d)\d{9}(?!\d)"),  # nine bare digits (SSN, member id)
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),  # e-mail
    re.compile(r"(?<!\d)(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\d)"),  # phone
    re.compile(r"\b(?:19|20)\d{2}-\d{2}-\d{2}\b(?!T)"),  # bare ISO dates (dates of birth, service dates)
)
_SAFE_KEYS: Final = frozenset({"event", "timestamp", "level", "logger", "request_id", "method", "path", "status"})


def scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        for pattern in _PATTERNS:
            value = pattern.sub(REDACTED, value)
        return value
    if isinstance(value, Mapping):
        return {k: (REDACTED if _SENSITIVE_KEYS.search(str(k)) else scrub_value(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(v) for v in value]
    return value


def scrub_phi(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in _SAFE_KEYS and key != "event":
            continue
        if key != "event" and _SENSITIVE_KEYS.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = scrub_value(event_dict[key])
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    """Route structlog and the standard library (uvicorn, SQLAlchemy) through one JSON pipeline."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        scrub_phi,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        # Below the level, a line is dropped before anything is computed for it (every request logs
        # an access line at INFO; a WARNING server used to build, time-stamp and scrub each one).
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # uvicorn's access log prints query strings, which can carry identifiers: Olly logs its own line.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
