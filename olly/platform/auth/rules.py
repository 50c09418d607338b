"""The policy decision point's rules: pure functions over frozen facts. Default deny.

``GRANTS`` is the one table of who may do what. A grant gives a role some verbs on a resource kind
under a **relation** that must hold between the caller and the resource (ABAC):

* a member sees their own records and those of dependents under 18 — an adult dependent's records,
  and anything a person asked to keep confidential, are theirs alone;
* an employer administrator sees the group's roster, enrollment and invoices, never clinical kinds;
* a provider sees eligibility for patients it identifies, and what it submitted;
* examiners see the claims in their queues; auditors read everything and change nothing.

Two invariants hold whatever the table says (and tests check the table does not try): auditors
change nothing (beyond signing out and managing their own second factor), employers never see a
clinical kind. Staff without a grant may read PHI
during an open break-glass grant; every such read is flagged.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from olly.kernel.periods import age_on
from olly.platform.auth.catalog import READ, RESOURCE_KINDS, WRITE, Action
from olly.platform.auth.roles import STAFF_ROLES, Role

ADULT_AGE: Final = 18


class Relation(StrEnum):
    ANY = "any"
    """The role alone suffices."""
    SELF = "self"
    """Every person and account the resource concerns is the caller."""
    SELF_OR_MINOR_DEPENDENT = "self_or_minor_dependent"
    """The caller, or the caller's dependents under 18 (unless the resource is confidential)."""
    SAME_GROUP = "same_group"
    """The resource belongs to the caller's employer group."""
    SAME_PROVIDER = "same_provider"
    """The resource was submitted by, or belongs to, one of the caller's provider identifiers."""
    IDENTIFIED_PATIENT = "identified_patient"
    """The request carried demographics that identify the patient (eligibility inquiries)."""
    IN_QUEUE = "in_queue"
    """The resource sits in one of the caller's work queues."""


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    kind: str
    verbs: frozenset[str]
    relation: Relation


def _g(role: Role, kind: str, verbs: Iterable[str], relation: Relation = Relation.ANY) -> Grant:
    return Grant(role, kind, frozenset(verbs), relation)


R, W, RW = (READ,), (WRITE,), (READ, WRITE)
_ALL_READABLE = tuple(k for k in RESOURCE_KINDS)

