"""Directory search latency over 100,000 generated providers, on SQLite and PostgreSQL.

    python -m bench.provider_search [--providers 100000] [--rounds 60] [--engine sqlite|postgresql]

Each engine gets a fresh migrated database, filled through the same row builders the service uses
(bulk inserts instead of one registration per provider, so loading takes seconds, not minutes).
Then a mix of realistic queries runs through the full service path (unit of work, validation,
SQL, result mapping) and the latency of each is recorded. Target: p99 ≤ 20 ms.

Beside wall time it reports CPU per search: this process's (time.process_time) and, on PostgreSQL,
its server backend's (read from /proc when the server runs on this machine). CPU cannot be taken by
other processes, so it compares code on a loaded machine where wall time swings 2× between runs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import insert, text

from olly.config import DEFAULT_TENANT_ID, Settings
from olly.kernel.clock import FixedClock
from olly.kernel.ids import uuid7
from olly.platform import migrate
from olly.platform.db import table_of
from olly.platform.runtime import Platform, build_platform
from olly.provider import models as m
from olly.provider import reference, repository, service
from olly.provider import rules as r

POSTGRES_URL = os.environ.get("OLLY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BENCH_KEY = "YmVuY2gtbWFzdGVyLWtleS0zMi1ieXRlcy1sb25nISE="
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
TARGET_P99_MS = 20.0

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret "
    "Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian "
    "Melissa George Deborah Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan "
    "Dorothy Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry Pamela "
    "Justin Nicole Scott Anna Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel "
    "Patrick Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry Helen Tyler Catherine Aaron Diane "
    "Jose Julie Adam Victoria Nathan Joyce Henry Lauren Zachary Kelly Douglas Christina Peter Ruth Kyle Joan Noah "
    "Virginia Ethan Judith Jeremy Evelyn Christian Hannah Walter Andrea Keith Megan Austin Cheryl Roger "
    "Jacqueline Terry Madison Sean Teresa Gerald Abigail Carl Sophia Dylan Martha Harold Sara Jordan Gloria Jesse "
    "Janice Bryan Kathryn Lawrence Ann Arthur Isabella Gabriel Judy Bruce Charlotte Logan Julia Billy Grace Joe "
    "Amber Alan Alice Juan Jean Elijah Denise Willie Frances Albert Danielle Wayne Marilyn Randy Natalie Mason "
    "Beverly Vincent Diana Liam Brittany Roy Theresa Bobby Kayla Caleb Alexis Bradley Doris Russell Lori Lucas "
    "Tiffany Wei Priya Ravi Aisha Omar Fatima Hiroshi Yuki Minh Linh Ahmed Leila Carlos Lucia Mateo Sofia Dmitri "
    "Olga Kwame Ama Arjun Ananya"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim "
    "Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler "
    "Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
    "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford "
    "Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman "
    "Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon "
    "Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer "
    "Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong "
    "Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards "
    "Willis Carpenter Lawrence Sandoval Guerrero George Chapman Rios Estrada Ortega Watkins Greene Nunez Wheeler "
    "Valdez Harper Burke Larson Santiago Maldonado Morrison Franklin Carlson Austin Dominguez Carr Lawson Jacobs "
    "Obrien Lynch Singh Vega Bishop Montgomery Oliver Jensen Harvey Williamson Gilbert Dean Sims Espinoza Howell "
    "Li Wong Reid Hanson Le McCoy Garrett Burton Fuller Wang Weber Welch Rojas Lucas Marquez Fields Park Yang "
    "Little Banks"
).split()
#: Individual taxonomies weighted roughly like a commercial network's directory.
INDIVIDUAL_TAXONOMIES = (
    ("207Q00000X", 12), ("207R00000X", 10), ("208000000X", 7), ("363LF0000X", 6), ("363A00000X", 5),
    ("122300000X", 8), ("225100000X", 5), ("2084P0800X", 4), ("207V00000X", 4), ("207RC0000X", 3),
    ("207X00000X", 3), ("207N00000X", 2), ("207W00000X", 2), ("207Y00000X", 2), ("2085R0202X", 2),
    ("111N00000X", 3), ("103T00000X", 4), ("1041C0700X", 3), ("152W00000X", 2), ("207P00000X", 2),
    ("207RE0101X", 1), ("207RG0100X", 1), ("207RN0300X", 1), ("207RP1001X", 1), ("208600000X", 2),
    ("2086S0129X", 1), ("208800000X", 1), ("207K00000X", 1), ("207L00000X", 1), ("2080P0202X", 1),
    ("363LP0200X", 1), ("235Z00000X", 1), ("133V00000X", 1), ("101YM0800X", 2), ("106H00000X", 1),
)  # fmt: skip
ORGANISATION_SUFFIXES = ("Medical Group", "Family Clinic", "Health Center", "Hospital")
ORGANISATION_TAXONOMIES = ("193200000X", "193400000X", "261QP2300X", "261QU0200X", "282N00000X", "261QR1300X")
LANGUAGES = (
    ("es", 0.25),
    ("zh", 0.05),
    ("vi", 0.03),
    ("ko", 0.02),
    ("ru", 0.02),
    ("fr", 0.03),
    ("ar", 0.02),
    ("hi", 0.03),
)
NETWORKS = (("PPO", 0.6), ("HMO", 0.35), ("EPO", 0.15))
SPECIALTY_WORDS = (
    "family medicine", "internal medicine", "pediatrics", "cardiovascular", "orthopaedic", "dermatology",
    "psychiatry", "obstetrics", "nurse practitioner", "dentist", "physical therapist", "counselor", "psychologist",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------
def postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextmanager
def fresh_platform(engine: str) -> Iterator[Platform]:
    with tempfile.TemporaryDirectory() as tmp:
        name = f"olly_bench_{uuid.uuid4().hex[:10]}"
        if engine == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        settings = Settings(database_url=url, data_dir=Path(tmp), master_key=BENCH_KEY)  # type: ignore[arg-type]
        platform = build_platform(settings, FixedClock(NOW))
        try:
            migrate.upgrade(platform.db)
            with platform.db.connect() as connection:
                platform.crypto.ensure_tenant_keys(connection, DEFAULT_TENANT_ID)
            yield platform
        finally:
            platform.close()
            if engine != "sqlite":
                with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def populate(platform: Platform, count: int, seed: int = 7) -> None:
    """``count`` providers with one listing each, contracts and memberships, in bulk."""
    rng = random.Random(seed)
    zips = list(reference.zip_centroids().values())
    tenant = DEFAULT_TENANT_ID
    batch = 5_000
    for start in range(0, count, batch):
        providers: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        contracts: list[dict[str, Any]] = []
        memberships: list[dict[str, Any]] = []
        for n in range(start, min(count, start + batch)):
            is_org = rng.random() < 0.08
            provider_id = uuid7()
            approved = rng.random() < 0.85
            provider = m.Provider(
                id=provider_id,
                tenant_id=tenant,
                npi=r.npi_with_check_digit(f"{100_000_000 + n:09d}"),
                kind=(r.ProviderKind.ORGANISATION if is_org else r.ProviderKind.INDIVIDUAL).value,
                first_name=None if is_org else rng.choice(FIRST_NAMES),
                middle_name=None,
                last_name=None if is_org else rng.choice(LAST_NAMES),
                credential=None if is_org else rng.choice(("MD", "MD", "DO", "NP", "PA", "DDS", "PhD")),
                organisation_name=f"{rng.choice(LAST_NAMES)} {rng.choice(ORGANISATION_SUFFIXES)}" if is_org else None,
                accepting_new_patients=rng.random() < 0.7,
                credentialing_status=(
                    r.CredentialingStatus.APPROVED if approved else r.CredentialingStatus.NOT_CREDENTIALED
                ).value,
                created_at=NOW,
                updated_at=NOW,
            )
            providers.append({c.name: getattr(provider, c.key) for c in table_of(m.Provider).columns})
            centroid = rng.choice(zips)
            location = m.ProviderLocation(
                id=uuid7(),
                provider_id=provider_id,
                name=None,
                address_line1=f"{rng.randint(1, 999)} Main St",
                address_line2=None,
                city=centroid.city,
                state=centroid.state,
                zip=centroid.zip,
                phone=None,
                latitude=round(centroid.latitude + rng.uniform(-0.04, 0.04), 5),
                longitude=round(centroid.longitude + rng.uniform(-0.05, 0.05), 5),
                created_at=NOW,
            )
            taxonomy = rng.choice(ORGANISATION_TAXONOMIES) if is_org else _weighted(rng, INDIVIDUAL_TAXONOMIES)
            languages = ["en"] + [code for code, share in LANGUAGES if rng.random() < share]
            for row in service.directory_entries_for(
                provider,
                tenant_id=tenant,
                taxonomy_codes=[taxonomy],
                languages=languages,
                locations=[location],
                organisation_names=[],
                now=NOW,
            ):
                entries.append({**row, "tenant_id": tenant, "provider_id": provider_id})
            for network, share in NETWORKS:
                if rng.random() < share:
                    contract_id = uuid7()
                    tier = rng.choice(("TIER_1", "TIER_2"))
                    contracts.append(
                        {
                            "id": contract_id,
                            "tenant_id": tenant,
                            "provider_id": provider_id,
                            "contract_number": f"K-{n}-{network}",
                            "network": network,
                            "tier": tier,
                            "fee_schedule_id": None,
                            "effective_from": date(2025, 1, 1),
                            "effective_to": None,
                            "created_at": NOW,
                            "updated_at": NOW,
                        }
                    )
                    memberships.append(
                        {
                            "id": uuid7(),
                            "tenant_id": tenant,
                            "provider_id": provider_id,
                            "contract_id": contract_id,
                            "via_organisation_id": None,
                            "network": network,
                            "tier": tier,
                            "effective_from": date(2025, 1, 1),
                            "effective_to": None,
                        }
                    )
        with platform.db.unit_of_work(tenant) as uow:
            session = uow.session
            session.execute(insert(table_of(m.Provider)), providers)
            repository.bulk_insert_directory_entries(session, entries)
            session.execute(insert(table_of(m.Contract)), contracts)
            session.execute(insert(table_of(m.NetworkMembership)), memberships)
    # Steady state, as autovacuum would leave it: statistics gathered and (on PostgreSQL) the
    # visibility map set so that index-only scans need no heap visits.
    if platform.db.is_sqlite:
        with platform.db.connect() as connection:
            connection.execute(text("ANALYZE"))
    else:
        with platform.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------
def query_mix(rng: random.Random) -> list[tuple[str, Callable[[], service.DirectoryQuery]]]:
    zips = sorted(reference.zip_centroids())

    def zip_() -> str:
        return rng.choice(zips)

    return [
        (
            "specialty near a ZIP (10 mi)",
            lambda: service.DirectoryQuery(text=rng.choice(SPECIALTY_WORDS), zip=zip_(), radius_miles=10),
        ),
        ("last name, anywhere", lambda: service.DirectoryQuery(text=rng.choice(LAST_NAMES))),
        (
            "name prefix as typed, 25 mi",
            lambda: service.DirectoryQuery(text=rng.choice(LAST_NAMES)[:3], zip=zip_(), radius_miles=25),
        ),
        (
            "near a ZIP, Spanish, new patients",
            lambda: service.DirectoryQuery(zip=zip_(), radius_miles=5, language="es", accepting_new_patients=True),
        ),
        (
            "specialty + network + 15 mi",
            lambda: service.DirectoryQuery(
                text=rng.choice(SPECIALTY_WORDS), zip=zip_(), radius_miles=15, network="PPO"
            ),
        ),
        ("browse everything within 25 mi", lambda: service.DirectoryQuery(zip=zip_(), radius_miles=25)),
        ("full name", lambda: service.DirectoryQuery(text=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}")),
        ("specialty, page 5", lambda: service.DirectoryQuery(text=rng.choice(SPECIALTY_WORDS), page=5)),
    ]


def _backend_pids(platform: Platform) -> list[int]:
    """PostgreSQL: the server processes of the benchmark's own database (its pooled connections)."""
    if platform.db.is_sqlite:
        return []
    database = platform.db.engine.url.database
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()
    return [row[0] for row in rows]


