"""Claims that pay nothing reach the provider's 835: a denied claim is settled at $0 in billing's
payment run and remitted with CLP02 4 and $0 paid (its CAS explain the whole charge), and a run
with only such claims is announced as BPR*H*0.00*C*NON."""

from __future__ import annotations

import uuid

from olly import edi_links
from olly.billing import public as billing_public
from olly.billing import service as billing
from olly.claims import public as claims
from olly.edi import service
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment.plan_catalog import PlansCatalog
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_IN, drain
from tests.integration.edi.helpers import register, segments
from tests.integration.edi.test_claims_round_trip import (  # noqa: F401  (fixture)
    CLINIC_BANK,
    PAYER_BANK,
    SENDER,
    claim,
    members,
    subscriber,
    x12,
)
from tests.unit.edi.pyx12_judge import judge


def claims_file(control: str, member: str, claims_: list[list[str]]) -> bytes:
    body = [
        "BHT*0019*00*BATCH1*20260115*0900*CH",
        "NM1*41*2*GOOD CLINIC*****46*CLINIC1",
        "PER*IC*BILLING DESK*TE*8005550100",
        "NM1*40*2*OLLY HEALTH*****46*OLLY",
        "HL*1**20*1",
        f"NM1*85*2*GOOD CLINIC*****XX*{NPI_IN}",
        "N3*10 CLINIC RD",
        "N4*ANYTOWN*PA*171110000",
        "REF*EI*123456789",
    ]
    for number, lines in enumerate(claims_, start=2):
        body += [f"HL*{number}*1*22*0", *subscriber(member, "RIVERA", "ANA", "19850520"), *lines]
    st = ["ST*837*0001*005010X222A1", *body]
    return x12(control, [*st, f"SE*{len(st) + 1}*0001"])


PAID = claim("PCN-1", [("99213", "150.00", "20260105")])
DENIED = claim("PCN-7", [("99213", "150.00", "20251220")])  # before coverage began (2026-01-01)


def _links() -> edi_links.Links:
    return edi_links.build_links(
        PlansCatalog(), PlanBenefitSource(), payer_bank=PAYER_BANK, payee_banks=lambda uow, payee: CLINIC_BANK
    )


def _adjudicated(platform: Platform, tenant_id: uuid.UUID, data: bytes, links: edi_links.Links) -> list[uuid.UUID]:
    register(platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier=SENDER, provider_ids=[NPI_IN])
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, data, source="cli", links=links)
    ids = [uuid.UUID(c.id) for c in result.created if c.kind == "claim"]
    drain(platform)
    return ids


def _remit(platform: Platform, tenant_id: uuid.UUID, links: edi_links.Links) -> tuple[str, str]:
    with platform.db.unit_of_work(tenant_id) as uow:
        run_id = str(billing.run_claim_payments(uow).id)
    with platform.db.unit_of_work(tenant_id) as uow:
        (remitted,) = service.remit(uow, run_id, links)
        return run_id, service.file_content(uow, remitted.id)[1].decode()


def test_a_denied_claim_is_remitted_at_zero_beside_a_paid_one(
    platform: Platform,
    tenant_id: uuid.UUID,
    members: dict[str, str],  # noqa: F811
) -> None:
    links = _links()
    paid_id, denied_id = _adjudicated(
        platform, tenant_id, claims_file("000000201", members["ana"], [PAID, DENIED]), links
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        statuses = [claims.claim_status(uow, i) for i in (paid_id, denied_id)]
        assert [(s.status, s.paid.amount if s and s.paid else None) for s in statuses if s] == [
            ("APPROVED", 7500),
            ("DENIED", None),
        ]
    run_id, text = _remit(platform, tenant_id, links)
    assert judge(text) == []
    assert segments(text, "BPR")[0][1:5] == ["I", "75.00", "C", "ACH"]
    assert [c[1:8] for c in segments(text, "CLP")] == [
        ["PCN-1", "1", "150.00", "75.00", "25.00", "12", str(paid_id)],
        ["PCN-7", "4", "150.00", "0.00", "", "12", str(denied_id)],
    ]
    assert [s[1:4] for s in segments(text, "CAS")][2:] == [["CO", "26", "150.00"]]
    assert segments(text, "PLB") == []
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        advice = billing_public.payment_run(uow, uuid.UUID(run_id))
        assert advice is not None
        (payment,) = advice.payments
        assert (payment.amount_minor, [(c.claim_id, c.paid_minor) for c in payment.claims]) == (
            7500,
            [(paid_id, 7500), (denied_id, 0)],
        )
        assert billing.reconcile(uow).problems == ()


def test_a_run_of_only_denied_claims_is_a_notification(
    platform: Platform,
    tenant_id: uuid.UUID,
    members: dict[str, str],  # noqa: F811
) -> None:
    links = _links()
    (denied_id,) = _adjudicated(platform, tenant_id, claims_file("000000202", members["ana"], [DENIED]), links)
    _, text = _remit(platform, tenant_id, links)
    assert judge(text) == []
    (bpr,) = segments(text, "BPR")
    assert bpr[1:5] == ["H", "0.00", "C", "NON"]
    assert [c[1:8] for c in segments(text, "CLP")] == [["PCN-7", "4", "150.00", "0.00", "", "12", str(denied_id)]]
    assert [s[1:4] for s in segments(text, "CAS")] == [["CO", "26", "150.00"]]
    # the same claim is settled once: a second run has nothing to pay or remit
    with platform.db.unit_of_work(tenant_id) as uow:
        again = billing.run_claim_payments(uow)
        assert (again.payment_count, again.claim_count) == (0, 0)
