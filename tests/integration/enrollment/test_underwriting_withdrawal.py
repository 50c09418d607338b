"""An underwriting finding recorded by mistake is withdrawn: it stays on record (when, why, the
underwriter's sealed note), no longer declares a condition to claims, and enrollment tells claims
with ids only. Unknown findings, another policy's and a second withdrawal are refused, changing nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from olly.enrollment import public, service
from olly.enrollment.models import UnderwritingFlag
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market, TerminationReason, WithdrawalReason
from olly.enrollment.schemas import EnrollmentCreate, Termination
from olly.kernel.clock import FixedClock
from olly.kernel.errors import OllyError, ValidationFailed
from olly.plans import service as plans_service
from olly.platform.bus.models import OutboxRecord
from olly.platform.db import table_of
from olly.platform.runtime import Platform

WITHDRAWN_AT = datetime(2026, 2, 3, 10, 30, tzinfo=UTC)


def floater(platform: Platform, tenant_id: uuid.UUID, subscriber: uuid.UUID, *parents: uuid.UUID) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.SUM_INSURED,
                account_id=uuid.uuid4(),
                subscriber_party_id=subscriber,
                plan_code="OLLY-FLOATER-5L",
                effective_date=date(2026, 1, 1),
                dependents=[{"party_id": parent, "relationship": "PARENT"} for parent in parents],
            ),
            PlansCatalog(),
        ).id


@pytest.fixture
def flagged(platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]) -> dict[str, uuid.UUID]:
    """Ben's floater (his mother Eve on it), active: Eve's type 2 diabetes (E11, 36 months) and a 10 %
    loading on Ben; Ana's own floater, with her hypertension (I10, 24 months)."""
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    bens, anas = (
        floater(platform, tenant_id, family["ben"], family["grandma"]),
        floater(platform, tenant_id, family["ana"]),
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        service.activate(uow, bens)
        eve = service.flag_underwriting(
            uow,
            bens,
            party_id=family["grandma"],
            flag="PRE_EXISTING_DISEASE",
            waiting_period_months=36,
            detail="type 2 diabetes",
            diagnosis_codes=["E11"],
        ).id
        loading = service.flag_underwriting(uow, bens, party_id=family["ben"], flag="LOADING", loading_percent=10).id
        ana = service.flag_underwriting(
            uow,
            anas,
            party_id=family["ana"],
            flag="PRE_EXISTING_DISEASE",
            waiting_period_months=24,
            diagnosis_codes=["I10"],
        ).id
    return {"policy": bens, "other_policy": anas, "eve": eve, "loading": loading, "ana": ana}


def withdrawn_events(platform: Platform) -> list[dict[str, str]]:
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        rows = uow.session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))
        return [json.loads(r.payload) for r in rows if r.topic == "enrollment.underwriting.withdrawn"]


def state(platform: Platform, tenant_id: uuid.UUID, flag_id: uuid.UUID) -> tuple[object, ...]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row = EnrollmentRepository(uow).underwriting_flag(flag_id)
        assert row is not None
        return (row.withdrawn_at, row.withdrawal_reason, row.withdrawal_note)


def test_a_withdrawn_finding_stays_on_record_and_no_longer_declares_the_condition(
    platform: Platform,
    tenant_id: uuid.UUID,
    clock: FixedClock,
    family: dict[str, uuid.UUID],
    flagged: dict[str, uuid.UUID],
) -> None:
    policy_id, eve = flagged["policy"], family["grandma"]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [
            (c.party_id, c.diagnosis_codes, c.waiting_period_months) for c in public.declared_conditions(uow, policy_id)
        ] == [(eve, ("E11",), 36)]
    clock.set(WITHDRAWN_AT)
    with platform.db.unit_of_work(tenant_id) as uow:
        row = service.withdraw_underwriting(
            uow,
            policy_id,
            flagged["eve"],
            reason=WithdrawalReason.WRONG_PERSON,
            note="  Eve's sister's diabetes, filed on Eve  ",
        )
        assert (row.withdrawn_at, row.withdrawal_reason) == (WITHDRAWN_AT, "WRONG_PERSON")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        flags = {f.id: f for f in EnrollmentRepository(uow).underwriting_flags(policy_id)}
        kept = flags[flagged["eve"]]
        # The finding is still there, as it was recorded, with when and why it was withdrawn.
        assert (kept.flag, kept.waiting_period_months, kept.detail, kept.diagnosis_codes) == (
            "PRE_EXISTING_DISEASE",
            36,
            "type 2 diabetes",
            ["E11"],
        )
        assert (kept.withdrawn_at, kept.withdrawal_reason, kept.withdrawal_note) == (
            WITHDRAWN_AT,
            "WRONG_PERSON",
            "Eve's sister's diabetes, filed on Eve",
        )
        assert (flags[flagged["loading"]].withdrawn_at, flags[flagged["loading"]].loading_percent) == (None, 10)
        assert public.declared_conditions(uow, policy_id) == []  # claims learns of no condition any more
        assert [c.diagnosis_codes for c in public.declared_conditions(uow, flagged["other_policy"])] == [("I10",)]
    # Ids only, keyed by the policy: the reason and the note stay in enrollment.
    (event,) = withdrawn_events(platform)
    assert {k: event[k] for k in ("eventType", "enrollmentId", "memberId", "flagId", "withdrawnAt")} == {
        "eventType": "UNDERWRITING_WITHDRAWN",
        "enrollmentId": str(policy_id),
        "memberId": str(eve),
        "flagId": str(flagged["eve"]),
        "withdrawnAt": "2026-02-03T10:30:00Z",
    }
    assert [word for word in ("WRONG_PERSON", "sister", "diabetes", "E11") if word in json.dumps(event)] == []
    # The note is sealed at rest, as the finding's own words are.
    flags_table = table_of(UnderwritingFlag)
    with platform.db.connect() as connection:
        sealed = connection.execute(
            select(flags_table.c.withdrawal_note).where(flags_table.c.id == flagged["eve"])
        ).scalar_one()
    assert isinstance(sealed, bytes) and b"sister" not in sealed


