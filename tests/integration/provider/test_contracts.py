"""Contracts, network memberships and their events; fee-schedule loading; pricing through public.py."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from olly.kernel.errors import BusinessRuleViolation, Conflict, ValidationFailed
from olly.kernel.money import Money
from olly.provider import models as m
from olly.provider import public, service
from olly.provider import rules as r
from tests.integration.provider import factories

NETWORK_TOPIC = "provider.network.updated"
UNKNOWN_ID = uuid.UUID("00000000-0000-7000-8000-0000000000ff")


def test_contract_lifecycle_publishes_network_updates(work, outbox) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        provider = service.register_provider(uow, factories.individual(npi="1234567893"))
        provider_id = provider.id
        factories.credential(uow, provider_id)
    outbox.clear()
    with work() as uow:
        contract_id = service.create_contract(
            uow, service.ContractDraft(provider_id, "K-2026-001", "ppo", "tier_1", date(2026, 2, 1))
        ).id
    assert outbox.payloads(NETWORK_TOPIC) == [
        {
            "eventType": "NETWORK_CONTRACT_ADDED",
            "schemaVersion": "1.0",
            "providerId": str(provider_id),
            "npi": "1234567893",
            "networkStatus": "IN_NETWORK",
            "network": "PPO",
            "tier": "TIER_1",
            "contractId": str(contract_id),
            "viaOrganisationId": None,
            "effectiveDate": "2026-02-01",
            "terminationDate": None,
            "changedAt": "2026-01-15T09:00:00Z",
        }
    ]
    with work() as uow:
        assert public.network_status(uow, provider_id, date(2026, 1, 31)).status is r.NetworkStatus.OUT_OF_NETWORK
        view = public.network_status(uow, provider_id, date(2026, 2, 1))
        assert (view.status, view.network, view.tier, view.contract_id, view.reason) == (
            r.NetworkStatus.IN_NETWORK,
            "PPO",
            "TIER_1",
            contract_id,
            "contract_in_effect",
        )
    outbox.clear()
    with work() as uow:
        service.amend_contract(uow, contract_id, service.ContractAmendment(tier="TIER_2"))
        service.terminate_contract(uow, contract_id, date(2026, 12, 31))
    assert [(p["eventType"], p["tier"], p["terminationDate"]) for p in outbox.payloads(NETWORK_TOPIC)] == [
        ("NETWORK_CONTRACT_AMENDED", "TIER_2", None),
        ("NETWORK_CONTRACT_AMENDED", "TIER_2", "2026-12-31"),
    ]
    with work() as uow:
        assert public.network_status(uow, provider_id, date(2027, 1, 1)).status is r.NetworkStatus.OUT_OF_NETWORK
    outbox.clear()
    with work() as uow:  # an amendment that changes nothing publishes nothing
        service.amend_contract(uow, contract_id, service.ContractAmendment(tier="TIER_2"))
    assert outbox.events == []


def test_organisation_contracts_reach_affiliated_individuals(work, outbox) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        group = service.register_provider(uow, factories.organisation())
        doctor = service.register_provider(uow, factories.individual(organisation_npi=group.npi))
        group_id, doctor_id = group.id, doctor.id
        factories.credential(uow, doctor_id)
    outbox.clear()
    with work() as uow:
        contract_id = service.create_contract(
            uow, service.ContractDraft(group_id, "K-GRP-1", "HMO", "TIER_1", date(2026, 1, 1), date(2026, 12, 31))
        ).id
    events = outbox.payloads(NETWORK_TOPIC)
    assert sorted((p["providerId"], p["viaOrganisationId"], p["eventType"]) for p in events) == sorted(
        [
            (str(group_id), None, "NETWORK_CONTRACT_ADDED"),
            # the individual joined the group on 2026-01-15 (today), so its membership starts then
            (str(doctor_id), str(group_id), "NETWORK_CONTRACT_ADDED"),
        ]
    )
    doctor_event = next(p for p in events if p["providerId"] == str(doctor_id))
    assert (doctor_event["effectiveDate"], doctor_event["terminationDate"]) == ("2026-01-15", "2026-12-31")
    with work() as uow:
        view = public.network_status(uow, doctor_id, date(2026, 6, 1), network="HMO")
        assert (view.status, view.via_organisation_id, view.contract_id) == (
            r.NetworkStatus.IN_NETWORK,
            group_id,
            contract_id,
        )
        # the organisation itself is not credentialed yet: contract in effect, but out of network
        group_view = public.network_status(uow, group_id, date(2026, 6, 1))
        assert (group_view.status, group_view.reason) == (
            r.NetworkStatus.OUT_OF_NETWORK,
            "credentialing_not_credentialed",
        )
        [affiliation] = service.provider_details(uow, doctor_id).affiliations
    outbox.clear()
    with work() as uow:
        service.end_affiliation(uow, affiliation.id, date(2026, 3, 31))
    [ended] = outbox.payloads(NETWORK_TOPIC)
    assert (ended["eventType"], ended["providerId"], ended["terminationDate"]) == (
        "NETWORK_CONTRACT_AMENDED",
        str(doctor_id),
        "2026-03-31",
    )


def test_overlapping_contract_in_one_network_is_refused_and_nothing_changes(work, outbox) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        provider_id = service.register_provider(uow, factories.individual()).id
        service.create_contract(
            uow, service.ContractDraft(provider_id, "K-1", "PPO", "TIER_1", date(2026, 1, 1), date(2026, 12, 31))
        )
    outbox.clear()
    for draft, error in (
        (service.ContractDraft(provider_id, "K-2", "PPO", "TIER_2", date(2026, 6, 1)), Conflict),
        (service.ContractDraft(provider_id, "K-1", "HMO", "TIER_1", date(2026, 1, 1)), Conflict),
        (
            service.ContractDraft(provider_id, "K-3", "HMO", "TIER_1", date(2026, 2, 1), date(2026, 1, 1)),
            BusinessRuleViolation,
        ),
        (service.ContractDraft(provider_id, "K 4", "HMO", "TIER 1", date(2026, 2, 1)), ValidationFailed),
        (
            service.ContractDraft(provider_id, "K-5", "HMO", "TIER_1", date(2026, 2, 1), None, "NO-SUCH"),
            ValidationFailed,
        ),
    ):
        with pytest.raises(error), work() as uow:
            service.create_contract(uow, draft)
    with work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.Contract)) == 1
        assert uow.session.scalar(select(func.count()).select_from(m.NetworkMembership)) == 1
    assert outbox.events == []
    # a contract in another network for the same period is fine
    with work() as uow:
        service.create_contract(uow, service.ContractDraft(provider_id, "K-6", "HMO", "TIER_1", date(2026, 6, 1)))


# -- fee schedules ------------------------------------------------------------------------------------
AMOUNT_CSV = "code,modifier,amount\n99213,,92.47\n99213,25,95.00\n71046,26,12.34\n"
RVU_CSV = "code,modifier,relative_value\n99213,,2.6\n36415,,0.17\n"
BASE_OVERRIDES_CSV = "code,modifier,percent\n36415,,110\n"
PER_DIEM_CSV = "code,per_diem\n0120,1850.00\n0200,3200.00\n*,1500.00\n"


def load(work, code: str, kind: r.FeeScheduleKind, text: str, **header: object) -> service.FeeScheduleLoadReport:  # type: ignore[no-untyped-def]
    with work() as uow:
        return service.load_fee_schedule(
            uow,
            service.FeeScheduleHeader(code=code, name=f"{code} schedule", kind=kind, **header),
            service.read_rate_csv(text),  # type: ignore[arg-type]
        )


def test_fee_schedules_load_and_price_each_kind_through_public(work) -> None:  # type: ignore[no-untyped-def]
    assert load(work, "AMT-2026", r.FeeScheduleKind.AMOUNT, AMOUNT_CSV).rows == 3
    assert load(work, "RVU-2026", r.FeeScheduleKind.RELATIVE_VALUE, RVU_CSV).rows == 2
    load(
        work,
        "PCT-BASE",
        r.FeeScheduleKind.PERCENT_OF_BASE,
        BASE_OVERRIDES_CSV,
        percent=Decimal("120"),
        conversion_factor=Decimal("33.2875"),
        base_schedule_code="RVU-2026",
    )
    load(work, "PCT-BILLED", r.FeeScheduleKind.PERCENT_OF_BILLED, "code,percent\n", percent=Decimal("65"))
    load(work, "DIEM-2026", r.FeeScheduleKind.PER_DIEM, PER_DIEM_CSV)

    providers = {}
    with work() as uow:
        for schedule in ("AMT-2026", "PCT-BASE", "PCT-BILLED", "DIEM-2026"):
            provider_id = service.register_provider(uow, factories.individual()).id
            factories.credential(uow, provider_id)
            service.create_contract(
                uow,
                service.ContractDraft(provider_id, f"K-{schedule}", "PPO", "TIER_1", date(2026, 1, 1), None, schedule),
            )
            providers[schedule] = provider_id
        stranger = service.register_provider(uow, factories.individual()).id

    usd = lambda text: Money.parse(text, "USD")  # noqa: E731
    on = date(2026, 3, 10)
    cases = [
        # schedule, line, (contract rate, allowed, write-off) — the same hand computations as the unit tests
        ("AMT-2026", r.ServiceToPrice("99213", usd("150.00"), modifiers=("25",)), ("95.00", "95.00", "55.00")),
        ("AMT-2026", r.ServiceToPrice("71046", usd("60.00"), units=2, modifiers=("26",)), ("24.68", "24.68", "35.32")),
        ("PCT-BASE", r.ServiceToPrice("99213", usd("150.00")), ("103.86", "103.86", "46.14")),
        ("PCT-BASE", r.ServiceToPrice("36415", usd("30.00"), units=3), ("18.67", "18.67", "11.33")),
        ("PCT-BILLED", r.ServiceToPrice("99285", usd("1234.56")), ("802.46", "802.46", "432.10")),
        (
            "DIEM-2026",
            r.ServiceToPrice("0120", usd("9200.00"), admission_date=date(2026, 3, 1), discharge_date=date(2026, 3, 5)),
            ("7400.00", "7400.00", "1800.00"),
        ),
    ]
    with work() as uow:
        for schedule, line, (rate, allowed, write_off) in cases:
            quote = public.price_line(uow, providers[schedule], on, line, network="PPO")
            assert quote is not None
            assert quote.pricing is not None
            assert (quote.fee_schedule_code, quote.network_status, quote.tier) == (
                schedule,
                r.NetworkStatus.IN_NETWORK,
                "TIER_1",
            )
            assert (quote.pricing.contract_rate, quote.allowed, quote.pricing.write_off) == (
                usd(rate),
                usd(allowed),
                usd(write_off),
            )
        out_of_network = public.price_line(uow, stranger, on, r.ServiceToPrice("99213", usd("150.00")))
        assert out_of_network is not None
        assert (out_of_network.network_status, out_of_network.pricing, out_of_network.network_reason) == (
            r.NetworkStatus.OUT_OF_NETWORK,
            None,
            "no_contract_in_effect",
        )
        assert public.price_line(uow, UNKNOWN_ID, on, r.ServiceToPrice("99213", usd("1.00"))) is None
        summary = public.provider_by_id(uow, providers["AMT-2026"])
        assert summary is not None
        assert summary.credentialing_status is r.CredentialingStatus.APPROVED
        assert public.provider_by_npi(uow, summary.npi) == summary


def test_a_bad_fee_schedule_file_loads_nothing_and_reports_every_row(work) -> None:  # type: ignore[no-untyped-def]
    text = "code,modifier,amount\n99213,,92.47\n9921,,10.00\n99214,2,1.005\n99213,,90.00\n99215,,\n"
    with pytest.raises(ValidationFailed) as refused:
        load(work, "AMT-BAD", r.FeeScheduleKind.AMOUNT, text)
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("rows.3.code", "invalid_code"),
        ("rows.4.modifier", "invalid_modifier"),
        ("rows.4.amount", "invalid_amount"),
        ("rows.5.code", "duplicate"),
        ("rows.6.amount", "invalid_amount"),
    ]
    assert "nothing was loaded" in refused.value.detail
    with work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.FeeSchedule)) == 0
        assert uow.session.scalar(select(func.count()).select_from(m.FeeScheduleRate)) == 0


def test_fee_schedule_header_refusals(work) -> None:  # type: ignore[no-untyped-def]
    load(work, "AMT-1", r.FeeScheduleKind.AMOUNT, AMOUNT_CSV)
    with pytest.raises(Conflict):
        load(work, "amt-1", r.FeeScheduleKind.AMOUNT, AMOUNT_CSV)
    with pytest.raises(ValidationFailed) as refused:
        load(work, "PB", r.FeeScheduleKind.PERCENT_OF_BASE, "code,percent\n", base_schedule_code="AMT-1")
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("baseSchedule", "invalid_base"),
        ("conversionFactor", "required"),
        ("percent", "required"),
    ]
    with pytest.raises(ValidationFailed) as empty:
        load(work, "EMPTY", r.FeeScheduleKind.AMOUNT, "code,modifier,amount\n")
    assert [e.code for e in empty.value.errors] == ["empty_schedule"]
    load(work, "RVU-X", r.FeeScheduleKind.RELATIVE_VALUE, RVU_CSV)
    with pytest.raises(ValidationFailed) as base_contract, work() as uow:
        provider_id = service.register_provider(uow, factories.individual()).id
        service.create_contract(
            uow, service.ContractDraft(provider_id, "K-R", "PPO", "T1", date(2026, 1, 1), None, "RVU-X")
        )
    assert [e.code for e in base_contract.value.errors] == ["not_priceable"]
