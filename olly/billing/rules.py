"""Billing decisions as pure functions: proration, installments, payment allocation, grace periods,
aging buckets and balanced ledger postings. No database, no clock: callers pass dates in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from olly.kernel.errors import BusinessRuleViolation
from olly.kernel.periods import add_months, end_of_month, start_of_month


class LedgerAccount(StrEnum):
    """The chart of accounts of the premium and claims ledger."""

    CASH = "CASH"
    PREMIUM_RECEIVABLE = "PREMIUM_RECEIVABLE"
    UNEARNED_PREMIUM = "UNEARNED_PREMIUM"
    EARNED_PREMIUM = "EARNED_PREMIUM"
    MEMBER_CREDIT = "MEMBER_CREDIT"
    CLAIMS_EXPENSE = "CLAIMS_EXPENSE"
    CLAIMS_PAYABLE = "CLAIMS_PAYABLE"


class PostingKind(StrEnum):
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"
    CREDIT_APPLIED = "CREDIT_APPLIED"
    PREMIUM_EARNED = "PREMIUM_EARNED"
    CLAIM_APPROVED = "CLAIM_APPROVED"
    CLAIM_PAID = "CLAIM_PAID"
    REVERSAL = "REVERSAL"
    ADJUSTMENT = "ADJUSTMENT"
    """A change lowered an already-billed month's premium: unearned premium → member credit."""
    UNAPPLIED = "UNAPPLIED"
    """Money paid on a month a lapse voided goes back to the account's credit: premium receivable →
    member credit."""


class Proration(StrEnum):
    DAILY = "DAILY"
    """Charge covered days / days in the period of the month's premium."""
    WHOLE_MONTHS = "WHOLE_MONTHS"
    """Charge the whole month when the subscriber is covered on the 15th, nothing otherwise."""


class PaymentMethod(StrEnum):
    ACH = "ACH"
    CARD = "CARD"
    CHECK = "CHECK"
    WIRE = "WIRE"
    OTHER = "OTHER"


class RemainderTo(StrEnum):
    FIRST = "FIRST"
    LAST = "LAST"


class GraceRule(StrEnum):
    APTC_MONTHS = "APTC_MONTHS"
    """45 CFR 156.270: three consecutive months for enrollees receiving advance premium tax credit."""
    DAYS = "DAYS"


# ---------------------------------------------------------------------------------------------
# Ledger postings
@dataclass(frozen=True, slots=True)
class PostingLine:
    account: LedgerAccount
    debit_minor: int = 0
    credit_minor: int = 0


class UnbalancedPosting(BusinessRuleViolation):
    code = "unbalanced_posting"
    title = "Unbalanced ledger posting"


def check_posting(lines: Sequence[PostingLine]) -> None:
    """A posting is at least two lines, each a positive debit or a positive credit (never both),
    and its debits equal its credits."""
    if len(lines) < 2:
        raise UnbalancedPosting("a posting needs at least two lines")
    for line in lines:
        if line.debit_minor < 0 or line.credit_minor < 0 or (line.debit_minor > 0) == (line.credit_minor > 0):
            raise UnbalancedPosting("each line is either a positive debit or a positive credit")
    debits = sum(line.debit_minor for line in lines)
    credits = sum(line.credit_minor for line in lines)
    if debits != credits:
        raise UnbalancedPosting(f"debits {debits} differ from credits {credits}")


def reversal_of(lines: Iterable[PostingLine]) -> list[PostingLine]:
    """The lines that undo a posting: every debit becomes a credit of the same amount, and back."""
    return [PostingLine(line.account, line.credit_minor, line.debit_minor) for line in lines]


def debit_credit(debit: LedgerAccount, credit: LedgerAccount, amount_minor: int) -> list[PostingLine]:
    return [PostingLine(debit, debit_minor=amount_minor), PostingLine(credit, credit_minor=amount_minor)]


# ---------------------------------------------------------------------------------------------
# Proration
def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def prorate(
    monthly_minor: int, period_start: date, period_end: date, covered_from: date, covered_to: date, method: Proration
) -> int:
    """The part of a monthly premium owed for ``covered_from``..``covered_to`` within the period.

    DAILY: premium × covered days / days in the period, rounded half up once (so January 20–31
    of a 1,500.00 premium is 1,500.00 × 12 / 31 = 580.65). WHOLE_MONTHS: the whole premium when
    the subscriber is covered on the period's 15th day (the mid-month rule), otherwise nothing.
    """
    if covered_to < covered_from:
        return 0
    if method is Proration.WHOLE_MONTHS:
        middle = period_start + timedelta(days=14)
        return monthly_minor if covered_from <= middle <= covered_to else 0
    days = (period_end - period_start).days + 1
    covered = (covered_to - covered_from).days + 1
    if covered >= days:
        return monthly_minor
    return _round_half_up(monthly_minor * covered, days)


