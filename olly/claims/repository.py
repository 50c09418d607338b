"""Every query of the claims domain."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter, itemgetter
from typing import Any, Final

from sqlalchemy import (
    Row,
    Select,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql.dml import Update
from sqlalchemy.types import Uuid

from olly.claims import models as m
from olly.codesets.carc import Carc
from olly.kernel.errors import ConfigurationError
from olly.kernel.ids import uuid_from_int
from olly.platform.crypto import FieldCrypto, column_opener, open_row, open_rows, session_crypto
from olly.platform.db import Base, Processors, UnitOfWork, compiled_insert, plain_statement, table_of

COVERAGE_LOCK_CLASS: Final = 0x0C1A_0001
"""The first key of the advisory locks ``ClaimsRepository.lock_coverage`` takes (PostgreSQL): the
locks of claims' coverage copies, apart from any other advisory lock."""


def coverage_lock_key(member_id: uuid.UUID) -> int:
    """The second key of a member's coverage lock: the member id's last 32 bits, signed (two members
    sharing one only wait for each other)."""
    return int.from_bytes(member_id.bytes[-4:], "big", signed=True)


FINAL_STATUSES = ("APPROVED", "PARTIALLY_APPROVED", "DENIED")


@dataclass(frozen=True, slots=True)
class HistoryClaim:
    """What a duplicate edit needs of an earlier claim's header."""

    id: uuid.UUID
    member_id: uuid.UUID
    billing_npi: str
    currency: str


