"""Alembic, driven from code: one history for both engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import BLANK_SCHEMA, MetaData
from sqlalchemy.engine import Connection

from olly.platform.db import SCHEMAS, Base, Database, import_all_models

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database"] = db
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(db), revision)
    if db.is_sqlite:
        describe_tenant_indexes(db)


#: What SQLite's planner is told about a ``tenant_id`` index: a table of about a million rows (its
#: own guess for a table it knows nothing of) whose rows all share one value.
UNSELECTIVE_INDEX_STAT = "1000000 1000000"

#: Columns that hold a few values across a whole table (a status, a kind, a direction, a provider's
#: NPI: one hospital bills a large share of the claims). Following ``tenant_id`` in an index, SQLite
#: is told each of their values covers a tenth of the table.
FEW_VALUED_COLUMNS = frozenset(
    {"status", "kind", "direction", "purpose", "scope", "network", "reference_type", "billing_npi", "payee_npi"}
)


def tenant_index_stat(columns: list[str], *, unique: bool) -> str:
    """The ``sqlite_stat1`` figures for an index whose first column is ``tenant_id``: the tenant
    narrows nothing; each later column as SQLite would rate it first (10 rows a value, then 9, 8…),
    or a tenth of the table for a few-valued column; 1 for a unique index's whole key."""
    figures = [1_000_000, 1_000_000]
    rows = 1_000_000
    for position, column in enumerate(columns[1:]):
        rows = min(rows, 100_000 if column in FEW_VALUED_COLUMNS else max(10 - position, 5))
        figures.append(rows)
    if unique and len(columns) > 1:
        figures[-1] = 1
    return " ".join(str(figure) for figure in figures)


def describe_tenant_indexes(db: Database) -> list[str]:
    """Tell SQLite that ``tenant_id`` narrows nothing, in every index it leads; return their names.

    Every domain table has an index on ``tenant_id`` alone, many lead other indexes with it, and
    every ORM statement filters on the tenant. Without statistics SQLite rates an index's first
    column as 10 rows a value: between ``claim_id = ? AND tenant_id = ?`` it picked the tenant's
    one-column index, and between ``id IN (…) AND tenant_id = ?`` (a chunk of claims by id) the
    index on (tenant, status, received_at), since an IN list of 200 ids rated 200 rows against 10.
    With one tenant either reads the whole table, so a chunk's query cost grew with the table (an
    EOB chunk's claim headers: about 2 ms at 5,000 claims, 40 ms at 60,000). A row in
    ``sqlite_stat1`` per such index (the form ``ANALYZE`` writes, ``tenant_index_stat``) makes the
    tenant's share of an index worthless to the planner and rates the columns after it as SQLite
    would have rated them first, with few-valued columns (``FEW_VALUED_COLUMNS``) rated as such;
    other indexes keep SQLite's defaults, and a real ``ANALYZE`` later only replaces these rows with
    measured ones. Run after every upgrade, so a table or index added later gets its row too.
    Pooled connections read statistics when they open, so the pool is emptied afterwards.
    """
    with db.engine.begin() as connection:
        indexes = connection.exec_driver_sql("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'").all()
        tenant_indexes: list[tuple[str, str, str]] = []
        for name, table in indexes:
            columns = [str(row[2]) for row in connection.exec_driver_sql(f'PRAGMA index_info("{name}")')]
            if columns[:1] != ["tenant_id"]:
                continue
            unique = bool(
                connection.exec_driver_sql(
                    f'SELECT "unique" FROM pragma_index_list("{table}") WHERE name = ?', (name,)
                ).scalar()
            )
            tenant_indexes.append((str(table), str(name), tenant_index_stat(columns, unique=unique)))
        connection.exec_driver_sql("ANALYZE sqlite_master")  # creates sqlite_stat1 when missing
        known = {(str(row[0]), str(row[1])) for row in connection.exec_driver_sql("SELECT tbl, idx FROM sqlite_stat1")}
        missing = [(table, name, stat) for table, name, stat in tenant_indexes if (table, name) not in known]
        for table, name, stat in missing:
            connection.exec_driver_sql(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", (table, name, stat)
            )
        if missing:
            connection.exec_driver_sql("ANALYZE sqlite_master")  # load them on this connection
    if missing:
        db.dispose()
    return sorted(name for _, name, _ in tenant_indexes)


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def version_table_schema(db: Database) -> str | None:
    return None if db.is_sqlite else "platform"


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table_schema": version_table_schema(db)})
        return context.get_current_revision()


