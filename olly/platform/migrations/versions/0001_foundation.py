"""Foundation: tenants, PHI data keys and the append-only audit trail.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from olly.config import DEFAULT_TENANT_ID
from olly.platform.db import UtcDateTime

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_CHAINS = 64  # head rows for every chain an installation may configure (OLLY_AUDIT_CHAINS ≤ 64)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
        schema="platform",
    )
    op.create_table(
        "data_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("master_key_id", sa.String(40), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("rewrapped_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_keys")),
        schema="platform",
    )
    op.create_index(op.f("ix_data_keys_tenant_id"), "data_keys", ["tenant_id"], schema="platform")
    op.create_index(
        "uq_data_keys_one_active",
        "data_keys",
        ["tenant_id", "purpose"],
        unique=True,
        schema="platform",
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_audit_events_chain_seq")),
        schema="platform",
    )
    for column in ("tenant_id", "occurred_at", "resource_id", "request_id"):
        op.create_index(op.f(f"ix_audit_events_{column}"), "audit_events", [column], schema="platform")
    op.create_table(
        "audit_chain_heads",
        sa.Column("chain", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain_heads")),
        schema="platform",
    )

    # Full Table objects (not sa.table) so SQLite's schema-translate map applies to the inserts.
    heads = sa.Table(
        "audit_chain_heads",
        sa.MetaData(),
        sa.Column("chain", sa.Integer()),
        sa.Column("seq", sa.BigInteger()),
        sa.Column("hash", sa.String()),
        schema="platform",
    )
    op.bulk_insert(heads, [{"chain": c, "seq": 0, "hash": "0" * 64} for c in range(AUDIT_CHAINS)])
    tenants = sa.Table(
        "tenants",
        sa.MetaData(),
        sa.Column("id", sa.Uuid()),
        sa.Column("slug", sa.String()),
        sa.Column("name", sa.String()),
        sa.Column("created_at", UtcDateTime()),
        schema="platform",
    )
    op.bulk_insert(
        tenants,
        [{"id": DEFAULT_TENANT_ID, "slug": "default", "name": "Default", "created_at": datetime.now(UTC)}],
    )

    # The audit trail is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
            )
    else:
        op.execute(
            """
            CREATE FUNCTION platform.refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON platform.audit_events "
            "FOR EACH ROW EXECUTE FUNCTION platform.refuse_audit_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON platform.audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION platform.refuse_audit_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON platform.audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON platform.audit_events")
        op.execute("DROP FUNCTION IF EXISTS platform.refuse_audit_change()")
    op.drop_table("audit_chain_heads", schema="platform")
    op.drop_table("audit_events", schema="platform")
    op.drop_index("uq_data_keys_one_active", table_name="data_keys", schema="platform")
    op.drop_index(op.f("ix_data_keys_tenant_id"), table_name="data_keys", schema="platform")
    op.drop_table("data_keys", schema="platform")
    op.drop_table("tenants", schema="platform")
