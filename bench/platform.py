"""Foundation figures: PHI field encrypt+decrypt cost, and audit-trail appends per second.

Audit appends are measured three ways on each engine: one writer; 8 concurrent writers on a single
chain (every append waits for the one before: the serialised baseline); 8 concurrent writers on 8
chains (the shipped default). SQLite admits one writer at a time whatever the chains, so there the
comparison shows the engine's ceiling rather than the chains' effect.
"""

from __future__ import annotations

import threading
import time

from bench._support import engines, fresh_platform
from olly.config import DEFAULT_TENANT_ID
from olly.platform.audit import AuditRecord, AuditTrail
from olly.platform.crypto import row_aad

RECORD = AuditRecord(
    subject="examiner-17",
    role="claims_examiner",
    action="read",
    resource_type="claim",
    resource_id="0190f3c2-0000-7000-8000-000000000001",
    purpose="payment",
    request_id="req-00000001",
    tenant_id=DEFAULT_TENANT_ID,
)


def crypto_figures(engine: str) -> None:
    with fresh_platform(engine) as platform, platform.db.connect() as connection:
        crypto = platform.crypto
        aad = row_aad(DEFAULT_TENANT_ID, "parties", "ssn", "0190f3c2-0000-7000-8000-000000000001")
        value = b"219099999"
        for _ in range(2_000):  # warm the key cache
            crypto.decrypt(
                connection, DEFAULT_TENANT_ID, crypto.encrypt(connection, DEFAULT_TENANT_ID, value, aad), aad
            )
        n = 50_000
        started = time.perf_counter()
        for _ in range(n):
            blob = crypto.encrypt(connection, DEFAULT_TENANT_ID, value, aad)
            crypto.decrypt(connection, DEFAULT_TENANT_ID, blob, aad)
        per_call = (time.perf_counter() - started) / n * 1e6
        print(f"  [{engine}] field encrypt+decrypt: {per_call:.1f} µs per value ({n} round trips)")


def audit_rate(engine: str, writers: int, chains: int, per_writer: int) -> float:
    with fresh_platform(engine, audit_chains=chains) as platform:
        trail = AuditTrail(platform.db, chains=chains)
        barrier = threading.Barrier(writers + 1)

        def work() -> None:
            barrier.wait()
            for _ in range(per_writer):
                trail.record(RECORD)

        threads = [threading.Thread(target=work) for _ in range(writers)]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        return writers * per_writer / (time.perf_counter() - started)


def audit_buffered_rate(engine: str, writers: int, per_writer: int) -> float:
    with fresh_platform(engine) as platform:
        trail = AuditTrail(platform.db)
        barrier = threading.Barrier(writers + 1)

        def work() -> None:
            barrier.wait()
            for _ in range(per_writer):
                trail.submit(RECORD)

        threads = [threading.Thread(target=work) for _ in range(writers)]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        trail.flush()
        rate = writers * per_writer / (time.perf_counter() - started)
        trail.close()
        return rate


def main() -> None:
    for engine in engines():
        crypto_figures(engine)
    for engine in engines():
        single = audit_rate(engine, writers=1, chains=1, per_writer=2_000)
        serial = audit_rate(engine, writers=8, chains=1, per_writer=400)
        striped = audit_rate(engine, writers=8, chains=8, per_writer=400)
        print(
            f"  [{engine}] audit appends/s (one record per transaction): 1 writer {single:,.0f}; "
            f"8 writers on 1 chain {serial:,.0f}; 8 writers on 8 chains {striped:,.0f} "
            f"(×{striped / serial:.2f} over one chain)"
        )
        buffered = audit_buffered_rate(engine, writers=8, per_writer=5_000)
        print(f"  [{engine}] audit appends/s through the group-commit writer, 8 submitters: {buffered:,.0f}")


if __name__ == "__main__":
    main()
