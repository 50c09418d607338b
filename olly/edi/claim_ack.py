"""277CA (005010X214): the claim acknowledgement that accepts or rejects each claim of an 837.

Sent after the 999 accepted the transaction set: every claim of it appears once, accepted into
adjudication (STC A2:20, action WQ) with the payer's claim number (REF*1K), or rejected (action U)
with one STC per problem. A problem of one service line is also stated on that line (loop 2220D:
SVC, STC, REF*FJ, DTP*472), so the provider sees which line to correct. The hierarchy is payer →
submitter → billing provider → patient, with counts and amounts of accepted and rejected claims at
the submitter and provider levels.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from olly.edi import codes
from olly.edi.claims import ClaimProblem, ClaimSubmission, ServiceLine
from olly.edi.writer import (
    ControlNumbers,
    EnvelopeSettings,
    Interchange,
    SegmentBuilder,
    TransactionSetText,
    build_interchange,
)
from olly.kernel.money import Money

CLAIM_ACK_VERSION = "005010X214"


@dataclass(frozen=True, slots=True)
class ClaimAcknowledgment:
    claim: ClaimSubmission
    payer_claim_number: str | None = None
    """The number the intake gave the claim (REF*1K), for accepted claims."""
    extra_problems: tuple[ClaimProblem, ...] = ()
    """Rejections found by the intake itself (e.g. an unknown member), added to the claim's own."""

    @property
    def problems(self) -> tuple[ClaimProblem, ...]:
        return self.claim.problems + self.extra_problems

    @property
    def accepted(self) -> bool:
        return not self.problems


class AcknowledgedLine(NamedTuple):
    """A service line a 277CA names (2220D) because a problem is its own: what SVC, REF*FJ and
    DTP*472 echo of the 837's line."""

    line_number: int
    procedure_qualifier: str
    procedure_code: str
    modifiers: tuple[str, ...]
    revenue_code: str | None
    charge_minor: int
    units: Decimal
    service_date_from: date | None
    service_date_to: date | None
    control_number: str | None

    @classmethod
    def of(cls, line: ServiceLine) -> AcknowledgedLine:
        return cls(
            line.line_number,
            line.procedure_qualifier,
            line.procedure_code,
            line.modifiers,
            line.revenue_code,
            line.charge.amount,
            line.units,
            line.service_date_from,
            line.service_date_to,
            line.line_control_number,
        )


class AcknowledgedClaim(NamedTuple):
    """What a 277CA prints of one claim and its answer, as ``write_277ca`` prints it: what an inbound
    837 keeps of each claim until its 277CA is written, instead of the whole parsed claim (one small
    tuple of strings, numbers and dates a claim rather than a dozen objects, all of them walked by
    each full run of the cyclic collector while a large file is taken in)."""

    claim_id: str
    charge_minor: int
    currency: str
    billing_npi: str
    billing_tax_id: str
    billing_name: str
    patient_last_name: str
    """NM1*QC NM103: the patient's family name, else the subscriber's, else UNKNOWN."""
    patient_first_name: str | None
    member_id: str
    """NM1*QC NM109: the subscriber's member id, else UNKNOWN."""
    service_date_from: date | None
    service_date_to: date | None
    set_control_number: str
    submitter_id: str
    submitter_name: str
    payer_id: str
    payer_name: str
    payer_claim_number: str | None
    problems: tuple[ClaimProblem, ...]
    lines: tuple[AcknowledgedLine, ...] = ()
    """The lines a problem names (none for an accepted claim)."""

    @classmethod
    def of(
        cls,
        claim: ClaimSubmission,
        payer_claim_number: str | None = None,
        extra_problems: tuple[ClaimProblem, ...] = (),
    ) -> AcknowledgedClaim:
        """``ClaimAcknowledgment(claim, payer_claim_number, extra_problems)``, kept as printed."""
        problems = claim.problems + extra_problems if extra_problems else claim.problems
        named = {p.line_number for p in problems if p.line_number is not None}
        return cls(
            claim.claim_id,
            claim.total_charge.amount,
            claim.total_charge.currency,
            claim.billing_npi or "",
            claim.billing_tax_id or "",
            claim.billing_name,
            claim.patient_last_name or claim.subscriber_last_name or "UNKNOWN",
            claim.patient_first_name or None,
            claim.subscriber_member_id or "UNKNOWN",
            claim.service_date_from,
            claim.service_date_to,
            claim.origin.set_control_number,
            claim.submitter_id,
            claim.submitter_name,
            claim.payer_id,
            claim.payer_name,
            payer_claim_number,
            problems,
            tuple(AcknowledgedLine.of(line) for line in claim.lines if line.line_number in named) if named else (),
        )

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def charge(self) -> Money:
        return Money(self.charge_minor, self.currency)


