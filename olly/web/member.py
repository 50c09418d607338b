"""The member portal (designed for a 375 px phone first).

Each page declares the same action and locator as the API route that serves the same data, and
reads through the domains' own public functions and services. Pages whose domain is not wired yet
(listed in ``pending.py``) render ``pending.html``: an honest "not available yet", never sample data.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from olly.billing import api as billing_api
from olly.claims import api as claims_api
from olly.claims import eob, prior_auth_api
from olly.claims import public as claims_public
from olly.codesets.carc import Carc, GroupCode
from olly.consent import api as consent_api
from olly.consent.schemas import CommunicationPreferencesUpdate
from olly.eligibility import service as eligibility
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment_service
from olly.enrollment.rules import Market, Relationship
from olly.enrollment.schemas import DependentCreate, EnrollmentCreate
from olly.kernel.errors import BusinessRuleViolation, NotFound, OllyError, ValidationFailed
from olly.kernel.money import Money
from olly.kernel.periods import add_months, age_on
from olly.notifications import api as notifications_api
from olly.notifications import service as notifications_service
from olly.plans import api as plans_api
from olly.plans import public as plans_public
from olly.plans.schemas import QuoteCreate
from olly.platform.auth import SELF, Access, path, policy
from olly.platform.db import UnitOfWork
from olly.platform.http import platform_of
from olly.policy_admin import public as people
from olly.policy_admin import service as policy_admin
from olly.provider import service as provider_service
from olly.web.payments import render_payments
from olly.web.rendering import PORTAL_TAG, money_text, redirect, render, wants_fragment

router = APIRouter(tags=[PORTAL_TAG], include_in_schema=False)

#: The medical service type asked of eligibility for the card and the coverage page (X12 "30").
PLAN_COVERAGE: Final = "30"
CHANNELS: Final = ("email", "sms", "post", "push", "phone")
#: Where care was given, as the reimbursement form offers it (CMS place-of-service codes).
PLACES_OF_SERVICE: Final = (
    ("11", "A doctor's office"),
    ("20", "An urgent care centre"),
    ("22", "A hospital outpatient department"),
    ("23", "A hospital emergency room"),
    ("21", "A hospital stay"),
    ("01", "A pharmacy"),
)
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
    Tile("/plans", "Compare, quote and buy a plan"),
    Tile("/notifications", "Notifications"),
    Tile("/settings/consents", "Privacy and contact settings"),
    Tile("/claims", "Claims and EOBs"),
    Tile("/claims/reimbursement", "Submit a reimbursement"),
    Tile("/prior-authorisations", "Prior authorisations"),
    Tile("/invoices", "Premium invoices and payments"),
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
    await run_in_threadpool(consent_api.set_communication, party_id, body, request, access)
    return redirect("/settings/consents?saved=1")


@router.get("/plans")
def compare_plans(request: Request, access: Access = Depends(policy("plan.read"))) -> Response:
    platform = platform_of(request)
    today = platform.clock.today()
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        plans = plans_public.plans_in_force(uow, today)
        cover = {p.plan_code: _cover_terms(plans_public.benefit_schedule(uow, p.plan_code, today)) for p in plans}
    return render(request, "member/plans.html", {"plans": plans, "cover": cover, "portal": "member"})


def _cover_terms(schedule: Any) -> dict[str, str]:
    """What a member compares plans by: the in-network deductible and out-of-pocket maximum, or the
    sum insured of a sum-insured plan, each as "individual / family" amounts."""
    if schedule is None:
        return {"deductible": "—", "out_of_pocket": "—"}

    def both(terms: Any) -> str:
        if terms is None:
            return "none"
        amounts = terms.in_network
        return f"{money_text(amounts.individual)} / {money_text(amounts.family)} family"

    if schedule.sum_insured is not None:
        basis = str(schedule.sum_insured.basis.value).replace("_", " ")
        return {
            "deductible": both(schedule.deductible),
            "out_of_pocket": f"sum insured {money_text(schedule.sum_insured.amount)}, {basis}",
        }
    return {"deductible": both(schedule.deductible), "out_of_pocket": both(schedule.out_of_pocket_max)}


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


def _individual_plans(request: Request, uow: UnitOfWork, on: date) -> list[plans_public.PlanVersionInfo]:
    return [p for p in plans_public.plans_in_force(uow, on) if p.market == plans_public.Market.INDIVIDUAL]


def coverage_start(today: date) -> date:
    """An individual-market purchase starts on the first day of the next month."""
    return add_months(today.replace(day=1), 1)


def _buy_context(
    request: Request, access: Access, plan_code: str, chosen: frozenset[uuid.UUID], error: str | None
) -> dict[str, Any]:
    party_id = _own_party(access)
    platform = platform_of(request)
    start = coverage_start(platform.clock.today())
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        plan = next((p for p in _individual_plans(request, uow, start) if p.plan_code == plan_code), None)
        if plan is None:
            raise NotFound("no individual plan with this code is sold for that start date")
        person = people.person(uow, party_id)
        household = [
            (member, person_of.display_name)
            for member in enrollment_public.household_of(uow, party_id)
            if (person_of := people.person(uow, member.party_id)) is not None
        ]
    quote = None
    if person is not None and person.birth_date is not None:
        body = QuoteCreate.model_validate(
            {"on": start, "members": [{"relationship": "subscriber", "age": age_on(person.birth_date, start)}]}
        )
        quote = plans_api.quote_plan(request, plan_code, body, access)
    return {
        "plan": plan,
        "start": start,
        "quote": quote,
        "household": household,
        "chosen": chosen,
        "error": error,
        "portal": "member",
    }


@router.get("/plans/buy")
def buy_form(
    request: Request,
    plan_code: Annotated[str, Query(max_length=40)],
    access: Access = Depends(policy("enrollment.purchase", resource=SELF)),
) -> Response:
    """The chosen individual plan, its quote for the member (the plans API), when coverage would start,
    and the people already covered with the member who may join the new policy."""
    return render(request, "member/buy.html", _buy_context(request, access, plan_code, frozenset(), None))


@router.post("/plans/buy")
async def buy(
    request: Request,
    plan_code: Annotated[str, Form(max_length=40)],
    dependents: Annotated[list[uuid.UUID] | None, Form()] = None,
    access: Access = Depends(policy("enrollment.purchase", resource=SELF)),
) -> Response:
    """Enrol the member in an individual plan (the enrollment service, then the individual-market saga:
    first invoice → paid → active). The narrow grant: the member is the subscriber, the market is
    INDIVIDUAL, the account is their own household's, and dependents are people already covered
    with them, with the relationship those policies record."""
    chosen = frozenset(dependents or [])
    try:
        policy_id = await run_in_threadpool(_purchase, request, access, plan_code, chosen)
    except (ValidationFailed, BusinessRuleViolation) as exc:
        errors = exc.extra.get("errors", [])
        message = "; ".join(e["message"] for e in errors) if errors else exc.detail
        context = await run_in_threadpool(_buy_context, request, access, plan_code, chosen, message)
        return render(request, "member/buy.html", context, status_code=422)
    return redirect(f"/plans/purchases?bought={policy_id}")


def _purchase(request: Request, access: Access, plan_code: str, chosen: frozenset[uuid.UUID]) -> uuid.UUID:
    party_id = _own_party(access)
    platform = platform_of(request)
    start = coverage_start(platform.clock.today())
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        household = {m.party_id: m.relationship for m in enrollment_public.household_of(uow, party_id)}
        plan = next((p for p in _individual_plans(request, uow, start) if p.plan_code == plan_code), None)
    strangers = chosen - household.keys()
    if strangers:
        raise access.refused(
            request, "not_related", resource_id=str(sorted(strangers)[0]), message="no such person in your household"
        )
    if plan is None:
        raise NotFound("no individual plan with this code is sold for that start date")
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        # The household account of an earlier purchase in the same currency, else a new one.
        own = [
            p
            for p in enrollment_public.policies_of_subscriber(uow, party_id)
            if p.market != Market.GROUP.value and p.currency == plan.currency
        ]
        if own:
            account_id = own[0].account_id
        else:
            account_id = policy_admin.open_account(
                uow, kind="HOUSEHOLD", name="household", currency=plan.currency, party_id=party_id
            ).id
        body = EnrollmentCreate(
            # A sum-insured family floater (the India seed) is bought in its own market.
            market=Market.SUM_INSURED if plan.sum_insured_basis is not None else Market.INDIVIDUAL,
            account_id=account_id,
            subscriber_party_id=party_id,
            plan_code=plan_code,
            effective_date=start,
            dependents=[
                DependentCreate(party_id=member, relationship=Relationship(household[member]))
                for member in sorted(chosen)
            ],
        )
        created = enrollment_service.enroll(uow, body, request.app.state.plan_catalog)
        platform.audit.append(uow.session.connection(), [access.audit_record(resource_id=str(created.id))])
        return created.id


@router.get("/plans/purchases")
def purchases(request: Request, access: Access = Depends(policy("invoice.read", resource=SELF))) -> Response:
    """The member's individual-market policies (waiting for the first premium until paid, then active)
    and their household's invoices, the first among them."""
    party_id = _own_party(access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        bought = [p for p in enrollment_public.policies_of_subscriber(uow, party_id) if p.market != Market.GROUP.value]
    found = billing_api.list_invoices(request, status=None, limit=100, access=access)
    accounts = {p.account_id for p in bought}
    invoices = [i for i in found if i.account_id in accounts]
    return render(
        request,
        "member/purchases.html",
        {
            "policies": bought,
            "premiums": {p.policy_id: Money(p.total_premium_minor, p.currency).to_decimal_string() for p in bought},
            "invoices": invoices,
            "bought": request.query_params.get("bought"),
            "portal": "member",
        },
    )


@router.get("/notifications")
def notifications(request: Request, access: Access = Depends(policy("notification.read", resource=SELF))) -> Response:
    """The inbox: the member's and their minor dependents' notifications, newest first (the API's view)."""
    inbox = notifications_api.inbox(request, access)
    return render(
        request,
        "member/notifications.html",
        {"inbox": inbox, "marked": request.query_params.get("read") == "1", "portal": "member"},
    )


@router.get("/notifications/unread")
def unread_badge(request: Request, access: Access = Depends(policy("notification.read", resource=SELF))) -> Response:
    """The unread count the navigation loads into its inbox link (htmx; empty when nothing is new)."""
    people = access.scope.party_ids | access.scope.dependent_party_ids
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        count = notifications_service.unread_count(uow, people) if people else 0
    return render(request, "member/_unread.html", {"count": count})


@router.post("/notifications/{notification_id}/read")
def mark_notification_read(
    notification_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("notification.write", resource=path("notification_id"))),
) -> Response:
    notifications_api.mark_read(notification_id, request, access)
    return redirect("/notifications?read=1")


