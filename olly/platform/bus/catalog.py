"""The topic catalog as code: every topic Olly publishes, its partitions, retention, producer and consumers.

Topic names follow ``{domain}.{entity}.{event}`` (lowercase, dot-separated; an underscore may appear
inside a segment, as in ``prior_auth``). Consumer groups are ``{service}-{domain}-consumer``: the
service that consumes and the domain whose topic it reads. Every topic has a dead-letter twin
``{topic}.dlq`` with the same partitions and 30 days' retention; there is no DLQ of a DLQ.

Both transports use these figures: Kafka topics are created from them, and the embedded log spreads
keys over the same number of partitions and prunes rows after the same retention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from olly.kernel.errors import ConfigurationError

DAY_MS: Final = 86_400_000
DEFAULT_PARTITIONS: Final = 6
HIGH_VOLUME_PARTITIONS: Final = 12
DEFAULT_RETENTION_DAYS: Final = 7
DLQ_RETENTION_DAYS: Final = 30
DLQ_SUFFIX: Final = ".dlq"
MAX_MESSAGE_BYTES: Final = 1_048_576
COMPRESSION: Final = "lz4"
REPLICATION_FACTOR: Final = 3
MIN_INSYNC_REPLICAS: Final = 2

_TOPIC_RE: Final = re.compile(r"^[a-z]+\.[a-z][a-z_]*\.[a-z][a-z_]*$")


def consumer_group(service: str, domain: str) -> str:
    """``billing`` reading ``claims`` topics → ``billing-claims-consumer``."""
    return f"{service}-{domain}-consumer"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    retention_days: int
    producer: str
    """The service that publishes (the owning domain's service, or Olly's EDI gateway)."""
    consumers: tuple[str, ...]
    """Services that consume; each reads through its own consumer group."""
    event_types: tuple[str, ...]
    description: str
    producer_note: str = ""
    external_consumers: tuple[str, ...] = ()
    """Consumers outside Olly (a search index): listed for operators, given no consumer group here."""
    is_dlq: bool = False
    max_message_bytes: int = MAX_MESSAGE_BYTES
    extra_config: dict[str, str] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def retention_ms(self) -> int:
        return self.retention_days * DAY_MS

    @property
    def dlq(self) -> str:
        if self.is_dlq:
            raise ConfigurationError("a dead-letter topic has no dead-letter topic of its own")
        return self.name + DLQ_SUFFIX

    @property
    def consumer_groups(self) -> tuple[str, ...]:
        domain = self.name.removesuffix(DLQ_SUFFIX).split(".", 1)[0]
        return tuple(consumer_group(service, domain) for service in self.consumers)

    def kafka_config(self, brokers: int) -> dict[str, str]:
        """Topic configuration for a cluster of ``brokers`` brokers (durability settings only where it can)."""
        config = {
            "retention.ms": str(self.retention_ms),
            "compression.type": COMPRESSION,
            "max.message.bytes": str(self.max_message_bytes),
            "cleanup.policy": "delete",
        }
        if brokers >= REPLICATION_FACTOR:
            config["min.insync.replicas"] = str(MIN_INSYNC_REPLICAS)
        config.update(self.extra_config)
        return config

    @staticmethod
    def replication_factor(brokers: int) -> int:
        return max(1, min(REPLICATION_FACTOR, brokers))


def _topic(
    name: str,
    *,
    producer: str,
    consumers: tuple[str, ...],
    event_types: tuple[str, ...],
    description: str,
    partitions: int = DEFAULT_PARTITIONS,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    producer_note: str = "",
    external: tuple[str, ...] = (),
) -> TopicSpec:
    return TopicSpec(
        name=name,
        partitions=partitions,
        retention_days=retention_days,
        producer=producer,
        consumers=consumers,
        event_types=event_types,
        description=description,
        producer_note=producer_note,
        external_consumers=external,
    )


# Services: claims, eligibility, enrollment, billing, provider, edi, notifications. "Mirth Connect"
# in the seed is the EDI gateway, which Olly implements as its ``edi`` package; OpenSearch is an
# external audit/search index fed from the topics it is listed on.
_SOURCE: Final[tuple[TopicSpec, ...]] = (
    # --- claims ---------------------------------------------------------------------------------
    _topic(
        "claims.claim.submitted",
        producer="claims",
        consumers=("claims", "billing", "notifications"),
        event_types=("CLAIM_SUBMITTED",),
        description="A claim was received and accepted for adjudication.",
        partitions=HIGH_VOLUME_PARTITIONS,
        retention_days=14,
    ),
    _topic(
        "claims.claim.adjudicated",
        producer="claims",
        consumers=("billing", "notifications", "edi"),
        event_types=("CLAIM_APPROVED", "CLAIM_DENIED"),
        description="A claim was adjudicated: approved (fully or partly) or denied.",
        partitions=HIGH_VOLUME_PARTITIONS,
        retention_days=14,
    ),
    _topic(
        "claims.claim.paid",
        producer="billing",
        consumers=("notifications",),
        event_types=("CLAIM_PAID",),
        description="Payment for an adjudicated claim was issued.",
        producer_note="billing publishes; claims mirrors it for its audit history",
        external=("opensearch",),
    ),
    _topic(
        "claims.claim.reversed",
        producer="claims",
        consumers=("billing",),
        event_types=("CLAIM_REVERSED",),
        description="A paid claim was voided or replaced: its payment is to be recovered (an Olly extension).",
    ),
    _topic(
        "claims.prior_auth.decision",
        producer="claims",
        consumers=("claims", "notifications", "eligibility"),
        event_types=("PRIOR_AUTH_APPROVED", "PRIOR_AUTH_DENIED", "PRIOR_AUTH_PENDED"),
        description="A prior authorization request was decided (or pended for information).",
    ),
    _topic(
        "claims.appeal.resolved",
        producer="claims",
        consumers=("claims", "notifications", "billing"),
        event_types=("APPEAL_UPHELD", "APPEAL_OVERTURNED"),
        description="An appeal of an adverse determination was resolved.",
    ),
    _topic(
        "claims.accumulator.updated",
        producer="claims",
        consumers=("eligibility",),
        event_types=("ACCUMULATOR_UPDATED",),
        description="A member's deductible and out-of-pocket totals moved (an Olly extension: ids and amounts).",
        partitions=HIGH_VOLUME_PARTITIONS,
    ),
    # --- eligibility ----------------------------------------------------------------------------
    _topic(
        "eligibility.coverage.verified",
        producer="eligibility",
        consumers=("claims",),
        event_types=("COVERAGE_VERIFIED", "COVERAGE_NOT_FOUND"),
        description="A coverage check was answered (covered with remaining accumulators, or not found).",
    ),
    _topic(
        "eligibility.coverage.terminated",
        producer="eligibility",
        consumers=("claims", "notifications"),
        event_types=("COVERAGE_TERMINATED",),
        description="A member's coverage ended.",
    ),
    # --- enrollment -----------------------------------------------------------------------------
    _topic(
        "enrollment.enrollment.submitted",
        producer="enrollment",
        consumers=("eligibility", "claims", "billing", "notifications"),
        event_types=("ENROLLMENT_SUBMITTED",),
        description="An enrollment election was submitted (API or 834).",
    ),
    _topic(
        "enrollment.enrollment.activated",
        producer="enrollment",
        consumers=("eligibility", "claims", "billing", "notifications"),
        event_types=("ENROLLMENT_ACTIVATED",),
        description="An enrollment became active coverage.",
    ),
    _topic(
        "enrollment.enrollment.terminated",
        producer="enrollment",
        consumers=("eligibility", "claims", "billing", "notifications"),
        event_types=("ENROLLMENT_TERMINATED",),
        description="An enrollment was terminated.",
    ),
    _topic(
        "enrollment.enrollment.plan_changed",
        producer="enrollment",
        consumers=("eligibility", "claims", "billing", "notifications"),
        event_types=("PLAN_CHANGED",),
        description="An enrolled member moved to another plan or tier.",
    ),
    _topic(
        "enrollment.cobra.notice_sent",
        producer="enrollment",
        consumers=("notifications",),
        event_types=("COBRA_NOTICE_SENT",),
        description="A COBRA election notice was sent after a qualifying event.",
    ),
    _topic(
        "enrollment.cobra.elected",
        producer="enrollment",
        consumers=("eligibility", "billing", "notifications"),
        event_types=("COBRA_ELECTED",),
        description="A qualified beneficiary elected COBRA continuation coverage.",
    ),
    _topic(
        "enrollment.cobra.extended",
        producer="enrollment",
        consumers=("notifications",),
        event_types=("COBRA_EXTENDED",),
        description="A qualified beneficiary's COBRA continuation was extended (disability, second event).",
    ),
    _topic(
        "enrollment.cobra.ended",
        producer="enrollment",
        consumers=("notifications",),
        event_types=("COBRA_ENDED",),
        description="A qualified beneficiary's COBRA continuation ended early.",
    ),
    _topic(
        "enrollment.underwriting.flagged",
        producer="enrollment",
        consumers=("claims",),
        event_types=("UNDERWRITING_FLAGGED",),
        description=(
            "An underwriting finding (a declared pre-existing disease, say) was recorded on a member of an"
            " enrollment; the payload names only the ids (an Olly extension)."
        ),
    ),
    _topic(
        "enrollment.underwriting.withdrawn",
        producer="enrollment",
        consumers=("claims",),
        event_types=("UNDERWRITING_WITHDRAWN",),
        description=(
            "An underwriting finding recorded on a member of an enrollment (by mistake, say) was withdrawn"
            " and applies no more; the payload names only the ids (an Olly extension)."
        ),
    ),
    # --- billing --------------------------------------------------------------------------------
    _topic(
        "billing.invoice.generated",
        producer="billing",
        consumers=("notifications",),
        event_types=("INVOICE_GENERATED",),
        description="A premium invoice was generated for an account.",
        partitions=HIGH_VOLUME_PARTITIONS,
        retention_days=14,
    ),
    _topic(
        "billing.payment.received",
        producer="billing",
        consumers=("enrollment", "notifications"),
        event_types=("PAYMENT_RECEIVED",),
        description="A premium payment was received.",
    ),
    _topic(
        "billing.payment.missed",
        producer="billing",
        consumers=("enrollment", "notifications"),
        event_types=("PAYMENT_MISSED", "GRACE_PERIOD_STARTED", "GRACE_PERIOD_EXPIRED"),
        description="A premium payment was missed; a grace period started or expired.",
    ),
    _topic(
        "billing.payment.completed",
        producer="billing",
        consumers=("claims", "notifications", "edi"),
        event_types=("PAYMENT_COMPLETED", "PAYMENT_RUN_COMPLETED"),
        description="An outgoing payment (claim payment to a provider or member) completed.",
    ),
    _topic(
        "billing.reinstatement.paid",
        producer="billing",
        consumers=("enrollment", "notifications"),
        event_types=("REINSTATEMENT_PAID",),
        description="A policy lapsed for non-payment was paid up within its plan's reinstatement window "
        "(an Olly extension: ids and amounts).",
    ),
    # --- consent (Olly's own topics; not in seed 003) -------------------------------------------
    _topic(
        "consent.consent.recorded",
        producer="consent",
        consumers=("notifications",),
        event_types=("CONSENT_RECORDED",),
        description="A member recorded a consent (communications, app sharing, confidential communications).",
    ),
    _topic(
        "consent.consent.revoked",
        producer="consent",
        consumers=("notifications",),
        event_types=("CONSENT_REVOKED",),
        description="A member revoked a consent.",
    ),
    _topic(
        "consent.deletion_request.completed",
        producer="consent",
        consumers=(),
        event_types=("DELETION_REQUEST_COMPLETED",),
        description="A person's data was erased or pseudonymised; consumers drop their own copies.",
        retention_days=30,
    ),
    # --- provider -------------------------------------------------------------------------------
    _topic(
        "provider.credentialing.status_changed",
        producer="provider",
        consumers=("claims", "eligibility", "notifications"),
        event_types=(
            "CREDENTIALING_APPROVED",
            "CREDENTIALING_DENIED",
            "CREDENTIALING_EXPIRED",
            "CREDENTIALING_SUSPENDED",
        ),
        description="A provider's credentialing status changed.",
    ),
    _topic(
        "provider.network.updated",
        producer="provider",
        consumers=("claims", "eligibility"),
        event_types=("NETWORK_CONTRACT_ADDED", "NETWORK_CONTRACT_AMENDED", "NETWORK_CONTRACT_REMOVED"),
        description="A provider's network participation changed.",
    ),
    # --- edi ------------------------------------------------------------------------------------
    _topic(
        "edi.inbound.received",
        producer="edi",
        consumers=("claims", "enrollment", "eligibility"),
        event_types=("EDI_837_RECEIVED", "EDI_834_RECEIVED", "EDI_270_RECEIVED"),
        description="An inbound X12 interchange was received and stored (raw bytes in the object store).",
        retention_days=30,
    ),
    _topic(
        "edi.outbound.generated",
        producer="edi",
        consumers=(),
        event_types=("EDI_835_GENERATED", "EDI_834_GENERATED", "EDI_271_GENERATED"),
        description="An outbound X12 interchange was generated and stored.",
        retention_days=30,
        external=("opensearch",),
    ),
)


def _dlq_of(spec: TopicSpec) -> TopicSpec:
    return TopicSpec(
        name=spec.name + DLQ_SUFFIX,
        partitions=spec.partitions,
        retention_days=DLQ_RETENTION_DAYS,
        producer="the consumer runtime",
        consumers=(),
        event_types=(),
        description=f"Messages of {spec.name} that a consumer group could not handle.",
        is_dlq=True,
    )


#: Every topic, the dead-letter twins included, by name.
TOPICS: Final[dict[str, TopicSpec]] = {spec.name: spec for source in _SOURCE for spec in (source, _dlq_of(source))}

#: The domains that publish topics (each has an ``events.py`` with the payload models).
DOMAINS: Final[tuple[str, ...]] = tuple(dict.fromkeys(spec.domain for spec in _SOURCE))


def source_topics() -> list[TopicSpec]:
    """The catalog's topics without their dead-letter twins, in catalog order."""
    return [spec for spec in TOPICS.values() if not spec.is_dlq]


def topic(name: str) -> TopicSpec:
    try:
        return TOPICS[name]
    except KeyError:
        raise ConfigurationError(f"topic {name!r} is not in the event catalog") from None


def is_valid_topic_name(name: str) -> bool:
    return bool(_TOPIC_RE.match(name.removesuffix(DLQ_SUFFIX)))


def register_topic(spec: TopicSpec) -> None:
    """Add a topic (and its dead-letter twin) at run time: for benchmarks and tests, never for domains."""
    if not is_valid_topic_name(spec.name):
        raise ConfigurationError(f"topic name {spec.name!r} is not {{domain}}.{{entity}}.{{event}}")
    TOPICS[spec.name] = spec
    TOPICS[spec.name + DLQ_SUFFIX] = _dlq_of(spec)