GRANTS: Final[tuple[Grant, ...]] = (
    # -- members --------------------------------------------------------------------------------
    _g(Role.MEMBER, "party", R, Relation.SELF_OR_MINOR_DEPENDENT),
    _g(Role.MEMBER, "party", W, Relation.SELF),
    *(
        _g(Role.MEMBER, kind, R, Relation.SELF_OR_MINOR_DEPENDENT)
        for kind in (
            "member",
            "eligibility",
            "enrollment",
            "id_card",
            "accumulator",
            "claim",
            "prior_auth",
            "appeal",
            "eob",
        )
    ),
    _g(Role.MEMBER, "claim", W, Relation.SELF_OR_MINOR_DEPENDENT),  # reimbursement claims with documents
    _g(Role.MEMBER, "appeal", W, Relation.SELF_OR_MINOR_DEPENDENT),  # filing an appeal of one's own claim
    _g(Role.MEMBER, "invoice", R, Relation.SELF),
    _g(Role.MEMBER, "payment", RW, Relation.SELF),
    _g(Role.MEMBER, "consent", RW, Relation.SELF_OR_MINOR_DEPENDENT),
    _g(Role.MEMBER, "notification", RW, Relation.SELF_OR_MINOR_DEPENDENT),
    _g(Role.MEMBER, "cobra_notice", R, Relation.SELF_OR_MINOR_DEPENDENT),
    # Buying a plan online: an individual-market policy with the member as subscriber, their household
    # account, and only people already covered with them (the portal's purchase view checks each).
    _g(Role.MEMBER, "enrollment", ("purchase",), Relation.SELF),
    _g(Role.MEMBER, "deletion_request", RW, Relation.SELF),
    _g(Role.MEMBER, "account", RW, Relation.SELF),
    _g(Role.MEMBER, "session", RW, Relation.SELF),
    _g(Role.MEMBER, "plan", R),
    _g(Role.MEMBER, "provider", R),
    # -- employer administrators: roster, enrollment, invoices; never clinical ----------------
    *(
        _g(Role.EMPLOYER_ADMIN, kind, R, Relation.SAME_GROUP)
        for kind in ("party", "member", "eligibility", "roster", "id_card", "invoice", "payment")
    ),
    _g(Role.EMPLOYER_ADMIN, "enrollment", RW, Relation.SAME_GROUP),
    _g(Role.EMPLOYER_ADMIN, "roster", W, Relation.SAME_GROUP),  # the group's own roster import
    _g(Role.EMPLOYER_ADMIN, "customer_account", R, Relation.SAME_GROUP),
    # Registering the people an employer then enrols (a new person belongs to no group yet, so the
    # role decides; reading them back needs the enrolment).
    _g(Role.EMPLOYER_ADMIN, "party", ("create",), Relation.SAME_GROUP),
    _g(Role.EMPLOYER_ADMIN, "payment", W, Relation.SAME_GROUP),
    _g(Role.EMPLOYER_ADMIN, "account", RW, Relation.SELF),
    _g(Role.EMPLOYER_ADMIN, "session", RW, Relation.SELF),
    _g(Role.EMPLOYER_ADMIN, "plan", R),
    _g(Role.EMPLOYER_ADMIN, "provider", R),
    # -- providers (portal users) and trading partners (API clients) ---------------------------
    *(
        grant
        for role in (Role.PROVIDER, Role.TRADING_PARTNER)
        for grant in (
            _g(role, "eligibility", R, Relation.IDENTIFIED_PATIENT),
            _g(role, "claim", RW, Relation.SAME_PROVIDER),
            _g(role, "remittance", R, Relation.SAME_PROVIDER),
            _g(role, "prior_auth", RW, Relation.SAME_PROVIDER),
            _g(role, "appeal", RW, Relation.SAME_PROVIDER),  # a provider appeals on the member's behalf
            _g(role, "edi_file", RW, Relation.SAME_PROVIDER),
            _g(role, "transaction", R, Relation.SAME_PROVIDER),
            _g(role, "plan", R),
            _g(role, "provider", R),
        )
    ),
    # Self-service: a provider user keeps its own listing current and follows (and applies in) its
    # own credentialing; the registry record, verifications and decisions stay with staff.
    _g(Role.PROVIDER, "provider_directory", W, Relation.SAME_PROVIDER),
    _g(Role.PROVIDER, "credentialing", (READ, "apply"), Relation.SAME_PROVIDER),
    _g(Role.PROVIDER, "contract", R, Relation.SAME_PROVIDER),
    _g(Role.PROVIDER, "payee_bank_account", R, Relation.SAME_PROVIDER),  # its own, masked
    _g(Role.PROVIDER, "account", RW, Relation.SELF),
    _g(Role.PROVIDER, "session", RW, Relation.SELF),
    # -- staff -----------------------------------------------------------------------------------
    # ``decide`` is the examiner's alone: the member and provider write a claim but never settle it.
    _g(Role.CLAIMS_EXAMINER, "claim", (READ, WRITE, "decide"), Relation.IN_QUEUE),
    # Utilisation review and appeals are worked from one shared queue, ordered by due time.
    *(_g(Role.CLAIMS_EXAMINER, kind, (READ, WRITE, "decide")) for kind in ("prior_auth", "appeal")),
    *(_g(Role.CLAIMS_EXAMINER, kind, R) for kind in ("eligibility", "accumulator", "plan", "provider", "contract")),
    *(
        _g(Role.ENROLLMENT_SPECIALIST, kind, RW)
        for kind in ("party", "member", "eligibility", "enrollment", "roster", "id_card", "consent", "edi_file")
    ),
    _g(Role.ENROLLMENT_SPECIALIST, "customer_account", RW),
    # Underwriting (sum-insured markets): enrollment staff record findings; examiners read them to
    # explain a pre-existing disease's waiting period. Clinical: never an employer's.
    _g(Role.ENROLLMENT_SPECIALIST, "underwriting", RW),
    _g(Role.CLAIMS_EXAMINER, "underwriting", R),
    _g(Role.ENROLLMENT_SPECIALIST, "party", ("create",)),
    *(
        _g(Role.ENROLLMENT_SPECIALIST, kind, R)
        for kind in ("plan", "invoice", "transaction", "deletion_request", "cobra_notice")
    ),
    *(_g(Role.BILLING, kind, RW) for kind in ("invoice", "payment")),
    _g(Role.BILLING, "remittance", RW),  # payment runs → 835s (``POST /api/v1/edi/remittances/{run_id}``)
    _g(Role.BILLING, "payee_bank_account", RW),
    *(_g(Role.BILLING, kind, R) for kind in ("roster", "enrollment", "plan", "party", "customer_account")),
    *(_g(Role.CREDENTIALING, kind, RW) for kind in ("provider", "provider_directory")),
    _g(Role.CREDENTIALING, "credentialing", (READ, WRITE, "apply")),
    *(_g(Role.CREDENTIALING, kind, R) for kind in ("contract", "plan")),
    *(_g(Role.PROVIDER_RELATIONS, kind, RW) for kind in ("provider", "provider_directory", "contract")),
    *(_g(Role.PROVIDER_RELATIONS, kind, R) for kind in ("credentialing", "remittance", "plan")),
    *(_g(Role.COMPLIANCE_AUDITOR, kind, R) for kind in _ALL_READABLE),
    *(_g(Role.ADMINISTRATOR, kind, RW) for kind in ("api_client", "plan", "payee_bank_account")),
    _g(Role.ADMINISTRATOR, "account", (READ, WRITE, "manage")),
    _g(Role.ADMINISTRATOR, "break_glass", (READ, "review")),
    _g(Role.ADMINISTRATOR, "deletion_request", (READ, WRITE, "process")),
    _g(Role.ADMINISTRATOR, "audit_log", R),
    _g(Role.ADMINISTRATOR, "bus", R),
    _g(Role.ADMINISTRATOR, "dead_letter", (READ, "redrive")),
    # Reference code sets are public data; any signed-in role looks codes up.
    *(_g(role, "code_set", R) for role in Role),
    # Every staff member manages their own session and account, and may open break-glass.
    *(_g(role, "session", RW, Relation.SELF) for role in STAFF_ROLES),
    *(_g(role, "account", RW, Relation.SELF) for role in STAFF_ROLES if role is not Role.ADMINISTRATOR),
    *(_g(role, "break_glass", W) for role in STAFF_ROLES if role is not Role.COMPLIANCE_AUDITOR),
)


