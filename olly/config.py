"""Settings from ``OLLY_*`` environment variables. The defaults need nothing installed."""

from __future__ import annotations

import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: The single tenant of the embedded default; installations serving several payers add more.
DEFAULT_TENANT_ID = uuid.UUID("00000000-0000-7000-8000-000000000001")
_USD = r"^\d+(\.\d{1,2})?$"
#: A metrics token shorter than this could be guessed within the public rate limit.
METRICS_TOKEN_MIN_LENGTH = 16


class Settings(BaseSettings):
    # An error names the setting and what is wrong, never the values given (secrets among them).
    model_config = SettingsConfigDict(env_prefix="OLLY_", extra="ignore", hide_input_in_errors=True)

    env: Literal["development", "test", "production"] = Field(
        "development", description="production refuses unsafe defaults"
    )
    data_dir: Path = Field(Path("./var"), description="where the embedded database, keys and documents live")
    database_url: str = Field(
        "sqlite:///./var/olly.db", description="SQLAlchemy URL: sqlite:///… or postgresql+psycopg://…"
    )
    database_pool_size: int = Field(10, description="PostgreSQL connection pool size per process")
    edi_interchange_qualifier: str = Field("ZZ", description="ISA05/ISA07 qualifier of this payer's X12 id")
    edi_interchange_id: str = Field("OLLY", description="this payer's X12 interchange id (ISA06 of what it sends)")
    edi_application_code: str = Field("OLLY", description="this payer's GS02/GS03 application code")
    edi_receiver_ids: str = Field(
        "", description="comma-separated ISA08 ids inbound files must name (empty: any; others get TA1 009)"
    )
    edi_inbox_interval_seconds: float = Field(30.0, description="how often the EDI inbox folder is polled")
    edi_file_retention_days: int = Field(
        2557,
        ge=0,
        description="raw X12 files (received and sent) older than this many days are deleted by the daily "
        "edi.file-retention job, their record kept (default 7 years; 0 keeps them)",
    )
    edi_payer_name: str = Field("OLLY HEALTH", description="the payer named in 835s (N1*PR)")
    edi_payer_tax_id: str = Field("000000000", description="the payer's EIN, nine digits (835 TRN03, BPR10)")
    edi_payer_address: str = Field(
        "1 PAYER WAY|HARRISBURG|PA|17101", description="the payer's address in 835s: street|city|state|postal code"
    )
    edi_payer_bank: str = Field(
        "", description="routing|account the payer's EFTs leave from (835 BPR07/09); empty: EFTs are announced only"
    )
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
    writer_process: bool = Field(
        True,
        description="`olly serve` hands allowed reads' audit records and eligibility's verified events to a "
        "writer process of its own (Linux; elsewhere, or false, threads of the server write them)",
    )
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers (OLLY_BUS=kafka)")
    kafka_session_timeout_ms: int = Field(
        10000, ge=1000, description="Kafka consumer session timeout: how soon a dead worker's partitions move"
    )
    schema_registry_url: str | None = Field(
        None, description="Confluent Schema Registry URL; when set Kafka values are Avro in the Confluent wire format"
    )
    redis_url: str | None = Field(
        None,
        description="Redis/Valkey URL: processed event ids (24 h TTL), eligibility cache and shared rate limits",
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
    bus_idle_poll_max_ms: int = Field(
        1000,
        ge=1,
        description="embedded bus: an idle relay or consumer doubles its wait up to this (woken at once in-process)",
    )
    bus_batch_size: int = Field(200, ge=1, le=5000, description="messages a consumer handles in one transaction")
    bus_relay_batch_size: int = Field(2000, ge=1, le=20000, description="outbox rows the relay moves per round")
    # -- identity and access (olly.platform.auth; see docs/security.md) ---------------------------
    session_cookie_secure: bool = Field(True, description="mark session cookies Secure (production refuses false)")
    session_idle_minutes: int = Field(
        30, ge=1, le=720, description="portal session idle timeout (members, employers, providers)"
    )
    session_idle_minutes_staff: int = Field(15, ge=1, le=120, description="portal session idle timeout for staff")
    session_absolute_hours: int = Field(12, ge=1, le=24, description="portal session absolute lifetime")
    access_token_ttl_seconds: int = Field(600, ge=60, le=3600, description="lifetime of signed bearer tokens")
    token_issuer: str = Field("olly", description="iss of the bearer tokens Olly signs")
    token_audience: str = Field("olly-api", description="aud of the bearer tokens Olly signs and accepts")
    token_signing_key: SecretStr | None = Field(
        None, description="PEM Ed25519 private key for bearer tokens; without it data_dir/keys/token-signing.json"
    )
    smtp_host: str | None = Field(
        None, description="SMTP server for password-reset e-mails; unset, reset requests send nothing"
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (587 submission, 465 implicit TLS, 25)")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls (upgrade after connecting), tls (implicit, port 465) or none (a local relay)"
    )
    smtp_username: str | None = Field(None, description="SMTP login, when the server wants one")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    mail_from: str = Field("Olly <no-reply@localhost>", description="From: of the e-mails Olly sends")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="the address members and staff open Olly at (links in e-mails)"
    )
    metrics_token: SecretStr | None = Field(
        None, description="bearer token a Prometheus scraper sends to GET /metrics; unset, /metrics answers 404"
    )
    revocation_cache_seconds: int = Field(
        30, ge=0, le=60, description="how long a disabled account's tokens may still pass (account state cache)"
    )
    password_min_length: int = Field(
        8, ge=8, le=64, description="minimum password length (members, employers, providers)"
    )
    password_min_length_staff: int = Field(15, ge=8, le=64, description="minimum password length for staff")
    argon2_memory_kib: int = Field(65536, ge=19456, description="argon2id memory per password hash (KiB)")
    argon2_time_cost: int = Field(3, ge=2, description="argon2id passes per password hash")
    lockout_threshold: int = Field(5, ge=1, le=100, description="failed sign-ins before the first lockout")
    lockout_base_seconds: int = Field(60, ge=1, description="first lockout; doubles with each further failure")
    lockout_max_seconds: int = Field(3600, ge=1, description="longest single lockout")
    login_rate_per_minute: int = Field(10, ge=1, description="sign-in attempts per client address and per account")
    password_reset_rate_per_hour: int = Field(5, ge=1, description="password-reset requests per address and account")
    public_rate_per_minute: int = Field(120, ge=1, description="requests per client address to public endpoints")
    break_glass_max_minutes: int = Field(60, ge=5, le=480, description="longest break-glass grant")
    oidc_issuer: str | None = Field(None, description="staff OpenID Connect issuer URL (Keycloak realm URL)")
    oidc_client_id: str | None = Field(None, description="this installation's client id at the OIDC provider")
    oidc_client_secret: SecretStr | None = Field(None, description="client secret at the OIDC provider")
    oidc_redirect_uri: str | None = Field(
        None, description="https://…/auth/oidc/callback as registered at the provider"
    )
    oidc_scopes: str = Field("openid email profile", description="scopes requested at staff sign-in")
    oidc_roles_claim: str = Field("realm_access.roles", description="dotted path of the staff roles in the ID token")
    oidc_mfa_acr_values: str = Field(
        "", description="comma-separated acr values that prove MFA at the provider (amr mfa/otp also counts)"
    )
    oidc_post_login_redirect: str = Field("/", description="where the browser goes after an OIDC sign-in")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production" and not self.session_cookie_secure:
            raise ValueError("OLLY_SESSION_COOKIE_SECURE=false is refused in production")
        token = self.metrics_token.get_secret_value() if self.metrics_token else ""
        if token and len(token) < METRICS_TOKEN_MIN_LENGTH:
            raise ValueError(f"OLLY_METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} characters")
        return self

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
