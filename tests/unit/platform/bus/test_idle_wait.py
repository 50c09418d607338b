"""An idle bus loop backs off, and a wake-up brings it back at once."""

from __future__ import annotations

import threading

from olly.platform.bus.relay import idle_wait


def test_an_idle_loop_doubles_its_wait_up_to_the_cap() -> None:
    wake = threading.Event()
    waits = [0.001]
    for _ in range(5):
        waits.append(idle_wait(wake, waits[-1], 0.001, 0.006))
    assert waits == [0.001, 0.002, 0.004, 0.006, 0.006, 0.006]


def test_a_wake_up_resets_the_wait_and_is_consumed() -> None:
    wake = threading.Event()
    wake.set()
    assert idle_wait(wake, 0.5, 0.001, 1.0) == 0.001
    assert not wake.is_set()
