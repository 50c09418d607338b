"""Every query of the eligibility domain."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update

from olly.eligibility.models import AccumulatorBalance, CoverageRecord
from olly.platform.crypto import NORMALISERS, blind_index_label, session_crypto
from olly.platform.db import UnitOfWork, insert_values, table_of


class EligibilityRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    def records_of(self, party_id: uuid.UUID) -> list[CoverageRecord]:
        return list(self.session.scalars(select(CoverageRecord).where(CoverageRecord.party_id == party_id)))

    def records_of_policy(self, policy_id: uuid.UUID) -> list[CoverageRecord]:
        return list(self.session.scalars(select(CoverageRecord).where(CoverageRecord.policy_id == policy_id)))

    def parties_of_policies(self, policy_ids: Collection[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
        """(policy, person) of every coverage record of these policies (no record read whole)."""
        if not policy_ids:
            return set()
        query = select(CoverageRecord.policy_id, CoverageRecord.party_id).where(
            CoverageRecord.policy_id.in_(list(policy_ids))
        )
        return {(row.policy_id, row.party_id) for row in self.session.execute(query)}

    def records_by_member_number(self, member_number: str) -> list[CoverageRecord]:
        crypto = session_crypto(self.session, "looked up")
        digest = crypto.blind_index(
            self.session.connection(),
            self.uow.require_tenant(),
            blind_index_label(CoverageRecord.__tablename__, "member_number"),
            NORMALISERS["alnum"](member_number),
        )
        return list(self.session.scalars(select(CoverageRecord).where(CoverageRecord.member_number_index == digest)))

    def replace_policy(self, policy_id: uuid.UUID, records: list[CoverageRecord]) -> None:
        self.session.execute(delete(CoverageRecord).where(CoverageRecord.policy_id == policy_id))
        self.session.add_all(records)

    def balances(self, holder_ids: list[uuid.UUID]) -> list[AccumulatorBalance]:
        return list(
            self.session.scalars(select(AccumulatorBalance).where(AccumulatorBalance.holder_id.in_(holder_ids)))
        )

    def insert_balances(self, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Insert balances given as tuples of the values of ``columns`` (the tenant id included), in
        one statement (``insert_values``)."""
        insert_values(self.session.connection(), table_of(AccumulatorBalance), columns, rows)

    def balance(self, holder_id: uuid.UUID, level: str, plan_year: date) -> AccumulatorBalance | None:
        return self.session.scalars(
            select(AccumulatorBalance).where(
                AccumulatorBalance.holder_id == holder_id,
                AccumulatorBalance.level == level,
                AccumulatorBalance.plan_year == plan_year,
            )
        ).first()

    # -- a person's records (deletion requests) ---------------------------------------------------
    def records_naming_subscriber(self, party_id: uuid.UUID) -> list[CoverageRecord]:
        """Other people's records (a subscriber's dependents') that name this person as subscriber."""
        query = select(CoverageRecord).where(
            CoverageRecord.subscriber_party_id == party_id, CoverageRecord.party_id != party_id
        )
        return list(self.session.scalars(query.order_by(CoverageRecord.policy_id, CoverageRecord.id)))

    def member_balances(self, member_id: uuid.UUID) -> list[AccumulatorBalance]:
        """The member's own balances (a family's are held by its policy)."""
        query = select(AccumulatorBalance).where(
            AccumulatorBalance.holder_id == member_id, AccumulatorBalance.level == "MEMBER"
        )
        return list(self.session.scalars(query.order_by(AccumulatorBalance.plan_year, AccumulatorBalance.id)))

    def delete_records(self, record_ids: Collection[uuid.UUID]) -> None:
        if record_ids:
            self.session.execute(delete(CoverageRecord).where(CoverageRecord.id.in_(list(record_ids))))

    def delete_balances(self, balance_ids: Collection[uuid.UUID]) -> None:
        if balance_ids:
            self.session.execute(delete(AccumulatorBalance).where(AccumulatorBalance.id.in_(list(balance_ids))))

    def replace_subscriber(
        self, policy_ids: Collection[uuid.UUID], party_id: uuid.UUID, replacement: uuid.UUID
    ) -> None:
        """Name ``replacement`` instead of ``party_id`` as the subscriber on these policies' records."""
        if policy_ids:
            self.session.execute(
                update(CoverageRecord)
                .where(CoverageRecord.policy_id.in_(list(policy_ids)), CoverageRecord.subscriber_party_id == party_id)
                .values(subscriber_party_id=replacement)
            )
