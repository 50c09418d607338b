"""Accumulators: how much of each deductible, out-of-pocket maximum, benefit limit and sum insured is used.

A snapshot maps keys to integers (minor units for money kinds, counts for visits and units). The
engine never changes a snapshot: it returns movements, and ``apply`` gives the snapshot after them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class AccumulatorKind(StrEnum):
    DEDUCTIBLE = "DEDUCTIBLE"
    OUT_OF_POCKET = "OUT_OF_POCKET"
    BENEFIT_VISITS = "BENEFIT_VISITS"
    BENEFIT_UNITS = "BENEFIT_UNITS"
    BENEFIT_AMOUNT = "BENEFIT_AMOUNT"
    SUM_INSURED = "SUM_INSURED"

    @property
    def is_money(self) -> bool:
        return self not in (AccumulatorKind.BENEFIT_VISITS, AccumulatorKind.BENEFIT_UNITS)


class AccumulatorLevel(StrEnum):
    MEMBER = "MEMBER"
    FAMILY = "FAMILY"


class NetworkScope(StrEnum):
    IN_NETWORK = "IN_NETWORK"
    OUT_OF_NETWORK = "OUT_OF_NETWORK"
    COMBINED = "COMBINED"
    """In- and out-of-network together (plans that do not separate them)."""
    ANY = "ANY"
    """Accumulators that do not depend on the network (benefit limits, sum insured)."""


class AccumulatorKey(NamedTuple):
    """Which accumulator. A named tuple rather than a dataclass: it is hashed on every ledger lookup."""

    kind: AccumulatorKind
    level: AccumulatorLevel
    holder_id: str
    """The member id, or the family id at family level."""
    plan_year: date
    """First day of the plan (policy) year."""
    network: NetworkScope = NetworkScope.ANY
    category: str = ""
    """Benefit category, for benefit limits."""


class AccumulatorMovement(NamedTuple):
    key: AccumulatorKey
    delta: int
    """Minor units for money kinds, a count for visits and units; negative in a reversal."""


@dataclass(frozen=True, slots=True)
class AccumulatorSnapshot:
    """Used amounts by key; absent keys are zero (zero values are dropped so equal states compare equal)."""

    values: Mapping[AccumulatorKey, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cleaned = {key: value for key, value in self.values.items() if value != 0}
        object.__setattr__(self, "values", MappingProxyType(cleaned))

    def get(self, key: AccumulatorKey) -> int:
        return self.values.get(key, 0)

    def apply(self, movements: Iterable[AccumulatorMovement]) -> AccumulatorSnapshot:
        values = dict(self.values)
        for movement in movements:
            values[movement.key] = values.get(movement.key, 0) + movement.delta
        return AccumulatorSnapshot(values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AccumulatorSnapshot):
            return NotImplemented
        return dict(self.values) == dict(other.values)

    def __hash__(self) -> int:
        return hash(frozenset(self.values.items()))


def plan_year_start(service_date: date, month: int, day: int) -> date:
    """The first day of the plan year containing ``service_date`` for a plan renewing on ``month``/``day``."""
    this_year = date(service_date.year, month, day)
    return this_year if this_year <= service_date else date(service_date.year - 1, month, day)


class Ledger:
    """The engine's working copy while one claim is adjudicated: later lines see earlier lines' movements."""

    __slots__ = ("_values",)

    def __init__(self, snapshot: AccumulatorSnapshot) -> None:
        self._values: dict[AccumulatorKey, int] = dict(snapshot.values)

    def get(self, key: AccumulatorKey) -> int:
        return self._values.get(key, 0)

    def move(self, key: AccumulatorKey, delta: int, into: list[AccumulatorMovement]) -> None:
        if delta:
            self._values[key] = self._values.get(key, 0) + delta
            into.append(AccumulatorMovement(key, delta))
