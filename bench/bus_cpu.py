"""What the event backbone itself costs a message: ``python -m bench.bus_cpu``.

On SQLite, embedded transport, one process: ``BENCH_EVENTS`` events (default 20,000) over 200 keys
are published 200 to a transaction (the unit of work and its outbox rows), then relayed and consumed
by four consumer groups whose handler does nothing, so what is measured is the platform's own work:
the fetch, the processed-id check and record, the offset compare-and-set, and each chunk's unit of
work. Prints CPU microseconds per event published and per event handled by one group (the relay's
numbering, once per event, is shared by the four). Each event has its own correlation id, as each
claim starts its own saga.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.bus.runtime import BusRuntime
from olly.platform.db import UnitOfWork

from .bus import KEYS, TOPIC, build, event, sqlite_database

EVENTS = int(os.environ.get("BENCH_EVENTS", "20000"))
GROUPS = ("cpua-claims-consumer", "cpub-claims-consumer", "cpuc-claims-consumer", "cpud-claims-consumer")
PER_TRANSACTION = 200


def nothing(_uow: UnitOfWork, _message: Message) -> None:
    """A handler that does nothing: the platform's work alone is measured."""


def main() -> None:
    with sqlite_database() as url:
        platform = build(url, Path(url.removeprefix("sqlite:///")).parent / "var")
        tenant = platform.settings.default_tenant_id
        registry = HandlerRegistry()
        for group in GROUPS:
            registry.subscribe(TOPIC, group, nothing)
        runtime = BusRuntime(platform.db, platform.settings, registry, platform.outbox)
        cpu = time.process_time()
        for start in range(0, EVENTS, PER_TRANSACTION):
            with platform.db.unit_of_work(tenant) as uow:
                for n in range(start, min(EVENTS, start + PER_TRANSACTION)):
                    uow.publish(event(n), key=f"member-{n % KEYS}")
        published = time.process_time() - cpu
        cpu = time.process_time()
        handled = runtime.drain()
        consumed = time.process_time() - cpu
        platform.close()
    assert handled == EVENTS * len(GROUPS), handled
    print(
        f"  embedded, SQLite, {EVENTS} events: publish {published / EVENTS * 1e6:.1f} µs of CPU an event; "
        f"relay + consume {consumed / handled * 1e6:.1f} µs an event a group ({len(GROUPS)} groups)"
    )


if __name__ == "__main__":
    main()
