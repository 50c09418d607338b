"""The claims API: intake on the reliable path (202 + transaction id), status, review queue, EOB.

Access: ``claim.write`` to submit (a provider under its own NPI, a member for themselves, examiners
of the intake queue), ``claim.read``/``claim.write`` of a claim (its member, its submitting provider,
examiners of its queue), ``claim.decide`` of a claim for a line decision (examiners of its queue
only), ``eob.read`` for the EOB. Employers never see claims.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from olly.claims import documents, repository, service, snapshots
from olly.claims.access import ClaimFacts
from olly.claims.personal_data import ClaimsPersonalData
from olly.claims.rules import Submitter
from olly.claims.schemas import ClaimBatchCreate, ClaimCreate, LineDecisionCreate, ReimbursementCreate
from olly.kernel.errors import FieldError, NotFound, ValidationFailed
from olly.kernel.money import Money
from olly.platform import filetypes
from olly.platform.auth import Access, body, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.auth.errors import AccessDenied
from olly.platform.http import platform_of

router = APIRouter(prefix="/api/v1/claims", tags=["claims"])


def install(control: AccessControl) -> None:
    control.resolvers.register("claim", ClaimFacts())
    control.resolvers.register("eob", ClaimFacts())
    control.personal_data.register(ClaimsPersonalData())


@router.post("", status_code=202, summary="Submit a professional or institutional claim for adjudication")
def submit(
    data: ClaimCreate,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
    access: Access = Depends(policy("claim.write", resource=body("billingNpi", evidence=("memberId",)))),
) -> JSONResponse:
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        submission = service.submit(uow, data, source="API", idempotency_key=_caller_key(access, idempotency_key))
    return JSONResponse(submission.answer(), status_code=202)


@router.post(
    "/batch",
    status_code=202,
    summary="Submit up to 500 claims together (a clearinghouse's batch): all accepted or none",
)
def submit_batch(
    data: ClaimBatchCreate,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
    access: Access = Depends(policy("claim.write")),
) -> JSONResponse:
    """Every claim must be one the caller may submit alone (under one of its NPIs, for itself or a
    minor dependent, or as an examiner of the intake queue); one that is not refuses the batch."""
    scope = access.scope
    platform = platform_of(request)
    for index, claim in enumerate(data.claims):
        if not (
            scope.everything
            or service.DEFAULT_QUEUE in scope.queues
            or claim.billing_npi in scope.provider_ids
            or claim.member_id in scope.party_ids
            or claim.member_id in scope.dependent_party_ids
        ):
            refusal = access.audit_record(
                action="claim.write", resource_id=None, detail={"reason": "not_related", "batchIndex": index}
            )
            platform.audit.record(replace(refusal, outcome="denied"))
            raise AccessDenied("every claim of a batch must be one the caller may submit")
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        submissions = service.submit_many(
            uow, data.claims, source="API", idempotency_key=_caller_key(access, idempotency_key)
        )
    return JSONResponse(
        {"status": "ACCEPTED", "claims": [submission.answer() for submission in submissions]}, status_code=202
    )


def _caller_key(access: Access, key: str | None) -> str | None:
    """Idempotency keys are the caller's own: two callers choosing the same key never meet."""
    if key is None:
        return None
    return hashlib.sha256(f"{access.principal.subject}\x00{key}".encode()).hexdigest()


def _money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else Money(minor, currency).to_decimal_string()


