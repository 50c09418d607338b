"""What `make run` does, as a new user would see it: migrate, serve, answer, and keep data on restart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_server(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(env, OLLY_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "olly.cli", "serve"], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(process.stdout.read().decode() if process.stdout else "server did not start")


def test_upgrade_then_serve_twice_keeps_data(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLY_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    olly = [sys.executable, "-m", "olly.cli"]
    subprocess.run([*olly, "db", "upgrade"], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert (tmp_path / "var" / "olly.db").exists()
    for attempt in range(2):
        process, base = run_server(env, tmp_path)
        try:
            assert httpx.get(f"{base}/ready", timeout=5).status_code == 200
            signin = httpx.get(f"{base}/signin", timeout=5)  # the portals are served too
            assert (signin.status_code, signin.headers["content-type"]) == (200, "text/html; charset=utf-8")
            assert 'action="/signin"' in signin.text
        finally:
            process.terminate()
            output = process.communicate(timeout=20)[0].decode()
        assert '"event": "request"' in output  # JSON access lines
        if attempt == 1:
            again = subprocess.run([*olly, "db", "upgrade"], cwd=tmp_path, env=env, check=True, capture_output=True)
            assert b"already current" in again.stdout
