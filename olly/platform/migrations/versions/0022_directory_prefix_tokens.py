"""provider directory: word prefixes indexed as tokens on PostgreSQL

A worded directory search matches its last word as a prefix ("cardio" finds "cardiovascular").
As a ``'cardio':*`` tsquery that is a GIN *partial match*: the index collects the postings of every
lexeme starting with the prefix into a bitmap before it can intersect them with the other words and
the place (8 ms for a common stem like ``medicin:*`` over 100,000 listings). Here the name and
search vectors also carry every prefix of every lexeme, marked with a trailing ``*``
(``cardiovascular`` brings ``c*``, ``ca*`` … ``cardiovascular*``), so the last word becomes one
exact token and the index intersects posting lists as it does for whole words.

``provider.directory_prefix_query(word)`` turns a word into that token the way ``to_tsquery``
would have stemmed the prefix (``cardiology`` → ``cardiolog*``; a stop word gives an empty query,
which ``&&`` drops, exactly as ``to_tsquery`` drops it from ``'… & the:*'``). Prefixes start at
one letter because the english stemmer can shorten a three-letter word that far.

The vectors are generated columns, so re-adding them fills every existing listing; PostgreSQL 15
cannot change a generated column's expression in place. SQLite's FTS5 table already has prefix
indexes: nothing to do there.

Revision ID: 0022_directory_prefix_tokens
Revises: 0021_claims_view_revisions
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022_directory_prefix_tokens"
down_revision: str | None = "0021_claims_view_revisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "provider.provider_directory_entries"
_TEXT = (
    "coalesce(display_name, '') || ' ' || coalesce(specialties, '') || ' ' || coalesce(taxonomy_text, '')"
    " || ' ' || coalesce(organisation_names, '')"
)
_NAMES = "to_tsvector('english'::regconfig, coalesce(display_name, ''))"
_SEARCH = f"to_tsvector('english'::regconfig, {_TEXT})"


def _rebuild(name_vector: str, search_vector: str) -> None:
    op.execute("DROP INDEX provider.ix_provider_directory_entries_search")
    op.execute(f"ALTER TABLE {_TABLE} DROP COLUMN name_vector, DROP COLUMN search_vector")
    op.execute(
        f"ALTER TABLE {_TABLE} "
        f"ADD COLUMN name_vector tsvector GENERATED ALWAYS AS ({name_vector}) STORED, "
        f"ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({search_vector}) STORED"
    )
    op.execute(
        "CREATE INDEX ix_provider_directory_entries_search "
        f"ON {_TABLE} USING gin (name_vector, search_vector, facet_vector)"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(
        "CREATE FUNCTION provider.directory_with_prefixes(vector tsvector) RETURNS tsvector "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT vector || array_to_tsvector(ARRAY("
        "SELECT left(lexeme, n) || '*' FROM unnest(tsvector_to_array(vector)) AS lexeme, "
        "generate_series(1, length(lexeme)) AS n)) $$"
    )
    # to_tsquery stems the prefix and marks it (text form 'cardiolog':*); the same lexeme with the
    # marker moved inside the quotes is the exact token the vectors carry.
    op.execute(
        "CREATE FUNCTION provider.directory_prefix_query(word text) RETURNS tsquery "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT replace(to_tsquery('english'::regconfig, word || ':*')::text, ''':*', '*''')::tsquery $$"
    )
    _rebuild(f"provider.directory_with_prefixes({_NAMES})", f"provider.directory_with_prefixes({_SEARCH})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _rebuild(_NAMES, _SEARCH)
    op.execute("DROP FUNCTION provider.directory_prefix_query(text)")
    op.execute("DROP FUNCTION provider.directory_with_prefixes(tsvector)")
