"""The policy decision point's rules on plain facts."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from olly.platform.auth.catalog import RESOURCE_KINDS, parse_action
from olly.platform.auth.roles import STAFF_ROLES, Role
from olly.platform.auth.rules import (
    GRANTS,
    BreakGlassScope,
    Dependent,
    Reason,
    ResourceFacts,
    SubjectFacts,
    access_scope,
    decide,
)

TODAY = date(2026, 1, 15)
PARENT, CHILD, ADULT_CHILD, STRANGER = (uuid.uuid4() for _ in range(4))
G1, G2 = uuid.uuid4(), uuid.uuid4()
PARENT_FACTS = SubjectFacts(
    roles=frozenset({Role.MEMBER}),
    account_id=uuid.uuid4(),
    party_id=PARENT,
    dependents=(Dependent(CHILD, date(2008, 1, 16)), Dependent(ADULT_CHILD, date(2008, 1, 15))),
)


def claim_of(party: uuid.UUID, **kw) -> ResourceFacts:  # type: ignore[no-untyped-def]
    return ResourceFacts(kind="claim", resource_id="c", party_ids=frozenset({party}), **kw)


def test_a_member_sees_their_own_and_minor_dependents_claims_only() -> None:
    read = parse_action("claim.read")
    assert decide(PARENT_FACTS, read, claim_of(PARENT), TODAY).allowed
    assert decide(PARENT_FACTS, read, claim_of(CHILD), TODAY).allowed  # 17 until tomorrow
    turned_18 = decide(PARENT_FACTS, read, claim_of(ADULT_CHILD), TODAY)  # 18 today
    assert (turned_18.allowed, turned_18.reason, turned_18.status) == (False, Reason.NOT_RELATED, 404)
    assert not decide(PARENT_FACTS, read, claim_of(CHILD), date(2026, 1, 16)).allowed  # the child's birthday
    assert not decide(PARENT_FACTS, read, claim_of(STRANGER), TODAY).allowed
    assert not decide(PARENT_FACTS, read, claim_of(CHILD, confidential=True), TODAY).allowed
    both = ResourceFacts(kind="claim", party_ids=frozenset({PARENT, STRANGER}))
    assert not decide(PARENT_FACTS, read, both, TODAY).allowed  # every person on it must be theirs


def test_employers_never_see_clinical_kinds_whatever_the_relation() -> None:
    admin = SubjectFacts(roles=frozenset({Role.EMPLOYER_ADMIN}), group_account_id=G1)
    roster = ResourceFacts(kind="roster", group_account_ids=frozenset({G1}))
    assert decide(admin, parse_action("roster.read"), roster, TODAY).allowed
    assert not decide(
        admin, parse_action("roster.read"), ResourceFacts(kind="roster", group_account_ids=frozenset({G2})), TODAY
    ).allowed
    for kind in (k for k in RESOURCE_KINDS.values() if k.clinical):
        decision = decide(
            admin,
            parse_action(f"{kind.name}.read"),
            ResourceFacts(kind=kind.name, group_account_ids=frozenset({G1})),
            TODAY,
        )
        assert (decision.allowed, decision.reason, decision.status) == (False, Reason.EMPLOYER_CLINICAL, 403)
    assert not any(g.role is Role.EMPLOYER_ADMIN and RESOURCE_KINDS[g.kind].clinical for g in GRANTS)


def test_auditors_read_everything_and_change_nothing() -> None:
    me = uuid.uuid4()
    auditor = SubjectFacts(roles=frozenset({Role.COMPLIANCE_AUDITOR}), account_id=me)
    for kind in RESOURCE_KINDS.values():
        assert decide(auditor, parse_action(f"{kind.name}.read"), ResourceFacts(kind=kind.name), TODAY).allowed
        for verb in (v for v in kind.verbs if v != "read"):
            decision = decide(auditor, parse_action(f"{kind.name}.{verb}"), ResourceFacts(kind=kind.name), TODAY)
            assert not decision.allowed, f"{kind.name}.{verb}"
    write = decide(auditor, parse_action("claim.write"), None, TODAY)
    assert (write.allowed, write.reason, write.status) == (False, Reason.AUDITOR_READ_ONLY, 403)
    # Signing out and managing their own second factor are the only changes an auditor makes.
    own = {"account_ids": frozenset({me})}
    assert decide(auditor, parse_action("session.write"), ResourceFacts(kind="session", **own), TODAY).allowed
    assert decide(auditor, parse_action("account.write"), ResourceFacts(kind="account", **own), TODAY).allowed
    assert all(
        g.verbs == {"read"}
        for g in GRANTS
        if g.role is Role.COMPLIANCE_AUDITOR and g.kind not in ("session", "account")
    )


def test_providers_see_what_they_submitted_and_patients_they_identify() -> None:
    provider = SubjectFacts(roles=frozenset({Role.PROVIDER}), provider_ids=frozenset({"1234567893"}))
    ours = ResourceFacts(kind="claim", party_ids=frozenset({STRANGER}), provider_ids=frozenset({"1234567893"}))
    theirs = ResourceFacts(kind="claim", party_ids=frozenset({STRANGER}), provider_ids=frozenset({"1245319508"}))
    assert decide(provider, parse_action("claim.read"), ours, TODAY).allowed
    assert not decide(provider, parse_action("claim.read"), theirs, TODAY).allowed
    eligibility = parse_action("eligibility.read")
    assert decide(provider, eligibility, ResourceFacts(kind="eligibility", identified=True), TODAY).allowed
    assert not decide(provider, eligibility, ResourceFacts(kind="eligibility", identified=False), TODAY).allowed
    assert not decide(provider, parse_action("member.read"), ResourceFacts(kind="member"), TODAY).allowed


def test_examiners_see_claims_in_their_queues() -> None:
    examiner = SubjectFacts(roles=frozenset({Role.CLAIMS_EXAMINER}), queues=frozenset({"Q1"}))
    assert decide(
        examiner, parse_action("claim.write"), ResourceFacts(kind="claim", queues=frozenset({"Q1"})), TODAY
    ).allowed
    assert not decide(
        examiner, parse_action("claim.read"), ResourceFacts(kind="claim", queues=frozenset({"Q2"})), TODAY
    ).allowed


def test_break_glass_opens_reads_of_phi_for_the_named_person_only() -> None:
    grant = uuid.uuid4()
    billing = SubjectFacts(roles=frozenset({Role.BILLING}), break_glass=(BreakGlassScope(grant, PARENT),))
    read = decide(billing, parse_action("claim.read"), claim_of(PARENT), TODAY)
    assert (read.allowed, read.reason, read.break_glass_grant_id) == (True, Reason.BREAK_GLASS, grant)
    assert not decide(billing, parse_action("claim.read"), claim_of(STRANGER), TODAY).allowed
    assert not decide(billing, parse_action("claim.write"), claim_of(PARENT), TODAY).allowed
    member = SubjectFacts(
        roles=frozenset({Role.MEMBER}), party_id=STRANGER, break_glass=(BreakGlassScope(grant, None),)
    )
    assert not decide(member, parse_action("claim.read"), claim_of(PARENT), TODAY).allowed  # staff only


def test_default_deny_for_actions_nobody_was_granted() -> None:
    everyone = SubjectFacts(roles=frozenset(Role))
    granted = {(g.kind, v) for g in GRANTS for v in g.verbs}
    for kind in RESOURCE_KINDS.values():
        for verb in kind.verbs:
            allowed = decide(everyone, parse_action(f"{kind.name}.{verb}"), None, TODAY).allowed
            assert allowed == ((kind.name, verb) in granted)


def test_access_scope_for_collections() -> None:
    scope = access_scope(PARENT_FACTS, parse_action("claim.read"), TODAY)
    assert (scope.everything, scope.party_ids, scope.dependent_party_ids) == (
        False,
        frozenset({PARENT}),
        frozenset({CHILD}),
    )
    assert access_scope(
        SubjectFacts(roles=frozenset({Role.COMPLIANCE_AUDITOR})), parse_action("claim.read"), TODAY
    ).everything
    nobody = access_scope(SubjectFacts(roles=frozenset({Role.EMPLOYER_ADMIN})), parse_action("claim.read"), TODAY)
    assert nobody.empty


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_every_staff_role_manages_its_own_session(role: Role) -> None:
    me = uuid.uuid4()
    subject = SubjectFacts(roles=frozenset({role}), account_id=me)
    own = ResourceFacts(kind="session", account_ids=frozenset({me}))
    other = ResourceFacts(kind="session", account_ids=frozenset({uuid.uuid4()}))
    assert decide(subject, parse_action("session.write"), own, TODAY).allowed
    assert not decide(subject, parse_action("session.write"), other, TODAY).allowed


def test_payee_bank_accounts_billing_and_administrators_write_a_provider_reads_its_own() -> None:
    ours = ResourceFacts(kind="payee_bank_account", provider_ids=frozenset({"1234567893", "p-1"}))
    theirs = ResourceFacts(kind="payee_bank_account", provider_ids=frozenset({"1245319508", "p-2"}))
    read, write = parse_action("payee_bank_account.read"), parse_action("payee_bank_account.write")
    office = SubjectFacts(roles=frozenset({Role.PROVIDER}), provider_ids=frozenset({"1234567893"}))
    assert decide(office, read, ours, TODAY).allowed
    refused = decide(office, read, theirs, TODAY)
    assert (refused.allowed, refused.reason, refused.status) == (False, Reason.NOT_RELATED, 404)
    cannot = decide(office, write, ours, TODAY)
    assert (cannot.allowed, cannot.reason, cannot.status) == (False, Reason.NO_GRANT, 403)
    for role in (Role.BILLING, Role.ADMINISTRATOR):
        staff = SubjectFacts(roles=frozenset({role}))
        assert decide(staff, write, theirs, TODAY).allowed
        assert decide(staff, read, theirs, TODAY).allowed
    for role in (Role.CLAIMS_EXAMINER, Role.ENROLLMENT_SPECIALIST, Role.TRADING_PARTNER, Role.MEMBER):
        assert not decide(SubjectFacts(roles=frozenset({role})), read, theirs, TODAY).allowed, role
