"""A person's enrollment records, for deletion requests (``olly.platform.personal_data``).

Found by the person's party id: the policies they hold as subscriber, each policy they are covered
on (the covered-person row with its coverage spans), their underwriting flags and their COBRA
cases. All are enrollment records, kept six years (ERISA §107) from the last day of the cover they
describe. Quotes name nobody (a relationship and an age per line) and are not found.

Pseudonymised: the party id becomes the request's pseudonym everywhere it appears (the change
history's ``partyId`` included), the employer's employee id is cleared, the member number is
replaced by a fresh one (the old one is on the person's ID card), an underwriting flag loses the
underwriter's words, its withdrawal's note included (its codes, waiting period, loading and, when
withdrawn, the withdrawal's date and reason code stay), and a COBRA case's printed
election notice, which names the person, is removed (the case keeps the notice's dates).
Deleted: the rows go, and a policy the person holds goes with its terms and history unless something
else still refers to it (someone else's cover, a COBRA case): then it stays, pseudonymised.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import TypeVar

from olly.enrollment import letters
from olly.enrollment.models import CobraCase, Policy, PolicyElement, UnderwritingFlag
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.service import _member_number
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory, ids_by_type

Record = TypeVar("Record", Policy, PolicyElement, UnderwritingFlag, CobraCase)

DESCRIPTIONS = {
    "policy": "policy held as subscriber: plan terms, premiums and change history",
    "policy_member": "cover on a policy: member number and coverage periods",
    "underwriting_flag": "underwriting finding: condition codes, waiting period or loading",
    "cobra_case": "COBRA continuation right: qualifying event, election notice and its dates",
}


class EnrollmentPersonalData:
    """Policies, cover, underwriting flags and COBRA cases of one person (see the module docstring)."""

    domain = "enrollment"

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        repo = EnrollmentRepository(uow)
        today = uow.clock.today()
        policy_ends: dict[uuid.UUID, date] = {}

        def policy_end(policy_id: uuid.UUID) -> date:
            if policy_id not in policy_ends:
                policy_ends[policy_id] = _policy_end(repo, policy_id, today)
            return policy_ends[policy_id]

        items = [
            self._item("policy", policy.id, policy_end(policy.id))
            for policy in repo.policies_of_subscriber(subject.party_id)
        ]
        cover_ends: dict[uuid.UUID, date] = {}
        for element in sorted(repo.elements_of_party(subject.party_id), key=lambda e: (e.created_at, e.id)):
            spans = [s for s in repo.current_spans(element.policy_id) if s.element_id == element.id]
            end = _last_day((s.valid_to for s in spans), today) or policy_end(element.policy_id)
            cover_ends[element.policy_id] = max(end, cover_ends.get(element.policy_id, end))
            items.append(self._item("policy_member", element.id, end))
        items += [
            self._item("underwriting_flag", flag.id, cover_ends.get(flag.policy_id) or policy_end(flag.policy_id))
            for flag in repo.underwriting_flags_of_party(subject.party_id)
        ]
        items += [
            self._item("cobra_case", case.id, _case_end(case)) for case in repo.cobra_cases_of_party(subject.party_id)
        ]
        return items

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repo = EnrollmentRepository(uow)
        ids = ids_by_type(items)
        for policy in _rows(repo, Policy, ids["policy"]):
            _pseudonymise_policy(policy, subject)
        for element in _rows(repo, PolicyElement, ids["policy_member"]):
            element.party_id = subject.pseudonym
            # The number on the person's ID card identifies them: a fresh one, drawn as a new member's is.
            element.member_number = _member_number(repo)
            for span in repo.spans_of_element(element.id):
                span.party_id = subject.pseudonym
            _rename_in_history(repo, element.policy_id, subject)
        for flag in _rows(repo, UnderwritingFlag, ids["underwriting_flag"]):
            flag.party_id = subject.pseudonym
            flag.detail = None  # the underwriter's words may name the person; the codes and terms stay
            flag.withdrawal_note = None  # so may a withdrawal's; when and why (its reason code) stay
        for case in _rows(repo, CobraCase, ids["cobra_case"]):
            case.party_id = subject.pseudonym
            _discard_notice(uow, case)
        uow.flush()

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repo = EnrollmentRepository(uow)
        ids = ids_by_type(items)
        if ids["underwriting_flag"]:
            repo.delete_underwriting_flags(ids["underwriting_flag"])
        if ids["cobra_case"]:
            for case in _rows(repo, CobraCase, ids["cobra_case"]):
                if case.notice_object_key is not None:
                    letters.discard(uow, case.notice_object_key)
            repo.delete_cobra_cases(ids["cobra_case"])
        touched = {e.policy_id for e in _rows(repo, PolicyElement, ids["policy_member"])}
        if ids["policy_member"]:
            repo.delete_elements(ids["policy_member"])
        for policy_id in ids["policy"]:
            if not repo.is_policy_referenced(policy_id):
                repo.delete_policy(policy_id)
                continue
            # Others are still on it (or their COBRA case names it): the contract stays for them,
            # and nothing in it names this person any more.
            policy = repo.policy(policy_id)
            if policy is not None:
                _pseudonymise_policy(policy, subject)
                touched.add(policy_id)
        for policy_id in touched:
            if repo.policy(policy_id) is not None:
                _rename_in_history(repo, policy_id, subject)
        uow.flush()

    def _item(self, record_type: str, record_id: uuid.UUID, record_date: date) -> PersonalDataItem:
        return PersonalDataItem(
            self.domain,
            record_type,
            str(record_id),
            RecordCategory.ENROLLMENT,
            record_date,
            DESCRIPTIONS[record_type],
        )


def _last_day(ends: Iterable[date | None], today: date) -> date | None:
    """The last day of cover among these span ends; an open end is cover still running, so retention
    has not begun: today (dating it from the start would let old cover that still runs be deleted)."""
    days = [today if end is None else end for end in ends]
    return max(days) if days else None


def _policy_end(repo: EnrollmentRepository, policy_id: uuid.UUID, today: date) -> date:
    """The last day of the policy's cover as now known (everyone on it), or of its last change when
    nothing is covered any more (a failed activation): the day its retention runs from."""
    days = [
        day
        for day in (
            _last_day((s.valid_to for s in repo.current_spans(policy_id)), today),
            max((t.effective_date for t in repo.transactions(policy_id)), default=None),
        )
        if day is not None
    ]
    if days:
        return max(days)
    policy = repo.policy(policy_id)
    return policy.created_at.date() if policy is not None else today


def _case_end(case: CobraCase) -> date:
    """Continuation's last day once elected (or the day it ended early); else the election deadline."""
    if case.ended_on is not None:
        return case.ended_on
    return case.continuation_end if case.status == "ELECTED" else case.election_deadline


def _pseudonymise_policy(policy: Policy, subject: DataSubject) -> None:
    if policy.subscriber_party_id == subject.party_id:
        policy.subscriber_party_id = subject.pseudonym
    policy.subscriber_external_id = None  # the employer's id for the employee names them to the employer


def _rename_in_history(repo: EnrollmentRepository, policy_id: uuid.UUID, subject: DataSubject) -> None:
    """A dependent's addition or removal names them in the policy's history: the pseudonym instead."""
    old = str(subject.party_id)
    for transaction in repo.transactions(policy_id):
        if transaction.detail.get("partyId") == old:
            transaction.detail = {**transaction.detail, "partyId": str(subject.pseudonym)}


def _discard_notice(uow: UnitOfWork, case: CobraCase) -> None:
    if case.notice_object_key is not None:
        letters.discard(uow, case.notice_object_key)
        case.notice_object_key = None


def _rows(repo: EnrollmentRepository, model: type[Record], ids: list[uuid.UUID]) -> list[Record]:
    return [row for row in (repo.session.get(model, i) for i in ids) if row is not None]
