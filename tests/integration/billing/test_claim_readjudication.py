"""A claim adjudicated again is owed its new paid amount: the difference is added to its unpaid
payable, paid as a supplement once it was paid (its 835 reverses the earlier adjudication and reports
the new one), or taken back (withdrawn while unpaid, recovered from the payee's next payments once
paid). A message seen again, or an older adjudication arriving late, changes nothing. On SQLite and
PostgreSQL; the books reconcile at every step.

The claims flow: the demo PPO, Ana's first claim of the year, 99213 billed 150.00 (allowed 100.00,
copay 25.00: pays 75.00) and 29881 billed 1,800.00 under a denied authorisation (CO-197: pays 0.00),
so the claim is partially approved at 75.00. An authorisation approved later and the appeal overturned,
29881 is allowed 1,500.00, 1,000.00 to the deductible and 20 % of 500.00 coinsurance: it pays 400.00,
the claim 475.00."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy import select

from olly import edi_links
from olly.billing import public as billing_public
from olly.billing import service
from olly.billing.models import ClaimPayable, ClaimRecovery, LedgerPosting
from olly.billing.repository import BillingRepository
from olly.claims import prior_auth
from olly.claims import public as claims
from olly.claims.events import ClaimApproved, ClaimDenied
from olly.claims.schemas import ClaimCreate
from olly.edi import service as edi
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment.plan_catalog import PlansCatalog
from olly.kernel.clock import FixedClock
from olly.platform import migrate
from olly.platform.bus.models import OutboxRecord
from olly.platform.runtime import Platform
from tests.integration.billing.support import drain
from tests.integration.claims.support import NPI_IN, claim_body, decide_auth, line, request_auth, seed
from tests.integration.claims.test_appeal_waivers import overturn as publish_overturn
from tests.integration.edi.helpers import register, segments
from tests.unit.edi.pyx12_judge import judge

CLINIC, MEMBER = uuid.UUID(int=0xC11), uuid.UUID(int=0xA)
PAYER_BANK, CLINIC_BANK = ("011000015", "12345678"), ("021000021", "87654321")


# ---------------------------------------------------------------------------------------------
# Helpers
def payables(
    platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID
) -> list[tuple[int, int, str, int | None, int | None]]:
    """(part, amount, status, adjudication sequence, sequence it reverses) of each payable of the claim."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(
            select(ClaimPayable).where(ClaimPayable.claim_id == claim_id).order_by(ClaimPayable.part)
        )
        return [(r.part, r.amount_minor, r.status, r.adjudication_sequence, r.reverses_sequence) for r in rows]


def recoveries(platform: Platform, tenant_id: uuid.UUID) -> list[tuple[uuid.UUID, int, int, int, str]]:
    """(claim, part, amount, remaining, status) of every recovery."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(select(ClaimRecovery).order_by(ClaimRecovery.recorded_at, ClaimRecovery.part))
        return [(r.claim_id, r.part, r.amount_minor, r.remaining_minor, r.status) for r in rows]


def postings(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> list[tuple[str, int]]:
    """(kind, amount) of the postings made for the claim itself (not its payments), in order."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(
            select(LedgerPosting).where(LedgerPosting.reference_id == claim_id).order_by(LedgerPosting.id)
        )
        return [(r.kind, r.total_minor) for r in rows]


