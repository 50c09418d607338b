"""A person's party record, roles and group registrations, for deletion requests
(``olly.platform.personal_data``).

Found by the person's party id (a person only: an organisation holds no personal data):

* ``person``: the party's identifying details (names, date of birth, gender, national identifier,
  address, phone, e-mail). No law keeps them once the person asks: always removed. The row itself
  cannot simply go, because what other domains keep is re-keyed to the request's pseudonym and may
  still name that party id (the law keeps enrollment, claims and billing records), and the accounts
  a person holds are still billed. So the party moves to the pseudonym: a row under the pseudonym
  with the person's kind and registration time and nothing identifying is added, the accounts,
  roles and registrations still pointing at the person follow it, and the person's own row is
  deleted (in that order: the foreign keys are checked statement by statement).
* ``party_role``: a role on an account (subscriber, payer …) and its dates, part of the enrollment
  record: kept six years from the day the role ended (today while it lasts) under the pseudonym.
* ``group_registration``: that an employer group's administrator registered the person (which lets
  the group enrol them); an access grant nothing obliges Olly to keep: deleted.
"""

from __future__ import annotations

from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory, ids_by_type
from olly.policy_admin.models import Party
from olly.policy_admin.repository import PolicyAdminRepository

#: The display name of the row that replaces a person (the column cannot be empty of meaning).
PSEUDONYMISED_NAME = "pseudonymised person"


class PolicyAdminPersonalData:
    """A person's party row, roles and group registrations (see the module docstring)."""

    domain = "policy_admin"

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        repo = PolicyAdminRepository(uow)
        party = repo.party(subject.party_id)
        if party is None or party.kind != "INDIVIDUAL":
            return []
        today = uow.clock.today()
        items = [
            PersonalDataItem(
                self.domain,
                "person",
                str(party.id),
                RecordCategory.CONTACT,
                party.created_at.date(),
                "name, date of birth, gender, national identifier, address, phone and e-mail",
            )
        ]
        items += [
            PersonalDataItem(
                self.domain,
                "party_role",
                str(role.id),
                RecordCategory.ENROLLMENT,
                role.effective_to or today,
                f"{role.role.lower()} role on an account, with its dates",
            )
            for role in sorted(repo.roles_of(party.id), key=lambda r: (r.effective_from, r.id))
        ]
        items += [
            PersonalDataItem(
                self.domain,
                "group_registration",
                str(registration.group_account_id),
                RecordCategory.OTHER,
                registration.registered_at.date(),
                "registration by an employer group's administrator, which lets the group enrol the person",
            )
            for registration in repo.group_registrations_of(party.id)
        ]
        return items

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repo = PolicyAdminRepository(uow)
        ids = ids_by_type(items)
        if ids["party_role"]:
            _pseudonym_party(uow, repo, subject)
            repo.reassign_roles(ids["party_role"], subject.pseudonym)
        if ids["group_registration"]:  # an access grant: there is nothing of it to keep
            repo.delete_group_registrations(subject.party_id, ids["group_registration"])
        if ids["person"]:
            _retire(uow, repo, subject)

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repo = PolicyAdminRepository(uow)
        ids = ids_by_type(items)
        if ids["party_role"]:
            repo.delete_roles(ids["party_role"])
        if ids["group_registration"]:
            repo.delete_group_registrations(subject.party_id, ids["group_registration"])
        if ids["person"]:
            _retire(uow, repo, subject)


def _pseudonym_party(uow: UnitOfWork, repo: PolicyAdminRepository, subject: DataSubject) -> None:
    """The row under the pseudonym that what is kept points at: the kind and registration time of
    the person, nothing that identifies them."""
    if repo.party(subject.pseudonym) is not None:
        return
    person = repo.party(subject.party_id)
    repo.add(
        Party(
            id=subject.pseudonym,
            kind=person.kind if person is not None else "INDIVIDUAL",
            display_name=PSEUDONYMISED_NAME,
            created_at=person.created_at if person is not None else uow.clock.now(),
        )
    )
    uow.flush()


def _retire(uow: UnitOfWork, repo: PolicyAdminRepository, subject: DataSubject) -> None:
    """Move the party to its pseudonym and delete the person's row with every identifying value."""
    if repo.party(subject.party_id) is None:
        return
    _pseudonym_party(uow, repo, subject)
    repo.move_references(subject.party_id, subject.pseudonym)
    repo.delete_party(subject.party_id)
