"""An overturned appeal sets aside the denials it can on the claim's lines (a duplicate, timely
filing, a missing authorisation, a pre-existing condition): the claim is adjudicated again and those
lines are priced and shared as any other, in this and every later adjudication; a denial for want
of coverage is made again. On SQLite and PostgreSQL, through the bus."""

from __future__ import annotations

import uuid

from olly.claims.events import AppealResolved
from olly.claims.repository import ClaimsRepository
from olly.platform.runtime import Platform
from tests.integration.claims.support import claim_body, drain, line, seed
from tests.integration.claims.test_read_model_revisions import lines_of, submit


def overturn(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """What an appeal decided OVERTURNED publishes."""
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(
            AppealResolved(
                event_type="APPEAL_OVERTURNED",
                appeal_id=uuid.uuid4(),
                claim_id=claim_id,
                member_id=member_id,
                resolved_at=uow.clock.now(),
            ),
            key=member_id,
        )
    drain(platform)


def test_an_overturned_duplicate_denial_is_paid_and_stays_paid(platform: Platform, tenant_id: uuid.UUID) -> None:
    world = seed(platform, tenant_id)
    first = submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-10")))
    drain(platform)
    second = submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-10")))
    drain(platform)
    assert lines_of(platform, tenant_id, second) == [("2026-01-10", 0, 0, [("CO", "18", 15000)])]
    overturn(platform, tenant_id, second, world.solo)  # a second visit that day, shown on appeal
    # allowed 100.00 (the clinic's rate), CO-45 50.00, the office-visit copay PR-3 25.00, paid 75.00
    paid = [("2026-01-10", 10000, 7500, [("CO", "45", 5000), ("PR", "3", 2500)])]
    assert lines_of(platform, tenant_id, second) == paid
    assert lines_of(platform, tenant_id, first) == paid
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        repo = ClaimsRepository(uow)
        record = repo.current_result(second)
        assert record is not None and record.sequence == 2
        set_aside = [s for s in record.result["lines"][0]["trace"] if "waived" in s["outputs"]]
        assert [(s["step"], s["outcome"], s["outputs"]["waived"]) for s in set_aside] == [("edits", "passed", "CO-18")]
    # A second overturn of the same claim adjudicates it again the same way (the waiver is kept once).
    overturn(platform, tenant_id, second, world.solo)
    assert lines_of(platform, tenant_id, second) == paid
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert ClaimsRepository(uow).appeal_waivers(second) == {1: frozenset({"18"})}


def test_a_denial_for_want_of_coverage_is_made_again(platform: Platform, tenant_id: uuid.UUID) -> None:
    world = seed(platform, tenant_id)
    outside = submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2025-12-20")))
    drain(platform)
    assert lines_of(platform, tenant_id, outside) == [("2025-12-20", 0, 0, [("CO", "26", 15000)])]
    overturn(platform, tenant_id, outside, world.solo)
    assert lines_of(platform, tenant_id, outside) == [("2025-12-20", 0, 0, [("CO", "26", 15000)])]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert ClaimsRepository(uow).appeal_waivers(outside) == {}
