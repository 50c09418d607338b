"""``olly billing …``: billing runs, payments, reconciliation, aging and claim payment runs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from olly.kernel.errors import OllyError

app = typer.Typer(help="Billing: premium invoices, payments, the ledger and claim payment runs.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _fail(exc: OllyError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc.detail}", highlight=False, markup=False)
    return typer.Exit(1)


@contextmanager
def _platform() -> Iterator[Any]:
    from sqlalchemy.exc import SQLAlchemyError

    from olly.platform.runtime import build_platform

    try:
        platform = build_platform()
    except OllyError as exc:
        raise _fail(exc) from None
    try:
        yield platform
    except OllyError as exc:
        raise _fail(exc) from None
    except SQLAlchemyError as exc:
        err.print(f"[bold red]error:[/] database error ({type(exc).__name__}); has `olly db upgrade` run?")
        raise typer.Exit(1) from None
    finally:
        platform.close()


def _money(minor: int, currency: str) -> str:
    from olly.kernel.money import Money

    return Money(minor, currency).to_decimal_string()


def _month(text: str | None) -> date | None:
    if text is None:
        return None
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        err.print("[bold red]error:[/] --period must be a month, YYYY-MM")
        raise typer.Exit(2)
    year, month = (int(part) for part in text.split("-"))
    return date(year, month, 1)


def _uuid(text: str, option: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        err.print(f"[bold red]error:[/] {option} must be a UUID")
        raise typer.Exit(2) from None


@app.command("run")
def run(
    period: Annotated[str | None, typer.Option(help="the month to bill, YYYY-MM (default: next month)")] = None,
) -> None:
    """Invoice every billable policy for a month (a rerun bills only what is not billed yet)."""
    from olly.billing import service
    from olly.kernel.periods import DatePeriod, end_of_month

    with _platform() as platform:
        start = _month(period)
        if start is None:
            today = platform.clock.today()
            start = end_of_month(today) + timedelta(days=1)
        with (
            Progress(
                TextColumn("billing {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
            ) as progress,
            platform.db.unit_of_work(platform.settings.default_tenant_id) as uow,
        ):
            task = progress.add_task(f"{start:%Y-%m}", total=None)
            summary = service.run_billing(
                uow,
                DatePeriod(start, end_of_month(start)),
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    out.print(
        f"{start:%Y-%m}: {summary.invoice_count} invoice(s), {summary.line_count} line(s), "
        f"{_money(summary.total_minor, summary.currency)} {summary.currency}"
    )


@app.command("pay")
def pay(
    account: Annotated[str, typer.Option(help="the billing account (group or household) id")],
    amount: Annotated[str, typer.Option(help='the amount, a decimal string such as "480.00"')],
    reference: Annotated[str, typer.Option(help="the ACH trace, cheque number or processor payment id")],
    method: Annotated[str, typer.Option(help="ACH, CARD, CHECK, WIRE or OTHER")] = "ACH",
    currency: Annotated[str, typer.Option(help="ISO 4217 currency")] = "USD",
) -> None:
    """Record a payment received: applied to the oldest open invoices, the rest kept as credit."""
    from olly.billing import service
    from olly.billing.rules import PaymentMethod
    from olly.kernel.money import Money

    account_id = _uuid(account, "--account")
    if method.upper() not in PaymentMethod.__members__:
        err.print("[bold red]error:[/] --method must be one of ACH, CARD, CHECK, WIRE, OTHER")
        raise typer.Exit(2)
    with _platform() as platform, platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        payment = service.record_payment(
            uow, account_id, Money.parse(amount, currency.upper()), PaymentMethod[method.upper()], reference
        )
        applied, credit, c = payment.applied_minor, payment.credit_minor, payment.currency
        payment_id = payment.id
    out.print(f"payment {payment_id}: {_money(applied, c)} applied, {_money(credit, c)} to credit")


@app.command("adjust")
def adjust(policy: Annotated[str, typer.Option(help="the policy (enrollment) id")]) -> None:
    """Re-rate the months already billed to a policy and bill (or credit) the difference."""
    from olly.billing import service

    policy_id = _uuid(policy, "--policy")
    with _platform() as platform, platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        summary = service.adjust_policy(uow, policy_id)
    c = summary.currency
    if not summary.invoice_ids:
        out.print(f"policy {policy_id}: nothing to adjust")
        return
    out.print(
        f"policy {policy_id}: {len(summary.invoice_ids)} adjustment invoice(s), {summary.line_count} line(s), "
        f"net {_money(summary.total_minor, c)} {c}, {_money(summary.credited_minor, c)} {c} to credit"
    )


@app.command("reconcile")
def reconcile() -> None:
    """Prove the books: Σ debits = Σ credits overall, per posting and per account, and payments
    match invoices. Exits 1 when anything is off."""
    from olly.billing import service

    with _platform() as platform, platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        report = service.reconcile(uow)
    table = Table("ledger account", "currency", "debits", "credits", "balance")
    for b in report.balances:
        table.add_row(
            b.ledger_account,
            b.currency,
            _money(b.debit_minor, b.currency),
            _money(b.credit_minor, b.currency),
            _money(b.debit_minor - b.credit_minor, b.currency),
        )
    out.print(table)
    out.print(
        f"Σ debits {report.debit_minor} = Σ credits {report.credit_minor} (minor units); "
        f"{report.payments_checked} payment(s) matched to invoices"
    )
    for problem in report.problems:
        err.print(f"[bold red]problem:[/] {problem}", highlight=False, markup=False)
    if not report.is_clean:
        raise typer.Exit(1)
    out.print("[green]clean[/]")


@app.command("aging")
def aging(as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today)")] = None) -> None:
    """Open balances per account by days past due: 0-30, 31-60, 61-90, 90+."""
    from olly.billing import service
    from olly.billing.rules import AGING_BUCKETS

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        err.print("[bold red]error:[/] --as-of must be a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None
    with _platform() as platform, platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        rows = service.aging(uow, day)
    table = Table("account", "currency", *AGING_BUCKETS, "total")
    for row in rows:
        table.add_row(
            str(row.account_id),
            row.currency,
            *(_money(row.buckets[b], row.currency) for b in AGING_BUCKETS),
            _money(row.total_minor, row.currency),
        )
    out.print(table)


@app.command("payment-run")
def payment_run() -> None:
    """Pay every approved, unpaid claim: one payment per payee."""
    from olly.billing import public, service

    with _platform() as platform, platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        run = service.run_claim_payments(uow)
        uow.flush()
        advice = public.payment_run(uow, run.id)
    assert advice is not None
    table = Table("payee", "payee id", "method", "trace", "claims", "amount")
    for p in advice.payments:
        table.add_row(
            p.payee, str(p.payee_id), p.method, p.trace_number, str(len(p.claims)), _money(p.amount_minor, p.currency)
        )
    out.print(table)
    out.print(f"run {advice.run_id}: {len(advice.payments)} payment(s)")


payee_bank_app = typer.Typer(help="Payee bank accounts: where a provider's EFTs go (the 835 names it).")
app.add_typer(payee_bank_app, name="payee-bank")


def _payee(uow: Any, payee: str) -> uuid.UUID:
    """A provider id, or an NPI (10 digits) looked up in the provider directory."""
    from olly.billing import bank_accounts
    from olly.kernel.errors import ValidationFailed

    try:
        return bank_accounts.resolve_payee(uow, payee)
    except ValidationFailed:
        err.print("[bold red]error:[/] PAYEE must be a provider id or a 10-digit NPI")
        raise typer.Exit(2) from None


@payee_bank_app.command("set")
def payee_bank_set(
    payee: Annotated[str, typer.Argument(help="the provider id or NPI")],
    routing: Annotated[str, typer.Option("--routing", help="ABA routing number (9 digits)")],
    account: Annotated[str, typer.Option("--account", help="account number (4 to 17 digits)")],
    account_type: Annotated[str, typer.Option("--type", help="DA checking or SG savings")] = "DA",
) -> None:
    """Record (or replace) the bank account a provider's EFTs go to; stored encrypted."""
    from olly.billing import bank_accounts

    with _platform() as platform, platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        payee_id = _payee(uow, payee)
        row = bank_accounts.set_payee_bank(
            uow, payee_id, routing_number=routing, account_number=account, account_type=account_type.upper()
        )
        out.print(
            f"payee {payee_id}: {row.account_type} account {bank_accounts.masked(row.account_number)} saved",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@payee_bank_app.command("show")
def payee_bank_show(payee: Annotated[str, typer.Argument(help="the provider id or NPI")]) -> None:
    """The payee's bank account, masked (routing number and the account's last four digits)."""
    from olly.billing import bank_accounts

    with _platform() as platform, platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        payee_id = _payee(uow, payee)
        row = bank_accounts.payee_bank(uow, payee_id)
        if row is None:
            err.print("no bank account: this payee's EFT 835s are written as cheque advices (CHK)")
            raise typer.Exit(1)
        out.print(
            f"payee {payee_id}: routing {row.routing_number}, {row.account_type} account "
            f"{bank_accounts.masked(row.account_number)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@payee_bank_app.command("remove")
def payee_bank_remove(payee: Annotated[str, typer.Argument(help="the provider id or NPI")]) -> None:
    """Forget the payee's bank account."""
    from olly.billing import bank_accounts

    with _platform() as platform, platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        payee_id = _payee(uow, payee)
        bank_accounts.remove_payee_bank(uow, payee_id)
        out.print(f"payee {payee_id}: bank account removed", markup=False, highlight=False, soft_wrap=True)
