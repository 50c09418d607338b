"""provider: a credentialing document's uploaded bytes (the object-store key of the encrypted file;
null for a document recorded by its metadata only)

Revision ID: 0030_credentialing_doc_files
Revises: 0029_cobra_notice_deadlines
Create Date: 2026-11-24 01:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# (alembic_version holds at most 32 characters: the id is shorter than the file name)
revision: str = "0030_credentialing_doc_files"
down_revision: str | None = "0029_cobra_notice_deadlines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "provider"


def upgrade() -> None:
    with op.batch_alter_table("credentialing_documents", schema=_schema()) as batch:
        batch.add_column(sa.Column("object_key", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentialing_documents", schema=_schema()) as batch:
        batch.drop_column("object_key")
