"""The member portal (designed for a 375 px phone first).

Each page declares the same action and locator as the API route that serves the same data, and
reads through the domains' own public functions and services. Pages whose domain has not arrived
(claims, EOBs, reimbursements, prior authorisation, invoices) render ``pending.html``: an honest
"not available yet", never sample data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from olly.consent import api as consent_api
from olly.consent.schemas import CommunicationPreferencesUpdate
from olly.eligibility import service as eligibility
from olly.enrollment import public as enrollment_public
from olly.kernel.errors import NotFound, OllyError
from olly.plans import api as plans_api
from olly.plans import public as plans_public
from olly.plans.schemas import QuoteCreate
from olly.platform.auth import SELF, Access, path, policy
from olly.platform.db import UnitOfWork
from olly.platform.http import platform_of
from olly.policy_admin import public as people
from olly.provider import service as provider_service
from olly.web.pending import PENDING, pending_page
from olly.web.rendering import PORTAL_TAG, redirect, render, wants_fragment

router = APIRouter(tags=[PORTAL_TAG], include_in_schema=False)

#: The medical service type asked of eligibility for the card and the coverage page (X12 "30").
PLAN_COVERAGE: Final = "30"
CHANNELS: Final = ("email", "sms", "post", "push", "phone")
TOPICS: Final = ("claims", "billing", "plan_updates", "care_reminders", "marketing")


@dataclass(frozen=True, slots=True)
class Tile:
    href: str
    label: str
    available: bool = True


TILES: Final[tuple[Tile, ...]] = (
    Tile("/card", "ID card"),
    Tile("/coverage", "Coverage and family"),
    Tile("/find-care", "Find a provider"),
    Tile("/plans", "Compare plans and get a quote"),
    Tile("/notifications", "Notifications"),
    Tile("/settings/consents", "Privacy and contact settings"),
    Tile("/claims", "Claims and EOBs", available=False),
    Tile("/claims/reimbursement", "Submit a reimbursement", available=False),
    Tile("/prior-authorisations", "Prior authorisations", available=False),
    Tile("/invoices", "Premium invoices and payments", available=False),
)


def _own_party(access: Access) -> uuid.UUID:
    if access.principal.party_id is None:
        raise NotFound("this account is not linked to a member")
    return access.principal.party_id


def _answer(request: Request, uow: UnitOfWork, party_id: uuid.UUID) -> dict[str, Any]:
    today = platform_of(request).clock.today()
    return eligibility.check(
        uow,
        party_id,
        today,
        PLAN_COVERAGE,
        request.app.state.benefit_source,
        getattr(request.app.state, "eligibility_cache", None),
    )


@dataclass(frozen=True, slots=True)
class Progress:
    """How much of a deductible or out-of-pocket maximum has been met (in-network, individual)."""

    label: str
    network: str
    limit: str
    met: str
    remaining: str
    met_percent: int


def progress_of(label: str, accumulators: list[dict[str, Any]]) -> list[Progress]:
    result = []
    for item in accumulators:
        limit, remaining = Decimal(item["individual"]), Decimal(item["individual_remaining"])
        met = limit - remaining
        percent = int((met * 100 / limit).to_integral_value()) if limit > 0 else 0
        result.append(Progress(label, item["network"], str(limit), str(met), str(remaining), percent))
    return result


@router.get("/card")
def id_card(request: Request, access: Access = Depends(policy("id_card.read", resource=SELF))) -> Response:
    party_id = _own_party(access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        answer = _answer(request, uow, party_id)
        person = people.person(uow, party_id)
    return render(request, "member/card.html", {"answer": answer, "person": person, "portal": "member"})


@router.get("/card/{party_id}")
def dependent_id_card(
    party_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("id_card.read", resource=path("party_id", kind="member"))),
) -> Response:
    """A family member's card: the member's own, or a minor dependent's (the policy decides)."""
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        answer = _answer(request, uow, party_id)
        person = people.person(uow, party_id)
    return render(request, "member/card.html", {"answer": answer, "person": person, "portal": "member"})


@router.get("/coverage")
def coverage(request: Request, access: Access = Depends(policy("member.read", resource=SELF))) -> Response:
    party_id = _own_party(access)
    visible = access.scope.party_ids | access.scope.dependent_party_ids
    family: list[dict[str, Any]] = []
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        answer = _answer(request, uow, party_id)
        if answer.get("policy_id"):
            for fact in enrollment_public.coverage_facts(uow, uuid.UUID(answer["policy_id"])):
                if fact.party_id == party_id:
                    continue
                shown = fact.party_id in visible
                person = people.person(uow, fact.party_id) if shown else None
                family.append(
                    {
                        "relationship": fact.relationship,
                        "party_id": fact.party_id,
                        "name": person.display_name if person else None,
                        "member_number": fact.member_number if shown else None,
                        "valid_from": fact.valid_from,
                        "valid_to": fact.valid_to,
                    }
                )
    progress = progress_of("Deductible", answer.get("deductible", [])) + progress_of(
        "Out-of-pocket maximum", answer.get("out_of_pocket", [])
    )
    return render(
        request,
        "member/coverage.html",
        {"answer": answer, "family": family, "progress": progress, "portal": "member"},
    )


