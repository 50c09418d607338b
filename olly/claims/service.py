"""Claims use cases: intake, adjudication (with accumulators), re-adjudication and review.

Services never commit: the unit of work at the boundary (request, consumer message, CLI command)
commits the claim rows, the accumulator rows and the outbox events together.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Final

from sqlalchemy.exc import IntegrityError

from olly.claims import authorization_public, eob, plan_mapping, snapshots
from olly.claims import models as m
from olly.claims.events import AccumulatorUpdated, ClaimApproved, ClaimDenied, ClaimReversed, ClaimSubmitted
from olly.claims.repository import FINAL_STATUSES, ClaimsRepository, HistoryClaim, NewRows
from olly.claims.rules import (
    APPEAL_WAIVABLE,
    AccumulatorKind,
    AccumulatorLevel,
    AccumulatorMovement,
    AccumulatorSnapshot,
    AdjudicatedLine,
    AdjudicationRequest,
    Adjustment,
    BenefitCategory,
    BenefitSchedule,
    CareSetting,
    ChargeType,
    Claim,
    ClaimFrequency,
    ClaimLine,
    ClaimResult,
    ClaimStatus,
    ClaimTotals,
    ClaimType,
    Contract,
    CoverageSnapshot,
    CredentialingStatus,
    LineResult,
    LineStatus,
    NetworkScope,
    NetworkStatus,
    OutOfNetworkPricing,
    PlanType,
    PricingSnapshot,
    PriorAuthorization,
    ProviderSnapshot,
    Submitter,
    adjudicate,
    reverse,
)
from olly.claims.schemas import MAX_BATCH_CLAIMS, ClaimCreate
from olly.claims.writes import Writes, writes_of
from olly.codesets.carc import Carc, GroupCode
from olly.kernel.errors import (
    BusinessRuleViolation,
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
)
from olly.kernel.ids import uuid7
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod
from olly.platform.crypto import row_sealer, session_crypto
from olly.platform.db import UnitOfWork, new_id, table_of
from olly.platform.objectstore import object_store_of

DEFAULT_QUEUE: Final = "Q1"
"""Work queue of new claims (examiners see the claims of their queues)."""
DEFAULT_APPEAL_WINDOW_DAYS: Final = 180
NO_PLAN: Final = uuid.UUID(int=0)
"""``planId`` of a submitted claim whose member claims knows no coverage for (adjudication denies it)."""
PROVIDER_NAMESPACE: Final = uuid.UUID("6f0c1d1e-6a4f-5b0e-9d1c-0c1a10000000")
"""Namespace of the stable provider ids claims derives from NPIs it has not seen in provider's events."""


KEY_IN_PROGRESS: Final = "a request with this Idempotency-Key is in progress; retry"


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used with a different request"


class EobNotReady(NotFound):
    """The claim has a final result but its EOB is still being rendered (moments after adjudication)."""

    code = "eob_not_ready"
    title = "The explanation of benefits is being prepared"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "2"}


# =================================================================================================
# Intake
# =================================================================================================
@dataclass(frozen=True, slots=True)
class Submission:
    claim_id: uuid.UUID
    transaction_id: uuid.UUID
    replayed: bool = False

    def answer(self) -> dict[str, str]:
        return {"status": "ACCEPTED", "transactionId": str(self.transaction_id), "claimId": str(self.claim_id)}


def request_hash(data: ClaimCreate) -> str:
    return _body_hash(data.model_dump(mode="json", by_alias=True))


def _documents_digest(documents: Sequence[tuple[str, str, bytes]]) -> list[list[str]]:
    """What a request's files add to its idempotency hash: each file's kind, type and SHA-256, in
    order (the same key with other files is another request)."""
    return [[kind, content_type, hashlib.sha256(content).hexdigest()] for kind, content_type, content in documents]


def _body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(_HASH_JSON.encode(body).encode()).hexdigest()


_HASH_JSON: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
"""``json.dumps(body, sort_keys=True, separators=(",", ":"))``'s encoder, made once rather than for
each claim (the idempotency hash keeps the json module's text: see ``olly/platform/jsonfast.py``)."""


def provider_ref(uow: UnitOfWork, npi: str, reads: Reads | None = None) -> uuid.UUID:
    """The provider id of an NPI: the registry's when claims knows it, else a stable id derived from the NPI."""
    known = reads.provider_id_of(npi) if reads is not None else ClaimsRepository(uow).provider_id_of(npi)
    return known if known is not None else uuid.uuid5(PROVIDER_NAMESPACE, f"npi:{npi}")


def holder_of(coverage: m.CoverageView | None, member_id: uuid.UUID) -> str:
    return coverage.family_id if coverage is not None and coverage.family_id else str(member_id)


def submit(
    uow: UnitOfWork,
    data: ClaimCreate,
    *,
    source: str,
    idempotency_key: str | None = None,
    origin: str | None = None,
    submitter: Submitter = Submitter.PROVIDER,
    raw: bytes | None = None,
    documents: Sequence[tuple[str, str, bytes]] = (),
    reads: Reads | None = None,
    checked: bool = False,
) -> Submission:
    """Record a claim RECEIVED with its raw payload (encrypted, object store) and ``claims.claim.submitted``.

    ``idempotency_key``: the same key with the same body answers the first submission again; with
    another body raises ``IdempotencyConflict``. ``origin`` names the submission's source document
    (an 837 interchange's control number, say) for the status history. ``reads``: coverage, schedules
    and providers read beforehand for a whole batch (``submit_many``, which also passes ``checked``:
    the intake errors were looked for already).
    """
    repo = ClaimsRepository(uow)
    alone = reads is None
    body = data.model_dump(mode="json", by_alias=True)
    digest = _body_hash(body if not documents else {"claim": body, "documents": _documents_digest(documents)})
    scope = source[:16]
    if idempotency_key is not None:
        known = repo.idempotency_key(scope, idempotency_key)
        if known is not None:
            if known.request_hash != digest:
                raise IdempotencyConflict("the key was first used with another request body")
            return Submission(known.claim_id, known.transaction_id, replayed=True)
    now = uow.clock.now()
    today = now.date()
    errors = [] if checked else _intake_errors(uow, data, today)
    if errors:
        raise ValidationFailed(errors)
    claim_id, transaction_id = uuid7(), uuid7()
    # Every read comes before the first row is added, so none of them flushes a half-built claim.
    reads = reads or ClaimIntakeReads(uow, data)
    if not checked and (errors := _currency_errors(reads, data)):
        raise ValidationFailed(errors)
    inputs = _intake_inputs(uow, data, reads)
    if idempotency_key is not None:
        key_row = m.IdempotencyKey(
            scope=scope,
            key=idempotency_key,
            request_hash=digest,
            claim_id=claim_id,
            transaction_id=transaction_id,
            created_at=now,
        )
        if alone:
            uow.session.add(key_row)  # written with the claim; a racing first use fails the flush below
        else:
            with uow.session.begin_nested():
                uow.session.add(key_row)
                try:
                    uow.session.flush()
                except IntegrityError:
                    raise Conflict(KEY_IN_PROGRESS) from None
    raw_bytes = raw if raw is not None else json.dumps(body).encode()
    rows = _IntakeRows(uow)
    submission = _record(
        uow, data, claim_id, transaction_id, scope, origin, submitter, raw_bytes, documents, inputs, rows
    )
    rows.write()
    if alone and idempotency_key is not None:
        try:
            uow.session.flush()
        except IntegrityError:
            raise Conflict(KEY_IN_PROGRESS) from None
    return submission


@dataclass(frozen=True, slots=True)
class _IntakeInputs:
    """What intake reads for one claim, read before any of its rows is added."""

    first_date: date
    last_date: date
    coverage: m.CoverageView | None
    provider_id: uuid.UUID
    requires_prior_auth: bool


def _intake_inputs(uow: UnitOfWork, data: ClaimCreate, reads: Reads) -> _IntakeInputs:
    first_date = min(line.service_date_from for line in data.lines)
    last_date = max(line.service_date_to or line.service_date_from for line in data.lines)
    coverage = _coverage_on(reads.coverages(data.member_id), first_date)
    return _IntakeInputs(
        first_date,
        last_date,
        coverage,
        provider_ref(uow, data.billing_npi, reads),
        _requires_prior_auth(reads, coverage, data, first_date),
    )


