"""Passwords: argon2id hashing and the NIST SP 800-63B rules for choosing one.

* Length is what counts: at least 8 characters (15 for staff, whose accounts open every member's
  records), at most 128, any characters (Unicode is NFKC-normalised, spaces kept). No composition
  rules, no periodic expiry.
* Refused: passwords on the bundled list of common ones, the same after removing leetspeak and the
  digits and symbols people append, runs of one character, sequences, and words from the context
  (the service's name, the person's e-mail).
* Hashes are argon2id (RFC 9106 parameters by default); a hash made with weaker parameters is
  replaced at the next successful sign-in.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from olly.kernel.errors import FieldError, ValidationFailed

MAX_LENGTH: Final = 128
_LEET: Final = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_TRAILING: Final = re.compile(r"[\d\W_]{1,6}$")
_LEADING: Final = re.compile(r"^[\d\W_]{1,4}")
_CONTEXT_WORDS: Final = ("olly", "ollyhealth", "healthplan", "insurance")
_SEQUENCES: Final = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm",
)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("olly.platform.auth").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def _core(password: str) -> str:
    lowered = password.casefold()
    stripped = _LEADING.sub("", _TRAILING.sub("", lowered))
    return stripped.translate(_LEET)


def _is_run_or_sequence(lowered: str) -> bool:
    if len(set(lowered)) <= 2:
        return True
    for sequence in _SEQUENCES:
        for text in (sequence, sequence[::-1]):
            if lowered in text:
                return True
    return False


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = MAX_LENGTH

    def problems(self, password: str, context: tuple[str, ...] = ()) -> list[FieldError]:
        """Every rule ``password`` breaks (empty when acceptable). Messages never echo the password."""
        password = normalise(password)
        if len(password) < self.min_length:
            return [FieldError("password", f"must be at least {self.min_length} characters", "too_short")]
        if len(password) > self.max_length:
            return [FieldError("password", f"must be at most {self.max_length} characters", "too_long")]
        lowered = password.casefold()
        core = _core(password)
        listed = common_passwords()
        if lowered in listed or lowered.translate(_LEET) in listed or core in listed or f"{core}1" in listed:
            return [FieldError("password", "is too common: it appears on lists of breached passwords", "common")]
        if _is_run_or_sequence(lowered):
            return [FieldError("password", "is a run of repeated or sequential characters", "sequence")]
        words = [w.casefold() for w in (*_CONTEXT_WORDS, *context) if len(w) >= 4]
        if any(core == w or lowered == w for w in words) or any(
            w in lowered and len(lowered) - len(w) < 4 for w in words
        ):
            return [FieldError("password", "is built on your name, e-mail or this service's name", "context")]
        return []

    def check(self, password: str, context: tuple[str, ...] = ()) -> None:
        problems = self.problems(password, context)
        if problems:
            raise ValidationFailed(problems)


def context_words(email: str | None) -> tuple[str, ...]:
    """Words from an e-mail address a password must not be built on."""
    if not email:
        return ()
    local, _, domain = email.casefold().partition("@")
    parts = [local, *re.split(r"[._+-]", local), domain.split(".")[0]]
    return tuple(p for p in parts if len(p) >= 4)


class PasswordHashing:
    """argon2id with the parameters from settings (which refuse anything below OWASP's floor of
    19 MiB and 2 passes; tests bypass the settings to hash in a millisecond)."""

    def __init__(self, memory_kib: int = 65536, time_cost: int = 3, parallelism: int = 4) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        # Verified when an account is unknown or has no password, so both take as long as a real check.
        self._dummy = self._hasher.hash("olly-timing-equaliser-not-a-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(normalise(password))

    def verify(self, stored: str | None, password: str) -> bool:
        candidate = normalise(password)
        if stored is None:
            self._spend_time(candidate)
            return False
        try:
            return self._hasher.verify(stored, candidate)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True

    def _spend_time(self, candidate: str) -> None:
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy, candidate)
