"""A chunk of submitted claims adjudicated set-based (``service.ChunkReads``, what the adjudication
worker does) stores exactly what adjudicating them one by one (``service.adjudicate_claim``) stores:
every claim, line, result, trace, status change, document, accumulator, authorisation unit and event.

The chunk mixes what must see earlier claims of the same chunk: two members of one family (the
second sees the family deductible the first moved), an exact duplicate of a claim earlier in the
chunk and one of a claim finalised before it, a replacement of a claim of the same chunk, a claim
using an authorisation's units, an out-of-network claim, a pend (an authorisation
never requested) and a denial (a member claims knows no coverage for).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase

from olly.claims import authorization_models as auth_models
from olly.claims import models as m
from olly.claims import public, service
from olly.claims.schemas import ClaimCreate
from olly.platform.bus.dispatch import METRICS
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform
from tests.integration.claims.support import (
    NPI_OUT,
    ClaimsWorld,
    claim_body,
    decide_auth,
    drain,
    line,
    request_auth,
    seed,
)

TABLES: tuple[type[DeclarativeBase], ...] = (
    m.Claim,
    m.ClaimLine,
    m.AdjudicationRecord,
    m.ClaimStatusChange,
    m.ClaimDocument,
    m.Accumulator,
    m.AccumulatorHolder,
    auth_models.PriorAuthorizationService,
    auth_models.PriorAuthorizationUsage,
)
KEPT_IDS = (m.Claim, m.ClaimLine, auth_models.PriorAuthorizationService)
"""Rows that exist before adjudication keep their ids; rows it creates get new ids in each run."""
OBJECT_KEYS = ("object_key", "eob_object_key", "eobS3Key")
"""Object-store keys are new in each run (the stored content is compared through its digest)."""


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def submit(platform: Platform, tenant_id: uuid.UUID, body: dict[str, Any]) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id


def stored(uow: UnitOfWork) -> dict[str, list[str]]:
    """Every stored value of the tables adjudication writes, and the events it published, comparable."""
    uow.flush()
    found: dict[str, list[str]] = {}
    for model in TABLES:
        rows = []
        for row in uow.session.scalars(select(model)):
            values = {attr.key: getattr(row, attr.key) for attr in model.__mapper__.column_attrs}
            if model not in KEPT_IDS:
                values.pop("id")
            for key in OBJECT_KEYS:
                if key in values:
                    values[key] = values[key] is not None
            rows.append(repr(sorted(values.items())))
        found[model.__name__] = sorted(rows)
    events = []
    for event in uow.pending_events:
        payload = {k: (v is not None if k in OBJECT_KEYS else v) for k, v in event.payload.items()}
        events.append(repr((event.topic, event.key, sorted(payload.items()), event.causation_id)))
    found["events"] = events
    return found


def adjudicated(platform: Platform, tenant_id: uuid.UUID, run: Callable[[UnitOfWork], None]) -> dict[str, list[str]]:
    """What ``run`` stores, rolled back afterwards so the next run starts from the same state."""
    with platform.db.unit_of_work(tenant_id) as uow:
        run(uow)
        found = stored(uow)
        uow.rollback()
    return found


def mixed_chunk(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld) -> list[uuid.UUID]:
    """The chunk of the module's docstring, submitted (and the claim it duplicates adjudicated)."""
    auth_id = request_auth(platform, tenant_id, world.solo, units=2)
    decide_auth(platform, tenant_id, auth_id)
    earlier = submit(platform, tenant_id, claim_body(world.solo, line("10060", "500.00", "2026-01-03")))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.adjudicate_claim(uow, earlier)
    stranger = uuid.uuid4()
    chunk = [
        submit(platform, tenant_id, claim_body(world.ana, line("29880", "2000.00", "2026-01-05"))),
        submit(platform, tenant_id, claim_body(world.ben, line("29880", "2000.00", "2026-01-05"))),
        submit(platform, tenant_id, claim_body(world.ana, line("29880", "2000.00", "2026-01-05"))),
        submit(platform, tenant_id, claim_body(world.solo, line("10060", "500.00", "2026-01-03"))),
        submit(platform, tenant_id, claim_body(world.solo, line("29881", "1800.00", "2026-01-07"))),
        submit(platform, tenant_id, claim_body(world.ben, line("99213", "150.00"), billingNpi=NPI_OUT)),
        submit(platform, tenant_id, claim_body(stranger, line("99213", "150.00"))),
        submit(platform, tenant_id, claim_body(world.ben, line("29881", "1800.00", "2026-01-08"))),
    ]
    chunk.append(
        submit(
            platform,
            tenant_id,
            claim_body(world.ana, line("10060", "500.00", "2026-01-05"), frequency="7", originalClaimId=str(chunk[0])),
        )
    )
    chunk.append(uuid.uuid4())  # an event whose claim does not exist: nothing to adjudicate
    return chunk


