"""Consent and erasure rules: pure decisions over frozen facts.

Retention: a deletion request erases what no law makes the plan keep, and pseudonymises the rest
until its retention period ends. The periods (years from the record's date) are the defaults
below; a plan administrator may lengthen them, never shorten them below the legal minimum:

| category      | years | why                                                                     |
|---------------|-------|-------------------------------------------------------------------------|
| claim         | 6     | ERISA §107 (29 U.S.C. 1027) and state claim-record laws; HIPAA 6-year rule |
| prior_auth    | 6     | part of the claim record                                                |
| enrollment    | 6     | ERISA §107; ACA enrollment records                                      |
| billing       | 7     | premium and payment records: tax and financial audit                    |
| consent (app) | 6     | HIPAA 45 CFR 164.508(b)(6), 164.530(j): signed authorisations           |
| access_log    | 6     | HIPAA 45 CFR 164.316(b)(2): documentation of access to PHI             |
| everything else | —   | no duty to keep: deleted                                                |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from olly.kernel.periods import add_months


class Disposition(StrEnum):
    DELETE = "deleted"
    PSEUDONYMISE = "pseudonymised"


@dataclass(frozen=True, slots=True)
class Retention:
    years: int
    legal_basis: str


RETENTION: Final[dict[str, Retention]] = {
    "claim": Retention(6, "ERISA §107 (29 U.S.C. 1027); state claim-record retention; minimum 6 years"),
    "prior_auth": Retention(6, "part of the claim record: ERISA §107; minimum 6 years"),
    "enrollment": Retention(6, "ERISA §107 (29 U.S.C. 1027); minimum 6 years"),
    "billing": Retention(7, "premium and payment records kept 7 years for tax and financial audit"),
    "access_log": Retention(6, "HIPAA 45 CFR 164.316(b)(2): documentation kept 6 years"),
}
AUTHORISATION_RETENTION: Final = Retention(6, "HIPAA 45 CFR 164.508(b)(6), 164.530(j): authorisations kept 6 years")


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What retention needs to know about one record a domain found."""

    category: str
    record_type: str
    record_date: date


@dataclass(frozen=True, slots=True)
class RetentionDecision:
    disposition: Disposition
    reason: str
    legal_basis: str | None = None
    retain_until: date | None = None


def retention_for(record: RecordFacts) -> Retention | None:
    if record.category == "consent" and record.record_type == "app_sharing_consent":
        return AUTHORISATION_RETENTION
    return RETENTION.get(record.category)


def decide(record: RecordFacts, today: date) -> RetentionDecision:
    retention = retention_for(record)
    if retention is None:
        return RetentionDecision(Disposition.DELETE, "no legal duty to keep this record")
    until = add_months(record.record_date, retention.years * 12)
    if today >= until:
        return RetentionDecision(
            Disposition.DELETE, f"its {retention.years}-year retention period ended", retention.legal_basis, until
        )
    return RetentionDecision(
        Disposition.PSEUDONYMISE,
        f"the law requires it to be kept for {retention.years} years; identifying details removed",
        retention.legal_basis,
        until,
    )


CHANNELS: Final = ("email", "sms", "post", "push", "phone")
TOPICS: Final = ("claims", "billing", "plan_updates", "care_reminders", "marketing")


def communication_problems(channels: dict[str, bool], topics: dict[str, bool]) -> list[str]:
    """Unknown channels or topics, named (never values)."""
    problems = [f"channels.{c}" for c in channels if c not in CHANNELS]
    problems += [f"topics.{t}" for t in topics if t not in TOPICS]
    return problems
