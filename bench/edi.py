"""X12 benchmark: ``python -m bench.edi [--size-mb 100] [--peer-mb 1] [--rss-mb 1024] [--e2e-claims 100000]``.

Prints, for a generated clean 837P (005010X222A1):
* Olly's parse + structural validation and its tokenizer alone on a ``--size-mb`` file (wall and
  CPU MB/s; CPU time is the figure to compare on a shared machine);
* pyx12 (full implementation-guide validation) and x12sdk (parse into its typed models) on a
  ``--peer-mb`` slice made by the same generator: both are far too slow to run 100 MB in a
  benchmark, so their rate is measured per MB on the slice and the ratio says so;
* Olly's peak RSS validating a ``--rss-mb`` file (in a child process, so nothing else counts);
* the EDI side of 837 → 835 for ``--e2e-claims`` claims (no database): parse into
  ``ClaimSubmission``, a fixed 80%/20% adjudication, one 835;
* the gateway 837 → 835 on SQLite for ``--gateway-claims`` claims (env ``OLLY_BENCH_EDI_GATEWAY_CLAIMS``,
  default 10,000; 0 skips): ``service.ingest`` (encrypted raw file, interchange and set receipts,
  999 and 277CA stored, each claim kept encrypted as "awaiting claims intake" by the default
  ``ClaimIntake``), then ``service.remit`` with a ``RemittanceSource`` that reads those kept
  claims back and applies the fixed adjudication, one balanced 835 stored, in the outbox and
  announced. With ``OLLY_BENCH_EDI_GATEWAY_REAL=1`` the real adapters (``olly/edi_links.py``) are
  used instead: each claim is submitted to the claims intake, the bus adjudicates them (demo PPO,
  an in-network fee schedule for the generated procedures), billing's payment run pays them and
  ``service.remit`` writes the 835 from it. As ``olly worker`` does, the code sets are loaded and
  the long-lived objects frozen out of the cyclic collector before the clock starts. Only the member
  lookup is a bench shortcut (a
  dictionary of member number → member instead of eligibility's blind-index search), as the
  generated members are written straight into claims' coverage read model.
"""

from __future__ import annotations

import argparse
import gc
import io
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from olly.edi.claims import ClaimSubmission
from olly.edi.inbound import check, transactions
from olly.edi.remittance import (
    Adjustment,
    LineOutcome,
    PayeeInfo,
    PayerInfo,
    Payment,
    Remittance,
    remittance_claim,
    write_payment_run,
)
from olly.edi.syntax import SegmentReader
from olly.edi.testing import BILLING_NPI, write_professional_claims
from olly.edi.writer import InMemoryControlNumbers, Party

CLAIM_BYTES = 410  # one generated claim with two lines, measured


def generate(path: Path, megabytes: float) -> int:
    claims = max(1, int(megabytes * 1_000_000 / CLAIM_BYTES))
    with path.open("wb") as handle:
        write_professional_claims(handle, claims)
    return claims


def generate_claims(path: Path, claims: int) -> None:
    with path.open("wb") as handle:
        write_professional_claims(handle, claims)


def timed(action: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def olly_validate(path: Path) -> bool:
    return check(path).accepted


def olly_tokenize(path: Path) -> int:
    return sum(1 for _ in SegmentReader(path))


def pyx12_validate(path: Path) -> bool:
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    return bool(
        pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=str(path), fd_997=io.StringIO(), fd_html=None
        )
    )


def x12sdk_parse(path: Path) -> int:
    from x12sdk.io import X12ModelReader

    with X12ModelReader(str(path)) as reader:
        return sum(1 for _ in reader.models())


