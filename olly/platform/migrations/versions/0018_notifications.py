"""notifications: the member's in-app inbox

Revision ID: 0018_notifications
Revises: 0019_edi_more
Create Date: 2026-11-23 19:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_notifications"
down_revision: str | None = "0019_edi_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("parameters", sa.LargeBinary(), nullable=True),
        sa.Column("link", sa.String(length=200), nullable=True),
        sa.Column("source_topic", sa.String(length=100), nullable=False),
        sa.Column("source_event_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "tenant_id",
            "source_event_id",
            "party_id",
            name=op.f("uq_notifications_tenant_id_source_event_id_party_id"),
        ),
        schema="notifications",
    )
    op.create_index(
        "ix_notifications_inbox",
        "notifications",
        ["tenant_id", "party_id", "created_at"],
        unique=False,
        schema="notifications",
    )
    op.create_index(
        op.f("ix_notifications_tenant_id"),
        "notifications",
        ["tenant_id"],
        unique=False,
        schema="notifications",
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notifications_tenant_id"), table_name="notifications", schema="notifications")
    op.drop_index("ix_notifications_inbox", table_name="notifications", schema="notifications")
    op.drop_table("notifications", schema="notifications")
