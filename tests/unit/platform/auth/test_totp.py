"""TOTP codes: ±1 step of drift, no replay, recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from olly.platform.auth import totp

NOW = datetime(2026, 1, 15, 9, 0, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_code_matches_its_step_with_one_step_of_drift_each_way() -> None:
    step = int(NOW.timestamp()) // 30
    assert totp.matching_step(SECRET, totp.code_at(SECRET, NOW), NOW, None) == step
    assert totp.matching_step(SECRET, totp.code_at(SECRET, NOW - timedelta(seconds=30)), NOW, None) == step - 1
    assert totp.matching_step(SECRET, totp.code_at(SECRET, NOW + timedelta(seconds=30)), NOW, None) == step + 1
    assert totp.matching_step(SECRET, totp.code_at(SECRET, NOW - timedelta(seconds=60)), NOW, None) is None


def test_a_code_is_never_accepted_twice() -> None:
    code = totp.code_at(SECRET, NOW)
    step = totp.matching_step(SECRET, code, NOW, None)
    assert totp.matching_step(SECRET, code, NOW, step) is None
    assert totp.matching_step(SECRET, "12345", NOW, None) is None
    assert totp.matching_step(SECRET, "abcdef", NOW, None) is None


def test_recovery_codes_are_distinct_and_their_digest_ignores_case_and_dashes() -> None:
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10
    assert all(len(c) == 19 and c.count("-") == 3 for c in codes)
    assert totp.recovery_digest(codes[0].lower()) == totp.recovery_digest(codes[0].replace("-", ""))
    assert "otpauth://totp/Olly:" in totp.provisioning_uri(SECRET, "account-1")
