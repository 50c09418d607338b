"""How the policy decision point learns whose claim a request is about.

* By claim id (path): the claim's member, billing NPI (and rendering NPI) and work queue.
* A new claim (body): the member named in the body and the billing NPI, in the intake queue, so a
  provider submits only under its own NPI and a member only for themselves (or a minor dependent).

Employers never see claims: the kinds are clinical, and the rules refuse them whatever the facts.
"""

from __future__ import annotations

from sqlalchemy import select

from olly.claims import models as m
from olly.claims.service import DEFAULT_QUEUE
from olly.platform.auth import ResolveContext, ResourceFacts, ResourceRef
from olly.platform.auth.resolvers import parse_uuid


class ClaimFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        if "memberId" in ref.evidence:
            member_id = parse_uuid(str(ref.evidence.get("memberId")))
            npi = ref.resource_id or ""
            return ResourceFacts(
                kind=ref.kind,
                party_ids=frozenset({member_id}) if member_id else frozenset(),
                provider_ids=frozenset({npi}) if npi else frozenset(),
                queues=frozenset({DEFAULT_QUEUE}),
            )
        claim_id = parse_uuid(ref.resource_id)
        if claim_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            row = uow.session.execute(
                select(m.Claim.member_id, m.Claim.billing_npi, m.Claim.rendering_npi, m.Claim.queue).where(
                    m.Claim.id == claim_id
                )
            ).first()
        if row is None:
            return None
        providers = {row.billing_npi} | ({row.rendering_npi} if row.rendering_npi else set())
        return ResourceFacts(
            kind=ref.kind,
            resource_id=str(claim_id),
            party_ids=frozenset({row.member_id}),
            provider_ids=frozenset(providers),
            queues=frozenset({row.queue}),
        )
