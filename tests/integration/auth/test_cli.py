"""`olly accounts create-staff`: how an installation gets its first administrator."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from olly.cli import app
from olly.config import Settings, get_settings
from olly.platform.runtime import Platform


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("OLLY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OLLY_MASTER_KEY", settings.master_key.get_secret_value())  # type: ignore[union-attr]
    monkeypatch.setenv("OLLY_ARGON2_MEMORY_KIB", "19456")
    monkeypatch.setenv("OLLY_ARGON2_TIME_COST", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_create_the_first_administrator(env, platform: Platform, client) -> None:  # type: ignore[no-untyped-def]
    password = "the first administrator's passphrase"
    result = CliRunner().invoke(
        app, ["accounts", "create-staff", "--email", "root@plan.example.org"], input=f"{password}\n{password}\n"
    )
    assert result.exit_code == 0, result.output
    assert "created with roles administrator" in " ".join(result.output.split())
    signed_in = client.post("/auth/login", json={"email": "root@plan.example.org", "password": password})
    assert signed_in.json()["stage"] == "mfa_enrolment_required"

    weak = CliRunner().invoke(
        app, ["accounts", "create-staff", "--email", "b@plan.example.org", "--password", "short password"]
    )
    assert weak.exit_code == 1
    assert "password: must be at least 15 characters" in " ".join(weak.output.split())
    unknown = CliRunner().invoke(
        app, ["accounts", "create-staff", "--email", "c@plan.example.org", "--role", "wizard", "--password", password]
    )
    assert (unknown.exit_code, "unknown role" in unknown.output) == (1, True)