def _backend_cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU of the server processes, or None when they are not on this machine."""
    if not pids:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def measure(platform: Platform, rounds: int, seed: int = 11) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Wall milliseconds of each search by query shape, and CPU milliseconds a search (client and,
    when readable, backend; the backend's is counted in clock ticks, so it is a mean over the run)."""
    rng = random.Random(seed)
    mix = query_mix(rng)
    timings: dict[str, list[float]] = {name: [] for name, _ in mix}
    for warm in range(5):  # warm caches and the statement cache
        for _name, make in mix:
            with platform.db.unit_of_work(DEFAULT_TENANT_ID, read_only=True) as uow:
                service.search_directory(uow, make())
        del warm
    pids = _backend_pids(platform)
    client_started, backend_started = time.process_time(), _backend_cpu_seconds(pids)
    for _ in range(rounds):
        for name, make in mix:
            query = make()
            started = time.perf_counter()
            with platform.db.unit_of_work(DEFAULT_TENANT_ID, read_only=True) as uow:
                service.search_directory(uow, query)
            timings[name].append((time.perf_counter() - started) * 1000)
    searches = rounds * len(mix)
    cpu = {"client": (time.process_time() - client_started) * 1000 / searches}
    backend_ended = _backend_cpu_seconds(pids)
    if backend_started is not None and backend_ended is not None:
        cpu["backend"] = (backend_ended - backend_started) * 1000 / searches
    return timings, cpu


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(
    engine: str, providers: int, load_seconds: float, timings: dict[str, list[float]], cpu: dict[str, float]
) -> None:
    everything = [t for values in timings.values() for t in values]
    print(f"\n{engine}: {providers:,} providers loaded in {load_seconds:.1f} s; {len(everything)} searches")
    print(f"  {'query':<36} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in timings.items():
        print(f"  {name:<36} {percentile(values, 50):8.2f} {percentile(values, 99):8.2f} {max(values):8.2f}")
    p50, p99 = percentile(everything, 50), percentile(everything, 99)
    verdict = "meets" if p99 <= TARGET_P99_MS else "MISSES"
    print(
        f"  {'all queries':<36} {p50:8.2f} {p99:8.2f} {max(everything):8.2f}   ({verdict} p99 ≤ {TARGET_P99_MS:g} ms)"
    )
    print(f"  mean {statistics.fmean(everything):.2f} ms")
    print("  CPU a search: " + ", ".join(f"{side} {ms:.2f} ms" for side, ms in cpu.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--providers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60, help="times each query of the mix runs")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args([])
    if __name__ == "__main__":
        args = parser.parse_args()
    engines = args.engine or (["sqlite", "postgresql"] if postgres_available() else ["sqlite"])
    for engine in engines:
        with fresh_platform(engine) as platform:
            started = time.perf_counter()
            populate(platform, args.providers)
            loaded = time.perf_counter() - started
            report(engine, args.providers, loaded, *measure(platform, args.rounds))


if __name__ == "__main__":
    main()