def _record(
    uow: UnitOfWork,
    data: ClaimCreate,
    claim_id: uuid.UUID,
    transaction_id: uuid.UUID,
    scope: str,
    origin: str | None,
    submitter: Submitter,
    raw_bytes: bytes,
    documents: Sequence[tuple[str, str, bytes]],
    inputs: _IntakeInputs,
    rows: _IntakeRows,
) -> Submission:
    """Take in a checked claim RECEIVED: its rows (into ``rows``, written by its ``write``), raw
    payload, history and ``claims.claim.submitted``."""
    now = uow.clock.now()
    today = now.date()
    first_date, last_date, coverage = inputs.first_date, inputs.last_date, inputs.coverage
    provider_id, requires_auth = inputs.provider_id, inputs.requires_prior_auth
    store = object_store_of(uow)
    raw_key = store.put(uow, "raw_claim", raw_bytes)
    charges = [_charge_minor(line.charge, data.currency) for line in data.lines]
    total = sum(charges)
    rows.add(
        rows.claims,
        {
            "id": claim_id,
            "transaction_id": transaction_id,
            "member_id": data.member_id,
            "claim_type": data.claim_type,
            "frequency": data.frequency,
            "original_claim_id": data.original_claim_id,
            "submitter": submitter.value,
            "source": scope,
            "billing_npi": data.billing_npi,
            "rendering_npi": data.rendering_npi,
            "provider_id": provider_id,
            "plan_id": coverage.plan_id if coverage else None,
            "currency": data.currency,
            "total_billed_minor": total,
            "service_date_from": first_date,
            "service_date_to": last_date,
            "received_on": today,
            "received_at": now,
            "status": "RECEIVED",
            "pend_reasons": [],
            "queue": DEFAULT_QUEUE,
            "detail": {
                "placeOfService": data.place_of_service,
                "priorAuthReference": data.prior_auth_reference,
                "isEmergency": data.is_emergency,
                "isAccident": data.is_accident,
                "isAncillary": data.is_ancillary,
                "facilityInNetwork": data.facility_in_network,
                "careSetting": data.care_setting.value if data.care_setting else None,
                "inpatientHours": data.inpatient_hours,
                "isDayCare": data.is_day_care,
                "origin": origin,
            },
            "raw_object_key": raw_key,
            "eob_object_key": None,
            "adjudicated_at": None,
            "replaced_by_claim_id": None,
            "version": 1,
        },
    )
    for number, (line, charge) in enumerate(zip(data.lines, charges, strict=True), start=1):
        rows.add(
            rows.lines,
            {
                "id": uuid7(),
                "claim_id": claim_id,
                "line_number": number,
                "charge_minor": charge,
                "units": line.units,
                "service": {
                    "procedureCode": line.procedure_code,
                    "modifiers": list(line.modifiers),
                    "revenueCode": line.revenue_code,
                    "chargeType": line.charge_type.value if line.charge_type else None,
                    "diagnosisPointers": list(line.diagnosis_pointers),
                    "placeOfService": line.place_of_service,
                    "serviceDateFrom": line.service_date_from.isoformat(),
                    "serviceDateTo": line.service_date_to.isoformat() if line.service_date_to else None,
                    "renderingNpi": line.rendering_npi,
                },
                "status": None,
                "allowed_minor": None,
                "paid_minor": None,
                "deductible_minor": None,
                "coinsurance_minor": None,
                "copay_minor": None,
                "adjustments": [],
            },
        )
    for position, code in enumerate(data.diagnoses, start=1):
        rows.add(rows.diagnoses, {"id": uuid7(), "claim_id": claim_id, "position": position, "code": code.upper()})
    rows.document(claim_id, "RAW_PAYLOAD", "application/json", raw_bytes, raw_key, now)
    for kind, content_type, content in documents:
        key = store.put(uow, "claim_document", content)
        rows.document(claim_id, kind, content_type, content, key, now)
    rows.add(
        rows.history,
        {
            "id": uuid7(),
            "claim_id": claim_id,
            "status": "RECEIVED",
            "reason": f"submitted via {scope.lower()}"[:120],
            "changed_at": now,
        },
    )
    uow.publish(
        ClaimSubmitted(
            claim_id=claim_id,
            member_id=data.member_id,
            provider_id=provider_id,
            plan_id=coverage.plan_id if coverage else NO_PLAN,
            claim_type=data.claim_type,
            total_billed_amount=Money(total, data.currency).to_decimal_string(),
            currency=data.currency,
            service_date=first_date,
            submitted_at=now,
            requires_prior_auth=requires_auth,
        ),
        key=holder_of(coverage, data.member_id),
    )
    return Submission(claim_id, transaction_id)


@functools.lru_cache(maxsize=4096)
def _charge_minor(charge: str, currency: str) -> int:
    """``Money.parse(charge, currency).amount``, remembered: an 837's line charges are the few
    amounts of its providers' fee schedules, each parsed once rather than on every line."""
    return Money.parse(charge, currency).amount


