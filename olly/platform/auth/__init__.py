"""Identity, authentication and the policy decision point.

What a domain router needs::

    from olly.platform.auth import Access, SELF, body, path, policy, public

    @router.get("/claims/{claim_id}")
    def read_claim(claim_id: UUID, access: Access = Depends(policy("claim.read", resource=path("claim_id")))): ...

See ``docs/security.md`` for the roles, the relations and how to register resolvers and
personal-data handlers.
"""

from olly.platform.auth.policy import (
    SELF,
    Access,
    Locator,
    body,
    declaration_of,
    mark_public,
    path,
    policy,
    public,
    query,
    undeclared_routes,
)
from olly.platform.auth.principal import Principal
from olly.platform.auth.resolvers import (
    HouseholdResolver,
    InMemoryHousehold,
    InMemoryResolver,
    RelationshipResolver,
    ResolveContext,
    ResourceRef,
)
from olly.platform.auth.roles import AccountKind, Role
from olly.platform.auth.rules import AccessScope, Dependent, ResourceFacts

__all__ = [
    "SELF",
    "Access",
    "AccessScope",
    "AccountKind",
    "Dependent",
    "HouseholdResolver",
    "InMemoryHousehold",
    "InMemoryResolver",
    "Locator",
    "Principal",
    "RelationshipResolver",
    "ResolveContext",
    "ResourceFacts",
    "ResourceRef",
    "Role",
    "body",
    "declaration_of",
    "mark_public",
    "path",
    "policy",
    "public",
    "query",
    "undeclared_routes",
]