def _kept(item: ClaimAcknowledgment | AcknowledgedClaim) -> AcknowledgedClaim:
    if isinstance(item, AcknowledgedClaim):
        return item
    return AcknowledgedClaim.of(item.claim, item.payer_claim_number, item.extra_problems)


@functools.lru_cache(maxsize=1024)
def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def _sum(items: Sequence[AcknowledgedClaim], currency: str) -> Money:
    amount = 0
    for item in items:
        if item.currency != currency:
            Money.zero(currency) + item.charge  # refused, as adding the amounts refuses it
        amount += item.charge_minor
    return Money(amount, currency)


def _counts(
    out: SegmentBuilder, items: Sequence[AcknowledgedClaim], accepted_q: str, rejected_q: str, currency: str
) -> None:
    accepted = [i for i in items if i.accepted]
    rejected = [i for i in items if not i.accepted]
    if accepted:
        out.add("QTY", accepted_q, str(len(accepted)))
    if rejected:
        out.add("QTY", rejected_q, str(len(rejected)))
    if accepted:
        out.add("AMT", "YU", _sum(accepted, currency).to_decimal_string())
    if rejected:
        out.add("AMT", "YY", _sum(rejected, currency).to_decimal_string())


#: STC composites on one line: STC01, STC10 and STC11.
_LINE_STATUSES = 3


def _rejected_lines(out: SegmentBuilder, item: AcknowledgedClaim, today: str) -> None:
    """Loop 2220D for each line a problem names, in line order: SVC (the procedure as sent, or the
    revenue code under NU when the line has none; the charge; the revenue code; the units), one STC
    with up to three of the line's problems, REF*FJ (the provider's line number) and DTP*472."""
    for line in item.lines:
        problems = [p for p in item.problems if p.line_number == line.line_number][:_LINE_STATUSES]
        if line.procedure_code:
            procedure = [line.procedure_qualifier or "HC", line.procedure_code, *line.modifiers[:4]]
        elif line.revenue_code:
            procedure = ["NU", line.revenue_code]
        else:
            continue  # nothing to name the line by: the claim-level STC says it all
        units = line.units.normalize() if line.units else None
        out.add(
            "SVC",
            procedure,
            Money(line.charge_minor, item.currency).to_decimal_string(),
            None,
            line.revenue_code if line.procedure_code else None,
            None,
            None,
            format(units, "f") if units else None,
        )
        statuses = [[p.category, p.status, p.entity or ""] for p in problems]
        out.add("STC", statuses[0], today, "U", None, None, None, None, None, None, *statuses[1:])
        if line.control_number:
            out.add("REF", "FJ", line.control_number)
        if line.service_date_from is not None:
            end = line.service_date_to or line.service_date_from
            if end != line.service_date_from:
                out.add("DTP", "472", "RD8", f"{_d8(line.service_date_from)}-{_d8(end)}")
            else:
                out.add("DTP", "472", "D8", _d8(line.service_date_from))


