"""Claims end to end: engine-only lines/s, then API intake → adjudicated and committed through the bus.

    python -m bench claims        (sizes from the environment)

* ``OLLY_BENCH_CLAIMS_ENGINE`` (default 2000): claims in the engine-only mix (``bench.claims_engine``'s).
* ``OLLY_BENCH_CLAIMS_E2E`` (default 300): claims posted to ``POST /api/v1/claims`` per database engine.
* ``OLLY_BENCH_CLAIMS_MEMBERS`` (default 200): covered members (families of two) the claims are spread over.
* ``OLLY_BENCH_CLAIMS_COST`` (default 400): claims in the cost run (CPU and SQL statements per claim).
* ``OLLY_BENCH_CLAIMS_BATCH`` (default 0): every run posts its claims in batches of this many
  (``POST /api/v1/claims/batch``, per billing NPI), not one by one.

End to end, one thread posts the claims over HTTP (in process, a provider's bearer token) while a
second runs the embedded bus (relay + every consumer group, ``BusRuntime.drain`` in a loop), as
``olly serve`` does with one worker. Reported: intake rate, end-to-end claims/s (first post to last
claim adjudicated and committed), p50/p99 of submit → adjudicated (``received_at`` →
``adjudicated_at``), and the auto-adjudication rate (final without review) of the demo corpus:
office visits, labs, surgery, imaging that needs authorisation, out-of-network visits, high-dollar
stays.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bench._load import post_each
from bench._support import BENCH_KEY, SERVED_TOKEN_TTL_SECONDS, engines, fresh_platform, percentile, served_environment
from olly.app import create_app
from olly.claims import handlers, snapshots
from olly.claims import models as m
from olly.claims.rules import Contract, adjudicate
from olly.codesets import hcpcs, icd10
from olly.config import DEFAULT_TENANT_ID
from olly.kernel.money import Money
from olly.plans import service as plans_service
from olly.platform.auth.roles import Role
from olly.platform.bus.runtime import BusRuntime, default_registry
from olly.platform.runtime import Platform

NPI_IN = "1234567893"
NPI_OUT = "1245319508"
PPO = "OLLY-PPO-1000"

#: (weight, procedure code, charge range in cents, provider NPI, place of service)
CORPUS: list[tuple[int, str, tuple[int, int], str, str]] = [
    (40, "99213", (12000, 18000), NPI_IN, "11"),
    (15, "99214", (15000, 25000), NPI_IN, "11"),
    (15, "80053", (3000, 8000), NPI_IN, "81"),
    (10, "10060", (30000, 60000), NPI_IN, "22"),
    (5, "29880", (180000, 260000), NPI_IN, "22"),
    (5, "70551", (90000, 150000), NPI_IN, "22"),  # needs prior authorisation: the PPO pends
    (5, "99213", (12000, 18000), NPI_OUT, "11"),  # out of network, no maximum allowable: pends
    (5, "99396", (15000, 25000), NPI_IN, "11"),  # preventive
]
FEES = {"99213": 10000, "99214": 14000, "80053": 2500, "10060": 40000, "29880": 200000, "70551": 110000, "99396": 16000}


def _env(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def engine_only() -> None:
    from bench.claims_engine import build_mix

    count = _env("OLLY_BENCH_CLAIMS_ENGINE", 2000)
    icd10.load()
    hcpcs.code_count()
    requests = build_mix(count, 7)
    lines = sum(len(r.claim.lines) for r in requests)
    for request in requests[:100]:
        adjudicate(request)
    gc.collect()
    gc.freeze()
    cpu = []
    for _ in range(3):
        begin = time.process_time()
        for request in requests:
            adjudicate(request)
        cpu.append(time.process_time() - begin)
    median = statistics.median(cpu)
    print(f"engine only: {count} claims, {lines} lines; {lines / median:,.0f} lines/s per core (median CPU of 3)")


def seed(platform: Platform, members: int) -> list[uuid.UUID]:
    with platform.db.unit_of_work(DEFAULT_TENANT_ID) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    people = [uuid.uuid4() for _ in range(members)]
    with platform.db.unit_of_work(DEFAULT_TENANT_ID) as uow:
        plan_id = uuid.uuid4()
        handlers.sync_schedule(uow, PPO, plan_id, date(2026, 1, 1))
        now = uow.clock.now()
        for index in range(0, members, 2):
            family = uuid.uuid4()
            for member in people[index : index + 2]:
                uow.session.add(
                    m.CoverageView(
                        member_id=member,
                        policy_id=family,
                        family_id=str(family),
                        plan_id=plan_id,
                        plan_code=PPO,
                        plan_type="PPO",
                        periods=[["2026-01-01", "2026-12-31"]],
                        synced_at=now,
                    )
                )
        contract = Contract(fee_schedule={(code, None): Money(fee, "USD") for code, fee in FEES.items()})
        for npi, status in ((NPI_IN, "IN_NETWORK"), (NPI_OUT, "OUT_OF_NETWORK")):
            uow.session.add(
                m.ProviderView(
                    npi=npi,
                    provider_id=uuid.uuid4(),
                    credentialing_status="APPROVED",
                    network_status=status,
                    contract_id=uuid.uuid4() if status == "IN_NETWORK" else None,
                    contract_from=date(2025, 1, 1) if status == "IN_NETWORK" else None,
                    contract=snapshots.contract_to_json(contract, "USD") if status == "IN_NETWORK" else None,
                    synced_at=now,
                )
            )
    return people


def corpus(people: list[uuid.UUID], count: int, rng: random.Random) -> list[dict[str, object]]:
    weights = [item[0] for item in CORPUS]
    bodies = []
    for number in range(count):
        _, code, (low, high), npi, place = rng.choices(CORPUS, weights)[0]
        day = date(2026, 1, 1 + number % 28)
        bodies.append(
            {
                "claimType": "PROFESSIONAL",
                "memberId": str(people[number % len(people)]),
                "billingNpi": npi,
                "placeOfService": place,
                "diagnoses": ["J06.9"],
                "lines": [
                    {
                        "procedureCode": code,
                        "charge": Money(rng.randrange(low, high), "USD").to_decimal_string(),
                        "serviceDateFrom": day.isoformat(),
                    }
                ],
            }
        )
    return bodies


def _started(client: TestClient) -> None:
    """Wait for the app's start-up work (the code sets it loads in the background), not the claims'."""
    for thread in threading.enumerate():
        if thread.name == "olly-code-sets":
            thread.join()


def _requests(bodies: list[dict[str, object]], together: int) -> list[tuple[str, dict[str, object]]]:
    """(billing NPI, body) of each POST: one claim each, or (``together`` > 0) batches per billing NPI."""
    if not together:
        return [(str(body["billingNpi"]), body) for body in bodies]
    found = []
    for npi in (NPI_IN, NPI_OUT):
        mine = [body for body in bodies if body["billingNpi"] == npi]
        found.extend((npi, {"claims": mine[start : start + together]}) for start in range(0, len(mine), together))
    return found


def post_all(
    client: TestClient, bodies: list[dict[str, object]], headers: dict[str, dict[str, str]], together: int
) -> None:
    """POST every claim, one by one or (``together`` > 0) in batches of that many per billing NPI."""
    path = "/api/v1/claims/batch" if together else "/api/v1/claims"
    for npi, body in _requests(bodies, together):
        response = client.post(path, json=body, headers=headers[npi])
        assert response.status_code == 202, response.text


def end_to_end(engine: str) -> None:
    count = _env("OLLY_BENCH_CLAIMS_E2E", 300)
    members = _env("OLLY_BENCH_CLAIMS_MEMBERS", 200)
    from tests.support.identity import sign_in_as

    with fresh_platform(engine) as platform:
        people = seed(platform, members)
        bodies = corpus(people, count, random.Random(11))
        runtime = BusRuntime(platform.db, platform.settings, default_registry(), platform.outbox, clock=platform.clock)
        with TestClient(create_app(platform, run_bus=False)) as client:
            provider = sign_in_as(client.app, DEFAULT_TENANT_ID, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
            provider_out = sign_in_as(client.app, DEFAULT_TENANT_ID, Role.PROVIDER, npi=NPI_OUT)  # type: ignore[arg-type]
            headers = {NPI_IN: provider.headers, NPI_OUT: provider_out.headers}
            _started(client)
            done = threading.Event()

            def worker() -> None:
                while not done.is_set():
                    if runtime.drain() == 0:
                        time.sleep(0.01)

            thread = threading.Thread(target=worker, daemon=True)
            begin = time.perf_counter()
            thread.start()
            post_all(client, bodies, headers, _env("OLLY_BENCH_CLAIMS_BATCH", 0))
            intake = time.perf_counter() - begin
            while True:
                with platform.db.unit_of_work(DEFAULT_TENANT_ID, read_only=True) as uow:
                    waiting = len(list(uow.session.scalars(select(m.Claim.id).where(m.Claim.status == "RECEIVED"))))
                if waiting == 0:
                    break
                time.sleep(0.05)
            total = time.perf_counter() - begin
            done.set()
            thread.join(timeout=30)
        with platform.db.unit_of_work(DEFAULT_TENANT_ID, read_only=True) as uow:
            rows = list(uow.session.execute(select(m.Claim.status, m.Claim.received_at, m.Claim.adjudicated_at)))
    latencies = [(adjudicated - received).total_seconds() for _, received, adjudicated in rows if adjudicated]
    statuses = Counter(status for status, _, _ in rows)
    final = sum(n for status, n in statuses.items() if status != "PENDED")
    print(
        f"{engine}: {count} claims; intake {count / intake:,.0f} claims/s; end to end {count / total:,.0f} claims/s "
        f"({total:.1f} s); submit→adjudicated p50 {percentile(latencies, 50):.2f} s, p99 {percentile(latencies, 99):.2f} s"
    )
    print(f"{engine}: statuses {dict(sorted(statuses.items()))}; auto-adjudicated {final / len(rows):.1%}")


def cost(engine: str) -> None:
    """CPU seconds and SQL statements per claim, apart: intake (``POST /api/v1/claims``, bus off), the
    adjudication drain (the ``claims.claim.submitted`` consumer group alone, after the relay has moved
    every submitted event to the log), the EOBs (the EOB consumer group alone, after the relay has
    moved the adjudications' events), then the rest of the bus (relay and every other consumer group),
    in total and per consumer group (each drains in a runtime of its own, once per relay round).
    CPU is ``time.process_time`` (robust on a shared machine)."""
    from sqlalchemy import event

    from tests.support.identity import sign_in_as

    count = _env("OLLY_BENCH_CLAIMS_COST", 400)
    together = _env("OLLY_BENCH_CLAIMS_BATCH", 0)
    members = _env("OLLY_BENCH_CLAIMS_MEMBERS", 200)
    statements = [0]

    def counted(*_: object) -> None:
        statements[0] += 1

    with fresh_platform(engine) as platform:
        people = seed(platform, members)
        bodies = corpus(people, count, random.Random(11))
        event.listen(platform.db.engine, "before_cursor_execute", counted)
        with TestClient(create_app(platform, run_bus=False)) as client:
            provider = sign_in_as(client.app, DEFAULT_TENANT_ID, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
            provider_out = sign_in_as(client.app, DEFAULT_TENANT_ID, Role.PROVIDER, npi=NPI_OUT)  # type: ignore[arg-type]
            headers = {NPI_IN: provider.headers, NPI_OUT: provider_out.headers}
            _started(client)
            gc.collect()
            statements[0] = 0
            begin = time.process_time()
            post_all(client, bodies, headers, together)
            intake_cpu, intake_sql = time.process_time() - begin, statements[0]
        relay = BusRuntime(platform.db, platform.settings, default_registry(), platform.outbox, groups=[])
        relay.drain()

        def consumer(group: str) -> BusRuntime:
            """A runtime draining one consumer group (the relay is ``relay``'s)."""
            return BusRuntime(
                platform.db,
                platform.settings,
                default_registry(),
                platform.outbox,
                clock=platform.clock,
                run_relay=False,
                groups=[group],
            )

        runtime = consumer(handlers.CLAIMS_GROUP)
        gc.collect()
        statements[0] = 0
        begin = time.process_time()
        runtime.drain()
        drain_cpu, drain_sql = time.process_time() - begin, statements[0]
        relay.drain()
        eobs = consumer(handlers.EOB_GROUP)
        gc.collect()
        statements[0] = 0
        begin = time.process_time()
        eobs.drain()
        eob_cpu, eob_sql = time.process_time() - begin, statements[0]
        # The relay holds a lease: only the first runtime's relay moves rows, so it relays for the rest.
        # Each downstream group drains in a runtime of its own, so its CPU and statements are told apart.
        downstream = sorted(set(default_registry().groups()) - {handlers.CLAIMS_GROUP, handlers.EOB_GROUP})
        rests = {group: consumer(group) for group in downstream}
        spent: dict[str, list[float]] = {group: [0.0, 0.0] for group in ["relay", *downstream]}

        def timed(name: str, step: Callable[[], int]) -> int:
            gc.collect()
            statements[0] = 0
            begin = time.process_time()
            moved = step()
            spent[name][0] += time.process_time() - begin
            spent[name][1] += statements[0]
            return moved

        while True:
            moved = timed("relay", lambda: relay.relay.run_once() if relay.relay else 0)
            for group, runtime_of_group in rests.items():
                moved += timed(group, runtime_of_group.drain)
            if not moved:
                break
        rest_cpu, rest_sql = sum(v[0] for v in spent.values()), sum(v[1] for v in spent.values())
        event.remove(platform.db.engine, "before_cursor_execute", counted)
        with platform.db.unit_of_work(DEFAULT_TENANT_ID, read_only=True) as uow:
            waiting = uow.session.scalar(select(func.count()).where(m.Claim.status == "RECEIVED"))
    assert not waiting, f"{waiting} claims left unadjudicated"
    how = f"POST /api/v1/claims/batch of {together}" if together else "POST /api/v1/claims"
    print(
        f"{engine}: {count} claims; intake ({how}) {intake_cpu / count * 1000:.2f} ms CPU, {intake_sql / count:.1f} statements "
        f"per claim; adjudication drain {drain_cpu / count * 1000:.2f} ms CPU, {drain_sql / count:.1f} statements per "
        f"claim ({count / drain_cpu:,.0f} claims/s per core); EOBs (the {handlers.EOB_GROUP} group) "
        f"{eob_cpu / count * 1000:.2f} ms CPU, {eob_sql / count:.1f} statements per claim; the rest of the bus (relay, billing, eligibility, "
        f"notifications …) {rest_cpu / count * 1000:.2f} ms CPU, {rest_sql / count:.1f} statements per claim"
    )
    for name, (cpu, sql) in spent.items():
        if sql:
            print(f"{engine}:   {name}: {cpu / count * 1000:.2f} ms CPU, {sql / count:.2f} statements per claim")


def _provider_headers(platform: Platform, npi: str) -> dict[str, str]:
    """A provider user's bearer token for ``npi``, signed with the server's key (same data directory)."""
    from olly.platform.auth.access import AccessControl
    from olly.platform.auth.roles import AccountKind
    from olly.platform.auth.service import NewAccount

    control = AccessControl()
    control.bind(platform)
    with platform.db.unit_of_work(DEFAULT_TENANT_ID) as uow:
        account = control.identity.create_account(
            uow, NewAccount(AccountKind.PROVIDER, f"bench.{uuid.uuid4().hex[:8]}@example.org", npi=npi)
        )
    token, _ = control.tokens.issue(f"account:{account.id}", DEFAULT_TENANT_ID, platform.clock.now())
    return {"Authorization": f"Bearer {token}"}


def served(engine: str) -> None:
    """End to end against real processes, deployed as each engine is meant to run: on SQLite one
    ``olly serve`` with the bus in process (the embedded mode: SQLite writers in separate processes
    would wait on each other's file lock); on PostgreSQL ``olly serve`` with the bus off plus one
    ``olly worker`` (relay and every consumer group). Claims are POSTed over HTTP from this process
    by ``OLLY_BENCH_CLAIMS_CONNECTIONS`` keep-alive connections (default 16)."""
    from bench.eligibility import free_port, wait_http
    from olly.config import Settings
    from olly.platform.runtime import build_platform

    count = _env("OLLY_BENCH_CLAIMS_SERVED", 2000)
    members = _env("OLLY_BENCH_CLAIMS_MEMBERS", 200)
    connections = _env("OLLY_BENCH_CLAIMS_CONNECTIONS", 16)
    together = _env("OLLY_BENCH_CLAIMS_BATCH", 0)
    with served_environment(engine) as env:
        if engine != "sqlite":
            env["OLLY_BUS_IN_PROCESS"] = "0"
        olly = [sys.executable, "-m", "olly.cli"]
        processes: list[subprocess.Popen[bytes]] = []
        platform = None
        try:
            subprocess.run([*olly, "db", "upgrade"], env=env, check=True, capture_output=True)
            platform = build_platform(
                Settings(
                    database_url=env["OLLY_DATABASE_URL"],
                    data_dir=Path(env["OLLY_DATA_DIR"]),
                    master_key=BENCH_KEY,
                    access_token_ttl_seconds=SERVED_TOKEN_TTL_SECONDS,
                )  # type: ignore[arg-type]
            )
            with platform.db.connect() as connection:
                platform.crypto.ensure_tenant_keys(connection, DEFAULT_TENANT_ID)
            people = seed(platform, members)
            headers = {npi: _provider_headers(platform, npi) for npi in (NPI_IN, NPI_OUT)}
            bodies = corpus(people, count, random.Random(11))
            path = "/api/v1/claims/batch" if together else "/api/v1/claims"
            requests = [(json.dumps(body).encode(), headers[npi]) for npi, body in _requests(bodies, together)]
            port = free_port()
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            processes.append(subprocess.Popen([*olly, "serve", "--port", str(port)], env=env, **quiet))  # type: ignore[call-overload]
            if engine != "sqlite":
                processes.append(subprocess.Popen([*olly, "worker"], env=env, **quiet))  # type: ignore[call-overload]
            wait_http(f"http://127.0.0.1:{port}/health")
            begin = time.perf_counter()
            posted = post_each("127.0.0.1", port, path, requests, connections)
            while True:
                with platform.db.unit_of_work(DEFAULT_TENANT_ID, read_only=True) as uow:
                    waiting = uow.session.scalar(select(func.count()).where(m.Claim.status == "RECEIVED"))
                if not waiting:
                    break
                time.sleep(0.05)
            total = time.perf_counter() - begin
            with platform.db.unit_of_work(DEFAULT_TENANT_ID, read_only=True) as uow:
                rows = list(uow.session.execute(select(m.Claim.status, m.Claim.received_at, m.Claim.adjudicated_at)))
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
            if platform is not None:
                platform.close()
    latencies = [(adjudicated - received).total_seconds() for _, received, adjudicated in rows if adjudicated]
    shape = "olly serve with the bus in process" if engine == "sqlite" else "olly serve + olly worker"
    shape_of_posts = f" in batches of {together}" if together else ""
    print(
        f"{engine}, served ({shape}, {connections} connections): {count} claims, "
        f"{posted.errors} refused; intake {count / posted.seconds:,.0f} claims/s{shape_of_posts} (POST p99 {percentile(posted.latencies_ms, 99):.0f} ms); "
        f"end to end {len(rows) / total:,.0f} claims/s ({total:.1f} s); "
        f"submit→adjudicated p50 {percentile(latencies, 50):.2f} s, p99 {percentile(latencies, 99):.2f} s"
    )


def main() -> None:
    engine_only()
    for engine in engines():
        cost(engine)
    for engine in engines():
        end_to_end(engine)
    for engine in engines():
        served(engine)


if __name__ == "__main__":
    main()
