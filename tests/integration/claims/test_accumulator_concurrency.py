"""Two workers adjudicating claims of one family at the same time never spend the same deductible.

Four claims (two each for Ana and Ben, 29880 allowed $2,000.00 each) are adjudicated by four
threads released together. In any serial order each member's first claim takes $1,000.00 of
deductible (the individual amount; the family's $2,000.00 is then met), the second none, so the
end state is exact whatever the order: deductible $1,000.00 per member and $2,000.00 for the family,
coinsurance $200.00 + $400.00 per member, out of pocket $1,600.00 per member and $3,200.00 for the
family, and the plan pays $8,000.00 − $3,200.00 = $4,800.00 in all. Without the holder lock
(PostgreSQL) or BEGIN IMMEDIATE (SQLite), two claims of one member would both see $1,000.00 left.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from olly.claims import models as m
from olly.claims import public, service
from olly.claims.schemas import ClaimCreate
from olly.platform.runtime import Platform
from tests.integration.claims.support import ClaimsWorld, claim_body, line, seed


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def test_concurrent_adjudications_of_one_family(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld) -> None:
    claim_ids = []
    with platform.db.unit_of_work(tenant_id) as uow:
        for member, day in (
            (world.ana, "2026-01-05"),
            (world.ana, "2026-01-06"),
            (world.ben, "2026-01-05"),
            (world.ben, "2026-01-06"),
        ):
            body = ClaimCreate.model_validate(claim_body(member, line("29880", "2000.00", day)))
            claim_ids.append(public.submit_claim(uow, body, source="API").claim_id)
    barrier = threading.Barrier(len(claim_ids))
    errors: list[BaseException] = []

    def work(claim_id: uuid.UUID) -> None:
        try:
            barrier.wait(timeout=30)
            with platform.db.unit_of_work(tenant_id) as uow:
                service.adjudicate_claim(uow, claim_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(claim_id,)) for claim_id in claim_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        used = {(r.kind, r.level, r.holder_id): r.used for r in uow.session.scalars(select(m.Accumulator))}
        paid = [public.remittance_detail(uow, claim_id) for claim_id in claim_ids]
    ana, ben, family = str(world.ana), str(world.ben), str(world.family_id)
    assert used == {
        ("DEDUCTIBLE", "MEMBER", ana): 100000,
        ("DEDUCTIBLE", "MEMBER", ben): 100000,
        ("DEDUCTIBLE", "FAMILY", family): 200000,
        ("OUT_OF_POCKET", "MEMBER", ana): 160000,
        ("OUT_OF_POCKET", "MEMBER", ben): 160000,
        ("OUT_OF_POCKET", "FAMILY", family): 320000,
    }
    assert sum(r.paid.amount for r in paid if r is not None) == 480000
    # Two claims took the deductible (paid 2,000 − 1,000 − 200 = 800.00), two did not (2,000 − 400 = 1,600.00).
    assert sorted(r.paid.amount for r in paid if r is not None) == [80000, 80000, 160000, 160000]
