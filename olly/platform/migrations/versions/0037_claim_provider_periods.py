"""claims: a provider's copy holds every contract period (a renewal signed ahead and the contract in
effect today), not only the contract of the last event

Revision ID: 0037_claim_provider_periods
Revises: 0036_underwriting_withdrawal
Create Date: 2026-11-25 02:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_claim_provider_periods"
down_revision: str | None = "0036_underwriting_withdrawal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "claims"


def upgrade() -> None:
    # Rows copied before stay without periods (read as before) until the provider's next event or
    # `olly claims backfill-providers` copies them again.
    with op.batch_alter_table("claim_providers", schema=_schema()) as batch:
        batch.add_column(sa.Column("periods", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("claim_providers", schema=_schema()) as batch:
        batch.drop_column("periods")
