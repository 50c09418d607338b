"""Pure pieces of prior authorisation and appeals: due times, overdue, appeal deadline, who decides."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from olly.claims.appeals import default_appeal_deadline
from olly.claims.prior_auth import DecisionWindows, decision_due_at, is_overdue
from olly.platform.auth.catalog import parse_action
from olly.platform.auth.roles import Role
from olly.platform.auth.rules import ResourceFacts, SubjectFacts, decide

RECEIVED = datetime(2026, 2, 27, 23, 15, tzinfo=UTC)
TODAY = date(2026, 3, 1)


def test_due_times() -> None:
    assert decision_due_at(RECEIVED, expedited=True) == datetime(2026, 3, 2, 23, 15, tzinfo=UTC)
    assert decision_due_at(RECEIVED, expedited=False) == datetime(2026, 3, 6, 23, 15, tzinfo=UTC)
    erisa = DecisionWindows(standard=DecisionWindows().standard * 15 / 7)
    assert decision_due_at(RECEIVED, expedited=False, windows=erisa) == datetime(2026, 3, 14, 23, 15, tzinfo=UTC)


def test_overdue_only_when_undecided_and_past_due() -> None:
    due = datetime(2026, 3, 2, 23, 15, tzinfo=UTC)
    assert not is_overdue("PENDING", due, due)
    assert is_overdue("PENDING", due, datetime(2026, 3, 2, 23, 15, 1, tzinfo=UTC))
    assert not is_overdue("APPROVED", due, datetime(2026, 4, 1, tzinfo=UTC))


def test_appeal_deadline_is_day_180() -> None:
    assert default_appeal_deadline(date(2026, 3, 2)) == date(2026, 8, 29)
    assert default_appeal_deadline(date(2026, 1, 1)) == date(2026, 6, 30)


def test_requesters_never_decide_and_employers_never_see() -> None:
    member, provider = uuid.uuid4(), "1234567893"
    facts = ResourceFacts(kind="prior_auth", party_ids=frozenset({member}), provider_ids=frozenset({provider}))
    requester = SubjectFacts(roles=frozenset({Role.PROVIDER}), provider_ids=frozenset({provider}))
    patient = SubjectFacts(roles=frozenset({Role.MEMBER}), party_id=member)
    examiner = SubjectFacts(roles=frozenset({Role.CLAIMS_EXAMINER}))
    employer = SubjectFacts(roles=frozenset({Role.EMPLOYER_ADMIN}), group_account_id=uuid.uuid4())
    for kind in ("prior_auth", "appeal"):
        kind_facts = ResourceFacts(kind=kind, party_ids=facts.party_ids, provider_ids=facts.provider_ids)
        assert decide(requester, parse_action(f"{kind}.read"), kind_facts, TODAY).allowed
        assert decide(patient, parse_action(f"{kind}.read"), kind_facts, TODAY).allowed
        assert not decide(requester, parse_action(f"{kind}.decide"), kind_facts, TODAY).allowed
        assert not decide(patient, parse_action(f"{kind}.decide"), kind_facts, TODAY).allowed
        assert decide(examiner, parse_action(f"{kind}.decide"), kind_facts, TODAY).allowed
        assert not decide(employer, parse_action(f"{kind}.read"), kind_facts, TODAY).allowed
    # A member files appeals of their own claims, but never requests authorisations.
    assert decide(
        patient, parse_action("appeal.write"), ResourceFacts(kind="appeal", party_ids=facts.party_ids), TODAY
    ).allowed
    assert not decide(patient, parse_action("prior_auth.write"), None, TODAY).allowed
