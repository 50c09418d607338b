"""provider directory search: no parallel scans of the directory on PostgreSQL

Directory searches are short index-driven queries: starting parallel workers costs more than it
saves. The search used to say so with ``SET LOCAL max_parallel_workers_per_gather = 0`` in every
transaction (one more round trip per search); the table's ``parallel_workers`` storage parameter
says it once. SQLite has no such setting: nothing to do there.

Revision ID: 0017_provider_search
Revises: 0016_reinstatement
Create Date: 2026-11-23 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017_provider_search"
down_revision: str | None = "0016_reinstatement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE provider.provider_directory_entries SET (parallel_workers = 0)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE provider.provider_directory_entries RESET (parallel_workers)")
