"""edi: raw X12 files are deleted past their retention; the file's record says when

Revision ID: 0035_edi_file_retention
Revises: 0034_claim_recovery_applications
Create Date: 2026-11-25 00:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035_edi_file_retention"
down_revision: str | None = "0034_claim_recovery_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "edi"


def upgrade() -> None:
    with op.batch_alter_table("edi_files", schema=_schema()) as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("edi_files", schema=_schema()) as batch:
        batch.drop_column("purged_at")