def balances(platform: Platform, tenant_id: uuid.UUID) -> set[tuple[str, int, int]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        books = service.reconcile(uow)
    assert books.is_clean, books.problems
    return {(b.ledger_account, b.debit_minor, b.credit_minor) for b in books.balances}


def pay(platform: Platform, tenant_id: uuid.UUID) -> tuple[uuid.UUID, list[int]]:
    """Run the claim payments: the run and the amount of each payment (the books must reconcile)."""
    with platform.db.unit_of_work(tenant_id) as uow:
        run = service.run_claim_payments(uow)
        amounts = [p.amount_minor for p in BillingRepository(uow).claim_payments(run.id)]
        run_id = run.id
    balances(platform, tenant_id)
    return run_id, amounts


def approved(claim_id: uuid.UUID, paid: str, sequence: int | None, at: datetime, **extra: str) -> ClaimApproved:
    return ClaimApproved(
        claim_id=claim_id,
        member_id=MEMBER,
        provider_id=CLINIC,
        status="PARTIALLY_APPROVED",
        total_billed_amount="500.00",
        allowed_amount=paid,
        paid_amount=paid,
        member_responsibility="0.00",
        deductible_applied="0.00",
        copay_applied="0.00",
        coinsurance_applied="0.00",
        adjudicated_at=at,
        adjudication_sequence=sequence,
        **extra,  # type: ignore[arg-type]
    )


def denied(claim_id: uuid.UUID, sequence: int, at: datetime) -> ClaimDenied:
    return ClaimDenied(
        claim_id=claim_id,
        member_id=MEMBER,
        provider_id=CLINIC,
        denial_reason_code="CO-50",
        denial_reason_text="not medically necessary",
        appeal_deadline=date(2026, 9, 1),
        adjudicated_at=at,
        adjudication_sequence=sequence,
    )


def publish(platform: Platform, tenant_id: uuid.UUID, *events: ClaimApproved | ClaimDenied) -> None:
    """Publish as claims does (each a new message), then let billing consume them."""
    with platform.db.unit_of_work(tenant_id) as uow:
        for event in events:
            uow.publish(event, key=event.member_id)
    drain(platform)


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Through claims: a partial approval overturned on appeal
def partially_approved(platform: Platform, tenant_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """Ana's claim partially approved at 75.00 (29881 denied under a denied authorisation): (claim, Ana)."""
    world = seed(platform, tenant_id)
    refused = request_auth(platform, tenant_id, world.ana)
    decide_auth(platform, tenant_id, refused, prior_auth.DecisionOutcome.DENIED, denial_reason_code="50")
    drain(platform)
    body = claim_body(world.ana, line("99213", "150.00"), line("29881", "1800.00"))
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_id = claims.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = claims.remittance_detail(uow, claim_id)
    assert found is not None and (found.status, found.paid.amount) == ("PARTIALLY_APPROVED", 7500)
    return claim_id, world.ana


def overturn(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID, member: uuid.UUID) -> None:
    """The phone authorisation is put on record and the appeal overturned: claims re-adjudicates."""
    decide_auth(platform, tenant_id, request_auth(platform, tenant_id, member))
    drain(platform)
    publish_overturn(platform, tenant_id, claim_id, member)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = claims.remittance_detail(uow, claim_id)
    assert found is not None and (found.status, found.paid.amount) == ("APPROVED", 47500)


def redeliver_latest_adjudication(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> None:
    """The claim's latest ``claims.claim.adjudicated`` published again, as a new message."""
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        sent = [
            json.loads(r.payload)
            for r in uow.session.scalars(
                select(OutboxRecord).where(OutboxRecord.topic == "claims.claim.adjudicated").order_by(OutboxRecord.id)
            )
        ]
    latest = [p for p in sent if p["claimId"] == str(claim_id)][-1]
    assert latest["adjudicationSequence"] == 2
    publish(platform, tenant_id, ClaimApproved.model_validate(latest))


def remit(platform: Platform, tenant_id: uuid.UUID, run_id: uuid.UUID) -> str:
    links = edi_links.build_links(
        PlansCatalog(), PlanBenefitSource(), payer_bank=PAYER_BANK, payee_banks=lambda uow, payee: CLINIC_BANK
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        (remitted,) = edi.remit(uow, str(run_id), links)
        return edi.file_content(uow, remitted.id)[1].decode()


def test_overturned_before_the_run_the_unpaid_payable_grows(platform: Platform, tenant_id: uuid.UUID) -> None:
    claim_id, ana = partially_approved(platform, tenant_id)
    register(
        platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier="CLINIC1", provider_ids=[NPI_IN]
    )
    assert payables(platform, tenant_id, claim_id) == [(0, 7500, "UNPAID", 1, None)]
    overturn(platform, tenant_id, claim_id, ana)
    assert payables(platform, tenant_id, claim_id) == [(0, 47500, "UNPAID", 2, None)]
    redeliver_latest_adjudication(platform, tenant_id, claim_id)
    assert payables(platform, tenant_id, claim_id) == [(0, 47500, "UNPAID", 2, None)]
    # Each adjudication its own posting: the first one's is kept as it was.
    assert postings(platform, tenant_id, claim_id) == [("CLAIM_APPROVED", 7500), ("CLAIM_APPROVED", 40000)]
    run_id, amounts = pay(platform, tenant_id)
    assert amounts == [47500]
    assert balances(platform, tenant_id) == {
        ("CLAIMS_EXPENSE", 47500, 0),
        ("CLAIMS_PAYABLE", 47500, 47500),
        ("CASH", 0, 47500),
    }
    text = remit(platform, tenant_id, run_id)
    assert judge(text) == []
    assert [(c[1], c[2], c[3], c[4]) for c in segments(text, "CLP")] == [(str(claim_id), "1", "1950.00", "475.00")]
    assert segments(text, "BPR")[0][2] == "475.00" and segments(text, "PLB") == []


def test_overturned_after_the_run_the_difference_is_a_supplement(platform: Platform, tenant_id: uuid.UUID) -> None:
    claim_id, ana = partially_approved(platform, tenant_id)
    register(
        platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier="CLINIC1", provider_ids=[NPI_IN]
    )
    first_run, amounts = pay(platform, tenant_id)
    assert amounts == [7500]
    overturn(platform, tenant_id, claim_id, ana)
    assert payables(platform, tenant_id, claim_id) == [(0, 7500, "PAID", 1, None), (1, 40000, "UNPAID", 2, 1)]
    redeliver_latest_adjudication(platform, tenant_id, claim_id)
    assert payables(platform, tenant_id, claim_id) == [(0, 7500, "PAID", 1, None), (1, 40000, "UNPAID", 2, 1)]
    assert postings(platform, tenant_id, claim_id) == [("CLAIM_APPROVED", 7500), ("CLAIM_APPROVED", 40000)]
    second_run, amounts = pay(platform, tenant_id)
    assert amounts == [40000]
    assert balances(platform, tenant_id) == {
        ("CLAIMS_EXPENSE", 47500, 0),
        ("CLAIMS_PAYABLE", 47500, 47500),
        ("CASH", 0, 47500),
    }
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        advice = billing_public.payment_run(uow, second_run)
        assert advice is not None
        assert [
            (c.claim_id, c.paid_minor, c.adjudication_sequence, c.reverses_sequence, c.is_supplement)
            for p in advice.payments
            for c in p.claims
        ] == [(claim_id, 40000, 2, 1, True)]
        paid = billing_public.claim_payment(uow, claim_id)
        assert paid is not None and paid.paid_minor == 47500
    # The first 835 told the clinic 75.00; the second reverses that adjudication (CLP02 22) and
    # reports the new one in full: -75.00 + 475.00 = the 400.00 paid, no provider adjustment.
    first = remit(platform, tenant_id, first_run)
    assert [(c[2], c[4]) for c in segments(first, "CLP")] == [("1", "75.00")]
    text = remit(platform, tenant_id, second_run)
    assert judge(text) == []
    assert [(c[1], c[2], c[3], c[4]) for c in segments(text, "CLP")] == [
        (str(claim_id), "22", "-1950.00", "-75.00"),
        (str(claim_id), "1", "1950.00", "475.00"),
    ]
    assert segments(text, "BPR")[0][2] == "400.00" and segments(text, "PLB") == []


# ---------------------------------------------------------------------------------------------
# Billing alone: decreases, denials, messages seen again, late ones
def test_paid_less_after_the_run_is_recovered_from_the_next_payments(platform: Platform, tenant_id: uuid.UUID) -> None:
    claim_id, other = uuid.uuid4(), uuid.uuid4()
    publish(platform, tenant_id, approved(claim_id, "160.00", 1, at(2)))
    _, amounts = pay(platform, tenant_id)
    assert amounts == [16000]
    lowered = approved(claim_id, "100.00", 2, at(5))
    publish(platform, tenant_id, lowered)
    assert payables(platform, tenant_id, claim_id) == [(0, 16000, "PAID", 1, None)]
    assert recoveries(platform, tenant_id) == [(claim_id, 1, 6000, 6000, "OPEN")]
    # The same adjudication again (a new message), and the first one arriving late: nothing moves.
    publish(platform, tenant_id, lowered, approved(claim_id, "160.00", 1, at(2)))
    assert recoveries(platform, tenant_id) == [(claim_id, 1, 6000, 6000, "OPEN")]
    assert postings(platform, tenant_id, claim_id) == [("CLAIM_APPROVED", 16000)]
    # The clinic's next claim pays 80.00: 60.00 of it is recovered, 20.00 paid.
    publish(platform, tenant_id, approved(other, "80.00", 1, at(6)))
    _, amounts = pay(platform, tenant_id)
    assert amounts == [2000]
    assert recoveries(platform, tenant_id) == [(claim_id, 1, 6000, 0, "RECOVERED")]
    # Denied on a third adjudication: the 100.00 still paid for it is recovered too.
    publish(platform, tenant_id, denied(claim_id, 3, at(9)))
    assert recoveries(platform, tenant_id) == [
        (claim_id, 1, 6000, 0, "RECOVERED"),
        (claim_id, 2, 10000, 10000, "OPEN"),
    ]
    assert balances(platform, tenant_id) == {
        ("CLAIMS_EXPENSE", 24000, 16000),
        ("CLAIMS_PAYABLE", 34000, 24000),
        ("CASH", 0, 18000),
    }


def test_paid_less_before_the_run_shrinks_the_payable(platform: Platform, tenant_id: uuid.UUID) -> None:
    claim_id, reimbursement = uuid.uuid4(), uuid.uuid4()
    publish(platform, tenant_id, approved(claim_id, "160.00", 1, at(2)))
    publish(platform, tenant_id, approved(claim_id, "100.00", 2, at(3)))
    assert payables(platform, tenant_id, claim_id) == [(0, 10000, "UNPAID", 2, None)]
    assert postings(platform, tenant_id, claim_id) == [("CLAIM_APPROVED", 16000), ("REVERSAL", 6000)]
    # Denied: the clinic is owed 0.00 (its 835 still reports the claim); a member's reimbursement
    # denied after its approval is withdrawn (no cheque of 0.00).
    publish(platform, tenant_id, denied(claim_id, 3, at(4)), approved(reimbursement, "80.00", 1, at(2), payee="MEMBER"))
    publish(platform, tenant_id, denied(reimbursement, 2, at(4)))
    assert payables(platform, tenant_id, claim_id) == [(0, 0, "UNPAID", 3, None)]
    assert payables(platform, tenant_id, reimbursement) == [(0, 0, "REVERSED", 2, None)]
    assert postings(platform, tenant_id, claim_id) == [
        ("CLAIM_APPROVED", 16000),
        ("REVERSAL", 6000),
        ("REVERSAL", 10000),
    ]
    assert recoveries(platform, tenant_id) == []
    _, amounts = pay(platform, tenant_id)
    assert amounts == [0]
    assert balances(platform, tenant_id) == {
        ("CLAIMS_EXPENSE", 24000, 24000),
        ("CLAIMS_PAYABLE", 24000, 24000),
    }


def test_without_a_sequence_the_adjudication_time_orders_them(platform: Platform, tenant_id: uuid.UUID) -> None:
    """Events from a producer that does not send the sequence: a later ``adjudicatedAt`` is a new
    adjudication, an equal or earlier one is not."""
    claim_id = uuid.uuid4()
    publish(platform, tenant_id, approved(claim_id, "160.00", None, at(2)))
    publish(platform, tenant_id, approved(claim_id, "190.00", None, at(2)), approved(claim_id, "10.00", None, at(1)))
    assert payables(platform, tenant_id, claim_id) == [(0, 16000, "UNPAID", None, None)]
    publish(platform, tenant_id, approved(claim_id, "190.00", None, at(3)))
    assert payables(platform, tenant_id, claim_id) == [(0, 19000, "UNPAID", None, None)]
    assert postings(platform, tenant_id, claim_id) == [("CLAIM_APPROVED", 16000), ("CLAIM_APPROVED", 3000)]


def test_a_void_after_a_supplement_withdraws_it_and_recovers_what_was_paid(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    from olly.claims.events import ClaimReversed

    claim_id = uuid.uuid4()
    publish(platform, tenant_id, approved(claim_id, "160.00", 1, at(2)))
    pay(platform, tenant_id)
    publish(platform, tenant_id, approved(claim_id, "200.00", 2, at(3)))
    assert payables(platform, tenant_id, claim_id) == [(0, 16000, "PAID", 1, None), (1, 4000, "UNPAID", 2, 1)]
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(
            ClaimReversed(
                claim_id=claim_id,
                reversing_claim_id=uuid.uuid4(),
                reason="VOID",
                member_id=MEMBER,
                provider_id=CLINIC,
                payee="PROVIDER",
                reversed_amount="200.00",
                reversed_at=at(4),
            ),
            key=MEMBER,
        )
    drain(platform)
    assert payables(platform, tenant_id, claim_id) == [(0, 16000, "PAID", 1, None), (1, 4000, "REVERSED", 2, 1)]
    assert recoveries(platform, tenant_id) == [(claim_id, 0, 16000, 16000, "OPEN")]
    assert balances(platform, tenant_id) == {
        ("CLAIMS_EXPENSE", 20000, 20000),
        ("CLAIMS_PAYABLE", 36000, 20000),
        ("CASH", 0, 16000),
    }


def test_rows_from_before_the_migration_are_re_adjudicated_too(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    """A payable written before ``0027_claim_readjudication`` (part 0, no adjudication sequence): the
    overturn is applied by its later time; with no earlier adjudication known to reverse, the
    supplement's 835 reports the new adjudication and the 75.00 already paid as a provider-level
    adjustment, still balanced."""
    claim_id, ana = partially_approved(platform, tenant_id)
    register(
        platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier="CLINIC1", provider_ids=[NPI_IN]
    )
    pay(platform, tenant_id)
    platform.db.dispose()
    command.downgrade(migrate.alembic_config(platform.db), "0026_cobra_cases")
    migrate.upgrade(platform.db)
    assert migrate.current_revision(platform.db) == migrate.head_revision()
    assert payables(platform, tenant_id, claim_id) == [(0, 7500, "PAID", None, None)]
    clock.advance(timedelta(hours=1))
    overturn(platform, tenant_id, claim_id, ana)
    assert payables(platform, tenant_id, claim_id) == [(0, 7500, "PAID", None, None), (1, 40000, "UNPAID", 2, None)]
    run_id, amounts = pay(platform, tenant_id)
    assert amounts == [40000]
    text = remit(platform, tenant_id, run_id)
    assert judge(text) == []
    assert [(c[2], c[3], c[4]) for c in segments(text, "CLP")] == [("1", "1950.00", "475.00")]
    assert [(p[3][:2], p[3][3:], p[4]) for p in segments(text, "PLB")] == [("FB", str(run_id), "75.00")]
    assert segments(text, "BPR")[0][2] == "400.00"
