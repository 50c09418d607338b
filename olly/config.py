"""Settings from ``OLLY_*`` environment variables. The defaults need nothing installed."""

from __future__ import annotations

import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: The single tenant of the embedded default; installations serving several payers add more.
DEFAULT_TENANT_ID = uuid.UUID("00000000-0000-7000-8000-000000000001")
_USD = r"^\d+(\.\d{1,2})?$"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OLLY_", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        "development", description="production refuses unsafe defaults"
    )
    data_dir: Path = Field(Path("./var"), description="where the embedded database, keys and documents live")
    database_url: str = Field(
        "sqlite:///./var/olly.db", description="SQLAlchemy URL: sqlite:///… or postgresql+psycopg://…"
    )
    database_pool_size: int = Field(10, description="PostgreSQL connection pool size per process")
    host: str = Field("127.0.0.1", description="address `olly serve` binds")
    port: int = Field(8000, description="port `olly serve` binds")
    default_tenant_id: uuid.UUID = Field(DEFAULT_TENANT_ID, description="tenant used when a request names none")
    master_key: SecretStr | None = Field(
        None, description="base64 32-byte master key; without it a key file is created under data_dir/keys"
    )
    master_key_previous: SecretStr | None = Field(
        None, description="comma-separated base64 master keys that may still unwrap data keys during a rotation"
    )
    audit_chains: int = Field(8, ge=1, le=64, description="parallel hash chains in the audit trail")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: Literal["json", "console"] = Field("json", description="json for machines, console for people")

    # Plans: the year's regulatory dollar limits (USD) a plan document is checked against when loaded.
    plans_aca_max_oop_self_only: str = Field(
        "10600.00", pattern=_USD, description="ACA maximum out-of-pocket limit, self-only (2026: 10600.00)"
    )
    plans_aca_max_oop_family: str = Field(
        "21200.00", pattern=_USD, description="ACA maximum out-of-pocket limit, other than self-only (2026: 21200.00)"
    )
    plans_hdhp_min_deductible_self_only: str = Field(
        "1700.00", pattern=_USD, description="HSA-qualified HDHP minimum deductible, self-only (2026: 1700.00)"
    )
    plans_hdhp_min_deductible_family: str = Field(
        "3400.00", pattern=_USD, description="HSA-qualified HDHP minimum deductible, family (2026: 3400.00)"
    )
    plans_hdhp_max_oop_self_only: str = Field(
        "8500.00", pattern=_USD, description="HSA-qualified HDHP out-of-pocket maximum, self-only (2026: 8500.00)"
    )
    plans_hdhp_max_oop_family: str = Field(
        "17000.00", pattern=_USD, description="HSA-qualified HDHP out-of-pocket maximum, family (2026: 17000.00)"
    )
    # The event backbone (docs/event-backbone.md).
    bus: Literal["embedded", "kafka"] = Field(
        "embedded", description="event transport: embedded (the database is the log) or kafka"
    )
    bus_in_process: bool = Field(
        True, description="embedded bus: `olly serve` also runs the relay and every consumer in its own process"
    )
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers (OLLY_BUS=kafka)")
    kafka_session_timeout_ms: int = Field(
        10000, ge=1000, description="Kafka consumer session timeout: how soon a dead worker's partitions move"
    )
    schema_registry_url: str | None = Field(
        None, description="Confluent Schema Registry URL; when set Kafka values are Avro in the Confluent wire format"
    )
    redis_url: str | None = Field(
        None, description="Redis/Valkey URL; when set consumers keep processed event ids there (24 h TTL)"
    )
    bus_retry_delays_ms: list[int] = Field(
        [1000, 2000, 4000], description="backoff before each retry of a retryable handler failure (JSON list)"
    )
    bus_idempotency_ttl_seconds: int = Field(86400, ge=60, description="how long Redis remembers a processed id")
    bus_lease_ttl_ms: int = Field(
        10000, ge=200, description="embedded bus: a partition lease not renewed for this long may be taken over"
    )
    bus_heartbeat_ms: int = Field(2000, ge=50, description="embedded bus: how often a worker renews its leases")
    bus_poll_ms: int = Field(100, ge=1, description="how long an idle relay or consumer waits before looking again")
    bus_batch_size: int = Field(200, ge=1, le=5000, description="messages a consumer handles in one transaction")
    bus_relay_batch_size: int = Field(2000, ge=1, le=20000, description="outbox rows the relay moves per round")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    def masked(self) -> dict[str, Any]:
        """Every effective setting, with secrets and database passwords masked."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif name.endswith("_url") and isinstance(value, str) and value:
                value = _mask_url(value)
            shown[f"OLLY_{name.upper()}"] = "" if value is None else str(value)
        return shown


def _mask_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:  # not an SQLAlchemy URL (e.g. a broker list): show it without credentials
        return url.split("@")[-1]
    return parsed.render_as_string(hide_password=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
