"""One claim taken in alone: coverage, schedules and the provider read in one query before anything
is written, the idempotency record written with the claim, and two racing first uses of a key
still give one claim (the loser answered 409 on PostgreSQL, the first submission on SQLite, where
writers queue)."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import event, select

from olly.claims import models as m
from olly.claims import service
from olly.claims.schemas import ClaimCreate
from olly.kernel.errors import Conflict
from olly.platform.runtime import Platform
from tests.integration.claims.support import ClaimsWorld, claim_body, line, seed


def statements_of(platform: Platform, tenant_id: uuid.UUID, body: ClaimCreate, key: str | None) -> list[str]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()[:3]))

    event.listen(platform.db.engine, "before_cursor_execute", count)
    try:
        with platform.db.unit_of_work(tenant_id) as uow:
            service.submit(uow, body, source="API", idempotency_key=key)
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", count)
    return [s for s in seen if not s.startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "COMMIT"))]


def test_one_claim_reads_once_and_writes_its_key_with_it(platform: Platform, tenant_id: uuid.UUID) -> None:
    world: ClaimsWorld = seed(platform, tenant_id)
    body = ClaimCreate.model_validate(claim_body(world.ana, line("99213", "150.00")))
    first = statements_of(platform, tenant_id, body, None)
    assert [s for s in first if "claim_benefit_schedules.schedule" in s]  # the plan's schedule, once per process
    plain = statements_of(platform, tenant_id, body, None)
    (read,) = [s for s in plain if s.startswith("SELECT")]
    assert read.split()[1].endswith(".claim_coverages.id,")  # coverage, schedules and provider joined
    # claim, line, diagnosis, raw-payload document, history, outbox
    assert len([s for s in plain if s.startswith("INSERT")]) == 6
    keyed = statements_of(platform, tenant_id, body, "visit-1")
    # the key looked up, the same read, and one more insert: the key's record, in the claim's flush
    assert len([s for s in keyed if s.startswith("SELECT")]) == 2
    assert len([s for s in keyed if s.startswith("INSERT")]) == 7
    assert len(statements_of(platform, tenant_id, body, "visit-1")) == 1  # answered again from the key


def test_two_racing_first_uses_of_a_key_make_one_claim(platform: Platform, tenant_id: uuid.UUID) -> None:
    world: ClaimsWorld = seed(platform, tenant_id)
    body = ClaimCreate.model_validate(claim_body(world.ana, line("99213", "150.00")))
    first_written = threading.Event()
    answers: list[object] = []

    def second() -> None:
        first_written.wait(10)
        try:
            with platform.db.unit_of_work(tenant_id) as uow:
                answers.append(service.submit(uow, body, source="API", idempotency_key="race"))
        except Conflict as refused:
            answers.append(refused)

    racer = threading.Thread(target=second)
    racer.start()
    with platform.db.unit_of_work(tenant_id) as uow:
        first = service.submit(uow, body, source="API", idempotency_key="race")
        first_written.set()
        racer.join(0.5)  # the second waits for this transaction (row lock, or SQLite's writer queue)
    racer.join(10)
    assert not racer.is_alive()
    (answer,) = answers
    if platform.db.engine.dialect.name == "postgresql":
        assert isinstance(answer, Conflict) and answer.detail == service.KEY_IN_PROGRESS
    else:
        assert isinstance(answer, service.Submission) and (answer.claim_id, answer.replayed) == (first.claim_id, True)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert list(uow.session.scalars(select(m.Claim.id))) == [first.claim_id]
