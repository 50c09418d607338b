"""835 (005010X221A1): remittance advice from a neutral payment model.

``write_835`` renders one payee's remittance: BPR/TRN (payment and its trace), payer and payee,
one CLP per claim with claim-level CAS, SVC per line with line-level CAS, and PLB for provider
adjustments. ``write_payment_run`` writes one 835 per payee of a payment run.

Before anything is written the money must balance, in integer minor units:
per line ``charge = paid + Σ adjustments``; per claim ``charge = paid + Σ claim and line
adjustments`` (and the line charges add up to the claim's); the payment is ``Σ claim paid − Σ PLB``.
An unbalanced remittance is refused with ``ValidationFailed`` naming the claim and line — an 835
that does not balance is rejected by every practice-management system that reads it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from olly.edi.claims import ClaimSubmission
from olly.edi.writer import (
    ControlNumbers,
    EnvelopeSettings,
    Interchange,
    Party,
    SegmentBuilder,
    TransactionSetText,
    build_interchange,
)
from olly.kernel.errors import FieldError, ValidationFailed
from olly.kernel.money import Money

REMITTANCE_VERSION = "005010X221A1"


@dataclass(frozen=True, slots=True)
class Adjustment:
    group: str
    """CO contractual, PR patient responsibility, OA other, PI payer initiated."""
    reason: str
    """CARC, e.g. 45, 1 (deductible), 2 (coinsurance), 3 (copay), 197."""
    amount: Money
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RemittanceLine:
    procedure_code: str
    charge: Money
    paid: Money
    adjustments: tuple[Adjustment, ...] = ()
    procedure_qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    revenue_code: str | None = None
    units_paid: Decimal | None = None
    original_units: Decimal | None = None
    service_date_from: date | None = None
    service_date_to: date | None = None
    allowed: Money | None = None
    line_control_number: str | None = None
    remarks: tuple[str, ...] = ()
    """RARCs (LQ*HE)."""


@dataclass(frozen=True, slots=True)
class RemittanceClaim:
    claim_id: str
    """CLP01: the provider's CLM01."""
    charge: Money
    paid: Money
    payer_claim_number: str
    """CLP07."""
    lines: tuple[RemittanceLine, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    """Claim-level CAS (adjustments not tied to one line)."""
    status: str = "1"
    """CLP02: 1 processed as primary, 2 secondary, 4 denied, 22 reversal of previous payment."""
    filing_indicator: str = "12"
    """CLP06: 12 PPO, 13 POS, 14 EPO, 15 indemnity, HM HMO, MC Medicaid …"""
    facility_code: str | None = None
    frequency_code: str | None = None
    patient_member_id: str | None = None
    patient_last_name: str = field(default="", repr=False)
    patient_first_name: str = field(default="", repr=False)
    rendering_npi: str | None = None
    statement_from: date | None = None
    statement_to: date | None = None
    received: date | None = None

    @property
    def patient_responsibility(self) -> Money:
        total = Money.zero(self.charge.currency)
        for adjustment in (*self.adjustments, *(a for line in self.lines for a in line.adjustments)):
            if adjustment.group == "PR":
                total = total + adjustment.amount
        return total


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    reason: str
    """PLB03-1: WO overpayment recovery, L6 interest, FB forwarding balance, CS adjustment …"""
    reference: str
    amount: Money
    """Positive reduces the payment, negative (interest, L6) increases it."""


@dataclass(frozen=True, slots=True)
class PayerInfo:
    name: str
    tax_id: str
    """EIN (9 digits); TRN03 and BPR10 carry "1" + EIN."""
    address_line: str
    city: str
    state: str
    postal_code: str
    contact_phone: str | None = None
    contact_url: str | None = None
    payer_id: str | None = None
    """REF*2U: the payer id the payee knows (situational)."""


@dataclass(frozen=True, slots=True)
class PayeeInfo:
    name: str
    npi: str
    tax_id: str | None = None
    address_line: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None

    @property
    def key(self) -> str:
        return self.npi


@dataclass(frozen=True, slots=True)
class Payment:
    method: str
    """CHK cheque, ACH electronic funds transfer, NON no payment (notification only)."""
    trace_number: str
    """TRN02: the cheque or EFT trace number."""
    payment_date: date
    sender_routing: str | None = None
    sender_account: str | None = None
    receiver_routing: str | None = None
    receiver_account: str | None = None
    receiver_account_type: str = "DA"
    """BPR14: DA checking, SG savings."""


@dataclass(frozen=True, slots=True)
class Remittance:
    payer: PayerInfo
    payee: PayeeInfo
    payment: Payment
    claims: tuple[RemittanceClaim, ...]
    production_date: date
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    fiscal_period_end: date | None = None
    """PLB02: the last day of the payer's fiscal year (defaults to 31 December of the production year)."""

    @property
    def currency(self) -> str:
        return self.claims[0].charge.currency if self.claims else "USD"

    @property
    def total_paid(self) -> Money:
        currency = self.currency
        if all(claim.paid.currency == currency for claim in self.claims) and all(
            adjustment.amount.currency == currency for adjustment in self.provider_adjustments
        ):  # one Money, not one per claim
            paid = sum(claim.paid.amount for claim in self.claims)
            return Money(paid - sum(a.amount.amount for a in self.provider_adjustments), currency)
        total = Money.zero(currency)
        for claim in self.claims:
            total = total + claim.paid  # raises CurrencyMismatch
        for adjustment in self.provider_adjustments:
            total = total - adjustment.amount
        return total


def _in_one_currency(claim: RemittanceClaim, currency: str) -> bool:
    return (
        claim.charge.currency == claim.paid.currency == currency
        and all(a.amount.currency == currency for a in claim.adjustments)
        and all(
            line.charge.currency == line.paid.currency == currency
            and all(a.amount.currency == currency for a in line.adjustments)
            for line in claim.lines
        )
    )


def _claim_balance_errors(claim: RemittanceClaim, where: str) -> list[FieldError]:
    """``balance_errors`` of a claim whose amounts are all in one currency, in minor units (a payment
    run's 835 checks every claim twice: a Money per addition was a tenth of writing it)."""
    errors = []
    line_adjusted = line_charges = 0
    for l_index, line in enumerate(claim.lines):
        adjusted = sum(adjustment.amount.amount for adjustment in line.adjustments)
        if line.charge.amount != line.paid.amount + adjusted:
            errors.append(
                FieldError(f"{where}.lines.{l_index}", "charge must equal paid plus adjustments", "unbalanced_line")
            )
        line_adjusted += adjusted
        line_charges += line.charge.amount
    claim_adjusted = sum(adjustment.amount.amount for adjustment in claim.adjustments)
    if claim.charge.amount != claim.paid.amount + claim_adjusted + line_adjusted:
        errors.append(FieldError(where, "charge must equal paid plus all adjustments", "unbalanced_claim"))
    if claim.lines and line_charges != claim.charge.amount:
        errors.append(FieldError(where, "line charges must add up to the claim charge", "unbalanced_claim"))
    return errors


def balance_errors(remittance: Remittance) -> list[FieldError]:
    """Every balancing rule the remittance breaks (empty when it balances)."""
    errors: list[FieldError] = []
    currency = remittance.currency
    for c_index, claim in enumerate(remittance.claims):
        where = f"claims.{c_index}"
        if _in_one_currency(claim, currency):
            errors += _claim_balance_errors(claim, where)
            continue
        try:  # a claim mixing currencies: Money's arithmetic finds where
            line_adjusted = Money.zero(currency)
            line_charges = Money.zero(currency)
            for l_index, line in enumerate(claim.lines):
                adjusted = Money.zero(currency)
                for adjustment in line.adjustments:
                    adjusted = adjusted + adjustment.amount
                if line.charge != line.paid + adjusted:
                    errors.append(
                        FieldError(
                            f"{where}.lines.{l_index}", "charge must equal paid plus adjustments", "unbalanced_line"
                        )
                    )
                line_adjusted = line_adjusted + adjusted
                line_charges = line_charges + line.charge
            claim_adjusted = Money.zero(currency)
            for adjustment in claim.adjustments:
                claim_adjusted = claim_adjusted + adjustment.amount
            if claim.charge != claim.paid + claim_adjusted + line_adjusted:
                errors.append(FieldError(where, "charge must equal paid plus all adjustments", "unbalanced_claim"))
            if claim.lines and line_charges != claim.charge:
                errors.append(FieldError(where, "line charges must add up to the claim charge", "unbalanced_claim"))
        except Exception as error:  # noqa: BLE001 - a currency mix is reported like any other balance error
            errors.append(FieldError(where, f"amounts do not combine: {type(error).__name__}", "currency_mismatch"))
    if remittance.claims and remittance.total_paid.is_negative:
        errors.append(FieldError("provider_adjustments", "the payment would be negative", "negative_payment"))
    if remittance.payment.method == "ACH" and not (
        remittance.payment.sender_routing
        and remittance.payment.sender_account
        and remittance.payment.receiver_routing
        and remittance.payment.receiver_account
    ):
        errors.append(FieldError("payment", "an ACH payment needs both banks' routing and account numbers", "required"))
    return errors


@functools.lru_cache(maxsize=4096)
def _d8(day: date) -> str:
    # remembered: an 835's few distinct dates are written a few times a claim each
    return day.strftime("%Y%m%d")


def _quantity(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _adjustments(out: SegmentBuilder, adjustments: Sequence[Adjustment]) -> None:
    """CAS segments: one per group code, at most six reason/amount/quantity triples each."""
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            elements: list[str | None] = [group]
            for item in items[start : start + 6]:
                elements += [
                    item.reason,
                    item.amount.to_decimal_string(),
                    _quantity(item.quantity) if item.quantity is not None else None,
                ]
            out.add("CAS", *elements)


def _remittance_body(remittance: Remittance, out: SegmentBuilder) -> None:
    payer, payee, payment = remittance.payer, remittance.payee, remittance.payment
    total = remittance.total_paid
    company = "1" + payer.tax_id
    if total.is_zero or payment.method == "NON":
        out.add("BPR", "H", total.to_decimal_string(), "C", "NON", *([None] * 11), _d8(payment.payment_date))
    elif payment.method == "ACH":
        out.add(
            "BPR",
            "I",
            total.to_decimal_string(),
            "C",
            "ACH",
            "CCP",
            "01",
            payment.sender_routing,
            "DA",
            payment.sender_account,
            company,
            None,
            "01",
            payment.receiver_routing,
            payment.receiver_account_type,
            payment.receiver_account,
            _d8(payment.payment_date),
        )
    else:
        out.add("BPR", "I", total.to_decimal_string(), "C", "CHK", *([None] * 11), _d8(payment.payment_date))
    out.add("TRN", "1", payment.trace_number, company)
    out.add("DTM", "405", _d8(remittance.production_date))
    out.add("N1", "PR", payer.name)
    out.add("N3", payer.address_line)
    out.add("N4", payer.city, payer.state, payer.postal_code)
    if payer.payer_id:
        out.add("REF", "2U", payer.payer_id)
    if payer.contact_url and not payer.contact_phone:
        out.add("PER", "BL", "TECHNICAL SUPPORT", "UR", payer.contact_url)
    else:
        out.add("PER", "BL", "TECHNICAL SUPPORT", "TE", payer.contact_phone or "8005550100")
    out.add("N1", "PE", payee.name, "XX", payee.npi)
    if payee.address_line:
        out.add("N3", payee.address_line)
        out.add("N4", payee.city, payee.state, payee.postal_code)
    if payee.tax_id:
        out.add("REF", "TJ", payee.tax_id)
    if remittance.claims:
        out.add("LX", "1")
    for claim in remittance.claims:
        owed = claim.patient_responsibility
        out.add(
            "CLP",
            claim.claim_id,
            claim.status,
            claim.charge.to_decimal_string(),
            claim.paid.to_decimal_string(),
            owed.to_decimal_string() if owed else None,
            claim.filing_indicator,
            claim.payer_claim_number,
            claim.facility_code,
            claim.frequency_code,
        )
        _adjustments(out, claim.adjustments)
        out.add(
            "NM1",
            "QC",
            "1",
            claim.patient_last_name or None,
            claim.patient_first_name or None,
            None,
            None,
            None,
            "MI" if claim.patient_member_id else None,
            claim.patient_member_id,
        )
        if claim.rendering_npi:
            out.add("NM1", "82", "1", None, None, None, None, None, "XX", claim.rendering_npi)
        if claim.statement_from:
            out.add("DTM", "232", _d8(claim.statement_from))
            if claim.statement_to:
                out.add("DTM", "233", _d8(claim.statement_to))
        if claim.received:
            out.add("DTM", "050", _d8(claim.received))
        for line in claim.lines:
            procedure = [line.procedure_qualifier, line.procedure_code, *line.modifiers[:4]]
            if not line.procedure_code and line.revenue_code:
                procedure = ["NU", line.revenue_code]
            out.add(
                "SVC",
                procedure,
                line.charge.to_decimal_string(),
                line.paid.to_decimal_string(),
                line.revenue_code if line.procedure_code else None,
                _quantity(line.units_paid) if line.units_paid is not None else None,
                None,
                _quantity(line.original_units) if line.original_units is not None else None,
            )
            if line.service_date_from:
                if line.service_date_to and line.service_date_to != line.service_date_from:
                    out.add("DTM", "150", _d8(line.service_date_from))
                    out.add("DTM", "151", _d8(line.service_date_to))
                else:
                    out.add("DTM", "472", _d8(line.service_date_from))
            _adjustments(out, line.adjustments)
            if line.line_control_number:
                out.add("REF", "6R", line.line_control_number)
            if line.allowed is not None:
                out.add("AMT", "B6", line.allowed.to_decimal_string())
            for remark in line.remarks:
                out.add("LQ", "HE", remark)
    if remittance.provider_adjustments:
        period = remittance.fiscal_period_end or date(remittance.production_date.year, 12, 31)
        adjustments = list(remittance.provider_adjustments)
        for start in range(0, len(adjustments), 6):
            elements: list[str | list[str] | None] = [payee.npi, _d8(period)]
            for item in adjustments[start : start + 6]:
                elements += [[item.reason, item.reference], item.amount.to_decimal_string()]
            out.add("PLB", *elements)


def write_835(
    remittance: Remittance,
    *,
    settings: EnvelopeSettings,
    control_numbers: ControlNumbers,
    now: datetime,
) -> Interchange:
    """One payee's 835; refuses (``ValidationFailed``) a remittance that does not balance."""
    errors = balance_errors(remittance)
    if errors:
        raise ValidationFailed(errors, "the remittance does not balance")
    out = SegmentBuilder(settings.delimiters)
    _remittance_body(remittance, out)
    body = TransactionSetText("835", REMITTANCE_VERSION, tuple(out.segments), reference_in_header=False)
    return build_interchange(settings, "HP", REMITTANCE_VERSION, [body], control_numbers=control_numbers, now=now)


@dataclass(frozen=True, slots=True)
class PayeeRemittance:
    payee: PayeeInfo
    interchange: Interchange
    total_paid: Money


def write_payment_run(
    remittances: Sequence[Remittance],
    *,
    sender: Party,
    receiver_for: dict[str, Party] | None = None,
    usage: str = "P",
    control_numbers: ControlNumbers,
    now: datetime,
) -> list[PayeeRemittance]:
    """One 835 per payee. ``receiver_for`` maps a payee NPI to its trading partner (default: the payee itself)."""
    seen: set[str] = set()
    problems: list[FieldError] = []
    for index, remittance in enumerate(remittances):
        if remittance.payee.key in seen:
            problems.append(
                FieldError(f"remittances.{index}.payee", "a payee appears twice in one run", "duplicate_payee")
            )
        seen.add(remittance.payee.key)
        problems += [
            FieldError(f"remittances.{index}.{e.field}", e.message, e.code) for e in balance_errors(remittance)
        ]
    if problems:
        raise ValidationFailed(problems, "the payment run cannot be written")
    out: list[PayeeRemittance] = []
    for remittance in remittances:
        receiver = (receiver_for or {}).get(remittance.payee.npi) or Party("ZZ", remittance.payee.npi)
        settings = EnvelopeSettings(sender, receiver, usage)
        out.append(
            PayeeRemittance(
                remittance.payee,
                write_835(remittance, settings=settings, control_numbers=control_numbers, now=now),
                remittance.total_paid,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What adjudication decided for one submitted line: the 835 renders it as SVC + CAS."""

    paid: Money
    adjustments: tuple[Adjustment, ...]
    allowed: Money | None = None
    remarks: tuple[str, ...] = ()


def remittance_claim(
    claim: ClaimSubmission,
    *,
    payer_claim_number: str,
    outcomes: Sequence[LineOutcome],
    claim_adjustments: tuple[Adjustment, ...] = (),
    status: str = "1",
    filing_indicator: str = "12",
) -> RemittanceClaim:
    """The CLP of a submitted claim from its adjudicated lines (one outcome per line, in order)."""
    if len(outcomes) != len(claim.lines):
        raise ValidationFailed([FieldError("outcomes", "one outcome per submitted line is required", "line_count")])
    paid = Money.zero(claim.total_charge.currency)
    lines = []
    for line, outcome in zip(claim.lines, outcomes, strict=True):
        paid = paid + outcome.paid
        lines.append(
            RemittanceLine(
                procedure_code=line.procedure_code,
                procedure_qualifier=line.procedure_qualifier or "HC",
                modifiers=line.modifiers,
                revenue_code=line.revenue_code,
                charge=line.charge,
                paid=outcome.paid,
                adjustments=outcome.adjustments,
                units_paid=line.units,
                service_date_from=line.service_date_from,
                service_date_to=line.service_date_to,
                allowed=outcome.allowed,
                line_control_number=line.line_control_number,
                remarks=outcome.remarks,
            )
        )
    return RemittanceClaim(
        claim_id=claim.claim_id,
        charge=claim.total_charge,
        paid=paid,
        payer_claim_number=payer_claim_number,
        lines=tuple(lines),
        adjustments=claim_adjustments,
        status=status,
        filing_indicator=filing_indicator,
        frequency_code=claim.frequency_code or None,
        facility_code=claim.facility_code or None,
        patient_member_id=claim.subscriber_member_id or None,
        patient_last_name=claim.patient_last_name,
        patient_first_name=claim.patient_first_name,
        rendering_npi=claim.rendering_npi,
    )
