"""Object store for raw payloads and documents: the filesystem by default, S3 when configured.

Every object is sealed before it leaves the process with the tenant's PHI data key (AES-256-GCM,
``crypto.py``'s envelope encryption); the associated data binds tenant and key, so an object copied
under another key or tenant does not open. Keys are opaque (``{tenant}/{kind}/{uuid7}``): they
name no person, claim number or file name.

* Filesystem: ``{OLLY_DATA_DIR}/objects/{key}``, written to a temporary file and renamed.
* S3: ``OLLY_OBJECT_STORE=s3`` with ``OLLY_S3_BUCKET`` (and the usual AWS environment for
  credentials and region; ``OLLY_S3_ENDPOINT_URL`` for MinIO and the like). ``boto3`` is an
  optional dependency, imported only then.

**Packs.** Objects put in one unit of work are held (sealed) until just before it commits. One
object is then written under its own key; several are written together as one *pack* object
(``{tenant}/packs/{uuid7}``: the sealed objects one after another), and each object's place in it
(pack, offset, length) is recorded in ``platform.object_pack_entries`` in the same transaction. An
837 of many claims, or a chunk of EOBs, thus costs one file (or one S3 request) instead of one per
claim: creating a file is the dearest part of storing a small object (a fraction of a millisecond
to a millisecond each on a local ext4 disk). Every object is still sealed on its own, with its own
key in the associated data, so one cannot be read as another even from the same pack. An object
larger than ``PACK_MEMBER_MAX_BYTES`` is written at once under its own key, and the held objects of
a unit of work are written early as a pack once they pass ``PACK_MAX_BYTES``. Reading an object
looks for its pack entry first and reads just its bytes (a ranged read on S3). As before, an
object is written before its transaction commits: one whose transaction rolls back is an orphan,
never a row pointing at nothing.

**Erasing.** ``delete`` (a person's document, for a deletion request) drops the object's pack entry
in the unit of work's transaction, so from its commit nothing serves the object. Once it has
committed, the object stored under its own key is deleted from the backend, and a packed object's
bytes are overwritten with zeros where the backend writes in place (the filesystem). S3 objects
cannot be changed in place: there a packed object's sealed bytes stay in their pack, unreachable
(no entry names them) and sealed with the tenant's key, until the pack itself is deleted.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from sqlalchemy import BigInteger, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from olly.config import Settings
from olly.kernel.errors import ConfigurationError, NotFound
from olly.kernel.ids import uuid7
from olly.platform.crypto import FieldCrypto
from olly.platform.db import Base, UnitOfWork, insert_rows, table_of
from olly.platform.logging import get_logger

log = get_logger("olly.objects")

_KEY_RE: Final = re.compile(r"^[0-9a-f-]{36}/[a-z_]{1,24}/[0-9a-f-]{36}$")

#: Objects larger than this (sealed) are written at once under their own key, never packed.
PACK_MEMBER_MAX_BYTES: Final = 1 << 20
#: Held objects of one unit of work are written as a pack once they pass this many bytes.
PACK_MAX_BYTES: Final = 16 << 20
#: The kind of a pack's own key.
PACK_KIND: Final = "packs"


class PackEntry(Base):
    """Where a packed object lives: its pack's key and its bytes' place in it."""

    __tablename__ = "object_pack_entries"
    __table_args__ = {"schema": "platform"}

    object_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    pack_key: Mapped[str] = mapped_column(String(120), index=True)
    offset: Mapped[int] = mapped_column(BigInteger)
    length: Mapped[int] = mapped_column(Integer)


_ENTRIES: Final = table_of(PackEntry)


class Backend(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def get_range(self, key: str, offset: int, length: int) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def erase_range(self, key: str, offset: int, length: int) -> bool:
        """Overwrite ``length`` bytes of ``key`` from ``offset`` with zeros; False where the
        backend cannot change an object in place."""
        ...


class FilesystemBackend:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: set[Path] = set()
        """Folders known to exist: an 837 stores an object per claim, and ``mkdir`` costs a few
        system calls each time (one removed since is made again on the failed open)."""

    def _path(self, key: str) -> Path:
        if not _KEY_RE.match(key):
            raise NotFound("no such object")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        tmp = path.with_suffix(".tmp")
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.exists():
            raise NotFound("no such object")
        return path.read_bytes()

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        path = self._path(key)
        try:
            with path.open("rb") as handle:
                handle.seek(offset)
                data = handle.read(length)
        except FileNotFoundError:
            raise NotFound("no such object") from None
        if len(data) != length:
            raise NotFound("no such object")
        return data

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def erase_range(self, key: str, offset: int, length: int) -> bool:
        try:
            fd = os.open(self._path(key), os.O_WRONLY)
        except FileNotFoundError:
            return True  # nothing left to erase
        try:
            os.pwrite(fd, bytes(length), offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        return True


class S3Backend:
    def __init__(self, bucket: str, endpoint_url: str | None = None, client: Any = None) -> None:
        if client is None:
            try:
                import boto3
            except ImportError:  # pragma: no cover - depends on the installation
                raise ConfigurationError("OLLY_OBJECT_STORE=s3 needs boto3 installed (pip install boto3)") from None
            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client
        self.bucket = bucket

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # botocore's NoSuchKey is generated at runtime
            if "NoSuchKey" in type(exc).__name__ or "NoSuchKey" in str(exc):
                raise NotFound("no such object") from None
            raise
        return bytes(response["Body"].read())

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}"
            )
        except Exception as exc:
            if "NoSuchKey" in type(exc).__name__ or "NoSuchKey" in str(exc):
                raise NotFound("no such object") from None
            raise
        data = bytes(response["Body"].read())
        if len(data) != length:
            raise NotFound("no such object")
        return data

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def erase_range(self, key: str, offset: int, length: int) -> bool:
        return False  # an S3 object is replaced whole, never changed in place


def _aad(tenant_id: uuid.UUID, key: str) -> bytes:
    return f"olly/object/v1|{tenant_id}|{key}".encode()


class ObjectStore:
    """Encrypted objects for one installation; the unit of work supplies the tenant's key."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @classmethod
    def from_settings(cls, settings: Settings) -> ObjectStore:
        kind = os.environ.get("OLLY_OBJECT_STORE", "filesystem")
        if kind == "s3":
            bucket = os.environ.get("OLLY_S3_BUCKET")
            if not bucket:
                raise ConfigurationError("OLLY_OBJECT_STORE=s3 needs OLLY_S3_BUCKET")
            return cls(S3Backend(bucket, os.environ.get("OLLY_S3_ENDPOINT_URL")))
        if kind != "filesystem":
            raise ConfigurationError("OLLY_OBJECT_STORE must be filesystem or s3")
        return cls(FilesystemBackend(settings.data_dir / "objects"))

    def new_key(self, tenant_id: uuid.UUID, kind: str) -> str:
        return f"{tenant_id}/{kind}/{uuid7()}"

    def put(self, uow: UnitOfWork, kind: str, data: bytes) -> str:
        """Seal ``data`` and store it under a new opaque key (written before the transaction commits:
        an object whose transaction rolls back is an orphan, never a row pointing at nothing)."""
        key = self.new_key(uow.require_tenant(), kind)
        self._hold(uow, key, data, fresh=True)
        return key

    def put_under(self, uow: UnitOfWork, key: str, data: bytes) -> None:
        """Seal ``data`` and store it under ``key``, a key of the unit of work's tenant chosen
        beforehand (a document announced before it is written); storing it again replaces it."""
        self._hold(uow, key, data, fresh=False)

    def get(self, uow: UnitOfWork, key: str) -> bytes:
        tenant_id = uow.require_tenant()
        sealed = self.sealed(uow, key)
        return _crypto(uow).decrypt(uow.session.connection(), tenant_id, sealed, _aad(tenant_id, key))

    def sealed(self, uow: UnitOfWork, key: str) -> bytes:
        """The object's bytes as stored (sealed), from its pack or under its own key: what an
        operator, or a test that nothing is kept in plaintext, sees at rest."""
        tenant_id = uow.require_tenant()
        if not key.startswith(f"{tenant_id}/"):
            raise NotFound("no such object")
        held = _held(uow, self, create=False)
        sealed = held.objects.get(key) if held is not None else None
        if sealed is None:
            place = (
                uow.session.execute(
                    select(_ENTRIES.c.pack_key, _ENTRIES.c.offset, _ENTRIES.c.length).where(
                        _ENTRIES.c.object_key == key
                    )
                ).first()
                if _KEY_RE.match(key)
                else None
            )
            if place is None:
                sealed = self.backend.get(key)
            else:
                sealed = self.backend.get_range(place.pack_key, place.offset, place.length)
        return sealed

    def delete(self, uow: UnitOfWork, key: str) -> None:
        """Erase ``key``, an object of the unit of work's tenant, with the transaction (see Erasing
        above): unreadable from the commit, its bytes removed after it. A rollback erases nothing;
        an object that is not there (or already erased) is no error."""
        tenant_id = uow.require_tenant()
        if not key.startswith(f"{tenant_id}/") or not _KEY_RE.match(key):
            raise NotFound("no such object")
        held = _held(uow, self, create=False)
        if held is not None and key in held.objects:
            held.size -= len(held.objects.pop(key))
        if held is not None:
            held.replacing.discard(key)
        connection = uow.session.connection()
        place = connection.execute(
            select(_ENTRIES.c.pack_key, _ENTRIES.c.offset, _ENTRIES.c.length).where(_ENTRIES.c.object_key == key)
        ).first()
        if place is not None:
            connection.execute(delete(_ENTRIES).where(_ENTRIES.c.object_key == key))
        packed = (place.pack_key, place.offset, place.length) if place is not None else None
        uow.after_commit(lambda: self._erase(key, packed))

    def _erase(self, key: str, packed: tuple[str, int, int] | None) -> None:
        """After the commit: the object under its own key (a packed object may have been stored so
        before it was replaced), and its bytes in its pack."""
        try:
            self.backend.delete(key)
            if packed is not None:
                self.backend.erase_range(*packed)
        except Exception as exc:  # noqa: BLE001 - the commit stands: nothing serves the object already
            log.warning("object_erase_failed", error=type(exc).__name__)

    def _hold(self, uow: UnitOfWork, key: str, data: bytes, *, fresh: bool) -> None:
        """Seal ``data`` for ``key`` and hold it until the unit of work commits (see Packs above).
        ``fresh``: a key drawn just now, which no pack entry can name yet."""
        tenant_id = uow.require_tenant()
        if not key.startswith(f"{tenant_id}/") or not _KEY_RE.match(key):
            raise NotFound("no such object")
        sealed = _crypto(uow).encrypt(uow.session.connection(), tenant_id, data, _aad(tenant_id, key))
        held = _held(uow, self, create=True)
        assert held is not None
        if len(sealed) > PACK_MEMBER_MAX_BYTES:
            held.objects.pop(key, None)
            self.backend.put(key, sealed)
            if not fresh:
                uow.session.execute(delete(_ENTRIES).where(_ENTRIES.c.object_key == key))
            return
        if key in held.objects:
            held.size -= len(held.objects.pop(key))
        held.objects[key] = sealed
        held.size += len(sealed)
        if not fresh:
            held.replacing.add(key)
        if held.size > PACK_MAX_BYTES:
            self._write_held(uow, held)

    def _write_held(self, uow: UnitOfWork, held: _Held) -> None:
        """Write what the unit of work holds: one object under its own key, several as one pack."""
        objects, replacing = held.objects, held.replacing
        held.objects, held.replacing, held.size = {}, set(), 0
        if not objects:
            return
        connection = uow.session.connection()
        if replacing:
            connection.execute(delete(_ENTRIES).where(_ENTRIES.c.object_key.in_(sorted(replacing))))
        if len(objects) == 1:
            ((key, sealed),) = objects.items()
            self.backend.put(key, sealed)
            return
        pack_key = self.new_key(uow.require_tenant(), PACK_KIND)
        rows: list[dict[str, Any]] = []
        offset = 0
        for key, sealed in objects.items():
            rows.append({"object_key": key, "pack_key": pack_key, "offset": offset, "length": len(sealed)})
            offset += len(sealed)
        self.backend.put(pack_key, b"".join(objects.values()))
        insert_rows(connection, _ENTRIES, rows)


