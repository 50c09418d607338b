"""The premium payment record the member and employer portals show beside their invoices.

The list is billing's own API view (``GET /api/v1/billing/payments``, ``payment.read``), which
narrows to the caller's scope: a member sees the payments of the household accounts they are billed
on, an employer administrator the group's. Each payment names the invoices it was applied to
(billing's public ``invoice_numbers``, the payment's own account only) and what was left as credit.
A card payment shows the processor's reference, never card data: billing refuses a card number as
a reference (``service.record_payment``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from fastapi import Request
from fastapi.responses import Response

from olly.billing import api as billing_api
from olly.billing import public as billing_public
from olly.platform.auth import Access
from olly.platform.http import platform_of
from olly.web.rendering import render, wants_fragment

METHOD_LABELS: Final[dict[str, str]] = {
    "ACH": "ACH bank transfer",
    "CARD": "Card",
    "CHECK": "Cheque",
    "WIRE": "Wire transfer",
    "OTHER": "Other",
}


@dataclass(frozen=True, slots=True)
class Applied:
    invoice_number: str
    amount: str


@dataclass(frozen=True, slots=True)
class PaymentRow:
    received_on: date
    method: str
    reference: str
    currency: str
    amount: str
    applied: tuple[Applied, ...]
    credit: str


def payment_record(request: Request, access: Access) -> list[PaymentRow]:
    """The caller's premium payments, newest first, each with where its money went."""
    found = billing_api.list_payments(request, limit=100, access=access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        rows = []
        for p in found:
            numbers = billing_public.invoice_numbers(uow, p.account_id, [a.invoice_id for a in p.allocations])
            applied = sorted(
                (Applied(numbers[a.invoice_id], a.amount) for a in p.allocations if a.invoice_id in numbers),
                key=lambda a: a.invoice_number,
            )
            rows.append(
                PaymentRow(
                    received_on=p.received_at.date(),
                    method=METHOD_LABELS.get(p.method, p.method.title()),
                    reference=p.reference,
                    currency=p.currency,
                    amount=p.amount,
                    applied=tuple(applied),
                    credit=p.credit,
                )
            )
    return rows


def render_payments(request: Request, access: Access, portal: str, page: str) -> Response:
    """The record as a whole page, or only its table when the invoices page loads it (htmx)."""
    template = "_payments.html" if wants_fragment(request) else page
    return render(request, template, {"payments": payment_record(request, access), "portal": portal})
