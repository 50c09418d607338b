"""Every query of the eligibility domain."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import delete, select

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
