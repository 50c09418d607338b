"""The writer process's hand-off against the in-process writers it replaces (docs/enrollment.md).

One eligibility check's worth of items (the allowed read's audit record, the check's own, and a
`verified` event) is submitted every millisecond for BENCH_WRITER_SECONDS (default 10), as a server at
1,000 checks/s does, to the audit trail and the buffered publisher: with their in-process writer
threads, then handed to a writer process. Printed: the submitting process's CPU per check beyond a run
that builds the same items and submits nothing, and the writer process's own CPU per check.
"""

from __future__ import annotations

import os
import resource
import time
import uuid
from datetime import date

from bench._support import engines, fresh_platform
from olly.config import DEFAULT_TENANT_ID
from olly.eligibility.events import CoverageVerified
from olly.platform.audit import AuditRecord, AuditTrail
from olly.platform.bus.buffered import BufferedPublisher
from olly.platform.runtime import Platform
from olly.platform.writer_process import WriterProcess


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _paced(trail: AuditTrail | None, publisher: BufferedPublisher | None, platform: Platform, seconds: float) -> int:
    """Submit one check's items every millisecond (or only build them, without a trail); the count."""
    subject = f"account:{uuid.uuid4()}"
    members = [uuid.uuid4() for _ in range(870)]
    due = time.monotonic()
    end = due + seconds
    checks = 0
    while due < end:
        member = members[checks % len(members)]
        request_id = uuid.uuid4().hex
        read = AuditRecord(
            subject=subject,
            role="claims examiner",
            action="eligibility.read",
            resource_type="eligibility",
            resource_id=str(member),
            purpose="treatment_payment_operations",
            request_id=request_id,
            tenant_id=DEFAULT_TENANT_ID,
            detail={"method": "GET", "route": "/api/v1/eligibility"},
        )
        check = AuditRecord(
            subject=subject,
            role="claims examiner",
            action="eligibility.check",
            resource_type="member",
            resource_id=str(member),
            purpose="treatment_payment_operations",
            request_id=request_id,
            tenant_id=DEFAULT_TENANT_ID,
            detail={"status": "COVERED"},
        )
        event = CoverageVerified(
            event_type="COVERAGE_VERIFIED",
            member_id=member,
            plan_id=members[0],
            group_number="G-100",
            effective_date=date(2026, 1, 1),
            network_tier="IN_NETWORK",
            deductible_remaining="1500.00",
            oop_max_remaining="6000.00",
            verified_at=platform.clock.now(),
        )
        if trail is not None and publisher is not None:
            trail.submit(read, check)
            publisher.publish(DEFAULT_TENANT_ID, event, key=member)
        checks += 1
        due += 0.001
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return checks


def run(engine: str, seconds: float) -> None:
    with fresh_platform(engine) as platform:
        _paced(None, None, platform, 1.0)
        idle = _own_cpu()
        built = _paced(None, None, platform, seconds)
        baseline = (_own_cpu() - idle) / built
        for variant in ("in-process writers", "writer process"):
            trail, publisher = AuditTrail(platform.db), BufferedPublisher(platform.db)
            writer = WriterProcess(platform.settings, trail, publisher) if variant == "writer process" else None
            if writer is not None:
                writer.start()
            _paced(trail, publisher, platform, 1.0)  # warm: connections, the writer's imports
            trail.flush()
            started, child = _own_cpu(), _cpu_of(writer.pid) if writer is not None and writer.pid else 0.0
            checks = _paced(trail, publisher, platform, seconds)
            trail.flush()
            publisher.flush()
            here = (_own_cpu() - started) / checks - baseline
            line = f"  [{engine}] {variant}: this process {here * 1e6:.0f} µs per check"
            if writer is not None and writer.pid:
                line += f", the writer process {(_cpu_of(writer.pid) - child) / checks * 1e6:.0f} µs per check"
                writer.close()
            print(line, flush=True)
            trail.close()
            publisher.close()


def main() -> None:
    seconds = float(os.environ.get("BENCH_WRITER_SECONDS", "10"))
    for engine in engines():
        run(engine, seconds)


if __name__ == "__main__":
    main()
