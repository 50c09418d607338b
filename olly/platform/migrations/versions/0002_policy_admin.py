"""policy_admin: parties, accounts and party roles

Revision ID: 0002_policy_admin
Revises: 0001_foundation
Create Date: 2026-11-23 08:45:53.300374
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_policy_admin"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parties",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.LargeBinary(), nullable=False),
        sa.Column("given_name", sa.LargeBinary(), nullable=True),
        sa.Column("family_name", sa.LargeBinary(), nullable=True),
        sa.Column("birth_date", sa.LargeBinary(), nullable=True),
        sa.Column("ssn", sa.LargeBinary(), nullable=True),
        sa.Column("national_id_scheme", sa.String(length=16), nullable=True),
        sa.Column("address", sa.LargeBinary(), nullable=True),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("email", sa.LargeBinary(), nullable=True),
        sa.Column("ssn_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("birth_date_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("family_name_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
        schema="policy_admin",
    )
    op.create_index(
        op.f("ix_parties_birth_date_index"), "parties", ["birth_date_index"], unique=False, schema="policy_admin"
    )
    op.create_index(
        op.f("ix_parties_family_name_index"), "parties", ["family_name_index"], unique=False, schema="policy_admin"
    )
    op.create_index(op.f("ix_parties_ssn_index"), "parties", ["ssn_index"], unique=False, schema="policy_admin")
    op.create_index(op.f("ix_parties_tenant_id"), "parties", ["tenant_id"], unique=False, schema="policy_admin")
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("account_number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("billing_level", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["party_id"], ["policy_admin.parties.id"], name=op.f("fk_accounts_party_id_parties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("tenant_id", "account_number", name=op.f("uq_accounts_tenant_id_account_number")),
        schema="policy_admin",
    )
    op.create_index(op.f("ix_accounts_tenant_id"), "accounts", ["tenant_id"], unique=False, schema="policy_admin")
    op.create_table(
        "party_roles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("party_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["policy_admin.accounts.id"], name=op.f("fk_party_roles_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["policy_admin.parties.id"], name=op.f("fk_party_roles_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_roles")),
        schema="policy_admin",
    )
    op.create_index(
        op.f("ix_party_roles_account_id"), "party_roles", ["account_id"], unique=False, schema="policy_admin"
    )
    op.create_index(op.f("ix_party_roles_party_id"), "party_roles", ["party_id"], unique=False, schema="policy_admin")
    op.create_index(op.f("ix_party_roles_tenant_id"), "party_roles", ["tenant_id"], unique=False, schema="policy_admin")


def downgrade() -> None:
    op.drop_index(op.f("ix_party_roles_tenant_id"), table_name="party_roles", schema="policy_admin")
    op.drop_index(op.f("ix_party_roles_party_id"), table_name="party_roles", schema="policy_admin")
    op.drop_index(op.f("ix_party_roles_account_id"), table_name="party_roles", schema="policy_admin")
    op.drop_table("party_roles", schema="policy_admin")
    op.drop_index(op.f("ix_accounts_tenant_id"), table_name="accounts", schema="policy_admin")
    op.drop_table("accounts", schema="policy_admin")
    op.drop_index(op.f("ix_parties_tenant_id"), table_name="parties", schema="policy_admin")
    op.drop_index(op.f("ix_parties_ssn_index"), table_name="parties", schema="policy_admin")
    op.drop_index(op.f("ix_parties_family_name_index"), table_name="parties", schema="policy_admin")
    op.drop_index(op.f("ix_parties_birth_date_index"), table_name="parties", schema="policy_admin")
    op.drop_table("parties", schema="policy_admin")