@dataclass(frozen=True, slots=True)
class RemittanceHeader:
    """What an 835 reads of a claim's header (``origin`` from its sealed detail)."""

    id: uuid.UUID
    member_id: uuid.UUID
    billing_npi: str
    submitter: str
    currency: str
    origin: str | None
    plan_type: str | None = None
    """The type of the claim's plan as the catalog states it (PPO, HMO, EPO, HDHP, POS, SUM_INSURED),
    from claims' copy of the coverage; None when the claim had no coverage."""


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One adjudication of a claim, its stored result opened."""

    claim_id: uuid.UUID
    sequence: int
    status: str
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LineService:
    """What an 835 reads of a claim line: its units and, from its sealed service detail, the
    procedure, modifiers, revenue code and first date of service."""

    claim_id: uuid.UUID
    line_number: int
    units: int
    procedure_code: str | None
    modifiers: tuple[str, ...]
    revenue_code: str | None
    service_date: date


@dataclass(frozen=True, slots=True)
class RemittanceRead:
    """What an 835 reads of one adjudication: the claim's header, the adjudication and the claim's lines."""

    header: RemittanceHeader
    result: StoredResult
    lines: list[LineService]


#: ``intake_reads``' query, built once: it runs for every claim taken in one by one.
_INTAKE_READS: Final = (
    select(
        m.CoverageView,
        m.BenefitScheduleView,
        select(m.ProviderView.provider_id).where(m.ProviderView.npi == bindparam("npi")).scalar_subquery(),
    )
    .outerjoin(m.BenefitScheduleView, m.BenefitScheduleView.plan_code == m.CoverageView.plan_code)
    .options(defer(m.BenefitScheduleView.schedule))
    .where(m.CoverageView.member_id == bindparam("member_id"))
    .order_by(m.CoverageView.id, m.BenefitScheduleView.plan_code, m.BenefitScheduleView.effective_from.desc())
)


class _Shape:
    """The columns of a model's table a chunk's Core select reads (``tenant_id`` is never read: it
    is the unit of work's), and the attributes its objects then leave unloaded."""

    def __init__(self, model: type[Base], *names: str) -> None:
        self.model = model
        self.table = table_of(model)
        keys = {prop.key for prop in model.__mapper__.column_attrs}
        if keys != set(self.table.columns.keys()):
            raise ConfigurationError(f"{self.table.name}: attributes and columns are not named alike")
        chosen = names or tuple(column.name for column in self.table.columns if column.name != "tenant_id")
        self.columns = tuple(self.table.c[name] for name in chosen)
        self.unloaded = frozenset(keys - {"tenant_id", *chosen})


def _in_order(ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """``sorted(set(ids))``, compared by their integers (``UUID.__lt__`` is Python code: sorting a
    chunk's ids with it cost a third of a millisecond)."""
    return sorted(set(ids), key=_UUID_INT)


_UUID_INT: Final = attrgetter("int")


def _uuids_as_text(query: Select[Any]) -> tuple[Select[Any], tuple[str, ...]]:
    """``query`` with its UUID columns read as the text SQLite stores (their names returned)."""
    columns = list(query.selected_columns)
    names = tuple(column.name for column in columns if isinstance(column.type, Uuid))
    if not names:
        return query, ()
    plain = [
        type_coerce(column, String).label(column.name) if isinstance(column.type, Uuid) else column
        for column in columns
    ]
    return query.with_only_columns(*plain, maintain_column_froms=True), names


def _uuid_of_hex(text: str) -> uuid.UUID:
    """``UUID(text)`` for the 32 hexadecimal digits SQLite stores a UUID column as, built as
    ``UUID.__init__`` leaves one (its ``int`` and ``is_safe``) without its parsing and checks."""
    return uuid_from_int(int(text, 16)) if len(text) == 32 else uuid.UUID(text)


def _unattached(shape: _Shape, values: dict[str, Any], tenant_id: uuid.UUID) -> Any:
    """An object of ``shape.model`` holding ``values`` as if loaded, that no session tracks (no
    identity map, no load event, nothing to flush): what a chunk's Core reads give. ``writes.change``
    updates it and queues the same change of its row. An attribute the select left out raises
    ``DetachedInstanceError`` when read (rather than reading None)."""
    row = shape.model.__mapper__.class_manager.new_instance()
    state = instance_state(row)
    state.dict.update(values)
    state.dict["tenant_id"] = tenant_id
    if shape.unloaded:
        state.expired_attributes.update(shape.unloaded)
    return row


_CHUNK_CLAIM: Final = _Shape(
    m.Claim,
    *("id", "member_id", "claim_type", "frequency", "original_claim_id", "submitter", "billing_npi"),
    *("rendering_npi", "provider_id", "currency", "service_date_from", "service_date_to", "received_on"),
    *("status", "version", "detail"),
)
"""What adjudicating a claim reads of it (the rest is only written)."""
_EARLIER_CLAIM: Final = _Shape(
    m.Claim,
    *("id", "member_id", "billing_npi", "currency", "status", "service_date_from", "service_date_to"),
    *("provider_id", "submitter"),
)
"""What a duplicate edit reads of an earlier claim, and a replacement of the claim it replaces."""
_EOB_CLAIM: Final = _Shape(m.Claim, "id", "member_id", "billing_npi", "service_date_from", "service_date_to")
_LINE: Final = _Shape(m.ClaimLine, "id", "claim_id", "line_number", "charge_minor", "units", "service", "status")
"""What adjudicating a claim reads of its lines, and a duplicate edit of an earlier claim's (the
amounts and adjustments are only written)."""
_DIAGNOSIS: Final = _Shape(m.ClaimDiagnosis, "id", "claim_id", "code")
_EOB_RESULT: Final = _Shape(m.AdjudicationRecord, "id", "claim_id", "sequence", "is_current", "result")
_COVERAGE: Final = _Shape(
    m.CoverageView, "id", "member_id", "family_id", "plan_code", "plan_type", "periods", "birth_date", "pre_existing"
)
"""What an adjudication reads of a member's coverage."""
_COVERAGE_PLAN: Final = _Shape(m.CoverageView, "member_id", "plan_code", "periods")
"""Which plan covered a member when (an EOB's appeal window): nothing personal."""
_INTAKE_COVERAGE: Final = _Shape(m.CoverageView, "member_id", "family_id", "plan_id", "plan_code", "periods")
"""What intake reads of a member's coverage: the plan and its holder, nothing personal (no PHI opened)."""


def _plain_insert(connection: Connection, table: Table, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    """An insert of ``columns`` into ``table`` as the connection sends it (``db.compiled_insert``):
    its SQL and the column each parameter binds, in the table's column order; None when the
    statement would bind other columns than those given (a column's Python default)."""
    found = compiled_insert(connection, table, columns)
    return (found[0], found[1]) if found is not None and sorted(found[1]) == sorted(columns) else None


_UPDATE_BINDS: Final = {"w_id": "id", "w_tenant": "tenant_id"}


def update_by_id(table: Table, columns: tuple[str, ...]) -> Update:
    """The update of ``columns`` (bound as ``v_<column>``) of the row of one id (``w_id``) and tenant
    (``w_tenant``): what ``ChangedRows`` sends."""
    statement = _UPDATES.get((table, columns))
    if statement is None:
        statement = (
            update(table)
            .where(table.c.id == bindparam("w_id"), table.c.tenant_id == bindparam("w_tenant"))
            .values({column: bindparam(f"v_{column}") for column in columns})
        )
        _UPDATES[table, columns] = statement
    return statement


_UPDATES: dict[tuple[Table, tuple[str, ...]], Update] = {}


def _plain_update(connection: Connection, table: Table, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    """``db.plain_statement`` for ``update_by_id``: its SQL and the column each parameter binds."""

    def compile_(translate: dict[Any, Any] | None) -> Any:
        return update_by_id(table, columns).compile(
            dialect=connection.dialect, schema_translate_map=translate, render_schema_translate=True
        )

    found = plain_statement(connection, ("update", table, columns), compile_)
    if found is None:
        return None
    binds = tuple(_UPDATE_BINDS.get(name) or name.removeprefix("v_") for name in found[1])
    return (found[0], binds) if sorted(binds) == sorted((*columns, "id", "tenant_id")) else None


class _Binder:
    """How one row (column name → value, the tenant id left out) becomes the tuple of parameters a
    plain statement's driver call takes: each column's value in the statement's order, through the
    column's bind processor, the tenant's processed once. A date or time column keeps its last value
    and what it became: the rows of a batch mostly carry the one clock reading (the same object)."""

    def __init__(self, connection: Connection, table: Table, order: tuple[str, ...], tenant_id: uuid.UUID) -> None:
        dialect = connection.dialect
        others = tuple(name for name in order if name != "tenant_id")
        self.columns = others
        self.tenant_at = order.index("tenant_id")
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in others]
        self.processors: Processors = tuple(
            (i, process) for i, process in enumerate(processors) if process and not _is_temporal(table.c[others[i]])
        )
        self.temporal = tuple(
            (i, process, [_NOTHING, None])
            for i, process in enumerate(processors)
            if process and _is_temporal(table.c[others[i]])
        )
        process_tenant = table.c.tenant_id.type.dialect_impl(dialect).bind_processor(dialect)
        self.tenant = process_tenant(tenant_id) if process_tenant else tenant_id
        self.values_of = itemgetter(*others)

    def __call__(self, row: dict[str, Any]) -> tuple[Any, ...]:
        listed = list(self.values_of(row))
        for index, process in self.processors:
            value = process(listed[index])
            listed[index] = value.obj if type(value) is memoryview else value
        for index, process, last in self.temporal:
            value = listed[index]
            if value is not last[0]:
                last[0], last[1] = value, process(value)
            listed[index] = last[1]
        listed.insert(self.tenant_at, self.tenant)
        return tuple(listed)


_NOTHING: Final = object()


def _is_temporal(column: Any) -> bool:
    """Whether ``column`` holds dates or datetimes (immutable values: one object binds one way)."""
    try:
        return issubclass(column.type.python_type, date)
    except NotImplementedError:
        return False


class NewRows:
    """New rows of one table, of the unit of work's tenant, inserted together by ``insert``: what
    intake writes for a chunk of claims, and what an adjudication's queue (``writes.py``) inserts.

    Rows are column name → value (PHI sealed, every row the same columns; the tenant id is added
    here). On SQLite each row becomes, as it is added, the tuple of its values bound as an insert
    binds them (each column's bind processor; the tenant's once), and ``insert`` hands them all to
    the driver's ``executemany`` with the statement compiled once. The statement's own parameter
    handling (a dictionary of every bind per row, then its processing) cost more CPU than the
    driver's work; and a chunk's rows held as strings, numbers and bytes are nothing the cyclic
    collector walks, where dictionaries of ids were promoted to its oldest generation and walked by
    each full collection of the chunk. (The binary columns' processor wraps the bytes in a buffer,
    which the driver binds as it binds the bytes: the bytes are kept.) Elsewhere the rows go as one
    Core insert."""

    def __init__(self, connection: Connection, table: Table, tenant_id: uuid.UUID) -> None:
        self.connection = connection
        self.table = table
        self.tenant_id = tenant_id
        self._rows: list[dict[str, Any]] = []
        self._values: list[tuple[Any, ...]] = []
        self._columns: tuple[str, ...] = ()
        self._sql = ""
        self._binder: _Binder | None = None

    def add(self, row: dict[str, Any]) -> None:
        if not len(self) and self.connection.dialect.name == "sqlite":
            self._prepare(tuple(row))
        if self._binder is None:
            self._rows.append(row | {"tenant_id": self.tenant_id})
            return
        if len(row) != len(self._columns):  # (a missing column fails the getter)
            raise ConfigurationError(f"rows of {self.table.name} inserted together must have the same columns")
        self._values.append(self._binder(row))

    def _prepare(self, columns: tuple[str, ...]) -> None:
        """Compile the insert of rows of ``columns`` (SQLite; elsewhere, or for a single column, the
        rows stay as they are and go as one Core insert)."""
        self._columns = columns
        plain = _plain_insert(self.connection, self.table, (*columns, "tenant_id")) if len(columns) > 1 else None
        self._binder = None
        if plain is not None:
            self._sql = plain[0]
            self._binder = _Binder(self.connection, self.table, plain[1], self.tenant_id)

    def __len__(self) -> int:
        return len(self._rows) + len(self._values)

    def insert(self) -> None:
        """Insert the rows added since the last ``insert``."""
        rows, self._rows = self._rows, []
        values, self._values = self._values, []
        if values:
            self.connection.exec_driver_sql(self._sql, values)
        if rows:
            self.connection.execute(insert(self.table), rows)


class ChangedRows:
    """Changes of rows of one table by id, of the unit of work's tenant, every change of the same
    columns, sent together by ``update``: ``NewRows`` for the updates of an adjudication's queue.
    On SQLite each change becomes a tuple of parameters as it is added (the update compiled once);
    elsewhere one Core ``update_by_id`` with a dictionary of parameters per row."""

    def __init__(self, connection: Connection, table: Table, tenant_id: uuid.UUID, columns: tuple[str, ...]) -> None:
        self.connection = connection
        self.table = table
        self.tenant_id = tenant_id
        self.columns = columns
        self._params: list[dict[str, Any]] = []
        self._values: list[tuple[Any, ...]] = []
        plain = _plain_update(connection, table, columns) if connection.dialect.name == "sqlite" else None
        self._sql = plain[0] if plain is not None else ""
        self._binder = _Binder(connection, table, plain[1], tenant_id) if plain is not None else None

    def add(self, row: dict[str, Any]) -> None:
        """One row's change: its ``id`` and the new value of each of the columns (PHI sealed)."""
        if len(row) != len(self.columns) + 1:
            raise ConfigurationError(f"changes of {self.table.name} sent together must have the same columns")
        if self._binder is not None:
            self._values.append(self._binder(row))
        else:
            params = {f"v_{column}": row[column] for column in self.columns}
            self._params.append(params | {"w_id": row["id"], "w_tenant": self.tenant_id})

    def update(self) -> None:
        """Send the changes added since the last ``update``."""
        values, self._values = self._values, []
        params, self._params = self._params, []
        if values:
            self.connection.exec_driver_sql(self._sql, values)
        if params:
            self.connection.execute(update_by_id(self.table, self.columns), params)


class ClaimsRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    # -- claims ------------------------------------------------------------------------------------
    def claim(self, claim_id: uuid.UUID, *, for_update: bool = False) -> m.Claim | None:
        query = select(m.Claim).where(m.Claim.id == claim_id)
        if for_update and not self._sqlite:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    @property
    def _sqlite(self) -> bool:
        return self.session.get_bind().dialect.name == "sqlite"

    def lines(self, claim_id: uuid.UUID) -> list[m.ClaimLine]:
        return list(
            self.session.scalars(
                select(m.ClaimLine).where(m.ClaimLine.claim_id == claim_id).order_by(m.ClaimLine.line_number)
            )
        )

    def diagnoses(self, claim_id: uuid.UUID) -> list[str]:
        rows = self.session.scalars(
            select(m.ClaimDiagnosis).where(m.ClaimDiagnosis.claim_id == claim_id).order_by(m.ClaimDiagnosis.position)
        )
        return [row.code for row in rows]

    def current_result(self, claim_id: uuid.UUID) -> m.AdjudicationRecord | None:
        return self.session.scalars(
            select(m.AdjudicationRecord).where(
                m.AdjudicationRecord.claim_id == claim_id, m.AdjudicationRecord.is_current.is_(True)
            )
        ).first()

    def results(self, claim_id: uuid.UUID) -> list[m.AdjudicationRecord]:
        return list(
            self.session.scalars(
                select(m.AdjudicationRecord)
                .where(m.AdjudicationRecord.claim_id == claim_id)
                .order_by(m.AdjudicationRecord.sequence)
            )
        )

    def result(self, claim_id: uuid.UUID, sequence: int) -> m.AdjudicationRecord | None:
        return self.session.scalars(
            select(m.AdjudicationRecord).where(
                m.AdjudicationRecord.claim_id == claim_id, m.AdjudicationRecord.sequence == sequence
            )
        ).first()

    def results_of(self, claim_ids: Sequence[uuid.UUID]) -> list[m.AdjudicationRecord]:
        """Every adjudication of these claims, by claim id then sequence."""
        if not claim_ids:
            return []
        query = select(m.AdjudicationRecord).where(m.AdjudicationRecord.claim_id.in_(sorted(set(claim_ids))))
        return list(self.session.scalars(query.order_by(m.AdjudicationRecord.claim_id, m.AdjudicationRecord.sequence)))

    def document_keys(self, claim_ids: Sequence[uuid.UUID], kind: str) -> set[str]:
        """The object keys of these claims' documents of one kind."""
        if not claim_ids:
            return set()
        query = select(m.ClaimDocument.object_key).where(
            m.ClaimDocument.claim_id.in_(_in_order(claim_ids)), m.ClaimDocument.kind == kind
        )
        return set(self.session.scalars(query))

    def history_claims(
        self, member_id: uuid.UUID, billing_npi: str, first: date, last: date, exclude: Iterable[uuid.UUID]
    ) -> list[HistoryClaim]:
        """The member's other finalised claims from one billing provider whose service dates meet
        ``first``..``last`` (what a duplicate edit compares a claim with)."""
        excluded = list(exclude)
        rows = self.session.execute(
            select(m.Claim.id, m.Claim.member_id, m.Claim.billing_npi, m.Claim.currency).where(
                m.Claim.member_id == member_id,
                m.Claim.billing_npi == billing_npi,
                m.Claim.status.in_(FINAL_STATUSES),
                m.Claim.service_date_from <= last,
                m.Claim.service_date_to >= first,
                m.Claim.id.not_in(excluded),
            )
        )
        return [HistoryClaim(row.id, row.member_id, row.billing_npi, row.currency) for row in rows]

    def lines_of(self, claim_ids: Sequence[uuid.UUID]) -> list[m.ClaimLine]:
        """The lines of these claims, by claim id then line number (one order on every engine: the
        order a duplicate edit meets earlier lines in)."""
        if not claim_ids:
            return []
        query = select(m.ClaimLine).where(m.ClaimLine.claim_id.in_(list(claim_ids)))
        return list(self.session.scalars(query.order_by(m.ClaimLine.claim_id, m.ClaimLine.line_number)))

    # -- what an 835 reads of many claims ---------------------------------------------------------------
    # Column selects of the mapped classes: the unit of work's tenant filter applies to them as to any
    # ORM query (and what is pending is flushed first), but no object is built, no load event runs and
    # only the PHI columns selected are opened. Loading whole objects cost a payment run's 835 about
    # 1 ms a claim, most of it object construction and the load event opening every sealed column.
    def remittance_reads(
        self, wanted: Sequence[tuple[uuid.UUID, int | None]]
    ) -> Iterator[tuple[tuple[uuid.UUID, int | None], RemittanceRead]]:
        """For each (claim id, sequence) in turn, the claim's header, that adjudication of the claim
        (with None its current one) and the claim's lines; a claim or adjudication not found is left
        out. Three queries; each claim's rows are opened only when its turn comes, so a caller that
        lets go of one claim before taking the next holds a chunk's rows as read, never its decoded
        results (with their traces), details and lines: the cyclic collector walked those again and
        again, and moved them to its oldest generation, whose every pass walks all the 835's claims."""
        claim_ids = sorted({claim_id for claim_id, _ in wanted})
        if not claim_ids:
            return
        query = select(
            m.Claim.id,
            m.Claim.member_id,
            m.Claim.billing_npi,
            m.Claim.submitter,
            m.Claim.currency,
            m.Claim.detail,
            m.Claim.plan_id,
        ).where(m.Claim.id.in_(claim_ids))
        headers = {row.id: row for row in self.session.execute(query)}
        if not headers:
            return
        plan_types = self._plan_types({row.plan_id for row in headers.values() if row.plan_id is not None})
        found = sorted(headers)
        lines: dict[uuid.UUID, list[Row[Any]]] = {}
        query = select(
            m.ClaimLine.id, m.ClaimLine.claim_id, m.ClaimLine.line_number, m.ClaimLine.units, m.ClaimLine.service
        ).where(m.ClaimLine.claim_id.in_(found))
        for row in self.session.execute(query.order_by(m.ClaimLine.claim_id, m.ClaimLine.line_number)):
            lines.setdefault(row.claim_id, []).append(row)
        results: dict[uuid.UUID, list[Row[Any]]] = {}
        query = select(
            m.AdjudicationRecord.id,
            m.AdjudicationRecord.claim_id,
            m.AdjudicationRecord.sequence,
            m.AdjudicationRecord.status,
            m.AdjudicationRecord.is_current,
            m.AdjudicationRecord.result,
        ).where(m.AdjudicationRecord.claim_id.in_(found))
        for row in self.session.execute(query.order_by(m.AdjudicationRecord.claim_id, m.AdjudicationRecord.sequence)):
            results.setdefault(row.claim_id, []).append(row)
        crypto, connection, tenant = self._crypto(), self.session.connection(), self.uow.require_tenant()
        open_detail = column_opener(crypto, connection, table_of(m.Claim), tenant, "detail")
        open_result = column_opener(crypto, connection, table_of(m.AdjudicationRecord), tenant, "result")
        open_service = column_opener(crypto, connection, table_of(m.ClaimLine), tenant, "service")
        for key in wanted:
            claim_id, sequence = key
            header = headers.get(claim_id)
            rows = results.get(claim_id, ())
            chosen = next((r for r in rows if (r.is_current if sequence is None else r.sequence == sequence)), None)
            if header is None or chosen is None:
                continue
            detail = open_detail(header.id, header.detail) or {}
            result = open_result(chosen.id, chosen.result)
            services = []
            for row in lines.get(claim_id, ()):
                service = open_service(row.id, row.service)
                services.append(
                    LineService(
                        row.claim_id,
                        row.line_number,
                        row.units,
                        service.get("procedureCode"),
                        tuple(service.get("modifiers") or ()),
                        service.get("revenueCode"),
                        date.fromisoformat(service["serviceDateFrom"]),
                    )
                )
            yield (
                key,
                RemittanceRead(
                    RemittanceHeader(
                        header.id,
                        header.member_id,
                        header.billing_npi,
                        header.submitter,
                        header.currency,
                        detail.get("origin"),
                        plan_types.get(header.plan_id) if header.plan_id is not None else None,
                    ),
                    StoredResult(chosen.claim_id, chosen.sequence, chosen.status, result),
                    services,
                ),
            )

    def _plan_types(self, plan_ids: set[uuid.UUID]) -> dict[uuid.UUID, str | None]:
        """The type of each plan, from the coverage copy naming it that was copied last (a copy made
        before the catalog's type was kept reads a POS plan as PPO until it is copied again); kept
        for the unit of work (an 835 of many claims of one plan asks once)."""
        known: dict[uuid.UUID, str | None] = self.session.info.setdefault("claims_plan_types", {})
        for plan_id in sorted(plan_ids - known.keys()):
            query = (
                select(m.CoverageView.plan_type)
                .where(m.CoverageView.plan_id == plan_id)
                .order_by(m.CoverageView.synced_at.desc())
                .limit(1)
            )
            known[plan_id] = self.session.scalar(query)
        return known

    # -- a chunk of claims at once (the adjudication worker) ------------------------------------------
    def claims(self, claim_ids: Sequence[uuid.UUID], *, for_update: bool = False) -> list[m.Claim]:
        if not claim_ids:
            return []
        query = select(m.Claim).where(m.Claim.id.in_(sorted(set(claim_ids)))).order_by(m.Claim.id)
        if for_update and not self._sqlite:
            query = query.with_for_update()  # locked in id order: two chunks never wait on each other in a cycle
        return list(self.session.scalars(query))

    # -- a chunk read with Core selects (the adjudication and EOB consumers) ---------------------------
    # Rows become objects no session tracks (``_unattached``) holding only the columns their reader
    # uses, their PHI opened only where the select names it (``crypto.open_rows``): loading a mapped
    # object of every column per row and opening every sealed field in its load event was a tenth of
    # the adjudication consumer. The tenant is filtered here, as the ORM's criteria filter mapped queries.
    def chunk_claims(self, claim_ids: Sequence[uuid.UUID]) -> list[m.Claim]:
        """These claims, locked in id order (two chunks never wait on each other in a cycle): what
        adjudication reads of them, ``detail`` opened."""
        if not claim_ids:
            return []
        shape, tenant_id = _CHUNK_CLAIM, self.uow.require_tenant()
        query = (
            select(*shape.columns)
            .where(shape.table.c.tenant_id == tenant_id, shape.table.c.id.in_(sorted(set(claim_ids))))
            .order_by(shape.table.c.id)
        )
        if not self._sqlite:
            query = query.with_for_update()
        return [_unattached(shape, values, tenant_id) for values in self._opened(shape, query)]

    def chunk_final_claims_meeting(self, windows: dict[tuple[uuid.UUID, str], tuple[date, date]]) -> list[m.Claim]:
        """Finalised claims of each (member, billing NPI) whose service dates meet its window (first,
        last): what ``history_claims`` answers for every claim of a chunk, in one query, as much as
        a duplicate edit reads of an earlier claim (no ``detail``). (Its shape does not depend on
        the chunk, so it is compiled once; a query OR-ing one term per window was compiled anew
        for every chunk.)"""
        if not windows:
            return []
        shape, tenant_id = _EARLIER_CLAIM, self.uow.require_tenant()
        table = shape.table
        query = select(*shape.columns).where(
            table.c.tenant_id == tenant_id,
            table.c.member_id.in_(sorted({member_id for member_id, _ in windows})),
            table.c.billing_npi.in_(sorted({npi for _, npi in windows})),
            table.c.status.in_(FINAL_STATUSES),
            table.c.service_date_from <= max(last for _, last in windows.values()),
            table.c.service_date_to >= min(first for first, _ in windows.values()),
        )
        found = []
        for values in self._fetched(query):
            window = windows.get((values["member_id"], values["billing_npi"]))
            if (
                window is not None
                and values["service_date_from"] <= window[1]
                and values["service_date_to"] >= window[0]
            ):
                found.append(_unattached(shape, values, tenant_id))
        return found

    def lock_claim(self, claim_id: uuid.UUID) -> None:
        """What ``claim(claim_id, for_update=True)`` locks, for a claim already read."""
        if self._sqlite:
            return
        table = _CHUNK_CLAIM.table
        self.session.execute(
            select(table.c.id)
            .where(table.c.tenant_id == self.uow.require_tenant(), table.c.id == claim_id)
            .with_for_update()
        )

    def chunk_lines(self, claim_ids: Sequence[uuid.UUID]) -> list[m.ClaimLine]:
        """``lines_of`` (by claim id, then line number): what adjudication reads of them (``_LINE``),
        ``service`` opened."""
        if not claim_ids:
            return []
        shape, tenant_id = _LINE, self.uow.require_tenant()
        query = (
            select(*shape.columns)
            .where(shape.table.c.tenant_id == tenant_id, shape.table.c.claim_id.in_(list(claim_ids)))
            .order_by(shape.table.c.claim_id, shape.table.c.line_number)
        )
        return [_unattached(shape, values, tenant_id) for values in self._opened(shape, query)]

    def chunk_diagnoses(self, claim_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        """Each claim's diagnosis codes in position order."""
        found: dict[uuid.UUID, list[str]] = {claim_id: [] for claim_id in claim_ids}
        if not claim_ids:
            return found
        shape = _DIAGNOSIS
        query = (
            select(*shape.columns)
            .where(shape.table.c.tenant_id == self.uow.require_tenant(), shape.table.c.claim_id.in_(list(claim_ids)))
            .order_by(shape.table.c.claim_id, shape.table.c.position)
        )
        for values in self._opened(shape, query):
            found[values["claim_id"]].append(values["code"])
        return found

    def chunk_coverages(
        self, member_ids: Iterable[uuid.UUID], *, personal: bool = True
    ) -> dict[uuid.UUID, list[m.CoverageView]]:
        """The coverage rows of these members, what adjudication reads of them; ``personal=False``
        only the plans and periods (no birth date or declared conditions read, nothing opened)."""
        wanted = sorted(set(member_ids))
        found: dict[uuid.UUID, list[m.CoverageView]] = {member_id: [] for member_id in wanted}
        if not wanted:
            return found
        shape, tenant_id = (_COVERAGE if personal else _COVERAGE_PLAN), self.uow.require_tenant()
        query = select(*shape.columns).where(shape.table.c.tenant_id == tenant_id, shape.table.c.member_id.in_(wanted))
        for values in self._opened(shape, query) if personal else self._fetched(query):
            found[values["member_id"]].append(_unattached(shape, values, tenant_id))
        return found

    def chunk_claim_headers(self, claim_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        """These claims, as much as an EOB reads of them (no ``detail``): rows of the columns
        ``_EOB_CLAIM`` names, read by attribute as a claim's (``claim.id``, ``claim.billing_npi``)."""
        if not claim_ids:
            return []
        shape, tenant_id = _EOB_CLAIM, self.uow.require_tenant()
        query = select(*shape.columns).where(
            shape.table.c.tenant_id == tenant_id, shape.table.c.id.in_(_in_order(claim_ids))
        )
        return list(self.session.execute(query).all())

    def chunk_results(self, wanted: Collection[tuple[uuid.UUID, int | None]]) -> list[dict[str, Any]]:
        """The adjudications named by (claim id, sequence, or None for the claim's current one), by
        claim id then sequence, as read: what an EOB reads of them, ``result`` still sealed
        (``opened_result`` opens one when its turn comes: a chunk's results decoded at once, with
        their traces, lived long enough for the cyclic collector to walk them again and again)."""
        if not wanted:
            return []
        table = _EOB_RESULT.table
        query = (
            select(*_EOB_RESULT.columns)
            .where(
                table.c.tenant_id == self.uow.require_tenant(),
                table.c.claim_id.in_(_in_order({claim_id for claim_id, _ in wanted})),
            )
            .order_by(table.c.claim_id, table.c.sequence)
        )
        return [
            values
            for values in self._fetched(query)
            if (values["claim_id"], values["sequence"]) in wanted
            or (values["is_current"] and (values["claim_id"], None) in wanted)
        ]

    def opened_result(self, values: dict[str, Any]) -> dict[str, Any]:
        """The ``result`` of one of ``chunk_results``, opened (no record object built: an EOB reads
        only its sequence besides)."""
        tenant_id = self.uow.require_tenant()
        opened = open_row(self._crypto(), self.session.connection(), _EOB_RESULT.table, tenant_id, values)
        result: dict[str, Any] = opened["result"]
        return result

    def payee_facts(self, claim_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str, str]]:
        """(submitter, billing NPI, currency) of each of these claims that exists (``billing_npis``' shape)."""
        wanted = sorted(set(claim_ids))
        found: dict[uuid.UUID, tuple[str, str, str]] = {}
        for start in range(0, len(wanted), 1000):  # a bound list of parameters per query
            query = select(m.Claim.id, m.Claim.submitter, m.Claim.billing_npi, m.Claim.currency).where(
                m.Claim.id.in_(wanted[start : start + 1000])
            )
            found.update(
                {row.id: (row.submitter, row.billing_npi, row.currency) for row in self.session.execute(query)}
            )
        return found

    def _crypto(self) -> FieldCrypto:
        return session_crypto(self.session, "read")

    def _fetched(self, query: Select[Any]) -> list[dict[str, Any]]:
        """The rows of a Core ``query``, each as a dict by column name.

        On SQLite its UUID columns are read as their stored text and made ``UUID``s here
        (``_uuid_of_hex``): the type's own conversion, ``UUID(text)``, was about a fifth of fetching a
        chunk's rows."""
        texts: tuple[str, ...] = ()
        if self._sqlite:
            query, texts = _uuids_as_text(query)
        result = self.session.execute(query)
        names = list(result.keys())
        rows = [dict(zip(names, row, strict=True)) for row in result.all()]
        for name in texts:
            for values in rows:
                text = values[name]
                if text is not None:
                    values[name] = _uuid_of_hex(text)
        return rows

    def _opened(self, shape: _Shape, query: Select[Any]) -> list[dict[str, Any]]:
        """``_fetched``, the PHI columns ``query`` selects opened."""
        rows = self._fetched(query)
        return open_rows(self._crypto(), self.session.connection(), shape.table, self.uow.require_tenant(), rows)

    def intake_coverages(self, member_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[m.CoverageView]]:
        """The coverage rows of these members, as much as intake reads of them (``_INTAKE_COVERAGE``),
        in objects no session tracks; in the order the session's query of whole rows gave them (the
        same statement but its columns), since the first row in force is the claim's coverage."""
        wanted = sorted(set(member_ids))
        found: dict[uuid.UUID, list[m.CoverageView]] = {member_id: [] for member_id in wanted}
        if not wanted:
            return found
        shape, tenant_id = _INTAKE_COVERAGE, self.uow.require_tenant()
        query = select(*shape.columns).where(shape.table.c.member_id.in_(wanted), shape.table.c.tenant_id == tenant_id)
        for values in self._fetched(query):
            found[values["member_id"]].append(_unattached(shape, values, tenant_id))
        return found

    def schedule_views(self, plan_codes: Iterable[str]) -> list[m.BenefitScheduleView]:
        """Every schedule version of these plans, newest first within a plan (``schedule`` deferred, as
        ``schedule_view`` loads it)."""
        query = (
            select(m.BenefitScheduleView)
            .options(defer(m.BenefitScheduleView.schedule))
            .where(m.BenefitScheduleView.plan_code.in_(sorted(set(plan_codes))))
            .order_by(m.BenefitScheduleView.plan_code, m.BenefitScheduleView.effective_from.desc())
        )
        return list(self.session.scalars(query))

    def lock_holders(self, adjudications: dict[str, int]) -> None:
        """``lock_holder`` for many holders at once, in holder order (so two workers never wait on each
        other in a cycle), counting ``adjudications[holder]`` adjudications for each."""
        if not adjudications:
            return
        tenant_id = self.uow.require_tenant()
        table = table_of(m.AccumulatorHolder)
        holders = sorted(adjudications)
        values = [
            {"id": uuid.uuid4(), "tenant_id": tenant_id, "holder_id": holder, "adjudications": 0} for holder in holders
        ]
        insert = sqlite_insert(table) if self._sqlite else pg_insert(table)
        self.session.execute(insert.on_conflict_do_nothing(), values)
        self.session.execute(
            update(table)
            .where(table.c.tenant_id == tenant_id, table.c.holder_id == bindparam("holder"))
            .values(adjudications=table.c.adjudications + bindparam("count")),
            [{"holder": holder, "count": adjudications[holder]} for holder in holders],
        )

    def pended_claims_of_member(self, member_id: uuid.UUID) -> list[m.Claim]:
        return list(
            self.session.scalars(
                select(m.Claim)
                .where(m.Claim.member_id == member_id, m.Claim.status == "PENDED")
                .order_by(m.Claim.received_at)
            )
        )

    def final_claims_of_member(self, member_id: uuid.UUID) -> list[m.Claim]:
        return list(
            self.session.scalars(
                select(m.Claim)
                .where(m.Claim.member_id == member_id, m.Claim.status.in_(FINAL_STATUSES))
                .order_by(m.Claim.received_at, m.Claim.id)
            )
        )

    def claims_of_members(self, member_ids: Iterable[uuid.UUID], *, limit: int) -> list[m.Claim]:
        """A family's claims, newest first (a member's claims page)."""
        wanted = list(member_ids)
        if not wanted:
            return []
        query = select(m.Claim).where(m.Claim.member_id.in_(wanted))
        return list(self.session.scalars(query.order_by(m.Claim.received_at.desc(), m.Claim.id).limit(limit)))

    def claims_of_provider(self, billing_npis: Iterable[str], *, limit: int) -> list[m.Claim]:
        wanted = list(billing_npis)
        if not wanted:
            return []
        query = select(m.Claim).where(m.Claim.billing_npi.in_(wanted))
        return list(self.session.scalars(query.order_by(m.Claim.received_at.desc(), m.Claim.id).limit(limit)))

    def billing_npis(self, claim_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        wanted = sorted(set(claim_ids))
        found: dict[uuid.UUID, str] = {}
        for start in range(0, len(wanted), 1000):  # a bound list of parameters per query
            query = select(m.Claim.id, m.Claim.billing_npi).where(m.Claim.id.in_(wanted[start : start + 1000]))
            found.update({row.id: row.billing_npi for row in self.session.execute(query)})
        return found

    def received_between(self, first: date, last: date) -> list[m.Claim]:
        query = select(m.Claim).where(m.Claim.received_on >= first, m.Claim.received_on <= last)
        return list(self.session.scalars(query))

    def claims_with_decisions(self, claim_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        if not claim_ids:
            return set()
        query = select(m.LineDecision.claim_id).where(m.LineDecision.claim_id.in_(list(claim_ids)))
        return set(self.session.scalars(query))

    def review_queue(
        self,
        *,
        status: str,
        pend_reason: str | None,
        member_id: uuid.UUID | None,
        limit: int,
        offset: int,
        queues: Collection[str] | None = None,
        member_ids: Collection[uuid.UUID] = (),
        npis: Collection[str] = (),
    ) -> list[m.Claim]:
        """A page of the claims of ``status``, oldest first. Unless ``queues`` is None, only the claims
        in one of ``queues``, of one of ``member_ids`` or billed under one of ``npis`` (the caller's
        scope, applied before the page is cut)."""
        query = select(m.Claim).where(m.Claim.status == status)
        if member_id is not None:
            query = query.where(m.Claim.member_id == member_id)
        if queues is not None:
            query = query.where(
                or_(m.Claim.queue.in_(queues), m.Claim.member_id.in_(member_ids), m.Claim.billing_npi.in_(npis))
            )
        rows = list(self.session.scalars(query.order_by(m.Claim.received_at, m.Claim.id)))
        if pend_reason is not None:
            rows = [row for row in rows if pend_reason in (row.pend_reasons or [])]
        return rows[offset : offset + limit]

    def decisions(self, claim_id: uuid.UUID) -> dict[int, m.LineDecision]:
        rows = self.session.scalars(select(m.LineDecision).where(m.LineDecision.claim_id == claim_id))
        return {row.line_number: row for row in rows}

    def documents(self, claim_id: uuid.UUID) -> list[m.ClaimDocument]:
        return list(
            self.session.scalars(
                select(m.ClaimDocument).where(m.ClaimDocument.claim_id == claim_id).order_by(m.ClaimDocument.created_at)
            )
        )

    def new_rows(self, table: Table) -> NewRows:
        """A batch of new rows of ``table`` to insert together (``NewRows``)."""
        return NewRows(self.session.connection(), table, self.uow.require_tenant())

    def idempotency_keys(self, scope: str, keys: Sequence[str]) -> dict[str, m.IdempotencyKey]:
        if not keys:
            return {}
        query = select(m.IdempotencyKey).where(m.IdempotencyKey.scope == scope, m.IdempotencyKey.key.in_(set(keys)))
        return {row.key: row for row in self.session.scalars(query)}

    def idempotency_key(self, scope: str, key: str) -> m.IdempotencyKey | None:
        return self.session.scalars(
            select(m.IdempotencyKey).where(m.IdempotencyKey.scope == scope, m.IdempotencyKey.key == key)
        ).first()

    # -- read models ---------------------------------------------------------------------------------
    def lock_coverage(self, member_ids: Collection[uuid.UUID], *, exclusive: bool = False) -> None:
        """Hold the members' coverage copies still until the transaction ends: shared by an
        adjudication, before it reads them; exclusive by a coverage copy, before it writes them.

        PostgreSQL: a transaction-scoped advisory lock per member (``COVERAGE_LOCK_CLASS`` and 32
        bits of the member id), taken in key order, so an adjudication reading a member's coverage
        waits for a copy being written to commit, and a copy waits for the adjudications reading the
        member's old coverage to commit (its scan for claims to adjudicate again then sees their
        results). SQLite: nothing; every writing unit of work begins IMMEDIATE, one at a time."""
        if self._sqlite or not member_ids:
            return
        keys = sorted({coverage_lock_key(member_id) for member_id in member_ids})
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        self.session.execute(
            text(f"SELECT {function}(:class, key) FROM unnest(CAST(:keys AS integer[])) AS key"),
            {"class": COVERAGE_LOCK_CLASS, "keys": keys},
        )

    def coverages(self, member_id: uuid.UUID) -> list[m.CoverageView]:
        return list(self.session.scalars(select(m.CoverageView).where(m.CoverageView.member_id == member_id)))

    def coverage_of_policy(self, policy_id: uuid.UUID) -> list[m.CoverageView]:
        return list(self.session.scalars(select(m.CoverageView).where(m.CoverageView.policy_id == policy_id)))

    def schedule_view(self, plan_code: str, on: date) -> m.BenefitScheduleView | None:
        # The schedule itself (a large JSON document) loads only when read: adjudication reads its
        # parsed copy, cached by (id, revision).
        rows = self.session.scalars(
            select(m.BenefitScheduleView)
            .options(defer(m.BenefitScheduleView.schedule))
            .where(m.BenefitScheduleView.plan_code == plan_code, m.BenefitScheduleView.effective_from <= on)
            .order_by(m.BenefitScheduleView.effective_from.desc())
        )
        for row in rows:
            if row.effective_to is None or row.effective_to >= on:
                return row
        return None

    def intake_reads(
        self, member_id: uuid.UUID, billing_npi: str
    ) -> tuple[list[m.CoverageView], list[m.BenefitScheduleView], uuid.UUID | None] | None:
        """What intake reads for one claim, in one query: the member's coverage rows, every schedule
        version of their plans (newest first within a plan, ``schedule`` deferred) and the billing
        NPI's provider id. None when the member has no coverage row (the query then says nothing of
        the provider: ask ``provider_id_of``)."""
        rows = list(self.session.execute(_INTAKE_READS, {"member_id": member_id, "npi": billing_npi}))
        if not rows:
            return None
        coverages: dict[uuid.UUID, m.CoverageView] = {}
        schedules: dict[uuid.UUID, m.BenefitScheduleView] = {}
        for coverage, schedule, _ in rows:
            coverages.setdefault(coverage.id, coverage)
            if schedule is not None:
                schedules.setdefault(schedule.id, schedule)
        ordered = sorted(schedules.values(), key=lambda view: (view.plan_code, view.effective_from), reverse=True)
        return list(coverages.values()), ordered, rows[0][2]

    def schedule_version(self, plan_code: str, version: int) -> m.BenefitScheduleView | None:
        return self.session.scalars(
            select(m.BenefitScheduleView).where(
                m.BenefitScheduleView.plan_code == plan_code, m.BenefitScheduleView.plan_version == version
            )
        ).first()

    def providers(self, npis: Iterable[str]) -> dict[str, m.ProviderView]:
        wanted = sorted(set(npis))
        rows = self.session.scalars(
            select(m.ProviderView)
            .options(defer(m.ProviderView.contract), defer(m.ProviderView.periods))
            .where(m.ProviderView.npi.in_(wanted))
        )
        return {row.npi: row for row in rows}

    def provider_count(self) -> int:
        return self.session.scalar(select(func.count(m.ProviderView.id))) or 0

    def provider_ids(self, npis: Iterable[str]) -> dict[str, uuid.UUID]:
        """The provider id of each of these NPIs claims knows (no ``ProviderView`` loaded)."""
        query = select(m.ProviderView.npi, m.ProviderView.provider_id).where(m.ProviderView.npi.in_(sorted(set(npis))))
        return {row.npi: row.provider_id for row in self.session.execute(query)}

    def provider_id_of(self, npi: str) -> uuid.UUID | None:
        return self.session.scalars(select(m.ProviderView.provider_id).where(m.ProviderView.npi == npi)).first()

    def provider(self, npi: str) -> m.ProviderView | None:
        return self.session.scalars(select(m.ProviderView).where(m.ProviderView.npi == npi)).first()

    # -- accumulators ------------------------------------------------------------------------------
    def lock_holder(self, holder_id: str) -> None:
        """Serialise adjudications touching one family's (or self-only member's) accumulators.

        PostgreSQL: the holder row is created if missing, then locked FOR UPDATE until commit.
        SQLite: every writing unit of work begins IMMEDIATE, so writers are already serialised.
        """
        tenant_id = self.uow.require_tenant()
        table = table_of(m.AccumulatorHolder)
        values = {"id": uuid.uuid4(), "tenant_id": tenant_id, "holder_id": holder_id, "adjudications": 0}
        if self._sqlite:
            self.session.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())
        else:
            self.session.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
        self.session.execute(
            update(m.AccumulatorHolder)
            .where(m.AccumulatorHolder.holder_id == holder_id)
            .values(adjudications=m.AccumulatorHolder.adjudications + 1)
            .execution_options(synchronize_session=False)
        )

    def accumulators(self, holder_ids: Iterable[str], plan_years: Iterable[date] | None = None) -> list[m.Accumulator]:
        query = select(m.Accumulator).where(m.Accumulator.holder_id.in_(sorted(set(holder_ids))))
        if plan_years is not None:
            query = query.where(m.Accumulator.plan_year.in_(sorted(set(plan_years))))
        return list(self.session.scalars(query))

    # -- one member's records (a deletion request: ``personal_data.py``) ------------------------------
    def claim_dates_of_members(self, member_ids: Collection[uuid.UUID]) -> list[tuple[uuid.UUID, date]]:
        """(id, first date of service) of every claim of these members, whatever its status, in that
        order (nothing opened)."""
        query = (
            select(m.Claim.id, m.Claim.service_date_from)
            .where(m.Claim.member_id.in_(sorted(set(member_ids))))
            .order_by(m.Claim.service_date_from, m.Claim.received_at, m.Claim.id)
        )
        return [(row.id, row.service_date_from) for row in self.session.execute(query)]

    def claims_of_members_by_id(
        self, claim_ids: Collection[uuid.UUID], member_ids: Collection[uuid.UUID]
    ) -> list[m.Claim]:
        """Those of these claims that belong to one of these members, in id order."""
        if not claim_ids:
            return []
        query = select(m.Claim).where(
            m.Claim.id.in_(_in_order(claim_ids)), m.Claim.member_id.in_(sorted(set(member_ids)))
        )
        return list(self.session.scalars(query.order_by(m.Claim.id)))

    def documents_of(self, claim_ids: Collection[uuid.UUID]) -> list[m.ClaimDocument]:
        if not claim_ids:
            return []
        query = select(m.ClaimDocument).where(m.ClaimDocument.claim_id.in_(_in_order(claim_ids)))
        return list(self.session.scalars(query.order_by(m.ClaimDocument.claim_id, m.ClaimDocument.created_at)))

    def appeal_waivers(self, claim_id: uuid.UUID) -> dict[int, frozenset[Carc]]:
        """The denials overturned appeals set aside on the claim, per line number."""
        rows = self.session.execute(
            select(m.AppealWaiver.line_number, m.AppealWaiver.carc).where(m.AppealWaiver.claim_id == claim_id)
        )
        waived: dict[int, set[Carc]] = {}
        for line_number, carc in rows:
            waived.setdefault(line_number, set()).add(Carc(carc))
        return {line_number: frozenset(carcs) for line_number, carcs in waived.items()}

    def decisions_of(self, claim_ids: Collection[uuid.UUID]) -> list[m.LineDecision]:
        if not claim_ids:
            return []
        query = select(m.LineDecision).where(m.LineDecision.claim_id.in_(_in_order(claim_ids)))
        return list(self.session.scalars(query))

    def delete_documents(self, document_ids: Collection[uuid.UUID]) -> None:
        if document_ids:
            self.session.execute(delete(m.ClaimDocument).where(m.ClaimDocument.id.in_(_in_order(document_ids))))

    def delete_idempotency_keys(self, claim_ids: Collection[uuid.UUID]) -> None:
        """The idempotency keys that answer with these claims."""
        if claim_ids:
            self.session.execute(delete(m.IdempotencyKey).where(m.IdempotencyKey.claim_id.in_(_in_order(claim_ids))))

    def delete_claims(self, claim_ids: Collection[uuid.UUID]) -> None:
        """These claims and every row of theirs: lines, diagnoses, adjudications, status history,
        examiners' decisions, appeals' waivers, documents (the objects are the caller's) and
        idempotency keys."""
        if not claim_ids:
            return
        ids = _in_order(claim_ids)
        for model in (
            m.ClaimLine, m.ClaimDiagnosis, m.AdjudicationRecord, m.ClaimStatusChange, m.LineDecision, m.AppealWaiver,
        ):  # fmt: skip
            self.session.execute(delete(model).where(model.claim_id.in_(ids)))
        self.session.execute(delete(m.ClaimDocument).where(m.ClaimDocument.claim_id.in_(ids)))
        self.delete_idempotency_keys(ids)
        self.session.execute(delete(m.Claim).where(m.Claim.id.in_(ids)))

    def accumulator_years(self, holder_ids: Collection[str]) -> list[date]:
        """The plan years these holders have accumulators of, in order."""
        query = select(m.Accumulator.plan_year).where(m.Accumulator.holder_id.in_(sorted(set(holder_ids))))
        return sorted(set(self.session.scalars(query)))

    def rename_accumulators(
        self, holder_ids: Collection[str], plan_years: Collection[date], new_holder_id: str
    ) -> None:
        """Key these holders' accumulators of these plan years to another holder id (a pseudonym)."""
        if not holder_ids or not plan_years:
            return
        self.session.execute(
            update(m.Accumulator)
            .where(
                m.Accumulator.holder_id.in_(sorted(set(holder_ids))),
                m.Accumulator.plan_year.in_(sorted(set(plan_years))),
            )
            .values(holder_id=new_holder_id)
        )

    def delete_accumulators(self, holder_ids: Collection[str], plan_years: Collection[date]) -> None:
        if not holder_ids or not plan_years:
            return
        self.session.execute(
            delete(m.Accumulator).where(
                m.Accumulator.holder_id.in_(sorted(set(holder_ids))),
                m.Accumulator.plan_year.in_(sorted(set(plan_years))),
            )
        )

    def rename_accumulator_holder(self, holder_id: str, new_holder_id: str) -> None:
        """Move a holder's lock row to another holder id (a pseudonym)."""
        self.session.execute(
            update(m.AccumulatorHolder)
            .where(m.AccumulatorHolder.holder_id == holder_id)
            .values(holder_id=new_holder_id)
        )

    def delete_accumulator_holders(self, holder_ids: Collection[str]) -> None:
        """These holders' lock rows (``lock_holder`` makes one again when it is next needed)."""
        if holder_ids:
            self.session.execute(
                delete(m.AccumulatorHolder).where(m.AccumulatorHolder.holder_id.in_(sorted(set(holder_ids))))
            )

    def coverages_of_members(self, member_ids: Collection[uuid.UUID]) -> list[m.CoverageView]:
        """These members' coverage rows (birth date and declared conditions opened), by id."""
        query = select(m.CoverageView).where(m.CoverageView.member_id.in_(sorted(set(member_ids))))
        return list(self.session.scalars(query.order_by(m.CoverageView.id)))

    def delete_coverages(self, coverage_ids: Collection[uuid.UUID]) -> None:
        if coverage_ids:
            self.session.execute(delete(m.CoverageView).where(m.CoverageView.id.in_(_in_order(coverage_ids))))
