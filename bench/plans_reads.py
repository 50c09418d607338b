"""How fast other domains can read plans: ``python -m bench.plans_reads [--postgres URL] [-n 2000]``.

Loads the demo plans into a fresh database, then times, each in its own read-only unit of work as a
request or a claim line would open it: the benefit schedule in force on a date, an ACA household
quote, and a tier quote. Prints p50/p99 in microseconds and calls per second on one thread.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from olly.config import DEFAULT_TENANT_ID, Settings
from olly.plans import public, service
from olly.plans.rules import QuotedMember, QuoteRequest, Relationship, Tier
from olly.platform import migrate
from olly.platform.runtime import Platform, build_platform

KEY = "b2xseS1iZW5jaC1tYXN0ZXIta2V5LTMyLWJ5dGVzISE="
DAY = date(2026, 3, 1)
FAMILY = QuoteRequest(
    members=(
        QuotedMember(Relationship.SUBSCRIBER, 45),
        QuotedMember(Relationship.SPOUSE, 44, True),
        QuotedMember(Relationship.CHILD, 12),
        QuotedMember(Relationship.CHILD, 9),
    ),
    rating_area="2",
)


def _timed(platform: Platform, label: str, call: Callable[[object], object], n: int) -> None:
    samples: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        with platform.db.unit_of_work(DEFAULT_TENANT_ID, read_only=True) as uow:
            call(uow)
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"  {label:<34} p50 {p50:8.0f} us   p99 {p99:8.0f} us   {1e6 / statistics.mean(samples):8.0f} calls/s")


def run(url: str, data_dir: Path, n: int) -> None:
    settings = Settings(env="test", database_url=url, data_dir=data_dir, master_key=KEY)  # type: ignore[arg-type]
    platform = build_platform(settings)
    try:
        migrate.upgrade(platform.db)
        started = time.perf_counter()
        with platform.db.unit_of_work(DEFAULT_TENANT_ID) as uow:
            service.load_demo_plans(uow, service.limits_from_settings(settings))
        print(f"{platform.db.dialect}: loaded 5 demo plans in {(time.perf_counter() - started) * 1000:.0f} ms")
        _timed(
            platform,
            "benefit_schedule (ACA silver)",
            lambda uow: public.benefit_schedule(uow, "OLLY-ACA-SILVER", DAY),
            n,
        )  # type: ignore[arg-type]
        _timed(
            platform,
            "quote_premium (ACA family of 4)",
            lambda uow: public.quote_premium(uow, "OLLY-ACA-SILVER", DAY, FAMILY),
            n,
        )  # type: ignore[arg-type]
        _timed(
            platform,
            "quote_premium (PPO EE+FAM)",
            lambda uow: public.quote_premium(uow, "OLLY-PPO-1000", DAY, QuoteRequest(tier=Tier.EE_FAM)),
            n,
        )  # type: ignore[arg-type]
    finally:
        platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="postgresql://… server URL (a scratch database is created there)")
    parser.add_argument("-n", type=int, default=2000, help="calls per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{folder}/bench.db", Path(folder), args.n)
        if args.postgres:
            name = f"olly_bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            try:
                run(args.postgres.rsplit("/", 1)[0] + f"/{name}", Path(folder), args.n)
            finally:
                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
