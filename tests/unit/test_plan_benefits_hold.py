"""Eligibility keeps a plan's benefits in memory for a few seconds, shared by every member of the plan."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from olly.eligibility import plan_benefits
from olly.eligibility.plan_benefits import PlanBenefitSource


class Uow:
    def __init__(self, tenant: uuid.UUID) -> None:
        self.tenant = tenant

    def require_tenant(self) -> uuid.UUID:
        return self.tenant


def test_benefits_are_held_per_tenant_plan_and_date_for_the_hold_only(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    loads: list[tuple[str, date]] = []

    def load(self: PlanBenefitSource, uow: Any, plan_code: str, on: date) -> Any:
        loads.append((plan_code, on))
        return f"{plan_code} on {on}"

    monkeypatch.setattr(plan_benefits.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(PlanBenefitSource, "_load", load)
    source, a, b = PlanBenefitSource(hold_seconds=10), Uow(uuid.UUID(int=1)), Uow(uuid.UUID(int=2))
    june, july = date(2026, 6, 1), date(2026, 7, 1)
    row: Any = None
    assert source.benefits(a, "PPO", june, row) == "PPO on 2026-06-01"
    assert source.benefits(a, "PPO", june, row) == "PPO on 2026-06-01"
    assert loads == [("PPO", june)]
    source.benefits(a, "PPO", july, row)  # another date,
    source.benefits(b, "PPO", june, row)  # another tenant: each its own
    assert len(loads) == 3
    now[0] += 9.9
    source.benefits(a, "PPO", june, row)
    assert len(loads) == 3
    now[0] += 0.2  # the hold is over: looked up again
    source.benefits(a, "PPO", june, row)
    assert len(loads) == 4
    unheld = PlanBenefitSource()
    unheld.benefits(a, "PPO", june, row)
    unheld.benefits(a, "PPO", june, row)
    assert len(loads) == 6  # without a hold, every call looks the plan up
