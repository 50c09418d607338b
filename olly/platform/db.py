"""Engines, the unit of work and tenant isolation, for SQLite (embedded default) and PostgreSQL.

* Every domain owns a PostgreSQL schema named after it. SQLite has no schemas, so the same models
  run there through a schema-translate map onto the main database; table names are therefore
  unique across domains (a test enforces it).
* The unit of work opens at the boundary (request, consumer message, CLI command) for one tenant
  and commits once. Services never commit: a ``before_commit`` guard refuses any other commit.
* Tenant isolation is automatic: every ORM SELECT/UPDATE/DELETE gets ``tenant_id = :tenant`` for
  each ``TenantScoped`` entity, and a flush refuses rows of another tenant.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, Select, Table, create_engine, event, text
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeDecorator, Uuid

from olly.config import Settings
from olly.kernel.clock import Clock, SystemClock
from olly.kernel.errors import ConfigurationError, TenantViolation
from olly.kernel.events import EventPayload, OutgoingEvent
from olly.kernel.ids import uuid7
from olly.platform import jsonfast
from olly.platform.eventloop import refuse_on_event_loop

#: Writes a unit of work's pending events into the outbox, inside its transaction, just before commit.
OutboxWriter = Callable[["UnitOfWork", list[OutgoingEvent]], None]

#: One PostgreSQL schema per bounded context; every table names one of these.
SCHEMAS: Final[tuple[str, ...]] = (
    "platform",
    "identity",
    "policy_admin",
    "plans",
    "enrollment",
    "eligibility",
    "claims",
    "billing",
    "provider",
    "consent",
    "notifications",
    "edi",
)

#: Modules holding mapped tables; importing them registers the tables on ``Base.metadata``.
#: Domain packages add their ``models`` module here when they arrive.
MODEL_MODULES: Final[tuple[str, ...]] = (
    "olly.platform.tenancy",
    "olly.platform.crypto",
    "olly.platform.audit",
    "olly.platform.objectstore",
    "olly.policy_admin.models",
    "olly.enrollment.models",
    "olly.eligibility.models",
    "olly.platform.bus.models",
    "olly.platform.auth.models",
    "olly.provider.models",
    "olly.claims.authorization_models",
    "olly.claims.models",
    "olly.edi.models",
)

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both engines (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass a timezone-aware UTC value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {datetime: UtcDateTime, uuid.UUID: Uuid(as_uuid=True)}


class TenantScoped:
    """Mixin for every domain row: a tenant id that the unit of work fills in and filters on."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid(as_uuid=True), index=True, nullable=False)


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, typed as a ``Table`` (for Core inserts and updates)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


#: From this many rows, ``insert_rows`` on PostgreSQL streams them with COPY.
COPY_FROM_ROWS: Final = 16


