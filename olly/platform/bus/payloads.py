"""Finds the payload models of the catalog's event types in each domain's ``events.py``.

The platform imports no domain statically: like the model registry in ``db.py`` it loads
``olly.<domain>.events`` by name for the domains the catalog lists, when the package is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from functools import cache

from olly.kernel.events import EventPayload
from olly.platform.bus import catalog


def load_event_modules() -> list[str]:
    """Import every domain's ``events`` module that exists; return the names imported."""
    loaded = []
    for domain in catalog.DOMAINS:
        name = f"olly.{domain}.events"
        if importlib.util.find_spec(f"olly.{domain}") and importlib.util.find_spec(name):
            importlib.import_module(name)
            loaded.append(name)
    return loaded


def _subclasses(cls: type[EventPayload]) -> list[type[EventPayload]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


@cache
def payload_classes() -> dict[str, tuple[type[EventPayload], ...]]:
    """Payload models by topic, in definition order, from the domains' ``events`` modules only."""
    modules = set(load_event_modules())
    by_topic: dict[str, list[type[EventPayload]]] = {}
    for cls in _subclasses(EventPayload):
        # Only classes a domain's events module defines by name (not look-alikes made elsewhere).
        home = sys.modules.get(cls.__module__)
        if cls.__module__ in modules and "TOPIC" in vars(cls) and getattr(home, cls.__name__, None) is cls:
            by_topic.setdefault(cls.TOPIC, []).append(cls)
    return {topic: tuple(classes) for topic, classes in by_topic.items()}


def payload_for(topic: str, event_type: str) -> type[EventPayload] | None:
    for cls in payload_classes().get(topic, ()):
        if event_type in cls.event_types():
            return cls
    return None


def missing_payloads() -> dict[str, list[str]]:
    """Catalog event types with no payload model, by topic (empty when the catalog is complete)."""
    missing: dict[str, list[str]] = {}
    for spec in catalog.source_topics():
        covered = {t for cls in payload_classes().get(spec.name, ()) for t in cls.event_types()}
        gaps = [t for t in spec.event_types if t not in covered]
        if gaps:
            missing[spec.name] = gaps
    return missing
