"""How the policy decision point learns whose an invoice or a payment is.

* An invoice (``invoice``): a group's list bill belongs to the group (its employer administrators);
  a household's invoice belongs to the subscribers billed on it.
* A payment (``payment``): a group account's payments belong to the group; a household's to the
  subscribers billed on that account.

Only ids are selected (nothing is decrypted); unknown or malformed ids answer ``None``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from olly.billing import bank_accounts
from olly.billing.models import BillingAccount, Invoice, InvoiceLine, Payment
from olly.platform.auth import ResolveContext, ResourceFacts, ResourceRef
from olly.platform.auth.resolvers import parse_uuid
from olly.platform.db import UnitOfWork


def account_facts(uow: UnitOfWork, account_id: uuid.UUID) -> tuple[frozenset[uuid.UUID], frozenset[uuid.UUID]]:
    """(people, groups) of a billing account: a group account is its group's; a household's
    account is its subscribers'."""
    market = uow.session.scalar(select(BillingAccount.market).where(BillingAccount.account_id == account_id))
    if market == "GROUP":
        return frozenset(), frozenset({account_id})
    people = uow.session.scalars(
        select(InvoiceLine.member_id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.account_id == account_id)
        .distinct()
    )
    return frozenset(people), frozenset()


class InvoiceFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        invoice_id = parse_uuid(ref.resource_id)
        if invoice_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            row = uow.session.execute(select(Invoice.kind, Invoice.account_id).where(Invoice.id == invoice_id)).first()
            if row is None:
                return None
            if row.kind == "LIST_BILL":
                return ResourceFacts(
                    kind=ref.kind, resource_id=str(invoice_id), group_account_ids=frozenset({row.account_id})
                )
            people = frozenset(
                uow.session.scalars(select(InvoiceLine.member_id).where(InvoiceLine.invoice_id == invoice_id))
            )
        return ResourceFacts(kind=ref.kind, resource_id=str(invoice_id), party_ids=people)


class PaymentFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        payment_id = parse_uuid(ref.resource_id)
        if payment_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            account_id = uow.session.scalar(select(Payment.account_id).where(Payment.id == payment_id))
            if account_id is None:
                return None
            people, groups = account_facts(uow, account_id)
        return ResourceFacts(kind=ref.kind, resource_id=str(payment_id), party_ids=people, group_account_ids=groups)


class PayeeBankFacts:
    """A payee (provider id or NPI in the path): its account belongs to the provider's own users
    (its NPI and its id); an unknown payee is ``None``."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        payee = (ref.resource_id or "").strip()
        if not payee or len(payee) > 40:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            found = bank_accounts.payee_owner_ids(uow, payee)
        if found is None:
            return None
        payee_id, owners = found
        return ResourceFacts(kind=ref.kind, resource_id=str(payee_id), provider_ids=owners)