class _IntakeRows:
    """The rows of claims being taken in, until ``write`` inserts them: one multi-row insert per
    table for a chunk of an 837 instead of an ORM object (and its flush bookkeeping) per row. The
    PHI columns are sealed as the ORM's events would seal them, as each row is added (``NewRows``
    then holds it as the driver's values)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.tenant_id = uow.require_tenant()
        self.crypto = crypto = session_crypto(uow.session)
        repo = ClaimsRepository(uow)
        self.connection = uow.session.connection()
        self.claims = repo.new_rows(table_of(m.Claim))
        self.lines = repo.new_rows(table_of(m.ClaimLine))
        self.diagnoses = repo.new_rows(table_of(m.ClaimDiagnosis))
        self.documents = repo.new_rows(table_of(m.ClaimDocument))
        self.history = repo.new_rows(table_of(m.ClaimStatusChange))
        self._sealers = {
            rows.table: row_sealer(crypto, self.connection, rows.table, self.tenant_id)
            for rows in (self.claims, self.lines, self.diagnoses, self.documents, self.history)
        }

    def add(self, rows: NewRows, values: dict[str, Any]) -> None:
        """Add a row (column name → plain value, ``id`` included) to ``rows``, its PHI sealed."""
        rows.add(self._sealers[rows.table](values))

    def document(
        self, claim_id: uuid.UUID, kind: str, content_type: str, content: bytes, key: str, now: datetime
    ) -> None:
        self.add(
            self.documents,
            {
                "id": uuid7(),
                "claim_id": claim_id,
                "kind": kind,
                "content_type": content_type,
                "size_bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "object_key": key,
                "created_at": now,
            },
        )

    def write(self) -> None:
        for rows in (self.claims, self.lines, self.diagnoses, self.documents, self.history):
            rows.insert()


def submit_many(
    uow: UnitOfWork,
    claims: Sequence[ClaimCreate],
    *,
    source: str,
    idempotency_key: str | None = None,
    submitter: Submitter = Submitter.PROVIDER,
) -> list[Submission]:
    """``submit`` for each of ``claims`` in this one transaction, all or none: any claim's intake
    errors (field names ``body.claims.{i}.…``) refuse the whole batch before anything is written.

    Coverage, schedules and providers are read once for the batch. ``idempotency_key`` stands for
    the batch: claim ``i`` is kept under ``{key}#{i}``, so the same batch sent again answers every
    claim's first submission, and the key with another batch raises ``IdempotencyConflict``. A
    replacement's original must have been submitted before the batch.
    """
    if not claims or len(claims) > MAX_BATCH_CLAIMS:
        raise ValidationFailed([FieldError("body.claims", f"1 to {MAX_BATCH_CLAIMS} claims", "invalid")])
    today = uow.clock.now().date()
    keys = [f"{idempotency_key}#{index}" if idempotency_key is not None else None for index in range(len(claims))]
    repo = ClaimsRepository(uow)
    if idempotency_key is not None:
        # The key stands for the whole batch: its first claims alone, or it with more, are another batch.
        beyond = f"{idempotency_key}#{len(claims)}"
        known = repo.idempotency_keys(source[:16], [key for key in (*keys, beyond) if key is not None])
        if known and (len(known) != len(claims) or beyond in known):
            raise IdempotencyConflict("the key was first used with another request body")
    reads = IntakeReads(uow, claims)
    errors = []
    for index, data in enumerate(claims):
        key = keys[index]
        if key is not None and repo.idempotency_key(source[:16], key) is not None:
            continue  # answered again below (or refused if the body changed), as a single POST would be
        for error in _intake_errors(uow, data, today) + _currency_errors(reads, data):
            errors.append(replace(error, field=error.field.replace("body.", f"body.claims.{index}.", 1)))
    if errors:
        raise ValidationFailed(errors)
    return [
        submit(uow, data, source=source, idempotency_key=key, submitter=submitter, reads=reads, checked=True)
        for key, data in zip(keys, claims, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class IntakeItem:
    """One claim of ``submit_each``: its form, its own idempotency key and origin (as ``submit``)."""

    data: ClaimCreate
    idempotency_key: str | None = None
    origin: str | None = None


Refusal = ValidationFailed | Conflict
"""What ``submit`` would have raised for a claim: its intake errors, or an idempotency conflict."""


def submit_each(
    uow: UnitOfWork,
    items: Sequence[IntakeItem],
    *,
    source: str,
    submitter: Submitter = Submitter.PROVIDER,
) -> list[Submission | Refusal]:
    """``submit`` for each item, each accepted or refused on its own (an 837's claims: one bad claim
    never refuses the others); the answers in the order of ``items``.

    The same rows, events and refusals as ``submit`` called item by item, without a savepoint per
    claim: the idempotency keys are looked up in one query and inserted together, coverage,
    schedules and providers are read once, and the accepted claims' rows are flushed together (the
    ORM writes each table's rows in multi-row statements).
    """
    scope = source[:16]
    repo = ClaimsRepository(uow)
    today = uow.clock.now().date()
    known = repo.idempotency_keys(scope, [i.idempotency_key for i in items if i.idempotency_key is not None])
    answers: list[Submission | Refusal | None] = [None] * len(items)
    reads = IntakeReads(uow, [item.data for item in items])
    fresh: list[tuple[int, uuid.UUID, uuid.UUID, str]] = []
    keys: dict[str, int] = {}
    later: list[int] = []  # a key seen twice in the chunk: after the first is written, as one by one
    raws: dict[int, bytes] = {}
    for index, item in enumerate(items):
        form = item.data.model_dump(mode="json", by_alias=True)  # dumped once for the hash and the raw payload
        key, digest = item.idempotency_key, _body_hash(form)
        if key is not None and key in keys:
            later.append(index)
            continue
        row = known.get(key) if key is not None else None
        if row is not None:
            answers[index] = (
                Submission(row.claim_id, row.transaction_id, replayed=True)
                if row.request_hash == digest
                else IdempotencyConflict("the key was first used with another request body")
            )
            continue
        errors = _intake_errors(uow, item.data, today) + _currency_errors(reads, item.data)
        if errors:
            answers[index] = ValidationFailed(errors)
            continue
        if key is not None:
            keys[key] = index
        fresh.append((index, uuid7(), uuid7(), digest))
        raws[index] = json.dumps(form).encode()
    if fresh and not _claim_keys(uow, items, fresh, scope):
        # Another request holds one of the keys: each claim goes alone, as ``submit`` decides it.
        later = sorted(later + [index for index, *_ in fresh])
        fresh = []
    if fresh:
        rows = _IntakeRows(uow)
        for index, claim_id, transaction_id, _ in fresh:
            item = items[index]
            inputs = _intake_inputs(uow, item.data, reads)
            answers[index] = _record(
                uow, item.data, claim_id, transaction_id, scope, item.origin, submitter, raws[index], (), inputs, rows
            )
        rows.write()
        _let_go_of_written(uow)
    for index in later:
        item = items[index]
        try:
            with uow.session.begin_nested():
                answers[index] = submit(
                    uow,
                    item.data,
                    source=source,
                    idempotency_key=item.idempotency_key,
                    origin=item.origin,
                    submitter=submitter,
                )
        except (ValidationFailed, Conflict) as refusal:
            answers[index] = refusal
    return [answer for answer in answers if answer is not None]


def _let_go_of_written(uow: UnitOfWork) -> None:
    """Flush the claims' rows written so far and drop them from the session: an 837 of 100,000
    claims comes in chunks in one transaction, and a session holding every row of the file makes
    each flush and each garbage collection slower than the last."""
    uow.session.flush()
    for row in [o for o in uow.session.identity_map.values() if isinstance(o, _INTAKE_ROWS)]:
        if not uow.session.is_modified(row):
            uow.session.expunge(row)


_INTAKE_ROWS: Final = (m.Claim, m.ClaimLine, m.ClaimDiagnosis, m.ClaimDocument, m.ClaimStatusChange, m.IdempotencyKey)
"""What intake writes (read models, accumulators and the like stay in the session)."""


def _claim_keys(
    uow: UnitOfWork, items: Sequence[IntakeItem], fresh: Sequence[tuple[int, uuid.UUID, uuid.UUID, str]], scope: str
) -> bool:
    """Insert the idempotency keys of the claims about to be written; False when one is taken."""
    now = uow.clock.now()
    rows = ClaimsRepository(uow).new_rows(table_of(m.IdempotencyKey))
    for index, claim_id, transaction_id, digest in fresh:
        if items[index].idempotency_key is not None:
            rows.add(
                {
                    "id": uuid7(),
                    "scope": scope,
                    "key": items[index].idempotency_key,
                    "request_hash": digest,
                    "claim_id": claim_id,
                    "transaction_id": transaction_id,
                    "created_at": now,
                }
            )
    if not len(rows):
        return True
    try:
        with uow.session.begin_nested():
            rows.insert()
    except IntegrityError:
        return False
    return True


def _intake_errors(uow: UnitOfWork, data: ClaimCreate, today: date) -> list[FieldError]:
    errors = []
    for index, line in enumerate(data.lines):
        if line.service_date_from > today:
            errors.append(FieldError(f"body.lines.{index}.serviceDateFrom", "is in the future", "invalid"))
        if data.claim_type == "PROFESSIONAL" and line.procedure_code is None and line.charge_type is None:
            errors.append(FieldError(f"body.lines.{index}.procedureCode", "a professional line needs one", "required"))
        if data.claim_type == "INSTITUTIONAL" and line.revenue_code is None and line.charge_type is None:
            errors.append(FieldError(f"body.lines.{index}.revenueCode", "an institutional line needs one", "required"))
    if data.original_claim_id is not None:
        original = ClaimsRepository(uow).claim(data.original_claim_id)
        if original is None or original.member_id != data.member_id:
            errors.append(FieldError("body.originalClaimId", "names no claim of this member", "not_found"))
        elif original.status in ("REPLACED", "VOIDED"):
            errors.append(FieldError("body.originalClaimId", "was already replaced or voided", "invalid"))
    return errors


def plan_currency(uow: UnitOfWork, member_id: uuid.UUID, on: date) -> str | None:
    """The currency of the member's plan on ``on`` (claims' copies), None when they have none then."""
    reads = Reads(uow)
    coverage = _coverage_on(reads.coverages(member_id), on)
    view = reads.schedule_view(coverage.plan_code, on) if coverage is not None else None
    return _parsed_schedule(view).currency if view is not None else None


def _currency_errors(reads: Reads, data: ClaimCreate) -> list[FieldError]:
    """A claim in another currency than its plan's: the engine cannot adjudicate it (its message
    would be dead-lettered and the claim stay RECEIVED), so it is refused at the door."""
    first_date = min(line.service_date_from for line in data.lines)
    coverage = _coverage_on(reads.coverages(data.member_id), first_date)
    view = reads.schedule_view(coverage.plan_code, first_date) if coverage is not None else None
    if view is None or _parsed_schedule(view).currency == data.currency:
        return []
    return [FieldError("body.currency", "is not the currency of the member's plan", "currency_mismatch")]


def _coverage_on(coverages: Sequence[m.CoverageView], on: date) -> m.CoverageView | None:
    best = None
    for coverage in coverages:
        for start, end in coverage.periods:
            if start is not None and date.fromisoformat(start) <= on and (end is None or on <= date.fromisoformat(end)):
                return coverage
        best = best or coverage
    return best


def _requires_prior_auth(reads: Reads, coverage: m.CoverageView | None, data: ClaimCreate, on: date) -> bool:
    if coverage is None:
        return False
    view = reads.schedule_view(coverage.plan_code, on)
    codes = _parsed_schedule(view).prior_auth_codes if view else frozenset()
    return any(line.procedure_code in codes for line in data.lines)


def _history(uow: UnitOfWork, claim_id: uuid.UUID, status: str, reason: str) -> None:
    uow.session.add(
        m.ClaimStatusChange(claim_id=claim_id, status=status, reason=reason[:120], changed_at=uow.clock.now())
    )


# =================================================================================================
# Loading the engine's inputs from claims' own tables
# =================================================================================================
def engine_claim(claim: m.Claim, lines: Sequence[m.ClaimLine], diagnoses: Sequence[str]) -> Claim:
    detail = claim.detail
    care = detail.get("careSetting")
    return Claim(
        claim_id=str(claim.id),
        member_id=str(claim.member_id),
        claim_type=ClaimType(claim.claim_type),
        lines=tuple(_engine_line(line, claim.currency) for line in lines),
        diagnoses=tuple(diagnoses),
        billing_npi=claim.billing_npi,
        received_on=claim.received_on,
        frequency=ClaimFrequency(claim.frequency),
        original_claim_id=str(claim.original_claim_id) if claim.original_claim_id else None,
        rendering_npi=claim.rendering_npi,
        place_of_service=detail.get("placeOfService"),
        prior_auth_reference=detail.get("priorAuthReference"),
        is_emergency=bool(detail.get("isEmergency")),
        is_accident=bool(detail.get("isAccident")),
        is_ancillary=bool(detail.get("isAncillary")),
        facility_in_network=bool(detail.get("facilityInNetwork")),
        submitter=Submitter(claim.submitter),
        care_setting=CareSetting(care) if care else None,
        inpatient_hours=detail.get("inpatientHours"),
        is_day_care=bool(detail.get("isDayCare")),
    )


def _engine_line(line: m.ClaimLine, currency: str) -> ClaimLine:
    service = line.service
    to = service.get("serviceDateTo")
    charge_type = service.get("chargeType")
    return ClaimLine(
        line_number=line.line_number,
        charge=Money(line.charge_minor, currency),
        service_date_from=date.fromisoformat(service["serviceDateFrom"]),
        service_date_to=date.fromisoformat(to) if to else None,
        procedure_code=service.get("procedureCode"),
        modifiers=tuple(service.get("modifiers") or ()),
        units=line.units,
        diagnosis_pointers=tuple(service.get("diagnosisPointers") or (1,)),
        place_of_service=service.get("placeOfService"),
        revenue_code=service.get("revenueCode"),
        charge_type=ChargeType(charge_type) if charge_type else None,
        rendering_npi=service.get("renderingNpi"),
    )


def _no_cover_schedule(currency: str) -> BenefitSchedule:
    return BenefitSchedule(
        plan_id=str(NO_PLAN),
        currency=currency,
        categories={"none": BenefitCategory(code="none", covered=False)},
        default_category="none",
    )


def coverage_snapshot(
    uow: UnitOfWork, member_id: uuid.UUID, on: date, currency: str, reads: Reads | None = None
) -> tuple[CoverageSnapshot, BenefitSchedule, m.CoverageView | None, m.BenefitScheduleView | None]:
    reads = reads or Reads(uow)
    coverage = _coverage_on(reads.coverages(member_id), on)
    if coverage is None:
        snapshot = CoverageSnapshot(member_id=str(member_id), plan_type=PlanType.PPO, periods=())
        return snapshot, _no_cover_schedule(currency), None, None
    view = reads.schedule_view(coverage.plan_code, on)
    if view is None:
        # The plan's schedule has not reached claims: no benefits known, adjudication denies CO-96.
        schedule = _no_cover_schedule(currency)
        plan_type = PlanType.PPO
    else:
        schedule = _parsed_schedule(view)
        plan_type = plan_mapping.engine_plan_type(coverage.plan_type)  # a POS plan adjudicates as a PPO
    periods = tuple(
        DatePeriod(date.fromisoformat(start), date.fromisoformat(end) if end else None)
        for start, end in coverage.periods
        if start is not None
    )
    declared = coverage.pre_existing or {}
    snapshot = CoverageSnapshot(
        member_id=str(member_id),
        plan_type=plan_type,
        periods=periods,
        family_id=coverage.family_id,
        birth_date=coverage.birth_date,
        pre_existing_diagnoses=tuple(declared.get("codes") or ()),
        pre_existing_waiting_months=declared.get("months"),
    )
    return snapshot, schedule, coverage, view


#: Parsed copies of read-model rows, by (what, row id, row revision[, currency]). The revision comes
#: from the row read in the caller's transaction, so an update made anywhere is seen at once; the
#: parsed objects are frozen, so threads share them.
_PARSED: dict[tuple[Any, ...], Any] = {}
_PARSED_MAX: Final = 4096
_NO_CONTRACT: Final = object()


def _parsed(key: tuple[Any, ...], parse: Callable[[], Any]) -> Any:
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        found = _PARSED[key] = parse()
    return found


def _parsed_schedule(view: m.BenefitScheduleView) -> BenefitSchedule:
    """A schedule row as the engine's frozen object, parsed once per row revision."""
    schedule: BenefitSchedule = _parsed(
        ("schedule", view.id, view.revision), lambda: snapshots.schedule_from_json(view.schedule)
    )
    return schedule


def _parsed_out_of_network(view: m.BenefitScheduleView, currency: str) -> OutOfNetworkPricing:
    pricing: OutOfNetworkPricing = _parsed(
        ("out_of_network", view.id, view.revision, currency),
        lambda: snapshots.out_of_network_from_json(view.schedule.get("outOfNetworkAllowable"), currency),
    )
    return pricing


