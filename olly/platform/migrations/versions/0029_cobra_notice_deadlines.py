"""enrollment: the election notice's deadlines on the COBRA case (when the employer told the
administrator, when the notice was due, and who was late)

Revision ID: 0029_cobra_notice_deadlines
Revises: 0028_cobra_extensions
Create Date: 2026-11-24 01:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_cobra_notice_deadlines"
down_revision: str | None = "0028_cobra_extensions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("employer_notified_on", sa.Date()),
    ("notice_due", sa.Date()),
    ("is_notice_late", sa.Boolean()),
    ("is_employer_notice_late", sa.Boolean()),
)


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "enrollment"


def upgrade() -> None:
    with op.batch_alter_table("cobra_cases", schema=_schema()) as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cobra_cases", schema=_schema()) as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
