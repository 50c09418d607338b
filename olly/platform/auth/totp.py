"""Time-based one-time passwords (RFC 6238) and single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Final

import pyotp

ISSUER_NAME: Final = "Olly"
STEP_SECONDS: Final = 30
DRIFT_STEPS: Final = 1
"""Accept the previous and the next 30-second step: clocks drift, phones lag."""
RECOVERY_CODES: Final = 10
_RECOVERY_ALPHABET: Final = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U


def new_secret() -> str:
    return pyotp.random_base32(length=32)  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, account_label: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=account_label, issuer_name=ISSUER_NAME)


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).at(when)


def matching_step(secret: str, code: str, when: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, if valid now and newer than ``last_step`` (no replay)."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(when.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Codes like ``K7QM-2XWP-9HNA-TC4R``: 80 bits each, shown once, stored as digests."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_digest(code: str) -> str:
    canonical = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(b"olly-recovery-code|" + canonical.encode()).hexdigest()
