"""Relationship resolvers for prior authorisations and appeals (the policy decision point asks them)."""

from __future__ import annotations

from sqlalchemy import select

from olly.claims.authorization_models import Appeal, AppealableClaim, PriorAuthorizationRequest
from olly.platform.auth.plumbing import reading
from olly.platform.auth.resolvers import ResolveContext, ResourceRef, parse_uuid
from olly.platform.auth.rules import ResourceFacts
from olly.platform.db import table_of


class PriorAuthFacts:
    """A request is its member's, and the requesting provider's (by NPI or registry id)."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        prior_auth_id = parse_uuid(ref.resource_id)
        if prior_auth_id is None:
            return None
        table = table_of(PriorAuthorizationRequest)
        with reading(context.db) as connection:
            row = connection.execute(
                select(table.c.member_id, table.c.requesting_npi, table.c.requesting_provider_id).where(
                    table.c.id == prior_auth_id, table.c.tenant_id == context.tenant_id
                )
            ).first()
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
        appeals, claims = table_of(Appeal), table_of(AppealableClaim)
        with reading(context.db) as connection:
            row = connection.execute(
                select(appeals.c.member_id, appeals.c.provider_id).where(
                    appeals.c.id == resource_id, appeals.c.tenant_id == context.tenant_id
                )
            ).first()
            if row is None:
                row = connection.execute(
                    select(claims.c.member_id, claims.c.provider_id).where(
                        claims.c.claim_id == resource_id, claims.c.tenant_id == context.tenant_id
                    )
                ).first()
        if row is None:
            return None
        return ResourceFacts(
            kind=ref.kind,
            resource_id=str(resource_id),
            party_ids=frozenset({row.member_id}),
            provider_ids=frozenset({str(row.provider_id)}),
        )