def plain_reasons(lines: list[dict[str, Any]]) -> dict[str, str]:
    """Each adjustment code on a claim, once, with what it means for the member."""
    reasons: dict[str, str] = {}
    for line in lines:
        for adjustment in line["adjustments"]:
            try:
                carc = Carc.from_code(adjustment["carc"])
            except ValueError:
                reasons.setdefault(adjustment["code"], "Adjusted by the plan.")
                continue
            group = GroupCode.PATIENT_RESPONSIBILITY if adjustment["code"].startswith("PR-") else None
            reasons.setdefault(adjustment["code"], eob.plain_reason(carc, group))
    return reasons


@router.get("/claims")
def claims(request: Request, access: Access = Depends(policy("claim.read", resource=SELF))) -> Response:
    members = access.scope.party_ids | access.scope.dependent_party_ids
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        found = claims_public.claims_of_members(uow, members)
        names = {
            member: person.display_name
            for member in {c.member_id for c in found}
            if (person := people.person(uow, member)) is not None
        }
    return render(request, "member/claims.html", {"claims": found, "names": names, "portal": "member"})


@router.get("/claims/reimbursement")
def reimbursement_form(request: Request, access: Access = Depends(policy("claim.write", resource=SELF))) -> Response:
    return render(request, "member/reimbursement.html", _reimbursement_context(request, access, {}, []))