def write_277ca(
    acknowledgments: Sequence[ClaimAcknowledgment | AcknowledgedClaim],
    *,
    payer_name: str,
    payer_id: str,
    received: date,
    settings: EnvelopeSettings,
    control_numbers: ControlNumbers,
    now: datetime,
    reference: str = "1",
) -> Interchange:
    """One 277CA for the claims of one inbound 837 (one submitter), in the order given."""
    if not acknowledgments:
        raise ValueError("a 277CA acknowledges at least one claim")
    items = [_kept(item) for item in acknowledgments]
    currency = items[0].currency
    today = _d8(now.date())
    out = SegmentBuilder(settings.delimiters)
    out.add("BHT", "0085", "08", reference, today, now.strftime("%H%M"), "TH")
    out.add("HL", "1", None, "20", "1")
    out.add("NM1", "PR", "2", payer_name, None, None, None, None, "PI", payer_id)
    out.add("TRN", "1", reference)
    out.add("DTP", "050", "D8", _d8(received))
    out.add("DTP", "009", "D8", today)
    first = items[0]
    out.add("HL", "2", "1", "21", "1")
    out.add(
        "NM1",
        "41",
        "2",
        first.submitter_name or "SUBMITTER",
        None,
        None,
        None,
        None,
        "46",
        first.submitter_id or "UNKNOWN",
    )
    out.add("TRN", "2", first.set_control_number)
    out.add(
        "STC",
        [codes.CATEGORY_RECEIVED, codes.STATUS_RECEIVED, "PR"],
        today,
        "WQ",
        _sum(items, currency).to_decimal_string(),
    )
    _counts(out, items, "90", "AA", currency)
    # Billing providers in order of first appearance; claims keep their order within each.
    providers: dict[tuple[str, str, str], list[AcknowledgedClaim]] = {}
    for item in items:
        providers.setdefault((item.billing_npi, item.billing_tax_id, item.billing_name), []).append(item)
    hl = 2
    for (npi, tax_id, name), billed in providers.items():
        hl += 1
        provider_hl = hl
        out.add("HL", str(provider_hl), "2", "19", "1")
        if npi:
            out.add("NM1", "85", "2", name or "PROVIDER", None, None, None, None, "XX", npi)
        else:
            out.add("NM1", "85", "2", name or "PROVIDER", None, None, None, None, "FI", tax_id or "UNKNOWN")
        out.add("TRN", "1", f"{provider_hl}")
        out.add(
            "STC",
            [codes.CATEGORY_RECEIVED, codes.STATUS_RECEIVED],
            None,
            "WQ",
            _sum(billed, currency).to_decimal_string(),
        )
        if tax_id and npi:
            out.add("REF", "TJ", tax_id)
        _counts(out, billed, "QA", "QC", currency)
        for item in billed:
            hl += 1
            out.add("HL", str(hl), str(provider_hl), "PT")
            out.add(
                "NM1",
                "QC",
                "1",
                item.patient_last_name,
                item.patient_first_name,
                None,
                None,
                None,
                "MI",
                item.member_id,
            )
            out.add("TRN", "2", item.claim_id)
            charge = item.charge.to_decimal_string()
            if item.accepted:
                out.add("STC", [codes.CATEGORY_ACCEPTED, codes.STATUS_ACCEPTED_FOR_PROCESSING], today, "WQ", charge)
            else:
                for problem in item.problems:
                    out.add("STC", [problem.category, problem.status, problem.entity or ""], today, "U", charge)
            if item.accepted and item.payer_claim_number:
                out.add("REF", "1K", item.payer_claim_number)
            start = item.service_date_from or received
            end = item.service_date_to or start
            if end != start:
                out.add("DTP", "472", "RD8", f"{_d8(start)}-{_d8(end)}")
            else:
                out.add("DTP", "472", "D8", _d8(start))
            if item.lines and not item.accepted:
                _rejected_lines(out, item, today)
    body = TransactionSetText("277", CLAIM_ACK_VERSION, tuple(out.segments))
    return build_interchange(settings, "HN", CLAIM_ACK_VERSION, [body], control_numbers=control_numbers, now=now)
