"""A completed payment run becomes its 835s without anyone running ``olly edi remit``: billing
publishes ``PAYMENT_RUN_COMPLETED`` and the gateway's consumer (``edi-billing-consumer``) remits the
run, once however often the event is delivered."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from olly import edi_links
from olly.billing import service as billing
from olly.edi import handlers, service
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment.plan_catalog import PlansCatalog
from olly.platform.bus.messages import Message
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_IN, drain
from tests.integration.edi.helpers import files, register, segments
from tests.integration.edi.test_claims_round_trip import (  # noqa: F401  (fixture)
    CLINIC_BANK,
    PAYER_BANK,
    SENDER,
    claims_file,
    members,
)
from tests.integration.edi.test_gateway import events
from tests.unit.edi.pyx12_judge import judge


def test_a_completed_payment_run_is_remitted_by_the_gateway(
    platform: Platform,
    tenant_id: uuid.UUID,
    members: dict[str, str],  # noqa: F811
) -> None:
    links = edi_links.build_links(
        PlansCatalog(), PlanBenefitSource(), payer_bank=PAYER_BANK, payee_banks=lambda uow, payee: CLINIC_BANK
    )
    edi_links.install(platform.db, links)
    register(platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier=SENDER, provider_ids=[NPI_IN])
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, claims_file("000000101", members), source="cli", links=links)
    assert (result.claims_accepted, result.claims_rejected) == (5, 1)
    drain(platform)  # adjudication
    assert [f.kind for f in files(platform, tenant_id, "OUT") if f.kind == "835"] == []
    with platform.db.unit_of_work(tenant_id) as uow:
        run = billing.run_claim_payments(uow)
        run_id = str(run.id)
    (completed,) = [
        e for e in events(platform, "billing.payment.completed") if e["eventType"] == "PAYMENT_RUN_COMPLETED"
    ]
    assert {k: completed[k] for k in ("paymentRunId", "runDate", "paymentCount", "claimCount")} == {
        "paymentRunId": run_id,
        "runDate": "2026-01-15",
        "paymentCount": 1,
        "claimCount": 5,
    }
    drain(platform)  # the gateway's consumer writes the run's 835
    (remitted,) = [f for f in files(platform, tenant_id, "OUT") if f.kind == "835"]
    summary = dict(remitted.summary)
    trace = summary.pop("traceNumber")
    assert (remitted.reference, summary) == (
        run_id,
        {"claims": 5, "paid": "2145.00", "currency": "USD", "payeeNpi": "1234567893"},
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        text = service.file_content(uow, remitted.id)[1].decode()
    assert f"TRN*1*{trace}*" in text
    assert judge(text) == []
    assert segments(text, "BPR")[0][1:5] == ["I", "2145.00", "C", "ACH"]
    assert [(e["eventType"], e["receiverId"]) for e in events(platform, "edi.outbound.generated")] == [
        ("EDI_835_GENERATED", SENDER)
    ]

    # delivered again (a redelivery, a replay): nothing new is written
    message = Message(
        topic="billing.payment.completed",
        partition=0,
        offset=99,
        key=run_id,
        event_id=uuid.uuid4(),
        event_type="PAYMENT_RUN_COMPLETED",
        schema_version="1.0",
        tenant_id=tenant_id,
        correlation_id=uuid.uuid4(),
        causation_id=None,
        occurred_at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
        created_at=None,
        payload=completed,
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        handlers.on_payment_completed(uow, message)
    assert [f.id for f in files(platform, tenant_id, "OUT") if f.kind == "835"] == [remitted.id]
    # a per-claim PAYMENT_COMPLETED is not acted on; an unknown run has nothing to remit
    with platform.db.unit_of_work(tenant_id) as uow:
        handlers.on_payment_completed(uow, replace(message, payload={"eventType": "PAYMENT_COMPLETED"}))
        handlers.on_payment_completed(uow, replace(message, payload={**completed, "paymentRunId": str(uuid.uuid4())}))
    assert len([f for f in files(platform, tenant_id, "OUT") if f.kind == "835"]) == 1
