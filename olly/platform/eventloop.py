"""Doing a little synchronous work on the event loop, and giving up at the first blocking call.

Handing a call to the thread pool costs more CPU than a decision whose facts are all cached (a
cached eligibility answer spent about a third of its CPU on that hand-off). ``on_event_loop()``
marks a synchronous attempt made on the loop: the database (``Database.unit_of_work`` and
``connect``), the Redis cache and a full batch writer refuse to run inside it and raise
``WouldBlock`` instead, so the caller drops the attempt and makes the same call in the thread pool.

The attempt must be safe to repeat from the start: whatever it did before the refused call is done
again in the thread (setting request state and filling caches are; writing is not, and every write
goes through one of the refusing calls).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_attempting: ContextVar[bool] = ContextVar("olly_on_event_loop", default=False)


class WouldBlock(Exception):
    """The attempt on the event loop reached a blocking call: make it again in the thread pool."""


@contextmanager
def on_event_loop() -> Iterator[None]:
    """Mark the enclosed synchronous code as running on the event loop."""
    token = _attempting.set(True)
    try:
        yield
    finally:
        _attempting.reset(token)


def refuse_on_event_loop(what: str) -> None:
    """Called before a blocking operation: raises ``WouldBlock`` inside ``on_event_loop()``."""
    if _attempting.get():
        raise WouldBlock(what)
