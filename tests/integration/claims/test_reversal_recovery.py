"""A void or replacement of a paid claim publishes ``claims.claim.reversed``; billing withdraws an
unpaid payable or recovers a paid one from the payee's next payment runs (a negative balance carried),
so money never goes out twice; the books reconcile at every step. Claims and billing through the
bus, on SQLite and PostgreSQL. Amounts from the demo PPO (office visit $25 copay, no deductible;
outpatient surgery 20 % after a $1,000 deductible) and the seeded fee schedule."""

from __future__ import annotations

import json
import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import select

from olly import edi_links
from olly.billing import handlers as billing_handlers
from olly.billing import recoveries, service
from olly.billing.models import ClaimRecovery
from olly.billing.repository import BillingRepository
from olly.claims import public
from olly.claims import service as claims_service
from olly.claims.models import CoverageView
from olly.claims.schemas import ClaimCreate
from olly.claims.service import PROVIDER_NAMESPACE
from olly.edi import service as edi
from olly.eligibility import service as eligibility
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment import service as enrollment
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.kernel.money import Money
from olly.platform.bus.messages import Message
from olly.platform.bus.models import OutboxRecord
from olly.platform.jobs import JobScheduler, discover_jobs
from olly.platform.runtime import Platform
from tests.factories import ACCOUNT
from tests.integration.claims.support import (
    NPI_IN,
    NPI_NEW,
    NPI_OUT,
    POS,
    PPO,
    ClaimsWorld,
    claim_body,
    drain,
    join_registry,
    line,
    load_pos_plan,
    seed,
)
from tests.integration.edi.helpers import register, segments
from tests.unit.edi.pyx12_judge import judge


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def claim(platform: Platform, tenant_id: uuid.UUID, body: dict) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_id = public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id
    drain(platform)
    return claim_id


