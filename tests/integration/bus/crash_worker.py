"""A real bus worker for the crash test: ``python -m tests.integration.bus.crash_worker``.

Settings come from the environment (OLLY_*), as for ``olly worker``; the only difference is the
handler: it counts, appending one row per application of an event to ``crash_applied``, inside the
handler's transaction. The test kills this process with SIGKILL at random moments.
"""

from __future__ import annotations

import signal
import sys

from sqlalchemy import text

from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.bus.runtime import BusRuntime
from olly.platform.db import UnitOfWork
from olly.platform.logging import configure_logging
from olly.platform.runtime import build_platform

TOPIC = "claims.claim.submitted"
GROUP = "crashtest-claims-consumer"


def count(uow: UnitOfWork, message: Message) -> None:
    claim = int(message.payload["claimId"].replace("-", ""), 16)
    uow.session.execute(
        text("INSERT INTO crash_applied (event_id, k, seq) VALUES (:event_id, :k, :seq)"),
        {"event_id": str(message.event_id), "k": message.key, "seq": claim & 0xFFFFFFFF},
    )


def main() -> None:
    platform = build_platform(create_keys=False)
    configure_logging("WARNING", "console", sys.stderr)
    registry = HandlerRegistry()
    registry.subscribe(TOPIC, GROUP, count)
    runtime = BusRuntime(platform.db, platform.settings, registry, platform.outbox)
    signal.signal(signal.SIGTERM, lambda *_: runtime.request_stop())
    runtime.start()
    print("ready", flush=True)
    runtime.wait()
    runtime.stop()


if __name__ == "__main__":
    main()
