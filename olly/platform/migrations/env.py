"""Alembic environment: runs against the ``Database`` handed in by ``olly.platform.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from olly.config import get_settings
from olly.platform.crypto import PHIType
from olly.platform.db import SCHEMAS, Database, UtcDateTime
from olly.platform.migrate import target_metadata


def render_item(type_: str, obj: object, _autogen_context: object) -> str | bool:
    """Migrations spell Olly's column types as the plain types they store, so old migrations never
    depend on application code that may change."""
    if type_ == "type" and isinstance(obj, PHIType):
        return "sa.LargeBinary()"
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


config = context.config
db: Database = config.attributes.get("database") or Database(get_settings())

with db.engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if not sqlite:
        for schema in SCHEMAS:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata(db),
        version_table_schema=None if sqlite else "platform",
        include_schemas=not sqlite,
        render_as_batch=sqlite,
        compare_type=True,
        transaction_per_migration=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