# ---------------------------------------------------------------------------------------------
# Installments
def installments(total_minor: int, count: int, remainder_to: RemainderTo = RemainderTo.FIRST) -> list[int]:
    """Split ``total_minor`` into ``count`` installments that sum to it exactly.

    Every installment is ``total // count``; the cents left over (fewer than ``count``) go to the
    first installment by default, or to the last: 1,000.00 in 12 is 83.37 then eleven of 83.33.
    """
    if count < 1:
        raise BusinessRuleViolation("an installment schedule needs at least one installment")
    if total_minor < 0:
        raise BusinessRuleViolation("an installment schedule cannot split a negative amount")
    base, remainder = divmod(total_minor, count)
    parts = [base] * count
    parts[0 if remainder_to is RemainderTo.FIRST else -1] += remainder
    return parts


def installment_due_dates(first_due: date, count: int, every_months: int) -> list[date]:
    return [add_months(first_due, index * every_months) for index in range(count)]


# ---------------------------------------------------------------------------------------------
# Payments
@dataclass(frozen=True, slots=True)
class OpenInvoice:
    invoice_id: uuid.UUID
    due_date: date
    issued_on: date
    balance_minor: int


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice_id: uuid.UUID
    amount_minor: int


def allocate(amount_minor: int, open_invoices: Iterable[OpenInvoice]) -> tuple[list[Allocation], int]:
    """Apply an amount to the oldest open invoices first (by due date, then issue date); what is
    left over is an account credit."""
    if amount_minor <= 0:
        raise BusinessRuleViolation("a payment must be a positive amount")
    left = amount_minor
    result = []
    for invoice in sorted(open_invoices, key=lambda i: (i.due_date, i.issued_on, i.invoice_id)):
        if left == 0:
            break
        applied = min(left, invoice.balance_minor)
        if applied > 0:
            result.append(Allocation(invoice.invoice_id, applied))
            left -= applied
    return result, left


def looks_like_card_number(reference: str) -> bool:
    """Whether a card payment's reference is a primary account number (13–19 digits passing the
    Luhn check, separators ignored): Olly keeps the processor's payment id, never card data."""
    digits = [int(ch) for ch in reference if ch.isdigit()]
    if not 13 <= len(digits) <= 19 or any(ch.isalpha() for ch in reference):
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


#: The largest payment recorded, in minor units (10 billion in a two-decimal currency): amounts are
#: 64-bit integers in the database, and the ledger sums many of them.
LARGEST_PAYMENT_MINOR: Final = 10**12


# ---------------------------------------------------------------------------------------------
# Grace periods
DEFAULT_GRACE_DAYS: Final = 30
ACA_APTC_GRACE_MONTHS: Final = 3
#: COBRA continuation: a premium after the first is timely when paid within 30 days of its due date
#: (the first premium has 45 days from the election: its due date says so).
COBRA_GRACE_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class GraceWindow:
    rule: GraceRule
    started_on: date
    """The first day of grace: the day after the missed due date."""
    end_date: date
    """The last day a payment in full still cures the grace period."""
    coverage_end_if_expired: date
    """The last covered day when grace expires unpaid (a retroactive non-payment termination)."""
    claims_pend_from: date
    """Claims with a date of service from this day pend while the grace period runs."""


def grace_window(
    due_date: date, paid_through: date, *, aptc: bool, days: int = DEFAULT_GRACE_DAYS, aptc_months: int | None = None
) -> GraceWindow:
    """The grace period after a premium due on ``due_date`` went unpaid.

    With advance premium tax credit: ``aptc_months`` (3) consecutive months starting with the month
    of the missed premium; claims in months 2–3 pend and an unpaid grace period ends coverage on
    the last day of month 1. Everyone else: ``days`` (30) after the due date (missed 2026-02-28,
    grace ends 2026-03-30); coverage then ends on the last day already paid for, and claims after
    it pend meanwhile.
    """
    if aptc:
        months = aptc_months or ACA_APTC_GRACE_MONTHS
        first_month = start_of_month(paid_through + timedelta(days=1))
        month_one_end = end_of_month(first_month)
        return GraceWindow(
            GraceRule.APTC_MONTHS,
            due_date + timedelta(days=1),
            end_of_month(add_months(first_month, months - 1)),
            month_one_end,
            month_one_end + timedelta(days=1),
        )
    return GraceWindow(
        GraceRule.DAYS,
        due_date + timedelta(days=1),
        due_date + timedelta(days=days),
        paid_through,
        paid_through + timedelta(days=1),
    )


# ---------------------------------------------------------------------------------------------
# Aging
AGING_BUCKETS: Final = ("0-30", "31-60", "61-90", "90+")


def aging_bucket(due_date: date, as_of: date) -> str:
    """Days past due: not yet due and up to 30 days late are ``0-30``."""
    late = max(0, (as_of - due_date).days)
    if late <= 30:
        return "0-30"
    if late <= 60:
        return "31-60"
    if late <= 90:
        return "61-90"
    return "90+"