def test_a_finding_unknown_here_or_already_withdrawn_is_refused_and_nothing_changes(
    platform: Platform,
    tenant_id: uuid.UUID,
    clock: FixedClock,
    flagged: dict[str, uuid.UUID],
) -> None:
    policy_id = flagged["policy"]
    refusals: list[tuple[int, str]] = []
    for flag_id in (uuid.uuid4(), flagged["ana"]):  # no such finding; Ana's, on her own policy
        with pytest.raises(OllyError) as info, platform.db.unit_of_work(tenant_id) as uow:
            service.withdraw_underwriting(uow, policy_id, flag_id, reason=WithdrawalReason.DUPLICATE)
        refusals.append((info.value.status, info.value.code))
    assert refusals == [(404, "underwriting_flag_not_found")] * 2
    assert state(platform, tenant_id, flagged["ana"]) == (None, None, None)
    # Another reason than the listed ones must say what it is.
    with pytest.raises(ValidationFailed) as invalid, platform.db.unit_of_work(tenant_id) as uow:
        service.withdraw_underwriting(uow, policy_id, flagged["eve"], reason=WithdrawalReason.OTHER, note="  ")
    assert [(e.field, e.code) for e in invalid.value.errors] == [("note", "required")]
    assert state(platform, tenant_id, flagged["eve"]) == (None, None, None)
    assert withdrawn_events(platform) == []

    clock.set(WITHDRAWN_AT)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.withdraw_underwriting(uow, policy_id, flagged["eve"], reason=WithdrawalReason.DUPLICATE)
    clock.set(datetime(2026, 2, 4, 8, 0, tzinfo=UTC))
    with pytest.raises(OllyError) as again, platform.db.unit_of_work(tenant_id) as uow:
        service.withdraw_underwriting(uow, policy_id, flagged["eve"], reason=WithdrawalReason.OTHER, note="twice")
    assert (again.value.status, again.value.code, again.value.extra) == (
        409,
        "underwriting_flag_already_withdrawn",
        {"withdrawnAt": "2026-02-03T10:30:00+00:00"},
    )
    assert state(platform, tenant_id, flagged["eve"]) == (WITHDRAWN_AT, "DUPLICATE", None)  # the first one stands
    assert [e["flagId"] for e in withdrawn_events(platform)] == [str(flagged["eve"])]


def test_a_finding_on_a_terminated_policy_can_still_be_withdrawn(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, flagged: dict[str, uuid.UUID]
) -> None:
    # Claims for days the policy covered still come in after it ends (and still read its findings).
    policy_id = flagged["policy"]
    with platform.db.unit_of_work(tenant_id) as uow:
        service.terminate(uow, policy_id, Termination(reason=TerminationReason.VOLUNTARY))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        policy = EnrollmentRepository(uow).policy(policy_id)
        assert policy is not None and policy.status == "TERMINATED"
    clock.set(WITHDRAWN_AT)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.withdraw_underwriting(uow, policy_id, flagged["eve"], reason=WithdrawalReason.WRONG_CONDITION)
    assert state(platform, tenant_id, flagged["eve"]) == (WITHDRAWN_AT, "WRONG_CONDITION", None)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert public.declared_conditions(uow, policy_id) == []
