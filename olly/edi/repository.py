"""Reads and writes of the gateway's tables, and the database-backed stores the toolkit asks for."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from olly.edi.models import (
    AuditReconciliation,
    ControlSequence,
    EdiFile,
    InterchangeReceipt,
    PendingTransaction,
    TradingPartner,
    TransactionSetReceipt,
)
from olly.edi.writer import Party
from olly.kernel.ids import uuid7
from olly.platform.db import UnitOfWork, table_of

#: ISA13 is nine digits; the sequence wraps to 1 after 999,999,999.
_MAX_CONTROL = 999_999_999


class EdiRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    def files_to_purge(self, before: datetime, limit: int) -> list[EdiFile]:
        """Files received or sent before ``before`` whose content is still kept, oldest first."""
        query = (
            select(EdiFile)
            .where(EdiFile.created_at < before, EdiFile.purged_at.is_(None))
            .order_by(EdiFile.created_at, EdiFile.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def forget_what_was_read(self, file_ids: Sequence[uuid.UUID]) -> None:
        """Delete the kept transactions of these files and empty their reconciliations' findings."""
        if not file_ids:
            return
        wanted = sorted(file_ids)
        self.session.execute(delete(PendingTransaction).where(PendingTransaction.file_id.in_(wanted)))
        for reconciliation in self.session.scalars(
            select(AuditReconciliation).where(AuditReconciliation.file_id.in_(wanted))
        ):
            reconciliation.findings = []

    # -- partners ----------------------------------------------------------------------------------
    def partner(self, partner_id: uuid.UUID) -> TradingPartner | None:
        return self.session.get(TradingPartner, partner_id)

    def partner_by_code(self, code: str) -> TradingPartner | None:
        return self.session.scalars(select(TradingPartner).where(TradingPartner.code == code)).first()

    def partner_by_interchange_id(self, qualifier: str, identifier: str) -> TradingPartner | None:
        return self.session.scalars(
            select(TradingPartner).where(
                TradingPartner.interchange_qualifier == qualifier.strip(),
                TradingPartner.interchange_id == identifier.strip(),
            )
        ).first()

    def partners(self) -> Sequence[TradingPartner]:
        return self.session.scalars(select(TradingPartner).order_by(TradingPartner.code)).all()

    # -- files -------------------------------------------------------------------------------------
    def file(self, file_id: uuid.UUID) -> EdiFile | None:
        return self.session.get(EdiFile, file_id)

    def reconciliations(self, file_id: uuid.UUID) -> Sequence[AuditReconciliation]:
        """The 834 audit reconciliations of an inbound file, in the order of its sets."""
        return self.session.scalars(
            select(AuditReconciliation)
            .where(AuditReconciliation.file_id == file_id)
            .order_by(AuditReconciliation.created_at, AuditReconciliation.id)
        ).all()

    def files(
        self, *, direction: str | None = None, partner_ids: set[uuid.UUID] | None = None, limit: int = 100
    ) -> Sequence[EdiFile]:
        query = select(EdiFile).order_by(EdiFile.created_at.desc(), EdiFile.id.desc()).limit(limit)
        if direction is not None:
            query = query.where(EdiFile.direction == direction)
        if partner_ids is not None:
            query = query.where(EdiFile.partner_id.in_(partner_ids))
        return self.session.scalars(query).all()

    def remittance_files(self, run_id: str) -> Sequence[EdiFile]:
        return self.session.scalars(
            select(EdiFile)
            .where(EdiFile.direction == "OUT", EdiFile.kind == "835", EdiFile.reference == run_id)
            .order_by(EdiFile.created_at, EdiFile.id)
        ).all()

    def replies_to(self, file_id: uuid.UUID) -> Sequence[EdiFile]:
        return self.session.scalars(
            select(EdiFile).where(EdiFile.in_reply_to == file_id).order_by(EdiFile.created_at, EdiFile.id)
        ).all()

    def transaction_sets(self, file_id: uuid.UUID) -> Sequence[TransactionSetReceipt]:
        return self.session.scalars(
            select(TransactionSetReceipt)
            .where(TransactionSetReceipt.file_id == file_id)
            .order_by(TransactionSetReceipt.interchange_control_number, TransactionSetReceipt.set_control_number)
        ).all()

    def pending(self, kind: str | None = None) -> Sequence[PendingTransaction]:
        query = select(PendingTransaction).order_by(PendingTransaction.segment_number)
        if kind is not None:
            query = query.where(PendingTransaction.kind == kind)
        return self.session.scalars(query).all()

    def interchange_received(self, sender: str, control_number: str) -> bool:
        return (
            self.session.scalar(
                select(InterchangeReceipt.id).where(
                    InterchangeReceipt.sender == sender, InterchangeReceipt.control_number == control_number
                )
            )
            is not None
        )


class DatabaseInterchangeStore:
    """The toolkit's ``InterchangeStore`` over ``edi_interchange_receipts``.

    ``record`` only remembers: the gateway decides after its own checks (partner, accepted
    transactions) which interchanges were accepted and writes them with ``save``. A unique key on
    (tenant, sender, ISA13) stops two concurrent deliveries of one interchange both committing.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self.repo = EdiRepository(uow)
        self.pending: list[tuple[str, str]] = []

    def seen(self, sender: str, control_number: str) -> bool:
        return (sender, control_number) in self.pending or self.repo.interchange_received(sender, control_number)

    def record(self, sender: str, control_number: str) -> None:
        self.pending.append((sender, control_number))


class DatabaseControlNumbers:
    """The toolkit's ``ControlNumbers`` over ``edi_control_sequences``: one ISA13 and one GS06 sequence per
    receiving partner. The increment is a single ``UPDATE … RETURNING`` (row-locked on PostgreSQL,
    serialised by ``BEGIN IMMEDIATE`` on SQLite), so concurrent writers never share a number."""

    def __init__(self, uow: UnitOfWork, partner_key: str) -> None:
        self.uow = uow
        self.partner_key = partner_key[:40]

    def _take(self, kind: str) -> int:
        tenant = self.uow.require_tenant()
        table = table_of(ControlSequence)
        connection = self.uow.session.connection()
        where = (table.c.tenant_id == tenant, table.c.party == self.partner_key, table.c.kind == kind)
        step = (
            update(table)
            .where(*where)
            .values(last_value=table.c.last_value % _MAX_CONTROL + 1)
            .returning(table.c.last_value)
        )
        for _ in range(3):
            value = connection.execute(step).scalar()
            if value is not None:
                return int(value)
            try:
                with self.uow.session.begin_nested():
                    self.uow.session.connection().execute(
                        insert(table).values(
                            id=uuid7(), tenant_id=tenant, party=self.partner_key, kind=kind, last_value=1
                        )
                    )
                return 1
            except IntegrityError:
                continue  # another writer created the row first: take the next number from it
        raise RuntimeError("could not allocate a control number")  # pragma: no cover

    def next_interchange(self, sender: Party) -> int:
        return self._take("interchange")

    def next_group(self, sender: Party) -> int:
        return self._take("group")
