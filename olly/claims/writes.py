"""The rows an adjudication writes, sent as multi-row Core statements instead of through the ORM's
unit of work.

An adjudication writes a few rows per claim (its result, status change, line amounts, claim status,
accumulators). Through the ORM each is a tracked object: attribute events on every change, then at
flush the sorting, diffing and per-object events of the unit of work, which cost more CPU than the
engine's own work. Here the in-memory objects the adjudication keeps reading (claims, lines,
accumulators loaded by the session) are changed without being marked dirty
(``set_committed_value``), and the changes are queued by table and row id: a row inserted and then
changed is inserted once with its final values, a row changed twice is updated once. The queue is
sent as one statement per table and shape:

* before any statement the session executes (the same read-your-writes the ORM's autoflush gives:
  a query in the same transaction sees everything queued), and before the session commits;
* at once when the adjudication is not one of a chunk (``Writes.flush``, called by the service).

PHI columns are sealed as the ORM's events seal them (``crypto.row_sealer``, ``seal_row``'s way): a
new row's when it is queued, a change's when it is sent. Each table's sealer (its PHI columns, their
associated data and the tenant's active data key, looked up once) is kept until the transaction
ends: looking them up again for every row, with the session's connection, was a tenth of what
queueing a result cost. Rows are written with
the unit of work's tenant id; updates are limited to it as the ORM's tenant filter limits queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import Table, event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from olly.claims.repository import ChangedRows, NewRows
from olly.platform.crypto import FieldCrypto, row_sealer, session_crypto
from olly.platform.db import Base, UnitOfWork, table_of

_SESSION_KEY: Final = "olly.claims.writes"


class Writes:
    """One unit of work's queued inserts and updates (see the module's docstring)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.session = uow.session
        self.tenant_id = uow.require_tenant()
        self._inserts: dict[Table, dict[uuid.UUID, dict[str, Any]]] = {}
        self._updates: dict[Table, dict[uuid.UUID, dict[str, Any]]] = {}
        self._sealers: dict[Table, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self._flushing = False

    def insert(self, table: Table, values: dict[str, Any]) -> None:
        """Queue a new row (``values`` by column name, ``id`` included; the tenant id is added when
        it is sent), its PHI sealed now: a stored result's JSON, a nest of a hundred dictionaries
        and lists, is then freed at once instead of living until the chunk's statements, long
        enough for the cyclic collector to promote it and walk it again in each full collection.
        (A PHI value changed afterwards is sealed when the row is sent.)"""
        sealed = self._sealer(table)(values)
        self._inserts.setdefault(table, {})[values["id"]] = dict(values) if sealed is values else sealed

    def insert_object(self, row: Base, values: dict[str, Any]) -> None:
        """Queue a new row for ``row``, an object the session never sees (it stands for the row in
        memory, and ``change`` updates it and the queued row alike)."""
        table = table_of(type(row))
        self.insert(table, values)
        _set_committed(row, values | {"tenant_id": self.tenant_id})

    def change(self, row: Base, **values: Any) -> None:
        """Set attributes of ``row`` (loaded by the session, or queued by ``insert_object``) without
        the ORM tracking them, and queue the same change of its row."""
        _set_committed(row, values)
        table = table_of(type(row))
        row_id: uuid.UUID = row.id  # type: ignore[attr-defined]
        pending = self._inserts.get(table, {}).get(row_id)
        if pending is not None:
            pending.update(values)
        else:
            self._updates.setdefault(table, {}).setdefault(row_id, {}).update(values)

    @property
    def pending(self) -> bool:
        return bool(self._inserts or self._updates)

    def flush(self) -> None:
        """Send what is queued: each table's new rows, then its changed rows, a statement per shape
        (``NewRows`` and ``ChangedRows``: tuples of parameters handed to the driver on SQLite)."""
        if self._flushing or not self.pending:
            return
        self._flushing = True
        try:
            inserts, self._inserts = self._inserts, {}
            updates, self._updates = self._updates, {}
            connection = self.session.connection()
            tenant = self.tenant_id
            for table, rows in inserts.items():
                sealed = self._sealer(table)
                for shape in _shapes(rows.values()):
                    new_rows = NewRows(connection, table, tenant)
                    for row in shape:
                        new_rows.add(sealed(row))
                    new_rows.insert()
            for table, changes in updates.items():
                sealed = self._sealer(table)
                by_shape: dict[tuple[str, ...], ChangedRows] = {}
                for row_id, values in changes.items():
                    columns = tuple(sorted(values))
                    changed = by_shape.get(columns)
                    if changed is None:
                        changed = by_shape[columns] = ChangedRows(connection, table, tenant, columns)
                    changed.add(sealed({"id": row_id} | values))
                for changed in by_shape.values():
                    changed.update()
        finally:
            self._flushing = False

    def _sealer(self, table: Table) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """``seal_row`` for ``table`` in this transaction (see the module's docstring)."""
        found = self._sealers.get(table)
        if found is None:
            found = self._sealers[table] = row_sealer(self._crypto(), self.session.connection(), table, self.tenant_id)
        return found

    def _crypto(self) -> FieldCrypto:
        return session_crypto(self.session)

    def discard(self) -> None:
        self._inserts.clear()
        self._updates.clear()
        self._sealers.clear()

    # -- session events --------------------------------------------------------------------------
    def _before_execute(self, _state: ORMExecuteState) -> None:
        self.flush()

    def _before_commit(self, _session: Session) -> None:
        self.flush()
        self._sealers.clear()  # the next transaction looks the active data key up again

    def _after_rollback(self, _session: Session) -> None:
        self.discard()


def _set_committed(row: Base, values: dict[str, Any]) -> None:
    """``set_committed_value`` for each of ``values``: the attributes hold the values as if loaded.
    An object with no pending change, not expired as a whole and without loader callables (the
    usual case: a chunk's objects, which leave unread the columns adjudication only writes) takes
    them straight into its dict and no longer counts them unloaded, which is what
    ``set_committed_value`` does for each."""
    state = instance_state(row)
    if state.committed_state or state.expired or state.callables:
        for key, value in values.items():
            set_committed_value(row, key, value)
        return
    state.dict.update(values)
    if state.expired_attributes:
        state.expired_attributes.difference_update(values)


def _shapes(rows: Any) -> list[list[dict[str, Any]]]:
    """Rows grouped by their set of columns (a multi-row statement binds the same columns in each)."""
    found: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(tuple(sorted(row)), []).append(row)
    return list(found.values())


def writes_of(uow: UnitOfWork) -> Writes:
    """The unit of work's queue, made (and tied to its session's events) on first use."""
    found: Writes | None = uow.session.info.get(_SESSION_KEY)
    if found is None:
        found = uow.session.info[_SESSION_KEY] = Writes(uow)
        event.listen(uow.session, "do_orm_execute", found._before_execute)
        event.listen(uow.session, "before_commit", found._before_commit)
        event.listen(uow.session, "after_rollback", found._after_rollback)
    return found
