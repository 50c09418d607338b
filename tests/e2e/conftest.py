"""Browser journeys of the portals: one seeded server and one Chromium for the whole session.

Chromium is Debian's (``apt-get install -y chromium``; ``make test`` installs it when missing),
driven by Playwright through ``executable_path``: Playwright never downloads a browser. Without a
browser the journeys skip with the reason; with ``OLLY_REQUIRE_SERVICES=1`` they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.e2e.test_serve import free_port

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
ARTIFACTS = REPO / "test-artifacts"


@dataclass(frozen=True)
class Portal:
    base: str
    seed: dict[str, Any]
    home: Path | None = None
    """The server's working directory (its database), for a journey that runs a command there."""

    def url(self, path: str) -> str:
        return self.base + path


_TOTP_STEP = 30
_LAST_STEP: dict[str, int] = {}


def fresh_totp(who: str, secret: str) -> str:
    """A code for ``who`` the server has not seen yet, without waiting when it can be helped.

    The server accepts the current step and one either side, each step once per person. A second
    sign-in in the same 30 seconds takes the next step's code; only a third waits for the clock.
    """
    while True:
        now = int(time.time()) // _TOTP_STEP
        step = max(now, _LAST_STEP.get(who, now - 1) + 1)
        if step <= now + 1:
            _LAST_STEP[who] = step
            return pyotp.TOTP(secret, interval=_TOTP_STEP).at(step * _TOTP_STEP)
        time.sleep(_TOTP_STEP - time.time() % _TOTP_STEP + 0.5)


def _unavailable(reason: str) -> None:
    if os.environ.get("OLLY_REQUIRE_SERVICES") == "1":
        pytest.fail(f"browser journeys cannot run: {reason}")
    pytest.skip(f"browser journeys skipped: {reason}")


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    home = tmp_path_factory.mktemp("portal")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLY_")}
    env["PYTHONPATH"] = str(REPO)
    olly = [sys.executable, "-m", "olly.cli"]
    subprocess.run([*olly, "db", "upgrade"], cwd=home, env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [sys.executable, "-m", "tests.e2e.portal_seed"], cwd=home, env=env, capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stderr[-4000:]
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = free_port()
    log = (home / "server.log").open("wb")
    process = subprocess.Popen([*olly, "serve"], cwd=home, env=dict(env, OLLY_PORT=str(port)), stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # a migrated, seeded server; slow when every core runs tests
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            exit_code = process.poll()
            process.kill()
            raise AssertionError(
                f"olly serve did not answer /health (exit code {exit_code}): "
                + (home / "server.log").read_text()[-4000:]
            )
        time.sleep(0.2)
    try:
        yield Portal(base, seed, home)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    executable = chromium_path()
    if executable is None:
        _unavailable("chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
