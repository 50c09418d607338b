"""Fixtures of the enrollment integration tests (the COBRA helpers are in cobra_support.py)."""

from __future__ import annotations

import uuid

import pytest

from olly.kernel.clock import FixedClock
from olly.platform.runtime import Platform
from tests.factories import FakePlans
from tests.integration.enrollment.cobra_support import end_employment


@pytest.fixture
def terminated(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> uuid.UUID:
    """Ana's group policy after her employment ended on 20 March 2026 (recorded that day at 11:00):
    group cover ends on 31 March; Ana and Ben are offered continuation to 30 September 2027."""
    return end_employment(platform, tenant_id, plans, family, clock)
