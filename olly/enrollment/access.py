"""How the policy decision point learns enrollment's relationships: whose a policy is and in which
group, who a member is, and who a subscriber's dependents are (so a parent sees a minor child's
records until the child turns 18).

Resolvers run on every request that names such a resource: they select ids only (no personal data
is decrypted) in one read-only unit of work, and answer ``None`` for an unknown or malformed id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from olly.enrollment import public
from olly.enrollment.models import CobraCase, CoverageSpan, Policy
from olly.platform.auth import Dependent, ResolveContext, ResourceFacts, ResourceRef
from olly.platform.auth.resolvers import parse_uuid
from olly.policy_admin import public as people


class PolicyFacts:
    """A policy (``enrollment``): its people are everyone it covers, its group is its account when
    the policy was sold in the group market."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        policy_id = parse_uuid(ref.resource_id)
        if policy_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            row = uow.session.execute(
                select(Policy.market, Policy.account_id, Policy.subscriber_party_id).where(Policy.id == policy_id)
            ).first()
            if row is None:
                return None
            covered = set(
                uow.session.scalars(
                    select(CoverageSpan.party_id)
                    .where(CoverageSpan.policy_id == policy_id, CoverageSpan.superseded_at.is_(None))
                    .distinct()
                )
            )
        return ResourceFacts(
            kind=ref.kind,
            resource_id=str(policy_id),
            party_ids=frozenset(covered | {row.subscriber_party_id}),
            group_account_ids=frozenset({row.account_id}) if row.market == "GROUP" else frozenset(),
        )


class CobraNoticeFacts:
    """A COBRA election notice (``cobra_notice``, by case id): it concerns its beneficiary alone (no
    group: the employer recorded the event but does not read the letter)."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        case_id = parse_uuid(ref.resource_id)
        if case_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            party_id = uow.session.scalar(
                select(CobraCase.party_id).where(CobraCase.id == case_id, CobraCase.notice_object_key.is_not(None))
            )
        if party_id is None:
            return None
        return ResourceFacts(kind=ref.kind, resource_id=str(case_id), party_ids=frozenset({party_id}))


class MemberFacts:
    """A person as a member (``member``): known once they have been on a policy; their groups are
    the accounts of the group policies that cover them."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        party_id = parse_uuid(ref.resource_id)
        if party_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            if not public.is_member(uow, party_id):
                return None
            groups = public.group_accounts_of(uow, party_id)
        return ResourceFacts(
            kind=ref.kind, resource_id=str(party_id), party_ids=frozenset({party_id}), group_account_ids=groups
        )


class Households:
    """A subscriber's dependents, with their birth dates (from policy_admin)."""

    def dependents(self, context: ResolveContext, party_id: uuid.UUID) -> Sequence[Dependent]:
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            found = []
            for dependent in sorted(public.dependents_of(uow, party_id)):
                person = people.person(uow, dependent)
                # Without a birth date nobody can show the dependent is a minor: treated as an adult.
                if person is not None and person.birth_date is not None:
                    found.append(Dependent(dependent, person.birth_date))
        return tuple(found)
