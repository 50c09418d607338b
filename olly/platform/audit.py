"""Append-only, hash-chained audit trail of PHI access and changes.

Every record is linked to the previous record of its **chain** by SHA-256 over a canonical JSON
encoding (sorted keys, no whitespace, UTC timestamps in microseconds). One global chain would make
every append wait for the one before it, so the trail has ``OLLY_AUDIT_CHAINS`` parallel chains
(default 8): an append locks only its chain's head row for a few statements, and ``verify`` walks
each chain on its own. The database itself refuses UPDATE and DELETE on the records (triggers on
SQLite and PostgreSQL, created by the migration).

``verify`` reports the first broken link of each chain: a record whose content no longer matches
its hash (modified), a gap in the sequence (deleted), a record whose ``prev_hash`` does not match
its predecessor or that lies beyond the chain head (inserted).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from olly.kernel.ids import uuid7
from olly.platform.batching import BatchWriter, Sink
from olly.platform.db import Base, Database, insert_rows, table_of
from olly.platform.logging import get_logger

log = get_logger("olly.audit")

GENESIS: Final = "0" * 64
MAX_CHAINS: Final = 64

Outcome = Literal["allowed", "denied", "error"]

# Built once (``json.dumps`` with options builds an encoder per call); the output is what
# ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=...)`` gives.
_CANONICAL_JSON: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_DETAIL_JSON: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"), {"schema": "platform"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    chain: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    subject: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    """JSON of non-PHI particulars (a reason code, a field list); never values of PHI fields."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    __tablename__ = "audit_chain_heads"
    __table_args__ = {"schema": "platform"}

    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What happened; the trail adds id, chain, sequence and hashes."""

    subject: str
    role: str
    action: str
    resource_type: str
    resource_id: str | None = None
    outcome: Outcome = "allowed"
    purpose: str | None = None
    request_id: str | None = None
    tenant_id: uuid.UUID | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(row: dict[str, Any]) -> bytes:
    """The bytes a record's hash covers: every column but ``hash``, in a fixed encoding."""
    body = {
        "id": str(row["id"]),
        "chain": int(row["chain"]),
        "seq": int(row["seq"]),
        "tenant_id": str(row["tenant_id"]) if row["tenant_id"] is not None else None,
        "occurred_at": _ts(row["occurred_at"]),
        "subject": row["subject"],
        "role": row["role"],
        "action": row["action"],
        "resource_type": row["resource_type"],
        "resource_id": row["resource_id"],
        "outcome": row["outcome"],
        "purpose": row["purpose"],
        "request_id": row["request_id"],
        "detail": row["detail"],
        "prev_hash": row["prev_hash"],
    }
    return _CANONICAL_JSON.encode(body).encode()


def record_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


class AuditTrail:
    """Appends records. ``record`` writes at once in its own transaction; ``append`` writes inside the
    caller's; ``submit`` hands records to a background writer that commits them in batches (group
    commit), for hot read paths where a commit per request would cost more than the work itself.
    That writer is a thread of this process, or, once ``hand_over_to`` is given the writer process's
    hand-off (``olly serve``), a process of its own that appends them the same way."""

    def __init__(
        self,
        db: Database,
        chains: int | None = None,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.02,
        max_pending: int = 50_000,
    ) -> None:
        self.db = db
        self.chains = min(chains or db.settings.audit_chains, MAX_CHAINS)
        self._random = random.Random()  # noqa: S311 - spreads appends over chains; not a secret
        self._writer = BatchWriter(
            self.write_batch,
            name="olly-audit-writer",
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_pending=max_pending,
        )
        self._sink: Sink[AuditRecord] = self._writer

    # -- buffered writer -------------------------------------------------------------------------
    def submit(self, *records: AuditRecord) -> None:
        """Queue records for the background writer; they are committed within ``flush_interval``
        (20 ms). Beyond ``max_pending`` queued records the caller waits for the writer."""
        sink = self._sink
        for item in records:
            sink.submit(item)

    def hand_over_to(self, sink: Sink[AuditRecord] | None) -> None:
        """Send submitted records to ``sink`` (the writer process's hand-off) from now on, or with
        ``None`` back to this process's writer. What this process's writer holds is written first."""
        if sink is not None:
            self._writer.flush()
        self._sink = sink or self._writer

    def flush(self, timeout: float = 30.0) -> None:
        """Block until every record submitted so far is committed."""
        self._writer.flush(timeout)
        if self._sink is not self._writer:
            self._sink.flush(timeout)

    def close(self) -> None:
        self._writer.close()

    def write_batch(self, batch: list[AuditRecord]) -> None:
        """Append ``batch`` in one transaction, retrying until it is written (the background writer's
        ``write``; the writer process's hand-off calls it when it writes in this process instead)."""
        delay = 0.05
        while batch:
            try:
                self.record(*batch)
                return
            except Exception:  # the trail must not drop records: keep them and try again
                log.exception("audit batch not written; retrying", records=len(batch))
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def record(self, *records: AuditRecord) -> list[uuid.UUID]:
        """Append in a transaction of its own, so a refusal is kept even when the request fails."""
        with self.db.connect() as connection:
            return self.append(connection, records)

    def append(self, connection: Connection, records: Iterable[AuditRecord]) -> list[uuid.UUID]:
        """Append inside the caller's transaction (so a PHI write and its record commit together)."""
        items = list(records)
        if not items:
            return []
        chain = self._random.randrange(self.chains)
        heads = table_of(AuditChainHead)
        events = table_of(AuditEvent)
        head = connection.execute(
            select(heads.c.seq, heads.c.hash).where(heads.c.chain == chain).with_for_update()
        ).first()
        if head is None:
            connection.execute(heads.insert().values(chain=chain, seq=0, hash=GENESIS))
            seq, prev = 0, GENESIS
        else:
            seq, prev = int(head.seq), str(head.hash)
        now = self.db.clock.now()
        rows, ids = [], []
        for item in items:
            seq += 1
            row: dict[str, Any] = {
                "id": uuid7(),
                "chain": chain,
                "seq": seq,
                "tenant_id": item.tenant_id,
                "occurred_at": now,
                "subject": item.subject,
                "role": item.role,
                "action": item.action,
                "resource_type": item.resource_type,
                "resource_id": item.resource_id,
                "outcome": item.outcome,
                "purpose": item.purpose,
                "request_id": item.request_id,
                "detail": _DETAIL_JSON.encode(item.detail) if item.detail else None,
                "prev_hash": prev,
            }
            row["hash"] = prev = record_hash(row)
            rows.append(row)
            ids.append(row["id"])
        insert_rows(connection, events, rows)
        connection.execute(update(heads).where(heads.c.chain == chain).values(seq=seq, hash=prev))
        return ids


