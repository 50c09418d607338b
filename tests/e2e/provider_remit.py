"""In the working directory of the portal server, for the provider journey:

* ``python -m tests.e2e.provider_remit network``: the clinic joins the network in claims' read model
  (99213 at 100.00) under a new provider id, as the provider domain's network event would put it
  there (its seeded visit keeps the id claims derived from its NPI);
* ``python -m tests.e2e.provider_remit pay CLAIM_ID``: once the claim is approved, billing pays the
  approved claims and the gateway writes the 835 of every payment run; prints, as JSON, each
  provider payment: trace number, amount and the claims it pays."""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import date
from typing import Any

from olly import edi_links
from olly.billing import public as billing_public
from olly.billing import service as billing
from olly.billing.repository import BillingRepository
from olly.claims import models as claims_models
from olly.claims import public as claims_public
from olly.claims import snapshots
from olly.claims.rules import Contract
from olly.edi import service as edi_service
from olly.kernel.errors import NotFound
from olly.kernel.money import Money
from olly.platform.bus.runtime import BusRuntime, default_registry
from olly.platform.runtime import build_platform
from tests.e2e.portal_seed import NPI


def network() -> None:
    platform = build_platform()
    try:
        with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
            contract = Contract(fee_schedule={("99213", None): Money(10000, "USD")})
            uow.session.add(
                claims_models.ProviderView(
                    npi=NPI,
                    # The registry's id, not the one claims derived from the NPI for the seeded visit:
                    # billing still pays the clinic once per run (one payee per NPI, one 835).
                    provider_id=uuid.uuid4(),
                    credentialing_status="APPROVED",
                    network_status="IN_NETWORK",
                    tier=None,
                    contract_id=uuid.uuid4(),
                    contract_from=date(2020, 1, 1),
                    contract_to=None,
                    contract=snapshots.contract_to_json(contract, "USD"),
                    synced_at=uow.clock.now(),
                )
            )
    finally:
        platform.close()


def pay(claim_id: uuid.UUID) -> None:
    platform = build_platform()
    edi_links.install(platform.db)
    tenant = platform.settings.default_tenant_id
    bus = BusRuntime(platform.db, platform.settings, default_registry(), platform.outbox)
    try:

        def settled(wanted: str) -> Any:
            # The server's own bus may be the one adjudicating: wait for it, draining as well.
            deadline = time.monotonic() + 60
            while True:
                bus.drain()
                with platform.db.unit_of_work(tenant, read_only=True) as uow:
                    status = claims_public.claim_status(uow, claim_id)
                    payable = BillingRepository(uow).claim_payable(claim_id)
                if (wanted == "APPROVED" and status and status.status == wanted) or (wanted == "PAYABLE" and payable):
                    return status
                assert time.monotonic() < deadline, f"the claim never became {wanted}: {status}"
                time.sleep(0.5)

        settled("APPROVED")
        settled("PAYABLE")
        with platform.db.unit_of_work(tenant) as uow:
            billing.run_claim_payments(uow)
        with platform.db.unit_of_work(tenant, read_only=True) as uow:
            runs = [run.id for run in BillingRepository(uow).payment_runs(limit=500)]
        payments = []
        for run_id in runs:
            try:
                with platform.db.unit_of_work(tenant) as uow:
                    edi_service.remit(uow, str(run_id))  # once per run: a remitted run answers its files
            except NotFound:
                continue  # no provider was paid in this run
            with platform.db.unit_of_work(tenant, read_only=True) as uow:
                advice = billing_public.payment_run(uow, run_id)
            assert advice is not None
            payments += [
                {
                    "trace": p.trace_number,
                    "amount": Money(p.amount_minor, p.currency).to_decimal_string(),
                    "claims": [str(c.claim_id) for c in p.claims],
                }
                for p in advice.payments
                if p.payee == "PROVIDER"
            ]
    finally:
        platform.close()
    print(json.dumps(payments))


if __name__ == "__main__":
    if sys.argv[1] == "network":
        network()
    else:
        pay(uuid.UUID(sys.argv[2]))
