"""claims gaps: members' birth dates and declared conditions in claims' coverage read model; the ICD-10-CM
codes of an underwriting flag

Revision ID: 0020_claims_gaps
Revises: 0015_edi_gateway
Create Date: 2026-11-23 19:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_claims_gaps"
down_revision: str | None = "0015_edi_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema(name: str) -> str | None:
    # SQLite keeps every domain in one database: its tables carry no schema.
    return None if op.get_bind().dialect.name == "sqlite" else name


def upgrade() -> None:
    claims, enrollment = _schema("claims"), _schema("enrollment")
    op.add_column("claim_coverages", sa.Column("birth_date", sa.LargeBinary(), nullable=True), schema=claims)
    op.add_column("claim_coverages", sa.Column("pre_existing", sa.LargeBinary(), nullable=True), schema=claims)
    op.add_column(
        "underwriting_flags", sa.Column("diagnosis_codes", sa.LargeBinary(), nullable=True), schema=enrollment
    )


def downgrade() -> None:
    with op.batch_alter_table("underwriting_flags", schema=_schema("enrollment")) as batch:
        batch.drop_column("diagnosis_codes")
    with op.batch_alter_table("claim_coverages", schema=_schema("claims")) as batch:
        batch.drop_column("pre_existing")
        batch.drop_column("birth_date")