def pay(platform: Platform, tenant_id: uuid.UUID) -> list[int]:
    """Run the claim payments; the amount of each payment, and the books must reconcile."""
    with platform.db.unit_of_work(tenant_id) as uow:
        run = service.run_claim_payments(uow)
        amounts = [p.amount_minor for p in BillingRepository(uow).claim_payments(run.id)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        books = service.reconcile(uow)
    assert books.is_clean, books.problems
    return amounts


def open_recoveries(platform: Platform, tenant_id: uuid.UUID) -> list[tuple[uuid.UUID, int, int, str]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(select(ClaimRecovery).order_by(ClaimRecovery.recorded_at))
        return [(r.claim_id, r.amount_minor, r.remaining_minor, r.status) for r in rows]


def test_a_paid_claim_voided_is_recovered_from_the_next_payments(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    # 99213 billed 150.00: allowed 100.00, copay 25.00, paid 75.00 — and paid in a run.
    first = claim(platform, tenant_id, claim_body(world.ana, line("99213", "150.00")))
    assert pay(platform, tenant_id) == [7500]
    # The provider voids it: claims publishes the reversal of 75.00 for the clinic.
    void = claim(
        platform, tenant_id, claim_body(world.ana, line("99213", "150.00"), frequency="8", originalClaimId=str(first))
    )
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        reversed_events = [
            json.loads(r.payload)
            for r in uow.session.scalars(select(OutboxRecord))
            if r.topic == "claims.claim.reversed"
        ]
    assert [
        (e["claimId"], e["reversingClaimId"], e["reason"], e["reversedAmount"], e["payee"]) for e in reversed_events
    ] == [(str(first), str(void), "VOID", "75.00", "PROVIDER")]
    assert open_recoveries(platform, tenant_id) == [(first, 7500, 7500, "OPEN")]
    # Next visit: 99213 billed 50.00, allowed 50.00, copay 25.00, paid 25.00 — all of it recovered:
    # the clinic is paid 0.00 and 50.00 stays to recover.
    claim(platform, tenant_id, claim_body(world.ana, line("99213", "50.00", "2026-01-11")))
    assert pay(platform, tenant_id) == [0]
    assert open_recoveries(platform, tenant_id) == [(first, 7500, 5000, "OPEN")]
    # 29880 billed 2,000.00: deductible 1,000.00 (the void gave Ana's back), 20 % of 1,000.00 =
    # 200.00, paid 800.00; less the 50.00 still owed → the clinic is paid 750.00.
    claim(platform, tenant_id, claim_body(world.ana, line("29880", "2000.00", "2026-01-12")))
    assert pay(platform, tenant_id) == [75000]
    assert open_recoveries(platform, tenant_id) == [(first, 7500, 0, "RECOVERED")]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert recoveries.outstanding_total(uow) == 0


def test_a_claim_replaced_before_its_payment_run_is_never_paid(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    # 99213 billed 150.00 → paid 75.00, not yet paid out; the replacement bills 120.00: allowed
    # 100.00, copay 25.00, paid 75.00. The run pays the replacement only: 75.00, not 150.00.
    first = claim(platform, tenant_id, claim_body(world.ana, line("99213", "150.00")))
    claim(
        platform, tenant_id, claim_body(world.ana, line("99213", "120.00"), frequency="7", originalClaimId=str(first))
    )
    assert open_recoveries(platform, tenant_id) == []  # the unpaid payable was withdrawn instead
    assert pay(platform, tenant_id) == [7500]
    # Replaying the reversal changes nothing (idempotent per claim).
    with platform.db.unit_of_work(tenant_id) as uow:
        again = recoveries.record_reversal(
            uow,
            claim_id=first,
            reversing_claim_id=uuid.uuid4(),
            member_id=world.ana,
            provider_id=uuid.uuid4(),
            payee="PROVIDER",
            amount=Money(7500, "USD"),
            reversed_at=uow.clock.now(),
        )
    assert again is None and open_recoveries(platform, tenant_id) == []


def test_a_recovery_follows_the_npi_when_the_provider_id_changes(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """A claim paid under the id claims derived from an unknown NPI, voided after the registry's id
    is known: the recovery is netted from the NPI's next payment, made under the registry's id
    (the money does not go out twice)."""
    derived = uuid.uuid5(PROVIDER_NAMESPACE, f"npi:{NPI_NEW}")
    knee = {"billingNpi": NPI_NEW, "diagnoses": ["M23.41"]}
    # Out of network: 29880 billed 6,000.00, allowed 3,000.00 (50 % of billed), the 2,000.00
    # deductible, then the plan pays 60 %: 600.00.
    first = claim(platform, tenant_id, claim_body(world.ana, line("29880", "6000.00"), **knee))
    assert pay(platform, tenant_id) == [60000]
    registered = join_registry(platform, tenant_id)
    claim(
        platform,
        tenant_id,
        claim_body(world.ana, line("29880", "6000.00"), frequency="8", originalClaimId=str(first), **knee),
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (recovery,) = uow.session.scalars(select(ClaimRecovery))
        assert (recovery.payee_id, recovery.payee_npi, recovery.remaining_minor) == (derived, NPI_NEW, 60000)
    # 29880 billed 8,000.00 under the registry's id: allowed 4,000.00, the deductible again (the void
    # gave it back), paid 60 % of 2,000.00 = 1,200.00; less the 600.00 recovered → 600.00.
    later = claim(platform, tenant_id, claim_body(world.ana, line("29880", "8000.00", "2026-01-12"), **knee))
    assert pay(platform, tenant_id) == [60000]
    assert open_recoveries(platform, tenant_id) == [(first, 60000, 0, "RECOVERED")]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        payable = BillingRepository(uow).claim_payable(later)
        assert payable is not None and (payable.provider_id, payable.amount_minor) == (registered, 120000)
        assert payable.claim_payment_id is not None
        payment = BillingRepository(uow).claim_payment(payable.claim_payment_id)
        assert payment is not None
        assert (payment.payee_id, payment.payee_npi, payment.amount_minor) == (registered, NPI_NEW, 60000)
        assert recoveries.outstanding_total(uow) == 0


def remit(platform: Platform, tenant_id: uuid.UUID, run_id: uuid.UUID) -> str:
    links = edi_links.build_links(PlansCatalog(), PlanBenefitSource())
    with platform.db.unit_of_work(tenant_id) as uow:
        (remitted,) = edi.remit(uow, str(run_id), links)
        return edi.file_content(uow, remitted.id)[1].decode()


def run_and_remit(platform: Platform, tenant_id: uuid.UUID) -> tuple[int, str]:
    with platform.db.unit_of_work(tenant_id) as uow:
        run = service.run_claim_payments(uow)
        (payment,) = BillingRepository(uow).claim_payments(run.id)
        run_id, amount = run.id, payment.amount_minor
    text = remit(platform, tenant_id, run_id)
    assert judge(text) == []
    return amount, text


@pytest.fixture
def clinic(platform: Platform, tenant_id: uuid.UUID) -> None:
    """The clinic as a trading partner, so its payments are remitted as 835s."""
    register(
        platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier="CLINIC1", provider_ids=[NPI_IN]
    )


def paid_in_a_run(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld) -> uuid.UUID:
    """99213 billed 150.00: paid 75.00 in a run of its own."""
    first = claim(platform, tenant_id, claim_body(world.ana, line("99213", "150.00")))
    assert run_and_remit(platform, tenant_id)[0] == 7500
    return first


def the_next_run_takes_back_50(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld, plb: str) -> None:
    """29880 pays 800.00; the 50.00 still owed is taken back under ``plb`` (code and reference)."""
    later = claim(platform, tenant_id, claim_body(world.ana, line("29880", "2000.00", "2026-01-12")))
    amount, text = run_and_remit(platform, tenant_id)
    assert amount == 75000
    assert [(c[1], c[4]) for c in segments(text, "CLP")] == [(str(later), "800.00")]
    assert [p[3:] for p in segments(text, "PLB")] == [[plb, "50.00"]]
    assert segments(text, "BPR")[0][2] == "750.00"


@pytest.mark.usefixtures("clinic")
def test_a_voided_claims_recovery_is_a_plb_wo_naming_it(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    # Paid 75.00, then voided (a void pays nothing and has no CLP), and a visit paying 25.00.
    first = paid_in_a_run(platform, tenant_id, world)
    claim(
        platform, tenant_id, claim_body(world.ana, line("99213", "150.00"), frequency="8", originalClaimId=str(first))
    )
    visit = claim(platform, tenant_id, claim_body(world.ana, line("99213", "50.00", "2026-01-11")))
    # Second run: the visit's 25.00 is all kept back, an overpayment recovery naming the voided claim.
    amount, text = run_and_remit(platform, tenant_id)
    assert amount == 0
    assert [(c[1], c[2], c[4]) for c in segments(text, "CLP")] == [(str(visit), "1", "25.00")]
    assert [p[3:] for p in segments(text, "PLB")] == [[f"WO:{first}", "25.00"]]
    assert segments(text, "BPR")[0][2] == "0.00"  # 25.00 - 25.00
    # Third run: the 50.00 still owed is taken back under the same reference.
    the_next_run_takes_back_50(platform, tenant_id, world, f"WO:{first}")


@pytest.mark.usefixtures("clinic")
def test_a_replacement_not_covered_by_its_run_forwards_the_balance_naming_the_claim(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    first = paid_in_a_run(platform, tenant_id, world)
    # Replaced by 99213 billed 50.00: allowed 50.00, copay 25.00, pays 25.00. Its run reverses the
    # 75.00 paid (CLP02 22) and reports the 25.00: -50.00, which the run cannot pay out. The clinic
    # is paid 0.00 and the 50.00 is forwarded, naming the replaced claim.
    replacement = claim(
        platform, tenant_id, claim_body(world.ana, line("99213", "50.00"), frequency="7", originalClaimId=str(first))
    )
    amount, text = run_and_remit(platform, tenant_id)
    assert amount == 0
    assert [(c[1], c[2], c[4]) for c in segments(text, "CLP")] == [
        (str(first), "22", "-75.00"),
        (str(replacement), "1", "25.00"),
    ]
    assert [p[3:] for p in segments(text, "PLB")] == [[f"FB:{first}", "-50.00"]]
    assert segments(text, "BPR")[0][2] == "0.00"  # -75.00 + 25.00 - (-50.00)
    # The next run takes the forwarded 50.00 back, paired with it by its code and reference.
    the_next_run_takes_back_50(platform, tenant_id, world, f"FB:{first}")


@pytest.mark.usefixtures("clinic")
def test_the_835_files_each_claim_under_its_plans_type(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """CLP06: 12 for Ana's PPO; the same claim of an EPO member files as 14 (claims' copy of the
    coverage says the type). A visit in network pays alike under both: 75.00."""
    ppo = claim(platform, tenant_id, claim_body(world.ana, line("99213", "150.00")))
    assert [(c[1], c[6]) for c in segments(run_and_remit(platform, tenant_id)[1], "CLP")] == [(str(ppo), "12")]
    with platform.db.unit_of_work(tenant_id) as uow:
        (coverage,) = uow.session.scalars(select(CoverageView).where(CoverageView.member_id == world.ana))
        coverage.plan_id, coverage.plan_type = uuid.uuid4(), "EPO"
    epo = claim(platform, tenant_id, claim_body(world.ana, line("99213", "150.00", "2026-01-11")))
    amount, text = run_and_remit(platform, tenant_id)
    assert amount == 7500
    assert [(c[1], c[6]) for c in segments(text, "CLP")] == [(str(epo), "14")]


@pytest.mark.usefixtures("clinic")
def test_a_recovery_taken_back_before_its_replacement_is_paid_is_cancelled_when_the_reversal_comes(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """Billing hears of a replacement's reversal before its approval (the two events of one claims
    transaction reach it in either order) and a run comes in between: that run takes back part of
    the replaced claim's payment as an overpayment recovery (WO). The replacement's own 835 later
    reverses the claim in full (CLP02 22), so it cancels the earlier WO under the same reference
    instead of forwarding a balance nothing would pair."""
    first = paid_in_a_run(platform, tenant_id, world)
    # The replacement bills 29881 (1,800.00) without the authorisation the PPO pends for.
    replacement = claim(
        platform,
        tenant_id,
        claim_body(world.ana, line("29881", "1800.00"), frequency="7", originalClaimId=str(first)),
    )
    visit = claim(platform, tenant_id, claim_body(world.ana, line("99213", "50.00", "2026-01-11")))
    with platform.db.unit_of_work(tenant_id) as uow:
        claims_service.decide_line(
            uow, replacement, 1, decision="APPROVE", reason="45", note="seen", paid_minor=None, decided_by=None
        )
    with platform.db.unit_of_work(tenant_id) as uow:  # billing takes the reversal first …
        (reversed_event,) = uow.session.scalars(
            select(OutboxRecord).where(OutboxRecord.topic == "claims.claim.reversed")
        )
        billing_handlers.on_claim_reversed(
            uow, cast(Message, SimpleNamespace(payload=json.loads(reversed_event.payload)))
        )
    # … and a run comes before the approval reaches it: the visit's 25.00 is all kept back.
    amount, text = run_and_remit(platform, tenant_id)
    assert amount == 0
    assert [(c[1], c[2], c[4]) for c in segments(text, "CLP")] == [(str(visit), "1", "25.00")]
    assert [p[3:] for p in segments(text, "PLB")] == [[f"WO:{first}", "25.00"]]
    drain(platform)
    # 29881: contracted 1,500.00 (CO-45 300.00); the 1,000.00 deductible, then 20 % of 500.00 =
    # 100.00; paid 400.00. The run reverses the 75.00 paid for the first claim and takes the 50.00
    # still owed: 400.00 - 50.00 = 350.00. The 25.00 taken earlier comes back as a WO of -25.00:
    # -75.00 + 400.00 - (-25.00) = 350.00.
    amount, text = run_and_remit(platform, tenant_id)
    assert amount == 35000
    assert [(c[1], c[2], c[4]) for c in segments(text, "CLP")] == [
        (str(first), "22", "-75.00"),
        (str(replacement), "1", "400.00"),
    ]
    assert [p[3:] for p in segments(text, "PLB")] == [[f"WO:{first}", "-25.00"]]
    assert segments(text, "BPR")[0][2] == "350.00"
    assert open_recoveries(platform, tenant_id) == [(first, 7500, 0, "RECOVERED")]


def enrol_alone(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID, plan_code: str) -> uuid.UUID:
    """A self-only group policy from 2026-01-01 (activated by the jobs; claims copies it from the events)."""
    with platform.db.unit_of_work(tenant_id) as uow:
        policy_id = enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=ACCOUNT,
                subscriber_party_id=party_id,
                plan_code=plan_code,
                effective_date=date(2026, 1, 1),
            ),
            PlansCatalog(),
        ).id
    return policy_id


@pytest.mark.usefixtures("clinic", "world")
def test_a_pos_plan_files_as_13_and_pays_as_a_ppo(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    """The demo PPO's terms as a POS plan: Ana enrols in it, Ben in the PPO. Claims' copy keeps the
    catalog's type (POS), the engine adjudicates it as a PPO (the same amounts, in and out of
    network, and the same accumulators), and the 835 files Ana's claim as 13 and Ben's as 12."""
    load_pos_plan(platform, tenant_id)
    ana = family["ana"]
    ben = family["ben"]
    enrol_alone(platform, tenant_id, ana, POS)
    enrol_alone(platform, tenant_id, ben, PPO)
    scheduler = JobScheduler(platform.db, "test")
    discover_jobs(scheduler)
    scheduler.run_all_once()
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        copies = uow.session.execute(
            select(CoverageView.member_id, CoverageView.plan_code, CoverageView.plan_type).where(
                CoverageView.member_id.in_([ana, ben])
            )
        )
        assert sorted((c.member_id == ana, c.plan_code, c.plan_type) for c in copies) == [
            (False, PPO, "PPO"),
            (True, POS, "POS"),
        ]

    # 99213 billed 150.00: allowed 100.00, copay 25.00, pays 75.00; 29880 billed 2,000.00: allowed
    # 2,000.00, 1,000.00 to the deductible, 20 % of the rest (200.00), pays 800.00. 875.00 each.
    lines = (line("99213", "150.00"), line("29880", "2000.00"))
    pos = claim(platform, tenant_id, claim_body(ana, *lines))
    ppo = claim(platform, tenant_id, claim_body(ben, *lines))
    amount, text = run_and_remit(platform, tenant_id)
    assert amount == 175000
    assert sorted((c[1], c[3], c[4], c[6]) for c in segments(text, "CLP")) == sorted(
        [(str(pos), "2150.00", "875.00", "13"), (str(ppo), "2150.00", "875.00", "12")]
    )
    # Out of network a POS plan pays like the PPO too (an EPO or HMO would deny CO-242): 99213
    # billed 150.00, allowed 130.26, the 19.74 above it balance-billed, all to the deductible.
    pos_out = claim(platform, tenant_id, claim_body(ana, line("99213", "150.00", "2026-01-12"), billingNpi=NPI_OUT))
    ppo_out = claim(platform, tenant_id, claim_body(ben, line("99213", "150.00", "2026-01-12"), billingNpi=NPI_OUT))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        details = {claim_id: public.remittance_detail(uow, claim_id) for claim_id in (pos, ppo, pos_out, ppo_out)}
        answers = {
            member: eligibility.check(uow, member, date(2026, 2, 1), "30", PlanBenefitSource()) for member in (ana, ben)
        }
    assert as_adjudicated(details[pos]) == as_adjudicated(details[ppo]) == (
        "APPROVED", 87500, [
            ("99213", 10000, 7500, [("CO", "45", 5000), ("PR", "3", 2500)]),
            ("29880", 200000, 80000, [("PR", "1", 100000), ("PR", "2", 20000)]),
        ],
    )  # fmt: skip
    assert as_adjudicated(details[pos_out]) == as_adjudicated(details[ppo_out]) == (
        "APPROVED", 0, [("99213", 13026, 0, [("PR", "45", 1974), ("PR", "1", 13026)])],
    )  # fmt: skip
    assert [details[c].plan_type for c in (pos, ppo, pos_out, ppo_out)] == ["POS", "PPO", "POS", "PPO"]
    # The same accumulators: 1,000.00 in network and 130.26 out of network to the deductible; 1,225.00
    # and 130.26 towards the out-of-pocket maximums.
    for member in (ana, ben):
        remaining = [
            (a["network"], a["individual_remaining"])
            for kind in ("deductible", "out_of_pocket")
            for a in answers[member][kind]
        ]
        assert remaining == [
            ("IN_NETWORK", "0.00"), ("OUT_OF_NETWORK", "1869.74"),  # deductible
            ("IN_NETWORK", "2775.00"), ("OUT_OF_NETWORK", "7869.74"),  # out-of-pocket maximum
        ]  # fmt: skip


def as_adjudicated(detail: public.RemittanceClaim | None) -> tuple[str, int, list[tuple[Any, ...]]]:
    """A claim's status, payment and each line's code, allowed, paid and adjustments (minor units)."""
    assert detail is not None
    return (
        detail.status,
        detail.paid.amount,
        [
            (
                item.procedure_code,
                item.allowed.amount,
                item.paid.amount,
                [(a.group, a.carc, a.amount.amount) for a in item.adjustments],
            )
            for item in detail.lines
        ],
    )