def _reimbursement_context(
    request: Request, access: Access, values: dict[str, str], errors: list[str]
) -> dict[str, Any]:
    members = sorted(access.scope.party_ids | access.scope.dependent_party_ids)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        choices = [(m, p.display_name) for m in members if (p := people.person(uow, m)) is not None]
    return {
        "members": choices,
        "places": PLACES_OF_SERVICE,
        "values": values,
        "errors": errors,
        "today": platform_of(request).clock.today(),
        "portal": "member",
    }


@router.post("/claims/reimbursement")
async def submit_reimbursement(
    request: Request,
    member_id: Annotated[uuid.UUID, Form()],
    billing_npi: Annotated[str, Form(max_length=10)],
    care_setting: Annotated[str, Form(max_length=3)],
    place_of_service: Annotated[str, Form(max_length=2)],
    diagnosis: Annotated[str, Form(max_length=8)],
    procedure_code: Annotated[str, Form(max_length=5)],
    charge: Annotated[str, Form(max_length=14)],
    service_date: Annotated[str, Form(max_length=10)],
    bills: Annotated[list[UploadFile], File()],
    prescriptions: Annotated[list[UploadFile] | None, File()] = None,
    access: Access = Depends(policy("claim.write")),
) -> Response:
    """The claims API's reimbursement intake, fed from the form (same checks on the files and the person)."""
    values = {
        "member_id": str(member_id),
        "billing_npi": billing_npi,
        "care_setting": care_setting,
        "place_of_service": place_of_service,
        "diagnosis": diagnosis,
        "procedure_code": procedure_code,
        "charge": charge,
        "service_date": service_date,
    }
    claim = {
        "memberId": str(member_id),
        "billingNpi": billing_npi.strip(),
        "careSetting": care_setting,
        "placeOfService": place_of_service,
        "diagnoses": [diagnosis.strip().upper()],
        "lines": [{"procedureCode": procedure_code.strip(), "charge": charge.strip(), "serviceDateFrom": service_date}],
    }
    sent = [b for b in bills if b.filename]
    if not sent:
        errors = ["Add at least one bill (PDF, JPEG or PNG)."]
        context = await run_in_threadpool(_reimbursement_context, request, access, values, errors)
        return render(request, "member/reimbursement.html", context, status_code=422)
    try:
        answer = await claims_api.submit_reimbursement(
            request,
            claim=json.dumps(claim),
            bills=sent,
            prescriptions=[p for p in prescriptions or [] if p.filename],
            discharge_summary=None,
            idempotency_key=None,
            access=access,
        )
    except ValidationFailed as exc:
        errors = [_field_message(e) for e in exc.extra.get("errors", [])] or [exc.detail]
        context = await run_in_threadpool(_reimbursement_context, request, access, values, errors)
        return render(request, "member/reimbursement.html", context, status_code=422)
    submitted = json.loads(bytes(answer.body))
    return render(
        request,
        "member/reimbursement_done.html",
        {"claim_id": submitted["claimId"], "files": len(sent) + len(prescriptions or []), "portal": "member"},
        status_code=202,
    )


