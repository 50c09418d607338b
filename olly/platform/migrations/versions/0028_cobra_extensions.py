"""enrollment: COBRA extensions and early ends on the beneficiary's case (disability, second
qualifying event, the employee's Medicare entitlement, other group cover) and the printed notice's key

Revision ID: 0028_cobra_extensions
Revises: 0027_claim_readjudication
Create Date: 2026-11-24 00:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_cobra_extensions"
down_revision: str | None = "0027_claim_readjudication"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("extension", sa.String(length=24)),
    ("premium_increase_from", sa.Date()),
    ("disability", sa.LargeBinary()),
    ("second_event", sa.String(length=32)),
    ("second_event_date", sa.Date()),
    ("medicare_entitlement_date", sa.Date()),
    ("ended_on", sa.Date()),
    ("end_reason", sa.String(length=32)),
    ("notice_object_key", sa.String(length=200)),
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
