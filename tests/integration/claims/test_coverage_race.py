"""An adjudication and a coverage copy of the same member at the same moment, on PostgreSQL (where
several workers run them at once; SQLite's writers take turns, so the race cannot happen there).

Whichever starts first, the claim ends as the coverage now stands: an adjudication that would read
the member's coverage while a copy is being written waits for the copy to commit; a copy written
while an adjudication holds the member's old coverage waits for it to commit, and then adjudicates
its denial again. Before the member's coverage lock, the first case denied the claim CO-31 for
good (the copy's scan ran before the denial existed) and so did the second."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import delete, text

from olly.claims import backfill, handlers, service
from olly.claims import models as m
from olly.claims.repository import ClaimsRepository
from olly.kernel.clock import FixedClock
from olly.platform.bus.messages import Message
from olly.platform.runtime import Platform
from tests.conftest import make_database_url, make_settings, start_platform
from tests.integration.claims.support import claim_body, line
from tests.integration.claims.test_coverage_reprocessing import PAID_VISIT, covered, history
from tests.integration.claims.test_read_model_revisions import lines_of, submit


@pytest.fixture
def platform(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> Iterator[Platform]:
    """PostgreSQL only (see the module's docstring)."""
    for url in make_database_url("postgresql", request, tmp_path):
        built = start_platform(make_settings(url, tmp_path), clock)
        yield built
        built.close()


def claim_awaiting_coverage(platform: Platform, tenant_id: uuid.UUID, ana: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """Ana's policy is in force but its event has not reached claims yet; her visit is submitted."""
    policy_id = covered(platform, tenant_id, ana)
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.session.execute(delete(m.CoverageView).where(m.CoverageView.member_id == ana))
    return policy_id, submit(platform, tenant_id, claim_body(ana, line("99213", "150.00", "2026-01-10")))


def copy_coverage(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        handlers.on_enrollment_changed(uow, cast(Message, SimpleNamespace(payload={"enrollmentId": str(policy_id)})))


def adjudicate(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> None:
    """As the adjudication consumer does, for a chunk of one claim."""
    with platform.db.unit_of_work(tenant_id) as uow:
        service.ChunkReads(uow, [claim_id]).adjudicate(claim_id)


def in_thread(work: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for_a_coverage_lock(platform: Platform, tenant_id: uuid.UUID) -> None:
    """Until another session of this database waits on an advisory lock (the coverage lock)."""
    deadline = time.monotonic() + 10
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    )
    while time.monotonic() < deadline:
        with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
            if uow.session.execute(query).scalar_one():
                return
        time.sleep(0.02)
    raise AssertionError("nobody waited for the member's coverage")


def test_an_adjudication_waits_for_a_coverage_copy_being_written(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    policy_id, claim_id = claim_awaiting_coverage(platform, tenant_id, family["ana"])
    errors: list[BaseException] = []
    with platform.db.unit_of_work(tenant_id) as uow:  # the copy is written, not yet committed …
        handlers.on_enrollment_changed(uow, cast(Message, SimpleNamespace(payload={"enrollmentId": str(policy_id)})))
        worker = in_thread(lambda: adjudicate(platform, tenant_id, claim_id), errors)
        wait_for_a_coverage_lock(platform, tenant_id)  # … and the adjudication waits for it
    worker.join(timeout=30)
    assert errors == []
    assert lines_of(platform, tenant_id, claim_id) == PAID_VISIT
    assert history(platform, tenant_id, claim_id) == [(1, "APPROVED", False)]


def test_a_coverage_copy_waits_for_an_adjudication_that_read_the_old_coverage(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy_id, claim_id = claim_awaiting_coverage(platform, tenant_id, family["ana"])
    read, go = threading.Event(), threading.Event()
    chunk_coverages = ClaimsRepository.chunk_coverages

    def read_then_pause(self: ClaimsRepository, *args: Any, **kwargs: Any) -> Any:
        found = chunk_coverages(self, *args, **kwargs)
        read.set()
        assert go.wait(timeout=30)
        return found

    monkeypatch.setattr(ClaimsRepository, "chunk_coverages", read_then_pause)
    errors: list[BaseException] = []
    worker = in_thread(lambda: adjudicate(platform, tenant_id, claim_id), errors)
    assert read.wait(timeout=30)  # the adjudication has read Ana's coverage: none yet
    copier = in_thread(lambda: copy_coverage(platform, tenant_id, policy_id), errors)
    wait_for_a_coverage_lock(platform, tenant_id)  # the copy waits for the adjudication …
    go.set()
    worker.join(timeout=30)
    copier.join(timeout=30)
    assert errors == []
    # … which denies the visit CO-31; the copy, once written, adjudicates it again and pays it.
    assert history(platform, tenant_id, claim_id) == [(1, "DENIED", True), (2, "APPROVED", False)]
    assert lines_of(platform, tenant_id, claim_id) == PAID_VISIT


def test_the_backfill_copies_without_holding_the_members_locks(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    """It copies thousands of policies a transaction and adjudicates nothing again: a lock per
    member would fill PostgreSQL's lock table, and protect nothing."""
    policy_id = covered(platform, tenant_id, family["ana"])
    held = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
    with platform.db.unit_of_work(tenant_id) as uow:
        backfill.backfill(uow, [policy_id], backfill.BackfillReport())
        assert uow.session.execute(held).scalar_one() == 0
        handlers.on_enrollment_changed(uow, cast(Message, SimpleNamespace(payload={"enrollmentId": str(policy_id)})))
        assert uow.session.execute(held).scalar_one() == 1  # Ana's, as an enrollment event takes it
