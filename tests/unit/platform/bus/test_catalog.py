"""The catalog as code matches the seed's topics and rules; every event type has a payload model."""

from __future__ import annotations

from pathlib import Path

import pytest

from olly.kernel.errors import ConfigurationError
from olly.platform.bus import catalog, docs
from olly.platform.bus.payloads import missing_payloads, payload_classes, payload_for

ROOT = Path(__file__).resolve().parents[4]


def test_every_catalog_event_type_has_a_payload_model() -> None:
    assert missing_payloads() == {}


def test_topics_partitions_and_retention_follow_the_seed() -> None:
    expected = {
        "claims.claim.submitted": (12, 14),
        "claims.claim.adjudicated": (12, 14),
        "claims.claim.paid": (6, 7),
        "claims.claim.reversed": (6, 7),  # an Olly extension (not in the seed)
        "claims.prior_auth.decision": (6, 7),
        "claims.appeal.resolved": (6, 7),
        "claims.accumulator.updated": (12, 7),  # an Olly extension (not in the seed)
        "eligibility.coverage.verified": (6, 7),
        "eligibility.coverage.terminated": (6, 7),
        "enrollment.enrollment.submitted": (6, 7),
        "enrollment.enrollment.activated": (6, 7),
        "enrollment.enrollment.terminated": (6, 7),
        "enrollment.enrollment.plan_changed": (6, 7),
        "enrollment.cobra.notice_sent": (6, 7),
        "enrollment.cobra.elected": (6, 7),
        "enrollment.cobra.extended": (6, 7),  # an Olly extension (not in the seed)
        "enrollment.cobra.ended": (6, 7),  # an Olly extension (not in the seed)
        "enrollment.underwriting.flagged": (6, 7),  # an Olly extension (not in the seed)
        "enrollment.underwriting.withdrawn": (6, 7),  # an Olly extension (not in the seed)
        "billing.invoice.generated": (12, 14),
        "billing.payment.received": (6, 7),
        "billing.payment.missed": (6, 7),
        "billing.payment.completed": (6, 7),
        "billing.reinstatement.paid": (6, 7),  # an Olly extension (not in the seed)
        "provider.credentialing.status_changed": (6, 7),
        "provider.network.updated": (6, 7),
        "edi.inbound.received": (6, 30),
        "edi.outbound.generated": (6, 30),
        # Olly's own topics, beyond the seed's:
        "consent.consent.recorded": (6, 7),
        "consent.consent.revoked": (6, 7),
        "consent.deletion_request.completed": (6, 30),
    }
    assert {s.name: (s.partitions, s.retention_days) for s in catalog.source_topics()} == expected
    for name, (partitions, _) in expected.items():
        dlq = catalog.topic(name + ".dlq")
        assert (dlq.partitions, dlq.retention_days, dlq.is_dlq) == (partitions, 30, True)
    assert catalog.topic("claims.claim.submitted").retention_ms == 14 * 86_400_000


def test_there_is_no_dlq_of_a_dlq() -> None:
    with pytest.raises(ConfigurationError):
        _ = catalog.topic("claims.claim.submitted.dlq").dlq
    assert "claims.claim.submitted.dlq.dlq" not in catalog.TOPICS


def test_consumer_groups_are_named_service_domain_consumer() -> None:
    assert catalog.topic("claims.claim.submitted").consumer_groups == (
        "claims-claims-consumer",  # the adjudication worker
        "billing-claims-consumer",
        "notifications-claims-consumer",
    )
    assert catalog.topic("enrollment.cobra.elected").consumer_groups == (
        "eligibility-enrollment-consumer",
        "billing-enrollment-consumer",
        "notifications-enrollment-consumer",
    )


def test_kafka_topic_config_follows_the_defaults_and_the_cluster_size() -> None:
    spec = catalog.topic("edi.inbound.received")
    assert spec.kafka_config(brokers=3) == {
        "retention.ms": str(30 * 86_400_000),
        "compression.type": "lz4",
        "max.message.bytes": "1048576",
        "cleanup.policy": "delete",
        "min.insync.replicas": "2",
    }
    assert "min.insync.replicas" not in spec.kafka_config(brokers=1)
    assert (spec.replication_factor(1), spec.replication_factor(5)) == (1, 3)


def test_topic_names_are_domain_entity_event() -> None:
    for spec in catalog.TOPICS.values():
        assert catalog.is_valid_topic_name(spec.name), spec.name
    assert not catalog.is_valid_topic_name("Claims.Claim.Submitted")
    assert not catalog.is_valid_topic_name("claims.submitted")


def test_payload_models_resolve_by_topic_and_event_type() -> None:
    assert payload_for("claims.claim.adjudicated", "CLAIM_DENIED").__name__ == "ClaimDenied"
    assert payload_for("claims.claim.adjudicated", "CLAIM_APPROVED").__name__ == "ClaimApproved"
    assert payload_for("billing.payment.missed", "GRACE_PERIOD_STARTED").__name__ == "PaymentMissed"
    assert payload_for("claims.claim.adjudicated", "CLAIM_TELEPORTED") is None
    for topic, classes in payload_classes().items():
        for cls in classes:
            assert topic == cls.TOPIC
            assert set(cls.event_types()) <= set(catalog.topic(topic).event_types)


def test_the_committed_event_catalog_doc_is_current() -> None:
    committed = (ROOT / "docs" / "events.md").read_text()
    assert committed == docs.render(), "docs/events.md is stale: run `olly events docs`"


def test_every_payload_model_publishes_to_a_catalog_topic() -> None:
    """A domain that defines an event the catalog does not list could never publish it: the outbox
    refuses unknown topics at run time, so the gap must show here first."""
    import importlib
    import pkgutil

    import olly
    from olly.kernel.events import EventPayload

    for info in pkgutil.iter_modules(olly.__path__):
        if info.ispkg:
            try:
                importlib.import_module(f"olly.{info.name}.events")
            except ModuleNotFoundError:
                continue

    def subclasses(cls: type[EventPayload]) -> list[type[EventPayload]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    topics = {
        cls.TOPIC
        for cls in subclasses(EventPayload)
        if cls.__module__.startswith("olly.") and cls.__module__.endswith(".events") and "TOPIC" in vars(cls)
    }
    assert sorted(topics - set(catalog.TOPICS)) == []
