"""platform: where each packed object lives (objects put together in one transaction are written as
one pack object; see ``olly/platform/objectstore.py``)

Revision ID: 0032_object_packs
Revises: 0031_cobra_report_deadlines
Create Date: 2026-11-24 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_object_packs"
down_revision: str | None = "0031_cobra_report_deadlines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "object_pack_entries",
        sa.Column("object_key", sa.String(120), nullable=False),
        sa.Column("pack_key", sa.String(120), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("object_key", name=op.f("pk_object_pack_entries")),
        schema="platform",
    )
    op.create_index(op.f("ix_object_pack_entries_pack_key"), "object_pack_entries", ["pack_key"], schema="platform")


def downgrade() -> None:
    op.drop_index(op.f("ix_object_pack_entries_pack_key"), table_name="object_pack_entries", schema="platform")
    op.drop_table("object_pack_entries", schema="platform")
