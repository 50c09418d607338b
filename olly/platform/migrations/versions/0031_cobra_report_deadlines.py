"""enrollment: the beneficiaries' report deadlines on the COBRA case (the last day a disability
determination may be told, and the deadline a second qualifying event was told against)

Revision ID: 0031_cobra_report_deadlines
Revises: 0030_credentialing_doc_files
Create Date: 2026-11-24 04:00:00.000000
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0031_cobra_report_deadlines"
down_revision: str | None = "0030_credentialing_doc_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("disability_notice_by", sa.Date()),
    ("second_event_notice_deadline", sa.Date()),
)
#: The events a disability can extend (18 months of continuation).
EIGHTEEN_MONTH_EVENTS = ("TERMINATION", "REDUCED_HOURS")


def _schema() -> str | None:
    """SQLite keeps every domain in one database: its tables carry no schema name."""
    return None if op.get_bind().dialect.name == "sqlite" else "enrollment"


def _eighteen_months_end(loss: date) -> date:
    """The day before the same day 18 months on (clamped to the month's end), as the rules count."""
    months = loss.month - 1 + 18
    year, month = loss.year + months // 12, months % 12 + 1
    day = min(loss.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


def upgrade() -> None:
    with op.batch_alter_table("cobra_cases", schema=_schema()) as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    cases = sa.table(
        "cobra_cases",
        sa.column("id", sa.Uuid()),
        sa.column("qualifying_event", sa.String()),
        sa.column("loss_date", sa.Date()),
        sa.column("second_event_date", sa.Date()),
        sa.column("disability_notice_by", sa.Date()),
        sa.column("second_event_notice_deadline", sa.Date()),
        schema=_schema(),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(cases.c.id, cases.c.qualifying_event, cases.c.loss_date, cases.c.second_event_date))
    for case_id, event, loss, second_event_date in rows.all():
        bind.execute(
            cases.update()
            .where(cases.c.id == case_id)
            .values(
                disability_notice_by=_eighteen_months_end(loss) if event in EIGHTEEN_MONTH_EVENTS else None,
                second_event_notice_deadline=(
                    second_event_date + timedelta(days=60) if second_event_date is not None else None
                ),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("cobra_cases", schema=_schema()) as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
