"""What a consumer receives, and how handlers are registered per topic and consumer group."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

from olly.kernel.errors import ConfigurationError
from olly.kernel.events import EventPayload
from olly.platform.bus import catalog
from olly.platform.db import SCHEMAS, UnitOfWork

P = TypeVar("P", bound=EventPayload)

_GROUP_RE: Final = re.compile(r"^[a-z][a-z0-9_]*-([a-z][a-z0-9_]*)-consumer$")

#: Header names carried with each message (Kafka headers; columns on the embedded log).
H_EVENT_ID: Final = "olly-event-id"
H_EVENT_TYPE: Final = "olly-event-type"
H_SCHEMA_VERSION: Final = "olly-schema-version"
H_TENANT: Final = "olly-tenant-id"
H_CORRELATION: Final = "olly-correlation-id"
H_CAUSATION: Final = "olly-causation-id"
H_OCCURRED_AT: Final = "olly-occurred-at"
H_CREATED_AT: Final = "olly-created-at"
H_REDRIVE_GROUP: Final = "olly-redrive-group"
#: On a dead-letter record: the identity of the event it wraps, so a redrive can restore it.
H_ORIGINAL_EVENT_ID: Final = "olly-original-event-id"
H_ORIGINAL_EVENT_TYPE: Final = "olly-original-event-type"
H_ORIGINAL_CAUSATION: Final = "olly-original-causation-id"
H_ORIGINAL_OCCURRED_AT: Final = "olly-original-occurred-at"
H_ORIGINAL_KEY: Final = "olly-original-key"


@dataclass(frozen=True, slots=True)
class Message:
    """One delivered event: where it sits in the log, who it belongs to, and its JSON wire body."""

    topic: str
    partition: int
    offset: int
    key: str
    event_id: uuid.UUID
    event_type: str
    schema_version: str
    tenant_id: uuid.UUID | None
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    occurred_at: datetime
    created_at: datetime | None
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    redrive_group: str | None = None

    def parse(self, model: type[P]) -> P:
        """The payload as ``model`` (a pydantic ``ValidationError`` is a terminal failure: straight to the DLQ)."""
        return model.model_validate(self.payload)

    @property
    def headers_json(self) -> str | None:
        return json.dumps(self.headers, separators=(",", ":")) if self.headers else None


Handler = Callable[[UnitOfWork, Message], None]
"""Runs inside the unit of work the consumer runtime opened for this message; never commits."""


ChunkPreparer = Callable[[UnitOfWork, Sequence[Message]], Handler]
"""Reads at once, in the runtime's unit of work, what a run of messages of one partition needs (a
few set-based queries instead of a few per message) and returns the handler every one of them then
goes through, one at a time in log order, exactly as without it (same correlation, causation,
idempotency and failure handling)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    topic: str
    group: str
    handler: Handler
    prepare: ChunkPreparer | None = None

    @property
    def name(self) -> str:
        return getattr(self.handler, "__qualname__", repr(self.handler))


def validate_group(topic: str, group: str) -> None:
    """Groups are ``{service}-{domain}-consumer`` where ``domain`` owns the topic."""
    match = _GROUP_RE.match(group)
    domain = catalog.topic(topic).domain
    if match is None or match.group(1) != domain:
        raise ConfigurationError(f"consumer group {group!r} must be {{service}}-{domain}-consumer for {topic}")


class HandlerRegistry:
    """Handlers by (topic, group). A group handles each topic it subscribes to with exactly one handler."""

    def __init__(self) -> None:
        self._subscriptions: dict[tuple[str, str], Subscription] = {}

    def subscribe(
        self, topic: str, group: str, handler: Handler, *, prepare: ChunkPreparer | None = None
    ) -> Subscription:
        """``prepare`` (optional): see ``ChunkPreparer``; ``handler`` alone must give the same effect."""
        validate_group(topic, group)
        if (topic, group) in self._subscriptions:
            raise ConfigurationError(f"{group} already has a handler for {topic}")
        subscription = Subscription(topic, group, handler, prepare)
        self._subscriptions[(topic, group)] = subscription
        return subscription

    def on(self, topic: str, *, group: str) -> Callable[[Handler], Handler]:
        """Decorator form of ``subscribe``."""

        def register(handler: Handler) -> Handler:
            self.subscribe(topic, group, handler)
            return handler

        return register

    def subscriptions(self) -> list[Subscription]:
        return list(self._subscriptions.values())

    def groups(self) -> dict[str, list[Subscription]]:
        by_group: dict[str, list[Subscription]] = {}
        for subscription in self._subscriptions.values():
            by_group.setdefault(subscription.group, []).append(subscription)
        return by_group

    def get(self, topic: str, group: str) -> Subscription | None:
        return self._subscriptions.get((topic, group))

    def __len__(self) -> int:
        return len(self._subscriptions)


def discover_handlers(registry: HandlerRegistry) -> list[str]:
    """Call ``register(registry)`` of every installed domain's ``handlers`` module; return those found.

    A domain's ``handlers.py`` exposes ``def register(registry: HandlerRegistry) -> None``.
    """
    found = []
    for domain in SCHEMAS:
        name = f"olly.{domain}.handlers"
        if domain == "platform" or not importlib.util.find_spec(f"olly.{domain}"):
            continue
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        register = getattr(module, "register", None)
        if callable(register):
            register(registry)
            found.append(name)
    return found
