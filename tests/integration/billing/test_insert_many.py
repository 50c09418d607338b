"""``BillingRepository.insert_many``, which a payment run and the claims consumer's chunks write
their rows with, stores exactly what a Core insert of the same rows stores: each column as the
database holds it, read back without any type processing, on both engines; one row, and a batch of
more than ``COPY_FROM_ROWS`` (which PostgreSQL streams)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Table, insert

from olly.billing.models import ClaimPayable, LedgerEntry, LedgerPosting
from olly.billing.repository import BillingRepository
from olly.kernel.ids import uuid7
from olly.platform.db import COPY_FROM_ROWS, Base, UnitOfWork, table_of
from olly.platform.runtime import Platform

NOW = datetime(2026, 2, 2, 9, 30, 15, 123456, tzinfo=UTC)
POSTINGS = [uuid.UUID(int=index + 5000) for index in range(3)]
"""The postings the ledger entries belong to (written before)."""


def payable(tenant_id: uuid.UUID, index: int) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "tenant_id": tenant_id,
        "claim_id": uuid.UUID(int=index + 1),
        "member_id": uuid.UUID(int=index % 3 + 100),
        "provider_id": uuid.UUID(int=7),
        "payee": "PROVIDER" if index % 4 else "MEMBER",
        "payee_id": uuid.UUID(int=7),
        "payee_npi": "1234567893" if index % 4 else None,
        "currency": "USD",
        "amount_minor": index * 1_001,
        "approved_at": NOW if index % 2 else NOW.replace(microsecond=index),
        "status": "UNPAID",
        "claim_payment_id": None,
        "part": 0,
        "adjudication_sequence": None if index % 3 else index,
        "reverses_sequence": None,
    }


def posting(tenant_id: uuid.UUID, index: int) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "tenant_id": tenant_id,
        "kind": "CLAIM_APPROVED",
        "account_id": None,
        "reference_type": "CLAIM",
        "reference_id": uuid.UUID(int=index + 1),
        "reverses_id": None,
        "currency": "USD",
        "total_minor": index * 1_001,
        "posted_at": NOW,
        "effective_date": date(2026, 2, 2),
    }


def entry(tenant_id: uuid.UUID, index: int) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "tenant_id": tenant_id,
        "posting_id": POSTINGS[index % len(POSTINGS)],
        "ledger_account": "CLAIMS_EXPENSE" if index % 2 else "CLAIMS_PAYABLE",
        "account_id": None,
        "currency": "USD",
        "debit_minor": index * 1_001 if index % 2 else 0,
        "credit_minor": 0 if index % 2 else index * 1_001,
        "posted_at": NOW,
    }


def stored(uow: UnitOfWork, table: Table) -> list[tuple[Any, ...]]:
    """Every row as the database holds it, without its id, in the order of the other columns."""
    connection = uow.session.connection()
    columns = [column.name for column in table.columns if column.name != "id"]
    names = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in columns)
    target = table.name if connection.dialect.name == "sqlite" else f"{table.schema}.{table.name}"
    return sorted(tuple(row) for row in connection.exec_driver_sql(f"SELECT {names} FROM {target}").all())


@pytest.mark.parametrize("count", [1, COPY_FROM_ROWS + 4])
@pytest.mark.parametrize(("model", "make"), [(ClaimPayable, payable), (LedgerPosting, posting), (LedgerEntry, entry)])
def test_insert_many_stores_what_an_insert_stores(
    platform: Platform,
    tenant_id: uuid.UUID,
    model: type[Base],
    make: Callable[[uuid.UUID, int], dict[str, Any]],
    count: int,
) -> None:
    table = table_of(model)
    if model is LedgerEntry:
        with platform.db.unit_of_work(tenant_id) as uow:
            postings = [posting(tenant_id, index) | {"id": posting_id} for index, posting_id in enumerate(POSTINGS)]
            uow.session.connection().execute(insert(table_of(LedgerPosting)), postings)
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.session.connection().execute(insert(table), [make(tenant_id, index) for index in range(count)])
        by_insert = stored(uow, table)
        uow.rollback()
    with platform.db.unit_of_work(tenant_id) as uow:
        BillingRepository(uow).insert_many(model, [make(tenant_id, index) for index in range(count)])
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert stored(uow, table) == by_insert
    assert len(by_insert) == count
