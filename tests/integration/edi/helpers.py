"""Shared pieces of the gateway tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from olly.edi import service
from olly.edi.models import EdiFile, PendingTransaction
from olly.edi.remittance import Remittance
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform

#: The ISA sender of the X12 sample files from the same source (837I, 270, 276).
SAMPLE_SENDER = ("30", "000000005")


def register(
    platform: Platform,
    tenant_id: uuid.UUID,
    code: str = "CH1",
    *,
    qualifier: str = "30",
    identifier: str = "000000005",
    **settings: object,
) -> uuid.UUID:
    values: dict[str, object] = {
        "code": code,
        "name": f"Partner {code}",
        "kind": "CLEARINGHOUSE",
        "interchange_qualifier": qualifier,
        "interchange_id": identifier,
    }
    values.update(settings)
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.save_partner(uow, service.PartnerSettings(**values)).id  # type: ignore[arg-type]


def segments(text: str, segment_id: str, element: str = "*") -> list[list[str]]:
    return [
        s.strip().split(element)
        for s in text.replace("\n", "").split("~")
        if s.strip().startswith(segment_id + element)
    ]


def reply(result: service.IngestResult, kind: str) -> str:
    (found,) = [r.text for r in result.replies if r.kind == kind]
    return found


def pending(platform: Platform, tenant_id: uuid.UUID) -> list[PendingTransaction]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return list(uow.session.scalars(select(PendingTransaction).order_by(PendingTransaction.segment_number)))


def files(platform: Platform, tenant_id: uuid.UUID, direction: str) -> list[EdiFile]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return list(
            uow.session.scalars(select(EdiFile).where(EdiFile.direction == direction).order_by(EdiFile.created_at))
        )


class FakeRemittances:
    """A ``RemittanceSource`` for one run."""

    def __init__(self, run_id: str, remittances: Sequence[Remittance]) -> None:
        self.run_id = run_id
        self.remittances = tuple(remittances)

    def payment_run(self, uow: UnitOfWork, run_id: str) -> Sequence[Remittance]:
        return self.remittances if run_id == self.run_id else ()
