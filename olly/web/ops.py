"""The operations console: dashboard, pended-claims review, credentialing queue, dead-letter browser
with redrive, audit search. Pages still waiting to be wired are listed in ``pending.py``."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from olly.billing import api as billing_api
from olly.billing.schemas import BillingRunCreate
from olly.claims import api as claims_api
from olly.claims import prior_auth_api
from olly.claims import public as claims_public
from olly.claims.authorization_schemas import PriorAuthDecisionIn
from olly.claims.schemas import LineDecisionCreate
from olly.kernel.errors import OllyError
from olly.platform import audit
from olly.platform.auth import SELF, Access, path, policy
from olly.platform.bus import api as bus_api
from olly.platform.bus import dlq
from olly.platform.http import platform_of
from olly.provider import public as provider_public
from olly.web.charts import bar_chart
from olly.web.rendering import PORTAL_TAG, outside, redirect, render

router = APIRouter(prefix="/ops", tags=[PORTAL_TAG], include_in_schema=False)
DLQ_SCAN_LIMIT = 1000
CLAIMS_DAYS = 7
DECISIONS: Final = ("APPROVE", "DENY", "ADJUST")


@router.get("")
def home(request: Request, access: Access = Depends(policy("session.read", resource=SELF))) -> Response:
    return outside(access.principal.roles, "/ops") or render(request, "ops/home.html", {"portal": "ops"})


@router.get("/dashboard")
def dashboard(request: Request, access: Access = Depends(policy("bus.read"))) -> Response:
    letters = dlq.list_dead_letters(platform_of(request).db, limit=DLQ_SCAN_LIMIT, tenant_id=access.principal.tenant_id)
    depth = Counter(letter.topic.removesuffix(".dlq") for letter in letters)
    status = bus_api.status(request)
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        days = claims_public.daily_figures(uow, platform.clock.today(), days=CLAIMS_DAYS)
    charts = [
        bar_chart("Claims received per day", [(d.day.isoformat(), d.received) for d in days]),
        bar_chart(
            "Auto-adjudicated, % of finalised claims, by day received",
            [(d.day.isoformat(), round(100 * d.auto_finalised / d.finalised)) for d in days if d.finalised],
        ),
        bar_chart(
            "Mean turnaround, minutes from receipt to result",
            [(d.day.isoformat(), d.turnaround_minutes) for d in days if d.turnaround_minutes is not None],
        ),
        bar_chart("Dead letters waiting, by topic", sorted(depth.items())),
        bar_chart("Consumer lag, by consumer group", sorted(status["consumerLag"].items())),
    ]
    return render(
        request,
        "ops/dashboard.html",
        {
            "charts": charts,
            "dlq_total": len(letters),
            "dlq_capped": len(letters) >= DLQ_SCAN_LIMIT,
            "outbox_pending": status["outboxPending"],
            "transport": status["transport"],
            "portal": "ops",
        },
    )


@router.get("/dlq")
def dead_letters(
    request: Request,
    topic: Annotated[str | None, Query(max_length=200)] = None,
    access: Access = Depends(policy("dead_letter.read")),
) -> Response:
    letters = dlq.list_dead_letters(
        platform_of(request).db, topic=topic or None, limit=200, tenant_id=access.principal.tenant_id
    )
    return render(
        request,
        "ops/dlq.html",
        {"letters": letters, "topic": topic or "", "redriven": request.query_params.get("redriven"), "portal": "ops"},
    )


@router.get("/dlq/{dead_letter_id}")
def dead_letter(
    dead_letter_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("dead_letter.read", resource=path("dead_letter_id"))),
) -> Response:
    letter = dlq.get_dead_letter(platform_of(request).db, dead_letter_id)
    return render(request, "ops/dead_letter.html", {"letter": letter, "portal": "ops"})


@router.post("/dlq/{dead_letter_id}/redrive")
def redrive(
    dead_letter_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("dead_letter.redrive", resource=path("dead_letter_id"))),
) -> Response:
    bus_api.redrive_dead_letter(request, dead_letter_id)
    return redirect(f"/ops/dlq?redriven={dead_letter_id}")


@router.get("/audit")
def audit_search(
    request: Request,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    resource_id: Annotated[str | None, Query(max_length=200)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    access: Access = Depends(policy("audit_log.read")),
) -> Response:
    platform = platform_of(request)
    entries = audit.search(
        platform.db,
        access.principal.tenant_id,
        subject=subject,
        action=action,
        resource_id=resource_id,
        outcome=outcome,
        limit=200,
    )
    return render(
        request,
        "ops/audit.html",
        {
            "entries": entries,
            "filters": {
                "subject": subject or "",
                "action": action or "",
                "resource_id": resource_id or "",
                "outcome": outcome or "",
            },
            "portal": "ops",
        },
    )


@router.get("/credentialing")
def credentialing_queue(request: Request, access: Access = Depends(policy("credentialing.read"))) -> Response:
    # Every provider's open application: a provider user (who reads its own file) is refused it.
    if not access.scope.everything:
        raise access.refused(request, "staff_only")
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        queue = provider_public.credentialing_queue(uow)
    return render(request, "ops/credentialing.html", {"queue": queue, "portal": "ops"})


@router.get("/claims")
def claims_queue(
    request: Request,
    pend_reason: Annotated[str | None, Query(max_length=40)] = None,
    access: Access = Depends(policy("claim.read")),
) -> Response:
    """The pended claims this examiner's queues hold, oldest first (the API's review queue)."""
    queue = claims_api.review_queue(
        request, status="PENDED", pend_reason=pend_reason or None, member_id=None, limit=200, offset=0, access=access
    )
    return render(
        request, "ops/claims.html", {"items": queue["items"], "pend_reason": pend_reason or "", "portal": "ops"}
    )


def _claim_page(request: Request, access: Access, claim_id: uuid.UUID, **extra: Any) -> Response:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        claim = claims_api.claim_view(uow, claim_id, with_trace=True)
    context = {"claim": claim, "decisions": DECISIONS, "error": None, "decided": None, "portal": "ops", **extra}
    return render(request, "ops/claim.html", context, status_code=422 if context["error"] else 200)


@router.get("/claims/{claim_id}")
def claim_review(
    claim_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("claim.read", resource=path("claim_id"))),
) -> Response:
    decided = request.query_params.get("decided")
    return _claim_page(request, access, claim_id, decided=decided if decided and decided.isdigit() else None)


@router.post("/claims/{claim_id}/lines/{line_number}/decision")
def decide_line(
    claim_id: uuid.UUID,
    line_number: int,
    request: Request,
    decision: Annotated[str, Form(max_length=8)],
    reason: Annotated[str, Form(max_length=8)],
    note: Annotated[str, Form(max_length=2000)],
    paid_amount: Annotated[str, Form(max_length=14)] = "",
    access: Access = Depends(policy("claim.decide", resource=path("claim_id"))),
) -> Response:
    """An examiner's decision on one line, through the API's view (same service, same audit record)."""
    try:
        data = LineDecisionCreate(
            decision=decision,
            reason=reason.strip(),
            note=note.strip(),
            paid_amount=paid_amount.strip() or None,
        )
        claims_api.decide(claim_id, line_number, data, request, access)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        return _claim_page(request, access, claim_id, error=problems)
    except OllyError as exc:
        if exc.status != 422:
            raise
        return _claim_page(request, access, claim_id, error=exc.detail)
    return redirect(f"/ops/claims/{claim_id}?decided={line_number}")


@router.get("/prior-authorisations")
def prior_auth_queue(request: Request, access: Access = Depends(policy("prior_auth.read"))) -> Response:
    """Undecided requests, soonest decision due first (the API's queue), each with its decision form."""
    queue = prior_auth_api.prior_auth_queue(request, status=None, overdue=None, limit=200, access=access)
    waiting = sorted((r for r in queue if r.decided_at is None), key=lambda r: r.decision_due_at)
    decided = request.query_params.get("decided")
    context = {"requests": waiting, "decided": decided, "error": None, "portal": "ops"}
    return render(request, "ops/prior_auths.html", context)


@router.post("/prior-authorisations/{prior_auth_id}/decision")
def decide_prior_auth(
    prior_auth_id: uuid.UUID,
    request: Request,
    outcome: Annotated[str, Form(max_length=20)],
    denial_reason_code: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
    access: Access = Depends(policy("prior_auth.decide", resource=path("prior_auth_id"))),
) -> Response:
    """Approve every requested unit, or deny with a reason, through the API's decision view (audited)."""
    try:
        if outcome == "APPROVED":
            current = prior_auth_api.read_prior_auth(prior_auth_id, request, access)
            approved = [{"procedure_code": s.procedure_code, "units": s.units_requested} for s in current.services]
            body = PriorAuthDecisionIn.model_validate({"outcome": outcome, "approved": approved, "note": note or None})
        else:
            body = PriorAuthDecisionIn.model_validate(
                {"outcome": outcome, "denial_reason_code": denial_reason_code.strip() or None, "note": note or None}
            )
        prior_auth_api.decide_prior_auth(prior_auth_id, body, request, access)
    except ValidationError as exc:
        return _prior_auth_error(request, access, "; ".join(str(e["msg"]) for e in exc.errors()))
    except OllyError as exc:
        if exc.status not in (409, 422):
            raise
        return _prior_auth_error(request, access, exc.detail or exc.title)
    return redirect(f"/ops/prior-authorisations?decided={prior_auth_id}")


def _prior_auth_error(request: Request, access: Access, error: str) -> Response:
    queue = prior_auth_api.prior_auth_queue(request, status=None, overdue=None, limit=200, access=access)
    waiting = sorted((r for r in queue if r.decided_at is None), key=lambda r: r.decision_due_at)
    context = {"requests": waiting, "decided": None, "error": error, "portal": "ops"}
    return render(request, "ops/prior_auths.html", context, status_code=422)


@router.get("/billing")
def billing(request: Request, access: Access = Depends(policy("invoice.read"))) -> Response:
    """Invoices (the API's list), a form to run a month's billing and one to pay approved claims."""
    found = billing_api.list_invoices(request, status=None, limit=200, access=access)
    context = {
        "invoices": found,
        "month": platform_of(request).clock.today().strftime("%Y-%m"),
        "ran": request.query_params.get("ran"),
        "error": None,
        "portal": "ops",
    }
    return render(request, "ops/billing.html", context)


@router.post("/billing/runs")
def start_billing_run(
    request: Request,
    period: Annotated[str, Form(max_length=7)],
    access: Access = Depends(policy("invoice.write")),
) -> Response:
    try:
        run = billing_api.create_run(BillingRunCreate(period=period), request, access)
    except ValidationError:
        found = billing_api.list_invoices(request, status=None, limit=200, access=access)
        context = {"invoices": found, "month": period, "ran": None, "error": "The month is YYYY-MM.", "portal": "ops"}
        return render(request, "ops/billing.html", context, status_code=422)
    return redirect(f"/ops/billing?ran={run.invoice_count}")


@router.post("/billing/payment-runs")
def start_payment_run(request: Request, access: Access = Depends(policy("payment.write"))) -> Response:
    """Pay the approved claims not yet paid (the API's payment run), then show it per payee."""
    run = billing_api.create_payment_run(request, access)
    return render(request, "ops/payment_run.html", {"run": run, "portal": "ops"}, status_code=201)


@router.get("/billing/runs")
def billing_runs(request: Request, access: Access = Depends(policy("invoice.read"))) -> Response:
    """Past monthly billing runs, newest first (the API's history: staff only)."""
    runs = billing_api.list_runs(request, limit=100, access=access)
    return render(request, "ops/billing_runs.html", {"runs": runs, "portal": "ops"})


@router.get("/billing/runs/{run_id}")
def billing_run(run_id: uuid.UUID, request: Request, access: Access = Depends(policy("invoice.read"))) -> Response:
    """One billing run: its period and totals, and every invoice it issued."""
    run = billing_api.read_run(run_id, request, access)
    return render(request, "ops/billing_run.html", {"run": run, "portal": "ops"})


@router.get("/billing/payment-runs")
def payment_runs(request: Request, access: Access = Depends(policy("payment.read"))) -> Response:
    """Past claim payment runs, newest first, with their totals per currency."""
    runs = billing_api.list_payment_runs(request, limit=100, access=access)
    return render(request, "ops/payment_runs.html", {"runs": runs, "portal": "ops"})


@router.get("/billing/payment-runs/{run_id}")
def payment_run(run_id: uuid.UUID, request: Request, access: Access = Depends(policy("payment.read"))) -> Response:
    """One claim payment run, per payee (the API's view of the run the 835s are written from)."""
    run = billing_api.read_payment_run(run_id, request, access)
    return render(request, "ops/payment_run.html", {"run": run, "portal": "ops"})
