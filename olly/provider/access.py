"""How the policy decision point learns whose provider record or credentialing file a request names.

A provider user names itself by NPI and/or organisation id (``Principal.provider_ids``). A provider
record belongs to its NPI, to its own id, and to the organisations it is affiliated with today, so
a group practice's user keeps its practitioners' listings current; a credentialing request belongs
to whoever its provider record belongs to; a fee schedule (named by code) belongs to every provider
a contract pricing with it covers (``repository.fee_schedule_owner_ids``). Staff grants use the
``any`` relation and are not narrowed by these facts; an unknown or malformed id is ``None`` (404
for everyone allowed the verb).
"""

from __future__ import annotations

from olly.platform.auth import ResolveContext, ResourceFacts, ResourceRef
from olly.platform.auth.resolvers import parse_uuid
from olly.provider import repository

#: Fee-schedule codes are at most this long (``provider_fee_schedules.code``).
MAX_SCHEDULE_CODE = 40


class ProviderFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        provider_id = parse_uuid(ref.resource_id)
        if provider_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            owners = repository.owner_ids(uow.session, provider_id, context.today)
        if owners is None:
            return None
        return ResourceFacts(kind="provider", resource_id=str(provider_id), provider_ids=owners)


class CredentialingFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        request_id = parse_uuid(ref.resource_id)
        if request_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            provider_id = repository.provider_of_request(uow.session, request_id)
            owners = repository.owner_ids(uow.session, provider_id, context.today) if provider_id else None
        if owners is None:
            return None
        return ResourceFacts(kind="credentialing", resource_id=str(request_id), provider_ids=owners)


class FeeScheduleFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        code = (ref.resource_id or "").strip().upper()
        if not code or len(code) > MAX_SCHEDULE_CODE:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            owners = repository.fee_schedule_owner_ids(uow.session, code, context.today)
        if owners is None:
            return None
        return ResourceFacts(kind="fee_schedule", resource_id=code, provider_ids=owners)
