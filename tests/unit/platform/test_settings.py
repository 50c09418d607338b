"""Settings: a metrics token long enough not to be guessed, and errors that never echo what was given."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from olly.config import METRICS_TOKEN_MIN_LENGTH, Settings


def test_a_short_metrics_token_is_refused_and_a_long_one_or_none_accepted() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(metrics_token="x" * (METRICS_TOKEN_MIN_LENGTH - 1))
    assert f"OLLY_METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} characters" in str(refused.value)
    assert "x" * (METRICS_TOKEN_MIN_LENGTH - 1) not in str(refused.value)
    accepted = Settings(metrics_token="y" * METRICS_TOKEN_MIN_LENGTH).metrics_token
    assert accepted is not None and accepted.get_secret_value() == "y" * METRICS_TOKEN_MIN_LENGTH
    assert Settings().metrics_token is None


def test_a_refused_setting_never_echoes_what_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLY_MASTER_KEY", "c2VjcmV0LW1hc3Rlci1rZXktdmFsdWUtMTIzNDU2Nzg5MA==")
    monkeypatch.setenv("OLLY_DATABASE_POOL_SIZE", "many")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "database_pool_size" in str(refused.value)
    assert "c2VjcmV0" not in str(refused.value) and "many" not in str(refused.value)