def is_current(db: Database) -> bool:
    return current_revision(db) == head_revision()


def target_metadata(db: Database) -> MetaData:
    """The models as the database should hold them (SQLite: the same tables without schemas)."""
    import_all_models()
    if not db.is_sqlite:
        return Base.metadata
    flat = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        # Foreign keys must drop their schema too, or they point at "provider.x" tables the flat
        # metadata does not have.
        table.to_metadata(
            flat,
            schema=None,  # type: ignore[arg-type]  # None drops the schema at run time
            referred_schema_fn=_no_schema,
        )
    return flat


def _no_schema(_table: Any, _to_schema: Any, _constraint: Any, _referred_schema: Any) -> str | None:
    # BLANK_SCHEMA (not None, which means "keep") tells SQLAlchemy to drop the referred schema.
    return cast("str | None", BLANK_SCHEMA)


def pending_model_changes(db: Database) -> list[Any]:
    """Differences between the models and the migrated database; empty when they agree.

    Two kinds of database objects are outside the ORM by design and left out of the comparison:

    * SQLite virtual tables and their shadow tables (an FTS5 index and its ``_data``/``_idx``/…
      tables), recognised by SQLite itself (``PRAGMA table_list`` types ``virtual`` and ``shadow``);
    * engine-specific columns and indexes a migration adds for one engine only (a PostgreSQL
      generated ``tsvector`` column, GIN indexes), which the owning model lists by name in its
      table's ``info["engine_only"]``.
    """
    metadata = target_metadata(db)
    with db.engine.connect() as connection:
        outside_orm = sqlite_virtual_tables(connection) if db.is_sqlite else set()
        opts: dict[str, Any] = {
            "compare_type": True,
            "target_metadata": metadata,
            "include_name": lambda name, type_, _parent: not (type_ == "table" and name in outside_orm),
        }
        if not db.is_sqlite:
            opts.update(
                include_schemas=True,
                version_table_schema="platform",
                include_name=lambda name, type_, _parent: type_ != "schema" or name in SCHEMAS,
            )
        context = MigrationContext.configure(connection, opts=opts)
        diffs = compare_metadata(context, metadata)
    engine_only = engine_only_objects(metadata)
    return [d for d in diffs if not _ignorable(d, engine_only)]


def sqlite_virtual_tables(connection: Connection) -> set[str]:
    """Names of SQLite virtual tables and the shadow tables that back them."""
    rows = connection.exec_driver_sql("PRAGMA table_list").mappings()
    return {row["name"] for row in rows if row["type"] in ("virtual", "shadow")}


def engine_only_objects(metadata: MetaData) -> set[tuple[str, str]]:
    """(table, object name) pairs that models declare as managed by migrations only."""
    return {(table.name, name) for table in metadata.tables.values() for name in table.info.get("engine_only", ())}


def _ignorable(diff: Any, engine_only: set[tuple[str, str]]) -> bool:
    if not isinstance(diff, tuple):
        return False
    kind = diff[0]
    # The alembic version table is Alembic's own.
    if kind == "remove_table" and diff[1].name == "alembic_version":
        return True
    if kind == "remove_column":  # ("remove_column", schema, table name, Column)
        return (diff[2], diff[3].name) in engine_only
    if kind == "remove_index":  # ("remove_index", Index)
        index = diff[1]
        return index.table is not None and (index.table.name, index.name) in engine_only
    return False
