"""A timer worker killed mid-step loses nothing: the next run fires what was left, exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

from olly.kernel.clock import FixedClock
from olly.platform.runtime import Platform
from olly.provider import service, worker
from tests.conftest import TEST_MASTER_KEY
from tests.integration.provider import factories
from tests.integration.provider.timer_worker_script import CAPTURE_TABLE, capture_in_transaction

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 2, 2, 6, 0, tzinfo=UTC)


def _captured(platform: Platform) -> list[tuple[str, dict[str, object]]]:
    with platform.db.connect() as connection:
        rows = connection.execute(text(f"SELECT event_key, payload FROM {CAPTURE_TABLE}")).all()
    return sorted((row[0], json.loads(row[1])) for row in rows)


def _statuses(work, ids) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    with work() as uow:
        result = {}
        for provider_id in ids:
            timeline = service.credentialing_timeline(uow, provider_id)
            result[str(provider_id)] = (timeline.provider.credentialing_status, len(timeline.status_changes))
        return result


def _wait_for(marker: Path, process: subprocess.Popen[bytes], timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text(encoding="utf-8"):
            return marker.read_text(encoding="utf-8")
        if process.poll() is not None:
            raise AssertionError(f"worker exited early: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError("worker did not reach the step in time")


def test_worker_killed_mid_step_resumes_without_loss_or_duplicates(
    platform: Platform, work, clock: FixedClock, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        ids = [
            service.register_provider(uow, factories.individual(last_name=name, licence_expires_on=date(2026, 2, 1))).id
            for name in ("Adams", "Baker", "Clark")
        ]
        for provider_id in ids:
            factories.credential(uow, provider_id)
    with platform.db.connect() as connection:
        connection.execute(
            text(
                f"CREATE TABLE {CAPTURE_TABLE} (event_id VARCHAR(40) PRIMARY KEY, topic VARCHAR(200), "
                "event_key VARCHAR(64), payload TEXT)"
            )
        )

    marker = tmp_path / "worker.marker"
    env = {**os.environ, "OLLY_MASTER_KEY": TEST_MASTER_KEY}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.provider.timer_worker_script",
            platform.settings.database_url,
            str(tmp_path / "worker-var"),
            NOW.isoformat(),
            str(marker),
            "--hang-after",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert _wait_for(marker, process) == "mid-step"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    # The first batch committed; the second died before its commit and left nothing behind.
    after_kill = _statuses(work, ids)
    assert sorted(after_kill.values()) == [("APPROVED", 1), ("APPROVED", 1), ("EXPIRED", 2)]
    events = _captured(platform)
    assert [(key, payload["eventType"]) for key, payload in events] == [
        (key, "CREDENTIALING_EXPIRED") for key, (status, _n) in after_kill.items() if status == "EXPIRED"
    ]
    with work() as uow:
        timers = [
            t.status
            for provider_id in ids
            for t in service.credentialing_timeline(uow, provider_id).timers
            if t.kind == "LICENCE_EXPIRY"
        ]
    assert sorted(timers) == ["DONE", "PENDING", "PENDING"]

    # A restarted worker (here: in this process, same clock) finishes the job.
    clock.set(NOW)
    platform.db.outbox_writer = capture_in_transaction
    report = worker.drain_due_timers(platform.db, batch_size=1)
    assert (report.fired, report.status_changes) == (2, 2)
    assert worker.drain_due_timers(platform.db, batch_size=1).fired == 0
    assert sorted(_statuses(work, ids).values()) == [("EXPIRED", 2)] * 3
    final = _captured(platform)
    assert sorted(key for key, _ in final) == sorted(str(i) for i in ids)  # exactly one event per provider
    assert {payload["eventType"] for _, payload in final} == {"CREDENTIALING_EXPIRED"}
    assert {payload["changedAt"] for _, payload in final} == {"2026-02-02T06:00:00Z"}
