"""Eligibility fast path: latency at a steady 1,000 requests/s and saturation throughput.

The server is a separate `olly serve` process on a demo database (SQLite; PostgreSQL with Redis as
the cache when both are reachable), with the event backbone in an `olly worker` process beside it.
The load generator is open-loop at a fixed rate, so latency is measured from when each request was
due. The peer in the same run is a bare FastAPI endpoint doing
one primary-key lookup on the same database (bench/eligibility_peer.py).

Requests are a claims examiner's (bearer token): each one goes through the policy decision point
(token check, role, the eligibility resolver, the audit record) as in production.

BENCH_ELIGIBILITY_SECONDS shortens the fixed-rate phase (default 60). The server's CPU per check in
that phase is printed, and the writer process's (the audit records and verified events, started by
`olly serve`); BENCH_ELIGIBILITY_WRITER_PROCESS=0 runs the server with its in-process writers instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

from bench._load import LoadResult, fixed_rate, saturate
from bench._support import (
    BENCH_KEY,
    REDIS_URL,
    SERVED_TOKEN_TTL_SECONDS,
    percentile,
    postgres_available,
    served_environment,
)

SERVICE_DATE = "2026-06-01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def member_ids(env: dict[str, str]) -> list[str]:
    from olly.config import Settings
    from olly.enrollment.models import CoverageSpan
    from olly.platform.runtime import build_platform

    platform = build_platform(
        Settings(database_url=env["OLLY_DATABASE_URL"], data_dir=Path(env["OLLY_DATA_DIR"]), master_key=BENCH_KEY)
    )  # type: ignore[arg-type]
    try:
        with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
            return [str(p) for p in uow.session.scalars(select(CoverageSpan.party_id).distinct())]
    finally:
        platform.close()


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    return [
        int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()
    ]


def wait_bus_idle(env: dict[str, str], worker: int, timeout: float = 600) -> float:
    """Wait until the worker has handled the seed's events: every consumer group caught up, and the
    worker process (pid ``worker``) at under 15 % of a core (its consumers polling) for 3 s. The claims and billing copies of a few thousand
    enrollments take it a minute or more, CPU the checks would otherwise be measured against (a
    group that has not yet committed a position shows no lag, hence the CPU check). Returns the
    seconds waited."""
    from olly.config import Settings
    from olly.platform.bus.api import backlog
    from olly.platform.db import Database

    db = Database(
        Settings(database_url=env["OLLY_DATABASE_URL"], data_dir=Path(env["OLLY_DATA_DIR"]), master_key=BENCH_KEY)
    )
    started = time.monotonic()
    idle_for = 0
    try:
        while time.monotonic() - started < timeout:
            used = _cpu_seconds(worker)
            time.sleep(1)
            idle_for = idle_for + 1 if _cpu_seconds(worker) - used < 0.15 else 0
            pending, lag = backlog(db)
            if idle_for >= 3 and pending == 0 and lag and not any(lag.values()):
                return time.monotonic() - started
        raise RuntimeError(f"the worker did not catch up within {timeout:.0f} s: {pending} unrelayed, lag {lag}")
    finally:
        db.dispose()


def examiner_headers(env: dict[str, str]) -> dict[str, str]:
    """A claims examiner's bearer token, signed with the server's key (same data directory)."""
    from olly.config import Settings
    from olly.platform.auth.access import AccessControl
    from olly.platform.auth.roles import AccountKind, Role
    from olly.platform.auth.service import NewAccount
    from olly.platform.runtime import build_platform

    platform = build_platform(
        Settings(
            database_url=env["OLLY_DATABASE_URL"],
            data_dir=Path(env["OLLY_DATA_DIR"]),
            master_key=BENCH_KEY,
            access_token_ttl_seconds=SERVED_TOKEN_TTL_SECONDS,
        )  # type: ignore[arg-type]
    )
    try:
        control = AccessControl()
        control.bind(platform)
        tenant = platform.settings.default_tenant_id
        with platform.db.unit_of_work(tenant) as uow:
            account = control.identity.create_account(
                uow,
                NewAccount(
                    AccountKind.STAFF,
                    f"bench.{uuid.uuid4().hex[:8]}@example.org",
                    roles=frozenset({Role.CLAIMS_EXAMINER}),
                ),
            )
        token, _ = control.tokens.issue(f"account:{account.id}", tenant, platform.clock.now())
        return {"Authorization": f"Bearer {token}"}
    finally:
        platform.close()


def report(label: str, result: LoadResult) -> str:
    return (
        f"{label}: {result.rate:,.0f} req/s, p50 {percentile(result.latencies_ms, 50):.2f} ms, "
        f"p99 {percentile(result.latencies_ms, 99):.2f} ms, errors {result.errors}"
    )


def run(engine: str, seconds: float) -> None:
    label = "SQLite" if engine == "sqlite" else "PostgreSQL + Redis"
    with served_environment(engine) as env:
        olly = [sys.executable, "-m", "olly.cli"]
        processes: list[subprocess.Popen[bytes]] = []
        try:
            subprocess.run([*olly, "db", "upgrade"], env=env, check=True, capture_output=True)
            subprocess.run([*olly, "demo", "seed", "--employees", "300"], env=env, check=True, capture_output=True)
            members = member_ids(env)
            headers = examiner_headers(env)
            port, peer_port = free_port(), free_port()
            # The deployment a plan runs for throughput: the API server, and the event backbone (relay
            # and consumers: every check's verified event is relayed and consumed) in a worker
            # process of its own, so the checks do not share an interpreter with it.
            served = {
                **env,
                "OLLY_BUS_IN_PROCESS": "0",
                "OLLY_WRITER_PROCESS": os.environ.get("BENCH_ELIGIBILITY_WRITER_PROCESS", "1"),
            }
            for command in ([*olly, "serve", "--port", str(port)], [*olly, "worker"]):
                processes.append(
                    subprocess.Popen(command, env=served, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                )
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "bench.eligibility_peer:app",
                        "--port",
                        str(peer_port),
                        "--log-level",
                        "warning",
                        "--no-access-log",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health")
            wait_http(f"http://127.0.0.1:{peer_port}/peer?memberId={members[0]}")
            # the in-process bus builds the read model from the seed's events; wait until it has
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                answer = httpx.get(
                    f"{base}/api/v1/eligibility",
                    params={"memberId": members[-1], "serviceDate": SERVICE_DATE},
                    headers=headers,
                    timeout=30,
                ).json()
                if answer.get("covered"):
                    break
                time.sleep(0.5)
            waited = wait_bus_idle(env, processes[1].pid)
            paths = [f"/api/v1/eligibility?memberId={m}&serviceDate={SERVICE_DATE}&serviceType=98" for m in members]
            peer_paths = [f"/peer?memberId={m}" for m in members]
            # The peer first, while Olly's server is idle: after a load, Olly's background writers (the
            # audit records and verified events of every check) would still be using the CPU the peer
            # is measured on.
            saturate("127.0.0.1", peer_port, peer_paths, 32, 3)
            peer_sat = saturate("127.0.0.1", peer_port, peer_paths, 64, 10)
            # Warm: every member's answer once (a few seconds of random requests reach only part of
            # them, and the misses would then be measured as the fast path), then the pools.
            with httpx.Client(base_url=base, headers=headers, timeout=30) as warm:
                for path in paths:
                    warm.get(path)
            saturate("127.0.0.1", port, paths, 32, 3, headers)
            server = processes[0].pid
            writers = _children(server)  # the writer process, when `olly serve` started one
            cpu_before = [_cpu_seconds(pid) for pid in (server, *writers)]
            steady = fixed_rate("127.0.0.1", port, paths, 1000, seconds, headers)
            cpu = [_cpu_seconds(pid) - before for pid, before in zip((server, *writers), cpu_before, strict=True)]
            olly_sat = saturate("127.0.0.1", port, paths, 64, 10, headers)
            print(f"  [{label}] {len(members)} members; the worker caught up with the seed's events in {waited:.0f} s")
            print(f"  [{label}] {report(f'steady 1,000 req/s for {seconds:.0f} s', steady)}")
            checks = max(steady.sent, 1)
            print(
                f"  [{label}] CPU per check at 1,000 req/s: server {cpu[0] / checks * 1000:.3f} ms"
                + (f", writer process {sum(cpu[1:]) / checks * 1000:.3f} ms" if writers else " (in-process writers)")
            )
            print(f"  [{label}] {report('saturation, olly /api/v1/eligibility', olly_sat)}")
            print(f"  [{label}] {report('saturation, peer (one primary-key lookup)', peer_sat)}")
            print(f"  [{label}] saturation ratio olly/peer: {olly_sat.rate / peer_sat.rate:.2f}")
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)


def main() -> None:
    seconds = float(os.environ.get("BENCH_ELIGIBILITY_SECONDS", "60"))
    run("sqlite", seconds)
    if postgres_available() and redis_available():
        run("postgresql", seconds)
    else:
        print("  PostgreSQL or Redis not reachable: skipped that configuration")


if __name__ == "__main__":
    main()
