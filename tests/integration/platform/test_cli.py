"""The `olly` command: messages and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from olly.cli import app
from olly.config import get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OLLY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OLLY_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'olly.db'}")
    monkeypatch.delenv("OLLY_MASTER_KEY", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0 and result.stdout.strip() == "0.1.0"


def test_config_show_masks_secrets(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLY_MASTER_KEY", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYiE=")
    monkeypatch.setenv("OLLY_DATABASE_URL", "postgresql+psycopg://olly:hunter2@db.internal/olly")
    get_settings.cache_clear()
    result = runner.invoke(app, ["config", "show"], terminal_width=200)
    assert result.exit_code == 0
    assert "hunter2" not in result.stdout and "c2VjcmV0" not in result.stdout
    assert "OLLY_MASTER_KEY" in result.stdout and "********" in result.stdout


def test_db_upgrade_keys_and_audit_verify_from_scratch(env: Path) -> None:
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "database at" in first.stdout
    key_file = env / "var" / "keys" / "master.json"
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = runner.invoke(app, ["db", "upgrade"])
    assert "already current" in again.stdout
    assert runner.invoke(app, ["db", "current"]).exit_code == 0
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and "audit trail intact" in verified.stdout
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0 and "2 data key(s) re-wrapped" in rotated.stdout
    data = runner.invoke(app, ["keys", "rotate-data", "--batch-size", "10"])
    assert data.exit_code == 0 and "re-encrypted" in data.stdout


def test_a_world_readable_key_file_is_refused(env: Path) -> None:
    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    key_file = env / "var" / "keys" / "master.json"
    key_file.chmod(0o644)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "chmod 600" in result.output


def test_a_bad_database_url_is_a_clear_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLY_DATABASE_URL", "mysql://nope")
    get_settings.cache_clear()
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "OLLY_DATABASE_URL" in result.output


@pytest.mark.parametrize(
    "command",
    [["demo", "seed"], ["audit", "verify"], ["jobs", "run"], ["dlq", "list"], ["edi", "files"], ["claims", "review"]],
)
def test_a_command_on_a_database_never_migrated_says_so(env: Path, command: list[str]) -> None:
    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    result = runner.invoke(app, command)
    assert result.exit_code == 1, result.output
    assert "olly db upgrade" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def test_a_second_demo_seed_is_refused_before_it_adds_anything(env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(app, ["demo", "seed", "--employees", "1"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["demo", "seed", "--employees", "1"])
    assert again.exit_code == 1
    assert "already has" in again.output and "--if-empty" in again.output
    skipped = runner.invoke(app, ["demo", "seed", "--if-empty"])
    assert skipped.exit_code == 0 and "demo population not added" in skipped.output
    import sqlite3

    with sqlite3.connect(env / "var" / "olly.db") as connection:
        groups = connection.execute("SELECT count(*) FROM accounts WHERE kind = 'GROUP'").fetchone()
    assert groups == (1,)


def test_an_unknown_target_revision_is_a_clear_error(env: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade", "nope"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "cannot upgrade to 'nope'" in result.output
