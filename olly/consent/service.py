"""Consent use cases. Services never commit: the caller's unit of work does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from olly.consent import repository, rules
from olly.consent.events import ConsentRecorded, ConsentRevoked, DeletionRequestCompleted
from olly.consent.models import ConsentRecord, DeletionRequest
from olly.kernel.errors import BusinessRuleViolation, Conflict, FieldError, NotFound, ValidationFailed
from olly.kernel.ids import uuid7
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, PersonalDataRegistry

COMMUNICATION = "communication"
APP_SHARING = "app_sharing"
CONFIDENTIAL = "confidential_communication"
CONFIDENTIAL_KINDS = frozenset({CONFIDENTIAL})


@dataclass(frozen=True, slots=True)
class ConsentView:
    """Which of a person's consents a caller sees: all, or (a guardian) all but the confidential ones."""

    include_confidential: bool


def _supersede(uow: UnitOfWork, party_id: uuid.UUID, kind: str, new_id: uuid.UUID) -> None:
    for old in repository.active_of_kind(uow.session, party_id, kind):
        old.status, old.superseded_by = "superseded", new_id


def _record(uow: UnitOfWork, record: ConsentRecord) -> ConsentRecord:
    uow.session.add(record)
    uow.flush()
    uow.publish(ConsentRecorded(consent_id=record.id, party_id=record.party_id, kind=record.kind), key=record.party_id)
    return record


def set_communication_preferences(
    uow: UnitOfWork, party_id: uuid.UUID, channels: dict[str, bool], topics: dict[str, bool], recorded_by: str
) -> ConsentRecord:
    problems = rules.communication_problems(channels, topics)
    if problems:
        raise ValidationFailed([FieldError(p, "is not a known channel or topic", "unknown") for p in problems])
    now = uow.clock.now()
    new_id = uuid7()
    _supersede(uow, party_id, COMMUNICATION, new_id)
    return _record(
        uow,
        ConsentRecord(
            id=new_id,
            party_id=party_id,
            kind=COMMUNICATION,
            status="active",
            preferences={"channels": dict(sorted(channels.items())), "topics": dict(sorted(topics.items()))},
            effective_at=now,
            recorded_at=now,
            recorded_by=recorded_by,
        ),
    )


def grant_app_sharing(
    uow: UnitOfWork,
    party_id: uuid.UUID,
    app_client_id: str,
    app_name: str,
    scopes: list[str],
    expires_at: datetime | None,
    recorded_by: str,
) -> ConsentRecord:
    now = uow.clock.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed([FieldError("expiresAt", "must be in the future", "in_the_past")])
    new_id = uuid7()
    for old in repository.active_of_kind(uow.session, party_id, APP_SHARING):
        if old.app_client_id == app_client_id:
            old.status, old.superseded_by = "superseded", new_id
    return _record(
        uow,
        ConsentRecord(
            id=new_id,
            party_id=party_id,
            kind=APP_SHARING,
            status="active",
            app_client_id=app_client_id,
            app_name=app_name,
            scopes=sorted(set(scopes)),
            effective_at=now,
            expires_at=expires_at,
            recorded_at=now,
            recorded_by=recorded_by,
        ),
    )


def request_confidential_communication(
    uow: UnitOfWork, party_id: uuid.UUID, contact: dict[str, Any], recorded_by: str
) -> ConsentRecord:
    """HIPAA 45 CFR 164.522(b): a person may ask that communications go elsewhere; the plan must
    accommodate it when they say disclosure could endanger them, and Olly always does."""
    if not any(contact.get(k) for k in ("address", "phone", "email")):
        raise ValidationFailed([FieldError("contact", "give an address, a phone number or an e-mail", "required")])
    now = uow.clock.now()
    new_id = uuid7()
    _supersede(uow, party_id, CONFIDENTIAL, new_id)
    return _record(
        uow,
        ConsentRecord(
            id=new_id,
            party_id=party_id,
            kind=CONFIDENTIAL,
            status="active",
            confidential_contact={k: v for k, v in contact.items() if v},
            effective_at=now,
            recorded_at=now,
            recorded_by=recorded_by,
        ),
    )


def revoke(uow: UnitOfWork, consent_id: uuid.UUID, revoked_by: str) -> ConsentRecord:
    record = repository.consent(uow.session, consent_id)
    if record is None:
        raise NotFound("no such consent")
    if record.status != "active":
        raise Conflict("this consent is no longer active")
    record.status, record.revoked_at, record.revoked_by = "revoked", uow.clock.now(), revoked_by
    uow.publish(ConsentRevoked(consent_id=record.id, party_id=record.party_id, kind=record.kind), key=record.party_id)
    return record


def get_consent(uow: UnitOfWork, consent_id: uuid.UUID) -> ConsentRecord:
    record = repository.consent(uow.session, consent_id)
    if record is None:
        raise NotFound("no such consent")
    return record


