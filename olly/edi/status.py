"""276 (005010X212) → ``StatusInquiry``; ``StatusAnswer`` → 277.

One inquiry per claim asked about (a 2200D or 2200E loop). The claims domain looks the claim up and
answers with its status as claim status category and status codes (STC), which ``write_277``
renders under the same payer / receiver / provider / subscriber [/ dependent] hierarchy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from olly.edi.grammar import parse_date
from olly.edi.syntax import Segment
from olly.edi.validate import Origin, SetContext
from olly.edi.writer import (
    ControlNumbers,
    EnvelopeSettings,
    Interchange,
    SegmentBuilder,
    TransactionSetText,
    build_interchange,
)
from olly.kernel.errors import ValidationFailed
from olly.kernel.money import Money

STATUS_VERSION = "005010X212"


@dataclass(frozen=True, slots=True)
class StatusInquiry:
    origin: Origin
    payer_id: str
    payer_name: str
    receiver_id: str
    receiver_name: str
    provider_npi: str
    provider_name: str
    subscriber_member_id: str
    trace_number: str
    claim_id: str | None
    """REF*EJ: the provider's patient control number (CLM01)."""
    payer_claim_number: str | None
    """REF*1K: the payer's claim number, when the provider has it."""
    total_charge: Money | None
    service_date_from: date | None
    service_date_to: date | None
    subscriber_last_name: str = field(default="", repr=False)
    subscriber_first_name: str = field(default="", repr=False)
    patient_last_name: str | None = field(default=None, repr=False)
    """Set when the claim is a dependent's (2000E)."""
    patient_first_name: str | None = field(default=None, repr=False)


class StatusInquiryMapper:
    def __init__(self, context: SetContext, emit: Callable[[StatusInquiry], None], currency: str = "USD") -> None:
        self.context = context
        self.emit = emit
        self.currency = currency
        self.parties: dict[str, tuple[str, str]] = {}
        self.subscriber: dict[str, str] = {}
        self.patient: dict[str, str] | None = None
        self.claim: dict[str, object] | None = None

    def segment(self, segment: Segment, loop_id: str) -> None:
        sid = segment.id
        if sid == "HL":
            self._flush()
            if segment[3] == "22":
                self.subscriber = {}
                self.patient = None
            elif segment[3] == "23":
                self.patient = {}
            return
        if sid == "SE":
            self._flush()
            return
        if sid == "NM1":
            if loop_id in ("2100A", "2100B", "2100C"):
                self.parties[loop_id] = (segment[9], segment[3])
            elif loop_id == "2100D":
                self.subscriber = {"id": segment[9], "last": segment[3], "first": segment[4]}
            elif loop_id == "2100E" and self.patient is not None:
                self.patient.update(last=segment[3], first=segment[4])
            return
        if sid == "TRN" and loop_id in ("2200D", "2200E"):
            self._flush()
            self.claim = {"origin": self.context.origin(segment), "trace": segment[2]}
            return
        claim = self.claim
        if claim is None or loop_id not in ("2200D", "2200E"):
            return
        if sid == "REF" and segment[1] in ("EJ", "1K"):
            claim[segment[1]] = segment[2]
        elif sid == "AMT" and segment[1] == "T3":
            try:
                claim["charge"] = Money.parse(segment[2], self.currency)
            except ValidationFailed:
                claim["charge"] = None
        elif sid == "DTP" and segment[1] == "472":
            if segment[2] == "D8":
                claim["from"] = claim["to"] = parse_date(segment[3])
            elif segment[2] == "RD8":
                start, _, end = segment[3].partition("-")
                claim["from"], claim["to"] = parse_date(start), parse_date(end)

    def end(self) -> None:
        self._flush()

    def _flush(self) -> None:
        claim = self.claim
        if claim is None:
            return
        self.claim = None
        origin = claim["origin"]
        assert isinstance(origin, Origin)
        charge = claim.get("charge")
        start, end = claim.get("from"), claim.get("to")
        payer = self.parties.get("2100A", ("", ""))
        receiver = self.parties.get("2100B", ("", ""))
        provider = self.parties.get("2100C", ("", ""))
        self.emit(
            StatusInquiry(
                origin=origin,
                payer_id=payer[0],
                payer_name=payer[1],
                receiver_id=receiver[0],
                receiver_name=receiver[1],
                provider_npi=provider[0],
                provider_name=provider[1],
                subscriber_member_id=self.subscriber.get("id", ""),
                trace_number=str(claim["trace"]),
                claim_id=str(claim["EJ"]) if "EJ" in claim else None,
                payer_claim_number=str(claim["1K"]) if "1K" in claim else None,
                total_charge=charge if isinstance(charge, Money) else None,
                service_date_from=start if isinstance(start, date) else None,
                service_date_to=end if isinstance(end, date) else None,
                subscriber_last_name=self.subscriber.get("last", ""),
                subscriber_first_name=self.subscriber.get("first", ""),
                patient_last_name=self.patient.get("last") if self.patient is not None else None,
                patient_first_name=self.patient.get("first") if self.patient is not None else None,
            )
        )


