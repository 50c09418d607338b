"""Identifiers: UUIDv7 (RFC 9562) so ids sort by creation time, which keeps B-tree inserts local."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0

#: Random bytes are read from the OS this many at a time: one system call per 409 ids instead of
#: two per id. (Each call also gave up the GIL, and a busy background thread could then hold it for
#: the whole switch interval while a request waited for its id.)
_POOL_BYTES = 4096
_pool = b""
_pool_at = 0


def _random_bytes(count: int) -> bytes:
    """``count`` bytes from the OS's CSPRNG, through a buffer (call with ``_lock`` held)."""
    global _pool, _pool_at
    if _pool_at + count > len(_pool):
        _pool, _pool_at = os.urandom(_POOL_BYTES), 0
    chunk = _pool[_pool_at : _pool_at + count]
    _pool_at += count
    return chunk


def _forget_pool() -> None:
    """A forked child must not hand out its parent's remaining random bytes."""
    global _pool, _pool_at
    _pool, _pool_at = b"", 0


os.register_at_fork(after_in_child=_forget_pool)


_UUID = uuid.UUID
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown
_RAND_B_MASK = (1 << 62) - 1
_VERSION_AND_VARIANT = 0x7 << 76 | 0b10 << 62


def uuid7() -> uuid.UUID:
    """A UUIDv7, monotonic within this process.

    Layout: 48-bit Unix milliseconds, version 7, a 12-bit counter seeded randomly each new
    millisecond (RFC 9562 method 1, so ids made in one millisecond still sort in order), the
    variant, and 62 random bits.

    Made about a third faster than the obvious code (1.2 µs an id), as an 837's intake makes a
    dozen a claim: the lock is taken with ``acquire`` (``with`` makes a bound method each time), the
    random bits come straight from the pool, and the ``UUID`` gets its two attributes as
    ``UUID(int=…)`` sets them, without that constructor's argument checks (the value is in range by
    construction).
    """
    global _last_ms, _counter, _pool, _pool_at
    _lock.acquire()
    try:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = int.from_bytes(_random_bytes(2), "big") & 0x7FF  # leave headroom to count up
        else:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        counter = _counter
        if _pool_at + 8 > len(_pool):
            _pool, _pool_at = os.urandom(_POOL_BYTES), 0
        rand_b = int.from_bytes(_pool[_pool_at : _pool_at + 8], "big") & _RAND_B_MASK
        _pool_at += 8
    finally:
        _lock.release()
    made = object.__new__(_UUID)
    object.__setattr__(made, "int", (ms & 0xFFFF_FFFF_FFFF) << 80 | _VERSION_AND_VARIANT | counter << 64 | rand_b)
    object.__setattr__(made, "is_safe", _UNKNOWN_SAFETY)
    return made


def uuid_from_int(value: int) -> uuid.UUID:
    """``UUID(int=value)`` for a value known to be 128 bits, built without its argument checks (as
    ``uuid7`` builds its ids)."""
    made = object.__new__(_UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", _UNKNOWN_SAFETY)
    return made


def uuid7_time_ms(value: uuid.UUID) -> int:
    """The Unix millisecond timestamp embedded in a UUIDv7."""
    return value.int >> 80
