"""A small HTTP/1.1 load generator for the benchmarks (keep-alive connections, asyncio).

``fixed_rate`` is open-loop: request i is due at start + i/rate and its latency is measured from
that due time, so a slow server cannot hide its queueing (no coordinated omission).
``saturate`` is closed-loop: N connections each send the next request as soon as the last answers.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass
class LoadResult:
    sent: int
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str, extra: str = ""
) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n{extra}\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


def _header_lines(headers: Mapping[str, str] | None) -> str:
    return "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())


async def _fixed_rate(
    host: str, port: int, paths: Sequence[str], rate: float, seconds: float, extra: str = ""
) -> LoadResult:
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    opened = 0
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    total = int(rate * seconds)
    rng = random.Random(7)
    tasks = []

    async def one(due: float, path: str) -> None:
        nonlocal opened
        if idle.empty() and opened < 512:
            opened += 1
            conn = await asyncio.open_connection(host, port)
        else:
            conn = await idle.get()
        try:
            status = await _request(*conn, host, path, extra)
            latencies.append((time.perf_counter() - due) * 1000)
            counts["ok" if status == 200 else "errors"] += 1
            idle.put_nowait(conn)
        except (OSError, asyncio.IncompleteReadError):
            counts["errors"] += 1
            opened -= 1

    start = time.perf_counter() + 0.2
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(due, rng.choice(paths))))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait()[1].close()
    return LoadResult(total, counts["ok"], counts["errors"], elapsed, latencies)


async def _saturate(
    host: str, port: int, paths: Sequence[str], connections: int, seconds: float, extra: str = ""
) -> LoadResult:
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    stop_at = time.perf_counter() + seconds
    rng = random.Random(11)

    async def loop() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                status = await _request(reader, writer, host, rng.choice(paths), extra)
                latencies.append((time.perf_counter() - began) * 1000)
                counts["ok" if status == 200 else "errors"] += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    return LoadResult(counts["ok"] + counts["errors"], counts["ok"], counts["errors"], elapsed, latencies)


def fixed_rate(
    host: str,
    port: int,
    paths: Sequence[str],
    rate: float,
    seconds: float,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    return asyncio.run(_fixed_rate(host, port, paths, rate, seconds, _header_lines(headers)))


def saturate(
    host: str,
    port: int,
    paths: Sequence[str],
    connections: int,
    seconds: float,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    return asyncio.run(_saturate(host, port, paths, connections, seconds, _header_lines(headers)))


async def _post_each(
    host: str, port: int, path: str, requests: Sequence[tuple[bytes, str]], connections: int, expect: int
) -> LoadResult:
    """Send every (body, header lines) once, as JSON POSTs over ``connections`` keep-alive connections."""
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    queue = list(reversed(requests))

    async def loop() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while queue:
                body, extra = queue.pop()
                began = time.perf_counter()
                writer.write(
                    f"POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
                    + body
                )
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        await reader.readexactly(int(line.split(b":", 1)[1]))
                latencies.append((time.perf_counter() - began) * 1000)
                counts["ok" if status == expect else "errors"] += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    return LoadResult(len(requests), counts["ok"], counts["errors"], elapsed, latencies)


def post_each(
    host: str,
    port: int,
    path: str,
    requests: Sequence[tuple[bytes, Mapping[str, str]]],
    connections: int,
    expect: int = 202,
) -> LoadResult:
    """Closed loop: each request is sent exactly once; ``ok`` counts answers with status ``expect``."""
    prepared = [(body, _header_lines(headers)) for body, headers in requests]
    return asyncio.run(_post_each(host, port, path, prepared, connections, expect))
