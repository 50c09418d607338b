"""Who can act in Olly: the kinds of identity and the roles the policy decision point knows."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class AccountKind(StrEnum):
    """The kinds of built-in account. Trading partners are API clients, not accounts."""

    MEMBER = "member"
    EMPLOYER_ADMIN = "employer_admin"
    PROVIDER = "provider"
    STAFF = "staff"


class Role(StrEnum):
    MEMBER = "member"
    EMPLOYER_ADMIN = "employer_admin"
    PROVIDER = "provider"
    TRADING_PARTNER = "trading_partner"
    CLAIMS_EXAMINER = "claims_examiner"
    ENROLLMENT_SPECIALIST = "enrollment_specialist"
    BILLING = "billing"
    CREDENTIALING = "credentialing"
    PROVIDER_RELATIONS = "provider_relations"
    COMPLIANCE_AUDITOR = "compliance_auditor"
    ADMINISTRATOR = "administrator"


#: Roles a staff account may hold (any combination); other kinds have exactly one fixed role.
STAFF_ROLES: Final[frozenset[Role]] = frozenset(
    {
        Role.CLAIMS_EXAMINER,
        Role.ENROLLMENT_SPECIALIST,
        Role.BILLING,
        Role.CREDENTIALING,
        Role.PROVIDER_RELATIONS,
        Role.COMPLIANCE_AUDITOR,
        Role.ADMINISTRATOR,
    }
)

ROLE_OF_KIND: Final[dict[AccountKind, Role]] = {
    AccountKind.MEMBER: Role.MEMBER,
    AccountKind.EMPLOYER_ADMIN: Role.EMPLOYER_ADMIN,
    AccountKind.PROVIDER: Role.PROVIDER,
}


def parse_staff_roles(values: object) -> frozenset[Role]:
    """The staff roles among ``values`` (unknown names are ignored, never guessed)."""
    if not isinstance(values, (list, tuple, set, frozenset)):
        return frozenset()
    known = {r.value for r in STAFF_ROLES}
    return frozenset(Role(v) for v in values if isinstance(v, str) and v in known)
