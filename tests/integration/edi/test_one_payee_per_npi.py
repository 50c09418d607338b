"""One billing NPI is one payee: a provider whose first claims arrived before it joined the provider
registry has claims under two provider ids (the id claims derived from its NPI, then the registry's),
yet a payment run pays it once, with the sum of both, and the gateway writes it one 835 listing every
claim (nothing dead-lettered), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from olly import edi_links
from olly.billing import bank_accounts
from olly.billing import public as billing_public
from olly.billing import service as billing
from olly.billing.repository import BillingRepository
from olly.claims import public as claims
from olly.claims.service import PROVIDER_NAMESPACE
from olly.edi import service
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment.plan_catalog import PlansCatalog
from olly.platform.bus.dlq import list_dead_letters
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_NEW, drain, join_registry
from tests.integration.edi.helpers import files, register, segments
from tests.integration.edi.test_claims_round_trip import (  # noqa: F401  (fixture)
    PAYER_BANK,
    claim,
    members,
    subscriber,
    x12,
)
from tests.unit.edi.pyx12_judge import judge

SENDER = "NEWCLINIC"
ROUTING, ACCOUNT = "021000021", "5550009876"


def claims_file(control: str, member: str, claims_: list[list[str]]) -> bytes:
    body = [
        "BHT*0019*00*BATCH1*20260115*0900*CH",
        "NM1*41*2*NEW CLINIC*****46*NEWCLINIC",
        "PER*IC*BILLING DESK*TE*8005550100",
        "NM1*40*2*OLLY HEALTH*****46*OLLY",
        "HL*1**20*1",
        f"NM1*85*2*NEW CLINIC*****XX*{NPI_NEW}",
        "N3*20 CLINIC RD",
        "N4*ANYTOWN*PA*171110000",
        "REF*EI*987654321",
    ]
    for number, lines in enumerate(claims_, start=2):
        body += [f"HL*{number}*1*22*0", *subscriber(member, "RIVERA", "ANA", "19850520"), *lines]
    st = ["ST*837*0001*005010X222A1", *body]
    text = x12(control, [*st, f"SE*{len(st) + 1}*0001"]).decode()
    return (
        text.replace(f"*ZZ*{'CLINIC1':<15}*", f"*ZZ*{SENDER:<15}*")
        .replace("*CLINIC1*OLLY*", f"*{SENDER}*OLLY*")
        .encode()
    )


def _links() -> edi_links.Links:
    return edi_links.build_links(PlansCatalog(), PlanBenefitSource(), payer_bank=PAYER_BANK)


def _submit(platform: Platform, tenant_id: uuid.UUID, data: bytes, links: edi_links.Links) -> list[uuid.UUID]:
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, data, source="cli", links=links)
    assert result.claims_rejected == 0
    drain(platform)  # adjudication, then billing's claims payable
    return [uuid.UUID(c.id) for c in result.created if c.kind == "claim"]


def _paid(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> tuple[uuid.UUID, int]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = claims.claim_status(uow, claim_id)
        assert status is not None and status.paid is not None
        payable = BillingRepository(uow).claim_payable(claim_id)
        assert payable is not None
        return payable.provider_id, status.paid.amount


def _two_ids(
    platform: Platform, tenant_id: uuid.UUID, member: str, bank_before: bool
) -> tuple[uuid.UUID, list[uuid.UUID], uuid.UUID]:
    """Two claims while claims knows nothing of the clinic's NPI (under the derived id), then the
    registry learns it, then a third claim (under the registry's id). The clinic's bank account is
    recorded before it joins (under the derived id: ``bank_before``), or after, named by its NPI (the
    registry's id). Returns the registry's id, the early claims and the late one."""
    links = _links()
    edi_links.install(platform.db, links)
    register(
        platform, tenant_id, "NEWCLINIC", kind="PROVIDER", qualifier="ZZ", identifier=SENDER, provider_ids=[NPI_NEW]
    )
    derived = uuid.uuid5(PROVIDER_NAMESPACE, f"npi:{NPI_NEW}")
    # Out of network (the demo PPO: a 2,000.00 deductible, then the plan pays 60 %): 29880 billed
    # 6,000.00 is allowed 3,000.00 (50 % of billed), paid 60 % of 1,000.00 = 600.00; 99213 is allowed
    # 130.26, paid 78.16.
    early = _submit(
        platform,
        tenant_id,
        claims_file(
            "000000401",
            member,
            [
                claim("PCN-41", [("29880", "6000.00", "20260105")], "ABK:M2341"),
                claim("PCN-42", [("99213", "150.00", "20260106")]),
            ],
        ),
        links,
    )
    if bank_before:
        with platform.db.unit_of_work(tenant_id) as uow:
            bank_accounts.set_payee_bank(uow, derived, routing_number=ROUTING, account_number=ACCOUNT)
    registered = join_registry(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        assert claims.provider_id_of(uow, NPI_NEW) == registered != derived
        if not bank_before:
            payee = bank_accounts.resolve_payee(uow, NPI_NEW)
            assert payee == registered
            bank_accounts.set_payee_bank(uow, payee, routing_number=ROUTING, account_number=ACCOUNT)
    # 10060 billed 500.00, allowed 250.00, the deductible met: paid 150.00.
    (late,) = _submit(
        platform,
        tenant_id,
        claims_file("000000402", member, [claim("PCN-43", [("10060", "500.00", "20260107")], "ABK:L0291")]),
        links,
    )
    assert {claim_id: _paid(platform, tenant_id, claim_id) for claim_id in [*early, late]} == {
        early[0]: (derived, 60000),
        early[1]: (derived, 7816),
        late: (registered, 15000),
    }
    return registered, early, late


@pytest.mark.parametrize("bank_before", [False, True], ids=["bank-by-npi", "bank-under-derived-id"])
def test_a_provider_known_by_two_ids_is_paid_once_with_one_835(
    platform: Platform,
    tenant_id: uuid.UUID,
    members: dict[str, str],  # noqa: F811
    bank_before: bool,
) -> None:
    registered, early, late = _two_ids(platform, tenant_id, members["ana"], bank_before)
    total = 60000 + 7816 + 15000
    with platform.db.unit_of_work(tenant_id) as uow:
        run = billing.run_claim_payments(uow)
        run_id = run.id
        assert (run.payment_count, run.claim_count, run.total_minor) == (1, 3, total)
    drain(platform)  # PAYMENT_RUN_COMPLETED: the gateway's consumer writes the run's 835
    assert list_dead_letters(platform.db) == []

    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        advice = billing_public.payment_run(uow, run_id)
        assert advice is not None
        (payment,) = advice.payments
        assert (payment.payee, payment.payee_id, payment.payee_npi, payment.amount_minor, payment.method) == (
            "PROVIDER",
            registered,
            NPI_NEW,
            total,
            "ACH",
        )
        assert sorted((c.claim_id, c.paid_minor) for c in payment.claims) == sorted(
            [(early[0], 60000), (early[1], 7816), (late, 15000)]
        )
        assert billing.reconcile(uow).problems == ()
    (remitted,) = [f for f in files(platform, tenant_id, "OUT") if f.kind == "835"]
    assert {k: remitted.summary[k] for k in ("claims", "paid", "payeeNpi")} == {
        "claims": 3,
        "paid": "828.16",
        "payeeNpi": NPI_NEW,
    }
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        text = service.file_content(uow, remitted.id)[1].decode()
    assert judge(text) == []
    (bpr,) = segments(text, "BPR")
    # the EFT names the clinic's bank, however its account was first recorded
    assert bpr[1:5] == ["I", "828.16", "C", "ACH"] and bpr[13:16] == [ROUTING, "DA", ACCOUNT]
    assert sorted((c[1], c[4], c[7]) for c in segments(text, "CLP")) == [
        ("PCN-41", "600.00", str(early[0])),
        ("PCN-42", "78.16", str(early[1])),
        ("PCN-43", "150.00", str(late)),
    ]
    assert segments(text, "PLB") == []
    assert next(n1 for n1 in segments(text, "N1") if n1[1] == "PE")[3:5] == ["XX", NPI_NEW]
