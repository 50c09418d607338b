"""Alembic environment: runs against the ``Database`` handed in by ``olly.platform.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from olly.config import get_settings
from olly.platform.db import SCHEMAS, Database
from olly.platform.migrate import target_metadata

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
    )
    with context.begin_transaction():
        context.run_migrations()