def _parsed_contract(view: m.ProviderView) -> Contract | None:
    contract: Contract | None = _parsed(
        ("contract", view.id, view.revision),
        lambda: snapshots.contract_from_json(view.contract) if view.contract is not None else _NO_CONTRACT,
    )
    return None if contract is _NO_CONTRACT else contract


@dataclass(frozen=True, slots=True)
class _ContractPeriod:
    start: date
    end: date | None
    tier: str
    contract: Contract | None


def _parsed_periods(view: m.ProviderView) -> tuple[_ContractPeriod, ...] | None:
    """A provider copy's contract periods, parsed once per row revision; None for a copy made
    before periods were kept."""

    def parse() -> Any:
        if view.periods is None:
            return _NO_CONTRACT
        return tuple(
            _ContractPeriod(
                date.fromisoformat(p["from"]),
                date.fromisoformat(p["to"]) if p["to"] else None,
                p["tier"],
                snapshots.contract_from_json(p["rates"]) if p["rates"] is not None else None,
            )
            for p in view.periods
        )

    periods = _parsed(("periods", view.id, view.revision), parse)
    return None if periods is _NO_CONTRACT else periods


def provider_inputs(
    uow: UnitOfWork, claim: Claim, on: date, reads: Reads | None = None
) -> tuple[dict[str, ProviderSnapshot], PricingSnapshot]:
    """Each NPI's standing on ``on`` (the date of service): in network when a contract period covers
    it and the provider is credentialed; the billing provider's contract rates then price the claim.
    A copy made before periods were kept reads its one contract and dates as before."""
    views = (reads or Reads(uow)).providers(_npis_of(claim))
    providers = {}
    contract = None
    for npi, view in views.items():
        periods = _parsed_periods(view)
        rates: Contract | None = None
        if periods is None:
            in_contract = view.contract_from is not None and view.contract_from <= on
            in_contract = in_contract and (view.contract_to is None or on <= view.contract_to)
            in_network, tier = view.network_status == "IN_NETWORK" and in_contract, view.tier
            if in_network and npi == claim.billing_npi:
                rates = _parsed_contract(view)
        else:
            period = next((p for p in periods if p.start <= on and (p.end is None or on <= p.end)), None)
            in_network = period is not None and view.credentialing_status == CredentialingStatus.APPROVED
            tier = period.tier if period is not None else None
            rates = period.contract if period is not None and in_network else None
        providers[npi] = ProviderSnapshot(
            npi=npi,
            network_status=NetworkStatus.IN_NETWORK if in_network else NetworkStatus.OUT_OF_NETWORK,
            credentialing=CredentialingStatus(view.credentialing_status),
            tier=tier,
        )
        if npi == claim.billing_npi and in_network:
            contract = rates
    return providers, PricingSnapshot(contract=contract)


def _npis_of(claim: Claim) -> set[str]:
    npis = {claim.billing_npi} | {n for n in (claim.rendering_npi,) if n}
    return npis | {line.rendering_npi for line in claim.lines if line.rendering_npi}


def prior_authorizations_of(
    uow: UnitOfWork, member_id: uuid.UUID, excluding_claims: Collection[uuid.UUID] = ()
) -> tuple[PriorAuthorization, ...]:
    """The member's authorisations as the engine reads them, from the prior-authorisation records;
    units held by ``excluding_claims`` (the claim itself, the original a replacement reverses) count
    as unused."""
    return tuple(authorization_public.prior_authorizations_for(uow, member_id, excluding_claims=excluding_claims))


def _history_lines(uow: UnitOfWork, claim: m.Claim, exclude: set[uuid.UUID]) -> tuple[AdjudicatedLine, ...]:
    repo = ClaimsRepository(uow)
    others = repo.history_claims(
        claim.member_id, claim.billing_npi, claim.service_date_from, claim.service_date_to, exclude
    )
    by_id = {other.id: other for other in others}
    return _adjudicated_lines(by_id, repo.lines_of(list(by_id)))


def _adjudicated_lines(
    claims: dict[uuid.UUID, HistoryClaim] | dict[uuid.UUID, m.Claim], lines: Sequence[m.ClaimLine]
) -> tuple[AdjudicatedLine, ...]:
    """Earlier claims' lines as the duplicate edit reads them (``lines`` by claim id, line number)."""
    found = []
    for line in lines:
        other = claims[line.claim_id]
        service = line.service
        found.append(
            AdjudicatedLine(
                claim_id=str(other.id),
                line_number=line.line_number,
                member_id=str(other.member_id),
                billing_npi=other.billing_npi,
                service_date=date.fromisoformat(service["serviceDateFrom"]),
                procedure_code=service.get("procedureCode"),
                modifiers=tuple(service.get("modifiers") or ()),
                units=line.units,
                charge=Money(line.charge_minor, other.currency),
                revenue_code=service.get("revenueCode"),
                was_denied=line.status == "DENIED",
            )
        )
    return tuple(found)


def _accumulator_snapshot(rows: Sequence[m.Accumulator]) -> AccumulatorSnapshot:
    return AccumulatorSnapshot(
        {
            snapshots.key_from_json(
                [row.kind, row.level, row.holder_id, row.plan_year.isoformat(), row.network, row.category]
            ): row.used
            for row in rows
        }
    )


