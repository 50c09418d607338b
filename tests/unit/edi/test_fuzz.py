"""Hostile input: whatever arrives, Olly answers with a TA1 or a 999 — never an exception, never a hang."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from olly.edi.acks import acknowledge
from olly.edi.codes import Acknowledgment
from olly.edi.inbound import transactions
from olly.edi.testing import write_professional_claims
from olly.edi.validate import ValidationReport, validate
from olly.edi.writer import InMemoryControlNumbers
from tests.unit.edi.conftest import NOW, fixture_bytes
from tests.unit.edi.pyx12_judge import judge

SEEDS = [
    fixture_bytes(name)
    for name in (
        "two-claims-single-provider.837i",
        "enroll-employee-multiple-products.834",
        "claim-level-status.276",
        "dependent-health-benefit-check.270",
        "x12_complex.txt",
    )
]
DELIMITERS = b"*:~^\n\r "

mutation = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "duplicate"]),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.binary(min_size=1, max_size=8) | st.sampled_from([bytes([c]) for c in DELIMITERS]),
)


def mutate(seed: bytes, edits: list[tuple[str, float, bytes]]) -> bytes:
    data = bytearray(seed)
    for kind, where, payload in edits:
        at = int(where * max(len(data) - 1, 0))
        if kind == "flip" and data:
            data[at] = payload[0]
        elif kind == "insert":
            data[at:at] = payload
        elif kind == "delete":
            del data[at : at + len(payload)]
        elif kind == "duplicate":
            data[at:at] = data[at : at + 40]
    return bytes(data)


def assert_every_rejection_is_acknowledged(report: ValidationReport) -> None:
    acks = acknowledge(report, control_numbers=InMemoryControlNumbers(), now=NOW)
    if report.accepted:
        return
    rejected_ta1 = [t for t in acks.ta1 if "*R*" in t.text.splitlines()[1]]
    rejected_999 = [
        a
        for a in acks.implementation
        if any(line.startswith(("IK5*R", "AK9*R", "AK9*P")) for line in a.text.splitlines())
    ]
    assert rejected_ta1 or rejected_999, "a rejected file must get a TA1 or a 999 saying so"
    for interchange in acks.implementation:
        for line in interchange.text.splitlines():
            if line.startswith("AK9*"):
                assert line.split("*")[1].rstrip("~") in {a.value for a in Acknowledgment}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), edits=st.lists(mutation, min_size=1, max_size=6))
def test_mutated_samples_never_raise_and_are_always_answered(
    seed: bytes, edits: list[tuple[str, float, bytes]]
) -> None:
    data = mutate(seed, edits)
    started = time.perf_counter()
    report = validate(data)
    list(transactions(data, report, accepted_only=False))
    assert time.perf_counter() - started < 1.0  # these inputs are a few KB: far under 1 s per MB
    assert_every_rejection_is_acknowledged(report)


@settings(max_examples=15, deadline=None)
@given(seed=st.sampled_from(SEEDS[:3]), edits=st.lists(mutation, min_size=1, max_size=3))
def test_999s_written_for_mutated_input_still_validate_with_pyx12(
    seed: bytes, edits: list[tuple[str, float, bytes]]
) -> None:
    report = validate(mutate(seed, edits))
    for interchange in acknowledge(report, control_numbers=InMemoryControlNumbers(), now=NOW).implementation:
        assert judge(interchange.text) == []


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=2000))
def test_random_bytes_get_a_ta1(data: bytes) -> None:
    report = validate(data)
    assert not report.accepted
    assert_every_rejection_is_acknowledged(report)


@settings(max_examples=40, deadline=None)
@given(
    header=st.sampled_from(SEEDS).map(lambda s: s[: s.index(b"GS*")]),
    segments=st.lists(
        st.builds(
            lambda sid, elements: sid + b"*" + b"*".join(elements) + b"~",
            st.sampled_from([b"GS", b"ST", b"SE", b"GE", b"HL", b"CLM", b"NM1", b"SV1", b"HI", b"IEA", b"ZZ", b"1"]),
            st.lists(st.binary(max_size=6).filter(lambda b: b"~" not in b and b"*" not in b), max_size=6),
        ),
        max_size=40,
    ),
)
def test_random_segment_soup_inside_a_real_envelope(header: bytes, segments: list[bytes]) -> None:
    data = header + b"".join(segments)
    report = validate(data)
    list(transactions(data, report, accepted_only=False))
    assert_every_rejection_is_acknowledged(report)


def _memory(path: Path, claims: int) -> tuple[int, int, int]:
    with path.open("wb") as handle:
        size = write_professional_claims(handle, claims, claims_per_set=400)
    tracemalloc.start()
    try:
        report = validate(path)
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.accepted
    return size, peak, retained


def test_memory_is_bounded_whatever_the_file_size(tmp_path: Path) -> None:
    small_size, small_peak, small_retained = _memory(tmp_path / "small.837", 2500)
    large_size, large_peak, large_retained = _memory(tmp_path / "large.837", 10000)
    assert large_size > 3.9 * small_size > 4_000_000
    # the peak is one 1 MB chunk split into segments (a constant), and nothing accumulates
    assert small_peak < 12_000_000
    assert large_peak < 12_000_000
    assert small_retained < 1_000_000
    assert large_retained < 1_000_000


def test_a_corrupt_functional_id_is_answered_with_a_999_that_validates() -> None:
    """GS01 mangled (``HC`` → ``EX``): AK101 must still be a real code, so it is the one of the sets
    the group holds; AK102 names the group and AK9 refuses it as not supported."""
    from io import BytesIO

    buffer = BytesIO()
    write_professional_claims(buffer, 1)
    data = buffer.getvalue().replace(b"~\nGS*HC*", b"~\nGS*EX*", 1)
    assert data != buffer.getvalue()
    (interchange,) = acknowledge(validate(data), control_numbers=InMemoryControlNumbers(), now=NOW).implementation
    lines = interchange.text.splitlines()
    assert any(line.startswith("AK1*HC*") for line in lines)
    assert any(line.startswith("AK9*R*") and line.rstrip("~").endswith("*1") for line in lines), lines
    assert judge(interchange.text) == []
