"""A person's eligibility rows, for deletion requests (``olly.platform.personal_data``).

Eligibility keeps copies only: coverage copied from enrollment and spending copied from claims, for
the fast path's answers. The records the law makes the plan keep are enrollment's and claims'; a
copy has no retention of its own (category other), so a deletion request removes it, whatever the
decision. A dependent's coverage copy is the dependent's and stays, but it names the subscriber:
that reference to the person is replaced with the request's pseudonym (the id enrollment's
pseudonymised policy then carries too).
"""

from __future__ import annotations

import uuid
from datetime import date

from olly.eligibility import service
from olly.eligibility.repository import EligibilityRepository
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory, ids_by_type


class EligibilityPersonalData:
    """Finds the person's coverage copies, their own accumulator balances (a family's balance is
    held by the policy and stays) and, per policy, the dependents' copies that name them as
    subscriber. Pseudonymising and deleting do the same: copies are deleted, references replaced."""

    domain = "eligibility"

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        repo = EligibilityRepository(uow)
        records = sorted(repo.records_of(subject.party_id), key=lambda r: (r.valid_from, r.id))
        found = [
            self._item("coverage_record", r.id, r.synced_at.date(), "copy of a coverage span, for eligibility answers")
            for r in records
        ]
        named: dict[uuid.UUID, date] = {}
        for record in repo.records_naming_subscriber(subject.party_id):
            named[record.policy_id] = max(named.get(record.policy_id, date.min), record.synced_at.date())
        found += [
            self._item(
                "policy_subscriber",
                policy_id,
                synced_on,
                "the person named as subscriber on the coverage copies of their dependents",
            )
            for policy_id, synced_on in named.items()
        ]
        found += [
            self._item(
                "accumulator_balance",
                b.id,
                b.as_of.date(),
                "copy of the person's deductible and out-of-pocket spending in a plan year",
            )
            for b in repo.member_balances(subject.party_id)
        ]
        return found

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        # Nothing obliges the plan to keep a copy: enrollment and claims keep the records.
        self.delete(uow, subject, items)

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repo, grouped = EligibilityRepository(uow), ids_by_type(items)
        repo.delete_records(grouped.get("coverage_record", []))
        repo.replace_subscriber(grouped.get("policy_subscriber", []), subject.party_id, subject.pseudonym)
        repo.delete_balances(grouped.get("accumulator_balance", []))
        if items:
            service.forget_answers(uow, [subject.party_id])

    def _item(self, record_type: str, record_id: uuid.UUID, record_date: date, description: str) -> PersonalDataItem:
        return PersonalDataItem(
            self.domain, record_type, str(record_id), RecordCategory.OTHER, record_date, description
        )