@dataclass(slots=True)
class _Held:
    """The sealed objects a unit of work has put and not yet written, by key, in the order put."""

    objects: dict[str, bytes] = field(default_factory=dict)
    replacing: set[str] = field(default_factory=set)
    size: int = 0


def _held(uow: UnitOfWork, store: ObjectStore, *, create: bool) -> _Held | None:
    """The unit of work's held objects for ``store``; on first use, registers their writing just
    before the commit."""
    holds: dict[int, _Held] | None = uow.session.info.get("held_objects")
    if holds is None:
        if not create:
            return None
        holds = uow.session.info["held_objects"] = {}
    held = holds.get(id(store))
    if held is None and create:
        held = holds[id(store)] = _Held()
        uow.before_commit(lambda: _write_and_forget(uow, store))
    return held


def _write_and_forget(uow: UnitOfWork, store: ObjectStore) -> None:
    holds: dict[int, _Held] = uow.session.info.get("held_objects") or {}
    held = holds.pop(id(store), None)
    if held is not None:
        store._write_held(uow, held)


def _crypto(uow: UnitOfWork) -> FieldCrypto:
    crypto = uow.session.info.get("crypto")
    if not isinstance(crypto, FieldCrypto):
        raise ConfigurationError("the object store needs field encryption configured")
    return crypto


_stores: dict[Path, ObjectStore] = {}


def object_store_of(uow: UnitOfWork) -> ObjectStore:
    """The installation's object store (from the settings of the unit of work's database)."""
    installed = uow.session.info.get("object_store")
    if isinstance(installed, ObjectStore):
        return installed
    settings: Settings = uow.session.info["database"].settings
    store = _stores.get(settings.data_dir)
    if store is None:
        store = _stores[settings.data_dir] = ObjectStore.from_settings(settings)
    return store
