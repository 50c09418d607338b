"""Fixtures shared by the integration tests of several domains."""

from __future__ import annotations

import uuid

import pytest

from olly.platform.runtime import Platform
from tests.factories import FakePlans, make_family


@pytest.fixture
def plans() -> FakePlans:
    return FakePlans()


@pytest.fixture
def family(platform: Platform, tenant_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """Ana (subscriber, 1985), Ben (spouse, 1986), Cy (child, 2015), a newborn (2026-01-03), Eve (1950)."""
    return make_family(platform, tenant_id)
