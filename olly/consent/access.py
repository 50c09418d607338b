"""How the platform reaches consent data: relationship resolvers for the policy decision point
and the personal-data handler for deletion requests."""

from __future__ import annotations

from sqlalchemy import select, update

from olly.consent.models import ConsentRecord, DeletionRequest
from olly.consent.service import APP_SHARING, COMMUNICATION, CONFIDENTIAL_KINDS
from olly.platform.auth.resolvers import ResolveContext, ResourceRef, parse_uuid, tenant_row
from olly.platform.auth.rules import ResourceFacts
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory


class ConsentFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        consent_id = parse_uuid(ref.resource_id)
        if consent_id is None:
            return None
        row = tenant_row(context, ConsentRecord, ("party_id", "kind"), id=consent_id)
        if row is None:
            return None
        return ResourceFacts(
            kind=ref.kind,
            resource_id=str(consent_id),
            party_ids=frozenset({row.party_id}),
            confidential=row.kind in CONFIDENTIAL_KINDS,
        )


class DeletionRequestFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        request_id = parse_uuid(ref.resource_id)
        if request_id is None:
            return None
        row = tenant_row(context, DeletionRequest, ("party_id",), id=request_id)
        if row is None:
            return None
        # A deletion request is the requester's alone: a guardian files their own for a child.
        return ResourceFacts(
            kind=ref.kind, resource_id=str(request_id), party_ids=frozenset({row.party_id}), confidential=True
        )


class ConsentPersonalData:
    """Communication and confidential-communication consents are deleted; app-sharing consents are
    authorisations, kept (pseudonymised) for six years. Deletion requests themselves are kept:
    they are the record that the person's request was honoured."""

    domain = "consent"

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        found = []
        for record in uow.session.scalars(select(ConsentRecord).where(ConsentRecord.party_id == subject.party_id)):
            if record.kind == APP_SHARING:
                record_type, category = "app_sharing_consent", RecordCategory.CONSENT
                description = "authorisation to share data with a third-party app"
            elif record.kind == COMMUNICATION:
                record_type, category = "communication_consent", RecordCategory.CONTACT
                description = "communication channels and topics"
            else:
                record_type, category = "confidential_communication", RecordCategory.CONTACT
                description = "alternative address for confidential communications"
            found.append(
                PersonalDataItem(
                    "consent", record_type, str(record.id), category, record.recorded_at.date(), description
                )
            )
        return found

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        ids = [parse_uuid(i.record_id) for i in items]
        uow.session.execute(
            update(ConsentRecord)
            .where(ConsentRecord.id.in_(ids))
            .values(party_id=subject.pseudonym, recorded_by="pseudonymised", revoked_by=None)
        )

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        from olly.consent import repository

        repository.delete_consents(uow.session, [i for i in (parse_uuid(x.record_id) for x in items) if i])
