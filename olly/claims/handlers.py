"""The claims domain's consumers (the bus calls ``register``)."""

from __future__ import annotations

from olly.claims import appeal_handlers
from olly.platform.bus.messages import HandlerRegistry


def register(registry: HandlerRegistry) -> None:
    appeal_handlers.register(registry)