@dataclass(frozen=True, slots=True)
class Dependent:
    """A person covered under the caller's policy; age decides whether the caller may see their data."""

    party_id: uuid.UUID
    birth_date: date


@dataclass(frozen=True, slots=True)
class BreakGlassScope:
    grant_id: uuid.UUID
    party_id: uuid.UUID | None
    """The person the emergency concerns; ``None`` opens every person's records."""


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """The caller, as the rules see them."""

    roles: frozenset[Role]
    account_id: uuid.UUID | None = None
    party_id: uuid.UUID | None = None
    group_account_id: uuid.UUID | None = None
    provider_ids: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    dependents: tuple[Dependent, ...] = ()
    break_glass: tuple[BreakGlassScope, ...] = ()


@dataclass(frozen=True, slots=True)
class ResourceFacts:
    """What a resolver knows about one resource: whose it is, in whose group, from which provider."""

    kind: str
    resource_id: str | None = None
    party_ids: frozenset[uuid.UUID] = frozenset()
    """The people whose personal data this is (the patient of a claim, the subject of a consent)."""
    account_ids: frozenset[uuid.UUID] = frozenset()
    """Sign-in accounts the resource belongs to (for identity resources)."""
    group_account_ids: frozenset[uuid.UUID] = frozenset()
    provider_ids: frozenset[str] = frozenset()
    """NPIs or organisation ids that submitted or own the resource."""
    queues: frozenset[str] = frozenset()
    confidential: bool = False
    """The person asked for confidential communications: only they see it, never a guardian."""
    identified: bool = False
    """The request presented demographics that match the person (eligibility inquiries)."""