# =================================================================================================
# What an adjudication reads: one claim's queries, or a whole chunk's read at once
# =================================================================================================
class Reads:
    """An adjudication's reads, a few queries per claim (review decisions, re-adjudications)."""

    defers_writes: bool = False
    """Whether the adjudication's (or EOB's) rows may wait in the unit of work's queue (``writes.py``) until
    the next statement or the commit; otherwise they are sent when the adjudication ends."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.repo = ClaimsRepository(uow)
        #: coverage and schedule versions read ahead (``hold_coverage``); the rest is read when asked
        self._coverages: dict[uuid.UUID, list[m.CoverageView]] = {}
        self._schedules: dict[str, list[m.BenefitScheduleView]] = {}

    def hold_coverages(self, coverages: dict[uuid.UUID, list[m.CoverageView]]) -> None:
        """Hold the coverage rows of members (read beforehand) and read every version of their plans'
        schedules now, in one query, for ``coverages`` and ``schedule_view`` to answer from."""
        self._coverages.update(coverages)
        plan_codes = {row.plan_code for rows in self._coverages.values() for row in rows}
        if plan_codes:
            self.hold_schedules(plan_codes, self.repo.schedule_views(plan_codes))

    def hold_schedules(self, plan_codes: Collection[str], views: Sequence[m.BenefitScheduleView]) -> None:
        self._schedules.update({code: [] for code in plan_codes} | _by_plan(views))

    def lines(self, claim_id: uuid.UUID) -> list[m.ClaimLine]:
        return self.repo.lines(claim_id)

    def diagnoses(self, claim_id: uuid.UUID) -> list[str]:
        return self.repo.diagnoses(claim_id)

    def coverages(self, member_id: uuid.UUID) -> list[m.CoverageView]:
        found = self._coverages.get(member_id)
        if found is not None:
            return found
        self.repo.lock_coverage([member_id])
        return self.repo.coverages(member_id)

    def schedule_view(self, plan_code: str, on: date) -> m.BenefitScheduleView | None:
        views = self._schedules.get(plan_code)
        return self.repo.schedule_view(plan_code, on) if views is None else _in_force(views, on)

    def providers(self, npis: set[str]) -> dict[str, m.ProviderView]:
        return self.repo.providers(npis)

    def provider_id_of(self, npi: str) -> uuid.UUID | None:
        return self.repo.provider_id_of(npi)

    def lock_holder(self, holder: str) -> None:
        self.repo.lock_holder(holder)

    def accumulators(self, holders: set[str]) -> list[m.Accumulator]:
        return self.repo.accumulators(holders)

    def moved(self, rows: list[m.Accumulator]) -> None:
        """The accumulator rows after an adjudication (new rows included)."""

    def prior_authorizations(
        self, member_id: uuid.UUID, excluding_claims: Collection[uuid.UUID]
    ) -> tuple[PriorAuthorization, ...]:
        return prior_authorizations_of(self.uow, member_id, excluding_claims)

    def history(self, claim: m.Claim, exclude: set[uuid.UUID]) -> tuple[AdjudicatedLine, ...]:
        return _history_lines(self.uow, claim, exclude)

    def original(self, claim_id: uuid.UUID) -> m.Claim | None:
        """The claim a replacement or void names, locked."""
        return self.repo.claim(claim_id, for_update=True)


class IntakeReads(Reads):
    """What intake reads for a batch of claims (coverage, schedules, provider ids), in three queries.

    Coverage and provider ids are read with column selects into objects no session tracks (only
    the plan, its holder and periods: nothing personal is opened), so an 837's chunks, which share
    one transaction, leave nothing of them in the session."""

    def __init__(self, uow: UnitOfWork, claims: Sequence[ClaimCreate]) -> None:
        super().__init__(uow)
        members = {data.member_id for data in claims}
        if members:
            self.hold_coverages(self.repo.intake_coverages(members))
        self._npis = {data.billing_npi for data in claims}
        self._provider_ids = self.repo.provider_ids(self._npis)

    def provider_id_of(self, npi: str) -> uuid.UUID | None:
        if npi not in self._npis:
            return super().provider_id_of(npi)
        return self._provider_ids.get(npi)


class ClaimIntakeReads(Reads):
    """What intake reads for one claim (coverage, the plans' schedules, the billing NPI's provider
    id) in one query, before anything is written (so no read flushes a half-built claim)."""

    def __init__(self, uow: UnitOfWork, data: ClaimCreate) -> None:
        super().__init__(uow)
        self._npi = data.billing_npi
        found = self.repo.intake_reads(data.member_id, data.billing_npi)
        self._found = found is not None
        coverages, schedules, self._provider_id = found if found is not None else ([], [], None)
        self._coverages[data.member_id] = coverages
        self.hold_schedules({row.plan_code for row in coverages}, schedules)

    def provider_id_of(self, npi: str) -> uuid.UUID | None:
        if npi != self._npi or not self._found:
            return super().provider_id_of(npi)
        return self._provider_id


def _by_plan(views: Sequence[m.BenefitScheduleView]) -> dict[str, list[m.BenefitScheduleView]]:
    found: dict[str, list[m.BenefitScheduleView]] = {}
    for view in views:
        found.setdefault(view.plan_code, []).append(view)
    return found


def _in_force(views: Sequence[m.BenefitScheduleView], on: date) -> m.BenefitScheduleView | None:
    """As ``schedule_view``: the newest version in force on ``on`` (``views`` newest first)."""
    for view in views:
        if view.effective_from <= on and (view.effective_to is None or view.effective_to >= on):
            return view
    return None


class ChunkReads(Reads):
    """Everything a chunk of submitted claims reads, loaded in a dozen queries before the first is
    adjudicated; the claims are then adjudicated one by one in log order against it.

    What an adjudication changes is seen by the next one of the chunk exactly as through the
    queries: accumulator rows are the session's own objects (new ones are remembered), a claim made
    final earlier in the chunk joins the duplicate-edit history through its live status, and
    authorisations are still read per claim for the few members who have any (units recorded by
    one claim count for the next). Every holder of the chunk is locked up front, in holder order.
    The rows the adjudications write wait in the unit of work's queue and go as one statement per
    table (``writes.py``).

    The claims, lines, diagnoses and coverage are read with Core selects into objects no session
    tracks (``ClaimsRepository.chunk_claims`` and the rest): the chunk holds the only object of each
    claim it read, so a replacement's original is taken from it (``original``) and the change seen
    by the claims after it, as the session's identity map gave before.
    """

    defers_writes = True

    def __init__(self, uow: UnitOfWork, claim_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(uow)
        repo = self.repo
        self.claims = {claim.id: claim for claim in repo.chunk_claims(claim_ids)}
        chunk = list(self.claims.values())
        members = {claim.member_id for claim in chunk}
        repo.lock_coverage(members)
        self.hold_coverages(repo.chunk_coverages(members))
        # The holders the per-claim path would lock, counted once per claim it would adjudicate.
        counts: dict[str, int] = {}
        holders = {str(member) for member in members}
        for claim in chunk:
            holder = holder_of(_coverage_on(self.coverages(claim.member_id), claim.service_date_from), claim.member_id)
            holders.add(holder)
            if claim.status in ("RECEIVED", "PENDED"):
                counts[holder] = counts.get(holder, 0) + 1
        repo.lock_holders(counts)
        self._accumulators: dict[str, list[m.Accumulator]] = {holder: [] for holder in holders}
        for row in repo.accumulators(holders):
            self._accumulators[row.holder_id].append(row)
        self._with_authorizations = authorization_public.members_with_prior_authorizations(uow, members)
        # Duplicate-edit history: every finalised claim that may meet a claim of the chunk, plus the
        # chunk itself (its claims become final as it goes); filtered per claim on live status.
        self._candidates: dict[tuple[uuid.UUID, str], list[m.Claim]] = {}
        windows: dict[tuple[uuid.UUID, str], tuple[date, date]] = {}
        for claim in chunk:
            first, last = windows.get(
                (claim.member_id, claim.billing_npi), (claim.service_date_from, claim.service_date_to)
            )
            windows[claim.member_id, claim.billing_npi] = (
                min(first, claim.service_date_from),
                max(last, claim.service_date_to),
            )
        earlier = repo.chunk_final_claims_meeting(windows)
        self._earlier = {claim.id: claim for claim in earlier if claim.id not in self.claims}
        known = self._earlier | self.claims
        for claim in known.values():
            self._candidates.setdefault((claim.member_id, claim.billing_npi), []).append(claim)
        self._lines: dict[uuid.UUID, list[m.ClaimLine]] = {claim_id: [] for claim_id in known}
        for line in repo.chunk_lines(sorted(known)):
            self._lines[line.claim_id].append(line)
        self._diagnoses = repo.chunk_diagnoses(list(self.claims))
        self._npis = {claim.billing_npi for claim in chunk} | {c.rendering_npi for c in chunk if c.rendering_npi}
        self._npis |= {
            line.service["renderingNpi"]
            for claim in chunk
            for line in self._lines[claim.id]
            if line.service.get("renderingNpi")
        }
        self._providers = repo.providers(self._npis)

    def lines(self, claim_id: uuid.UUID) -> list[m.ClaimLine]:
        return self._lines[claim_id] if claim_id in self.claims else super().lines(claim_id)

    def diagnoses(self, claim_id: uuid.UUID) -> list[str]:
        found = self._diagnoses.get(claim_id)
        return found if found is not None else super().diagnoses(claim_id)

    def providers(self, npis: set[str]) -> dict[str, m.ProviderView]:
        if not npis <= self._npis:
            return super().providers(npis)
        return {npi: self._providers[npi] for npi in sorted(npis) if npi in self._providers}

    def lock_holder(self, holder: str) -> None:
        if holder not in self._accumulators:
            super().lock_holder(holder)

    def accumulators(self, holders: set[str]) -> list[m.Accumulator]:
        if not holders <= self._accumulators.keys():
            return super().accumulators(holders)
        return [row for holder in sorted(holders) for row in self._accumulators[holder]]

    def moved(self, rows: list[m.Accumulator]) -> None:
        for row in rows:
            held = self._accumulators.get(row.holder_id)
            if held is not None and row not in held:
                held.append(row)

    def prior_authorizations(
        self, member_id: uuid.UUID, excluding_claims: Collection[uuid.UUID]
    ) -> tuple[PriorAuthorization, ...]:
        if member_id not in self._with_authorizations:
            return ()
        return super().prior_authorizations(member_id, excluding_claims)

    def history(self, claim: m.Claim, exclude: set[uuid.UUID]) -> tuple[AdjudicatedLine, ...]:
        if claim.id not in self.claims:
            return super().history(claim, exclude)
        first, last = claim.service_date_from, claim.service_date_to
        others = sorted(
            (
                other
                for other in self._candidates.get((claim.member_id, claim.billing_npi), ())
                if other.status in FINAL_STATUSES
                and other.service_date_from <= last
                and other.service_date_to >= first
                and other.id not in exclude
            ),
            key=lambda other: other.id,
        )
        return _adjudicated_lines(
            {other.id: other for other in others}, [ln for o in others for ln in self._lines[o.id]]
        )

    def original(self, claim_id: uuid.UUID) -> m.Claim | None:
        found = self.claims.get(claim_id)  # locked with the chunk
        if found is not None:
            return found
        found = self._earlier.get(claim_id)
        if found is None:
            return super().original(claim_id)
        self.repo.lock_claim(claim_id)
        return found

    def adjudicate(self, claim_id: uuid.UUID, *, cause: str = "SUBMITTED") -> Outcome | None:
        """``adjudicate_claim(claim_id, missing_ok=True)`` for a claim of the chunk."""
        claim = self.claims.get(claim_id)
        if claim is None:
            return None
        if claim.status not in ("RECEIVED", "PENDED"):
            return Outcome(claim.id, claim.status, None)
        return _run(self.uow, claim, cause=cause, reads=self)


# =================================================================================================
# Adjudication
# =================================================================================================
@dataclass(frozen=True, slots=True)
class Outcome:
    claim_id: uuid.UUID
    status: str
    result: ClaimResult | None


def adjudicate_claim(
    uow: UnitOfWork, claim_id: uuid.UUID, *, cause: str = "SUBMITTED", missing_ok: bool = False
) -> Outcome | None:
    """Adjudicate a RECEIVED (or re-adjudicate a PENDED) claim: result, accumulators, status and events in
    the caller's transaction. A claim in any other status is left alone (consumers may see a message twice)."""
    repo = ClaimsRepository(uow)
    claim = repo.claim(claim_id, for_update=True)
    if claim is None:
        if missing_ok:
            return None
        raise NotFound("no such claim")
    if claim.status not in ("RECEIVED", "PENDED"):
        return Outcome(claim.id, claim.status, None)
    return _run(uow, claim, cause=cause)


def _run(
    uow: UnitOfWork,
    claim: m.Claim,
    *,
    cause: str,
    decisions: dict[int, m.LineDecision] | None = None,
    reads: Reads | None = None,
) -> Outcome:
    repo = ClaimsRepository(uow)
    reads = reads or Reads(uow)
    lines = reads.lines(claim.id)
    engine_input = engine_claim(claim, lines, reads.diagnoses(claim.id))
    on = claim.service_date_from
    coverage, schedule, coverage_row, schedule_row = coverage_snapshot(uow, claim.member_id, on, claim.currency, reads)
    holder = holder_of(coverage_row, claim.member_id)
    reads.lock_holder(holder)
    holders = {str(claim.member_id), holder}
    accumulator_rows = reads.accumulators(holders)
    accumulators = _accumulator_snapshot(accumulator_rows)
    providers, pricing = provider_inputs(uow, engine_input, on, reads)
    if schedule_row is not None:
        pricing = replace(pricing, out_of_network=_parsed_out_of_network(schedule_row, claim.currency))
    original: m.Claim | None = None
    original_record: m.AdjudicationRecord | None = None
    replaces: ClaimResult | None = None
    if claim.original_claim_id is not None:
        original = reads.original(claim.original_claim_id)
        original_record = repo.current_result(claim.original_claim_id) if original else None
        if original_record is not None and original_record.movements_applied and not original_record.reversed:
            replaces = snapshots.result_from_json(original_record.result)
        else:
            # The original never became final (pended or not yet adjudicated): nothing to reverse.
            engine_input = replace(engine_input, frequency=ClaimFrequency.ORIGINAL, original_claim_id=None)
    exclude = {claim.id} | ({claim.original_claim_id} if claim.original_claim_id else set())
    if engine_input.frequency is ClaimFrequency.ORIGINAL and claim.frequency == "8":
        result = _void_without_reversal(engine_input, claim, uow.clock.now().date())
    else:
        result = adjudicate(
            AdjudicationRequest(
                claim=engine_input,
                coverage=coverage,
                schedule=schedule,
                pricing=pricing,
                accumulators=accumulators,
                adjudication_date=uow.clock.now().date(),
                providers=providers,
                prior_authorizations=reads.prior_authorizations(claim.member_id, exclude),
                history=reads.history(claim, exclude),
                replaces=replaces,
                waived=repo.appeal_waivers(claim.id) if cause != "SUBMITTED" else {},
            )
        )
    if decisions:
        result = apply_decisions(result, decisions)
    writes = writes_of(uow)
    outcome = _store(
        uow, writes, claim, lines, result, accumulator_rows, cause=cause, schedule_row=schedule_row,
        original=original, original_record=original_record, family_id=coverage.family_id,
    )  # fmt: skip
    reads.moved(accumulator_rows)
    if not reads.defers_writes:
        writes.flush()
    return outcome