def claim_view(uow: Any, claim_id: uuid.UUID, *, with_trace: bool) -> dict[str, Any]:
    repo = repository.ClaimsRepository(uow)
    claim = repo.claim(claim_id)
    if claim is None:
        raise NotFound("no such claim")
    record = repo.current_result(claim_id)
    answer: dict[str, Any] = {
        "claimId": str(claim.id),
        "transactionId": str(claim.transaction_id),
        "memberId": str(claim.member_id),
        "claimType": claim.claim_type,
        "frequency": claim.frequency,
        "originalClaimId": str(claim.original_claim_id) if claim.original_claim_id else None,
        "replacedByClaimId": str(claim.replaced_by_claim_id) if claim.replaced_by_claim_id else None,
        "submitter": claim.submitter,
        "billingNpi": claim.billing_npi,
        "status": claim.status,
        "pendReasons": list(claim.pend_reasons or ()),
        "currency": claim.currency,
        "billed": _money(claim.total_billed_minor, claim.currency),
        "receivedAt": claim.received_at.isoformat(),
        "adjudicatedAt": claim.adjudicated_at.isoformat() if claim.adjudicated_at else None,
        "eob": claim.eob_object_key is not None,
        "result": None,
    }
    if record is not None:
        result = record.result
        lines = []
        for line in result["lines"]:
            item: dict[str, Any] = {
                "lineNumber": line["lineNumber"],
                "status": line["status"],
                "billed": _money(line["billed"], claim.currency),
                "allowed": _money(line["allowed"], claim.currency),
                "paid": _money(line["paid"], claim.currency),
                "deductible": _money(line["deductible"], claim.currency),
                "coinsurance": _money(line["coinsurance"], claim.currency),
                "copay": _money(line["copay"], claim.currency),
                "adjustments": [
                    {
                        "group": a["group"],
                        "carc": a["carc"],
                        "code": f"{a['group']}-{a['carc']}",
                        "amount": _money(a["amount"], claim.currency),
                        "rarcs": a["rarcs"],
                    }
                    for a in line["adjustments"]
                ],
                "pendReasons": line["pendReasons"],
                "benefitCategory": line["benefitCategory"],
                "benefitLevel": line["benefitLevel"],
            }
            if with_trace:
                item["trace"] = line["trace"]
            lines.append(item)
        totals = snapshots.result_from_json(result).totals
        answer["result"] = {
            "status": result["status"],
            "adjudicatedOn": result["adjudicatedOn"],
            "billed": totals.billed.to_decimal_string(),
            "allowed": totals.allowed.to_decimal_string(),
            "paid": totals.paid.to_decimal_string(),
            "memberResponsibility": totals.patient_responsibility.to_decimal_string(),
            "deductible": totals.deductible.to_decimal_string(),
            "coinsurance": totals.coinsurance.to_decimal_string(),
            "copay": totals.copay.to_decimal_string(),
            "pendReasons": result["pendReasons"],
            "lines": lines,
            "trace": result["trace"] if with_trace else None,
            "reversal": None
            if result["reversal"] is None
            else {
                "reversedClaimId": result["reversal"]["reversedClaimId"],
                "paid": _money(result["reversal"]["paid"], claim.currency),
            },
        }
    return answer


@router.post(
    "/reimbursements", status_code=202, summary="A member claims back what they paid (OPD/IPD), with the bills"
)
async def submit_reimbursement(
    request: Request,
    claim: Annotated[str, Form(description="the ReimbursementCreate JSON")],
    bills: Annotated[list[UploadFile], File(description="PDF, JPEG or PNG")],
    prescriptions: Annotated[list[UploadFile] | None, File()] = None,
    discharge_summary: Annotated[UploadFile | None, File(alias="dischargeSummary")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
    access: Access = Depends(policy("claim.write")),
) -> JSONResponse:
    try:
        data = ReimbursementCreate.model_validate_json(claim)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(map(str, ("body", "claim", *e["loc"]))), e["msg"], "invalid") for e in exc.errors()
        ]
        raise ValidationFailed(errors) from None
    scope = access.scope
    if not (
        scope.everything
        or data.member_id in scope.party_ids
        or data.member_id in scope.dependent_party_ids
        or scope.queues
    ):
        refusal = access.audit_record(action="claim.write", resource_id=None, detail={"reason": "not_related"})
        platform_of(request).audit.record(replace(refusal, outcome="denied"))
        raise AccessDenied("a member claims reimbursement for themselves or a minor dependent")
    uploads = [("bills", f) for f in bills] + [("prescriptions", f) for f in prescriptions or []]
    if discharge_summary is not None:
        uploads.append(("dischargeSummary", discharge_summary))
    files: list[tuple[str, str, bytes]] = []
    total = 0
    errors = []
    if len(uploads) > documents.MAX_FILES:
        errors.append(FieldError("body.bills", f"at most {documents.MAX_FILES} files", "too_many"))
    for index, (field, upload) in enumerate(uploads):
        content = await upload.read(documents.MAX_FILE_BYTES + 1)
        total += len(content)
        content_type = filetypes.sniff(content)
        where = f"body.{field}.{index}"
        if len(content) > documents.MAX_FILE_BYTES:
            errors.append(FieldError(where, f"larger than {documents.MAX_FILE_BYTES} bytes", "too_large"))
        elif content_type is None:
            errors.append(FieldError(where, "is not a PDF, JPEG or PNG file", "unsupported_type"))
        else:
            files.append((documents.KINDS[field], content_type, content))
    if total > documents.MAX_TOTAL_BYTES:
        errors.append(FieldError("body", f"files larger than {documents.MAX_TOTAL_BYTES} bytes in all", "too_large"))
    if errors:
        raise ValidationFailed(errors)
    platform = platform_of(request)

    def work() -> service.Submission:
        with platform.db.unit_of_work(access.principal.tenant_id) as uow:
            first_day = min(line.service_date_from for line in data.lines)
            currency = None if data.currency else service.plan_currency(uow, data.member_id, first_day)
            try:
                return service.submit(
                    uow,
                    data.as_claim(currency),
                    source="PORTAL",
                    idempotency_key=_caller_key(access, idempotency_key),
                    submitter=Submitter.MEMBER_REIMBURSEMENT,
                    documents=files,
                )
            except ValidationFailed as exc:
                # intake names the claim's fields from the body; here the claim is the form's part
                raise ValidationFailed(
                    [replace(e, field=e.field.replace("body.", "body.claim.", 1)) for e in exc.errors]
                ) from None

    submission = await run_in_threadpool(work)
    return JSONResponse(submission.answer(), status_code=202)


