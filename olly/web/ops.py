"""The operations console: dashboard, credentialing queue, dead-letter browser with redrive, audit
search. The pended-claims and prior-authorisation queues and billing runs wait for their domains."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from olly.platform import audit
from olly.platform.auth import SELF, Access, path, policy
from olly.platform.bus import api as bus_api
from olly.platform.bus import dlq
from olly.platform.http import platform_of
from olly.provider import public as provider_public
from olly.web.charts import bar_chart
from olly.web.pending import PENDING, pending_page
from olly.web.rendering import PORTAL_TAG, redirect, render

router = APIRouter(prefix="/ops", tags=[PORTAL_TAG], include_in_schema=False)
DLQ_SCAN_LIMIT = 1000


@router.get("")
def home(request: Request, access: Access = Depends(policy("session.read", resource=SELF))) -> Response:
    return render(request, "ops/home.html", {"portal": "ops"})


@router.get("/dashboard")
def dashboard(request: Request, access: Access = Depends(policy("bus.read"))) -> Response:
    letters = dlq.list_dead_letters(platform_of(request).db, limit=DLQ_SCAN_LIMIT, tenant_id=access.principal.tenant_id)
    depth = Counter(letter.topic.removesuffix(".dlq") for letter in letters)
    status = bus_api.status(request)
    charts = [
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
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        queue = provider_public.credentialing_queue(uow)
    return render(request, "ops/credentialing.html", {"queue": queue, "portal": "ops"})


def _pending(key: str, action: str) -> None:
    spec = PENDING[key]

    @router.get(spec.path.removeprefix("/ops"), name=f"pending_{key}")
    def page(request: Request, access: Access = Depends(policy(action))) -> Response:
        return pending_page(request, spec, "ops")


_pending("ops_claims", "claim.read")
_pending("ops_prior_authorisations", "prior_auth.read")
_pending("ops_billing", "invoice.read")
