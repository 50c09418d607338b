"""Engine-only adjudication throughput: claim lines per second in one process (one core).

    python -m bench.claims_engine [--claims 4000] [--rounds 5] [--seed 7]

Builds a fixed, seeded mix of claims first (not timed), loads the code sets once, then times
``adjudicate`` alone over the whole mix several times and reports the best and median rounds, in
wall-clock and in process CPU time (the machine may be shared; CPU time is what one core did).

Like a worker, the loop keeps no result once it is counted, and the long-lived objects made before
timing (the code sets, and here the pre-built mix) are moved out of the cyclic garbage collector's
sight with ``gc.freeze()``, as a worker should do after loading its code sets at start-up.
``--keep-results`` shows the cost of holding every result (and its trace) in memory instead.
The mix: PPO/HDHP/HMO professional claims of 1–6 lines (office visits, labs, imaging, surgery,
therapy, drugs, some out of network, emergencies, authorisations, invalid codes and duplicates),
and sum-insured hospital bills of 4–9 lines with room-rent proportional deduction.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections import Counter
from datetime import date, timedelta

from olly.claims.rules import (
    AccumulatorLevel,
    AccumulatorSnapshot,
    AdjudicatedLine,
    AdjudicationRequest,
    AuthorizationStatus,
    ChargeType,
    PlanType,
    PriorAuthorization,
    adjudicate,
)
from olly.codesets import hcpcs, icd10
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod
from tests.unit.claims import factories as f

PROFESSIONAL_CODES = [
    ("99213", 12000, 18000),
    ("99214", 15000, 25000),
    ("99215", 18000, 30000),
    ("99395", 15000, 25000),
    ("80053", 3000, 8000),
    ("85025", 2000, 5000),
    ("80061", 4000, 9000),
    ("71046", 8000, 15000),
    ("70551", 120000, 250000),
    ("29881", 150000, 400000),
    ("97110", 4000, 6000),
    ("90837", 15000, 22000),
    ("J1100", 500, 3000),
    ("E0114", 6000, 12000),
    ("A0001", 1000, 2000),  # not a HCPCS code: denied
]
DIAGNOSES = ["J06.9", "M17.11", "E11.9", "I10", "F41.1", "G43.909", "S82.001A", "Z00.00"]
HOSPITAL_ITEMS = [
    ChargeType.NURSING,
    ChargeType.DOCTOR_FEES,
    ChargeType.PHARMACY,
    ChargeType.INVESTIGATIONS,
    ChargeType.OPERATION_THEATRE,
    ChargeType.CONSUMABLES,
    ChargeType.ICU,
]


def build_mix(count: int, seed: int) -> list[AdjudicationRequest]:
    rng = random.Random(seed)
    requests: list[AdjudicationRequest] = []
    for number in range(count):
        if rng.random() < 0.1:
            requests.append(_hospital(rng, number))
        else:
            requests.append(_professional(rng, number))
    return requests


def _professional(rng: random.Random, number: int) -> AdjudicationRequest:
    day = date(2026, 1, 2) + timedelta(days=rng.randrange(70))
    lines = []
    for _ in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])):
        code, low, high = rng.choice(PROFESSIONAL_CODES)
        units = rng.randint(1, 4) if code in ("97110", "J1100") else 1
        lines.append(f.line(code, Money(rng.randint(low, high), "USD").to_decimal_string(), day=day, units=units))
    claim = f.claim(
        *lines,
        claim_id=f"C{number}",
        billing_npi=rng.choices([f.IN_NPI, f.OON_NPI, f.TIER2_NPI, f.EXPIRED_NPI], [80, 12, 6, 2])[0],
        diagnoses=(rng.choice(DIAGNOSES),),
        is_emergency=rng.random() < 0.05,
        received_on=day + timedelta(days=rng.randint(1, 40)),
    )
    family = rng.random() < 0.5
    deductible = rng.randint(0, 100_000)
    values = {f.key(f.DED): deductible, f.key(f.OOP): deductible + rng.randint(0, 150_000)}
    if family:
        values[f.key(f.DED, level=f.FAM)] = deductible + rng.randint(0, 100_000)
        values[f.key(f.OOP, level=f.FAM)] = values[f.key(f.DED, level=f.FAM)] + rng.randint(0, 300_000)
    authorizations = ()
    if rng.random() < 0.7:
        authorizations = (
            PriorAuthorization(
                auth_id=f"PA{number}",
                member_id=f.MEMBER,
                status=AuthorizationStatus.APPROVED,
                procedure_codes=frozenset({"70551", "27447"}),
                period=DatePeriod(date(2026, 1, 1), date(2026, 6, 30)),
                units_approved=2,
            ),
        )
    history = tuple(
        AdjudicatedLine(
            claim_id=f"H{number}-{index}",
            line_number=1,
            member_id=f.MEMBER,
            billing_npi=f.IN_NPI,
            service_date=day - timedelta(days=index * 7) if index else day,
            procedure_code=rng.choice(PROFESSIONAL_CODES)[0],
            modifiers=(),
            units=1,
            charge=Money(rng.randint(2000, 20000), "USD"),
        )
        for index in range(rng.randint(0, 6))
    )
    plan_type = rng.choices([PlanType.PPO, PlanType.HDHP, PlanType.HMO], [60, 20, 20])[0]
    return f.request(
        claim,
        coverage=f.coverage(family_id=f.FAMILY if family else None, plan_type=plan_type),
        accumulators=AccumulatorSnapshot(values),
        prior_authorizations=authorizations,
        history=history,
    )


def _hospital(rng: random.Random, number: int) -> AdjudicationRequest:
    day = date(2026, 5, 1) + timedelta(days=rng.randrange(60))
    days = rng.randint(1, 6)
    lines = [
        f.bill(
            ChargeType.ROOM_RENT,
            Money(rng.randint(3000, 9000) * 100 * days, "INR").to_decimal_string(),
            units=days,
            day=day,
        )
    ]
    for _ in range(rng.randint(3, 8)):
        item = rng.choice(HOSPITAL_ITEMS)
        lines.append(f.bill(item, Money(rng.randint(1000, 60000) * 100, "INR").to_decimal_string(), day=day))
    floater = rng.random() < 0.5
    level = f.FAM if floater else AccumulatorLevel.MEMBER
    return f.si_request(
        f.hospital_claim(*lines, claim_id=f"SI{number}", received_on=day + timedelta(days=rng.randint(1, 20))),
        schedule=f.sum_insured_schedule(sum_insured=f.sum_insured_terms(floater=floater)),
        coverage=f.si_coverage(family_id=f.FAMILY if floater else None),
        accumulators=AccumulatorSnapshot({f.si_key(level): rng.randint(0, 45_000_000)}),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-results", action="store_true", help="hold every result in memory while timing")
    arguments = parser.parse_args()

    started = time.perf_counter()
    icd10.load()
    hcpcs.code_count()
    loaded = time.perf_counter() - started
    requests = build_mix(arguments.claims, arguments.seed)
    line_count = sum(len(request.claim.lines) for request in requests)
    for request in requests[:200]:  # warm caches (plan years, descriptors) before timing
        adjudicate(request)

    gc.collect()
    gc.freeze()
    timings: list[float] = []
    cpu_timings: list[float] = []
    statuses: Counter[str] = Counter()
    line_statuses: Counter[str] = Counter()
    kept = []
    for round_number in range(arguments.rounds):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        for request in requests:
            result = adjudicate(request)
            if arguments.keep_results:
                kept.append(result)
            if round_number == 0:
                statuses[result.status.value] += 1
                line_statuses.update(line.status.value for line in result.lines)
        timings.append(time.perf_counter() - begin)
        cpu_timings.append(time.process_time() - begin_cpu)
        kept.clear()

    median, median_cpu = statistics.median(timings), statistics.median(cpu_timings)
    print(f"code sets loaded in {loaded:.2f} s (once per process)")
    print(f"mix: {len(requests)} claims, {line_count} lines ({line_count / len(requests):.2f} lines/claim)")
    print(f"claim statuses: {dict(sorted(statuses.items()))}")
    print(f"line statuses:  {dict(sorted(line_statuses.items()))}")
    print(f"rounds (wall): {', '.join(f'{t:.3f}' for t in timings)} s")
    print(f"rounds (cpu):  {', '.join(f'{t:.3f}' for t in cpu_timings)} s")
    print(f"engine: {line_count / min(timings):,.0f} lines/s best, {line_count / median:,.0f} lines/s median (wall)")
    per_line = median_cpu / line_count * 1e6
    print(f"        {line_count / median_cpu:,.0f} lines/s per core median (cpu); {per_line:.1f} µs/line")
    print(f"        {len(requests) / median_cpu:,.0f} claims/s per core median (cpu)")
    target = 20_000
    print(f"target ≥ {target:,} lines/s per core: {'met' if line_count / median_cpu >= target else 'NOT met'}")


if __name__ == "__main__":
    main()
