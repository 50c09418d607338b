"""Request and response models of the billing domain. Money is a decimal string with its currency."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from olly.billing.rules import PaymentMethod, Proration
from olly.kernel.events import Amount, Currency


class BillingRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="the month billed, YYYY-MM")


class BillingRunRead(BaseModel):
    run_id: uuid.UUID
    period_start: date
    period_end: date
    invoice_count: int
    line_count: int
    total: Amount
    currency: Currency


class BillingRunSummaryRead(BillingRunRead):
    """A past billing run, as the history lists it."""

    started_at: datetime
    finished_at: datetime


class MoneyTotalRead(BaseModel):
    amount: Amount
    currency: Currency


class PaymentRunSummaryRead(BaseModel):
    """A past claim payment run: how many payees and claims it paid, and its total per currency."""

    run_id: uuid.UUID
    run_date: date
    payment_count: int
    claim_count: int
    totals: list[MoneyTotalRead]
    created_at: datetime


class InvoiceLineRead(BaseModel):
    policy_id: uuid.UUID
    member_id: uuid.UUID
    plan_code: str
    tier_code: str
    covered_people: int
    covered_from: date
    covered_to: date
    proration: str
    total: Amount
    employer_share: Amount
    employee_share: Amount


class InvoiceRead(BaseModel):
    id: uuid.UUID
    invoice_number: str
    account_id: uuid.UUID
    kind: str
    period_start: date
    period_end: date
    issued_on: date
    due_date: date
    currency: Currency
    total: Amount
    employer_share: Amount
    employee_share: Amount
    paid: Amount
    balance: Amount
    status: str
    status_reason: str | None
    lines: list[InvoiceLineRead] = Field(default_factory=list)


class PaymentCreate(BaseModel):
    """A payment received. Only the method and the processor's or bank's reference are accepted:
    never a card or account number."""

    model_config = ConfigDict(extra="forbid")

    account_id: uuid.UUID
    amount: Amount = Field(description='a positive decimal string, e.g. "480.00"')
    currency: Currency = "USD"
    method: PaymentMethod
    reference: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$",
        description="the ACH trace, cheque number or card processor's payment id",
    )


class AllocationRead(BaseModel):
    invoice_id: uuid.UUID
    amount: Amount


class PaymentRead(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    method: str
    reference: str
    currency: Currency
    amount: Amount
    applied: Amount
    credit: Amount
    received_at: datetime
    allocations: list[AllocationRead] = Field(default_factory=list)


class AccountSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: uuid.UUID
    market: str | None = Field(None, pattern=r"^(GROUP|INDIVIDUAL|SUM_INSURED)$")
    currency: Currency = "USD"
    proration: Proration | None = None
    receives_aptc: bool | None = None


class AccountSettingsRead(BaseModel):
    account_id: uuid.UUID
    market: str
    currency: Currency
    proration: str
    receives_aptc: bool


class LedgerBalanceRead(BaseModel):
    ledger_account: str
    currency: Currency
    debits: Amount
    credits: Amount


class ReconciliationRead(BaseModel):
    clean: bool
    total_debits: Amount
    total_credits: Amount
    balances: list[LedgerBalanceRead]
    problems: list[str]
    payments_checked: int


class AgingRowRead(BaseModel):
    account_id: uuid.UUID
    currency: Currency
    buckets: dict[str, Amount]
    total: Amount


class PaidClaimRead(BaseModel):
    claim_id: uuid.UUID
    paid: Amount


class PayeePaymentRead(BaseModel):
    payment_id: uuid.UUID
    payee: str
    payee_id: uuid.UUID
    payee_npi: str | None = None
    """A provider payee's billing NPI: a run pays each NPI once, whatever provider ids its claims carry."""
    amount: Amount
    currency: Currency
    paid_on: date
    method: str
    trace_number: str
    claims: list[PaidClaimRead]


class PaymentRunRead(BaseModel):
    run_id: uuid.UUID
    run_date: date
    payments: list[PayeePaymentRead]


class BillingRunDetailRead(BillingRunSummaryRead):
    invoices: list[InvoiceRead]


class PayeeBankUpdate(BaseModel):
    """A payee's bank account. The numbers are checked by billing (ABA check digit, 4–17 digits)."""

    model_config = ConfigDict(extra="forbid")

    routing_number: str = Field(max_length=20, description="ABA routing number, 9 digits")
    account_number: str = Field(max_length=40, description="the account number, 4 to 17 digits")
    account_type: str = Field("DA", max_length=2, description="DA checking or SG savings")


class PayeeBankAccountRead(BaseModel):
    """Masked: the routing number and the account's last four digits, never the account number."""

    account_type: str
    routing_number_last4: str
    account_number_last4: str
    updated_at: datetime


class PayeeBankRead(BaseModel):
    payee_id: uuid.UUID
    bank_account: PayeeBankAccountRead | None
    """``None``: billing has no account, and the payee's EFT 835s are written as cheque advices (CHK)."""
    payment_method: str
    """``ACH`` with an account, ``CHK`` without."""
