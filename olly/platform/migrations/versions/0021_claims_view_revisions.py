"""claims: a revision counter on the schedule and provider read models (parsed copies are cached by it)

Revision ID: 0021_claims_view_revisions
Revises: 0020_claims_gaps
Create Date: 2026-11-23 22:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_claims_view_revisions"
down_revision: str | None = "0020_claims_gaps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("claim_benefit_schedules", "claim_providers")


def _schema(name: str) -> str | None:
    # SQLite keeps every domain in one database: its tables carry no schema.
    return None if op.get_bind().dialect.name == "sqlite" else name


def upgrade() -> None:
    claims = _schema("claims")
    for table in TABLES:
        with op.batch_alter_table(table, schema=claims) as batch:
            batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        with op.batch_alter_table(table, schema=claims) as batch:
            batch.alter_column("revision", server_default=None)


def downgrade() -> None:
    claims = _schema("claims")
    for table in TABLES:
        with op.batch_alter_table(table, schema=claims) as batch:
            batch.drop_column("revision")
