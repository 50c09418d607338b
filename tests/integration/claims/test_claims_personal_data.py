"""A deletion request finds a member's claims, their own accumulators and claims' copy of their
coverage; it pseudonymises or deletes them, and leaves everyone else's records alone."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from olly.claims import models as m
from olly.claims import public, service
from olly.claims.api import claim_view
from olly.claims.personal_data import ClaimsPersonalData
from olly.claims.repository import ClaimsRepository
from olly.claims.rules import Submitter
from olly.claims.schemas import ClaimCreate
from olly.kernel.errors import NotFound
from olly.platform.db import UnitOfWork
from olly.platform.objectstore import object_store_of
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory
from olly.platform.runtime import Platform
from tests.integration.claims.support import PPO, ClaimsWorld, claim_body, drain, line, seed

PSEUDONYM = uuid.UUID("01900000-0000-7000-8000-0000000000ff")
BIRTH_DATE = date(1961, 4, 2)
ORIGIN = {
    "kind": "837P",
    "file": "01900000-0000-7000-8000-0000000000aa",
    "sender": "CLEARHOUSE1",
    "isa": "000000101",
    "gs": "101",
    "st": "0001",
    "segment": 14,
    "claim": "PCN-SOLO-88",
    "facility": None,
    "frequency": "1",
    "memberNumber": "M-4471",
    "patient": ["SOLOWAY", "SAM"],
    "lineControl": ["LC-1"],
}
RAW_837 = b"NM1*IL*1*SOLOWAY*SAM****MI*M-4471~DMG*D8*19610402*M~CLM*PCN-SOLO-88*500***11:B:1*Y*A*Y*Y~"
BILL = b"%PDF-1.4 bill for Sam Soloway"
NOTE = "Sam Soloway sent the receipt by post"
#: What no claims table may hold once Solo's records are pseudonymised (the member id is added).
IDENTIFYING = ("SOLOWAY", "M-4471", "PCN-SOLO-88", "1961-04-02", NOTE)
MODELS = (
    m.Claim,
    m.ClaimLine,
    m.ClaimDiagnosis,
    m.AdjudicationRecord,
    m.ClaimStatusChange,
    m.LineDecision,
    m.IdempotencyKey,
    m.Accumulator,
    m.AccumulatorHolder,
    m.ClaimDocument,
    m.CoverageView,
)


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    world = seed(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        (coverage,) = ClaimsRepository(uow).coverages(world.solo)
        coverage.birth_date = BIRTH_DATE
        coverage.pre_existing = {"codes": ["E11"], "months": 24}
    return world


def submit(platform: Platform, tenant_id: uuid.UUID, body: dict[str, Any], **options: Any) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.submit(uow, ClaimCreate.model_validate(body), **options).claim_id


def holding(uow: UnitOfWork, *values: str) -> list[str]:
    """The claims tables with a row that holds one of ``values`` in any column (sealed ones opened)."""
    found = []
    for model in MODELS:
        for row in uow.session.scalars(select(model)):
            text = json.dumps({c.key: getattr(row, c.key) for c in model.__mapper__.column_attrs}, default=str)
            if any(value in text for value in values):
                found.append(model.__tablename__)
                break
    return found


def served(uow: UnitOfWork, key: str) -> bytes | None:
    try:
        return object_store_of(uow).get(uow, key)
    except NotFound:
        return None


def holders(uow: UnitOfWork) -> set[str]:
    return set(uow.session.scalars(select(m.AccumulatorHolder.holder_id)))


def accumulators(uow: UnitOfWork, holder: uuid.UUID | str) -> dict[tuple[str, str, str, str], int]:
    rows = ClaimsRepository(uow).accumulators([str(holder)])
    return {(r.kind, r.level, r.network, r.category): r.used for r in rows}


def test_find_pseudonymise_and_delete(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld) -> None:
    solo, ana = world.solo, world.ana
    visit = submit(platform, tenant_id, claim_body(solo, line("99213", "150.00")), source="API", idempotency_key="v-1")
    with platform.db.unit_of_work(tenant_id) as uow:
        edi = public.submit_claim(
            uow,
            ClaimCreate.model_validate(claim_body(solo, line("10060", "500.00", "2026-01-12"))),
            source="EDI",
            idempotency_key="837:CLEARHOUSE1:000000101:101:0001:14",
            origin=json.dumps(ORIGIN),
            raw=RAW_837,
        ).claim_id
    refund = submit(
        platform,
        tenant_id,
        claim_body(solo, line("99213", "80.00", "2026-01-11")),
        source="PORTAL",
        submitter=Submitter.MEMBER_REIMBURSEMENT,
        documents=[("BILL", "application/pdf", BILL)],
    )
    old = submit(platform, tenant_id, claim_body(solo, line("99213", "90.00", "2019-05-06")), source="API")
    stranger = submit(
        platform, tenant_id, claim_body(ana, line("99213", "150.00")), source="API", idempotency_key="a-1"
    )
    drain(platform)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.decide_line(
            uow, refund, 1, decision="APPROVE", reason="45", note=NOTE, paid_minor=None, decided_by=uuid.uuid4()
        )
    drain(platform)

    handler = ClaimsPersonalData()
    subject = DataSubject(tenant_id, solo, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        repo = ClaimsRepository(uow)
        statuses = {claim.id: claim.status for claim in repo.claims([visit, edi, refund, old])}
        keys = {c: [(d.kind, d.object_key) for d in repo.documents(c)] for c in (visit, edi, refund, old)}
        solo_accumulators = accumulators(uow, solo)
        family_accumulators = accumulators(uow, world.family_id)
        coverage_id = repo.coverages(solo)[0].id
        ana_coverage_id = repo.coverages(ana)[0].id
        items = handler.find(uow, subject)
        theirs = handler.find(uow, DataSubject(tenant_id, ana, PSEUDONYM))
    assert statuses == {visit: "APPROVED", edi: "APPROVED", refund: "APPROVED", old: "DENIED"}
    assert [kind for c in (visit, edi, refund, old) for kind, _ in keys[c]] == [
        *("RAW_PAYLOAD", "EOB"),
        *("RAW_PAYLOAD", "EOB"),
        *("RAW_PAYLOAD", "BILL", "EOB"),
        *("RAW_PAYLOAD", "EOB"),
    ]
    # The two office visits' $25.00 copays and the excision's $400.00, all to the deductible.
    assert solo_accumulators == {
        ("OUT_OF_POCKET", "MEMBER", "IN_NETWORK", ""): 45000,
        ("DEDUCTIBLE", "MEMBER", "IN_NETWORK", ""): 40000,
    }
    assert [(i.domain, i.record_type, i.record_id, i.category, i.record_date) for i in items] == [
        ("claims", "claim", str(old), RecordCategory.CLAIM, date(2019, 5, 6)),
        ("claims", "claim", str(visit), RecordCategory.CLAIM, date(2026, 1, 10)),
        ("claims", "claim", str(refund), RecordCategory.CLAIM, date(2026, 1, 11)),
        ("claims", "claim", str(edi), RecordCategory.CLAIM, date(2026, 1, 12)),
        ("claims", "accumulators", "2026-01-01", RecordCategory.CLAIM, date(2026, 12, 31)),
        ("claims", "coverage", str(coverage_id), RecordCategory.ENROLLMENT, date(2026, 12, 31)),
    ]
    assert [(i.record_type, i.record_id) for i in theirs] == [
        ("claim", str(stranger)),
        ("accumulators", "2026-01-01"),
        ("coverage", str(ana_coverage_id)),
    ]

    # The 2019 claim is past its six years: deleted. The rest is kept, pseudonymised.
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.pseudonymise(uow, subject, items[1:])
        handler.delete(uow, subject, items[:1])

    erased = [key for c in (visit, edi, refund) for kind, key in keys[c] if kind != "EOB"]
    erased += [key for _, key in keys[old]]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        repo = ClaimsRepository(uow)
        assert holding(uow, str(solo), *IDENTIFYING) == []
        assert handler.find(uow, subject) == []
        assert handler.find(uow, DataSubject(tenant_id, PSEUDONYM, PSEUDONYM)) == items[1:]
        # Kept claims read as before, under the pseudonym.
        view = claim_view(uow, visit, with_trace=True)
        assert (view["memberId"], view["status"], view["eob"], view["result"]["paid"]) == (
            str(PSEUDONYM),
            "APPROVED",
            True,
            "75.00",
        )
        assert service.eob_document(uow, visit).startswith(b"%PDF")
        remittance = public.remittance_detail(uow, edi)
        assert remittance is not None
        assert (remittance.member_id, remittance.billed.amount, remittance.allowed.amount) == (PSEUDONYM, 50000, 40000)
        assert json.loads(remittance.origin or "") == {
            "kind": "837P",
            "file": "01900000-0000-7000-8000-0000000000aa",
            "sender": "CLEARHOUSE1",
            "isa": "000000101",
            "gs": "101",
            "st": "0001",
            "segment": 14,
            "facility": None,
            "frequency": "1",
            "lineControl": ["LC-1"],
        }
        assert [(c.member_id, c.raw_object_key) for c in repo.claims([visit, edi, refund])] == [(PSEUDONYM, None)] * 3
        assert [d.kind for c in (visit, edi, refund) for d in repo.documents(c)] == ["EOB", "EOB", "EOB"]
        assert [(d.decision, d.note) for d in repo.decisions(refund).values()] == [("APPROVE", None)]
        assert repo.idempotency_key("API", "v-1") is None
        assert {r.result["memberId"] for r in repo.results_of([visit, edi, refund])} == {str(PSEUDONYM)}
        assert accumulators(uow, PSEUDONYM) == solo_accumulators
        assert holders(uow) == {str(world.family_id), str(PSEUDONYM)}
        (coverage,) = repo.coverages(PSEUDONYM)
        assert (coverage.id, coverage.plan_code, coverage.periods, coverage.birth_date, coverage.pre_existing) == (
            coverage_id,
            PPO,
            [["2026-01-01", "2026-12-31"]],
            None,
            None,
        )
        # The raw payloads, the bill and the deleted claim's EOB are out of the object store.
        assert [served(uow, key) for key in erased] == [None] * len(erased)
        assert not (platform.settings.data_dir / "objects" / keys[visit][0][1]).exists()
        # The 2019 claim and all its rows are gone.
        assert repo.claim(old) is None
        assert holding(uow, str(old)) == []
        # Ana's records are untouched.
        assert handler.find(uow, DataSubject(tenant_id, ana, PSEUDONYM)) == theirs
        assert accumulators(uow, world.family_id) == family_accumulators
        assert claim_view(uow, stranger, with_trace=False)["memberId"] == str(ana)
        assert repo.idempotency_key("API", "a-1") is not None
        assert [d.kind for d in repo.documents(stranger)] == ["RAW_PAYLOAD", "EOB"]

    # Years later the kept records go too; an item naming another member's claim deletes nothing.
    with platform.db.unit_of_work(tenant_id) as uow:
        kept = handler.find(uow, DataSubject(tenant_id, PSEUDONYM, PSEUDONYM))
        handler.delete(uow, subject, [*kept, theirs[0]])
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        repo = ClaimsRepository(uow)
        assert holding(uow, str(PSEUDONYM), str(visit), str(edi), str(refund)) == []
        eobs = [key for c in (visit, edi, refund) for kind, key in keys[c] if kind == "EOB"]
        assert [served(uow, key) for key in eobs] == [None] * 3
        assert handler.find(uow, DataSubject(tenant_id, ana, PSEUDONYM)) == theirs
        assert repo.claim(stranger) is not None
        assert holders(uow) == {str(world.family_id)}


def test_find_reads_only_the_tenant_and_the_member(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00")), source="API")
    handler = ClaimsPersonalData()
    with platform.db.unit_of_work(uuid.uuid4(), read_only=True) as uow:
        assert handler.find(uow, DataSubject(uow.require_tenant(), world.solo, PSEUDONYM)) == []
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found: list[PersonalDataItem] = handler.find(uow, DataSubject(tenant_id, world.ben, PSEUDONYM))
    assert [i.record_type for i in found] == ["coverage"]
