"""enrollment: an underwriting finding can be withdrawn; it stays on record with when and why

Revision ID: 0036_underwriting_withdrawal
Revises: 0035_edi_file_retention
Create Date: 2026-11-25 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036_underwriting_withdrawal"
down_revision: str | None = "0035_edi_file_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "enrollment"


def upgrade() -> None:
    with op.batch_alter_table("underwriting_flags", schema=_schema()) as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawal_reason", sa.String(length=24), nullable=True))
        # The note is sealed PHI (the ORM stores the ciphertext), like the finding's own detail.
        batch.add_column(sa.Column("withdrawal_note", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("underwriting_flags", schema=_schema()) as batch:
        batch.drop_column("withdrawal_note")
        batch.drop_column("withdrawal_reason")
        batch.drop_column("withdrawn_at")
