"""Prometheus metrics: what an operator graphs and alerts on, with no one's data in it.

``olly serve`` answers ``GET /metrics`` (the Prometheus text format) when ``OLLY_METRICS_TOKEN`` is
set, to a scraper that sends it as a bearer token; ``olly worker --metrics-port`` serves the same
bus and process figures on a port of its own, bound to the loopback address unless told otherwise.

What is exposed (every label is a route template, a method, a status, a consumer group or an
outcome: never a path with ids in it, a query string or anything a request carried):

* ``olly_http_requests_total{method,route,status}`` and ``olly_http_request_duration_seconds``
  (histogram) by route template (``/api/v1/claims/{claim_id}``); a request no route matched counts
  under ``route="unmatched"``, and a method other than the usual seven under ``method="OTHER"``.
* ``olly_bus_messages_total{outcome}`` (handled, duplicate, skipped, retried, dead_lettered),
  ``olly_bus_relayed_total`` and ``olly_bus_dead_letters_seen_total``: this process's counters.
* ``olly_bus_outbox_pending`` and ``olly_bus_consumer_lag{consumer_group}``: read from the database
  at each scrape, so any process shows the whole installation's backlog.
* ``olly_job_runs_total{job,outcome}``: periodic jobs this process ran to the end (``ran``) or that
  failed (``failed``; the job runs again at its next turn).
* The process's CPU seconds, resident memory, open files and start time (``process_*``) and the
  Python version (``python_info``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from olly.platform.bus.dispatch import METRICS
from olly.platform.db import Database
from olly.platform.logging import get_logger

log = get_logger("olly.metrics")

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
#: Where a middleware that answers before routing records the route template it served.
ROUTE_TEMPLATE: Final = "olly.route_template"
UNMATCHED: Final = "unmatched"
#: Seconds: from a cached eligibility answer (about a millisecond) to a large upload.
DURATION_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: ``BusMetrics`` counter → the ``outcome`` label of ``olly_bus_messages_total``.
_OUTCOMES: Final = {
    "handled": "handled",
    "duplicates": "duplicate",
    "skipped": "skipped",
    "retries": "retried",
    "dead_lettered": "dead_lettered",
}


class BusCollector(Collector):
    """The bus's counters of this process, and the installation's backlog read at scrape time."""

    def __init__(self, database: Callable[[], Database | None]) -> None:
        self._database = database

    def collect(self) -> Iterable[Metric]:
        counters = METRICS.snapshot()
        messages = CounterMetricFamily(
            "olly_bus_messages", "Messages this process's consumer groups finished, by outcome", labels=["outcome"]
        )
        for counter, outcome in _OUTCOMES.items():
            messages.add_metric([outcome], counters[counter])
        yield messages
        yield CounterMetricFamily(
            "olly_bus_relayed", "Outbox rows this process's relay published", value=counters["relayed"]
        )
        yield CounterMetricFamily(
            "olly_bus_dead_letters_seen",
            "Dead letters this process's monitor alerted on",
            value=counters["dead_letters_seen"],
        )
        db = self._database()
        if db is None:
            return
        from olly.platform.bus.api import backlog

        try:
            pending, lag = backlog(db)
        except Exception:  # a scrape must still answer: the counters above, without the backlog
            log.warning("bus backlog not read for metrics", exc_info=True)
            return
        yield GaugeMetricFamily("olly_bus_outbox_pending", "Outbox rows not yet relayed", value=pending)
        behind = GaugeMetricFamily(
            "olly_bus_consumer_lag", "Relayed events each consumer group has still to handle", labels=["consumer_group"]
        )
        for group, count in lag.items():
            behind.add_metric([group], count)
        yield behind


class JobCollector(Collector):
    """How often each periodic job ran to the end or failed in this process."""

    def collect(self) -> Iterable[Metric]:
        from olly.platform.jobs import JOB_COUNTS

        runs = CounterMetricFamily(
            "olly_job_runs", "Periodic job runs this process finished, by job and outcome", labels=["job", "outcome"]
        )
        for (job, outcome), count in sorted(JOB_COUNTS.snapshot().items()):
            runs.add_metric([job, outcome], count)
        yield runs


class HttpMetrics:
    """Request counts and durations by route template."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "olly_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "olly_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )

        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # The labelled children, found once per (method, route, status): a few µs less per request.
        if method not in _METHODS:  # a client chooses the method: keep the label's values bounded
            method = "OTHER"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)


def route_of(scope: Scope) -> str:
    """The template of the route that served ``scope`` (never its concrete path)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str) and template:
        return template
    answered = scope.get(ROUTE_TEMPLATE)
    return answered if isinstance(answered, str) else UNMATCHED


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (pure ASGI: sees the scope the router
    fills in)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.observe(scope.get("method", ""), route_of(scope), status, time.perf_counter() - started)


def new_registry(database: Callable[[], Database | None]) -> CollectorRegistry:
    """A registry of the bus and process collectors (each app or worker has its own: nothing global)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(BusCollector(database))
    registry.register(JobCollector())
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def serve(registry: CollectorRegistry, port: int, address: str) -> Callable[[], None]:
    """Serve ``registry`` on ``address:port`` from a thread; returns what stops it."""
    from prometheus_client import start_http_server

    server, thread = start_http_server(port, addr=address, registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
