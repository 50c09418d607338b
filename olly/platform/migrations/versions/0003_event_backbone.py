"""Event backbone: the outbox (the embedded log), consumer offsets and leases, processed event ids.

Revision ID: 0003_event_backbone
Revises: 0004_plans
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from olly.platform.db import UtcDateTime

revision: str = "0003_event_backbone"
down_revision: str | None = "0004_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bus_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("causation_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("log_offset", sa.BigInteger(), nullable=True),
        sa.Column("relayed_at", UtcDateTime(), nullable=True),
        sa.Column("redrive_group", sa.String(200), nullable=True),
        sa.Column("redriven_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bus_outbox")),
        schema="platform",
    )
    op.create_index(op.f("ix_bus_outbox_event_id"), "bus_outbox", ["event_id"], schema="platform")
    op.create_index(op.f("ix_bus_outbox_correlation_id"), "bus_outbox", ["correlation_id"], schema="platform")
    op.create_index(
        "uq_bus_outbox_position", "bus_outbox", ["topic", "partition", "log_offset"], unique=True, schema="platform"
    )
    op.create_index(
        "ix_bus_outbox_pending",
        "bus_outbox",
        ["id"],
        schema="platform",
        sqlite_where=sa.text("relayed_at IS NULL"),
        postgresql_where=sa.text("relayed_at IS NULL"),
    )
    op.create_index("ix_bus_outbox_topic_created", "bus_outbox", ["topic", "created_at"], schema="platform")

    op.create_table(
        "bus_consumer_partitions",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("committed_offset", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(100), nullable=True),
        sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "topic", "partition", name=op.f("pk_bus_consumer_partitions")),
        schema="platform",
    )
    op.create_table(
        "bus_group_members",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("member_id", sa.String(100), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "member_id", name=op.f("pk_bus_group_members")),
        schema="platform",
    )
    op.create_table(
        "bus_processed_events",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name=op.f("pk_bus_processed_events")),
        schema="platform",
    )
    op.create_index(
        op.f("ix_bus_processed_events_correlation_id"), "bus_processed_events", ["correlation_id"], schema="platform"
    )
    op.create_index(
        op.f("ix_bus_processed_events_processed_at"), "bus_processed_events", ["processed_at"], schema="platform"
    )
    op.create_table(
        "bus_leases",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bus_leases")),
        schema="platform",
    )


def downgrade() -> None:
    op.drop_table("bus_leases", schema="platform")
    op.drop_index(op.f("ix_bus_processed_events_processed_at"), table_name="bus_processed_events", schema="platform")
    op.drop_index(op.f("ix_bus_processed_events_correlation_id"), table_name="bus_processed_events", schema="platform")
    op.drop_table("bus_processed_events", schema="platform")
    op.drop_table("bus_group_members", schema="platform")
    op.drop_table("bus_consumer_partitions", schema="platform")
    op.drop_index("ix_bus_outbox_topic_created", table_name="bus_outbox", schema="platform")
    op.drop_index("ix_bus_outbox_pending", table_name="bus_outbox", schema="platform")
    op.drop_index("uq_bus_outbox_position", table_name="bus_outbox", schema="platform")
    op.drop_index(op.f("ix_bus_outbox_correlation_id"), table_name="bus_outbox", schema="platform")
    op.drop_index(op.f("ix_bus_outbox_event_id"), table_name="bus_outbox", schema="platform")
    op.drop_table("bus_outbox", schema="platform")
