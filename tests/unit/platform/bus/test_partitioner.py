"""Keys land in the partition Kafka's own default partitioner would choose."""

from olly.platform.bus.outbox import murmur2, partition_for


def _signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def test_murmur2_matches_kafkas_reference_values() -> None:
    # Reference values from Kafka's Java client (UtilsTest) for the same inputs.
    assert _signed(murmur2(b"21")) == -973932308
    assert _signed(murmur2(b"foobar")) == -790332482
    assert _signed(murmur2(b"a-little-bit-long-string")) == -985981536
    assert _signed(murmur2(b"a-little-bit-longer-string")) == -1486304829
    assert _signed(murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")) == -58897971
    assert _signed(murmur2(b"abc")) == 479470107


def test_partition_is_stable_and_in_range() -> None:
    assert partition_for("member-1", 12) == partition_for("member-1", 12)
    assert {partition_for(f"k{i}", 6) for i in range(200)} == set(range(6))