def _void_without_reversal(claim: Claim, row: m.Claim, today: date) -> ClaimResult:
    zero = Money.zero(row.currency)
    return ClaimResult(
        claim_id=claim.claim_id,
        member_id=claim.member_id,
        status=ClaimStatus.VOIDED,
        currency=row.currency,
        adjudicated_on=today,
        lines=(),
        totals=ClaimTotals(zero, zero, zero, zero, zero, zero, zero, zero),
    )


def apply_decisions(result: ClaimResult, decisions: dict[int, m.LineDecision]) -> ClaimResult:
    """An examiner's decisions over a provisional result: the lines decided are final, the rest unchanged.

    APPROVE keeps the engine's amounts; DENY turns the whole charge into one CO adjustment with the
    examiner's CARC (no accumulator moves); ADJUST lowers the plan's payment to the given amount, the
    difference becoming a CO adjustment with the examiner's CARC (the member's share is unchanged).
    """
    lines = []
    for line in result.lines:
        decision = decisions.get(line.line_number)
        if decision is None:
            lines.append(line)
            continue
        carc = Carc.from_code(decision.carc) if decision.carc else Carc.NOT_MEDICALLY_NECESSARY
        if decision.decision == "DENY":
            zero = Money.zero(result.currency)
            lines.append(
                replace(
                    line,
                    status=LineStatus.DENIED,
                    allowed=zero,
                    paid=zero,
                    deductible=zero,
                    coinsurance=zero,
                    copay=zero,
                    adjustments=(Adjustment(GroupCode.CONTRACTUAL, carc, line.billed),),
                    movements=(),
                    pend_reasons=(),
                )
            )
        elif decision.decision == "ADJUST":
            new_paid = Money(decision.paid_minor or 0, result.currency)
            if new_paid > line.paid:
                raise BusinessRuleViolation("an adjustment may only lower the plan's payment")
            cut = line.paid - new_paid
            adjustments = line.adjustments + ((Adjustment(GroupCode.CONTRACTUAL, carc, cut),) if cut else ())
            lines.append(
                replace(line, status=LineStatus.REDUCED, paid=new_paid, adjustments=adjustments, pend_reasons=())
            )
        else:
            line_status = LineStatus.APPROVED if line.status is LineStatus.PENDED else line.status
            lines.append(replace(line, status=line_status, pend_reasons=()))
    new_lines = tuple(lines)
    still_pended = any(line.status is LineStatus.PENDED for line in new_lines)
    claim_pends = result.pend_reasons if not decisions or still_pended else ()
    status = _claim_status(new_lines, claim_pends)
    movements = tuple(mv for line in new_lines for mv in line.movements)
    return replace(
        result,
        lines=new_lines,
        status=status,
        pend_reasons=claim_pends,
        totals=snapshots.totals_of(new_lines, result.currency),
        movements=movements,
    )


def _claim_status(lines: tuple[LineResult, ...], pends: tuple[Any, ...]) -> ClaimStatus:
    if pends or any(line.status is LineStatus.PENDED for line in lines):
        return ClaimStatus.PENDED
    if all(line.status is LineStatus.DENIED for line in lines):
        return ClaimStatus.DENIED
    if all(line.status is LineStatus.APPROVED for line in lines):
        return ClaimStatus.APPROVED
    return ClaimStatus.PARTIALLY_APPROVED


def _apply_movements(
    uow: UnitOfWork, writes: Writes, rows: list[m.Accumulator], movements: Sequence[AccumulatorMovement]
) -> set[tuple[str, str, date]]:
    """Move the accumulator rows (the holder lock is held); returns the (holder, level, plan year) touched.

    A row the movements create is queued as a new row and joins ``rows`` (an object the session
    never tracks: later movements of the chunk change it and its queued row alike)."""
    by_key = {(row.kind, row.level, row.holder_id, row.plan_year, row.network, row.category): row for row in rows}
    touched = set()
    now = uow.clock.now()
    for movement in movements:
        key = movement.key
        ident = (key.kind.value, key.level.value, key.holder_id, key.plan_year, key.network.value, key.category)
        row = by_key.get(ident)
        if row is None:
            row = _NEW_ACCUMULATOR()  # (no constructor: every value is set as the row is queued)
            writes.insert_object(
                row,
                {
                    "id": new_id(),
                    "holder_id": key.holder_id,
                    "level": key.level.value,
                    "plan_year": key.plan_year,
                    "kind": key.kind.value,
                    "network": key.network.value,
                    "category": key.category,
                    "used": 0,
                    "version": 0,
                    "updated_at": now,
                },
            )
            rows.append(row)
            by_key[ident] = row
        writes.change(row, used=row.used + movement.delta, version=row.version + 1, updated_at=now)
        touched.add((key.holder_id, key.level.value, key.plan_year))
    return touched


def _adjudication_history(writes: Writes, claim_id: uuid.UUID, status: str, reason: str, now: datetime) -> None:
    """``_history`` for the rows an adjudication writes (queued, see ``writes.py``)."""
    writes.insert(
        _HISTORY,
        {"id": new_id(), "claim_id": claim_id, "status": status, "reason": reason[:120], "changed_at": now},
    )


_HISTORY: Final = table_of(m.ClaimStatusChange)
_NEW_ACCUMULATOR: Final = m.Accumulator.__mapper__.class_manager.new_instance
_RESULTS: Final = table_of(m.AdjudicationRecord)


def _store(
    uow: UnitOfWork,
    writes: Writes,
    claim: m.Claim,
    lines: list[m.ClaimLine],
    result: ClaimResult,
    accumulator_rows: list[m.Accumulator],
    *,
    cause: str,
    schedule_row: m.BenefitScheduleView | None,
    original: m.Claim | None,
    original_record: m.AdjudicationRecord | None,
    family_id: str | None,
) -> Outcome:
    repo = ClaimsRepository(uow)
    now = uow.clock.now()
    previous = repo.results(claim.id) if claim.status != "RECEIVED" else []
    for record in previous:
        writes.change(record, is_current=False)
    movements: list[AccumulatorMovement] = []
    if result.is_final:
        if result.reversal is not None:
            movements.extend(result.reversal.movements)
        movements.extend(result.movements)
    touched = _apply_movements(uow, writes, accumulator_rows, movements)
    sequence = len(previous) + 1
    writes.insert(
        _RESULTS,
        {
            "id": new_id(),
            "claim_id": claim.id,
            "sequence": sequence,
            "status": result.status.value,
            "is_current": True,
            "billed_minor": result.totals.billed.amount,
            "allowed_minor": result.totals.allowed.amount,
            "paid_minor": result.totals.paid.amount,
            "member_share_minor": result.totals.member_cost_share.amount,
            "movements_applied": result.is_final and result.status is not ClaimStatus.VOIDED,
            "reversed": False,
            "result": snapshots.result_to_json(result),
            "adjudicated_at": now,
            "cause": cause,
        },
    )
    by_number = {line.line_number: line for line in result.lines}
    for row in lines:
        line = by_number.get(row.line_number)
        if line is None:
            continue
        writes.change(
            row,
            status=line.status.value,
            allowed_minor=line.allowed.amount,
            paid_minor=line.paid.amount,
            deductible_minor=line.deductible.amount,
            coinsurance_minor=line.coinsurance.amount,
            copay_minor=line.copay.amount,
            adjustments=[snapshots.adjustment_to_json(a) for a in line.adjustments],
        )
    pend_reasons = sorted(
        {p.value for p in result.pend_reasons} | {p.value for ln in result.lines for p in ln.pend_reasons}
    )
    writes.change(
        claim, status=result.status.value, pend_reasons=pend_reasons, adjudicated_at=now, version=claim.version + 1
    )
    _adjudication_history(
        writes, claim.id, claim.status, cause.lower() + (": " + ", ".join(pend_reasons) if pend_reasons else ""), now
    )
    if result.is_final and original is not None and claim.frequency in ("7", "8"):
        writes.change(
            original, status="VOIDED" if claim.frequency == "8" else "REPLACED", replaced_by_claim_id=claim.id
        )
        _adjudication_history(writes, original.id, original.status, f"by claim {claim.id}", now)
        if original_record is not None and result.reversal is not None:
            writes.change(original_record, reversed=True)
            _publish_reversed(uow, claim, original, result.reversal.paid)
        authorization_public.release_units(uow, original.id)
    if result.is_final and result.status is not ClaimStatus.VOIDED:
        _record_authorized_units(uow, writes, claim.id, result, {row.line_number: row.units for row in lines})
        _publish_adjudicated(uow, writes, claim, result, schedule_row, sequence)
    if touched:
        _publish_accumulators(uow, claim, accumulator_rows, touched, family_id)
    return Outcome(claim.id, claim.status, result)


def _record_authorized_units(
    uow: UnitOfWork, writes: Writes, claim_id: uuid.UUID, result: ClaimResult, line_units: dict[int, int]
) -> None:
    """Record the units a final result consumed of each authorised service its lines used.

    A line counts when the engine matched it to an authorisation (``LineResult.prior_auth_id``) and
    it was not denied; units of several lines on one service are summed (``record_units_used``
    keeps one count per claim and service). The engine only matches a line to an authorisation with
    enough units left (otherwise it denies CO-197 with N54), so a refusal here means the
    authorisation changed under the adjudication; the refusal is checked before anything is
    written, so the result stands, the units stay unrecorded and the claim's history says so.
    """
    units: dict[str, int] = {}
    for line in result.lines:
        if line.prior_auth_id is not None and line.status in (LineStatus.APPROVED, LineStatus.REDUCED):
            units[line.prior_auth_id] = units.get(line.prior_auth_id, 0) + line_units[line.line_number]
    if units:
        writes.flush()  # before the savepoint ``record_units_used`` may roll back
    for auth_id, count in sorted(units.items()):
        try:
            authorization_public.record_units_used(uow, auth_id, claim_id, count)
        except (BusinessRuleViolation, NotFound):
            _adjudication_history(
                writes,
                claim_id,
                "AUTH_UNITS_REFUSED",
                f"units not recorded on authorised service {auth_id}",
                uow.clock.now(),
            )