@dataclass(frozen=True, slots=True)
class BrokenLink:
    chain: int
    seq: int
    kind: Literal["modified", "deleted", "inserted"]
    record_id: str | None
    explanation: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    records: int
    chains: int
    broken: tuple[BrokenLink, ...]

    @property
    def ok(self) -> bool:
        return not self.broken


def _walk(connection: Connection, chain: int) -> Iterator[dict[str, Any]]:
    events = table_of(AuditEvent)
    last = 0
    while True:
        rows = (
            connection.execute(
                select(events).where(events.c.chain == chain, events.c.seq > last).order_by(events.c.seq).limit(5000)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last = int(rows[-1]["seq"])


def verify(db: Database) -> VerifyReport:
    """Walk every chain and report the first broken link of each."""
    events = table_of(AuditEvent)
    heads = table_of(AuditChainHead)
    broken: list[BrokenLink] = []
    total = 0
    with db.connect() as connection:
        head_rows = {int(r.chain): (int(r.seq), str(r.hash)) for r in connection.execute(select(heads))}
        chains = sorted(set(head_rows) | set(connection.execute(select(events.c.chain).distinct()).scalars()))
        for chain in chains:
            expected_seq, prev = 1, GENESIS
            head_seq, head_hash = head_rows.get(chain, (0, GENESIS))
            problem: BrokenLink | None = None
            for row in _walk(connection, chain):
                total += 1
                if problem is not None:
                    continue
                seq, rid = int(row["seq"]), str(row["id"])
                if seq > head_seq:
                    problem = BrokenLink(chain, seq, "inserted", rid, "record lies beyond the chain head")
                elif seq != expected_seq:
                    problem = BrokenLink(
                        chain, expected_seq, "deleted", None, f"records {expected_seq}..{seq - 1} are missing"
                    )
                elif record_hash(row) != row["hash"]:
                    problem = BrokenLink(chain, seq, "modified", rid, "content does not match its hash")
                elif row["prev_hash"] != prev:
                    problem = BrokenLink(chain, seq, "inserted", rid, "previous hash does not match its predecessor")
                else:
                    prev, expected_seq = str(row["hash"]), seq + 1
            if problem is None and expected_seq - 1 != head_seq:
                problem = BrokenLink(
                    chain, expected_seq, "deleted", None, f"records {expected_seq}..{head_seq} are missing"
                )
            elif problem is None and prev != head_hash:
                problem = BrokenLink(chain, head_seq, "modified", None, "chain head does not match the last record")
            if problem is not None:
                broken.append(problem)
    return VerifyReport(total, len(chains), tuple(broken))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit record as an operator's search lists it: who, what, which kind, the outcome; no detail
    field (it may name fields a person changed), and resource ids are opaque identifiers."""

    occurred_at: datetime
    subject: str
    role: str
    action: str
    resource_type: str
    resource_id: str | None
    outcome: str
    purpose: str | None
    request_id: str | None


def search(
    db: Database,
    tenant_id: uuid.UUID,
    *,
    subject: str | None = None,
    action: str | None = None,
    resource_id: str | None = None,
    outcome: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """One tenant's audit records matching every filter given (exact matches), newest first."""
    events = table_of(AuditEvent)
    query = select(events).where(events.c.tenant_id == tenant_id)
    for column, value in (
        ("subject", subject),
        ("action", action),
        ("resource_id", resource_id),
        ("outcome", outcome),
    ):
        if value:
            query = query.where(events.c[column] == value)
    with db.engine.connect() as connection:
        rows = connection.execute(query.order_by(events.c.occurred_at.desc(), events.c.seq.desc()).limit(limit)).all()
    return [
        AuditEntry(
            r.occurred_at,
            r.subject,
            r.role,
            r.action,
            r.resource_type,
            r.resource_id,
            r.outcome,
            r.purpose,
            r.request_id,
        )
        for r in rows
    ]
