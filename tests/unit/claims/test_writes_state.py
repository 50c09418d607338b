"""``writes._set_committed`` leaves an object as ``set_committed_value`` of each value leaves it,
including the chunk's objects whose written-only columns were never read."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.exc import DetachedInstanceError

from olly.claims import models as m
from olly.claims.repository import _LINE, _unattached
from olly.claims.writes import _set_committed

TENANT = uuid.UUID(int=1)
READ = {
    "id": uuid.UUID(int=2),
    "claim_id": uuid.UUID(int=3),
    "line_number": 1,
    "charge_minor": 9_000,
    "units": 1,
    "service": {"serviceDateFrom": "2026-01-02"},
    "status": None,
}
WRITTEN: dict[str, Any] = {
    "status": "APPROVED",
    "allowed_minor": 8_000,
    "paid_minor": 6_400,
    "deductible_minor": 0,
    "coinsurance_minor": 1_600,
    "copay_minor": 0,
    "adjustments": [{"group": "CO", "carc": "45", "amount": 1_000, "rarcs": []}],
}


def state_of(row: Any) -> tuple[Any, ...]:
    state = instance_state(row)
    return (
        {key: value for key, value in state.dict.items() if key != "_sa_instance_state"},
        set(state.expired_attributes),
        dict(state.committed_state),
        state.expired,
        dict(state.callables),
        state.modified,
    )


@pytest.mark.parametrize("written", [WRITTEN, {"status": "DENIED"}, {"units": 2, "paid_minor": 1}])
def test_a_chunk_line_takes_the_values_as_set_committed_value_does(written: dict[str, Any]) -> None:
    fast = _unattached(_LINE, dict(READ), TENANT)
    plain = _unattached(_LINE, dict(READ), TENANT)
    assert instance_state(fast).expired_attributes  # the amounts were not read
    with pytest.raises(DetachedInstanceError):
        _ = fast.allowed_minor
    _set_committed(fast, written)
    for key, value in written.items():
        set_committed_value(plain, key, value)
    assert state_of(fast) == state_of(plain)
    for key, value in written.items():
        assert getattr(fast, key) == value


def test_an_object_with_a_pending_change_goes_through_set_committed_value() -> None:
    row = m.ClaimLine(id=uuid.UUID(int=5), claim_id=uuid.UUID(int=6), line_number=1, charge_minor=1, units=1)
    instance_state(row)._commit_all(instance_state(row).dict)
    row.units = 3  # pending
    _set_committed(row, {"units": 4, "status": "DENIED"})
    assert (row.units, row.status) == (4, "DENIED")
    assert "units" not in instance_state(row).committed_state
