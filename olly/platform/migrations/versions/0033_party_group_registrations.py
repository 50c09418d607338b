"""policy_admin: the people an employer group's administrator registered, whom that group may enrol

Revision ID: 0033_party_group_registrations
Revises: 0032_object_packs
Create Date: 2026-11-24 22:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_party_group_registrations"
down_revision: str | None = "0032_object_packs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "party_group_registrations",
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("group_account_id", sa.Uuid(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["policy_admin.parties.id"],
            name=op.f("fk_party_group_registrations_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["group_account_id"],
            ["policy_admin.accounts.id"],
            name=op.f("fk_party_group_registrations_group_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("party_id", "group_account_id", name=op.f("pk_party_group_registrations")),
        schema="policy_admin",
    )
    op.create_index(
        op.f("ix_party_group_registrations_tenant_id"),
        "party_group_registrations",
        ["tenant_id"],
        unique=False,
        schema="policy_admin",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_party_group_registrations_tenant_id"), table_name="party_group_registrations", schema="policy_admin"
    )
    op.drop_table("party_group_registrations", schema="policy_admin")
