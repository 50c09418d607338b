"""Every query of the policy_admin domain."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date

from sqlalchemy import delete, select, update

from olly.platform.crypto import NORMALISERS, blind_index_label, session_crypto
from olly.platform.db import UnitOfWork
from olly.policy_admin.models import Account, Party, PartyGroupRegistration, PartyRole


class PolicyAdminRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    def add(self, row: Party | Account | PartyRole) -> None:
        self.session.add(row)

    def party(self, party_id: uuid.UUID) -> Party | None:
        return self.session.get(Party, party_id)

    def account(self, account_id: uuid.UUID) -> Account | None:
        return self.session.get(Account, account_id)

    def account_by_number(self, number: str) -> Account | None:
        return self.session.scalars(select(Account).where(Account.account_number == number)).first()

    def _index(self, source: str, normaliser: str, value: object) -> bytes:
        """The blind index of ``value`` exactly as the write path computes it."""
        crypto = session_crypto(self.session, "looked up")
        return crypto.blind_index(
            self.session.connection(),
            self.uow.require_tenant(),
            blind_index_label(Party.__tablename__, source),
            NORMALISERS[normaliser](value),
        )

    def parties_by_ssn(self, ssn: str) -> list[Party]:
        return list(self.session.scalars(select(Party).where(Party.ssn_index == self._index("ssn", "digits", ssn))))

    def parties_by_family_name_and_birth_date(self, family_name: str, birth_date: date) -> list[Party]:
        return list(
            self.session.scalars(
                select(Party).where(
                    Party.family_name_index == self._index("family_name", "casefold", family_name),
                    Party.birth_date_index == self._index("birth_date", "date", birth_date),
                )
            )
        )

    def roles_of(self, party_id: uuid.UUID) -> list[PartyRole]:
        return list(self.session.scalars(select(PartyRole).where(PartyRole.party_id == party_id)))

    # -- one person's records (deletion requests) -------------------------------------------------
    def group_registrations_of(self, party_id: uuid.UUID) -> list[PartyGroupRegistration]:
        return list(
            self.session.scalars(
                select(PartyGroupRegistration)
                .where(PartyGroupRegistration.party_id == party_id)
                .order_by(PartyGroupRegistration.registered_at, PartyGroupRegistration.group_account_id)
            )
        )

    def reassign_roles(self, role_ids: Collection[uuid.UUID], party_id: uuid.UUID) -> None:
        self.session.execute(update(PartyRole).where(PartyRole.id.in_(list(role_ids))).values(party_id=party_id))

    def delete_roles(self, role_ids: Collection[uuid.UUID]) -> None:
        self.session.execute(delete(PartyRole).where(PartyRole.id.in_(list(role_ids))))

    def delete_group_registrations(self, party_id: uuid.UUID, group_account_ids: Collection[uuid.UUID]) -> None:
        self.session.execute(
            delete(PartyGroupRegistration).where(
                PartyGroupRegistration.party_id == party_id,
                PartyGroupRegistration.group_account_id.in_(list(group_account_ids)),
            )
        )

    def move_references(self, party_id: uuid.UUID, to: uuid.UUID) -> None:
        """Point the accounts, roles and group registrations of one party at another, which must exist
        (the foreign keys are checked statement by statement)."""
        self.session.execute(update(Account).where(Account.party_id == party_id).values(party_id=to))
        self.session.execute(update(PartyRole).where(PartyRole.party_id == party_id).values(party_id=to))
        self.session.execute(
            update(PartyGroupRegistration).where(PartyGroupRegistration.party_id == party_id).values(party_id=to)
        )

    def delete_party(self, party_id: uuid.UUID) -> None:
        self.session.execute(delete(Party).where(Party.id == party_id))
