from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from olly.edi.writer import EnvelopeSettings, InMemoryControlNumbers, Party

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "x12"
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)

#: Every sample interchange of the fixtures folder (each with its notice of source).
ALL_SAMPLES = (
    "834_ls_le_ls.txt",
    "claim-level-status.276",
    "dependent-health-benefit-check.270",
    "enroll-employee-multiple-products.834",
    "two-claims-single-provider.837i",
    "x12_277_x212.txt",
    "x12_complex.txt",
    "x12_many_claims.txt",
)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def control_numbers() -> InMemoryControlNumbers:
    return InMemoryControlNumbers()


@pytest.fixture
def olly_to_partner() -> EnvelopeSettings:
    return EnvelopeSettings(Party("ZZ", "OLLY", "OLLY"), Party("ZZ", "PARTNER", "PARTNER"))
