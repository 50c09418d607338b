"""Object store for raw payloads and documents: the filesystem by default, S3 when configured.

Every object is sealed before it leaves the process with the tenant's PHI data key (AES-256-GCM,
``crypto.py``'s envelope encryption); the associated data binds tenant and key, so an object copied
under another key or tenant does not open. Keys are opaque (``{tenant}/{kind}/{uuid7}``): they
name no person, claim number or file name.

* Filesystem: ``{OLLY_DATA_DIR}/objects/{key}``, written to a temporary file and renamed.
* S3: ``OLLY_OBJECT_STORE=s3`` with ``OLLY_S3_BUCKET`` (and the usual AWS environment for
  credentials and region; ``OLLY_S3_ENDPOINT_URL`` for MinIO and the like). ``boto3`` is an
  optional dependency, imported only then.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any, Final, Protocol

from olly.config import Settings
from olly.kernel.errors import ConfigurationError, NotFound
from olly.kernel.ids import uuid7
from olly.platform.crypto import FieldCrypto
from olly.platform.db import UnitOfWork

_KEY_RE: Final = re.compile(r"^[0-9a-f-]{36}/[a-z_]{1,24}/[0-9a-f-]{36}$")


class Backend(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


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

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


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

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


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
        self.put_under(uow, key, data)
        return key

    def put_under(self, uow: UnitOfWork, key: str, data: bytes) -> None:
        """Seal ``data`` and store it under ``key``, a key of the unit of work's tenant chosen
        beforehand (a document announced before it is written); storing it again replaces it."""
        tenant_id = uow.require_tenant()
        if not key.startswith(f"{tenant_id}/"):
            raise NotFound("no such object")
        sealed = _crypto(uow).encrypt(uow.session.connection(), tenant_id, data, _aad(tenant_id, key))
        self.backend.put(key, sealed)

    def get(self, uow: UnitOfWork, key: str) -> bytes:
        tenant_id = uow.require_tenant()
        if not key.startswith(f"{tenant_id}/"):
            raise NotFound("no such object")
        sealed = self.backend.get(key)
        return _crypto(uow).decrypt(uow.session.connection(), tenant_id, sealed, _aad(tenant_id, key))


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