@router.get("/review", summary="The review queue: pended claims, oldest first")
def review_queue(
    request: Request,
    status: Annotated[str, Query(pattern=r"^(PENDED|RECEIVED)$")] = "PENDED",
    pend_reason: Annotated[str | None, Query(alias="pendReason", max_length=40)] = None,
    member_id: Annotated[uuid.UUID | None, Query(alias="memberId")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    access: Access = Depends(policy("claim.read")),
) -> dict[str, Any]:
    platform = platform_of(request)
    scope = access.scope
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        rows = repository.ClaimsRepository(uow).review_queue(
            status=status,
            pend_reason=pend_reason,
            member_id=member_id,
            limit=limit,
            offset=offset,
            queues=None if scope.everything else scope.queues,
            member_ids=scope.party_ids | scope.dependent_party_ids,
            npis=scope.provider_ids,
        )
        items = [
            {
                "claimId": str(row.id),
                "memberId": str(row.member_id),
                "billingNpi": row.billing_npi,
                "status": row.status,
                "pendReasons": list(row.pend_reasons or ()),
                "billed": _money(row.total_billed_minor, row.currency),
                "receivedAt": row.received_at.isoformat(),
                "queue": row.queue,
            }
            for row in rows
        ]
    return {"items": items, "limit": limit, "offset": offset}


@router.get("/{claim_id}", summary="A claim's status and result: lines, amounts, adjustments")
def get_claim(
    claim_id: uuid.UUID,
    request: Request,
    trace: Annotated[bool, Query()] = True,
    access: Access = Depends(policy("claim.read", resource=path("claim_id"))),
) -> dict[str, Any]:
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return claim_view(uow, claim_id, with_trace=trace)


@router.post("/{claim_id}/lines/{line_number}/decision", summary="An examiner approves, denies or adjusts a line")
def decide(
    claim_id: uuid.UUID,
    line_number: int,
    data: LineDecisionCreate,
    request: Request,
    access: Access = Depends(policy("claim.decide", resource=path("claim_id"))),
) -> dict[str, Any]:
    platform = platform_of(request)
    paid = None
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        claim = repository.ClaimsRepository(uow).claim(claim_id)
        if claim is None:
            raise NotFound("no such claim")
        if data.paid_amount is not None:
            paid = Money.parse(data.paid_amount, claim.currency).amount
        outcome = service.decide_line(
            uow,
            claim_id,
            line_number,
            decision=data.decision,
            reason=data.reason,
            note=data.note,
            paid_minor=paid,
            decided_by=access.principal.account_id,
        )
        platform.audit.append(
            uow.session.connection(),
            [
                access.audit_record(
                    action="claim.line_decision",
                    resource_id=str(claim_id),
                    detail={"line": line_number, "decision": data.decision, "reason": data.reason},
                )
            ],
        )
        answer = claim_view(uow, claim_id, with_trace=False)
    answer["decisionStatus"] = outcome.status
    return answer


@router.get("/{claim_id}/eob.pdf", summary="The member's explanation of benefits (PDF)")
def eob_pdf(
    claim_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("eob.read", resource=path("claim_id"))),
) -> Response:
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        pdf = service.eob_document(uow, claim_id)
    return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "no-store"})
