"""Where relationship facts come from: resolvers that domains implement and register.

The policy decision point never reads a domain's tables. When a route's policy names a resource
(``path("claim_id")``), the PDP asks the resolver registered for that resource kind for the
resource's ``ResourceFacts`` — whose data it is, which group, which provider submitted it, which
queue holds it. A household resolver says who a member's dependents are, so a parent may see a
child's records until the child turns 18.

A domain registers its resolvers when the app is built (see ``docs/security.md``)::

    class ClaimFacts:                     # olly/claims/access.py
        def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
            with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
                row = repository.access_facts(uow.session, ref.resource_id)
            if row is None:
                return None                # unknown: 404 for everyone
            return ResourceFacts(kind="claim", resource_id=ref.resource_id,
                                 party_ids=frozenset({row.patient_party_id}),
                                 provider_ids=frozenset({row.billing_npi}), queues=frozenset({row.queue}))

    access.resolvers.register("claim", ClaimFacts())

A resolver returns ``None`` for an unknown id (or a malformed one: never raise on bad input) and
must be cheap: it runs on every request naming such a resource.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Row, select

from olly.platform.auth.plumbing import reading
from olly.platform.auth.rules import Dependent, ResourceFacts
from olly.platform.db import Base, Database, table_of


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A resource a request names: its kind, its id, and any identifying evidence it carried."""

    kind: str
    resource_id: str | None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    """Request fields a resolver may match (e.g. member id, date of birth and name of an eligibility
    inquiry): they decide ``ResourceFacts.identified``."""


@dataclass(frozen=True, slots=True)
class ResolveContext:
    tenant_id: uuid.UUID
    today: date
    db: Database


class RelationshipResolver(Protocol):
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        """The facts of ``ref``, or ``None`` when no such resource exists in this tenant."""
        ...


class HouseholdResolver(Protocol):
    def dependents(self, context: ResolveContext, party_id: uuid.UUID) -> Sequence[Dependent]:
        """The people covered as ``party_id``'s dependents, with birth dates (adults included)."""
        ...


class NoHousehold:
    """The household resolver until enrollment provides one: nobody has dependents."""

    def dependents(self, context: ResolveContext, party_id: uuid.UUID) -> Sequence[Dependent]:
        return ()


class PartyFacts:
    """Facts of a person named by party id: the data is that person's own.

    Group membership is unknown here; the enrollment domain replaces this resolver with one that
    adds the person's group accounts (so employer administrators can see their roster members).
    """

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        party = parse_uuid(ref.resource_id)
        if party is None:
            return None
        return ResourceFacts(kind=ref.kind, resource_id=str(party), party_ids=frozenset({party}))


class ResolverRegistry:
    def __init__(self) -> None:
        self._resolvers: dict[str, RelationshipResolver] = {}
        self.household: HouseholdResolver = NoHousehold()

    def register(self, kind: str, resolver: RelationshipResolver, *, replace: bool = False) -> None:
        if kind in self._resolvers and not replace:
            raise ValueError(f"a resolver for {kind!r} is already registered")
        self._resolvers[kind] = resolver

    def set_household(self, resolver: HouseholdResolver) -> None:
        self.household = resolver

    def get(self, kind: str) -> RelationshipResolver | None:
        return self._resolvers.get(kind)

    def kinds(self) -> frozenset[str]:
        return frozenset(self._resolvers)


class InMemoryResolver:
    """Facts held in a dict: for tests, demos and kinds whose domain has not arrived yet."""

    def __init__(self, facts: Mapping[str, ResourceFacts] | None = None) -> None:
        self.facts: dict[str, ResourceFacts] = dict(facts or {})

    def add(self, facts: ResourceFacts) -> None:
        assert facts.resource_id is not None
        self.facts[facts.resource_id] = facts

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        return self.facts.get(ref.resource_id or "")


class InMemoryHousehold:
    def __init__(self) -> None:
        self.households: dict[uuid.UUID, list[Dependent]] = {}

    def add(self, subscriber: uuid.UUID, dependent: uuid.UUID, birth_date: date) -> None:
        self.households.setdefault(subscriber, []).append(Dependent(dependent, birth_date))

    def dependents(self, context: ResolveContext, party_id: uuid.UUID) -> Sequence[Dependent]:
        return tuple(self.households.get(party_id, ()))


def tenant_row(context: ResolveContext, model: type[Base], columns: Sequence[str], **key: object) -> Row[Any] | None:
    """The ``columns`` of the row of ``model`` in the context's tenant whose columns equal ``key``
    (``id=...``), or ``None``; read on a plain connection, outside any unit of work.

    Resolvers that look up one row by its key go through here, so none can leave out the tenant."""
    table = table_of(model)
    conditions = [table.c.tenant_id == context.tenant_id, *(table.c[name] == value for name, value in key.items())]
    with reading(context.db) as connection:
        return connection.execute(select(*(table.c[name] for name in columns)).where(*conditions)).first()


def parse_uuid(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