def peak_rss_kb() -> int:
    """This process image's peak RSS. ``ru_maxrss`` would do, except that Linux carries it across
    fork + exec, so a child started by a big parent reports the parent's peak: VmHWM does not."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_child(path: Path) -> None:
    ok = olly_validate(path)
    print(f"{peak_rss_kb()} {ok}")


def row(name: str, size_mb: float, wall: float, cpu: float, note: str = "") -> float:
    rate = size_mb / cpu if cpu else float("inf")
    print(
        f"  {name:<36} {size_mb:8.2f} MB  wall {wall:8.2f} s ({size_mb / wall:7.2f} MB/s)"
        f"  cpu {cpu:8.2f} s ({rate:7.2f} MB/s) {note}"
    )
    return rate


def end_to_end(path: Path, claims: int) -> None:
    def run() -> int:
        report = check(path)
        remittance_claims = []
        for n, item in enumerate(transactions(path, report)):
            if not isinstance(item, ClaimSubmission):
                continue
            outcomes = []
            for line in item.lines:
                allowed = line.charge.percent(80)
                share = allowed.percent(20)
                adjustments = (Adjustment("CO", "45", line.charge - allowed), Adjustment("PR", "2", share))
                outcomes.append(LineOutcome(allowed - share, adjustments, allowed))
            remittance_claims.append(remittance_claim(item, payer_claim_number=f"P{n}", outcomes=outcomes))
        remittance = Remittance(
            PayerInfo("OLLY HEALTH", "123456789", "1 PAYER WAY", "HARRISBURG", "PA", "17101", "8005550100"),
            PayeeInfo("GOOD CLINIC", BILLING_NPI),
            Payment("CHK", "CHK1", date(2026, 1, 20)),
            tuple(remittance_claims),
            date(2026, 1, 19),
        )
        (written,) = write_payment_run(
            [remittance], sender=Party("ZZ", "OLLY"), control_numbers=InMemoryControlNumbers(), now=datetime.now(UTC)
        )
        return len(written.interchange.text)

    wall, cpu, size = timed(run)
    print(
        f"  837 → ClaimSubmission → 835, EDI side only (no database): {claims} claims,"
        f" wall {wall:.2f} s, cpu {cpu:.2f} s; the 835 is {int(size) / 1e6:.1f} MB"  # type: ignore[call-overload]
    )


def gateway_end_to_end(path: Path, claims: int) -> None:
    from collections.abc import Sequence
    from decimal import Decimal

    from bench._support import fresh_platform
    from olly.edi import public, service
    from olly.edi.ports import AWAITING_CLAIMS_INTAKE, Links
    from olly.edi.remittance import RemittanceClaim, RemittanceLine
    from olly.kernel.money import Money
    from olly.platform.db import UnitOfWork

    class KeptClaims:
        """Reads the claims the gateway kept and pays them with the fixed 80% / 20% adjudication."""

        def payment_run(self, uow: UnitOfWork, run_id: str) -> Sequence[Remittance]:
            out = []
            for item in public.pending_items(uow, kind="837P", status=AWAITING_CLAIMS_INTAKE, limit=10**9):
                claim = item.content
                lines = []
                for line in claim["lines"]:
                    charge = Money.parse(line["charge"]["amount"], "USD")
                    allowed = charge.percent(80)
                    share = allowed.percent(20)
                    lines.append(
                        RemittanceLine(
                            procedure_code=line["procedure_code"],
                            charge=charge,
                            paid=allowed - share,
                            adjustments=(Adjustment("CO", "45", charge - allowed), Adjustment("PR", "2", share)),
                            allowed=allowed,
                            units_paid=Decimal(line["units"]),
                            service_date_from=date.fromisoformat(line["service_date_from"]),
                        )
                    )
                paid = Money.zero("USD")
                for line in lines:
                    paid = paid + line.paid
                out.append(
                    RemittanceClaim(
                        claim_id=claim["claim_id"],
                        charge=Money.parse(claim["total_charge"]["amount"], "USD"),
                        paid=paid,
                        payer_claim_number=str(item.id),
                        lines=tuple(lines),
                        patient_member_id=claim["subscriber_member_id"],
                    )
                )
            return [
                Remittance(
                    PayerInfo("OLLY HEALTH", "123456789", "1 PAYER WAY", "HARRISBURG", "PA", "17101", "8005550100"),
                    PayeeInfo("GOOD CLINIC", BILLING_NPI),
                    Payment("CHK", "CHK1", date(2026, 1, 20)),
                    tuple(out),
                    date(2026, 1, 19),
                )
            ]

    with fresh_platform("sqlite") as platform:
        tenant = platform.settings.default_tenant_id
        with platform.db.unit_of_work(tenant) as uow:
            service.save_partner(
                uow, service.PartnerSettings("CH", "Clearinghouse", "CLEARINGHOUSE", "ZZ", "SUBMITTER")
            )
        data = path.read_bytes()
        started = time.perf_counter(), time.process_time()
        with platform.db.unit_of_work(tenant) as uow:
            result = service.ingest(uow, data, source="cli")
        ingested = time.perf_counter(), time.process_time()
        with platform.db.unit_of_work(tenant) as uow:
            (written,) = service.remit(uow, "RUN-1", Links(remittances=KeptClaims()))
            summary = dict(written.summary)
        done = time.perf_counter(), time.process_time()
    assert result.claims_accepted == claims, (result.status, result.claims_accepted)
    assert summary["claims"] == claims
    print(
        f"  gateway 837 → 835 on SQLite, {claims} claims ({len(data) / 1e6:.1f} MB):"
        f" ingest wall {ingested[0] - started[0]:.2f} s cpu {ingested[1] - started[1]:.2f} s;"
        f" remit wall {done[0] - ingested[0]:.2f} s cpu {done[1] - ingested[1]:.2f} s;"
        f" total wall {done[0] - started[0]:.2f} s; paid {summary['paid']} {summary['currency']}"
    )


def real_gateway_end_to_end(path: Path, claims: int) -> None:
    """837 → claims intake → adjudication on the bus → billing payment run → 835, on SQLite."""
    import uuid

    from bench._support import fresh_platform
    from olly import edi_links
    from olly.billing import service as billing
    from olly.claims import handlers as claims_handlers
    from olly.claims import models as claims_models
    from olly.claims import snapshots
    from olly.claims.rules import Contract
    from olly.edi import service
    from olly.edi.ports import Links
    from olly.edi.testing import PROCEDURES
    from olly.eligibility.plan_benefits import PlanBenefitSource
    from olly.enrollment.plan_catalog import PlansCatalog
    from olly.kernel.clock import FixedClock
    from olly.kernel.money import Money
    from olly.plans import service as plans_service
    from olly.platform.bus.runtime import BusRuntime, default_registry
    from olly.platform.db import UnitOfWork

    plan = "OLLY-PPO-1000"
    clock = FixedClock(datetime(2026, 2, 2, 9, 0, tzinfo=UTC))
    members = {f"M{index:09d}": uuid.uuid4() for index in range(claims)}

    def member(uow: UnitOfWork, claim: ClaimSubmission) -> uuid.UUID | None:
        return members.get(claim.subscriber_member_id)

    with fresh_platform("sqlite", clock=clock) as platform:
        tenant = platform.settings.default_tenant_id
        with platform.db.unit_of_work(tenant) as uow:
            plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
        with platform.db.unit_of_work(tenant) as uow:
            plan_id = uuid.uuid4()
            claims_handlers.sync_schedule(uow, plan, plan_id, date(2026, 1, 1))
            now = uow.clock.now()
            for member_id in members.values():
                uow.session.add(
                    claims_models.CoverageView(
                        member_id=member_id,
                        policy_id=uuid.uuid4(),
                        family_id=None,
                        plan_id=plan_id,
                        plan_code=plan,
                        plan_type="PPO",
                        periods=[["2026-01-01", "2026-12-31"]],
                        synced_at=now,
                    )
                )
            contract = Contract(fee_schedule={(code, None): Money(9000, "USD") for code in PROCEDURES})
            uow.session.add(
                claims_models.ProviderView(
                    npi=BILLING_NPI,
                    provider_id=uuid.uuid4(),
                    credentialing_status="APPROVED",
                    network_status="IN_NETWORK",
                    tier=None,
                    contract_id=uuid.uuid4(),
                    contract_from=date(2025, 1, 1),
                    contract_to=None,
                    contract=snapshots.contract_to_json(contract, "USD"),
                    synced_at=now,
                )
            )
            service.save_partner(
                uow, service.PartnerSettings("CH", "Clearinghouse", "CLEARINGHOUSE", "ZZ", "SUBMITTER")
            )
        links = edi_links.build_links(PlansCatalog(), PlanBenefitSource())
        links = Links(
            claims=edi_links.ClaimIntakeAdapter(member),
            status=links.status,
            enrollment=links.enrollment,
            eligibility=links.eligibility,
            remittances=links.remittances,
        )
        bus = BusRuntime(platform.db, platform.settings, default_registry(), platform.outbox, clock=clock)
        from olly.codesets import hcpcs, icd10

        icd10.load()  # as ``olly worker`` does before its first claim: not part of any claim's time
        hcpcs.code_count()
        # and, as ``olly worker`` and ``olly serve`` do, what lives as long as the process (code sets,
        # mappers, the bench's own member table) is kept out of the cyclic collector's scans
        gc.collect()
        gc.freeze()
        data = path.read_bytes()
        marks = [(time.perf_counter(), time.process_time())]
        with platform.db.unit_of_work(tenant) as uow:
            result = service.ingest(uow, data, source="cli", links=links)
        marks.append((time.perf_counter(), time.process_time()))
        bus.drain()
        marks.append((time.perf_counter(), time.process_time()))
        with platform.db.unit_of_work(tenant) as uow:
            run = billing.run_claim_payments(uow)
            run_id, paid_claims, total = str(run.id), run.claim_count, run.total_minor
        marks.append((time.perf_counter(), time.process_time()))
        with platform.db.unit_of_work(tenant) as uow:
            (written,) = service.remit(uow, run_id, links)
            summary = dict(written.summary)
        marks.append((time.perf_counter(), time.process_time()))
    assert result.claims_accepted == claims, (result.status, result.claims_accepted, result.claims_rejected)
    assert summary["claims"] == paid_claims
    steps = ("ingest + intake", "adjudication (bus)", "payment run", "remit 835")
    timings = "; ".join(
        f"{name} wall {b[0] - a[0]:.2f} s cpu {b[1] - a[1]:.2f} s"
        for name, a, b in zip(steps, marks, marks[1:], strict=False)
    )
    print(
        f"  real gateway 837 → claims → billing → 835 on SQLite, {claims} claims ({len(data) / 1e6:.1f} MB):"
        f" {timings}; total wall {marks[-1][0] - marks[0][0]:.2f} s cpu {marks[-1][1] - marks[0][1]:.2f} s;"
        f" {paid_claims} claims paid {total / 100:.2f} USD; 835 paid {summary['paid']} {summary['currency']}"
    )


def gateway(path: Path, claims: int) -> None:
    """The gateway bench: the real adapters when ``OLLY_BENCH_EDI_GATEWAY_REAL=1``, else the kept claims."""
    if os.environ.get("OLLY_BENCH_EDI_GATEWAY_REAL", "") not in ("", "0"):
        real_gateway_end_to_end(path, claims)
    else:
        gateway_end_to_end(path, claims)


def main() -> None:
    parser = argparse.ArgumentParser(description="X12 benchmark")
    parser.add_argument("--size-mb", type=float, default=100)
    parser.add_argument("--peer-mb", type=float, default=1)
    parser.add_argument("--rss-mb", type=float, default=1024)
    parser.add_argument("--e2e-claims", type=int, default=100_000)
    parser.add_argument(
        "--gateway-claims", type=int, default=int(os.environ.get("OLLY_BENCH_EDI_GATEWAY_CLAIMS", "10000"))
    )
    parser.add_argument("--only-gateway", action="store_true", help="run only the gateway 837 → 835")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(Path(args.rss_child))
        return
    if args.only_gateway:
        with tempfile.TemporaryDirectory(prefix="olly-bench-edi-") as folder:
            gateway_path = Path(folder) / "gateway.837"
            generate_claims(gateway_path, args.gateway_claims)
            gateway(gateway_path, args.gateway_claims)
        return
    with tempfile.TemporaryDirectory(prefix="olly-bench-edi-") as folder:
        work = Path(folder)
        big, small = work / "big.837", work / "peer.837"
        claims = generate(big, args.size_mb)
        generate(small, args.peer_mb)
        big_mb, small_mb = big.stat().st_size / 1e6, small.stat().st_size / 1e6
        print(f"generated 837P: {big_mb:.1f} MB ({claims} claims); peer slice {small_mb:.2f} MB, same generator")
        wall, cpu, ok = timed(lambda: olly_validate(big))
        if not ok:
            raise SystemExit("the generated file did not validate clean")
        olly_rate = row("olly parse + structural validation", big_mb, wall, cpu)
        wall, cpu, _ = timed(lambda: olly_tokenize(big))
        row("olly tokenizer alone", big_mb, wall, cpu)
        wall, cpu, _ = timed(lambda: olly_validate(small))
        olly_small = row("olly on the peer slice", small_mb, wall, cpu)
        peers: dict[str, float] = {}
        for name, action in (
            ("pyx12 4.0 full validation", pyx12_validate),
            ("x12sdk 2.2 parse to models", x12sdk_parse),
        ):
            try:
                wall, cpu, result = timed(lambda action=action: action(small))  # type: ignore[misc]
                peers[name] = row(name, small_mb, wall, cpu, f"(returned {result})")
            except Exception as error:
                print(f"  {name:<36} FAILED on the file: {type(error).__name__}: {str(error)[:200]}")
        for name, rate in peers.items():
            print(
                f"  olly ÷ {name}: {olly_rate / rate:.0f}× (olly on {big_mb:.0f} MB vs peer on the slice, CPU MB/s);"
                f" {olly_small / rate:.0f}× on the same slice"
            )
        if args.rss_mb:
            huge = work / "huge.837"
            generate(huge, args.rss_mb)
            huge_mb = huge.stat().st_size / 1e6
            started = time.perf_counter()
            output = subprocess.run(
                [sys.executable, "-m", "bench.edi", "--rss-child", str(huge)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            elapsed = time.perf_counter() - started
            print(
                f"  peak RSS validating {huge_mb:.0f} MB: {int(output[0]) / 1024:.0f} MB"
                f" (accepted={output[1]}, {elapsed:.0f} s wall)"
            )
        e2e = work / "e2e.837"
        generate_claims(e2e, args.e2e_claims)
        end_to_end(e2e, args.e2e_claims)
        if args.gateway_claims:
            gateway_path = work / "gateway.837"
            generate_claims(gateway_path, args.gateway_claims)
            gateway(gateway_path, args.gateway_claims)


if __name__ == "__main__":
    main()
