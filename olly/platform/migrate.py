"""Alembic, driven from code: one history for both engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import BLANK_SCHEMA, MetaData

from olly.platform.db import SCHEMAS, Base, Database, import_all_models

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database"] = db
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(db), revision)


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
        # None drops the schema at run time, of the table and of the tables its foreign keys name.
        table.to_metadata(flat, schema=None, referred_schema_fn=_no_schema)  # type: ignore[arg-type]
    return flat


def _no_schema(_table: Any, _to_schema: Any, _constraint: Any, _referred_schema: Any) -> Any:
    return BLANK_SCHEMA


def pending_model_changes(db: Database) -> list[Any]:
    """Differences between the models and the migrated database; empty when they agree."""
    metadata = target_metadata(db)
    with db.engine.connect() as connection:
        opts: dict[str, Any] = {"compare_type": True, "target_metadata": metadata}
        if not db.is_sqlite:
            opts.update(
                include_schemas=True,
                version_table_schema="platform",
                include_name=lambda name, type_, _parent: type_ != "schema" or name in SCHEMAS,
            )
        context = MigrationContext.configure(connection, opts=opts)
        diffs = compare_metadata(context, metadata)
    return [d for d in diffs if not _ignorable(d)]


def _ignorable(diff: Any) -> bool:
    # The alembic version table is Alembic's own.
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"
