"""Fixtures: the app on each engine's fresh database, a world of personas (tests/support/identity.py)."""

from tests.support.identity import app, app_and_outbox, client, control, outbox, settings, world

__all__ = ["app", "app_and_outbox", "client", "control", "outbox", "settings", "world"]
