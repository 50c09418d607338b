"""``olly plans …`` against a real database: load, list, show, quote, and clear errors for bad files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from olly.cli import app
from olly.config import Settings, get_settings
from olly.plans import document
from olly.platform.runtime import Platform
from tests.conftest import TEST_MASTER_KEY
from tests.plan_documents import changed, demo_data, demo_text

runner = CliRunner()


@pytest.fixture
def cli_env(platform: Platform, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the ``olly`` command at the test's database."""
    monkeypatch.setenv("OLLY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("OLLY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OLLY_MASTER_KEY", TEST_MASTER_KEY)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_reports_every_problem_with_its_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    data = changed(demo_data("OLLY-ACA-SILVER"), "rating.tobacco_factor", "1.60")
    data = changed(data, "rating.age_curve.64+", "3.100")
    bad = write(tmp_path, "bad.json", json.dumps(data, default=str))
    good = write(tmp_path, "good.yaml", demo_text("OLLY-HMO-250"))
    result = runner.invoke(app, ["plans", "check", str(good), str(bad)])
    assert result.exit_code == 1
    assert "good.yaml: OLLY-HMO-250 version 1 is valid" in result.stdout
    assert "  rating.age_curve: adult factors vary 3.100:1 (from 1.000 to 3.100); the ACA allows at most 3:1" in (
        result.stderr
    )
    assert "  rating.tobacco_factor: must not exceed 1.5 (the ACA allows tobacco rating up to 1.5:1)" in result.stderr


def test_load_list_show_and_quote(cli_env: None, tmp_path: Path) -> None:
    ppo = write(tmp_path, "ppo.yaml", demo_text("OLLY-PPO-1000"))
    loaded = runner.invoke(app, ["plans", "load", str(ppo)])
    assert loaded.exit_code == 0, loaded.output
    assert "OLLY-PPO-1000" in loaded.stdout
    assert "created" in loaded.stdout

    listed = runner.invoke(app, ["plans", "list", "--on", "2026-03-01"])
    assert listed.exit_code == 0, listed.output
    assert "v1 from 2026-01-01" in listed.stdout

    shown = runner.invoke(app, ["plans", "show", "OLLY-PPO-1000", "--on", "2026-03-01", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == document.canonical(document.validate_plan(demo_data("OLLY-PPO-1000")))

    quoted = runner.invoke(app, ["plans", "quote", "OLLY-PPO-1000", "--on", "2026-03-01", "--tier", "EE+SP"])
    assert quoted.exit_code == 0, quoted.output
    assert "total 1200.00 USD  employer 720.00 USD  member 480.00 USD" in quoted.stdout


def test_load_demo_and_quote_a_household(cli_env: None) -> None:
    first = runner.invoke(app, ["plans", "load-demo"])
    again = runner.invoke(app, ["plans", "load-demo"])
    assert first.exit_code == 0, first.output
    assert first.stdout.count("created") == 5
    assert again.stdout.count("unchanged") == 5
    quoted = runner.invoke(
        app,
        [
            "plans",
            "quote",
            "OLLY-FLOATER-5L",
            "--on",
            "2026-03-01",
            "--member",
            "subscriber:45",
            "--member",
            "spouse:42",
            "--member",
            "child:12",
            "--member",
            "child:8",
        ],
    )
    assert quoted.exit_code == 0, quoted.output
    # 14275.50 x 2.05 = 29264.775 -> 29264.78
    assert "total 29264.78 INR" in quoted.stdout


def test_a_bad_file_loads_nothing(cli_env: None, tmp_path: Path) -> None:
    good = write(tmp_path, "ppo.yaml", demo_text("OLLY-PPO-1000"))
    bad = write(tmp_path, "hmo.yaml", demo_text("OLLY-HMO-250").replace('copay: "20.00"', 'copay: "-20.00"'))
    result = runner.invoke(app, ["plans", "load", str(good), str(bad)])
    assert result.exit_code == 1
    assert "  benefits.office_visit.in_network.copay: must not be negative" in result.stderr
    listed = runner.invoke(app, ["plans", "list", "--on", "2026-03-01"])
    assert "OLLY-PPO-1000" not in listed.stdout


def test_unknown_plan_and_bad_options(cli_env: None) -> None:
    unknown = runner.invoke(app, ["plans", "show", "NOPE"])
    assert unknown.exit_code == 1
    assert "no plan with code NOPE" in unknown.stderr
    bad_member = runner.invoke(app, ["plans", "quote", "NOPE", "--member", "cousin:40"])
    assert bad_member.exit_code == 2
    assert "--member 'cousin:40' must be relationship:age[:tobacco]" in bad_member.stderr
