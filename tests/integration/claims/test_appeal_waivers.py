"""An overturned appeal sets aside the denials it can on the claim's lines (a duplicate, timely
filing, a missing authorisation, a pre-existing condition): the claim is adjudicated again and those
lines are priced and shared as any other, in this and every later adjudication; a denial for want
of coverage is made again. On SQLite and PostgreSQL, through the bus."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from olly.claims import appeals
from olly.claims import service as claims_service
from olly.claims.events import AppealResolved
from olly.claims.repository import ClaimsRepository
from olly.kernel.errors import ValidationFailed
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


def appeal_decided(
    platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID, lines: list[int] | None = None
) -> uuid.UUID:
    """A member's appeal of the claim, overturned by an examiner (allowing ``lines``, or every line)."""
    with platform.db.unit_of_work(tenant_id) as uow:
        appeal = appeals.file_appeal(uow, appeals.AppealFiling(claim_id, "account:member", "Medically necessary"))
    with platform.db.unit_of_work(tenant_id) as uow:
        appeals.decide(
            uow, appeal.id, appeals.AppealOutcome.OVERTURNED, "Records show need", "account:examiner", lines=lines
        )
    drain(platform)
    return appeal.id


def examiner(
    platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID, number: int, decision: str, **how: Any
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        claims_service.decide_line(
            uow, claim_id, number, decision=decision, note="reviewed", decided_by=None, **{"paid_minor": None, **how}
        )
    drain(platform)


def status_of(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> str:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        claim = ClaimsRepository(uow).claim(claim_id)
        assert claim is not None
        return claim.status


# 29881 at the clinic's 1,500.00 (CO-45 300.00 of 1,800.00), Ana's 1,000.00 deductible (PR-1), then
# 20 % coinsurance of the 500.00 left (PR-2 100.00): the plan pays 400.00.
KNEE_PAID = ("2026-01-10", 150000, 40000, [("CO", "45", 30000), ("PR", "1", 100000), ("PR", "2", 10000)])


def test_an_overturn_approves_the_line_an_examiner_denied(platform: Platform, tenant_id: uuid.UUID) -> None:
    """The PPO pends 29881 billed without an authorisation; the examiner denied it as not medically
    necessary. The overturn pays it as the engine prices it, instead of pending it for review again."""
    world = seed(platform, tenant_id)
    knee = submit(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00")))
    drain(platform)
    assert status_of(platform, tenant_id, knee) == "PENDED"
    examiner(platform, tenant_id, knee, 1, "DENY", reason="50")
    assert (status_of(platform, tenant_id, knee), lines_of(platform, tenant_id, knee)) == (
        "DENIED",
        [("2026-01-10", 0, 0, [("CO", "50", 180000)])],
    )
    appeal_id = appeal_decided(platform, tenant_id, knee)
    assert (status_of(platform, tenant_id, knee), lines_of(platform, tenant_id, knee)) == ("APPROVED", [KNEE_PAID])
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        decision = ClaimsRepository(uow).decisions(knee)[1]
        assert (decision.decision, decision.carc, decision.note) == ("APPROVE", None, "Allowed on appeal")
        assert appeals.get(uow, appeal_id).allowed_lines is None


def test_an_overturn_of_one_line_keeps_the_examiners_reduction_of_another(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    world = seed(platform, tenant_id)
    claim = submit(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00"), line("99213", "150.00")))
    drain(platform)
    # The examiner cuts the visit's 75.00 to 50.00 (CO-151 25.00), then denies the knee.
    examiner(platform, tenant_id, claim, 2, "ADJUST", reason="151", paid_minor=5000)
    examiner(platform, tenant_id, claim, 1, "DENY", reason="50")
    visit_cut = ("2026-01-10", 10000, 5000, [("CO", "45", 5000), ("PR", "3", 2500), ("CO", "151", 2500)])
    assert (status_of(platform, tenant_id, claim), lines_of(platform, tenant_id, claim)) == (
        "PARTIALLY_APPROVED",
        [("2026-01-10", 0, 0, [("CO", "50", 180000)]), visit_cut],
    )
    appeal_id = appeal_decided(platform, tenant_id, claim, lines=[1])
    assert (status_of(platform, tenant_id, claim), lines_of(platform, tenant_id, claim)) == (
        "PARTIALLY_APPROVED",  # the visit stays reduced
        [KNEE_PAID, visit_cut],
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert appeals.get(uow, appeal_id).allowed_lines == [1]
    # A later appeal allowing every line sets the reduction aside too: the visit's copay, 75.00 paid.
    appeal_decided(platform, tenant_id, claim)
    assert (status_of(platform, tenant_id, claim), lines_of(platform, tenant_id, claim)) == (
        "APPROVED",
        [KNEE_PAID, ("2026-01-10", 10000, 7500, [("CO", "45", 5000), ("PR", "3", 2500)])],
    )


def test_an_overturn_names_lines_of_its_claim_only(platform: Platform, tenant_id: uuid.UUID) -> None:
    world = seed(platform, tenant_id)
    claim = submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2025-12-20")))
    drain(platform)
    with platform.db.unit_of_work(tenant_id) as uow:
        appeal = appeals.file_appeal(uow, appeals.AppealFiling(claim, "account:member", "I was covered"))
    for lines, outcome, message in (
        ([2], appeals.AppealOutcome.OVERTURNED, "the claim has no line 2"),
        ([1, 1], appeals.AppealOutcome.OVERTURNED, "names a line twice"),
        ([1], appeals.AppealOutcome.UPHELD, "only an overturn names the lines it allows"),
    ):
        with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(ValidationFailed) as refused:
            appeals.decide(uow, appeal.id, outcome, "n", "account:examiner", lines=lines)
        assert [(e.field, e.message) for e in refused.value.errors] == [("body.lines", message)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert appeals.get(uow, appeal.id).status == "OPEN"  # nothing half-written
