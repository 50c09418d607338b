"""policy_admin: a person's administrative gender (sealed like the other demographics)

Revision ID: 0024_party_gender
Revises: 0023_edi_834_audit
Create Date: 2026-11-23 23:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_party_gender"
down_revision: str | None = "0023_edi_834_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "policy_admin"


def upgrade() -> None:
    with op.batch_alter_table("parties", schema=_schema()) as batch:
        batch.add_column(sa.Column("gender", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("parties", schema=_schema()) as batch:
        batch.drop_column("gender")
