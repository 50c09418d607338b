"""The explanation of benefits: a member-friendly PDF rendered from the adjudication result.

Written with the platform's small PDF writer (``olly.platform.pdf``): the EOB shows what
was billed, what the plan allows, what it paid and what the member owes, line by line, with a
plain-language reason for every adjustment and how to appeal before the deadline. The document
is sealed in the object store like every other claim document. The adjudication chooses its key
(``object_key``, carried by ``claims.claim.adjudicated``); the EOB consumer renders and stores it
after the adjudication has committed (``service.store_eob``).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Protocol

from olly.claims import models as m
from olly.claims.rules import Adjustment, ClaimResult
from olly.claims.snapshots import adjustment_from_json
from olly.claims.writes import writes_of
from olly.codesets.carc import Carc, GroupCode
from olly.codesets.rarc import Rarc
from olly.kernel.money import Money, exponent
from olly.platform.db import UnitOfWork, new_id, table_of
from olly.platform.objectstore import object_store_of
from olly.platform.pdf import MARGIN, text_document

KEY_NAMESPACE: Final = uuid.UUID("3b6d2f0e-5c8a-5e1f-9a47-e0b0c1a2d3f4")
"""Namespace of EOB object keys (``object_key``)."""

#: What each reason means for the member, in plain words.
PLAIN_REASONS: Final[dict[Carc, str]] = {
    Carc.DEDUCTIBLE: "Applied to your deductible: you pay this amount.",
    Carc.COINSURANCE: "Your coinsurance: your share of the cost after the deductible.",
    Carc.COPAY: "Your copay for this visit.",
    Carc.EXCEEDS_MAXIMUM_ALLOWABLE: "The provider charged more than the plan's agreed price; "
    "an in-network provider may not bill you for the difference.",
    Carc.AUTHORIZATION_ABSENT: "This service needed approval from the plan before it was given.",
    Carc.AUTHORIZATION_MISMATCH: "The approval on file does not cover this service, date or number of units.",
    Carc.DUPLICATE: "This service was already billed on another claim.",
    Carc.TIMELY_FILING: "The claim reached the plan after the filing deadline; you do not owe this.",
    Carc.BEFORE_COVERAGE: "The service was before your coverage started.",
    Carc.AFTER_COVERAGE: "The service was after your coverage ended.",
    Carc.NOT_OUR_MEMBER: "We could not find coverage for you on the date of service.",
    Carc.NON_COVERED: "Your plan does not cover this service.",
    Carc.BENEFIT_MAXIMUM_REACHED: "You have reached the plan's limit for this benefit.",
    Carc.OUT_OF_NETWORK: "Your plan does not pay for this provider outside its network.",
    Carc.PROVIDER_NOT_ELIGIBLE: "The provider was not eligible to be paid for this service.",
    Carc.MISSING_OR_INVALID_INFORMATION: "The claim was missing information or had an error; "
    "the provider may correct and resubmit it.",
    Carc.UNITS_NOT_SUPPORTED: "More units were billed than are normally given in one day.",
    Carc.PRE_EXISTING_CONDITION: "The condition existed before your cover and is still in its waiting period.",
    Carc.NOT_COVERED_BY_BENEFIT_PLAN: "The service is in a waiting period under your policy.",
    Carc.NOT_MEDICALLY_NECESSARY: "The plan's reviewer found the service not medically necessary.",
}


#: Reasons whose meaning for the member changes when the member owes the amount.
PLAIN_MEMBER_REASONS: Final[dict[Carc, str]] = {
    Carc.EXCEEDS_MAXIMUM_ALLOWABLE: "The provider is outside your plan's network and charged more than the "
    "plan's maximum allowable amount; the provider may bill you for the difference (balance billing), and it "
    "does not count toward your deductible or out-of-pocket maximum.",
}


def plain_reason(carc: Carc, group: GroupCode | None = None) -> str:
    if group is GroupCode.PATIENT_RESPONSIBILITY and carc in PLAIN_MEMBER_REASONS:
        return PLAIN_MEMBER_REASONS[carc]
    return PLAIN_REASONS.get(carc, f"Adjusted by the plan ({carc.label}).")


@dataclass(frozen=True, slots=True)
class EobLine:
    """What an EOB prints of one adjudicated line."""

    line_number: int
    status: str
    billed: Money
    allowed: Money
    paid: Money
    adjustments: tuple[Adjustment, ...]

    @property
    def you_owe(self) -> Money:
        owed = sum(a.amount.amount for a in self.adjustments if a.group is GroupCode.PATIENT_RESPONSIBILITY)
        return Money(owed, self.billed.currency)


@dataclass(frozen=True, slots=True)
class EobResult:
    """What an EOB prints of an adjudication: its status, its totals and each line's amounts and
    adjustments. A ``ClaimResult`` also carries the accumulator movements, pend reasons and benefit
    details, which an EOB never reads: building one from each stored result was about a sixth of
    the EOB consumer's CPU, building this about a fifteenth."""

    status: str
    currency: str
    adjudicated_on: date
    lines: tuple[EobLine, ...]
    billed: Money
    allowed: Money
    paid: Money
    patient_responsibility: Money

    @classmethod
    def of(cls, result: ClaimResult) -> EobResult:
        totals = result.totals
        lines = tuple(
            EobLine(line.line_number, line.status.value, line.billed, line.allowed, line.paid, line.adjustments)
            for line in result.lines
        )
        return cls(
            result.status.value,
            result.currency,
            result.adjudicated_on,
            lines,
            totals.billed,
            totals.allowed,
            totals.paid,
            totals.patient_responsibility,
        )

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> EobResult:
        """From a stored result (the form ``snapshots.result_to_json`` writes): what
        ``of(snapshots.result_from_json(data))`` gives, with only the lines' amounts and adjustments read."""
        currency = data["currency"]
        lines = []
        billed = allowed = paid = owed = 0
        for line in data["lines"]:
            adjustments = tuple(adjustment_from_json(item, currency) for item in line["adjustments"])
            lines.append(
                EobLine(
                    line["lineNumber"],
                    line["status"],
                    Money(line["billed"], currency),
                    Money(line["allowed"], currency),
                    Money(line["paid"], currency),
                    adjustments,
                )
            )
            billed += line["billed"]
            allowed += line["allowed"]
            paid += line["paid"]
            owed += sum(a.amount.amount for a in adjustments if a.group is GroupCode.PATIENT_RESPONSIBILITY)
        return cls(
            data["status"],
            currency,
            date.fromisoformat(data["adjudicatedOn"]),
            tuple(lines),
            Money(billed, currency),
            Money(allowed, currency),
            Money(paid, currency),
            Money(owed, currency),
        )