def appeal_deadline(adjudicated_on: date, schedule_row: m.BenefitScheduleView | None) -> date:
    days = schedule_row.appeal_window_days if schedule_row is not None else DEFAULT_APPEAL_WINDOW_DAYS
    return adjudicated_on + timedelta(days=days)


def _publish_adjudicated(
    uow: UnitOfWork,
    writes: Writes,
    claim: m.Claim,
    result: ClaimResult,
    schedule_row: m.BenefitScheduleView | None,
    sequence: int,
) -> None:
    provider_id = claim.provider_id or provider_ref(uow, claim.billing_npi)
    # The EOB is rendered after this transaction commits (``store_eob``, the EOB consumer of this
    # event): the adjudication only chooses its key.
    eob_key = eob.object_key(uow.require_tenant(), claim.id, sequence)
    writes.change(claim, eob_object_key=eob_key)
    key = str(claim.member_id)
    if result.status is ClaimStatus.DENIED:
        denial = next((line.denial for line in result.lines if line.denial is not None), None)
        code = denial.code if denial else "CO-96"
        text = denial.carc.label if denial else Carc.NON_COVERED.label
        uow.publish(
            ClaimDenied(
                claim_id=claim.id,
                member_id=claim.member_id,
                provider_id=provider_id,
                denial_reason_code=code,
                denial_reason_text=text,
                appeal_deadline=appeal_deadline(result.adjudicated_on, schedule_row),
                adjudicated_at=uow.clock.now(),
                adjudication_sequence=sequence,
            ),
            key=key,
        )
        return
    totals = result.totals
    uow.publish(
        ClaimApproved(
            claim_id=claim.id,
            member_id=claim.member_id,
            provider_id=provider_id,
            status="PARTIALLY_APPROVED" if result.status is ClaimStatus.PARTIALLY_APPROVED else "APPROVED",
            total_billed_amount=totals.billed.to_decimal_string(),
            allowed_amount=totals.allowed.to_decimal_string(),
            paid_amount=totals.paid.to_decimal_string(),
            member_responsibility=totals.patient_responsibility.to_decimal_string(),
            deductible_applied=totals.deductible.to_decimal_string(),
            copay_applied=totals.copay.to_decimal_string(),
            coinsurance_applied=totals.coinsurance.to_decimal_string(),
            currency=result.currency,
            adjudicated_at=uow.clock.now(),
            eob_s3_key=eob_key,
            payee="MEMBER" if claim.submitter == Submitter.MEMBER_REIMBURSEMENT.value else "PROVIDER",
            adjudication_sequence=sequence,
            billing_npi=claim.billing_npi,
        ),
        key=key,
    )


def _publish_reversed(uow: UnitOfWork, claim: m.Claim, original: m.Claim, taken_back: Money) -> None:
    """Tell billing to recover what the earlier claim paid (nothing to tell when it paid nothing)."""
    if taken_back.amount == 0:
        return
    uow.publish(
        ClaimReversed(
            claim_id=original.id,
            reversing_claim_id=claim.id,
            reason="VOID" if claim.frequency == "8" else "REPLACEMENT",
            member_id=original.member_id,
            provider_id=original.provider_id or provider_ref(uow, original.billing_npi),
            payee="MEMBER" if original.submitter == Submitter.MEMBER_REIMBURSEMENT.value else "PROVIDER",
            reversed_amount=Money(-taken_back.amount, taken_back.currency).to_decimal_string(),
            currency=taken_back.currency,
            reversed_at=uow.clock.now(),
        ),
        key=str(original.member_id),
    )


def _publish_accumulators(
    uow: UnitOfWork,
    claim: m.Claim,
    rows: list[m.Accumulator],
    touched: set[tuple[str, str, date]],
    family_id: str | None,
) -> None:
    member = str(claim.member_id)
    years = {year for _holder, _level, year in touched}
    # Each (holder, level, kind, plan year, network)'s used amount summed over categories, in one pass.
    sums: dict[tuple[str, str, str, date, str], int] = {}
    for row in rows:
        if row.plan_year in years:
            key = (row.holder_id, row.level, row.kind, row.plan_year, row.network)
            sums[key] = sums.get(key, 0) + row.used
    combined = NetworkScope.COMBINED.value
    for plan_year in sorted(years):

        def used(kind: AccumulatorKind, level: AccumulatorLevel, network: NetworkScope, year: date = plan_year) -> str:
            holder = member if level is AccumulatorLevel.MEMBER else (family_id or "")
            head = (holder, level.value, kind.value, year)
            total = sums.get((*head, network.value), 0) + sums.get((*head, combined), 0)
            return Money(total, claim.currency).to_decimal_string()

        d, o = AccumulatorKind.DEDUCTIBLE, AccumulatorKind.OUT_OF_POCKET
        mem, fam = AccumulatorLevel.MEMBER, AccumulatorLevel.FAMILY
        inn, oon = NetworkScope.IN_NETWORK, NetworkScope.OUT_OF_NETWORK
        uow.publish(
            AccumulatorUpdated(
                member_id=claim.member_id,
                family_id=uuid.UUID(family_id) if family_id else None,
                claim_id=claim.id,
                plan_year=plan_year,
                currency=claim.currency,
                deductible_used_in_network=used(d, mem, inn),
                deductible_used_out_of_network=used(d, mem, oon),
                out_of_pocket_used_in_network=used(o, mem, inn),
                out_of_pocket_used_out_of_network=used(o, mem, oon),
                family_deductible_used_in_network=used(d, fam, inn) if family_id else None,
                family_deductible_used_out_of_network=used(d, fam, oon) if family_id else None,
                family_out_of_pocket_used_in_network=used(o, fam, inn) if family_id else None,
                family_out_of_pocket_used_out_of_network=used(o, fam, oon) if family_id else None,
                updated_at=uow.clock.now(),
            ),
            key=member,
        )


# =================================================================================================
# The EOB, after the adjudication has committed
# =================================================================================================
class EobReads(Reads):
    """What rendering EOBs reads: query by query, or (``wanted``: each EOB's claim and adjudication
    sequence, None for the current one) a chunk's claims, the adjudications asked for, the EOBs
    already stored and the coverage and schedules their deadlines need, in five queries. The
    claims, adjudications and coverage are read with Core selects (no ORM objects), and only what
    an EOB uses is opened: each adjudication asked for (when its EOB is rendered, ``record``), no
    claim detail, no member's birth date."""

    def __init__(self, uow: UnitOfWork, wanted: Sequence[tuple[uuid.UUID, int | None]] = ()) -> None:
        super().__init__(uow)
        repo = self.repo
        self._claims: dict[uuid.UUID, eob.EobClaim] = {
            claim.id: claim for claim in repo.chunk_claim_headers([claim_id for claim_id, _ in wanted])
        }
        self._wanted = {(claim_id, sequence) for claim_id, sequence in wanted if claim_id in self._claims}
        self._records: dict[tuple[uuid.UUID, int | None], dict[str, Any]] = {}  # as read, result sealed
        for row in repo.chunk_results(self._wanted):
            self._records[row["claim_id"], row["sequence"]] = row
            if row["is_current"]:
                self._records.setdefault((row["claim_id"], None), row)
        self._stored = repo.document_keys(list(self._claims), "EOB")
        self.hold_coverages(repo.chunk_coverages({claim.member_id for claim in self._claims.values()}, personal=False))
        self.defers_writes = bool(wanted)  # a chunk's documents go in one statement

    def claim(self, claim_id: uuid.UUID) -> eob.EobClaim | None:
        return self._claims[claim_id] if claim_id in self._claims else self.repo.claim(claim_id)

    def record(self, claim_id: uuid.UUID, sequence: int | None) -> tuple[int, dict[str, Any]] | None:
        """The adjudication's sequence and its stored result, opened."""
        if (claim_id, sequence) not in self._wanted:
            record = self.repo.current_result(claim_id) if sequence is None else self.repo.result(claim_id, sequence)
            return (record.sequence, record.result) if record is not None else None
        row = self._records.get((claim_id, sequence))
        return (row["sequence"], self.repo.opened_result(row)) if row is not None else None

    def stored(self, claim_id: uuid.UUID, key: str) -> bool:
        if claim_id not in self._claims:
            return key in self.repo.document_keys([claim_id], "EOB")
        return key in self._stored


def store_eob(
    uow: UnitOfWork,
    claim_id: uuid.UUID,
    *,
    sequence: int | None = None,
    deadline: date | None = None,
    reads: EobReads | None = None,
) -> str | None:
    """Render and store the EOB of the claim's adjudication ``sequence`` (the current one when None)
    under the key that adjudication chose (``claims.claim.adjudicated`` carries it); returns the key.

    Idempotent: an EOB already stored is left alone. ``deadline``: the appeal deadline the
    adjudication published (a denial's); otherwise it is worked out again as the adjudication did
    (the adjudication date plus the plan's appeal window). None when there is nothing to render.
    """
    reads = reads or EobReads(uow)
    claim = reads.claim(claim_id)
    record = reads.record(claim_id, sequence) if claim is not None else None
    if claim is None or record is None:
        return None
    key = eob.object_key(uow.require_tenant(), claim.id, record[0])
    if reads.stored(claim.id, key):
        return key
    result = record[1]
    if deadline is None:
        coverage = _coverage_on(reads.coverages(claim.member_id), claim.service_date_from)
        schedule_row = reads.schedule_view(coverage.plan_code, claim.service_date_from) if coverage else None
        deadline = appeal_deadline(date.fromisoformat(result["adjudicatedOn"]), schedule_row)
    eob.store_eob(uow, claim, result, deadline, key)
    if not reads.defers_writes:
        writes_of(uow).flush()
    return key


