"""The event backbone: outbox, relay, consumer groups, retries, dead letters and idempotency.

Embedded (the database is the log) by default; Kafka with ``OLLY_BUS=kafka``. See docs/event-backbone.md.
"""
