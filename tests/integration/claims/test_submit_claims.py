"""``claims.public.submit_claims``: a chunk of claims (an 837's) is taken in claim by claim — each
accepted or refused on its own — and stores exactly what ``submit_claim`` called one by one stores."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from olly.claims import models as m
from olly.claims import public as claims
from olly.claims.service import IdempotencyConflict
from olly.kernel.errors import ValidationFailed
from olly.platform.runtime import Platform
from tests.integration.claims.support import ClaimsWorld, claim_body, drain, line, seed
from tests.integration.claims.test_claims_batch_api import stored


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def bodies(world: ClaimsWorld) -> list[dict[str, Any]]:
    return [
        claim_body(world.ana, line("99213", "150.00", "2026-01-05")),
        claim_body(world.ben, line("99213", "150.00", "2027-01-05")),  # the clock says 2026: refused
        claim_body(world.solo, line("10060", "500.00", "2026-01-07"), line("99213", "90.00"), diagnoses=["J06.9"]),
        claim_body(  # replaces a claim nobody has: refused
            world.ana, line("99213", "150.00", "2026-01-05"), frequency="7", originalClaimId=str(uuid.uuid4())
        ),
        claim_body(world.ben, line("29880", "2000.00", "2026-01-06"), diagnoses=["M23.41"]),
    ]


def items(world: ClaimsWorld, prefix: str) -> list[claims.IntakeItem]:
    return [
        claims.IntakeItem(claims.ClaimCreate.model_validate(body), f"{prefix}:{index}", f'{{"segment":{index}}}')
        for index, body in enumerate(bodies(world))
    ]


def claim_count(platform: Platform, tenant_id: uuid.UUID) -> int:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(m.Claim)) or 0)


def answers(found: list[Any]) -> list[Any]:
    return [
        ("ACCEPTED", a.replayed)
        if isinstance(a, claims.Submission)
        else (a.code, [(e.field, e.code) for e in getattr(a, "errors", ())])
        for a in found
    ]


def test_a_chunk_accepts_exactly_its_good_claims_with_the_rows_and_events_of_one_by_one(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    singles: list[Any] = []
    with platform.db.unit_of_work(tenant_id) as uow:
        for item in items(world, "one"):
            try:
                with uow.session.begin_nested():
                    singles.append(
                        claims.submit_claim(
                            uow, item.data, source="EDI", idempotency_key=item.idempotency_key, origin=item.origin
                        )
                    )
            except ValidationFailed as refusal:
                singles.append(refusal)
    with platform.db.unit_of_work(tenant_id) as uow:
        chunk = claims.submit_claims(uow, items(world, "chunk"), source="EDI")
    expected = [
        ("ACCEPTED", False),
        ("validation_failed", [("body.lines.0.serviceDateFrom", "invalid")]),
        ("ACCEPTED", False),
        ("validation_failed", [("body.originalClaimId", "not_found")]),
        ("ACCEPTED", False),
    ]
    assert answers(chunk) == answers(singles) == expected
    accepted = [str(a.claim_id) for a in chunk if isinstance(a, claims.Submission)]
    alone = [str(a.claim_id) for a in singles if isinstance(a, claims.Submission)]
    assert len(set(accepted) | set(alone)) == 6
    assert stored(platform, tenant_id, accepted) == stored(platform, tenant_id, alone)
    assert claim_count(platform, tenant_id) == 6

    # Sent again: each accepted claim answers its first submission; a key reused with another body is
    # refused (409) without refusing the others; a key twice in one chunk answers the first claim.
    again_items = items(world, "chunk")
    again_items[2] = claims.IntakeItem(
        claims.ClaimCreate.model_validate(claim_body(world.solo, line("10060", "550.00", "2026-01-07"))),
        "chunk:2",
    )
    twice = claims.IntakeItem(claims.ClaimCreate.model_validate(bodies(world)[0]), "chunk:9")
    with platform.db.unit_of_work(tenant_id) as uow:
        again = claims.submit_claims(uow, [*again_items, twice, twice], source="EDI")
    assert answers(again) == [
        ("ACCEPTED", True),
        ("validation_failed", [("body.lines.0.serviceDateFrom", "invalid")]),
        ("idempotency_key_reused", []),
        ("validation_failed", [("body.originalClaimId", "not_found")]),
        ("ACCEPTED", True),
        ("ACCEPTED", False),
        ("ACCEPTED", True),
    ]
    assert isinstance(again[2], IdempotencyConflict)
    assert [(a.claim_id, a.transaction_id) for a in (again[0], again[4])] == [  # type: ignore[union-attr]
        (chunk[0].claim_id, chunk[0].transaction_id),  # type: ignore[union-attr]
        (chunk[4].claim_id, chunk[4].transaction_id),  # type: ignore[union-attr]
    ]
    assert again[6].claim_id == again[5].claim_id  # type: ignore[union-attr]
    assert claim_count(platform, tenant_id) == 7


def test_remittance_details_of_many_claims_are_each_claims_remittance_detail(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        chunk = claims.submit_claims(uow, items(world, "chunk"), source="EDI")
    ids = [a.claim_id for a in chunk if isinstance(a, claims.Submission)]
    unknown = uuid.uuid4()
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:  # received, not final: none yet
        assert claims.remittance_details(uow, [(i, None) for i in ids]) == {(i, None): None for i in ids}
    drain(platform)
    wanted = [(ids[0], None), (ids[1], 1), (ids[2], None), (ids[2], 2), (unknown, None)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        together = claims.remittance_details(uow, wanted)
        alone = {(i, s): claims.remittance_detail(uow, i, s) for i, s in wanted}
    assert together == alone
    # Ana's visit: $100 fee - $25 copay; Solo's: $400 drainage to the deductible, the $90 visit - $25
    # copay; Ben's arthroscopy: $2,000 - his $1,000 deductible, 80% of the rest; no second adjudication.
    assert [d.paid.amount if d else None for d in together.values()] == [7500, 6500, 80000, None, None]


def test_a_remittance_is_read_from_the_stored_result_as_the_full_result_decodes_it(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    from olly.claims import snapshots
    from olly.claims.repository import ClaimsRepository

    with platform.db.unit_of_work(tenant_id) as uow:
        chunk = claims.submit_claims(uow, items(world, "decode"), source="EDI")
    ids = [a.claim_id for a in chunk if isinstance(a, claims.Submission)]
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        details = claims.remittance_details(uow, [(i, None) for i in ids])
        for claim_id in ids:
            record = ClaimsRepository(uow).current_result(claim_id)
            assert record is not None
            result = snapshots.result_from_json(record.result)
            detail = details[(claim_id, None)]
            assert detail is not None
            totals = result.totals
            assert (detail.billed, detail.allowed, detail.paid, detail.patient_responsibility) == (
                totals.billed,
                totals.allowed,
                totals.paid,
                totals.patient_responsibility,
            )
            assert [
                (
                    line.line_number,
                    line.billed,
                    line.allowed,
                    line.paid,
                    [(a.group, a.carc, a.amount) for a in line.adjustments],
                )
                for line in detail.lines
            ] == [
                (
                    line.line_number,
                    line.billed,
                    line.allowed,
                    line.paid,
                    [(a.group.value, a.carc.value, a.amount) for a in line.adjustments],
                )
                for line in result.lines
            ]
    # Solo's claim: the $500 drainage all to the deductible (PR 1), the $90 visit paid less the copay
    solo = details[(ids[1], None)]
    assert solo is not None
    assert [(line.billed.amount, line.paid.amount) for line in solo.lines] == [(50000, 0), (9000, 6500)]
    assert (solo.billed.amount, solo.paid.amount) == (59000, 6500)


def test_a_chunk_leaves_neither_its_rows_nor_its_reads_in_the_session(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        chunk = claims.submit_claims(uow, items(world, "session"), source="EDI")
        held = sorted({type(row).__name__ for row in uow.session.identity_map.values()})
        assert [type(a).__name__ for a in chunk] == [
            "Submission",
            "ValidationFailed",
            "Submission",
            "ValidationFailed",
            "Submission",
        ]
    assert not {"Claim", "ClaimLine", "ClaimDiagnosis", "ClaimDocument", "CoverageView", "ProviderView"} & set(held)
    ids = [a.claim_id for a in chunk if isinstance(a, claims.Submission)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        stored_claims = {c.id: c for c in uow.session.scalars(select(m.Claim).where(m.Claim.id.in_(ids)))}
        lines = list(uow.session.scalars(select(m.ClaimLine).where(m.ClaimLine.claim_id.in_(ids))))
        documents = list(uow.session.scalars(select(m.ClaimDocument).where(m.ClaimDocument.claim_id.in_(ids))))
    assert [stored_claims[i].status for i in ids] == ["RECEIVED"] * 3
    assert [stored_claims[i].detail["origin"] for i in ids] == ['{"segment":0}', '{"segment":2}', '{"segment":4}']
    assert sorted((line.charge_minor, line.service["procedureCode"]) for line in lines) == [
        (9000, "99213"),
        (15000, "99213"),
        (50000, "10060"),
        (200000, "29880"),
    ]
    assert sorted(d.kind for d in documents) == ["RAW_PAYLOAD"] * 3