class BulkInsertFailed(Exception):
    """A COPY was refused. The driver's message is not kept: it can quote the rows' values.

    A refusal by a constraint (SQLSTATE class 23: a duplicate key, a missing reference) reaches the
    caller as SQLAlchemy's ``IntegrityError`` wrapping this, as the same rows inserted would, so a
    caller that catches a conflict catches it whatever the batch's size."""


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert plain rows (every row the same keys; nothing returned) in the connection's transaction.

    On PostgreSQL a batch of ``COPY_FROM_ROWS`` or more is streamed with ``COPY … FROM STDIN``: about
    a third of the CPU of a multi-row ``INSERT``, where every parameter of every row goes through the
    driver's statement machinery (measured on the audit trail's batches: 12 µs a row against 32 µs).
    The columns' bind processing (UTC timestamps, JSON, …) is applied as for an insert. A table with
    Python-side defaults for columns the rows leave out, a small batch, or SQLite, takes the insert.
    """
    if not rows:
        return
    columns = list(rows[0])
    dialect = connection.dialect
    if (
        dialect.name != "postgresql"
        or len(rows) < COPY_FROM_ROWS
        or any(c.default is not None and c.name not in rows[0] for c in table.columns)
    ):
        connection.execute(table.insert(), rows)
        return
    from psycopg import Error as DriverError
    from psycopg import sql

    # The dialect's own processors, as an insert applies them: the generic JSON type has none, and a
    # list handed to COPY as it is would be written as an array literal, which a JSON column refuses.
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    names = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    target = sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(table.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        value if process is None else process(value)
                        for process, value in zip(processors, (row[name] for name in columns), strict=True)
                    ]
                )
    except DriverError as exc:  # not chained: the message and its context can quote row values
        state = getattr(exc, "sqlstate", None) or "unknown"
        refused = BulkInsertFailed(f"COPY into {table.fullname} failed (SQLSTATE {state})")
        if state.startswith("23"):
            raise IntegrityError(f"COPY {table.fullname}", None, refused, hide_parameters=True) from None
        raise refused from None


#: Each bound column's bind processor, by position in the statement's columns.
Processors = tuple[tuple[int, Callable[[Any], Any]], ...]
_PLAIN: dict[tuple[Any, ...], tuple[str, tuple[str, ...], Processors] | None] = {}


def plain_statement(
    connection: Connection, key: tuple[Any, ...], compile_: Callable[[dict[Any, Any] | None], Any]
) -> tuple[str, tuple[str, ...], Processors] | None:
    """A DML statement as this connection sends it: its SQL (schema names translated), the name each
    positional parameter binds, and the bind processor of each parameter that has one, by position;
    compiled once per dialect, ``key`` (what names the statement) and schema translate map. None when
    the dialect's parameters are named. ``compile_`` compiles the statement for a translate map.

    The one cache behind every statement that hands tuples to the driver: ``insert_values``,
    ``execute_values`` and the claims repository's ``NewRows`` and ``ChangedRows``."""
    translate = connection.get_execution_options().get("schema_translate_map")
    cache_key = (connection.dialect, *key, frozenset(translate.items()) if translate else None)
    if cache_key not in _PLAIN:
        dialect = connection.dialect
        compiled = compile_(translate)
        found = None
        if compiled.positional:
            names = tuple(compiled.positiontup or ())
            processors = [compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
            found = compiled.string, names, tuple((i, p) for i, p in enumerate(processors) if p is not None)
        _PLAIN[cache_key] = found
    return _PLAIN[cache_key]


def compiled_insert(
    connection: Connection, table: Table, columns: tuple[str, ...]
) -> tuple[str, tuple[str, ...], Processors] | None:
    """``plain_statement`` for an insert of ``columns`` into ``table`` (the SQL binds them in the
    table's column order, plus any column's Python default)."""

    def compile_(translate: dict[Any, Any] | None) -> Any:
        return table.insert().compile(
            dialect=connection.dialect,
            column_keys=list(columns),
            schema_translate_map=translate,
            render_schema_translate=True,
        )

    return plain_statement(connection, ("insert", table, columns), compile_)


def plain_insert(connection: Connection, table: Table, columns: tuple[str, ...]) -> tuple[str, Processors] | None:
    """The SQL of an insert of ``columns`` (given in the table's column order) and each column's bind
    processor by position; None when the statement would bind other than the columns given, in that
    order (a column's Python default, a named parameter style)."""
    found = compiled_insert(connection, table, columns)
    return (found[0], found[2]) if found is not None and found[1] == columns else None


def insert_values(connection: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows given as tuples of the values of ``columns`` (in that order; nothing returned) in
    the connection's transaction, stored exactly as ``insert_rows`` stores the same rows.

    On SQLite the values are bound column by column through each column's bind processor (UTC
    timestamps, UUIDs) and the rows go to the driver's ``executemany`` with the statement compiled
    once (``plain_insert``): a Core insert would build and process a dictionary of every bind of
    every row, more CPU than the driver's own work. A value repeated from one row to the next (a
    batch's timestamp, its tenant) is processed once. Elsewhere the rows go through ``insert_rows``.
    """
    if not rows:
        return
    plain = plain_insert(connection, table, columns) if connection.dialect.name == "sqlite" else None
    if plain is None:
        insert_rows(connection, table, [dict(zip(columns, row, strict=True)) for row in rows])
        return
    _execute_plain(connection, plain, rows)


def execute_values(
    connection: Connection, statement: UpdateBase, keys: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Execute ``statement`` (DML whose bound parameters are ``keys``, in the order the SQL binds
    them) once per row of their values, as a Core ``executemany`` of the same rows would.

    On SQLite, as ``insert_values``: compiled once, each value bound through its parameter's bind
    processor (a value repeated from row to row once), the rows handed to the driver. Elsewhere, or
    when the statement binds other than ``keys`` in that order, it is a Core ``executemany``.
    """
    if not rows:
        return
    plain = None
    if connection.dialect.name == "sqlite":
        found = plain_statement(
            connection,
            (statement, keys),
            lambda translate: statement.compile(
                dialect=connection.dialect, schema_translate_map=translate, render_schema_translate=True
            ),
        )
        plain = (found[0], found[2]) if found is not None and found[1] == keys else None
    if plain is None:
        connection.execute(statement, [dict(zip(keys, row, strict=True)) for row in rows])
        return
    _execute_plain(connection, plain, rows)


def _execute_plain(connection: Connection, plain: tuple[str, Processors], rows: list[tuple[Any, ...]]) -> None:
    statement, processors = plain
    if processors:
        values = list(zip(*rows, strict=True))
        for index, process in processors:
            values[index] = tuple(_processed(process, values[index]))
        rows = list(zip(*values, strict=True))
    connection.exec_driver_sql(statement, rows)


def _processed(process: Callable[[Any], Any], values: tuple[Any, ...]) -> Iterator[Any]:
    last: Any = _processed
    bound: Any = None
    for value in values:
        if value is not last:
            last, bound = value, process(value)
            if type(bound) is memoryview:  # a binary column's buffer: the driver binds its bytes alike
                bound = bound.obj
        yield bound


#: A bound parameter of a compiled ``PlainSelect``: name, value the statement holds, bind processor, expanding.
_Param = tuple[str, Any, Callable[[Any], Any] | None, bool]


class PlainSelect:
    """A SELECT of columns (no ORM entities) whose rows come back as tuples of the columns' values.

    On SQLite it is compiled once (schema names translated) and run through the driver; each
    column's result processor (UUIDs, UTC timestamps) then decodes each distinct stored value of a
    call once, where a Core execution processes every value of every row and builds a ``Row`` of
    each. An expanding parameter (``IN``) gets a placeholder per value. The values are those a
    Core execution gives. Elsewhere, or for an empty ``IN`` list, it is a Core execution.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[tuple[Any, ...], tuple[str, list[_Param], Processors]] = {}

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if connection.dialect.name != "sqlite":
            return [tuple(row) for row in connection.execute(self.statement, params)]
        sql, names, results = self._compile(connection)
        bound: list[Any] = []
        for name, default, process, expanding in names:
            value = params.get(name, default)
            if not expanding:
                bound.append(value if process is None else process(value))
                continue
            if not value:
                return [tuple(row) for row in connection.execute(self.statement, params)]
            bound.extend(value if process is None else map(process, value))
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * len(value)), 1)
        result = connection.exec_driver_sql(sql, tuple(bound))
        try:  # the driver's tuples as they are: no ``Row`` of each
            rows: list[tuple[Any, ...]] = list(result.cursor.fetchall())
        finally:
            result.close()
        if not rows or not results:
            return rows
        columns = list(zip(*rows, strict=True))
        for index, process in results:
            columns[index] = tuple(map(_Decoded(process).__getitem__, columns[index]))
        return list(zip(*columns, strict=True))

    def _compile(self, connection: Connection) -> tuple[str, list[_Param], Processors]:
        translate = connection.get_execution_options().get("schema_translate_map")
        key = (connection.dialect, frozenset(translate.items()) if translate else None)
        if key not in self._compiled:
            dialect = connection.dialect
            compiled = self.statement.compile(
                dialect=dialect, schema_translate_map=translate, render_schema_translate=True
            )
            binds = [(name, compiled.binds[name]) for name in compiled.positiontup or ()]
            results = [
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            ]
            self._compiled[key] = (
                compiled.string,
                [
                    (
                        name,
                        bind.effective_value,
                        bind.type.dialect_impl(dialect).bind_processor(dialect),
                        bind.expanding,
                    )
                    for name, bind in binds
                ],
                tuple((i, process) for i, process in enumerate(results) if process is not None),
            )
        return self._compiled[key]


class _Decoded(dict[Any, Any]):
    """Stored value → its Python value by ``process``, each distinct one processed once."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        super().__init__()
        self.process = process

    def __missing__(self, stored: Any) -> Any:
        value = self[stored] = self.process(stored)
        return value


def import_all_models() -> None:
    """Import every module that maps tables (platform and whichever domains are installed)."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    for schema in SCHEMAS:
        module = f"olly.{schema}.models"
        if schema != "platform" and importlib.util.find_spec(f"olly.{schema}") and importlib.util.find_spec(module):
            importlib.import_module(module)


def sqlite_schema_map() -> dict[str | None, str | None]:
    return dict.fromkeys(SCHEMAS)


# ---------------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------------
def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


#: Pooled SQLite connections kept open (the bus alone runs a thread per consumer group).
SQLITE_POOL_SIZE = 32


def build_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Keep as many connections as the process has threads that use them at once (request
        # threads, the bus's consumers, the group-commit writers): an overflow connection is closed
        # when returned, and opening one again costs its PRAGMAs and a fresh page cache.
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=max(pool_size, SQLITE_POOL_SIZE),
            max_overflow=max(pool_size, SQLITE_POOL_SIZE),
            json_serializer=jsonfast.dumps_text,
            json_deserializer=jsonfast.loads,
        )
        _configure_sqlite(engine, database if database and database != ":memory:" else None)
        return engine.execution_options(schema_translate_map=sqlite_schema_map())
    if parsed.get_backend_name() == "postgresql":
        # hide_parameters: a failed statement must not carry PHI values into an exception or a log.
        # psycopg takes the serializer's bytes as they are and hands the deserializer the column's bytes.
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=pool_size,
            json_serializer=jsonfast.dumps,
            json_deserializer=jsonfast.loads,
        )
        _ping_when_idle(engine)
        return engine
    raise ConfigurationError("OLLY_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")


#: A pooled PostgreSQL connection unused for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS: Final = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has been idle a while.

    A connection the server or the network dropped (a restart, a failover, an idle timeout) is found
    by pinging it at checkout and replaced, so no request fails on it. Pinging every checkout, as
    ``pool_pre_ping`` does, costs a round trip and a few hundred microseconds of CPU per unit of
    work: a measurable share of the background writers' and the bus's work. A connection returned
    to the pool moments ago was working moments ago, so only one idle longer than
    ``PING_AFTER_IDLE_SECONDS`` is pinged. One that fails later than its ping is an error the caller
    sees (and retries, for the bus and the writers), as it would be after a pre-ping too.
    """
    dialect = engine.dialect

    @event.listens_for(engine.pool, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("the pooled connection failed its ping")


#: How long a writer waits for its turn in this process before leaving it to SQLite's busy timeout.
SQLITE_WRITER_WAIT_SECONDS: Final = 30.0


class _WriterTurns:
    """One writing transaction at a time per process, queued on a lock rather than on SQLite.

    SQLite admits one writer; a BEGIN IMMEDIATE that finds the file locked retries in its busy
    handler with sleeps of up to 100 ms, so under load a waiting thread can miss turn after turn
    (request latencies of seconds while the bus's consumers write). Threads of one process instead
    take turns on this lock, held from BEGIN IMMEDIATE to COMMIT or ROLLBACK, and are woken as soon
    as it is released. It mirrors SQLite's own lock exactly (taken at BEGIN, not re-entrant), so
    nothing that worked before can wait here where it did not wait before; a writer that has
    waited ``SQLITE_WRITER_WAIT_SECONDS`` goes on to SQLite's busy timeout, as before. Writers in
    other processes still meet at SQLite's lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[int, bool] = {}

    def take(self, connection: Any) -> None:
        if self._lock.acquire(timeout=SQLITE_WRITER_WAIT_SECONDS):
            self._holders[_raw_id(connection)] = True

    def give_back(self, connection: Any) -> None:
        if self._holders.pop(_raw_id(connection), False):
            self._lock.release()


def _raw_id(connection: Any) -> int:
    """The driver connection's identity, whether given it or the pool's proxy of it."""
    return id(getattr(connection, "dbapi_connection", None) or connection)


#: How long the checkpointer lets committed pages gather in the write-ahead log before copying them
#: into the database file (writes of one hot page in that time are copied once).
SQLITE_CHECKPOINT_EVERY_SECONDS: Final = 0.25
#: How long a checkpointer with nothing to do waits before its thread ends (it starts again on the next commit).
SQLITE_CHECKPOINTER_IDLE_SECONDS: Final = 30.0
#: WAL pages after which a committing writer checkpoints by itself, as a backstop when the
#: checkpointer falls behind (SQLite's default, 1000, is what the writers would otherwise do).
SQLITE_WRITER_AUTOCHECKPOINT_PAGES: Final = 16384


class _Checkpointer:
    """Copies the write-ahead log into the database file on its own thread and connection.

    Left to SQLite, the commit that takes the log past 1,000 pages runs the checkpoint itself:
    it writes the pages into the database file and waits for both files to reach the disk, while
    holding the one write turn every other writer is queued on. Here a commit only wakes this
    thread, which runs a PASSIVE checkpoint (it never blocks writers or readers) at most every
    ``SQLITE_CHECKPOINT_EVERY_SECONDS``; SQLite releases the interpreter lock while it works, so
    the copy and its fsyncs overlap the writers' work. Durability is unchanged: a commit is in the
    log as before, and the checkpoint syncs what it copies. Writers keep a backstop of their own
    (``SQLITE_WRITER_AUTOCHECKPOINT_PAGES``) should this thread fall behind.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._wake = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def committed(self) -> None:
        with self._guard:
            self._wake.set()
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(
                    target=self._run, name=f"olly-sqlite-checkpoint {self._path}", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        with self._guard:
            self._stopping.set()
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            connection = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=False)
            while True:
                if not self._wake.wait(SQLITE_CHECKPOINTER_IDLE_SECONDS):
                    with self._guard:
                        if not self._wake.is_set():
                            self._thread = None
                            return
                if self._stopping.is_set():
                    return
                self._wake.clear()
                # Another process checkpointing, or a busy file, is no failure: the next commit wakes us again.
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if self._stopping.wait(SQLITE_CHECKPOINT_EVERY_SECONDS):
                    return
        except sqlite3.Error:
            pass  # the file could not be opened here: the writers' own autocheckpoint still applies
        finally:
            if connection is not None:
                connection.close()
            with self._guard:
                if self._thread is threading.current_thread():
                    self._thread = None


def _configure_sqlite(engine: Engine, path: str | None = None) -> None:
    turns = _WriterTurns()
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback
    checkpointer = _Checkpointer(path) if path else None

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            turns.give_back(dbapi_connection)
        if checkpointer is not None:
            checkpointer.committed()

    if checkpointer is not None:
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            turns.give_back(dbapi_connection)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    # A connection leaving its transaction any other way (closed, invalidated) gives its turn back too.
    for name in ("checkin", "close", "invalidate", "soft_invalidate", "detach"):
        event.listen(engine.pool, name, lambda dbapi_connection, *_: turns.give_back(dbapi_connection))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN can be IMMEDIATE for writers: a deferred
        # transaction that later writes can fail with SQLITE_BUSY instead of waiting its turn.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Index look-ups (directory search, fast-path reads) should hit memory, not read() calls:
        # a 32 MiB page cache per connection and memory-mapped reads of up to 256 MiB.
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.execute("PRAGMA mmap_size=268435456")
        if checkpointer is not None:
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WRITER_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("olly_begin", "IMMEDIATE")
        # A read-only unit of work is read-only on SQLite too (set both ways: pooled connections are
        # reused; each connection remembers its setting, so the PRAGMA runs only when it changes).
        query_only = mode == "DEFERRED"
        remembered = connection.connection.info
        if remembered.get("olly_query_only") is not query_only:
            connection.exec_driver_sql(f"PRAGMA query_only={'ON' if query_only else 'OFF'}")
            remembered["olly_query_only"] = query_only
        if mode == "IMMEDIATE":
            raw = connection.connection.dbapi_connection
            turns.take(raw)
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                turns.give_back(raw)
                raise
            return
        connection.exec_driver_sql(f"BEGIN {mode}")


# ---------------------------------------------------------------------------------------------
# Sessions and the unit of work
# ---------------------------------------------------------------------------------------------
class OllySession(Session):
    """A session that belongs to one unit of work (see ``session.info``)."""


@event.listens_for(OllySession, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.session.info.get("all_tenants") or state.execution_options.get("all_tenants"):
        return
    tenant_id = state.session.info.get("tenant_id")
    if tenant_id is None:
        raise TenantViolation("a query ran outside a tenant's unit of work")
    state.statement = state.statement.options(_tenant_criteria(tenant_id))


_TENANT_CRITERIA: dict[Any, Any] = {}


def _tenant_criteria(tenant_id: Any) -> Any:
    """The loader criteria limiting a statement to one tenant's rows, built once per tenant (options
    are immutable; building one per statement was a measurable share of every query's cost)."""
    criteria = _TENANT_CRITERIA.get(tenant_id)
    if criteria is None:
        if len(_TENANT_CRITERIA) >= 1024:
            _TENANT_CRITERIA.clear()
        criteria = _TENANT_CRITERIA[tenant_id] = with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
        )
    return criteria


@event.listens_for(OllySession, "before_flush")
def _stamp_tenant(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get("all_tenants"):
        return
    tenant_id = session.info.get("tenant_id")
    for obj in session.new:
        if isinstance(obj, TenantScoped):
            if getattr(obj, "tenant_id", None) is None:
                obj.tenant_id = tenant_id  # type: ignore[assignment]
            elif obj.tenant_id != tenant_id:
                raise TenantViolation("a row of another tenant was added to this unit of work")
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped) and obj.tenant_id != tenant_id:
            raise TenantViolation("a row of another tenant was changed in this unit of work")


@event.listens_for(OllySession, "before_commit")
def _only_the_boundary_commits(session: Session) -> None:
    # Releasing a savepoint (``begin_nested``, e.g. one row of a bulk import) commits nothing durable.
    if session.in_nested_transaction():
        return
    if not session.info.get("committing"):
        raise RuntimeError("services never commit: the unit of work commits once at the boundary")


class UnitOfWork:
    """One transaction for one tenant. Use as a context manager; it commits on a clean exit."""

    def __init__(
        self,
        session: OllySession,
        tenant_id: uuid.UUID | None,
        clock: Clock,
        outbox_writer: OutboxWriter | None = None,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.clock = clock
        self.outbox_writer = outbox_writer
        self.correlation_id = correlation_id
        """The saga this work belongs to (the first request's or event's id); new events inherit it."""
        self.causation_id = causation_id
        """The request or event that caused this work."""
        self.pending_events: list[OutgoingEvent] = []
        self._before_commit: list[Callable[[], None]] = []
        self._after_commit: list[Callable[[], None]] = []
        self._closed = False

    def publish(self, payload: EventPayload, *, key: str | uuid.UUID) -> OutgoingEvent:
        """Queue an event; it is written to the outbox in this transaction and leaves only if it commits."""
        event_id = uuid7()
        outgoing = OutgoingEvent(
            topic=payload.TOPIC,
            key=str(key),
            payload=payload.wire(),
            event_id=event_id,
            occurred_at=self.clock.now(),
            tenant_id=self.tenant_id,
            correlation_id=self.correlation_id or event_id,
            causation_id=self.causation_id,
        )
        self.pending_events.append(outgoing)
        return outgoing

    def require_tenant(self) -> uuid.UUID:
        if self.tenant_id is None:
            raise TenantViolation("this operation needs a tenant's unit of work")
        return self.tenant_id

    def before_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` in this transaction once the work is done, just before it commits (e.g.
        to write at once rows a consumer gathered over a chunk of messages); a rollback drops it."""
        self._before_commit.append(callback)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed (e.g. to wake the outbox relay)."""
        self._after_commit.append(callback)

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        if self._closed:
            raise RuntimeError("this unit of work is already closed")
        while self._before_commit:  # a callback may register another (an object put while writing)
            before, self._before_commit = self._before_commit, []
            for callback in before:
                callback()
        if self.pending_events:
            if self.outbox_writer is None:
                raise ConfigurationError("events were published but no outbox is configured")
            self.outbox_writer(self, self.pending_events)
            self.pending_events = []
        self.session.info["committing"] = True
        try:
            self.session.commit()
        finally:
            self.session.info["committing"] = False
        self._closed = True
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self.session.rollback()
        self._before_commit.clear()
        self._after_commit.clear()
        self.pending_events.clear()
        self._closed = True

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None and not self._closed:
                self.commit()
            elif not self._closed:
                self.rollback()
        finally:
            self.session.close()


K = TypeVar("K")
V = TypeVar("V")


class PendingRows(dict[K, V]):
    """The rows a chunk of messages adds to one table, kept by key as plain values (no mapped
    object, no flush bookkeeping) so that a later message of the chunk finds and changes a row an
    earlier one added, and handed together to ``write`` just before the unit of work commits (one
    statement for the chunk; ``insert_values``). A rollback drops them with the transaction."""

    def __init__(self, uow: UnitOfWork, write: Callable[[list[V]], None]) -> None:
        super().__init__()
        self._write = write
        uow.before_commit(self.write)

    def write(self) -> None:
        """Write the rows gathered so far (and forget them)."""
        if self:
            rows = list(self.values())
            self.clear()
            self._write(rows)


class Database:
    """Engines and unit-of-work factory for one configured database."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.url = normalise_url(settings.database_url)
        self.engine = build_engine(self.url, pool_size=settings.database_pool_size)
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            self._read_engine = self.engine.execution_options(olly_begin="DEFERRED")
        else:
            self._read_engine = self.engine.execution_options(postgresql_readonly=True)
        self._sessions = sessionmaker(bind=self.engine, class_=OllySession, expire_on_commit=False)
        self.session_info: dict[str, Any] = {}
        """Shared context every session carries (``crypto`` is placed here at start-up)."""
        self.outbox_writer: OutboxWriter | None = None
        """Installed by the event backbone at start-up."""

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def unit_of_work(
        self,
        tenant_id: uuid.UUID | None,
        *,
        read_only: bool = False,
        all_tenants: bool = False,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
    ) -> UnitOfWork:
        if tenant_id is None and not all_tenants:
            raise TenantViolation("open a unit of work for a tenant, or explicitly for all tenants")
        refuse_on_event_loop("database")
        bind = self._read_engine if read_only else self.engine
        session = self._sessions(bind=bind)
        session.info.update(self.session_info)
        session.info["tenant_id"] = tenant_id
        session.info["all_tenants"] = all_tenants
        session.info["database"] = self
        return UnitOfWork(session, tenant_id, self.clock, self.outbox_writer, correlation_id, causation_id)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A plain connection in its own transaction, for platform plumbing (never domain rows)."""
        refuse_on_event_loop("database")
        with self.engine.begin() as connection:
            yield connection

    def ping(self) -> None:
        with self._read_engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def new_id() -> uuid.UUID:
    return uuid7()
