"""claims gaps: members' birth dates and declared conditions in claims' coverage read model; the ICD-10-CM
codes of an underwriting flag; billing's recoveries of voided or replaced claims' payments

Revision ID: 0020_claims_gaps
Revises: 0018_notifications
Create Date: 2026-11-23 19:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_claims_gaps"
down_revision: str | None = "0018_notifications"
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
    billing = _schema("billing")
    op.create_table(
        "claim_recoveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("reversing_claim_id", sa.Uuid(), nullable=False),
        sa.Column("payee", sa.String(length=8), nullable=False),
        sa.Column("payee_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("remaining_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_payment_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_recoveries")),
        sa.UniqueConstraint("tenant_id", "claim_id", name=op.f("uq_claim_recoveries_tenant_id_claim_id")),
        schema=billing,
    )
    op.create_index(op.f("ix_claim_recoveries_status"), "claim_recoveries", ["status"], unique=False, schema=billing)
    op.create_index(
        op.f("ix_claim_recoveries_tenant_id"), "claim_recoveries", ["tenant_id"], unique=False, schema=billing
    )


def downgrade() -> None:
    billing = _schema("billing")
    op.drop_index(op.f("ix_claim_recoveries_tenant_id"), table_name="claim_recoveries", schema=billing)
    op.drop_index(op.f("ix_claim_recoveries_status"), table_name="claim_recoveries", schema=billing)
    op.drop_table("claim_recoveries", schema=billing)
    with op.batch_alter_table("underwriting_flags", schema=_schema("enrollment")) as batch:
        batch.drop_column("diagnosis_codes")
    with op.batch_alter_table("claim_coverages", schema=_schema("claims")) as batch:
        batch.drop_column("pre_existing")
        batch.drop_column("birth_date")
