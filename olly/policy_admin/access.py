"""How the policy decision point learns policy_admin's relationships: whose a party is and which
employer groups they belong to, and what an account is (a group's, or a household's).

A person belongs to a group when a group-market policy on that group's account covers (or covered)
them — that is enrollment's knowledge, read through ``olly.enrollment.public``. An organisation
belongs to the groups whose account it sponsors. Only ids are selected: nothing is decrypted.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from olly.enrollment import public as enrollment
from olly.platform.auth import ResolveContext, ResourceFacts, ResourceRef
from olly.platform.auth.resolvers import parse_uuid
from olly.policy_admin.models import Account, Party

GROUP = "GROUP"


class PartyFacts:
    """A party (``party``): the data is the party's own; groups as above. Unknown ids: ``None``."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        party_id = parse_uuid(ref.resource_id)
        if party_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            if uow.session.scalar(select(Party.id).where(Party.id == party_id)) is None:
                return None
            covered_by = enrollment.group_accounts_of(uow, party_id)
            groups = frozenset(
                uow.session.scalars(
                    select(Account.id).where(
                        Account.kind == GROUP,
                        or_(Account.id.in_(covered_by), Account.party_id == party_id),
                    )
                )
            )
        return ResourceFacts(
            kind=ref.kind, resource_id=str(party_id), party_ids=frozenset({party_id}), group_account_ids=groups
        )


class AccountFacts:
    """An account (``customer_account``, and ``roster`` with ``groups_only``): a group account
    belongs to its group; a household account to the person who holds it."""

    def __init__(self, *, groups_only: bool = False) -> None:
        self.groups_only = groups_only

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        account_id = parse_uuid(ref.resource_id)
        if account_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            row = uow.session.execute(select(Account.kind, Account.party_id).where(Account.id == account_id)).first()
        if row is None or (self.groups_only and row.kind != GROUP):
            return None  # a household has no roster
        if row.kind == GROUP:
            return ResourceFacts(kind=ref.kind, resource_id=str(account_id), group_account_ids=frozenset({account_id}))
        holder = frozenset({row.party_id}) if row.party_id is not None else frozenset()
        return ResourceFacts(kind=ref.kind, resource_id=str(account_id), party_ids=holder)