class EobClaim(Protocol):
    """What an EOB reads of its claim: a ``Claim``, or a row of these columns (``EobReads``)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def member_id(self) -> uuid.UUID: ...

    @property
    def billing_npi(self) -> str: ...

    @property
    def service_date_from(self) -> date: ...

    @property
    def service_date_to(self) -> date: ...


@dataclass(frozen=True, slots=True)
class EobContent:
    claim_reference: str
    service_dates: str
    provider_npi: str
    result: EobResult
    appeal_deadline: date


def render(content: EobContent) -> bytes:
    """The EOB as PDF bytes."""
    result = content.result
    lines = [
        (
            line.line_number,
            line.status,
            line.billed.amount,
            line.allowed.amount,
            line.paid.amount,
            [(a.group.value, a.carc.value, a.amount.amount) for a in line.adjustments],
        )
        for line in result.lines
    ]
    totals = (result.billed.amount, result.allowed.amount, result.paid.amount, result.patient_responsibility.amount)
    head = (content.claim_reference, content.service_dates, content.provider_npi, result.status, result.currency)
    return _render(head, totals, lines, content.appeal_deadline)


def render_stored(
    claim_reference: str, service_dates: str, provider_npi: str, data: dict[str, Any], appeal_deadline: date
) -> bytes:
    """``render`` of ``EobResult.from_stored(data)``, read straight from the stored result (no
    ``EobResult``, ``Money`` or ``Adjustment`` built): the same bytes, as the EOB consumer renders
    each EOB."""
    currency = data["currency"]
    exponent(currency)  # an unknown currency is refused, as ``Money`` refuses it
    lines = []
    billed = allowed = paid = owed = 0
    for line in data["lines"]:
        adjustments = []
        for item in line["adjustments"]:
            amount = item["amount"]
            if type(amount) is not int:
                raise TypeError("Money.amount must be an int of minor units")
            for rarc in item["rarcs"]:
                if rarc not in _RARCS:
                    Rarc(rarc)  # an unknown remark code is refused, as ``adjustment_from_json`` refuses it
            group, carc = item["group"], item["carc"]
            adjustments.append((group, carc, amount))
            if _adjustment_text(group, carc)[2]:
                owed += amount
        amounts = (line["billed"], line["allowed"], line["paid"])
        for amount in amounts:
            if type(amount) is not int:
                raise TypeError("Money.amount must be an int of minor units")
        lines.append((line["lineNumber"], line["status"], *amounts, adjustments))
        billed += amounts[0]
        allowed += amounts[1]
        paid += amounts[2]
    date.fromisoformat(data["adjudicatedOn"])  # a malformed date is refused, as ``from_stored`` refuses it
    head = (claim_reference, service_dates, provider_npi, data["status"], currency)
    return _render(head, (billed, allowed, paid, owed), lines, appeal_deadline)


_RARCS: Final = frozenset(rarc.value for rarc in Rarc)

_ADJUSTMENT_TEXTS: dict[tuple[str, str], tuple[str, str, bool]] = {}
"""Per (group, CARC) as stored: the code as printed (``Adjustment.code``), its plain reason and
whether the member owes it; worked out once per process."""


def _adjustment_text(group: str, carc: str) -> tuple[str, str, bool]:
    found = _ADJUSTMENT_TEXTS.get((group, carc))
    if found is None:
        group_code, reason_code = GroupCode(group), Carc(carc)
        found = (
            f"{group_code.value}-{reason_code.value}",
            plain_reason(reason_code, group_code),
            group_code is GroupCode.PATIENT_RESPONSIBILITY,
        )
        _ADJUSTMENT_TEXTS[group, carc] = found
    return found


def _decimal(amount: int, scale: int, exp: int) -> str:
    """``Money(amount, currency).to_decimal_string()``, ``scale`` being ``10**exp``."""
    if amount < 0:
        units, minor = divmod(-amount, scale)
        return f"-{units}.{minor:0{exp}d}" if exp else f"-{units}"
    units, minor = divmod(amount, scale)
    return f"{units}.{minor:0{exp}d}" if exp else f"{units}"


_EobHead = tuple[str, str, str, str, str]  # claim reference, service dates, provider NPI, status, currency
_EobLineAmounts = tuple[int, str, int, int, int, list[tuple[str, str, int]]]
"""A line: number, status, billed, allowed, paid (minor units) and its adjustments (group, CARC, amount)."""


def _render(
    head: _EobHead, totals: tuple[int, int, int, int], lines: list[_EobLineAmounts], appeal_deadline: date
) -> bytes:
    claim_reference, service_dates, provider_npi, status, currency = head
    exp = exponent(currency)
    scale = 10**exp
    billed, allowed, paid, owed = totals
    text: list[tuple[int, str, int]] = [  # (x, text, font size); y is assigned by pagination
        (MARGIN, "Explanation of Benefits", 16),
        (MARGIN, "This is not a bill.", 10),
        (MARGIN, f"Claim {claim_reference}    Service dates {service_dates}", 10),
        (MARGIN, f"Provider NPI {provider_npi}    Status {status}", 10),
        (MARGIN, "", 10),
        (MARGIN, f"Amount billed: {currency} {_decimal(billed, scale, exp)}", 11),
        (MARGIN, f"Plan allowed: {currency} {_decimal(allowed, scale, exp)}", 11),
        (MARGIN, f"Plan paid: {currency} {_decimal(paid, scale, exp)}", 11),
        (MARGIN, f"You owe: {currency} {_decimal(owed, scale, exp)}", 12),
        (MARGIN, "", 10),
        (MARGIN, _TABLE_HEADER, 10),
    ]
    append = text.append
    reasons: dict[str, str] = {}
    for line_number, line_status, line_billed, line_allowed, line_paid, adjustments in lines:
        rows = []
        you_owe = 0
        for group, carc, amount in adjustments:
            code, reason, member_owes = _adjustment_text(group, carc)
            if code not in reasons:
                reasons[code] = reason
            if member_owes:
                you_owe += amount
            rows.append((_ADJUSTMENT_X, f"{code}  {_decimal(amount, scale, exp)}  (owed by {_WHO[member_owes]})", 9))
        append(
            (
                MARGIN,
                f"{line_number:<5} {_decimal(line_billed, scale, exp):<11} {_decimal(line_allowed, scale, exp):<11} "
                f"{_decimal(line_paid, scale, exp):<11} {_decimal(you_owe, scale, exp):<11} {line_status}",
                10,
            )
        )
        text += rows
    append((MARGIN, "", 10))
    append((MARGIN, "What the codes mean", 12))
    for code, meaning in sorted(reasons.items()):
        append((MARGIN, f"{code}: {meaning}", 9))
    append((MARGIN, "", 10))
    append((MARGIN, "How to appeal", 12))
    append((MARGIN, f"If you disagree with this decision you may appeal until {appeal_deadline.isoformat()}.", 10))
    append((MARGIN, "Write to the plan or use the member portal, quoting the claim above.", 10))
    return text_document(text, rule_under=_is_table_header)


_TABLE_HEADER: Final = "Line  Billed      Allowed     Plan paid   You owe     Status"
_ADJUSTMENT_X: Final = MARGIN + 24
_WHO: Final = ("not you", "you")


def _is_table_header(value: str) -> bool:
    return value.startswith("Line  Billed")


def object_key(tenant_id: uuid.UUID, claim_id: uuid.UUID, sequence: int) -> str:
    """The object key of the EOB of a claim's adjudication ``sequence``: chosen by the adjudication
    (its event carries it) and written afterwards by the EOB consumer. Derived, not drawn, so the
    consumer finds it from the claim and sequence alone and a redelivery rewrites the same object.

    The name is ``uuid.uuid5(KEY_NAMESPACE, f"{claim_id}/{sequence}")`` as text, its digest bits
    set and written out here (as every adjudication and every EOB chooses one)."""
    digest = bytearray(
        hashlib.sha1(_KEY_PREFIX + f"{claim_id}/{sequence}".encode(), usedforsecurity=False).digest()[:16]
    )
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # RFC 4122 variant
    name = digest.hex()
    return f"{tenant_id}/eob/{name[:8]}-{name[8:12]}-{name[12:16]}-{name[16:20]}-{name[20:]}"


_KEY_PREFIX: Final = KEY_NAMESPACE.bytes


def store_eob(uow: UnitOfWork, claim: EobClaim, result: dict[str, Any], deadline: date, key: str) -> None:
    """Render the claim's EOB from its stored adjudication ``result`` (``render_stored``), seal and
    store it under ``key``; records the document (queued in the unit of work's writes, ``writes.py``:
    not yet sent)."""
    dates = claim.service_date_from.isoformat()
    if claim.service_date_to != claim.service_date_from:
        dates += f" to {claim.service_date_to.isoformat()}"
    pdf = render_stored(str(claim.id), dates, claim.billing_npi, result, deadline)
    object_store_of(uow).put_under(uow, key, pdf)
    writes_of(uow).insert(
        _DOCUMENTS,
        {
            "id": new_id(),
            "claim_id": claim.id,
            "kind": "EOB",
            "content_type": "application/pdf",
            "size_bytes": len(pdf),
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "object_key": key,
            "created_at": uow.clock.now(),
        },
    )


_DOCUMENTS: Final = table_of(m.ClaimDocument)