def eob_document(uow: UnitOfWork, claim_id: uuid.UUID) -> bytes:
    """The PDF of the claim's current EOB. ``NotFound`` when the claim has no final result (or no
    such claim), ``EobNotReady`` while the EOB is being rendered after its adjudication."""
    claim = ClaimsRepository(uow).claim(claim_id)
    if claim is None or claim.eob_object_key is None:
        raise NotFound("no explanation of benefits for this claim yet")
    try:
        return object_store_of(uow).get(uow, claim.eob_object_key)
    except NotFound:
        raise EobNotReady("the explanation of benefits is being prepared; try again shortly") from None


# =================================================================================================
# Re-adjudication
# =================================================================================================
def reverse_current(uow: UnitOfWork, claim: m.Claim) -> None:
    """Undo the current final result's accumulator movements exactly (before a re-adjudication)."""
    repo = ClaimsRepository(uow)
    record = repo.current_result(claim.id)
    if record is None or not record.movements_applied or record.reversed:
        return
    result = snapshots.result_from_json(record.result)
    coverage_rows = repo.coverages(claim.member_id)
    holder = holder_of(_coverage_on(coverage_rows, claim.service_date_from), claim.member_id)
    repo.lock_holder(holder)
    rows = repo.accumulators({str(claim.member_id), holder})
    writes = writes_of(uow)
    _apply_movements(uow, writes, rows, reverse(result).movements)
    writes.change(record, reversed=True)
    authorization_public.release_units(uow, claim.id)
    _adjudication_history(writes, claim.id, "REVERSED", "result reversed before re-adjudication", uow.clock.now())
    writes.flush()


def readjudicate_pended_for_member(uow: UnitOfWork, member_id: uuid.UUID, cause: str) -> list[Outcome]:
    outcomes = []
    for claim in ClaimsRepository(uow).pended_claims_of_member(member_id):
        if {"PRIOR_AUTH_PENDING", "PRIOR_AUTH_REQUIRED"} & set(claim.pend_reasons or ()):
            outcomes.append(_run(uow, claim, cause=cause))
    return outcomes


def readjudicate_after_overturn(
    uow: UnitOfWork, claim_id: uuid.UUID, *, lines: Collection[int] | None = None
) -> Outcome | None:
    """An overturned appeal allows ``lines`` of the claim (None: every line). On each line it allows,
    the denials an appeal can set aside (``APPEAL_WAIVABLE``: a duplicate, timely filing, a missing
    authorisation, a pre-existing condition) are recorded as waived for every later adjudication of
    the claim, and the line is recorded approved as the engine prices it (``apply_decisions``'
    APPROVE, which stands in for an examiner's denial or reduction of it, and settles a pend the
    engine would raise on it again). Lines it does not allow keep the examiners' decisions. The
    current result is reversed exactly and the claim adjudicated again with those decisions."""
    repo = ClaimsRepository(uow)
    claim = repo.claim(claim_id, for_update=True)
    if claim is None or claim.status not in (*FINAL_STATUSES, "PENDED"):
        return None
    allowed = set(lines) if lines is not None else {line.line_number for line in repo.lines(claim.id)}
    now = uow.clock.now()
    record = repo.current_result(claim.id)
    if record is not None:
        waivable = {carc.value for carc in APPEAL_WAIVABLE}
        known = repo.appeal_waivers(claim.id)
        for line in record.result["lines"]:
            if line["lineNumber"] not in allowed:
                continue
            for carc in {a["carc"] for a in line["adjustments"]} & waivable:
                if Carc(carc) not in known.get(line["lineNumber"], frozenset()):
                    uow.session.add(
                        m.AppealWaiver(claim_id=claim.id, line_number=line["lineNumber"], carc=carc, waived_at=now)
                    )
    decisions = repo.decisions(claim.id)
    for number in sorted(allowed):
        decision = decisions.get(number)
        if decision is None:
            decision = decisions[number] = m.LineDecision(claim_id=claim.id, line_number=number)
            uow.session.add(decision)
        decision.decision, decision.carc, decision.paid_minor = "APPROVE", None, None
        decision.note, decision.decided_by, decision.decided_at = APPEAL_ALLOWED_NOTE, None, now
    uow.session.flush()
    reverse_current(uow, claim)
    return _run(uow, claim, cause="APPEAL_OVERTURNED", decisions=decisions)


APPEAL_ALLOWED_NOTE: Final = "Allowed on appeal"
"""The note of the line decision an overturned appeal records (the appeal holds who and why)."""


def readjudicate_after_withdrawal(uow: UnitOfWork, member_id: uuid.UUID) -> list[Outcome]:
    """Adjudicate again the member's final claims a line of which was denied as a pre-existing
    condition (CARC 51) once an underwriting finding on them was withdrawn (recorded by mistake),
    against the coverage as it now stands (a waiting period the plan itself sets still applies)."""
    return _readjudicate(uow, member_id, "UNDERWRITING_WITHDRAWN", results=_denied_with({Carc.PRE_EXISTING_CONDITION}))


#: A line denied because the member was not covered on its date.
_NOT_COVERED: Final = frozenset({Carc.NOT_OUR_MEMBER, Carc.BEFORE_COVERAGE, Carc.AFTER_COVERAGE})


def readjudicate_after_coverage(
    uow: UnitOfWork, member_id: uuid.UUID, spans: Sequence[tuple[date, date | None]]
) -> list[Outcome]:
    """Adjudicate again the member's final claims a line of which was denied for want of coverage
    (CARC 31, 26 or 27) whose dates of service meet ``spans``, days claims' copy of the coverage has
    just gained: a coverage copied after the claim was adjudicated (its event consumed later), or
    cover granted back-dated (a retroactive enrolment, a reinstatement)."""
    return _readjudicate(uow, member_id, "COVERAGE_ARRIVED", claims=_meeting(spans), results=_denied_with(_NOT_COVERED))


def readjudicate_after_coverage_lost(
    uow: UnitOfWork, member_id: uuid.UUID, spans: Sequence[tuple[date, date | None]]
) -> list[Outcome]:
    """Adjudicate again the member's final claims with a line not denied for want of coverage whose
    dates of service meet ``spans``, days claims' copy of the coverage has just lost: a termination
    dated back (for non-payment, the only back-dated end enrollment allows), a person removed from
    an earlier day. What such a claim paid is then recovered like any re-adjudication that pays less."""

    def covered_somewhere(result: dict[str, Any]) -> bool:
        carcs = {carc.value for carc in _NOT_COVERED}
        return not all(any(a["carc"] in carcs for a in line["adjustments"]) for line in result["lines"])

    return _readjudicate(uow, member_id, "COVERAGE_ENDED", claims=_meeting(spans), results=covered_somewhere)


def _meeting(spans: Sequence[tuple[date, date | None]]) -> Callable[[m.Claim], bool]:
    """Whether a claim's dates of service meet one of ``spans``."""

    def meets(claim: m.Claim) -> bool:
        last = claim.service_date_to or claim.service_date_from
        return any(start <= last and (end is None or claim.service_date_from <= end) for start, end in spans)

    return meets


def _denied_with(carcs: Collection[Carc]) -> Callable[[dict[str, Any]], bool]:
    """Whether a stored result has a line adjusted with one of ``carcs``."""
    codes = {carc.value for carc in carcs}
    return lambda result: any(a["carc"] in codes for line in result["lines"] for a in line["adjustments"])


def _readjudicate(
    uow: UnitOfWork,
    member_id: uuid.UUID,
    cause: str,
    *,
    results: Callable[[dict[str, Any]], bool],
    claims: Callable[[m.Claim], bool] = lambda claim: True,
) -> list[Outcome]:
    """The member's final claims ``claims`` picks whose current result ``results`` picks, adjudicated
    again: the earlier result reversed exactly, the claim adjudicated as claims' copies now stand,
    an examiner's line decisions on it applied again as they were made."""
    repo = ClaimsRepository(uow)
    outcomes = []
    for claim in repo.final_claims_of_member(member_id):
        if not claims(claim):
            continue
        record = repo.current_result(claim.id)
        if record is None or not results(record.result):
            continue
        locked = repo.claim(claim.id, for_update=True)
        if locked is None or locked.status not in FINAL_STATUSES:
            continue
        reverse_current(uow, locked)
        outcomes.append(_run(uow, locked, cause=cause, decisions=repo.decisions(locked.id)))
    return outcomes


# =================================================================================================
# Review
# =================================================================================================
def decide_line(
    uow: UnitOfWork,
    claim_id: uuid.UUID,
    line_number: int,
    *,
    decision: str,
    reason: str,
    note: str,
    paid_minor: int | None,
    decided_by: uuid.UUID | None,
) -> Outcome:
    """Record an examiner's decision on a line of a pended claim; once no line is left pended, the claim
    is re-adjudicated with the decisions applied and becomes final."""
    repo = ClaimsRepository(uow)
    claim = repo.claim(claim_id, for_update=True)
    if claim is None:
        raise NotFound("no such claim")
    if claim.status != "PENDED":
        raise BusinessRuleViolation("only a pended claim is reviewed")
    if line_number not in {line.line_number for line in repo.lines(claim_id)}:
        raise NotFound("no such line")
    try:
        Carc.from_code(reason)
    except ValueError:
        raise ValidationFailed([FieldError("body.reason", "is not a CARC Olly uses", "invalid")]) from None
    decisions = repo.decisions(claim_id)
    row = decisions.get(line_number)
    if row is None:
        row = m.LineDecision(claim_id=claim_id, line_number=line_number)
        uow.session.add(row)
        decisions[line_number] = row
    row.decision = decision
    row.carc = reason
    row.paid_minor = paid_minor
    row.note = note
    row.decided_by = decided_by
    row.decided_at = uow.clock.now()
    record = repo.current_result(claim_id)
    pended_lines = set()
    if record is not None:
        pended_lines = {line["lineNumber"] for line in record.result["lines"] if line["status"] == "PENDED"}
    if record is not None and record.result["pendReasons"]:
        # A claim-level pend (high dollar, documents to review) is resolved by deciding every line.
        pended_lines = {line["lineNumber"] for line in record.result["lines"]}
    undecided = pended_lines - set(decisions)
    if undecided:
        _history(uow, claim_id, "PENDED", f"line {line_number} decided {decision.lower()}")
        return Outcome(claim.id, claim.status, None)
    return _run(uow, claim, cause="REVIEW_DECISION", decisions=decisions)
