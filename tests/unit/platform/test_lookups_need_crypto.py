"""Looking a member up by a blind-indexed field (member number, SSN) with no field encryption
configured is refused with a clear configuration error, in every repository that does so."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from olly.eligibility.repository import EligibilityRepository
from olly.enrollment.repository import EnrollmentRepository
from olly.kernel.errors import ConfigurationError
from olly.policy_admin.repository import PolicyAdminRepository


def never(*_: Any) -> Any:
    raise AssertionError("the look-up reached the database")


def unit_without_crypto() -> Any:
    return SimpleNamespace(session=SimpleNamespace(info={}, scalars=never, execute=never))


@pytest.mark.parametrize(
    "look_up",
    [
        lambda uow: EligibilityRepository(uow).records_by_member_number("M123"),
        lambda uow: EnrollmentRepository(uow).element_by_member_number("M123"),
        lambda uow: PolicyAdminRepository(uow).parties_by_ssn("123-45-6789"),
    ],
    ids=["eligibility", "enrollment", "policy_admin"],
)
def test_a_lookup_without_field_encryption_is_refused(look_up: Any) -> None:
    with pytest.raises(ConfigurationError, match="PHI was looked up without field encryption configured"):
        look_up(unit_without_crypto())
