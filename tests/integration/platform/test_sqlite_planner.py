"""SQLite is told that the ``tenant_id`` indexes narrow nothing, so a query by another indexed
column uses that column's index (not a scan of the tenant's whole table)."""

import uuid

from sqlalchemy import event

from olly.claims.repository import ClaimsRepository
from olly.platform import migrate
from olly.platform.runtime import Platform


def _plan(platform: Platform, action) -> list[str]:  # type: ignore[no-untyped-def]
    """The query plan of each SELECT ``action`` runs, as SQLite explains it."""
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(platform.db.engine, "before_cursor_execute", capture)
    try:
        with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
            action(uow)
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", capture)
    plans = []
    with platform.db.engine.connect() as connection:
        for statement, parameters in statements:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()  # type: ignore[arg-type]
            plans.extend(str(row[3]) for row in rows)
    return plans


def test_every_one_column_tenant_index_is_described_as_unselective(sqlite_platform: Platform) -> None:
    with sqlite_platform.db.engine.connect() as connection:
        stats = dict(connection.exec_driver_sql("SELECT idx, stat FROM sqlite_stat1").all())
    names = migrate.describe_tenant_indexes(sqlite_platform.db)
    assert "ix_claim_adjudications_tenant_id" in names
    assert "ix_claim_lines_tenant_id" in names
    assert "ix_claims_member" not in names  # (tenant_id, member_id, status) keeps SQLite's defaults
    assert {name: stats.get(name) for name in names} == dict.fromkeys(names, "1000000 1000000")


def test_a_claims_current_result_is_read_through_the_claim_index(sqlite_platform: Platform) -> None:
    plans = _plan(sqlite_platform, lambda uow: ClaimsRepository(uow).current_result(uuid.uuid4()))
    assert plans == ["SEARCH main.claim_adjudications USING INDEX ix_claim_adjudications_claim_id (claim_id=?)"]


def test_a_chunk_of_claim_lines_is_read_through_the_claim_and_line_index(sqlite_platform: Platform) -> None:
    plans = _plan(sqlite_platform, lambda uow: ClaimsRepository(uow).lines_of([uuid.uuid4(), uuid.uuid4()]))
    assert plans == ["SEARCH main.claim_lines USING INDEX sqlite_autoindex_claim_lines_2 (claim_id=?)"]


def test_describing_again_writes_nothing_new(sqlite_platform: Platform) -> None:
    migrate.upgrade(sqlite_platform.db)
    with sqlite_platform.db.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT tbl, idx, stat FROM sqlite_stat1").all()
    assert len(rows) == len({(tbl, idx) for tbl, idx, _ in rows})
    assert len(rows) == len(migrate.describe_tenant_indexes(sqlite_platform.db))
