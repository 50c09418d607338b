"""What other domains may ask the provider domain synchronously (frozen results, no ORM objects).

Claims reads network status and prices lines here; for a hot path it may instead keep its own read
model from ``provider.network.updated`` and ``provider.credentialing.status_changed``.
All functions run inside the caller's unit of work and only read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from olly.kernel.money import Money
from olly.platform.db import UnitOfWork
from olly.provider import repository, service
from olly.provider import rules as r
from olly.provider.models import Provider

# Re-exported so callers build requests and read results without importing rules.
ServiceToPrice = r.ServiceToPrice
PricingResult = r.PricingResult
PricingOutcome = r.PricingOutcome
NetworkStatus = r.NetworkStatus
CredentialingStatus = r.CredentialingStatus
npi_is_valid = r.npi_is_valid


@dataclass(frozen=True, slots=True)
class ProviderSummary:
    provider_id: uuid.UUID
    npi: str
    kind: str
    name: str
    specialty: str | None
    credentialing_status: CredentialingStatus
    credentialing_effective_on: date | None
    recredentialing_due_on: date | None


@dataclass(frozen=True, slots=True)
class NetworkStatusView:
    """A provider's network standing on one date (in network = contract in effect AND credentialed)."""

    provider_id: uuid.UUID
    npi: str
    on: date
    status: NetworkStatus
    reason: str
    """contract_in_effect, no_contract_in_effect, or credentialing_<status>."""
    credentialing_status: CredentialingStatus
    network: str | None
    tier: str | None
    contract_id: uuid.UUID | None
    via_organisation_id: uuid.UUID | None
    effective_from: date | None = None
    """First day of the membership (the contract, or its overlap with the affiliation) in effect."""
    effective_to: date | None = None
    """Its last day; None while open-ended."""


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """The contract price of one line. ``pricing`` is None when out of network or no schedule applies."""

    provider_id: uuid.UUID
    on: date
    network_status: NetworkStatus
    network_reason: str
    network: str | None
    tier: str | None
    contract_id: uuid.UUID | None
    fee_schedule_code: str | None
    pricing: PricingResult | None

    @property
    def allowed(self) -> Money | None:
        return self.pricing.allowed if self.pricing else None


def _summary(uow: UnitOfWork, provider: Provider) -> ProviderSummary:
    return ProviderSummary(
        provider.id,
        provider.npi,
        provider.kind,
        service.provider_name(provider),
        service.primary_specialty(uow, provider.id),
        CredentialingStatus(provider.credentialing_status),
        provider.credentialing_effective_on,
        provider.recredentialing_due_on,
    )


def provider_by_npi(uow: UnitOfWork, npi: str) -> ProviderSummary | None:
    """The registered provider with this NPI, or None (claims: "known NPI")."""
    provider = repository.get_provider_by_npi(uow.session, npi)
    return _summary(uow, provider) if provider else None


def provider_by_id(uow: UnitOfWork, provider_id: uuid.UUID) -> ProviderSummary | None:
    provider = repository.get_provider(uow.session, provider_id)
    return _summary(uow, provider) if provider else None


def network_status(
    uow: UnitOfWork, provider_id: uuid.UUID, on: date, *, network: str | None = None
) -> NetworkStatusView | None:
    """Network standing of a provider on a date of service; None for an unknown provider.

    ``network`` narrows to the member's plan network (e.g. "PPO"); without it the best standing
    across networks is returned (own contract before an organisation's, then the better tier).
    """
    provider = repository.get_provider(uow.session, provider_id)
    if provider is None:
        return None
    decision = service.network_decision(uow, provider, on, network)
    membership = decision.membership
    return NetworkStatusView(
        provider.id,
        provider.npi,
        on,
        decision.status,
        decision.reason,
        CredentialingStatus(provider.credentialing_status),
        membership.network if membership else None,
        membership.tier if membership else None,
        membership.contract_id if membership else None,
        membership.via_organisation_id if membership else None,
        membership.effective_from if membership else None,
        membership.effective_to if membership else None,
    )


@dataclass(frozen=True, slots=True)
class ContractPeriod:
    """Days on which one contract decides the provider's network standing (in network on them when
    credentialed): the one ``network_status`` would name on each of them."""

    start: date
    end: date | None
    """None while open-ended."""
    contract_id: uuid.UUID
    network: str
    tier: str
    via_organisation_id: uuid.UUID | None


def contract_periods(uow: UnitOfWork, provider_id: uuid.UUID) -> list[ContractPeriod]:
    """Every stretch of days a contract (its own, or an organisation's it is affiliated with) puts
    the provider in a network, oldest first: a contract signed ahead (a renewal) and the one in
    effect today both appear, each with its own days."""
    return [
        ContractPeriod(start, end, m.contract_id, m.network, m.tier, m.via_organisation_id)
        for m, start, end in r.contract_periods(service.memberships(uow, provider_id))
    ]


def provider_ids(uow: UnitOfWork) -> list[uuid.UUID]:
    """Every registered provider's id, in registration order (for a read model's back-fill)."""
    return repository.provider_ids(uow.session)


def price_line(
    uow: UnitOfWork, provider_id: uuid.UUID, on: date, line: ServiceToPrice, *, network: str | None = None
) -> PriceQuote | None:
    """The allowed amount of one claim line under the provider's contract on the date of service.

    ``allowed = min(billed, contract rate)``; ``write_off`` (billed − allowed) is the CO-45
    adjustment. None for an unknown provider.
    """
    if repository.get_provider(uow.session, provider_id) is None:
        return None
    quote = service.quote_price(uow, provider_id, on, line, network=network)
    return PriceQuote(
        quote.provider_id,
        on,
        quote.network_status,
        quote.network_reason,
        quote.network,
        quote.tier,
        quote.contract_id,
        quote.fee_schedule_code,
        quote.pricing,
    )


FeeScheduleTerms = r.FeeScheduleTerms
FeeScheduleKind = r.FeeScheduleKind
ANY_CODE = r.ANY_CODE


def contract_fee_schedule(uow: UnitOfWork, contract_id: uuid.UUID) -> FeeScheduleTerms | None:
    """A contract's whole fee schedule as pure terms (claims keeps it in its own read model)."""
    contract = repository.get_contract(uow.session, contract_id)
    if contract is None or contract.fee_schedule_id is None:
        return None
    schedule = repository.get_fee_schedule(uow.session, contract.fee_schedule_id)
    return service.schedule_terms(uow, schedule) if schedule is not None else None


@dataclass(frozen=True, slots=True)
class CredentialingQueueItem:
    """One open credentialing request as the operations queue lists it."""

    request_id: uuid.UUID
    provider_id: uuid.UUID
    npi: str
    provider_name: str
    kind: str
    state: str
    opened_on: date
    submitted_on: date | None


def credentialing_queue(uow: UnitOfWork, limit: int = 200) -> list[CredentialingQueueItem]:
    """Open credentialing requests (application, verification, committee review), oldest first."""
    items = []
    for request in repository.requests_in_states(uow.session, sorted(s.value for s in r.OPEN_STATES), limit):
        provider = repository.get_provider(uow.session, request.provider_id)
        if provider is None:
            continue
        items.append(
            CredentialingQueueItem(
                request.id,
                provider.id,
                provider.npi,
                service.provider_name(provider),
                request.kind,
                request.state,
                request.opened_at.date(),
                request.submitted_at.date() if request.submitted_at else None,
            )
        )
    return items
