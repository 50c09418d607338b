"""``insert_rows``: the same rows whether inserted or streamed with COPY, and a refused COPY says
which table and state without quoting any value."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from olly.platform import db as dbmod
from olly.platform.audit import AuditEvent
from olly.platform.db import BulkInsertFailed, insert_rows, insert_values, table_of
from olly.platform.runtime import Platform


def _rows(count: int, chain: int) -> list[dict[str, object]]:
    # an offset timestamp: the column's bind processing must turn it into UTC on both paths
    at = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    return [
        {
            "id": uuid.UUID(int=chain * 1000 + n),
            "chain": chain,
            "seq": n + 1,
            "tenant_id": None,
            "occurred_at": at + timedelta(seconds=n),
            "subject": f"account:{n}",
            "role": "claims_examiner",
            "action": "eligibility.check",
            "resource_type": "member",
            "resource_id": None if n % 2 else f"r-{n}",
            "outcome": "ALLOWED",
            "purpose": None,
            "request_id": "req",
            "detail": '{"status":"ACTIVE","note":"tab\\there, back\\\\slash, new\\nline"}',
            "prev_hash": "0" * 64,
            "hash": f"{n:064d}",
        }
        for n in range(count)
    ]


def _stored(platform: Platform, chain: int) -> list[dict[str, object]]:
    events = table_of(AuditEvent)
    with platform.db.engine.connect() as connection:
        found = connection.execute(select(events).where(events.c.chain == chain).order_by(events.c.seq)).mappings()
        return [dict(row) for row in found]


@pytest.mark.parametrize("count", [3, 40])
def test_rows_read_back_exactly_as_given(platform: Platform, count: int) -> None:
    rows = _rows(count, chain=90 + count)
    with platform.db.engine.begin() as connection:
        insert_rows(connection, table_of(AuditEvent), rows)
    stored = _stored(platform, 90 + count)
    expected = [{**row, "occurred_at": row["occurred_at"].astimezone(UTC)} for row in rows]  # type: ignore[attr-defined]
    assert stored == expected


ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@ON_POSTGRESQL
def test_copy_is_taken_from_the_threshold_on_postgresql(platform: Platform) -> None:
    statements: list[str] = []
    event.listen(platform.db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with platform.db.engine.begin() as connection:
        insert_rows(connection, table_of(AuditEvent), _rows(dbmod.COPY_FROM_ROWS, chain=70))
    assert not any("INSERT INTO" in s for s in statements)  # streamed, not inserted
    assert len(_stored(platform, 70)) == dbmod.COPY_FROM_ROWS


@pytest.mark.parametrize("count", [3, dbmod.COPY_FROM_ROWS])
def test_a_duplicate_key_is_an_integrity_error_that_names_the_table_not_the_values(
    platform: Platform, count: int
) -> None:
    """An insert and a COPY refuse a duplicate the same way, so one ``except`` serves every size."""
    rows = _rows(count, chain=80)
    rows[-1]["id"] = rows[0]["id"]  # a duplicate key
    rows[-1]["subject"] = "Jane Q. Patient"
    with pytest.raises(IntegrityError) as refused, platform.db.engine.begin() as connection:
        insert_rows(connection, table_of(AuditEvent), rows)
    assert "Jane Q. Patient" not in str(refused.value)
    if not platform.db.is_sqlite and count >= dbmod.COPY_FROM_ROWS:
        assert isinstance(refused.value.orig, BulkInsertFailed)
        assert str(refused.value.orig) == "COPY into platform.audit_events failed (SQLSTATE 23505)"
        assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert _stored(platform, 80) == []  # nothing half-written


@ON_POSTGRESQL
def test_a_copy_refused_for_another_reason_is_a_bulk_insert_failure(platform: Platform) -> None:
    rows = _rows(dbmod.COPY_FROM_ROWS, chain=81)
    rows[-1]["subject"] = "x" * 10_000  # longer than the column: SQLSTATE 22001, not a constraint
    with pytest.raises(BulkInsertFailed) as refused, platform.db.engine.begin() as connection:
        insert_rows(connection, table_of(AuditEvent), rows)
    assert str(refused.value) == "COPY into platform.audit_events failed (SQLSTATE 22001)"
    assert _stored(platform, 81) == []


def _raw(platform: Platform, chain: int) -> list[tuple[object, ...]]:
    """A chain's rows as the database holds them (not read back through the columns' types)."""
    events = table_of(AuditEvent)
    name = events.name if platform.db.is_sqlite else events.fullname
    columns = ", ".join(f'"{c.name}"' for c in events.columns if c.name not in ("id", "chain"))
    with platform.db.engine.connect() as connection:
        found = connection.exec_driver_sql(f"SELECT {columns} FROM {name} WHERE chain = {chain} ORDER BY seq")
        return [tuple(row) for row in found]


@pytest.mark.parametrize("count", [1, 3, 40])
def test_values_are_stored_exactly_as_the_same_rows(platform: Platform, count: int) -> None:
    rows = _rows(count, chain=60)
    for n, row in enumerate(rows):  # a value repeated from row to row, and one that comes back after another
        row["tenant_id"] = uuid.UUID(int=5) if n % 3 else None
    columns = tuple(rows[0])
    values = [tuple({**row, "id": uuid.UUID(int=7000 + n), "chain": 61}.values()) for n, row in enumerate(rows)]
    with platform.db.engine.begin() as connection:
        insert_rows(connection, table_of(AuditEvent), rows)
        insert_values(connection, table_of(AuditEvent), columns, values)
    assert len(_raw(platform, 61)) == count
    assert _raw(platform, 61) == _raw(platform, 60)


def _receipts(count: int, file_id: uuid.UUID) -> list[dict[str, object]]:
    """Rows with a JSON column holding lists (empty, of text with characters COPY escapes)."""
    errors: list[list[str]] = [[], ["IK304:8"], ['quote " tab \t back \\ slash', "é 😀"]]
    return [
        {
            "id": uuid.uuid4(),
            "tenant_id": uuid.UUID(int=5),
            "file_id": file_id,
            "interchange_control_number": "000000001",
            "group_control_number": "1",
            "set_control_number": f"{n:04d}",
            "set_id": "837",
            "implementation_guide": "005010X222A1",
            "accepted": not n % 2,
            "errors": errors[n % len(errors)],
        }
        for n in range(count)
    ]


def test_json_columns_are_stored_alike_inserted_or_copied(platform: Platform) -> None:
    from olly.edi.models import TransactionSetReceipt

    receipts = table_of(TransactionSetReceipt)
    few, many = uuid.uuid4(), uuid.uuid4()
    with platform.db.engine.begin() as connection:
        insert_rows(connection, receipts, _receipts(3, few))
        insert_rows(connection, receipts, _receipts(dbmod.COPY_FROM_ROWS + 2, many))  # COPY on PostgreSQL
    with platform.db.engine.connect() as connection:

        def stored(file_id: uuid.UUID) -> list[tuple[object, ...]]:
            query = (
                select(receipts.c.set_control_number, receipts.c.accepted, receipts.c.errors)
                .where(receipts.c.file_id == file_id)
                .order_by(receipts.c.set_control_number)
            )
            return [tuple(row) for row in connection.execute(query)]

        expected = [(r["set_control_number"], r["accepted"], r["errors"]) for r in _receipts(18, many)]
        assert stored(many) == expected
        assert stored(few) == expected[:3]
