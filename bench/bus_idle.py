"""What an idle bus costs a process: ``python -m bench.bus_idle``.

The relay and every consumer group run in their threads (``BusRuntime.start``, as ``olly serve``
and ``olly worker`` run them) on a fresh database with nothing to do. After 5 s of settling
(registrations, first rebalances), ``BENCH_IDLE_SECONDS`` seconds (default 20) are measured: process
CPU, SQL statements, and write statements (``BEGIN IMMEDIATE`` and DML; on SQLite each write
transaction takes the single writer's turn) a second. Each database engine in turn.
"""

from __future__ import annotations

import os
import time
from typing import Any

from sqlalchemy import event

from bench._support import engines, fresh_platform
from olly.platform.bus.runtime import BusRuntime, default_registry


def idle(engine: str, seconds: float) -> None:
    with fresh_platform(engine) as platform:
        counts = {"statements": 0, "writes": 0}

        def counted(_connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
            counts["statements"] += 1
            if sql.lstrip().upper().startswith(("BEGIN IMMEDIATE", "UPDATE", "INSERT", "DELETE")):
                counts["writes"] += 1

        event.listen(platform.db.engine, "before_cursor_execute", counted)
        bus = BusRuntime(platform.db, platform.settings, default_registry(), platform.outbox, clock=platform.clock)
        bus.start()
        try:
            time.sleep(5)
            cpu, statements, writes = time.process_time(), counts["statements"], counts["writes"]
            time.sleep(seconds)
            cpu, statements, writes = (
                time.process_time() - cpu,
                counts["statements"] - statements,
                counts["writes"] - writes,
            )
        finally:
            bus.stop()
            event.remove(platform.db.engine, "before_cursor_execute", counted)
    print(
        f"  idle bus on {engine}, {len(bus.consumers)} groups and the relay: {cpu / seconds * 1000:.1f} ms CPU, "
        f"{statements / seconds:.1f} statements, {writes / seconds:.1f} writes a second"
    )


def main() -> None:
    seconds = float(os.environ.get("BENCH_IDLE_SECONDS", "20"))
    for engine in engines():
        idle(engine, seconds)


if __name__ == "__main__":
    main()
