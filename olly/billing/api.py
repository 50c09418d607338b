"""HTTP routes of the billing domain (``/api/v1/billing/...``).

Access: ``invoice.read``/``invoice.write`` and ``payment.read``/``payment.write``. Billing staff see
everything; an employer administrator its group's list bills and payments; a member the invoices
and payments of the household accounts they are billed on. Lists are narrowed by the caller's
scope. Billing runs, account settings, the ledger (reconciliation) and claim payment runs are
staff-only: another caller whose role reaches the route is answered 404. A payee's bank account
(``payee_bank_account.*``, the payee named by provider id or NPI): billing staff and administrators
write it, a provider user reads its own (masked), nobody reads the numbers. Resolvers: ``access.py``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from olly.billing import bank_accounts, public, service
from olly.billing.access import InvoiceFacts, PayeeBankFacts, PaymentFacts, account_facts
from olly.billing.models import BillingRun, Invoice, PayeeBankAccount, Payment
from olly.billing.personal_data import BillingPersonalData
from olly.billing.repository import BillingRepository
from olly.billing.rules import PaymentMethod
from olly.billing.schemas import (
    AccountSettingsRead,
    AccountSettingsUpdate,
    AgingRowRead,
    AllocationRead,
    BillingRunCreate,
    BillingRunDetailRead,
    BillingRunRead,
    BillingRunSummaryRead,
    InvoiceLineRead,
    InvoiceRead,
    LedgerBalanceRead,
    MoneyTotalRead,
    PaidClaimRead,
    PayeeBankAccountRead,
    PayeeBankRead,
    PayeeBankUpdate,
    PayeePaymentRead,
    PaymentCreate,
    PaymentRead,
    PaymentRunRead,
    PaymentRunSummaryRead,
    ReconciliationRead,
)
from olly.kernel.errors import FieldError, NotFound, ValidationFailed
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod, end_of_month
from olly.platform.auth import Access, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.auth.rules import AccessScope
from olly.platform.db import UnitOfWork
from olly.platform.http import platform_of
from olly.policy_admin import public as people

router = APIRouter(prefix="/api/v1/billing", tags=["billing"])


def install(control: AccessControl) -> None:
    control.resolvers.register("invoice", InvoiceFacts())
    control.resolvers.register("payment", PaymentFacts())
    control.resolvers.register("payee_bank_account", PayeeBankFacts())
    control.personal_data.register(BillingPersonalData())


def _m(minor: int, currency: str) -> str:
    return Money(minor, currency).to_decimal_string()


def _staff_only(request: Request, access: Access) -> None:
    if not access.scope.everything:
        raise access.refused(request, "staff_only")


def _account_in_scope(uow: UnitOfWork, scope: AccessScope, account_id: uuid.UUID) -> bool:
    if scope.everything:
        return True
    people, groups = account_facts(uow, account_id)
    return bool(groups & scope.group_account_ids) or bool(people and people <= scope.party_ids)


def _known_account(uow: UnitOfWork, account_id: uuid.UUID) -> None:
    """A payment or a setting names an account billing or policy_admin knows: billing opens its own
    row on first use, so an unknown id would otherwise become an account holding what was paid."""
    if BillingRepository(uow).billing_account(account_id) is None and people.account(uow, account_id) is None:
        raise ValidationFailed([FieldError("account_id", "no such account", "unknown_account")])


def _visible_accounts(uow: UnitOfWork, scope: AccessScope) -> list[uuid.UUID] | None:
    """The billing accounts a scope may list (None: all of them)."""
    if scope.everything:
        return None
    accounts = BillingRepository(uow).billing_accounts()
    return [a for a in accounts if _account_in_scope(uow, scope, a)]


def _invoice_read(uow: UnitOfWork, invoice: Invoice, *, with_lines: bool) -> InvoiceRead:
    c = invoice.currency
    lines = (
        [
            InvoiceLineRead(
                policy_id=line.policy_id,
                member_id=line.member_id,
                plan_code=line.plan_code,
                tier_code=line.tier_code,
                covered_people=line.covered_people,
                covered_from=line.covered_from,
                covered_to=line.covered_to,
                proration=line.proration,
                total=_m(line.total_minor, c),
                employer_share=_m(line.employer_minor, c),
                employee_share=_m(line.member_minor, c),
            )
            for line in BillingRepository(uow).lines(invoice.id)
        ]
        if with_lines
        else []
    )
    return InvoiceRead(
        id=invoice.id,
        invoice_number=invoice.invoice_number,
        account_id=invoice.account_id,
        kind=invoice.kind,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issued_on=invoice.issued_on,
        due_date=invoice.due_date,
        currency=c,
        total=_m(invoice.total_minor, c),
        employer_share=_m(invoice.employer_minor, c),
        employee_share=_m(invoice.member_minor, c),
        paid=_m(invoice.paid_minor, c),
        balance=_m(invoice.total_minor - invoice.paid_minor, c),
        status=invoice.status,
        status_reason=invoice.status_reason,
        lines=lines,
    )


def _payment_read(uow: UnitOfWork, payment: Payment) -> PaymentRead:
    c = payment.currency
    return PaymentRead(
        id=payment.id,
        account_id=payment.account_id,
        method=payment.method,
        reference=payment.reference,
        currency=c,
        amount=_m(payment.amount_minor, c),
        applied=_m(payment.applied_minor, c),
        credit=_m(payment.credit_minor, c),
        received_at=payment.received_at,
        allocations=[
            AllocationRead(invoice_id=a.invoice_id, amount=_m(a.amount_minor, c))
            for a in BillingRepository(uow).allocations_of_payment(payment.id)
        ],
    )


# ---------------------------------------------------------------------------------------------
@router.post("/runs", status_code=201, response_model=BillingRunRead, summary="Run billing for a month")
def create_run(
    body: BillingRunCreate, request: Request, access: Access = Depends(policy("invoice.write"))
) -> BillingRunRead:
    _staff_only(request, access)
    year, month = (int(part) for part in body.period.split("-"))
    start = date(year, month, 1)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        summary = service.run_billing(uow, DatePeriod(start, end_of_month(start)))
        return BillingRunRead(
            run_id=summary.run_id,
            period_start=summary.period_start,
            period_end=summary.period_end,
            invoice_count=summary.invoice_count,
            line_count=summary.line_count,
            total=_m(summary.total_minor, summary.currency),
            currency=summary.currency,
        )


def _run_summary(run: BillingRun) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "period_start": run.period_start,
        "period_end": run.period_end,
        "invoice_count": run.invoice_count,
        "line_count": run.line_count,
        "total": _m(run.total_minor, run.currency),
        "currency": run.currency,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


@router.get("/runs", response_model=list[BillingRunSummaryRead], summary="Past billing runs, newest first")
def list_runs(
    request: Request, limit: int = Query(50, ge=1, le=500), access: Access = Depends(policy("invoice.read"))
) -> list[BillingRunSummaryRead]:
    _staff_only(request, access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return [BillingRunSummaryRead(**_run_summary(r)) for r in BillingRepository(uow).billing_runs(limit)]


@router.get("/runs/{run_id}", response_model=BillingRunDetailRead, summary="A billing run and its invoices")
def read_run(
    run_id: uuid.UUID, request: Request, access: Access = Depends(policy("invoice.read"))
) -> BillingRunDetailRead:
    _staff_only(request, access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        repo = BillingRepository(uow)
        run = repo.billing_run(run_id)
        if run is None:
            raise NotFound("no such billing run")
        invoices = [_invoice_read(uow, i, with_lines=False) for i in repo.invoices_of_run(run_id)]
        return BillingRunDetailRead(**_run_summary(run), invoices=invoices)


@router.get("/payment-runs", response_model=list[PaymentRunSummaryRead], summary="Past claim payment runs")
def list_payment_runs(
    request: Request, limit: int = Query(50, ge=1, le=500), access: Access = Depends(policy("payment.read"))
) -> list[PaymentRunSummaryRead]:
    _staff_only(request, access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        repo = BillingRepository(uow)
        runs = repo.payment_runs(limit)
        totals = repo.payment_run_totals([r.id for r in runs])
        return [
            PaymentRunSummaryRead(
                run_id=r.id,
                run_date=r.run_date,
                payment_count=r.payment_count,
                claim_count=r.claim_count,
                totals=[MoneyTotalRead(amount=_m(t, c), currency=c) for c, t in totals.get(r.id, [])],
                created_at=r.created_at,
            )
            for r in runs
        ]


@router.get("/invoices", response_model=list[InvoiceRead], summary="Invoices the caller may see")
def list_invoices(
    request: Request,
    status: str | None = Query(None, pattern=r"^(OPEN|PARTIALLY_PAID|PAID|VOID)$"),
    limit: int = Query(100, ge=1, le=500),
    access: Access = Depends(policy("invoice.read")),
) -> list[InvoiceRead]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        accounts = _visible_accounts(uow, access.scope)
        invoices = BillingRepository(uow).invoices(accounts, status, limit)
        if not access.scope.everything:  # a member never sees a group's list bill
            invoices = [i for i in invoices if i.kind != "LIST_BILL" or i.account_id in access.scope.group_account_ids]
        return [_invoice_read(uow, i, with_lines=False) for i in invoices]


@router.get("/invoices/{invoice_id}", response_model=InvoiceRead, summary="An invoice with its lines")
def read_invoice(
    invoice_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("invoice.read", resource=path("invoice_id"))),
) -> InvoiceRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        invoice = BillingRepository(uow).invoice(invoice_id)
        if invoice is None:
            raise NotFound("no such invoice")
        return _invoice_read(uow, invoice, with_lines=True)


@router.post("/payments", status_code=201, response_model=PaymentRead, summary="Record a payment received")
def create_payment(
    body: PaymentCreate, request: Request, access: Access = Depends(policy("payment.write"))
) -> PaymentRead:
    amount = Money.parse(body.amount, body.currency)
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        related = _account_in_scope(uow, access.scope, body.account_id)
    if not related:
        raise access.refused(request, "not_related", resource_id=str(body.account_id))
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        _known_account(uow, body.account_id)
        payment = service.record_payment(uow, body.account_id, amount, PaymentMethod(body.method), body.reference)
        uow.flush()
        platform.audit.append(uow.session.connection(), [access.audit_record(resource_id=str(payment.id))])
        return _payment_read(uow, payment)


@router.get("/payments", response_model=list[PaymentRead], summary="Payments the caller may see")
def list_payments(
    request: Request,
    limit: int = Query(100, ge=1, le=500),
    access: Access = Depends(policy("payment.read")),
) -> list[PaymentRead]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        accounts = _visible_accounts(uow, access.scope)
        return [_payment_read(uow, p) for p in BillingRepository(uow).payments(accounts, limit)]


@router.get("/payments/{payment_id}", response_model=PaymentRead, summary="A payment and where it went")
def read_payment(
    payment_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("payment.read", resource=path("payment_id"))),
) -> PaymentRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        payment = BillingRepository(uow).payment(payment_id)
        if payment is None:
            raise NotFound("no such payment")
        return _payment_read(uow, payment)


@router.put("/account-settings", response_model=AccountSettingsRead, summary="How an account is billed")
def update_settings(
    body: AccountSettingsUpdate,
    request: Request,
    access: Access = Depends(policy("invoice.write")),
) -> AccountSettingsRead:
    _staff_only(request, access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        _known_account(uow, body.account_id)
        account = service.configure_account(
            uow,
            body.account_id,
            market=body.market,
            currency=body.currency,
            proration=body.proration,
            receives_aptc=body.receives_aptc,
        )
        return AccountSettingsRead(
            account_id=account.account_id,
            market=account.market,
            currency=account.currency,
            proration=account.proration,
            receives_aptc=account.receives_aptc,
        )


@router.get("/ledger/reconciliation", response_model=ReconciliationRead, summary="Prove the books balance")
def reconciliation(request: Request, access: Access = Depends(policy("payment.read"))) -> ReconciliationRead:
    _staff_only(request, access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        report = service.reconcile(uow)
    currency = report.balances[0].currency if report.balances else "USD"
    return ReconciliationRead(
        clean=report.is_clean,
        total_debits=_m(report.debit_minor, currency),
        total_credits=_m(report.credit_minor, currency),
        balances=[
            LedgerBalanceRead(
                ledger_account=b.ledger_account,
                currency=b.currency,
                debits=_m(b.debit_minor, b.currency),
                credits=_m(b.credit_minor, b.currency),
            )
            for b in report.balances
        ],
        problems=list(report.problems),
        payments_checked=report.payments_checked,
    )


@router.get("/aging", response_model=list[AgingRowRead], summary="Open balances by days past due")
def aging(
    request: Request,
    as_of: date | None = Query(None, description="the day aged to; today when omitted"),
    access: Access = Depends(policy("invoice.read")),
) -> list[AgingRowRead]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        accounts = _visible_accounts(uow, access.scope)
        rows = service.aging(uow, as_of)
    return [
        AgingRowRead(
            account_id=row.account_id,
            currency=row.currency,
            buckets={k: _m(v, row.currency) for k, v in row.buckets.items()},
            total=_m(row.total_minor, row.currency),
        )
        for row in rows
        if accounts is None or row.account_id in accounts
    ]


@router.post("/payment-runs", status_code=201, response_model=PaymentRunRead, summary="Pay approved claims")
def create_payment_run(request: Request, access: Access = Depends(policy("payment.write"))) -> PaymentRunRead:
    _staff_only(request, access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        run = service.run_claim_payments(uow)
        uow.flush()
        return _run_read(uow, run.id)


@router.get("/payment-runs/{run_id}", response_model=PaymentRunRead, summary="A claim payment run, per payee")
def read_payment_run(
    run_id: uuid.UUID, request: Request, access: Access = Depends(policy("payment.read"))
) -> PaymentRunRead:
    _staff_only(request, access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return _run_read(uow, run_id)


def _run_read(uow: UnitOfWork, run_id: uuid.UUID) -> PaymentRunRead:
    advice = public.payment_run(uow, run_id)
    if advice is None:
        raise NotFound("no such payment run")
    return PaymentRunRead(
        run_id=advice.run_id,
        run_date=advice.run_date,
        payments=[
            PayeePaymentRead(
                payment_id=p.payment_id,
                payee=p.payee,
                payee_id=p.payee_id,
                payee_npi=p.payee_npi,
                amount=_m(p.amount_minor, p.currency),
                currency=p.currency,
                paid_on=p.paid_on,
                method=p.method,
                trace_number=p.trace_number,
                claims=[PaidClaimRead(claim_id=c.claim_id, paid=_m(c.paid_minor, p.currency)) for c in p.claims],
            )
            for p in advice.payments
        ],
    )


# ---------------------------------------------------------------------------------------------
def _bank_read(payee_id: uuid.UUID, row: PayeeBankAccount | None) -> PayeeBankRead:
    account = (
        PayeeBankAccountRead(
            account_type=row.account_type,
            routing_number_last4=row.routing_number[-4:],
            account_number_last4=row.account_number[-4:],
            updated_at=row.updated_at,
        )
        if row is not None
        else None
    )
    return PayeeBankRead(payee_id=payee_id, bank_account=account, payment_method="ACH" if account else "CHK")


def _payee_id(access: Access) -> uuid.UUID:
    facts = access.facts  # the resolver found the payee: its provider id
    if facts is None or facts.resource_id is None:  # pragma: no cover - the policy resolves it first
        raise NotFound("no such payee")
    return uuid.UUID(facts.resource_id)


@router.get(
    "/payees/{payee_id}/bank-account",
    response_model=PayeeBankRead,
    summary="Where a payee's EFTs go, masked (the last four digits)",
)
def read_payee_bank(
    payee_id: str,
    request: Request,
    access: Access = Depends(policy("payee_bank_account.read", resource=path("payee_id"))),
) -> PayeeBankRead:
    payee = _payee_id(access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return _bank_read(payee, bank_accounts.payee_bank(uow, payee))


@router.put(
    "/payees/{payee_id}/bank-account",
    response_model=PayeeBankRead,
    summary="Record or replace the bank account a payee's EFTs go to",
)
def update_payee_bank(
    payee_id: str,
    body: PayeeBankUpdate,
    request: Request,
    access: Access = Depends(policy("payee_bank_account.write", resource=path("payee_id"))),
) -> PayeeBankRead:
    payee = _payee_id(access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        row = bank_accounts.set_payee_bank(
            uow,
            payee,
            routing_number=body.routing_number,
            account_number=body.account_number,
            account_type=body.account_type.upper(),
            actor=access.principal.subject,
            role=access.principal.role_label,
        )
        return _bank_read(payee, row)


@router.delete("/payees/{payee_id}/bank-account", status_code=204, summary="Forget a payee's bank account")
def delete_payee_bank(
    payee_id: str,
    request: Request,
    access: Access = Depends(policy("payee_bank_account.write", resource=path("payee_id"))),
) -> None:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        bank_accounts.remove_payee_bank(
            uow, _payee_id(access), actor=access.principal.subject, role=access.principal.role_label
        )
