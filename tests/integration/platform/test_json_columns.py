"""JSON columns: written compact and UTF-8, and what the former serializer wrote reads back equal."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, Table, select, text

from olly.platform.runtime import Platform

PROBE = Table("json_probe", MetaData(), Column("id", Integer, primary_key=True), Column("value", JSON))

VALUE: dict[str, Any] = {
    "city": "Española",
    "codes": ["E11.9", "Z00.00"],
    "periods": [["2026-01-01", None]],
    "count": 3,
    "isPrimary": True,
}


def _insert_text(platform: Platform, row_id: int, stored: str) -> None:
    cast = "CAST(:stored AS json)" if platform.db.engine.dialect.name == "postgresql" else ":stored"
    with platform.db.connect() as connection:
        connection.execute(
            text(f"INSERT INTO json_probe (id, value) VALUES (:id, {cast})"), {"id": row_id, "stored": stored}
        )


def _stored_text(platform: Platform, row_id: int) -> str:
    column = "value::text" if platform.db.engine.dialect.name == "postgresql" else "value"
    with platform.db.connect() as connection:
        stored = connection.execute(text(f"SELECT {column} FROM json_probe WHERE id = :id"), {"id": row_id}).scalar()
    assert isinstance(stored, str)
    return stored


def _read(platform: Platform, row_id: int) -> Any:
    with platform.db.connect() as connection:
        return connection.execute(select(PROBE.c.value).where(PROBE.c.id == row_id)).scalar()


def test_a_json_column_is_written_compact_utf8_and_reads_back(platform: Platform) -> None:
    with platform.db.connect() as connection:
        PROBE.create(connection)
        connection.execute(PROBE.insert(), [{"id": 1, "value": VALUE}])
    assert _stored_text(platform, 1) == json.dumps(VALUE, separators=(",", ":"), ensure_ascii=False)
    assert _read(platform, 1) == VALUE


def test_an_integer_beyond_64_bits_stays_an_exact_integer(platform: Platform) -> None:
    with platform.db.connect() as connection:
        PROBE.create(connection)
        connection.execute(PROBE.insert(), [{"id": 1, "value": {"big": 2**70, "small": -(2**63) - 1}}])
    _insert_text(platform, 2, json.dumps({"big": 2**70}))
    assert _stored_text(platform, 1) == '{"big":1180591620717411303424,"small":-9223372036854775809}'
    assert _read(platform, 1) == {"big": 2**70, "small": -(2**63) - 1}
    assert type(_read(platform, 1)["big"]) is int
    assert _read(platform, 2) == {"big": 2**70}


def test_what_the_former_serializer_wrote_reads_back_equal(platform: Platform) -> None:
    with platform.db.connect() as connection:
        PROBE.create(connection)
    former = json.dumps(VALUE)  # SQLAlchemy's and psycopg's default: spaces and ASCII escapes
    assert '"Espa\\u00f1ola"' in former
    _insert_text(platform, 1, former)
    assert _read(platform, 1) == VALUE


def test_sqlite_passes_a_bare_number_in_a_json_column_through(sqlite_platform: Platform) -> None:
    # SQLite keeps what it is given: a number stored by hand is read as that number, not refused.
    with sqlite_platform.db.connect() as connection:
        PROBE.create(connection)
        connection.execute(text("INSERT INTO json_probe (id, value) VALUES (1, 42)"))
    assert _read(sqlite_platform, 1) == 42
