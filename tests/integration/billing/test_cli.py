"""`olly billing …` against a fresh SQLite database."""

from __future__ import annotations

import uuid
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
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def test_pay_reconcile_aging_and_an_empty_payment_run(env: Path) -> None:
    account = str(uuid.uuid4())
    paid = runner.invoke(
        app, ["billing", "pay", "--account", account, "--amount", "480.00", "--reference", "CHK-7", "--method", "check"]
    )
    assert paid.exit_code == 0, paid.output
    assert "0.00 applied, 480.00 to credit" in paid.output
    again = runner.invoke(
        app, ["billing", "pay", "--account", account, "--amount", "1.00", "--reference", "CHK-7", "--method", "CHECK"]
    )
    assert again.exit_code == 1 and "already recorded" in again.output
    assert (
        runner.invoke(app, ["billing", "pay", "--account", "nope", "--amount", "1", "--reference", "x"]).exit_code == 2
    )
    assert runner.invoke(app, ["billing", "run", "--period", "2026-13"]).exit_code == 2
    ran = runner.invoke(app, ["billing", "run", "--period", "2026-02"])
    assert ran.exit_code == 0 and "2026-02: 0 invoice(s), 0 line(s), 0.00 USD" in ran.output
    reconciled = runner.invoke(app, ["billing", "reconcile"], terminal_width=200)
    assert reconciled.exit_code == 0, reconciled.output
    assert "Σ debits 48000 = Σ credits 48000" in reconciled.output and "clean" in reconciled.output
    aged = runner.invoke(app, ["billing", "aging", "--as-of", "2026-03-01"], terminal_width=200)
    assert aged.exit_code == 0 and "90+" in aged.output
    run = runner.invoke(app, ["billing", "payment-run"], terminal_width=200)
    assert run.exit_code == 0 and "0 payment(s)" in run.output
