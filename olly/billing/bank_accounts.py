"""Payee bank accounts: where a provider's EFT goes (``billing.payee_bank_accounts``).

The routing and account numbers are encrypted at rest (PHI columns under the tenant's data key) and
never appear in logs, errors or events; what is shown is masked (the last four digits). The EDI
gateway reads them through ``billing.public.payee_bank_account`` to name the payee's bank in an
EFT 835 (BPR13/BPR15)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from olly.billing.models import PayeeBankAccount
from olly.billing.repository import BillingRepository
from olly.kernel.errors import FieldError, NotFound, ValidationFailed
from olly.kernel.ids import uuid7
from olly.platform.audit import AuditRecord, AuditTrail
from olly.platform.db import UnitOfWork

ACCOUNT_TYPES = frozenset({"DA", "SG"})
"""DA checking (demand deposit), SG savings: X12 BPR14 codes."""


def resolve_payee(uow: UnitOfWork, payee: str) -> uuid.UUID:
    """A payee named by its provider id, or by an NPI (10 digits) looked up in the provider directory.

    A malformed name is a validation error; an NPI nobody registered is not found. A provider id is
    taken as given (the payee of a claim payment is its provider's id)."""
    from olly.provider import public as providers

    payee = payee.strip()
    if len(payee) == 10 and payee.isdigit():
        found = providers.provider_by_npi(uow, payee)
        if found is None:
            raise NotFound("no provider has this NPI")
        return found.provider_id
    try:
        return uuid.UUID(payee)
    except ValueError:
        raise ValidationFailed(
            [FieldError("payee", "must be a provider id or a 10-digit NPI", "invalid_payee")]
        ) from None


def payee_owner_ids(uow: UnitOfWork, payee: str) -> tuple[uuid.UUID, frozenset[str]] | None:
    """The registered provider a payee name designates, and how its own users name it (its NPI and
    its id): only they, besides staff, may see its bank account. ``None``: no such provider."""
    from olly.provider import public as providers

    try:
        payee_id = resolve_payee(uow, payee)
    except (NotFound, ValidationFailed):
        return None
    found = providers.provider_by_id(uow, payee_id)
    if found is None:
        return None
    return found.provider_id, frozenset({found.npi, str(found.provider_id)})


def valid_routing_number(value: str) -> bool:
    """An ABA routing number: nine digits whose weighted sum (3, 7, 1 …) is a multiple of ten."""
    if len(value) != 9 or not value.isdigit():
        return False
    digits = [int(c) for c in value]
    return sum(d * w for d, w in zip(digits, (3, 7, 1) * 3, strict=True)) % 10 == 0


def _check(routing: str, account: str, account_type: str) -> None:
    errors = []
    if not valid_routing_number(routing):
        errors.append(FieldError("routing_number", "must be a 9-digit ABA routing number", "invalid_routing_number"))
    if not (4 <= len(account) <= 17 and account.isdigit()):
        errors.append(FieldError("account_number", "must be 4 to 17 digits", "invalid_account_number"))
    if account_type not in ACCOUNT_TYPES:
        errors.append(FieldError("account_type", "must be DA (checking) or SG (savings)", "invalid_account_type"))
    if errors:
        raise ValidationFailed(errors)


def _row(uow: UnitOfWork, payee_id: uuid.UUID) -> PayeeBankAccount | None:
    return uow.session.scalars(select(PayeeBankAccount).where(PayeeBankAccount.payee_id == payee_id)).first()


def _audit(uow: UnitOfWork, action: str, payee_id: uuid.UUID, actor: str, role: str) -> None:
    """Who changed where a payee's money goes, in the audit trail, in the same transaction (no numbers)."""
    AuditTrail(uow.session.info["database"]).append(
        uow.session.connection(),
        [
            AuditRecord(
                subject=actor,
                role=role,
                action=action,
                resource_type="payee_bank_account",
                resource_id=str(payee_id),
                tenant_id=uow.tenant_id,
            )
        ],
    )


def set_payee_bank(
    uow: UnitOfWork,
    payee_id: uuid.UUID,
    *,
    routing_number: str,
    account_number: str,
    account_type: str = "DA",
    actor: str = "cli",
    role: str = "operator",
) -> PayeeBankAccount:
    """Record (or replace) a payee's bank account, audited; refuses bad numbers before writing anything."""
    routing, account = routing_number.strip(), account_number.strip().replace(" ", "")
    _check(routing, account, account_type)
    now = uow.clock.now()
    row = _row(uow, payee_id)
    if row is None:
        row = PayeeBankAccount(id=uuid7(), payee_id=payee_id, created_at=now)
        uow.session.add(row)
    row.routing_number, row.account_number, row.account_type, row.updated_at = routing, account, account_type, now
    uow.flush()
    _audit(uow, "payee_bank.write", payee_id, actor, role)
    return row


def payee_bank(uow: UnitOfWork, payee_id: uuid.UUID) -> PayeeBankAccount | None:
    return _row(uow, payee_id)


def payee_bank_for_payment(uow: UnitOfWork, payee_id: uuid.UUID) -> PayeeBankAccount | None:
    """The account a payment to ``payee_id`` goes to: its own, else the latest one kept under another
    provider id of the same billing NPI. A provider whose first claims came before it joined the
    registry is known by two ids (claims' id derived from its NPI, then the registry's); its account
    may have been recorded under either, and its payments are made under the registry's."""
    row = _row(uow, payee_id)
    if row is not None:
        return row
    repo = BillingRepository(uow)
    npi = repo.npi_of_provider(payee_id)
    if npi is None:
        return None
    others = sorted(repo.provider_ids_of_npi(npi) - {payee_id})
    if not others:
        return None
    return uow.session.scalars(
        select(PayeeBankAccount)
        .where(PayeeBankAccount.payee_id.in_(others))
        .order_by(PayeeBankAccount.updated_at.desc(), PayeeBankAccount.id)
    ).first()


def remove_payee_bank(uow: UnitOfWork, payee_id: uuid.UUID, *, actor: str = "cli", role: str = "operator") -> None:
    row = _row(uow, payee_id)
    if row is None:
        raise NotFound("this payee has no bank account")
    uow.session.delete(row)
    uow.flush()
    _audit(uow, "payee_bank.delete", payee_id, actor, role)


def masked(number: str) -> str:
    """``••••6789``: enough to recognise an account, never the number."""
    return "••••" + number[-4:]
