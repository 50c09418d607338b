import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from olly.kernel.clock import FixedClock, SystemClock
from olly.kernel.ids import uuid7, uuid7_time_ms
from olly.kernel.periods import DatePeriod, add_months, age_on, end_of_month, month_period


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC))
    assert clock.now() == datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)
    assert clock.advance(timedelta(seconds=1)) == datetime(2026, 3, 1, tzinfo=UTC)
    assert clock.today() == date(2026, 3, 1)


def test_clocks_speak_utc_only() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 1))
    ist = timezone(timedelta(hours=5, minutes=30))
    assert FixedClock(datetime(2026, 1, 1, 5, 30, tzinfo=ist)).now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert SystemClock().now().tzinfo is UTC


def test_uuid7_is_version_7_and_sorted_in_creation_order() -> None:
    ids = [uuid7() for _ in range(10_000)]
    assert all(i.version == 7 and i.variant == "specified in RFC 4122" for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert abs(uuid7_time_ms(ids[0]) - int(datetime.now(UTC).timestamp() * 1000)) < 5_000


def test_uuid7_makes_the_uuid_the_constructor_would() -> None:
    made = uuid7()
    built = uuid.UUID(int=made.int)
    assert (type(made), made, hash(made), made.is_safe) == (uuid.UUID, built, hash(built), uuid.SafeUUID.unknown)
    assert (str(made), made.hex, made.bytes) == (str(built), built.hex, built.bytes)
    assert uuid.UUID(str(made)) == made and made.int >> 128 == 0
    with pytest.raises(TypeError, match="immutable"):
        made.int = 1  # type: ignore[misc]


def test_periods_are_inclusive() -> None:
    coverage = DatePeriod(date(2026, 1, 1), date(2026, 12, 31))
    assert date(2026, 12, 31) in coverage
    assert date(2027, 1, 1) not in coverage
    assert coverage.days() == 365
    assert DatePeriod(date(2026, 6, 1)).contains(date(2099, 1, 1))
    assert coverage.intersection(DatePeriod(date(2026, 12, 1), None)) == DatePeriod(
        date(2026, 12, 1), date(2026, 12, 31)
    )
    assert coverage.intersection(DatePeriod(date(2027, 1, 1))) is None
    with pytest.raises(ValueError, match="end before"):
        DatePeriod(date(2026, 2, 1), date(2026, 1, 31))


def test_month_arithmetic() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 3, 15), 18) == date(2027, 9, 15)  # COBRA 18 months
    assert add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)
    assert end_of_month(date(2026, 2, 10)) == date(2026, 2, 28)
    assert month_period(2026, 2) == DatePeriod(date(2026, 2, 1), date(2026, 2, 28))


def test_age_on() -> None:
    assert age_on(date(2000, 6, 15), date(2026, 6, 14)) == 25
    assert age_on(date(2000, 6, 15), date(2026, 6, 15)) == 26  # dependent child ages out at 26
    assert age_on(date(2004, 2, 29), date(2026, 2, 28)) == 21
    assert age_on(date(2004, 2, 29), date(2026, 3, 1)) == 22


def test_a_forked_child_does_not_reuse_the_parents_random_bytes() -> None:
    import os

    uuid7()  # the parent holds buffered random bytes now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, then exit at once
        os.close(read)
        os.write(write, uuid7().bytes)
        os._exit(0)
    os.close(write)
    child = uuid.UUID(bytes=os.read(read, 16))
    os.close(read)
    os.waitpid(pid, 0)
    parent = uuid7()
    # The last 62 bits are random: the same bytes in both would make them equal.
    assert child.int & ((1 << 62) - 1) != parent.int & ((1 << 62) - 1)
