"""How the platform reaches prior authorisations and appeals: relationship resolvers for the policy
decision point, and the personal-data handler for deletion requests."""

from __future__ import annotations

from typing import Final

from olly.claims import authorization_repository as repository
from olly.claims.authorization_models import Appeal, AppealableClaim, PriorAuthorizationRequest
from olly.platform.auth.resolvers import ResolveContext, ResourceRef, parse_uuid, tenant_row
from olly.platform.auth.rules import ResourceFacts
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory, ids_by_type


class PriorAuthFacts:
    """A request is its member's, and the requesting provider's (by NPI or registry id)."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        prior_auth_id = parse_uuid(ref.resource_id)
        if prior_auth_id is None:
            return None
        row = tenant_row(
            context,
            PriorAuthorizationRequest,
            ("member_id", "requesting_npi", "requesting_provider_id"),
            id=prior_auth_id,
        )
        if row is None:
            return None
        return ResourceFacts(
            kind=ref.kind,
            resource_id=str(prior_auth_id),
            party_ids=frozenset({row.member_id}),
            provider_ids=frozenset({row.requesting_npi, str(row.requesting_provider_id)}),
        )


class AppealFacts:
    """An appeal is the member's and the claim's provider's. The filing route names the claim
    instead (``/claims/{claim_id}/appeals``): an id that is no appeal is looked up among the
    adjudicated claims appeals know, with the same owners."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        resource_id = parse_uuid(ref.resource_id)
        if resource_id is None:
            return None
        owners = ("member_id", "provider_id")
        row = tenant_row(context, Appeal, owners, id=resource_id)
        if row is None:
            row = tenant_row(context, AppealableClaim, owners, claim_id=resource_id)
        if row is None:
            return None
        return ResourceFacts(
            kind=ref.kind,
            resource_id=str(resource_id),
            party_ids=frozenset({row.member_id}),
            provider_ids=frozenset({str(row.provider_id)}),
        )


class AuthorizationPersonalData:
    """A member's prior authorisations (kept six years as part of the claim record), appeals and
    the appeals' copy of their adjudicated claims (claim records). Kept items lose the member id
    for the request's pseudonym; the clinical content stays, as the record the law requires."""

    domain = "claims_authorization"

    _TYPES: Final = {
        "prior_authorization": "prior_auth",
        "appeal": "appeal",
        "appealable_claim": "appealable_claim",
    }

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        session, party = uow.session, subject.party_id
        found = [
            PersonalDataItem(
                self.domain,
                "prior_authorization",
                str(r.id),
                RecordCategory.PRIOR_AUTH,
                r.received_at.date(),
                "prior authorisation request and decision",
            )
            for r in repository.prior_auths_of_member(session, party)
        ]
        found += [
            PersonalDataItem(
                self.domain, "appeal", str(a.id), RecordCategory.CLAIM, a.filed_at.date(), "appeal of a claim"
            )
            for a in repository.appeals_of_member(session, party)
        ]
        found += [
            PersonalDataItem(
                self.domain,
                "appealable_claim",
                str(c.claim_id),
                RecordCategory.CLAIM,
                c.adjudicated_at.date(),
                "adjudication outcome of a claim (appeals' copy)",
            )
            for c in repository.appealable_claims_of_member(session, party)
        ]
        return found

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        for record_type, ids in ids_by_type(items).items():
            repository.reassign_member(uow.session, self._TYPES[record_type], ids, subject.pseudonym)

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        for record_type, ids in ids_by_type(items).items():
            repository.delete_records(uow.session, self._TYPES[record_type], ids)