def test_a_mixed_chunk_stores_exactly_what_one_by_one_stores(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    chunk = mixed_chunk(platform, tenant_id, world)

    def one_by_one(uow: UnitOfWork) -> None:
        for claim_id in chunk:
            service.adjudicate_claim(uow, claim_id, missing_ok=True)

    def as_a_chunk(uow: UnitOfWork) -> None:
        reads = service.ChunkReads(uow, chunk)
        for claim_id in chunk:
            reads.adjudicate(claim_id)

    expected = adjudicated(platform, tenant_id, one_by_one)
    assert adjudicated(platform, tenant_id, as_a_chunk) == expected

    # The chunk covers what it claims to: each claim's status after adjudication, in chunk order.
    with platform.db.unit_of_work(tenant_id) as uow:
        as_a_chunk(uow)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        statuses = {row.id: (row.status, tuple(row.pend_reasons)) for row in uow.session.scalars(select(m.Claim))}
        duplicate_lines = uow.session.scalars(
            select(m.ClaimLine).where(m.ClaimLine.claim_id.in_([chunk[2], chunk[3]]))
        ).all()
        usages = uow.session.scalars(select(auth_models.PriorAuthorizationUsage)).all()
    assert [statuses[claim_id][0] for claim_id in chunk[:-1]] == [
        "REPLACED",  # by chunk[8], later in the same chunk
        "APPROVED",
        "DENIED",  # duplicate of chunk[0], adjudicated just before it in the chunk
        "DENIED",  # duplicate of a claim finalised before the chunk
        "APPROVED",  # one of the two authorised units
        "APPROVED",  # out of network
        "DENIED",  # no coverage known
        "PENDED",  # no authorisation requested
        "APPROVED",  # the replacement
    ]
    assert statuses[chunk[7]][1] == ("PRIOR_AUTH_REQUIRED",)
    assert sorted(ln.adjustments[0]["carc"] for ln in duplicate_lines) == ["18", "18"]
    assert [(u.claim_id, u.units) for u in usages] == [(chunk[4], 1)]


def test_the_database_holds_exactly_the_rows_of_one_by_one_and_what_the_session_shows(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """The rows are written as multi-row statements, not by the ORM (``writes.py``): read back with
    fresh objects, a chunk's rows are exactly one-by-one's, and exactly what the objects the
    adjudication changed in memory (claims, lines, accumulators) showed before."""
    chunk = mixed_chunk(platform, tenant_id, world)

    def read_back(run: Callable[[UnitOfWork], None]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        with platform.db.unit_of_work(tenant_id) as uow:
            run(uow)
            in_memory = stored(uow)
            uow.session.expunge_all()
            in_database = stored(uow)
            uow.rollback()
        return in_memory, in_database

    def one_by_one(uow: UnitOfWork) -> None:
        for claim_id in chunk:
            service.adjudicate_claim(uow, claim_id, missing_ok=True)

    def as_a_chunk(uow: UnitOfWork) -> None:
        reads = service.ChunkReads(uow, chunk)
        for claim_id in chunk:
            reads.adjudicate(claim_id)

    chunk_memory, chunk_database = read_back(as_a_chunk)
    single_memory, single_database = read_back(one_by_one)
    assert chunk_database == single_database
    assert chunk_memory == chunk_database
    assert single_memory == single_database
    # one result per claim of the chunk (the last does not exist) and the earlier claim's
    assert len(chunk_database["AdjudicationRecord"]) == len(chunk)
    assert chunk_database["Accumulator"]


def test_a_pended_claim_twice_in_a_chunk_reads_its_first_result_back(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """The second adjudication of a claim pended earlier in the same chunk reads the first's result
    (still queued, see ``writes.py``) to number its own and retire the first, as one by one."""
    pended = submit(platform, tenant_id, claim_body(world.ben, line("29881", "1800.00", "2026-01-08")))
    chunk = [pended, pended]

    def one_by_one(uow: UnitOfWork) -> None:
        for claim_id in chunk:
            service.adjudicate_claim(uow, claim_id)

    def as_a_chunk(uow: UnitOfWork) -> None:
        reads = service.ChunkReads(uow, chunk)
        for claim_id in chunk:
            reads.adjudicate(claim_id)

    expected = adjudicated(platform, tenant_id, one_by_one)
    found = adjudicated(platform, tenant_id, as_a_chunk)
    # Left out: the holders' lock counter, which a chunk counts once per claim, not per message
    # (a chunk locks up front, before it knows whether the first adjudication leaves the claim open).
    found.pop("AccumulatorHolder")
    expected.pop("AccumulatorHolder")
    assert found == expected
    with platform.db.unit_of_work(tenant_id) as uow:
        as_a_chunk(uow)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        results = uow.session.scalars(select(m.AdjudicationRecord).order_by(m.AdjudicationRecord.sequence)).all()
    assert [(r.sequence, r.status, r.is_current) for r in results] == [(1, "PENDED", False), (2, "PENDED", True)]


def test_a_failing_claim_leaves_the_rest_of_its_chunk_adjudicated(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = [
        submit(platform, tenant_id, claim_body(member, line("99213", "150.00", f"2026-01-{day:02d}")))
        for day, member in enumerate((world.ana, world.ben, world.solo, world.ana), start=5)
    ]
    bad = claims[1]
    real = service.engine_claim

    def failing(claim: m.Claim, *args: Any) -> Any:
        if claim.id == bad:
            raise ValueError("malformed claim")  # terminal: dead-lettered without retries
        return real(claim, *args)

    monkeypatch.setattr(service, "engine_claim", failing)
    dead_before = METRICS.snapshot()["dead_lettered"]
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        statuses = {row.id: row.status for row in uow.session.scalars(select(m.Claim))}
        results = uow.session.scalars(select(m.AdjudicationRecord.claim_id)).all()
        accumulators = {
            (row.holder_id, row.kind, row.level): row.used
            for row in uow.session.scalars(select(m.Accumulator))
            if row.plan_year == date(2026, 1, 1)
        }
    assert [statuses[claim_id] for claim_id in claims] == ["APPROVED", "RECEIVED", "APPROVED", "APPROVED"]
    assert sorted(results) == sorted([claims[0], claims[2], claims[3]])
    assert METRICS.snapshot()["dead_lettered"] - dead_before == 1
    # 99213 is an office visit with a 25.00 copay (towards out of pocket): twice for Ana, once for Solo, none for Ben.
    assert accumulators == {
        (str(world.ana), "OUT_OF_POCKET", "MEMBER"): 5000,
        (str(world.family_id), "OUT_OF_POCKET", "FAMILY"): 5000,
        (str(world.solo), "OUT_OF_POCKET", "MEMBER"): 2500,
    }


def test_an_earlier_claim_replaced_in_a_chunk_is_no_duplicate_for_the_claims_after(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """The chunk reads an earlier finalised claim once, for the duplicate edit; when a claim of the
    chunk replaces it, the claims after see it replaced (not final) through that same object, as
    one by one does through the database."""
    earlier = submit(platform, tenant_id, claim_body(world.solo, line("10060", "500.00", "2026-01-03")))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.adjudicate_claim(uow, earlier)
    chunk = [
        submit(
            platform,
            tenant_id,
            claim_body(world.solo, line("99213", "150.00", "2026-01-03"), frequency="7", originalClaimId=str(earlier)),
        ),
        submit(platform, tenant_id, claim_body(world.solo, line("10060", "500.00", "2026-01-03"))),
    ]

    def one_by_one(uow: UnitOfWork) -> None:
        for claim_id in chunk:
            service.adjudicate_claim(uow, claim_id)

    def as_a_chunk(uow: UnitOfWork) -> None:
        reads = service.ChunkReads(uow, chunk)
        for claim_id in chunk:
            reads.adjudicate(claim_id)

    expected = adjudicated(platform, tenant_id, one_by_one)
    assert adjudicated(platform, tenant_id, as_a_chunk) == expected
    with platform.db.unit_of_work(tenant_id) as uow:
        as_a_chunk(uow)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        statuses = {row.id: row.status for row in uow.session.scalars(select(m.Claim))}
    assert [statuses[earlier], *(statuses[claim_id] for claim_id in chunk)] == ["REPLACED", "APPROVED", "APPROVED"]
