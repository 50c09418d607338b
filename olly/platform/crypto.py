"""Envelope encryption of PHI fields.

* A **master key** (local key file or ``OLLY_MASTER_KEY``; an external KMS later) wraps
  **data keys**; each tenant has its own data keys, one active per purpose.
* A PHI value is sealed with AES-256-GCM under the tenant's active data key. The stored bytes are
  ``0x01 | data key id (16) | nonce (12) | ciphertext+tag``; the associated data names tenant,
  table, column and row, so a ciphertext copied to another row, column or tenant fails to open.
* Exact-match look-ups use a **blind index**: HMAC-SHA256 of the normalised value under a separate
  per-tenant key, stored beside the ciphertext.
* ``rotate_master_key`` re-wraps data keys only; ``reencrypt`` moves every value to a new data key
  in batches that each commit, so an interrupted run resumes where it stopped.

Nonces are 96 random bits per encryption. NIST SP 800-38D bounds random nonces at 2**32
encryptions per key; rotate data keys long before that (``olly keys rotate-data``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Index, LargeBinary, String, Table, and_, event, func, or_, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Dialect, RowMapping
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column, object_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator

from olly.config import Settings
from olly.kernel.clock import Clock
from olly.kernel.errors import ConfigurationError, CryptoError
from olly.kernel.ids import uuid7
from olly.platform import jsonfast
from olly.platform.db import Base, Database, table_of

FORMAT_VERSION: Final = b"\x01"
_HEADER: Final = 1 + 16 + 12
PURPOSE_PHI: Final = "phi"
PURPOSE_BLIND_INDEX: Final = "blind_index"


# ---------------------------------------------------------------------------------------------
# Master keys (KMS-style interface)
# ---------------------------------------------------------------------------------------------
class KeyProvider(Protocol):
    """What Olly needs from a key-management service: wrap and unwrap data keys under a master key.

    AWS KMS (Encrypt/Decrypt with an encryption context) or Vault/OpenBao transit implement the same
    three calls; ``context`` must be bound as associated data.
    """

    def active_key_id(self) -> str: ...

    def wrap(self, plaintext: bytes, context: bytes) -> tuple[str, bytes]: ...

    def unwrap(self, master_key_id: str, wrapped: bytes, context: bytes) -> bytes: ...


def master_key_id(key: bytes) -> str:
    return "mk-" + hashlib.sha256(b"olly-master-key-id" + key).hexdigest()[:16]


class LocalKeyProvider:
    """Master keys held by this installation: from ``OLLY_MASTER_KEY`` or a 0600 key file."""

    def __init__(self, keys: dict[str, bytes], active: str, path: Path | None = None) -> None:
        if active not in keys:
            raise ConfigurationError("the active master key is not in the key ring")
        self._keys = dict(keys)
        self._active = active
        self.path = path

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = True) -> LocalKeyProvider:
        if settings.master_key is not None:
            active_key = _decode_key(settings.master_key.get_secret_value(), "OLLY_MASTER_KEY")
            keys = {master_key_id(active_key): active_key}
            previous = settings.master_key_previous.get_secret_value() if settings.master_key_previous else ""
            for item in filter(None, (p.strip() for p in previous.split(","))):
                old = _decode_key(item, "OLLY_MASTER_KEY_PREVIOUS")
                keys[master_key_id(old)] = old
            return cls(keys, master_key_id(active_key))
        path = settings.keys_dir / "master.json"
        if not path.exists():
            if not create:
                raise ConfigurationError(f"no master key: set OLLY_MASTER_KEY or run `olly keys init` ({path})")
            return cls.create_file(path)
        return cls.load_file(path)

    @classmethod
    def create_file(cls, path: Path) -> LocalKeyProvider:
        key = AESGCM.generate_key(bit_length=256)
        provider = cls({master_key_id(key): key}, master_key_id(key), path)
        provider._save()
        return provider

    @classmethod
    def load_file(cls, path: Path) -> LocalKeyProvider:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigurationError(f"{path} must be readable by its owner only (chmod 600)")
        try:
            data = json.loads(path.read_text())
            keys = {kid: _decode_key(b64, str(path)) for kid, b64 in data["keys"].items()}
            return cls(keys, data["active"], path)
        except (KeyError, ValueError) as exc:
            raise ConfigurationError(f"{path} is not a valid key file") from exc

    def _save(self) -> None:
        if self.path is None:
            raise ConfigurationError("master keys from OLLY_MASTER_KEY are rotated by changing the variable")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        payload = {"active": self._active, "keys": {k: base64.b64encode(v).decode() for k, v in self._keys.items()}}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle)
        os.replace(tmp, self.path)

    def add_new_active_key(self) -> str:
        """Generate a new master key and make it active; older keys stay to unwrap until re-wrapped."""
        key = AESGCM.generate_key(bit_length=256)
        self._keys[master_key_id(key)] = key
        self._active = master_key_id(key)
        self._save()
        return self._active

    def active_key_id(self) -> str:
        return self._active

    def wrap(self, plaintext: bytes, context: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(12)
        return self._active, nonce + AESGCM(self._keys[self._active]).encrypt(nonce, plaintext, context)

    def unwrap(self, master_key_id: str, wrapped: bytes, context: bytes) -> bytes:
        key = self._keys.get(master_key_id)
        if key is None:
            raise ConfigurationError(f"master key {master_key_id} is not available to unwrap a data key")
        try:
            return AESGCM(key).decrypt(wrapped[:12], wrapped[12:], context)
        except InvalidTag:
            raise CryptoError("a data key failed its integrity check") from None


def _decode_key(value: str, where: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        raise ConfigurationError(f"{where} must be base64") from None
    if len(key) != 32:
        raise ConfigurationError(f"{where} must decode to 32 bytes (AES-256)")
    return key


# ---------------------------------------------------------------------------------------------
# Data keys
# ---------------------------------------------------------------------------------------------
class DataKey(Base):
    __tablename__ = "data_keys"
    __table_args__ = (
        Index(
            "uq_data_keys_one_active",
            "tenant_id",
            "purpose",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        {"schema": "platform"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    """``active`` (encrypts), ``decrypt_only`` (being rotated out) or ``retired`` (nothing uses it)."""
    master_key_id: Mapped[str] = mapped_column(String(40))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    rewrapped_at: Mapped[datetime | None]


def _wrap_context(tenant_id: uuid.UUID, purpose: str, key_id: uuid.UUID) -> bytes:
    return f"olly/datakey/v1|{tenant_id}|{purpose}|{key_id}".encode()


def row_aad(tenant_id: uuid.UUID, table: str, column: str, row_id: object) -> bytes:
    return f"{_aad_prefix(tenant_id, table, column)}{row_id}".encode()


# Remembered: formatting the tenant's UUID is most of a value's associated data, and a payment run's
# 835 opens four values a claim (measured: a third of opening a claim's sealed columns).
@functools.lru_cache(maxsize=1024)
def _aad_prefix(tenant_id: uuid.UUID, table: str, column: str) -> str:
    """``row_aad`` but the row id (the same for every row of a column)."""
    return f"olly/phi/v1|{tenant_id}|{table}.{column}|"


@dataclass(frozen=True, slots=True)
class _LoadedKey:
    id: uuid.UUID
    tenant_id: uuid.UUID
    key: bytes


class FieldCrypto:
    """Seals and opens PHI values; caches unwrapped data keys in memory (never on disk)."""

    ACTIVE_KEY_TTL_SECONDS: Final = 60.0

    def __init__(self, provider: KeyProvider, clock: Clock) -> None:
        self.provider = provider
        self.clock = clock
        self._by_id: dict[uuid.UUID, _LoadedKey] = {}
        self._by_id_bytes: dict[bytes, _LoadedKey] = {}
        """The same keys by the id's bytes as a sealed value carries them (no UUID built per value)."""
        self._aead: dict[uuid.UUID, AESGCM] = {}
        self._active: dict[tuple[uuid.UUID, str], tuple[uuid.UUID, float]] = {}
        self._lock = threading.Lock()

    # -- keys -----------------------------------------------------------------------------------
    def _load(self, connection: Connection, key_id: uuid.UUID) -> _LoadedKey:
        cached = self._by_id.get(key_id)
        if cached is not None:
            return cached
        table = table_of(DataKey)
        row = connection.execute(select(table).where(table.c.id == key_id)).mappings().first()
        if row is None:
            raise CryptoError("the data key of a protected value is missing")
        key = self.provider.unwrap(
            row["master_key_id"], row["wrapped_key"], _wrap_context(row["tenant_id"], row["purpose"], key_id)
        )
        loaded = _LoadedKey(key_id, row["tenant_id"], key)
        with self._lock:
            self._aead[key_id] = AESGCM(key)
            self._by_id[key_id] = loaded
            self._by_id_bytes[key_id.bytes] = loaded
        return loaded

    def active_key(self, connection: Connection, tenant_id: uuid.UUID, purpose: str = PURPOSE_PHI) -> _LoadedKey:
        now = self.clock.now().timestamp()
        cached = self._active.get((tenant_id, purpose))
        if cached is not None and cached[1] > now:
            return self._load(connection, cached[0])
        table = table_of(DataKey)
        key_id = connection.execute(
            select(table.c.id).where(
                table.c.tenant_id == tenant_id, table.c.purpose == purpose, table.c.status == "active"
            )
        ).scalar_one_or_none()
        if key_id is None:
            key_id = self._create_key(connection, tenant_id, purpose, status="active")
        with self._lock:
            self._active[(tenant_id, purpose)] = (key_id, now + self.ACTIVE_KEY_TTL_SECONDS)
        return self._load(connection, key_id)

    def _create_key(self, connection: Connection, tenant_id: uuid.UUID, purpose: str, status: str) -> uuid.UUID:
        key_id = uuid7()
        master_id, wrapped = self.provider.wrap(
            AESGCM.generate_key(bit_length=256), _wrap_context(tenant_id, purpose, key_id)
        )
        connection.execute(
            table_of(DataKey)
            .insert()
            .values(
                id=key_id,
                tenant_id=tenant_id,
                purpose=purpose,
                status=status,
                master_key_id=master_id,
                wrapped_key=wrapped,
                created_at=self.clock.now(),
                rewrapped_at=None,
            )
        )
        return key_id

    def ensure_tenant_keys(self, connection: Connection, tenant_id: uuid.UUID) -> None:
        self.active_key(connection, tenant_id, PURPOSE_PHI)
        self.active_key(connection, tenant_id, PURPOSE_BLIND_INDEX)

    def forget_cached_keys(self) -> None:
        with self._lock:
            self._by_id.clear()
            self._by_id_bytes.clear()
            self._aead.clear()
            self._active.clear()

    # -- values ---------------------------------------------------------------------------------
    def encrypt(self, connection: Connection, tenant_id: uuid.UUID, plaintext: bytes, aad: bytes) -> bytes:
        key = self.active_key(connection, tenant_id)
        nonce = os.urandom(12)
        return FORMAT_VERSION + key.id.bytes + nonce + self._aead[key.id].encrypt(nonce, plaintext, aad)

    def sealer(self, connection: Connection, tenant_id: uuid.UUID) -> Callable[[bytes, bytes], bytes]:
        """``encrypt`` under the tenant's data key active now, looked up once: for the values of
        rows written together (see ``row_sealer``)."""
        key = self.active_key(connection, tenant_id)
        head = FORMAT_VERSION + key.id.bytes
        encrypt = self._aead[key.id].encrypt
        urandom = os.urandom

        def seal(plaintext: bytes, aad: bytes) -> bytes:
            nonce = urandom(12)
            return head + nonce + encrypt(nonce, plaintext, aad)

        return seal

    def decrypt(self, connection: Connection, tenant_id: uuid.UUID, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < _HEADER + 16 or blob[:1] != FORMAT_VERSION:
            raise CryptoError("a protected value is malformed")
        key_id = bytes(blob[1:17])
        key = self._by_id_bytes.get(key_id) or self._load(connection, uuid.UUID(bytes=key_id))
        if key.tenant_id != tenant_id:
            raise CryptoError("a protected value belongs to another tenant")
        try:
            return self._aead[key.id].decrypt(bytes(blob[17:_HEADER]), bytes(blob[_HEADER:]), aad)
        except InvalidTag:
            raise CryptoError("a protected value failed its integrity check") from None

    def blind_index(self, connection: Connection, tenant_id: uuid.UUID, label: str, normalised: str) -> bytes:
        key = self.active_key(connection, tenant_id, PURPOSE_BLIND_INDEX)
        return hmac.new(key.key, label.encode() + b"\x00" + normalised.encode(), hashlib.sha256).digest()


def key_id_of(blob: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=bytes(blob[1:17]))


# ---------------------------------------------------------------------------------------------
# PHI columns
# ---------------------------------------------------------------------------------------------
class PlaintextPHIError(CryptoError):
    title = "A PHI value reached the database unencrypted"
    code = "plaintext_phi"


_Codec = tuple[Callable[[Any], bytes], Callable[[bytes], Any]]
_CODECS: Final[dict[str, _Codec]] = {
    "text": (lambda v: str(v).encode(), lambda b: b.decode()),
    "date": (lambda v: v.isoformat().encode(), lambda b: date.fromisoformat(b.decode())),
    "json": (
        lambda v: jsonfast.dumps(v, sort_keys=True),
        jsonfast.loads,
    ),
}


class PHIType(TypeDecorator[bytes]):
    """Column type of a PHI field. Values are sealed and opened by the ORM events below; a plain
    value reaching this type (a Core insert, say) is refused rather than stored in the clear."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, codec: str = "text") -> None:
        if codec not in _CODECS:
            raise ValueError(f"unknown PHI codec {codec}")
        self.codec = codec
        super().__init__()

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)) and bytes(value[:1]) == FORMAT_VERSION:
            return bytes(value)
        raise PlaintextPHIError("a PHI value was written outside the ORM's encryption")


def phi_column(codec: str = "text", *, nullable: bool = True) -> Any:
    """A PHI field: the attribute holds the plain value, the column holds the sealed bytes."""
    return mapped_column(PHIType(codec), nullable=nullable)


NORMALISERS: Final[dict[str, Callable[[Any], str]]] = {
    "exact": lambda v: str(v),
    "casefold": lambda v: " ".join(str(v).split()).casefold(),
    "digits": lambda v: "".join(ch for ch in str(v) if ch.isdigit()),
    "alnum": lambda v: "".join(ch for ch in str(v) if ch.isalnum()).upper(),
    "date": lambda v: v.isoformat() if isinstance(v, date) else str(v),
}


def blind_index_column(source: str, normaliser: str = "exact") -> Any:
    """HMAC of the PHI attribute ``source`` for exact-match search; filled in on every write."""
    if normaliser not in NORMALISERS:
        raise ValueError(f"unknown normaliser {normaliser}")
    return mapped_column(
        LargeBinary(32), nullable=True, index=True, info={"blind_index_of": source, "normaliser": normaliser}
    )


@dataclass(frozen=True, slots=True)
class _PHIField:
    key: str
    column: str
    codec: str


@dataclass(frozen=True, slots=True)
class _BlindField:
    key: str
    source: str
    normaliser: str


@dataclass(frozen=True, slots=True)
class _PHIPlan:
    table: str
    fields: tuple[_PHIField, ...]
    indexes: tuple[_BlindField, ...]


_plans: dict[Mapper[Any], _PHIPlan] = {}


def _plan(mapper: Mapper[Any]) -> _PHIPlan:
    plan = _plans.get(mapper)
    if plan is None:
        fields, indexes = [], []
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if isinstance(column.type, PHIType):
                fields.append(_PHIField(prop.key, column.name, column.type.codec))
            elif "blind_index_of" in column.info:
                indexes.append(_BlindField(prop.key, column.info["blind_index_of"], column.info["normaliser"]))
        if fields and "tenant_id" not in mapper.columns:
            raise ConfigurationError(f"{mapper.class_.__name__} holds PHI and must be TenantScoped")
        plan = _PHIPlan(mapper.local_table.name, tuple(fields), tuple(indexes))  # type: ignore[attr-defined]
        _plans[mapper] = plan
    return plan


def blind_index_label(table: str, source: str) -> str:
    return f"{table}.{source}"


def session_crypto(session: Session | None, done: str = "written") -> FieldCrypto:
    """The field encryption of ``session`` (its database's); PHI ``done`` without one is refused."""
    crypto = session.info.get("crypto") if session is not None else None
    if not isinstance(crypto, FieldCrypto):
        raise ConfigurationError(f"PHI was {done} without field encryption configured")
    return crypto


def _crypto_for(target: Any) -> FieldCrypto:
    return session_crypto(object_session(target))


def _seal(mapper: Mapper[Any], connection: Connection, target: Any, *, only_changed: bool) -> None:
    plan = _plan(mapper)
    if not plan.fields:
        return
    if getattr(target, "id", None) is None:
        target.id = uuid7()
    crypto = _crypto_for(target)
    state = sa_inspect(target)
    plain: dict[str, Any] = {}
    for field in plan.fields:
        if only_changed and not state.attrs[field.key].history.has_changes():
            continue
        value = getattr(target, field.key)
        if value is None or isinstance(value, (bytes, bytearray)):
            continue
        plain[field.key] = value
        encode = _CODECS[field.codec][0]
        aad = row_aad(target.tenant_id, plan.table, field.column, target.id)
        setattr(target, field.key, crypto.encrypt(connection, target.tenant_id, encode(value), aad))
    for index in plan.indexes:
        if index.source not in plain and only_changed:
            continue
        source = plain.get(index.source)
        digest = None
        if source is not None:
            normalised = NORMALISERS[index.normaliser](source)
            digest = crypto.blind_index(
                connection, target.tenant_id, blind_index_label(plan.table, index.source), normalised
            )
        setattr(target, index.key, digest)
    if plain:
        target.__dict__["_olly_phi_plain"] = plain


def _restore(target: Any) -> None:
    plain = target.__dict__.pop("_olly_phi_plain", None)
    for key, value in (plain or {}).items():
        set_committed_value(target, key, value)


def _open(target: Any, connection: Connection, keys: Iterable[str] | None = None) -> None:
    mapper = sa_inspect(target).mapper
    plan = _plan(mapper)
    wanted = set(keys) if keys is not None else None
    for field in plan.fields:
        if wanted is not None and field.key not in wanted:
            continue
        value = target.__dict__.get(field.key)
        if isinstance(value, (bytes, bytearray, memoryview)):
            crypto = _crypto_for(target)
            aad = row_aad(target.tenant_id, plan.table, field.column, target.id)
            opened = crypto.decrypt(connection, target.tenant_id, bytes(value), aad)
            set_committed_value(target, field.key, _CODECS[field.codec][1](opened))


@event.listens_for(Base, "before_insert", propagate=True)
def _before_insert(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _seal(mapper, connection, target, only_changed=False)


@event.listens_for(Base, "before_update", propagate=True)
def _before_update(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _seal(mapper, connection, target, only_changed=True)


@event.listens_for(Base, "after_insert", propagate=True)
def _after_insert(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    _restore(target)


@event.listens_for(Base, "after_update", propagate=True)
def _after_update(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    _restore(target)


@event.listens_for(Base, "load", propagate=True)
def _on_load(target: Any, context: Any) -> None:
    if _plan(type(target).__mapper__).fields:
        _open(target, context.session.connection())


@event.listens_for(Base, "refresh", propagate=True)
def _on_refresh(target: Any, context: Any, attrs: Iterable[str] | None) -> None:
    if _plan(type(target).__mapper__).fields:
        _open(target, context.session.connection(), attrs)


_TABLE_PHI: dict[Table, tuple[tuple[str, str], ...]] = {}


def _phi_fields(table: Table) -> tuple[tuple[str, str], ...]:
    """Each PHI column of ``table`` with its codec (cached per table); tables with blind indexes are
    refused: their digests follow attribute changes."""
    fields = _TABLE_PHI.get(table)
    if fields is None:
        if any("blind_index_of" in column.info for column in table.columns):
            raise ConfigurationError(f"{table.name} has blind indexes: write it through the ORM")
        fields = tuple((c.name, c.type.codec) for c in table.columns if isinstance(c.type, PHIType))
        _TABLE_PHI[table] = fields
    return fields


def seal_row(
    crypto: FieldCrypto, connection: Connection, table: Table, tenant_id: uuid.UUID, values: dict[str, Any]
) -> dict[str, Any]:
    """One row's values (column name → plain value, ``id`` included) for a Core insert or update of
    ``table``, its PHI columns sealed as the ORM's events seal a mapped object's (same codec, same
    associated data). Tables with blind indexes are refused: their digests follow attribute changes."""
    fields = _phi_fields(table)
    sealed = values
    for column, codec in fields:
        value = values.get(column)
        if value is None or isinstance(value, (bytes, bytearray)):
            continue
        if sealed is values:
            sealed = dict(values)
        aad = row_aad(tenant_id, table.name, column, values["id"])
        sealed[column] = crypto.encrypt(connection, tenant_id, _CODECS[codec][0](value), aad)
    return sealed


def row_sealer(
    crypto: FieldCrypto, connection: Connection, table: Table, tenant_id: uuid.UUID
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``seal_row`` for the rows of ``table`` written together (a chunk of an 837's claims): the
    table's PHI columns, each column's associated data but the row id, and the tenant's active data
    key are looked up once instead of for every value. The values are sealed as ``seal_row`` seals
    them (same codec, same associated data, a fresh nonce each)."""
    fields = _phi_fields(table)
    if not fields:
        return _unchanged
    seal = crypto.sealer(connection, tenant_id)
    plan = tuple((column, _CODECS[codec][0], _aad_prefix(tenant_id, table.name, column)) for column, codec in fields)

    def sealed_row(values: dict[str, Any]) -> dict[str, Any]:
        sealed = values
        for column, encode, prefix in plan:
            value = values.get(column)
            if value is None or isinstance(value, (bytes, bytearray)):
                continue
            if sealed is values:
                sealed = dict(values)
            sealed[column] = seal(encode(value), f"{prefix}{values['id']}".encode())
        return sealed

    return sealed_row


def _unchanged(values: dict[str, Any]) -> dict[str, Any]:
    return values


_TABLE_DECODERS: dict[Table, tuple[tuple[str, Callable[[bytes], Any]], ...]] = {}


def _decoders(table: Table) -> tuple[tuple[str, Callable[[bytes], Any]], ...]:
    """Each PHI column of ``table`` with the decoder of its codec (cached per table)."""
    fields = _TABLE_DECODERS.get(table)
    if fields is None:
        fields = tuple((c.name, _CODECS[c.type.codec][1]) for c in table.columns if isinstance(c.type, PHIType))
        _TABLE_DECODERS[table] = fields
    return fields


def open_row(
    crypto: FieldCrypto,
    connection: Connection,
    table: Table,
    tenant_id: uuid.UUID,
    values: Mapping[str, Any] | RowMapping,
) -> dict[str, Any]:
    """``seal_row`` undone: the plain value of each PHI column of ``table`` among ``values`` (one row
    of ``tenant_id``'s as a Core select read it, by column name, ``id`` included), opened as the ORM's
    load event opens a mapped object's (same codec, same associated data). A PHI column the select
    left out is neither read nor decrypted."""
    opened = {}
    for column, decode in _decoders(table):
        if column not in values:
            continue
        value = values[column]
        if isinstance(value, (bytes, bytearray, memoryview)):
            aad = row_aad(tenant_id, table.name, column, values["id"])
            value = decode(crypto.decrypt(connection, tenant_id, bytes(value), aad))
        opened[column] = value
    return opened


def column_opener(
    crypto: FieldCrypto, connection: Connection, table: Table, tenant_id: uuid.UUID, column: str
) -> Callable[[object, Any], Any]:
    """``open_row`` of one PHI column of ``table`` for many rows read together: ``opened(row id,
    stored value)`` is the plain value (a value not sealed is given back as it is), the codec and
    the associated data but the row id looked up once instead of for every row."""
    decode = dict(_decoders(table))[column]
    prefix = _aad_prefix(tenant_id, table.name, column)
    decrypt = crypto.decrypt

    def opened(row_id: object, value: Any) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return decode(decrypt(connection, tenant_id, bytes(value), f"{prefix}{row_id}".encode()))
        return value

    return opened


def open_rows(
    crypto: FieldCrypto, connection: Connection, table: Table, tenant_id: uuid.UUID, rows: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Rows read by a Core select of ``table`` (column name → stored value, ``id`` included), each
    as a new dict with its PHI columns opened as the ORM's load event opens a mapped object's (same
    codec, same associated data). Only the columns selected are opened: a select names the PHI
    columns its reader uses."""
    fields = _decoders(table)
    prefixes = {column: _aad_prefix(tenant_id, table.name, column) for column, _ in fields}
    opened = []
    for row in rows:
        values = dict(row)
        for column, decode in fields:
            blob = values.get(column)
            if blob is not None:
                aad = f"{prefixes[column]}{values['id']}".encode()
                values[column] = decode(crypto.decrypt(connection, tenant_id, bytes(blob), aad))
        opened.append(values)
    return opened


def phi_tables() -> list[tuple[Table, tuple[_PHIField, ...]]]:
    """Every mapped table holding PHI, with its PHI columns (for re-encryption)."""
    found = []
    for mapper in Base.registry.mappers:
        plan = _plan(mapper)
        if plan.fields:
            found.append((mapper.local_table, plan.fields))
    return found  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Rotation
# ---------------------------------------------------------------------------------------------
def rotate_master_key(db: Database, provider: KeyProvider, crypto: FieldCrypto) -> int:
    """Re-wrap every data key under the provider's active master key; data is not touched."""
    table = table_of(DataKey)
    active = provider.active_key_id()
    moved = 0
    with db.connect() as connection:
        rows = connection.execute(select(table).where(table.c.master_key_id != active)).mappings().all()
        for row in rows:
            context = _wrap_context(row["tenant_id"], row["purpose"], row["id"])
            key = provider.unwrap(row["master_key_id"], row["wrapped_key"], context)
            new_master, wrapped = provider.wrap(key, context)
            connection.execute(
                update(table)
                .where(table.c.id == row["id"])
                .values(master_key_id=new_master, wrapped_key=wrapped, rewrapped_at=crypto.clock.now())
            )
            moved += 1
    crypto.forget_cached_keys()
    return moved


def start_data_key_rotation(db: Database, crypto: FieldCrypto) -> int:
    """Give every tenant a new active PHI data key; the previous one becomes decrypt-only."""
    table = table_of(DataKey)
    started = 0
    with db.connect() as connection:
        tenants = connection.execute(select(table.c.tenant_id).distinct()).scalars().all()
        for tenant_id in tenants:
            connection.execute(
                update(table)
                .where(table.c.tenant_id == tenant_id, table.c.purpose == PURPOSE_PHI, table.c.status == "active")
                .values(status="decrypt_only")
            )
            crypto._create_key(connection, tenant_id, PURPOSE_PHI, status="active")
            started += 1
    crypto.forget_cached_keys()
    return started


def reencrypt(
    db: Database,
    crypto: FieldCrypto,
    *,
    batch_size: int = 500,
    on_batch: Callable[[str, int], None] | None = None,
) -> int:
    """Re-seal every PHI value that is not under its tenant's active data key.

    Each batch commits on its own, and a value already under the active key is skipped, so the
    command can be interrupted and run again. When nothing references a decrypt-only key any more
    it is marked retired.
    """
    keys = table_of(DataKey)
    done = 0
    with db.connect() as connection:
        active = {
            row.tenant_id: row.id
            for row in connection.execute(
                select(keys.c.tenant_id, keys.c.id).where(keys.c.purpose == PURPOSE_PHI, keys.c.status == "active")
            )
        }
    for table, fields in phi_tables():
        for tenant_id, key_id in active.items():
            stale = or_(
                *[
                    and_(table.c[f.column].is_not(None), func.substr(table.c[f.column], 2, 16) != key_id.bytes)
                    for f in fields
                ]
            )
            while True:
                with db.connect() as connection:
                    rows = connection.execute(
                        select(table.c.id, *[table.c[f.column] for f in fields])
                        .where(table.c.tenant_id == tenant_id, stale)
                        .limit(batch_size)
                    ).all()
                    if not rows:
                        break
                    for row in rows:
                        values: dict[str, bytes] = {}
                        for field in fields:
                            blob = row._mapping[field.column]
                            if blob is None or key_id_of(blob) == key_id:
                                continue
                            aad = row_aad(tenant_id, table.name, field.column, row.id)
                            plain = crypto.decrypt(connection, tenant_id, bytes(blob), aad)
                            values[field.column] = crypto.encrypt(connection, tenant_id, plain, aad)
                        connection.execute(update(table).where(table.c.id == row.id).values(**values))
                    done += len(rows)
                if on_batch is not None:
                    on_batch(table.name, len(rows))
    _retire_unused_keys(db)
    return done


def _retire_unused_keys(db: Database) -> None:
    keys = table_of(DataKey)
    with db.connect() as connection:
        candidates = connection.execute(
            select(keys.c.id).where(keys.c.purpose == PURPOSE_PHI, keys.c.status == "decrypt_only")
        ).scalars()
        for key_id in list(candidates):
            in_use = False
            for table, fields in phi_tables():
                for field in fields:
                    column = table.c[field.column]
                    hit = connection.execute(
                        select(table.c.id).where(func.substr(column, 2, 16) == key_id.bytes).limit(1)
                    ).first()
                    if hit is not None:
                        in_use = True
                        break
                if in_use:
                    break
            if not in_use:
                connection.execute(update(keys).where(keys.c.id == key_id).values(status="retired"))
