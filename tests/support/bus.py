"""One bus member per test platform, as one worker would be, to relay and consume what is pending."""

from __future__ import annotations

from olly.platform.bus.runtime import BusRuntime, default_registry
from olly.platform.runtime import Platform

_runtimes: dict[int, BusRuntime] = {}


def drain(platform: Platform) -> int:
    """Relay and consume everything pending; return how many messages were handled."""
    runtime = _runtimes.get(id(platform))
    # id() is reused once a test's platform is gone: a cached runtime of another platform is stale.
    if runtime is None or runtime.db is not platform.db:
        runtime = _runtimes[id(platform)] = BusRuntime(
            platform.db, platform.settings, default_registry(), platform.outbox, clock=platform.clock
        )
    return runtime.drain()