class Reason(StrEnum):
    GRANTED = "granted"
    BREAK_GLASS = "break_glass"
    NO_GRANT = "no_grant"
    NOT_RELATED = "not_related"
    AUDITOR_READ_ONLY = "auditor_read_only"
    EMPLOYER_CLINICAL = "employer_clinical"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    role: Role | None = None
    relation: Relation | None = None
    break_glass_grant_id: uuid.UUID | None = None

    @property
    def status(self) -> int:
        """403 when the role may never do this; 404 when the object is someone else's (existence hidden)."""
        return 404 if self.reason is Reason.NOT_RELATED else 403


def minor_dependents(subject: SubjectFacts, today: date) -> frozenset[uuid.UUID]:
    return frozenset(d.party_id for d in subject.dependents if age_on(d.birth_date, today) < ADULT_AGE)


def relation_holds(relation: Relation, subject: SubjectFacts, facts: ResourceFacts, today: date) -> bool:
    if relation is Relation.ANY:
        return True
    if relation in (Relation.SELF, Relation.SELF_OR_MINOR_DEPENDENT):
        if not (facts.party_ids or facts.account_ids):
            return False
        if facts.account_ids and facts.account_ids != {subject.account_id}:
            return False
        allowed = {subject.party_id} if subject.party_id else set()
        if relation is Relation.SELF_OR_MINOR_DEPENDENT and not facts.confidential:
            allowed |= minor_dependents(subject, today)
        return facts.party_ids <= allowed
    if relation is Relation.SAME_GROUP:
        return subject.group_account_id is not None and subject.group_account_id in facts.group_account_ids
    if relation is Relation.SAME_PROVIDER:
        return bool(subject.provider_ids & facts.provider_ids)
    if relation is Relation.IDENTIFIED_PATIENT:
        return facts.identified
    if relation is Relation.IN_QUEUE:
        return bool(subject.queues & facts.queues)
    return False  # pragma: no cover - every relation is handled above


@functools.lru_cache(maxsize=4096)
def grants_for(roles: frozenset[Role], action: Action) -> tuple[Grant, ...]:
    """The grants that could allow ``action``, after the invariants have removed what they forbid.

    Remembered per (roles, action): ``GRANTS`` is constant, and a decision asks up to three times
    (a scan of every grant each time was a twentieth of a cached eligibility check's CPU)."""
    found = []
    for grant in GRANTS:
        if grant.role not in roles or grant.kind != action.kind.name or action.verb not in grant.verbs:
            continue
        if grant.role is Role.COMPLIANCE_AUDITOR and not action.is_read and grant.relation is not Relation.SELF:
            continue  # auditors change nothing but their own session and sign-in settings
        if grant.role is Role.EMPLOYER_ADMIN and action.kind.clinical:
            continue
        found.append(grant)
    return tuple(found)


