"""Read functions other domains and the composition layer may call; results are frozen."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from olly.edi import service
from olly.edi.models import EdiFile, PendingTransaction, TradingPartner
from olly.edi.ports import PartnerInfo
from olly.platform.db import UnitOfWork


@dataclass(frozen=True, slots=True)
class PendingItem:
    """An accepted inbound transaction kept for a domain that was not installed when it arrived."""

    id: uuid.UUID
    file_id: uuid.UUID
    kind: str
    """837P, 837I, 834."""
    status: str
    """AWAITING_CLAIMS_INTAKE, AWAITING_ENROLLMENT, FAILED_ENROLLMENT."""
    segment_number: int
    set_control_number: str
    content: dict[str, Any]
    """The transaction as JSON (``ports.to_jsonable`` of the toolkit's dataclass)."""
    received_at: datetime


def pending_items(
    uow: UnitOfWork, *, kind: str | None = None, status: str | None = None, limit: int = 1000
) -> list[PendingItem]:
    """Kept transactions in arrival order (file, then position), e.g. to hand them to claims intake."""
    query = select(PendingTransaction).order_by(
        PendingTransaction.created_at, PendingTransaction.file_id, PendingTransaction.segment_number
    )
    if kind is not None:
        query = query.where(PendingTransaction.kind == kind)
    if status is not None:
        query = query.where(PendingTransaction.status == status)
    return [
        PendingItem(
            r.id, r.file_id, r.kind, r.status, r.segment_number, r.set_control_number, dict(r.content), r.created_at
        )
        for r in uow.session.scalars(query.limit(limit))
    ]


@dataclass(frozen=True, slots=True)
class FileSummary:
    id: uuid.UUID
    direction: str
    kind: str
    status: str
    partner_id: uuid.UUID | None
    interchange_control_number: str
    storage_key: str
    """The encrypted raw file (``olly.edi.storage``)."""
    created_at: datetime


def edi_file(uow: UnitOfWork, file_id: uuid.UUID) -> FileSummary | None:
    row = uow.session.get(EdiFile, file_id)
    if row is None:
        return None
    return FileSummary(
        row.id,
        row.direction,
        row.kind,
        row.status,
        row.partner_id,
        row.interchange_control_number,
        row.storage_key,
        row.created_at,
    )


def partner(uow: UnitOfWork, partner_id: uuid.UUID) -> PartnerInfo | None:
    """A trading partner as the ports see it (kind, interchange id, the provider ids it acts for)."""
    row = uow.session.scalars(select(TradingPartner).where(TradingPartner.id == partner_id)).first()
    if row is None:
        return None
    return PartnerInfo(
        row.id, row.code, row.kind, row.interchange_id, tuple(row.provider_ids or ()), row.group_account_id
    )


@dataclass(frozen=True, slots=True)
class RemittanceFile:
    """An 835 the gateway wrote for one payee of a payment run (its amounts as the 835 states them)."""

    id: uuid.UUID
    run_id: str
    payee_npi: str | None
    trace_number: str | None
    """TRN02: billing's EFT trace or cheque number, which pairs the file with billing's payment."""
    paid: str
    currency: str
    claims: int
    interchange_control_number: str
    created_at: datetime


def _remittance(row: EdiFile) -> RemittanceFile:
    summary = row.summary or {}
    npi = summary.get("payeeNpi")
    if npi is None and row.partner_id is None and row.receiver.startswith("ZZ:"):
        npi = row.receiver[3:]  # written before the summary named the payee: sent to the payee itself
    return RemittanceFile(
        row.id,
        row.reference or "",
        npi,
        summary.get("traceNumber"),
        str(summary.get("paid", "0.00")),
        str(summary.get("currency", "USD")),
        int(summary.get("claims", 0)),
        row.interchange_control_number,
        row.created_at,
    )


def remittance_files(uow: UnitOfWork, run_ids: Iterable[str]) -> list[RemittanceFile]:
    """The 835s written for these payment runs (every payee's), oldest first."""
    runs = sorted({r[:64] for r in run_ids})
    if not runs:
        return []
    query = (
        select(EdiFile)
        .where(EdiFile.direction == "OUT", EdiFile.kind == "835", EdiFile.reference.in_(runs))
        .order_by(EdiFile.created_at, EdiFile.id)
    )
    return [_remittance(row) for row in uow.session.scalars(query)]


def remittance_file(uow: UnitOfWork, file_id: uuid.UUID) -> tuple[RemittanceFile, bytes] | None:
    """One 835 and its X12 text (decrypted); None when no 835 has this id. Raises
    ``service.FilePurged`` (410) once its content was deleted past the retention."""
    row = uow.session.get(EdiFile, file_id)
    if row is None or row.direction != "OUT" or row.kind != "835":
        return None
    return _remittance(row), service.content_of(uow, row)


def remittance_payee(uow: UnitOfWork, file_id: uuid.UUID) -> RemittanceFile | None:
    """An 835's record without its content (whose it is: the access decision's question)."""
    row = uow.session.get(EdiFile, file_id)
    if row is None or row.direction != "OUT" or row.kind != "835":
        return None
    return _remittance(row)
