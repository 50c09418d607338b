"""enrollment: COBRA cases (one qualified beneficiary's election opportunity and its outcome)

Revision ID: 0026_cobra_cases
Revises: 0025_payee_npi
Create Date: 2026-11-23 23:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_cobra_cases"
down_revision: str | None = "0025_payee_npi"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cobra_cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_policy_id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("relationship", sa.String(length=24), nullable=False),
        sa.Column("qualifying_event", sa.String(length=32), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("loss_date", sa.Date(), nullable=False),
        sa.Column("notice_date", sa.Date(), nullable=False),
        sa.Column("election_deadline", sa.Date(), nullable=False),
        sa.Column("continuation_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cobra_policy_id", sa.Uuid(), nullable=True),
        sa.Column("elected_on", sa.Date(), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_policy_id"],
            ["enrollment.policies.id"],
            name=op.f("fk_cobra_cases_group_policy_id_policies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cobra_cases")),
        schema="enrollment",
    )
    for column in ("group_policy_id", "party_id", "tenant_id"):
        op.create_index(op.f(f"ix_cobra_cases_{column}"), "cobra_cases", [column], unique=False, schema="enrollment")


def downgrade() -> None:
    for column in ("tenant_id", "party_id", "group_policy_id"):
        op.drop_index(op.f(f"ix_cobra_cases_{column}"), table_name="cobra_cases", schema="enrollment")
    op.drop_table("cobra_cases", schema="enrollment")