def consents(uow: UnitOfWork, party_id: uuid.UUID, view: ConsentView) -> list[ConsentRecord]:
    found = repository.consents_of(uow.session, party_id)
    if view.include_confidential:
        return found
    return [c for c in found if c.kind not in CONFIDENTIAL_KINDS]


# -- deletion requests ----------------------------------------------------------------------------
def file_deletion_request(
    uow: UnitOfWork,
    party_id: uuid.UUID,
    requested_by: str,
    *,
    via: str,
    verification_method: str,
    verification_reference: str | None = None,
) -> DeletionRequest:
    """Record a request whose requester's identity has been verified (re-authentication in the
    portal, or documents checked by staff)."""
    if repository.open_deletion_request(uow.session, party_id) is not None:
        raise Conflict("a deletion request for this person is already waiting to be carried out")
    now = uow.clock.now()
    request = DeletionRequest(
        id=uuid7(),
        party_id=party_id,
        status="verified",
        requested_by=requested_by,
        requested_via=via,
        verification_method=verification_method,
        verification_reference=verification_reference,
        received_at=now,
        verified_at=now,
    )
    uow.session.add(request)
    uow.flush()
    return request


def get_deletion_request(uow: UnitOfWork, request_id: uuid.UUID) -> DeletionRequest:
    request = repository.deletion_request(uow.session, request_id)
    if request is None:
        raise NotFound("no such deletion request")
    return request


def deletion_requests(
    uow: UnitOfWork, party_ids: frozenset[uuid.UUID] | None, status: str | None = None
) -> list[DeletionRequest]:
    """Requests of these people (``None``: everyone's), newest first."""
    return repository.deletion_requests(uow.session, party_ids=party_ids, status=status)


def reject_deletion_request(uow: UnitOfWork, request_id: uuid.UUID, reason: str, by: str) -> DeletionRequest:
    request = get_deletion_request(uow, request_id)
    if request.status != "verified":
        raise Conflict("only a request waiting to be carried out can be rejected")
    request.status, request.rejection_reason = "rejected", reason
    request.processed_at, request.processed_by = uow.clock.now(), by
    return request


def process_deletion_request(
    uow: UnitOfWork, request_id: uuid.UUID, registry: PersonalDataRegistry, processed_by: str
) -> DeletionRequest:
    """Find every record of the person in every domain, pseudonymise what the law keeps, delete
    the rest, and store the report — all in this unit of work, so it happens whole or not at all."""
    request = get_deletion_request(uow, request_id)
    if request.status != "verified":
        raise BusinessRuleViolation("this request has already been carried out or rejected")
    subject = DataSubject(uow.require_tenant(), request.party_id, uuid7())
    today = uow.clock.today()
    decided: list[tuple[PersonalDataItem, rules.RetentionDecision]] = []
    handlers = registry.handlers()
    for handler in handlers:
        items = handler.find(uow, subject)
        chosen = [
            (item, rules.decide(rules.RecordFacts(item.category.value, item.record_type, item.record_date), today))
            for item in items
        ]
        decided += chosen
        keep = [item for item, d in chosen if d.disposition is rules.Disposition.PSEUDONYMISE]
        drop = [item for item, d in chosen if d.disposition is rules.Disposition.DELETE]
        if keep:
            handler.pseudonymise(uow, subject, keep)
        if drop:
            handler.delete(uow, subject, drop)
    request.report = deletion_report(decided, [h.domain for h in handlers])
    request.status = "completed"
    request.pseudonym = str(subject.pseudonym)
    request.processed_at, request.processed_by = uow.clock.now(), processed_by
    summary = request.report["summary"]
    uow.publish(
        DeletionRequestCompleted(
            deletion_request_id=request.id,
            party_id=request.party_id,
            deleted=int(summary["deleted"]),
            pseudonymised=int(summary["pseudonymised"]),
        ),
        key=request.party_id,
    )
    return request


def deletion_report(
    decided: list[tuple[PersonalDataItem, rules.RetentionDecision]], domains: list[str]
) -> dict[str, Any]:
    """What was found in which domain, what was done and why. Record ids and words, no PHI."""
    return {
        "domainsSearched": sorted(domains),
        "summary": {
            "found": len(decided),
            "deleted": sum(1 for _, d in decided if d.disposition is rules.Disposition.DELETE),
            "pseudonymised": sum(1 for _, d in decided if d.disposition is rules.Disposition.PSEUDONYMISE),
        },
        "items": [
            {
                "domain": item.domain,
                "recordType": item.record_type,
                "recordId": item.record_id,
                "category": item.category.value,
                "description": item.description,
                "action": d.disposition.value,
                "reason": d.reason,
                "legalBasis": d.legal_basis,
                "retainUntil": d.retain_until.isoformat() if d.retain_until else None,
            }
            for item, d in decided
        ],
    }
