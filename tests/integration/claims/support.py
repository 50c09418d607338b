"""Claims' read models seeded for tests: the demo PPO schedule, a family and a self-only member,
an in-network provider with a fee schedule. (The handlers that fill these from other domains'
events are tested in ``test_read_models.py``.)"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from olly.claims import handlers, prior_auth, snapshots
from olly.claims import models as m
from olly.claims.rules import Contract
from olly.kernel.money import Money
from olly.plans import service as plans_service
from olly.platform.runtime import Platform
from olly.provider import service as provider_service
from olly.provider.events import CredentialingStatusChanged
from tests.integration.provider import factories as provider_factories
from tests.support.bus import drain as drain  # the tests of this package import it from here

PPO = "OLLY-PPO-1000"
POS = "OLLY-POS-1000"
"""The demo PPO's terms under the catalog's type POS (``load_pos_plan``)."""
NPI_IN = "1234567893"
"""In network, contracted: 99213 at $100.00, 10060 at $400.00, 29880 at $2,000.00, 29881 at $1,500.00."""
NPI_OUT = "1245319508"
"""Known to claims, out of network (no contract)."""
NPI_NEW = "1679576722"
"""Unknown to claims until ``join_registry``: its claims first carry the id claims derives from it."""


@dataclass(frozen=True)
class ClaimsWorld:
    plan_id: uuid.UUID
    family_id: uuid.UUID
    ana: uuid.UUID
    ben: uuid.UUID
    solo: uuid.UUID


def seed(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    world = ClaimsWorld(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    with platform.db.unit_of_work(tenant_id) as uow:
        handlers.sync_schedule(uow, PPO, world.plan_id, date(2026, 1, 1))
        now = uow.clock.now()
        for member, family in ((world.ana, world.family_id), (world.ben, world.family_id), (world.solo, None)):
            uow.session.add(
                m.CoverageView(
                    member_id=member,
                    policy_id=family or uuid.uuid4(),
                    family_id=str(family) if family else None,
                    plan_id=world.plan_id,
                    plan_code=PPO,
                    plan_type="PPO",
                    periods=[["2026-01-01", "2026-12-31"]],
                    synced_at=now,
                )
            )
        contract = Contract(
            fee_schedule={
                ("99213", None): Money(10000, "USD"),
                ("10060", None): Money(40000, "USD"),
                ("29880", None): Money(200000, "USD"),
                ("29881", None): Money(150000, "USD"),
            }
        )
        uow.session.add(
            m.ProviderView(
                npi=NPI_IN,
                provider_id=uuid.uuid4(),
                credentialing_status="APPROVED",
                network_status="IN_NETWORK",
                tier=None,
                contract_id=uuid.uuid4(),
                contract_from=date(2025, 1, 1),
                contract_to=None,
                contract=snapshots.contract_to_json(contract, "USD"),
                synced_at=now,
            )
        )
        uow.session.add(
            m.ProviderView(
                npi=NPI_OUT,
                provider_id=uuid.uuid4(),
                credentialing_status="APPROVED",
                network_status="OUT_OF_NETWORK",
                synced_at=now,
            )
        )
    return world


def load_pos_plan(platform: Platform, tenant_id: uuid.UUID) -> None:
    """The demo PPO again as a POS plan (``POS``): its own code and name, the same terms."""
    text = dict(plans_service.demo_documents())["employer-ppo.yaml"]
    pos = (
        text.replace(f"code: {PPO}", f"code: {POS}")
        .replace("name: Olly Employer PPO 1000", "name: Olly Employer POS 1000")
        .replace("plan_type: PPO", "plan_type: POS")
    )
    assert pos.count("POS") == 3
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_text(uow, pos, "yaml", plans_service.limits_from_settings(platform.settings))


def claim_body(member: uuid.UUID, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "claimType": "PROFESSIONAL",
        "memberId": str(member),
        "billingNpi": NPI_IN,
        "placeOfService": "11",
        "diagnoses": ["J06.9"],
        "lines": list(lines),
    }
    body.update(extra)
    return body


def line(code: str, charge: str, day: str = "2026-01-10", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"procedureCode": code, "charge": charge, "serviceDateFrom": day}
    item.update(extra)
    return item


def request_auth(
    platform: Platform,
    tenant_id: uuid.UUID,
    member: uuid.UUID,
    *,
    code: str = "29881",
    units: int = 1,
    service_from: date = date(2026, 1, 1),
    service_to: date = date(2026, 3, 31),
) -> uuid.UUID:
    """A prior-authorisation request for ``units`` of ``code`` received through the prior-auth service."""
    with platform.db.unit_of_work(tenant_id) as uow:
        view = prior_auth.submit_request(
            uow,
            prior_auth.PriorAuthRequestData(
                member_id=member,
                requesting_provider_id=uuid.uuid4(),
                requesting_npi=NPI_IN,
                services=(prior_auth.RequestedService(code, units),),
                service_from=service_from,
                service_to=service_to,
            ),
        )
    return view.request.id


def decide_auth(
    platform: Platform,
    tenant_id: uuid.UUID,
    prior_auth_id: uuid.UUID,
    outcome: prior_auth.DecisionOutcome = prior_auth.DecisionOutcome.APPROVED,
    denial_reason_code: str | None = None,
) -> None:
    """Decide a request through the prior-auth service (which publishes ``claims.prior_auth.decision``)."""
    with platform.db.unit_of_work(tenant_id) as uow:
        prior_auth.decide(
            uow,
            prior_auth_id,
            prior_auth.PriorAuthDecisionData(
                outcome=outcome, decided_by="account:reviewer", denial_reason_code=denial_reason_code
            ),
        )


def units_used(platform: Platform, tenant_id: uuid.UUID, prior_auth_id: uuid.UUID) -> list[tuple[str, int, int]]:
    """(code, units approved, units used) of each service of a request."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        view = prior_auth.get(uow, prior_auth_id)
    return [(s.procedure_code, s.units_approved or 0, s.units_used) for s in view.services]


def join_registry(platform: Platform, tenant_id: uuid.UUID, npi: str = NPI_NEW) -> uuid.UUID:
    """A provider registers with the provider domain and is credentialed (out of network): claims'
    read model learns its NPI from the provider's event, with the registry's id. Returns that id."""
    with platform.db.unit_of_work(tenant_id) as uow:
        registered = provider_service.register_provider(uow, provider_factories.individual(npi=npi)).id
        uow.publish(
            CredentialingStatusChanged(
                event_type="CREDENTIALING_APPROVED",
                provider_id=registered,
                npi=npi,
                provider_name="New Clinic",
                specialty=None,
                credentialing_status="APPROVED",
                network_status="OUT_OF_NETWORK",
                effective_date=uow.clock.today(),
                approved_at=uow.clock.now(),
            ),
            key=registered,
        )
    drain(platform)
    return registered
