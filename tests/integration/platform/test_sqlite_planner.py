"""SQLite is told that ``tenant_id`` narrows nothing in the indexes it leads, so a query by another
indexed column uses that column's index (not a scan of the tenant's whole table)."""

import uuid
from datetime import date

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


def test_every_tenant_index_is_described_with_the_tenant_narrowing_nothing(sqlite_platform: Platform) -> None:
    with sqlite_platform.db.engine.connect() as connection:
        stats = dict(connection.exec_driver_sql("SELECT idx, stat FROM sqlite_stat1").all())
    names = migrate.describe_tenant_indexes(sqlite_platform.db)
    assert stats["ix_claim_adjudications_tenant_id"] == "1000000 1000000"
    assert stats["ix_claim_lines_tenant_id"] == "1000000 1000000"
    # (tenant_id, member_id, status): the member as SQLite rates a first column, the status no narrower
    assert stats["ix_claims_member"] == "1000000 1000000 10 10"
    # (tenant_id, status, received_at) and (tenant_id, billing_npi): few-valued columns
    assert stats["ix_claims_status"] == "1000000 1000000 100000 9"
    assert stats["ix_claims_billing_npi"] == "1000000 1000000 100000"
    # a unique key: (tenant_id, claim_id, part)
    assert stats["sqlite_autoindex_claim_payables_2"] == "1000000 1000000 10 1"
    assert all(stats[name].startswith("1000000 1000000") for name in names)
    assert {"ix_claims_member", "ix_claims_status", "ix_claims_billing_npi"} <= set(names)


def test_the_stat_figures_of_a_tenant_index() -> None:
    assert migrate.tenant_index_stat(["tenant_id"], unique=False) == "1000000 1000000"
    assert migrate.tenant_index_stat(["tenant_id", "a", "b", "c"], unique=False) == "1000000 1000000 10 9 8"
    assert migrate.tenant_index_stat(["tenant_id", "scope", "key"], unique=True) == "1000000 1000000 100000 1"
    assert migrate.tenant_index_stat(["tenant_id", "a", "b", "c", "d", "e", "f", "g"], unique=False) == (
        "1000000 1000000 10 9 8 7 6 5 5"
    )


def test_a_chunk_of_claims_by_id_is_read_through_the_primary_key(sqlite_platform: Platform) -> None:
    ids = [uuid.uuid4() for _ in range(200)]
    plans = _plan(sqlite_platform, lambda uow: ClaimsRepository(uow).chunk_claim_headers(ids))
    assert plans == ["SEARCH main.claims USING INDEX sqlite_autoindex_claims_1 (id=?)"]
    plans = _plan(sqlite_platform, lambda uow: ClaimsRepository(uow).payee_facts(ids))
    assert plans == ["SEARCH main.claims USING INDEX sqlite_autoindex_claims_1 (id=?)"]
    plans = _plan(sqlite_platform, lambda uow: list(ClaimsRepository(uow).remittance_reads([(i, None) for i in ids])))
    assert plans == ["SEARCH main.claims USING INDEX sqlite_autoindex_claims_1 (id=?)"]  # the 835's


def test_the_duplicate_history_of_a_chunk_is_read_by_member_not_by_provider(sqlite_platform: Platform) -> None:
    """One billing NPI may hold most of the table (a hospital): the NPI index would read it all."""
    windows = {(uuid.uuid4(), "1234567893"): (date(2026, 1, 1), date(2026, 1, 2)) for _ in range(50)}
    plans = _plan(sqlite_platform, lambda uow: ClaimsRepository(uow).chunk_final_claims_meeting(windows))
    assert plans == ["SEARCH main.claims USING INDEX ix_claims_member (tenant_id=? AND member_id=?)"]
    plans = _plan(
        sqlite_platform,
        lambda uow: ClaimsRepository(uow).history_claims(
            uuid.uuid4(), "1234567893", date(2026, 1, 1), date(2026, 1, 2), [uuid.uuid4()]
        ),
    )
    assert plans == ["SEARCH main.claims USING INDEX ix_claims_member (tenant_id=? AND member_id=? AND status=?)"]


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