@router.get("/find-care")
def find_care(
    request: Request,
    q: str = "",
    zip: str = "",
    access: Access = Depends(policy("provider.read")),
) -> Response:
    page, error = None, None
    if q.strip() or zip.strip():
        query = provider_service.DirectoryQuery(
            text=q.strip()[:200] or None, zip=zip.strip()[:10] or None, page=1, page_size=20
        )
        try:
            with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
                page = provider_service.search_directory(uow, query)
        except OllyError as exc:
            error = "; ".join(e["message"] for e in exc.extra.get("errors", [])) or exc.detail
    template = "member/_providers.html" if wants_fragment(request) else "member/find_care.html"
    return render(request, template, {"page": page, "q": q, "zip": zip, "error": error, "portal": "member"})


@router.get("/settings/consents")
def consents(request: Request, access: Access = Depends(policy("consent.read", resource=SELF))) -> Response:
    records = consent_api.my_consents(request, access)
    communication = next((r for r in records if r.kind == "communication"), None)
    return render(
        request,
        "member/consents.html",
        {
            "records": records,
            "communication": communication,
            "channels": CHANNELS,
            "topics": TOPICS,
            "saved": request.query_params.get("saved") == "1",
            "portal": "member",
        },
    )


@router.post("/settings/consents")
async def save_consents(request: Request, access: Access = Depends(policy("consent.write", resource=SELF))) -> Response:
    form = await request.form()
    body = CommunicationPreferencesUpdate(
        channels={c: form.get(f"channel_{c}") == "on" for c in CHANNELS},
        topics={t: form.get(f"topic_{t}") == "on" for t in TOPICS},
    )
    party_id = _own_party(access)
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(consent_api.set_communication, party_id, body, request, access)
    return redirect("/settings/consents?saved=1")


@router.get("/plans")
def compare_plans(request: Request, access: Access = Depends(policy("plan.read"))) -> Response:
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        plans = plans_public.plans_in_force(uow, platform.clock.today())
    return render(request, "member/plans.html", {"plans": plans, "portal": "member"})


@router.post("/plans/quote")
def quote(
    request: Request,
    plan_code: Annotated[str, Form(max_length=40)],
    subscriber_age: Annotated[int, Form(ge=0, le=120)],
    spouse_age: Annotated[str, Form(max_length=3)] = "",
    child_ages: Annotated[str, Form(max_length=60)] = "",
    tobacco_user: Annotated[str, Form(max_length=3)] = "",
    access: Access = Depends(policy("plan.read")),
) -> Response:
    members: list[dict[str, Any]] = [
        {"relationship": "subscriber", "age": subscriber_age, "tobaccoUser": tobacco_user == "on"}
    ]
    error = None
    try:
        if spouse_age.strip():
            members.append({"relationship": "spouse", "age": int(spouse_age)})
        members += [{"relationship": "child", "age": int(a)} for a in child_ages.replace(" ", "").split(",") if a]
        result = plans_api.quote_plan(request, plan_code, QuoteCreate.model_validate({"members": members}), access)
    except ValueError:
        result, error = None, "ages are whole numbers of years, children's separated by commas"
    except OllyError as exc:
        result = None
        error = "; ".join(e["message"] for e in exc.extra.get("errors", [])) or exc.detail
    return render(request, "member/_quote.html", {"quote": result, "error": error, "plan_code": plan_code})


@router.get("/notifications")
def notifications(request: Request, access: Access = Depends(policy("account.read", resource=SELF))) -> Response:
    # No notifications domain exists yet: the inbox says so instead of inventing messages.
    return render(request, "member/notifications.html", {"portal": "member"})


def _pending(key: str, action: str) -> None:
    spec = PENDING[key]

    @router.get(spec.path, name=f"pending_{key}")
    def page(request: Request, access: Access = Depends(policy(action, resource=SELF))) -> Response:
        return pending_page(request, spec, "member")


_pending("claims", "claim.read")
_pending("claims_reimbursement", "claim.write")
_pending("prior_authorisations", "prior_auth.read")
_pending("invoices", "invoice.read")
