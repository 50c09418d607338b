"""What a notification says: pure decisions over an event's payload and a template's parameters.

An event becomes at most one ``Notice`` (a template key, its parameters, the page it links to);
the words are chosen when the inbox is read, so a stored notification holds no sentence, only the
few values the template needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str
    parameters: dict[str, str] = field(default_factory=dict)
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


def _amount(value: Any, currency: Any) -> str:
    return f"{value} {currency or 'USD'}"


def _minor(cents: Any, currency: Any) -> str:
    """The one amount the catalog carries in minor units (``premiumCents``), as a decimal string."""
    value = int(cents)
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d} {currency or 'USD'}"


def claim_notice(payload: dict[str, Any]) -> Notice | None:
    """``claims.claim.adjudicated``: the explanation of benefits is ready (approved) or the claim was denied."""
    link = f"/claims/{payload['claimId']}"
    if payload.get("eventType") == "CLAIM_APPROVED":
        currency = payload.get("currency", "USD")
        return Notice(
            "CLAIM_APPROVED",
            {
                "paid": _amount(payload["paidAmount"], currency),
                "owed": _amount(payload["memberResponsibility"], currency),
            },
            link,
        )
    if payload.get("eventType") == "CLAIM_DENIED":
        return Notice("CLAIM_DENIED", {"appeal_deadline": str(payload["appealDeadline"])}, link)
    return None


def claim_paid_notice(payload: dict[str, Any]) -> Notice | None:
    """``claims.claim.paid``: only a payment to the member (a reimbursement) is news to them."""
    if payload.get("payee") != "MEMBER":
        return None
    return Notice(
        "REIMBURSEMENT_PAID",
        {"amount": _amount(payload["paidAmount"], payload.get("currency"))},
        f"/claims/{payload['claimId']}",
    )


PRIOR_AUTH_KINDS: Final = {
    "PRIOR_AUTH_APPROVED": "PRIOR_AUTH_APPROVED",
    "PRIOR_AUTH_DENIED": "PRIOR_AUTH_DENIED",
    "PRIOR_AUTH_PENDED": "PRIOR_AUTH_PENDED",
}


def prior_auth_notice(payload: dict[str, Any]) -> Notice | None:
    kind = PRIOR_AUTH_KINDS.get(str(payload.get("eventType")))
    if kind is None:
        return None
    parameters = {}
    if payload.get("validFrom") and payload.get("validTo"):
        parameters = {"valid_from": str(payload["validFrom"]), "valid_to": str(payload["validTo"])}
    return Notice(kind, parameters, "/prior-authorisations")


def invoice_notice(payload: dict[str, Any]) -> Notice:
    return Notice(
        "INVOICE_GENERATED",
        {
            "total": _amount(payload["totalAmount"], payload.get("currency")),
            "due_date": str(payload["dueDate"]),
        },
        "/invoices",
    )


def payment_notice(payload: dict[str, Any]) -> Notice:
    return Notice("PAYMENT_RECEIVED", {"amount": _amount(payload["amount"], payload.get("currency"))}, "/invoices")


def missed_payment_notice(payload: dict[str, Any]) -> Notice | None:
    kind = str(payload.get("eventType"))
    if kind not in ("PAYMENT_MISSED", "GRACE_PERIOD_STARTED", "GRACE_PERIOD_EXPIRED"):
        return None
    parameters = {
        "premium": _minor(payload["premiumCents"], payload.get("currency")),
        "grace_end": str(payload["gracePeriodEndDate"]),
    }
    if payload.get("coverageEndDate"):
        parameters["coverage_end"] = str(payload["coverageEndDate"])
    return Notice(kind, parameters, "/invoices")


def activation_notice(payload: dict[str, Any]) -> Notice:
    return Notice("COVERAGE_ACTIVATED", {"effective_date": str(payload["effectiveDate"])}, "/coverage")


def cobra_notice(payload: dict[str, Any]) -> Notice:
    """The election notice a qualified beneficiary gets after a qualifying event: this is how Olly
    sends it. The message links the printed notice itself (the PDF enrollment sealed for the case),
    which the beneficiary, or the parent of a minor beneficiary, opens from the inbox."""
    return Notice(
        "COBRA_ELECTION_NOTICE",
        {"event_date": str(payload["qualifyingEventDate"]), "deadline": str(payload["electionDeadline"])},
        cobra_notice_link(payload["cobraCaseId"]),
    )


def cobra_notice_link(case_id: Any) -> str:
    """The printed election notice of a COBRA case (``GET /api/v1/cobra-cases/{id}/notice.pdf``)."""
    return f"/api/v1/cobra-cases/{case_id}/notice.pdf"


def cobra_elected_notice(payload: dict[str, Any]) -> Notice:
    return Notice(
        "COBRA_ELECTED",
        {
            "start": str(payload["coverageStartDate"]),
            "end": str(payload["coverageEndDate"]),
            "premium": _amount(payload["monthlyPremium"], payload.get("currency")),
            "due_date": str(payload["firstPremiumDueDate"]),
        },
        "/invoices",
    )


#: A kind per reason, so the stored notification holds a code and the template says why.
COBRA_EXTENDED_KINDS: Final = {"DISABILITY": "COBRA_EXTENDED_DISABILITY", "SECOND_EVENT": "COBRA_EXTENDED_SECOND_EVENT"}
#: Nobody is told of their own death: a continuation ended by it notifies no one.
COBRA_ENDED_KINDS: Final = {
    "OTHER_GROUP_COVERAGE": "COBRA_ENDED_OTHER_GROUP_COVERAGE",
    "MEDICARE_ENTITLEMENT": "COBRA_ENDED_MEDICARE_ENTITLEMENT",
    "NON_PAYMENT": "COBRA_ENDED_NON_PAYMENT",
    "CANCELLED": "COBRA_ENDED_CANCELLED",
}


def cobra_extended_notice(payload: dict[str, Any]) -> Notice | None:
    """``enrollment.cobra.extended``: continuation now ends later."""
    kind = COBRA_EXTENDED_KINDS.get(str(payload.get("extension")))
    if kind is None:
        return None
    return Notice(
        kind,
        {"previous_end": str(payload["previousCoverageEndDate"]), "end": str(payload["coverageEndDate"])},
        "/coverage",
    )


def cobra_ended_notice(payload: dict[str, Any]) -> Notice | None:
    """``enrollment.cobra.ended``: continuation ended before its maximum period."""
    kind = COBRA_ENDED_KINDS.get(str(payload.get("reason")))
    if kind is None:
        return None
    return Notice(kind, {"end": str(payload["coverageEndDate"])}, "/coverage")


#: Each template: its title, and its body with ``{parameter}`` places.
TEMPLATES: Final[dict[str, tuple[str, str]]] = {
    "CLAIM_APPROVED": (
        "Your explanation of benefits is ready",
        "A claim was processed: the plan pays {paid} and your share is {owed}.",
    ),
    "CLAIM_DENIED": (
        "A claim was not paid",
        "A claim was denied. You may appeal until {appeal_deadline}.",
    ),
    "REIMBURSEMENT_PAID": ("Your reimbursement was paid", "We paid you {amount} for a claim you submitted."),
    "PRIOR_AUTH_APPROVED": (
        "A prior authorisation was approved",
        "The care requested was approved from {valid_from} to {valid_to}.",
    ),
    "PRIOR_AUTH_DENIED": ("A prior authorisation was denied", "A request for care was denied. See the decision."),
    "PRIOR_AUTH_PENDED": (
        "A prior authorisation needs more information",
        "The request is on hold until the provider sends what the reviewer asked for.",
    ),
    "INVOICE_GENERATED": ("Your premium invoice is ready", "An invoice of {total} is due on {due_date}."),
    "PAYMENT_RECEIVED": ("Payment received", "We received your payment of {amount}. Thank you."),
    "PAYMENT_MISSED": (
        "A premium payment was missed",
        "A premium of {premium} was not paid. Pay it by {grace_end} to keep your coverage.",
    ),
    "GRACE_PERIOD_STARTED": (
        "Your grace period has started",
        "A premium of {premium} is overdue. Pay it by {grace_end} to keep your coverage.",
    ),
    "GRACE_PERIOD_EXPIRED": (
        "Your coverage has ended",
        "The premium of {premium} was not paid by {grace_end}. Coverage ended on {coverage_end}.",
    ),
    "COVERAGE_ACTIVATED": ("Your coverage is active", "Your plan covers you from {effective_date}."),
    "COBRA_ELECTION_NOTICE": (
        "You may continue your coverage (COBRA)",
        "After the qualifying event of {event_date} you may keep your group coverage: elect continuation "
        "coverage by {deadline} and it continues with no gap. Your election notice (PDF) gives the dates, "
        "the premium and how to elect.",
    ),
    "COBRA_ELECTED": (
        "Your continuation coverage is elected",
        "COBRA continuation covers you from {start} to {end} at {premium} a month; the first premium is "
        "due by {due_date}.",
    ),
    "COBRA_EXTENDED_DISABILITY": (
        "Your continuation coverage was extended",
        "After a Social Security disability determination, COBRA continuation may cover you until {end} "
        "(instead of {previous_end}).",
    ),
    "COBRA_EXTENDED_SECOND_EVENT": (
        "Your continuation coverage was extended",
        "After a second qualifying event, COBRA continuation may cover you until {end} (instead of {previous_end}).",
    ),
    "COBRA_ENDED_OTHER_GROUP_COVERAGE": (
        "Your continuation coverage ends",
        "You are covered by another group health plan, so COBRA continuation ends early: it covers you until {end}.",
    ),
    "COBRA_ENDED_MEDICARE_ENTITLEMENT": (
        "Your continuation coverage ends",
        "You are entitled to Medicare, so COBRA continuation ends early: it covers you until {end}.",
    ),
    "COBRA_ENDED_NON_PAYMENT": (
        "Your continuation coverage ended",
        "The continuation premium was not paid in time, so COBRA continuation ended: it covered you until {end}.",
    ),
    "COBRA_ENDED_CANCELLED": (
        "Your continuation coverage ends",
        "Your COBRA continuation coverage was cancelled: it covers you until {end}.",
    ),
}

UNKNOWN: Final = Message("A message from your plan", "Open your account for the details.")


def message_of(kind: str, parameters: dict[str, Any] | None) -> Message:
    """The words of a notification; a template whose parameters are missing says less, never fails."""
    template = TEMPLATES.get(kind)
    if template is None:
        return UNKNOWN
    title, body = template
    try:
        return Message(title, body.format(**(parameters or {})))
    except (KeyError, IndexError):
        return Message(title, "Open your account for the details.")