#: What the form calls each field the intake names.
FORM_FIELDS: Final = {
    "billingNpi": "Provider NPI",
    "careSetting": "Type of care",
    "placeOfService": "Where",
    "diagnoses": "Diagnosis code",
    "procedureCode": "Procedure code",
    "charge": "Amount paid",
    "serviceDateFrom": "Date of service",
    "bills": "Bills",
    "prescriptions": "Prescriptions",
}


def _field_message(error: dict[str, Any]) -> str:
    parts = str(error.get("field", "")).split(".")
    label = next((FORM_FIELDS[p] for p in reversed(parts) if p in FORM_FIELDS), "The claim")
    return f"{label}: {error.get('message', 'is not valid')}"


@router.get("/claims/{claim_id}")
def claim_detail(
    claim_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("claim.read", resource=path("claim_id"))),
) -> Response:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        claim = claims_api.claim_view(uow, claim_id, with_trace=False)
        person = people.person(uow, uuid.UUID(claim["memberId"]))
    lines = claim["result"]["lines"] if claim["result"] else []
    for line in lines:
        # What the member owes on a line: its adjustments grouped PR (patient responsibility).
        line["owed"] = str(
            sum((Decimal(a["amount"]) for a in line["adjustments"] if a["group"] == "PR"), Decimal("0.00"))
        )
    return render(
        request,
        "member/claim.html",
        {
            "claim": claim,
            "name": person.display_name if person else None,
            "reasons": plain_reasons(lines),
            "portal": "member",
        },
    )


@router.get("/prior-authorisations")
def prior_authorisations(
    request: Request, access: Access = Depends(policy("prior_auth.read", resource=SELF))
) -> Response:
    """The prior authorisations of the member and their minor dependents (the API's queue, which
    filters to the caller's scope), soonest decision first; clinical notes stay off this page."""
    requests = prior_auth_api.prior_auth_queue(request, status=None, overdue=None, limit=200, access=access)
    return render(request, "member/prior_auths.html", {"requests": requests, "portal": "member"})


@router.get("/invoices")
def invoices(request: Request, access: Access = Depends(policy("invoice.read", resource=SELF))) -> Response:
    """The household's premium invoices (the API's list: a member never sees a group's list bill),
    with what has been paid on each and what is left."""
    found = billing_api.list_invoices(request, status=None, limit=100, access=access)
    return render(request, "member/invoices.html", {"invoices": found, "portal": "member"})


@router.get("/payments")
def payments(request: Request, access: Access = Depends(policy("payment.read", resource=SELF))) -> Response:
    """The household's premium payments (the API's list, narrowed to the caller's accounts): when
    each arrived, how, its reference, and the invoices it paid or the credit it left. The invoices
    page loads the table in place (htmx); without script it is this page."""
    return render_payments(request, access, "member", "member/payments.html")
