"""`olly claims submit | show | review` on the embedded database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from olly.cli import app
from olly.config import get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OLLY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OLLY_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'olly.db'}")
    monkeypatch.delenv("OLLY_MASTER_KEY", raising=False)
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def test_submit_show_and_review(env: Path) -> None:
    body = {
        "claimType": "PROFESSIONAL",
        "memberId": str(uuid.uuid4()),
        "billingNpi": "1234567893",
        "placeOfService": "11",
        "diagnoses": ["J06.9"],
        "lines": [{"procedureCode": "99213", "charge": "150.00", "serviceDateFrom": "2026-01-10"}],
    }
    path = env / "claim.json"
    path.write_text(json.dumps(body))
    submitted = runner.invoke(app, ["claims", "submit", str(path), "--idempotency-key", "cli-1"])
    assert submitted.exit_code == 0, submitted.output
    answer = json.loads(submitted.stdout)
    assert answer["status"] == "ACCEPTED"
    again = runner.invoke(app, ["claims", "submit", str(path), "--idempotency-key", "cli-1"])
    assert json.loads(again.stdout) == answer
    shown = runner.invoke(app, ["claims", "show", answer["claimId"]])
    assert shown.exit_code == 0
    view = json.loads(shown.stdout)
    assert (view["status"], view["billed"], view["result"]) == ("RECEIVED", "150.00", None)
    assert runner.invoke(app, ["claims", "review"]).exit_code == 0
    bad = env / "bad.json"
    bad.write_text(json.dumps({**body, "lines": []}))
    refused = runner.invoke(app, ["claims", "submit", str(bad)])
    assert refused.exit_code == 1 and "lines" in refused.output
    assert runner.invoke(app, ["claims", "show", "nope"]).exit_code == 1