def _break_glass(subject: SubjectFacts, action: Action, facts: ResourceFacts | None) -> uuid.UUID | None:
    if not (subject.roles & STAFF_ROLES) or not action.is_read or not action.kind.phi or not subject.break_glass:
        return None
    for scope in subject.break_glass:
        if scope.party_id is None:
            return scope.grant_id
        if facts is not None and facts.party_ids and facts.party_ids <= {scope.party_id}:
            return scope.grant_id
    return None


def decide(subject: SubjectFacts, action: Action, facts: ResourceFacts | None, today: date) -> Decision:
    """Allow or refuse ``action``; ``facts`` is ``None`` for a collection or a creation (the role
    decides, and the domain narrows what it returns with ``access_scope``)."""
    grants = grants_for(subject.roles, action)
    if not grants:
        glass = _break_glass(subject, action, facts)
        if glass is not None:
            return Decision(True, Reason.BREAK_GLASS, break_glass_grant_id=glass)
        if subject.roles & {Role.COMPLIANCE_AUDITOR} and not action.is_read:
            return Decision(False, Reason.AUDITOR_READ_ONLY)
        if Role.EMPLOYER_ADMIN in subject.roles and action.kind.clinical:
            return Decision(False, Reason.EMPLOYER_CLINICAL)
        return Decision(False, Reason.NO_GRANT)
    if facts is None:
        return Decision(True, Reason.GRANTED, grants[0].role, grants[0].relation)
    for grant in grants:
        if relation_holds(grant.relation, subject, facts, today):
            return Decision(True, Reason.GRANTED, grant.role, grant.relation)
    glass = _break_glass(subject, action, facts)
    if glass is not None:
        return Decision(True, Reason.BREAK_GLASS, break_glass_grant_id=glass)
    return Decision(False, Reason.NOT_RELATED)


@dataclass(frozen=True, slots=True)
class AccessScope:
    """What a collection may contain for this caller. A domain's list query applies it."""

    everything: bool = False
    party_ids: frozenset[uuid.UUID] = frozenset()
    account_ids: frozenset[uuid.UUID] = frozenset()
    group_account_ids: frozenset[uuid.UUID] = frozenset()
    provider_ids: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    dependent_party_ids: frozenset[uuid.UUID] = frozenset()
    """Minors seen through their guardian: their records are visible unless marked confidential."""

    @property
    def empty(self) -> bool:
        return not (
            self.everything
            or self.party_ids
            or self.account_ids
            or self.group_account_ids
            or self.provider_ids
            or self.queues
            or self.dependent_party_ids
        )


def access_scope(subject: SubjectFacts, action: Action, today: date) -> AccessScope:
    grants = grants_for(subject.roles, action)
    if any(g.relation is Relation.ANY for g in grants):
        return AccessScope(everything=True)
    if not grants and _break_glass(subject, action, None) is not None:
        return AccessScope(everything=True)
    parties: set[uuid.UUID] = set()
    accounts: set[uuid.UUID] = set()
    groups: set[uuid.UUID] = set()
    providers: set[str] = set()
    queues: set[str] = set()
    minors: set[uuid.UUID] = set()
    for grant in grants:
        if grant.relation in (Relation.SELF, Relation.SELF_OR_MINOR_DEPENDENT):
            if subject.party_id:
                parties.add(subject.party_id)
            if subject.account_id:
                accounts.add(subject.account_id)
            if grant.relation is Relation.SELF_OR_MINOR_DEPENDENT:
                minors |= minor_dependents(subject, today)
        elif grant.relation is Relation.SAME_GROUP and subject.group_account_id:
            groups.add(subject.group_account_id)
        elif grant.relation is Relation.SAME_PROVIDER:
            providers |= subject.provider_ids
        elif grant.relation is Relation.IN_QUEUE:
            queues |= subject.queues
    return AccessScope(
        party_ids=frozenset(parties),
        account_ids=frozenset(accounts),
        group_account_ids=frozenset(groups),
        provider_ids=frozenset(providers),
        queues=frozenset(queues),
        dependent_party_ids=frozenset(minors - parties),
    )
