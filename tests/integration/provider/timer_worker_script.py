"""A credentialing timer worker run as a separate process by ``test_timer_worker.py``.

It drains due timers one committed batch (one timer) at a time, writing each event into a capture
table inside the same transaction (as the real outbox does). With ``--hang-after N`` it stops dead
in the middle of the N-th batch, after the timer's effects are written but before the commit, and
waits to be killed.

    python -m tests.integration.provider.timer_worker_script URL DATA_DIR NOW MARKER [--hang-after N]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from olly.config import Settings
from olly.kernel.clock import FixedClock
from olly.kernel.events import OutgoingEvent
from olly.platform.db import UnitOfWork
from olly.platform.runtime import build_platform
from olly.provider import worker

CAPTURE_TABLE = "test_captured_events"


def capture_in_transaction(uow: UnitOfWork, events: list[OutgoingEvent]) -> None:
    for event in events:
        uow.session.execute(
            text(f"INSERT INTO {CAPTURE_TABLE} (event_id, topic, event_key, payload) VALUES (:i, :t, :k, :p)"),
            {"i": str(event.event_id), "t": event.topic, "k": event.key, "p": json.dumps(event.payload)},
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("data_dir")
    parser.add_argument("now")
    parser.add_argument("marker")
    parser.add_argument("--hang-after", type=int, default=0)
    args = parser.parse_args()
    platform = build_platform(
        Settings(env="test", database_url=args.url, data_dir=Path(args.data_dir)),
        FixedClock(datetime.fromisoformat(args.now)),
        create_keys=False,
    )
    platform.db.outbox_writer = capture_in_transaction
    fired = 0

    def after_each(_timer: object) -> None:
        nonlocal fired
        fired += 1
        if fired == args.hang_after:
            Path(args.marker).write_text("mid-step", encoding="utf-8")
            while True:  # effects flushed, transaction open: wait here to be killed
                time.sleep(1)

    report = worker.drain_due_timers(platform.db, batch_size=1, after_each=after_each)
    Path(args.marker).write_text(f"done {report.fired}", encoding="utf-8")


if __name__ == "__main__":
    main()
