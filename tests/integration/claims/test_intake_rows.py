"""``NewRows`` and ``ChangedRows``, the batches intake and adjudication write a chunk's rows with,
store exactly what a Core insert (or update) of the same rows stores: each column as the database
holds it, read back without any type processing (hex ids and timestamp text on SQLite), on both
engines, in one statement."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Table, event, insert

from olly.claims import models as m
from olly.claims.repository import ChangedRows, ClaimsRepository, update_by_id
from olly.kernel.errors import ConfigurationError
from olly.kernel.ids import uuid7
from olly.platform.db import UnitOfWork, table_of
from olly.platform.runtime import Platform

SEALED = b"\x01" + bytes(range(16)) + b"\x00" * 12 + b"sealed value and its tag"
NOW = datetime(2026, 2, 2, 9, 30, 15, 123456, tzinfo=UTC)


def claim_row(tenant_id: uuid.UUID, index: int) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "transaction_id": uuid.UUID(int=index + 500),
        "member_id": uuid.UUID(int=index + 1),
        "claim_type": "PROFESSIONAL",
        "frequency": "1",
        "original_claim_id": None if index % 2 else uuid.UUID(int=7),
        "submitter": "PROVIDER",
        "source": "EDI",
        "billing_npi": "1234567893",
        "rendering_npi": None,
        "provider_id": uuid.UUID(int=99),
        "plan_id": None if index % 3 == 0 else uuid.UUID(int=5),
        "currency": "USD",
        "total_billed_minor": 12_345 + index,
        "service_date_from": date(2026, 1, 5),
        "service_date_to": date(2026, 1, 6),
        "received_on": date(2026, 2, 2),
        "received_at": NOW if index % 3 else NOW.replace(microsecond=index),  # repeated and not
        "status": "RECEIVED",
        "pend_reasons": [],
        "queue": "Q1",
        "detail": SEALED,
        "raw_object_key": f"{tenant_id}/raw_claim/{index}",
        "eob_object_key": None,
        "adjudicated_at": None,
        "replaced_by_claim_id": None,
        "version": 1,
    }


def line_row(tenant_id: uuid.UUID, index: int) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "claim_id": uuid.UUID(int=index + 1000),
        "line_number": 1,
        "charge_minor": 9_000,
        "units": 2,
        "service": SEALED,
        "status": None,
        "allowed_minor": None,
        "paid_minor": None,
        "deductible_minor": None,
        "coinsurance_minor": None,
        "copay_minor": None,
        "adjustments": [],
    }


def key_row(tenant_id: uuid.UUID, index: int) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "scope": "EDI",
        "key": f"837:SUBMITTER:000000001:1:0001:{index}",
        "request_hash": "ab" * 32,
        "claim_id": uuid.UUID(int=index + 2000),
        "transaction_id": uuid.UUID(int=index + 3000),
        "created_at": NOW,
    }


def stored(uow: UnitOfWork, table: Table) -> list[tuple[Any, ...]]:
    """Every row as the database holds it, without its id, in the order of the other columns."""
    columns = [column.name for column in table.columns if column.name != "id"]
    preparer = uow.session.connection().dialect.identifier_preparer
    names = ", ".join(preparer.quote(name) for name in columns)
    target = table.name if uow.session.connection().dialect.name == "sqlite" else f"{table.schema}.{table.name}"
    return sorted(tuple(row) for row in uow.session.connection().exec_driver_sql(f"SELECT {names} FROM {target}").all())


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.parametrize(
    ("model", "make"), [(m.Claim, claim_row), (m.ClaimLine, line_row), (m.IdempotencyKey, key_row)]
)
def test_new_rows_store_what_an_insert_stores(
    platform: Platform, tenant_id: uuid.UUID, model: type[Any], make: Any, count: int
) -> None:
    table = table_of(model)
    with platform.db.unit_of_work(tenant_id) as uow:
        rows = [make(tenant_id, index) | {"tenant_id": tenant_id} for index in range(count)]
        uow.session.connection().execute(insert(table), rows)
        by_insert = stored(uow, table)
        uow.rollback()
    statements: list[tuple[str, bool]] = []

    def seen(_conn: object, _cursor: object, statement: str, _params: object, _context: object, many: bool) -> None:
        statements.append((statement.split()[0], many))

    event.listen(platform.db.engine, "before_cursor_execute", seen)
    try:
        with platform.db.unit_of_work(tenant_id) as uow:
            new_rows = ClaimsRepository(uow).new_rows(table)
            for index in range(count):
                new_rows.add(make(tenant_id, index))  # the tenant id added by NewRows
            assert len(new_rows) == count
            new_rows.insert()
            assert len(new_rows) == 0
            by_new_rows = stored(uow, table)
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", seen)
    assert by_new_rows == by_insert
    assert len(by_insert) == count and by_insert[0][-1] is not None
    assert [s for s in statements if s[0] == "INSERT"] == [("INSERT", count > 1)]  # one statement for all the rows


def test_new_rows_refuse_rows_of_other_columns(platform: Platform, tenant_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        rows = ClaimsRepository(uow).new_rows(table_of(m.IdempotencyKey))
        rows.add(key_row(tenant_id, 0))
        if platform.db.engine.dialect.name == "sqlite":  # elsewhere the insert itself refuses them
            with pytest.raises(ConfigurationError, match="same columns"):
                rows.add(key_row(tenant_id, 1) | {"extra": 1})
            with pytest.raises(KeyError):
                rows.add({k: v for k, v in key_row(tenant_id, 2).items() if k != "scope"} | {"extra": 1})
        rows.insert()
        assert len(stored(uow, table_of(m.IdempotencyKey))) == 1


@pytest.mark.parametrize(("model", "make"), [(m.Claim, claim_row), (m.ClaimLine, line_row)])
def test_new_rows_take_columns_in_any_order(
    platform: Platform, tenant_id: uuid.UUID, model: type[Any], make: Any
) -> None:
    """Rows whose columns come in another order than the table's (an adjudication's queued rows)
    store the same, still as one statement of tuples on SQLite."""
    table = table_of(model)
    with platform.db.unit_of_work(tenant_id) as uow:
        rows = [make(tenant_id, index) for index in range(3)]
        uow.session.connection().execute(insert(table), [row | {"tenant_id": tenant_id} for row in rows])
        by_insert = stored(uow, table)
        uow.rollback()
    with platform.db.unit_of_work(tenant_id) as uow:
        new_rows = ClaimsRepository(uow).new_rows(table)
        for row in rows:
            new_rows.add(dict(reversed(row.items())))
        if platform.db.engine.dialect.name == "sqlite":
            assert new_rows._binder is not None  # the tuples' path, not the Core insert
        new_rows.insert()
        assert stored(uow, table) == by_insert


def test_changed_rows_store_what_an_update_stores(platform: Platform, tenant_id: uuid.UUID) -> None:
    """``ChangedRows`` (the adjudication queue's updates) leaves each row as a Core update of the same
    values does, and touches only the rows of its ids and tenant."""
    table = table_of(m.ClaimLine)
    columns = ("adjustments", "allowed_minor", "paid_minor", "service", "status")
    rows = [line_row(tenant_id, index) for index in range(4)]
    changes = [
        {"id": row["id"], "adjustments": [{"carc": "45", "amount": 10 + i}], "allowed_minor": 100 + i}
        | {"paid_minor": None if i % 2 else 80 + i, "service": SEALED[:-3] + b"TAG", "status": "APPROVED"}
        for i, row in enumerate(rows[:3])
    ]
    results = []
    for use_changed_rows in (False, True):
        with platform.db.unit_of_work(tenant_id) as uow:
            connection = uow.session.connection()
            connection.execute(insert(table), [row | {"tenant_id": tenant_id} for row in rows])
            if use_changed_rows:
                changed = ChangedRows(connection, table, tenant_id, columns)
                for change in changes:
                    changed.add(change)
                assert (changed._binder is not None) == (platform.db.engine.dialect.name == "sqlite")
                changed.update()
            else:
                params = [
                    {f"v_{c}": change[c] for c in columns} | {"w_id": change["id"], "w_tenant": tenant_id}
                    for change in changes
                ]
                connection.execute(update_by_id(table, columns), params)
            results.append(stored(uow, table))
            uow.rollback()
    assert results[0] == results[1]
    assert sum(1 for row in results[1] if "APPROVED" in row) == 3  # three rows changed, the fourth not
    with platform.db.unit_of_work(tenant_id) as uow:
        changed = ChangedRows(uow.session.connection(), table, tenant_id, columns)
        with pytest.raises(ConfigurationError, match="same columns"):
            changed.add({"id": rows[0]["id"], "status": "DENIED"})
