"""claims: the lines an overturned appeal allows (None: every line of the claim)

Revision ID: 0039_appeal_allowed_lines
Revises: 0038_claim_appeal_waivers
Create Date: 2026-11-25 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039_appeal_allowed_lines"
down_revision: str | None = "0038_claim_appeal_waivers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "claims"


def upgrade() -> None:
    # Appeals decided before allowed every line of their claim, as the column's None reads.
    with op.batch_alter_table("appeals", schema=_schema()) as batch:
        batch.add_column(sa.Column("allowed_lines", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appeals", schema=_schema()) as batch:
        batch.drop_column("allowed_lines")