@dataclass(frozen=True, slots=True)
class ClaimStatus:
    """One STC: category (A1…A8 acknowledgement, P1… pending, F0…F4 finalized, D0 data errors) and status code."""

    category: str
    code: str
    entity: str | None = None
    effective: date | None = None


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    inquiry: StatusInquiry
    statuses: tuple[ClaimStatus, ...]
    """At least one. ``A4:35`` (not found) when the claim is unknown."""
    payer_claim_number: str | None = None
    total_charge: Money | None = None
    paid_amount: Money | None = None
    """STC05; finalized claims (F1/F2) carry the payment."""
    paid_date: date | None = None
    check_number: str | None = None


NOT_FOUND = ClaimStatus("A4", "35")
"""Claim/encounter not found."""


def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def write_277(
    answers: Sequence[StatusAnswer],
    *,
    settings: EnvelopeSettings,
    control_numbers: ControlNumbers,
    now: datetime,
    reference: str = "1",
) -> Interchange:
    """A 277 (005010X212) answering each inquiry under its own payer → … → subscriber/dependent chain."""
    out = SegmentBuilder(settings.delimiters)
    out.add("BHT", "0010", "08", reference, _d8(now.date()), now.strftime("%H%M"), "DG")
    hl = 0
    for answer in answers:
        inquiry = answer.inquiry
        if not answer.statuses:
            raise ValueError("a status answer needs at least one claim status")
        hl += 1
        source = hl
        out.add("HL", str(source), None, "20", "1")
        out.add(
            "NM1", "PR", "2", inquiry.payer_name or "PAYER", None, None, None, None, "PI", inquiry.payer_id or "UNKNOWN"
        )
        hl += 1
        receiver = hl
        out.add("HL", str(receiver), str(source), "21", "1")
        out.add(
            "NM1",
            "41",
            "2",
            inquiry.receiver_name or "RECEIVER",
            None,
            None,
            None,
            None,
            "46",
            inquiry.receiver_id or "UNKNOWN",
        )
        hl += 1
        provider = hl
        out.add("HL", str(provider), str(receiver), "19", "1")
        out.add(
            "NM1",
            "1P",
            "2",
            inquiry.provider_name or "PROVIDER",
            None,
            None,
            None,
            None,
            "XX",
            inquiry.provider_npi or "UNKNOWN",
        )
        hl += 1
        subscriber = hl
        dependent = inquiry.patient_last_name is not None
        out.add("HL", str(subscriber), str(provider), "22", "1" if dependent else "0")
        out.add(
            "NM1",
            "IL",
            "1",
            inquiry.subscriber_last_name or "UNKNOWN",
            inquiry.subscriber_first_name or None,
            None,
            None,
            None,
            "MI",
            inquiry.subscriber_member_id or "UNKNOWN",
        )
        if dependent:
            hl += 1
            out.add("HL", str(hl), str(subscriber), "23")
            out.add("NM1", "QC", "1", inquiry.patient_last_name or "UNKNOWN", inquiry.patient_first_name or None)
        out.add("TRN", "2", inquiry.trace_number or "0")
        charge = answer.total_charge or inquiry.total_charge
        for index, status in enumerate(answer.statuses):
            composite = [status.category, status.code, status.entity or ""]
            effective = _d8(status.effective or now.date())
            if index == 0:
                out.add(
                    "STC",
                    composite,
                    effective,
                    None,
                    charge.to_decimal_string() if charge is not None else None,
                    answer.paid_amount.to_decimal_string() if answer.paid_amount is not None else None,
                    _d8(answer.paid_date) if answer.paid_date else None,
                    None,
                    _d8(answer.paid_date) if answer.paid_date and answer.check_number else None,
                    answer.check_number,
                )
            else:
                out.add("STC", composite, effective)
        payer_number = answer.payer_claim_number or inquiry.payer_claim_number
        if payer_number:
            out.add("REF", "1K", payer_number)
        if inquiry.claim_id:
            out.add("REF", "EJ", inquiry.claim_id)
        if inquiry.service_date_from:
            end = inquiry.service_date_to or inquiry.service_date_from
            if end != inquiry.service_date_from:
                out.add("DTP", "472", "RD8", f"{_d8(inquiry.service_date_from)}-{_d8(end)}")
            else:
                out.add("DTP", "472", "D8", _d8(inquiry.service_date_from))
    body = TransactionSetText("277", STATUS_VERSION, tuple(out.segments))
    return build_interchange(settings, "HN", STATUS_VERSION, [body], control_numbers=control_numbers, now=now)
