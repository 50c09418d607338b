"""Approved claims become claims payable; a payment run pays them per payee, to the cent."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from olly.billing import public, service
from olly.billing.models import ClaimPayable, ClaimPayment
from olly.claims.events import ClaimApproved, ClaimDenied
from olly.kernel.money import Money
from olly.platform.bus.models import OutboxRecord
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform
from tests.integration.billing.support import drain

CLINIC, LAB = uuid.UUID(int=0xC11), uuid.UUID(int=0x1AB)
ANA, BEN = uuid.UUID(int=0xA), uuid.UUID(int=0xB)


def approved(member: uuid.UUID, provider: uuid.UUID, paid: str) -> ClaimApproved:
    return ClaimApproved(
        claim_id=uuid.uuid4(),
        member_id=member,
        provider_id=provider,
        status="APPROVED",
        total_billed_amount="999.00",
        allowed_amount=paid,
        paid_amount=paid,
        member_responsibility="0.00",
        deductible_applied="0.00",
        copay_applied="0.00",
        coinsurance_applied="0.00",
        adjudicated_at=datetime(2026, 1, 14, 12, 0, tzinfo=UTC),
    )


def test_a_payment_run_pays_each_payee_the_sum_of_its_approved_claims(platform: Platform, tenant_id: uuid.UUID) -> None:
    claims = [
        approved(ANA, CLINIC, "125.40"),
        approved(BEN, CLINIC, "310.05"),
        approved(ANA, LAB, "42.17"),
        approved(BEN, LAB, "80.00"),
        approved(ANA, CLINIC, "0.00"),  # nothing to pay: settled at $0, on the clinic's 835
    ]
    with platform.db.unit_of_work(tenant_id) as uow:
        for claim in claims:
            event = uow.publish(claim, key=claim.claim_id)
            if claim is claims[3]:  # a reimbursement: the optional payee field the claims domain adds
                uow.pending_events[-1] = replace(event, payload={**event.payload, "payee": "MEMBER"})
        uow.publish(
            ClaimDenied(
                claim_id=uuid.uuid4(),
                member_id=ANA,
                provider_id=CLINIC,
                denial_reason_code="CO-27",
                denial_reason_text="coverage ended",
                appeal_deadline=datetime(2026, 7, 13).date(),
                adjudicated_at=datetime(2026, 1, 14, 12, 0, tzinfo=UTC),
            ),
            key=ANA,
        )
    drain(platform)
    drain(platform)  # redelivery changes nothing
    with platform.db.unit_of_work(tenant_id) as uow:
        again = service.record_approved_claim(
            uow,
            claim_id=claims[0].claim_id,
            member_id=ANA,
            provider_id=CLINIC,
            paid=Money(12540, "USD"),
            payee="PROVIDER",
            approved_at=datetime(2026, 1, 14, tzinfo=UTC),
        )
        assert again is None  # one payable per claim
        run = service.run_claim_payments(uow)
        run_id = run.id
        assert (run.payment_count, run.claim_count, run.total_minor) == (3, 5, 12540 + 31005 + 4217 + 8000)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        advice = public.payment_run(uow, run_id)
        assert advice is not None
        by_payee = {p.payee_id: p for p in advice.payments}
        assert set(by_payee) == {CLINIC, LAB, BEN}
        clinic, lab, ben = by_payee[CLINIC], by_payee[LAB], by_payee[BEN]
        assert (clinic.payee, clinic.amount_minor, clinic.method, clinic.currency) == ("PROVIDER", 43545, "ACH", "USD")
        assert sorted(c.paid_minor for c in clinic.claims) == [0, 12540, 31005]
        assert (lab.amount_minor, [c.paid_minor for c in lab.claims]) == (4217, [4217])
        assert (ben.payee, ben.method, ben.amount_minor, [c.claim_id for c in ben.claims]) == (
            "MEMBER",
            "CHECK",
            8000,
            [claims[3].claim_id],
        )
        assert len(clinic.trace_number) == 20 and clinic.paid_on == advice.run_date
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        assert {(b.ledger_account, b.debit_minor, b.credit_minor) for b in report.balances} == {
            ("CLAIMS_EXPENSE", 55762, 0),
            ("CLAIMS_PAYABLE", 55762, 55762),
            ("CASH", 0, 55762),
        }
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        paid = [
            json.loads(r.payload)
            for r in uow.session.scalars(select(OutboxRecord).where(OutboxRecord.topic == "claims.claim.paid"))
        ]
    assert sorted((p["paidAmount"], p["payee"]) for p in paid) == [
        ("125.40", "PROVIDER"),
        ("310.05", "PROVIDER"),
        ("42.17", "PROVIDER"),
        ("80.00", "MEMBER"),
    ]
    with platform.db.unit_of_work(tenant_id) as uow:
        rerun = service.run_claim_payments(uow)
        assert (rerun.payment_count, rerun.total_minor) == (0, 0)
        assert service.daily_claim_payment_run(uow) is None


def test_a_claim_settled_at_zero_is_owed_again_when_approved_later(platform: Platform, tenant_id: uuid.UUID) -> None:
    """A denied provider claim is settled at $0 (it is on the clinic's 835); overturned on appeal and
    approved at 64.20, it is owed and paid by the next run, the ledger still reconciling."""
    paid_later = approved(ANA, CLINIC, "64.20")
    claim_id = paid_later.claim_id
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_unpaid_claim(
            uow,
            claim_id=claim_id,
            member_id=ANA,
            provider_id=CLINIC,
            currency="USD",
            decided_at=datetime(2026, 1, 14, tzinfo=UTC),
        )
        first = service.run_claim_payments(uow)
        assert (first.payment_count, first.claim_count, first.total_minor) == (1, 1, 0)
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(paid_later, key=claim_id)
    drain(platform)
    with platform.db.unit_of_work(tenant_id) as uow:
        second = service.run_claim_payments(uow)
        assert (second.payment_count, second.claim_count, second.total_minor) == (1, 1, 6420)
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        assert {(b.ledger_account, b.debit_minor, b.credit_minor) for b in report.balances} == {
            ("CLAIMS_EXPENSE", 6420, 0),
            ("CLAIMS_PAYABLE", 6420, 6420),
            ("CASH", 0, 6420),
        }


def test_a_payment_run_pays_its_own_tenants_claims_only_and_the_objects_it_holds_too(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    other = uuid.uuid4()

    def owe(uow: UnitOfWork, paid_minor: int) -> ClaimPayable:
        payable = service.record_approved_claim(
            uow,
            claim_id=uuid.uuid4(),
            member_id=ANA,
            provider_id=CLINIC,
            paid=Money(paid_minor, "USD"),
            payee="PROVIDER",
            approved_at=datetime(2026, 1, 14, tzinfo=UTC),
            billing_npi="1234567893",
        )
        assert payable is not None
        return payable

    with platform.db.unit_of_work(other) as uow:
        theirs = owe(uow, 5000).id
    with platform.db.unit_of_work(tenant_id) as uow:
        held = owe(uow, 12540)  # an object the session holds when the run pays its row
        ours = owe(uow, 31005).id
        run = service.run_claim_payments(uow)
        assert (run.payment_count, run.claim_count, run.total_minor) == (1, 2, 43545)
        (payment_id,) = uow.session.scalars(select(ClaimPayment.id).where(ClaimPayment.run_id == run.id))
        assert (held.status, held.claim_payment_id, held.payee_npi) == ("PAID", payment_id, "1234567893")
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        rows = uow.session.execute(select(ClaimPayable.id, ClaimPayable.status, ClaimPayable.claim_payment_id))
        assert {row.id: (row.status, row.claim_payment_id) for row in rows} == {
            theirs: ("UNPAID", None),
            held.id: ("PAID", payment_id),
            ours: ("PAID", payment_id),
        }
