"""Encrypted storage of raw X12 files (received and sent).

Every file goes through ``put`` / ``get`` only, so the backing store can change in one place: today
the blobs live under ``<data_dir>/edi/blobs/<tenant>/`` sealed with the tenant's PHI data key
(AES-256-GCM, associated data naming tenant and key, see ``olly.platform.crypto``); a platform
object store can replace these two functions.

A blob written inside a unit of work that then rolls back stays on disk, unreferenced and
encrypted; nothing points at it.
"""

from __future__ import annotations

import os
from pathlib import Path

from olly.kernel.errors import NotFound
from olly.kernel.ids import uuid7
from olly.platform.crypto import FieldCrypto, session_crypto
from olly.platform.db import UnitOfWork


def _crypto(uow: UnitOfWork) -> FieldCrypto:
    return session_crypto(uow.session, "stored")


def _root(uow: UnitOfWork) -> Path:
    settings = uow.session.info["database"].settings
    return Path(settings.data_dir) / "edi" / "blobs"


def _aad(tenant: object, key: str) -> bytes:
    return f"edi-blob|{tenant}|{key}".encode()


def put(uow: UnitOfWork, data: bytes, *, prefix: str) -> str:
    """Seal ``data`` and store it; returns the storage key (``prefix/yyyy/mm/<uuid>``)."""
    tenant = uow.require_tenant()
    now = uow.clock.now()
    key = f"{prefix}/{now:%Y/%m}/{uuid7()}"
    sealed = _crypto(uow).encrypt(uow.session.connection(), tenant, data, _aad(tenant, key))
    path = _root(uow) / str(tenant) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        handle.write(sealed)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return key


def get(uow: UnitOfWork, key: str) -> bytes:
    """The plain bytes of a stored blob of this tenant."""
    tenant = uow.require_tenant()
    path = _root(uow) / str(tenant) / key
    if ".." in key.split("/") or not path.is_file():
        raise NotFound("the stored file is missing")
    return _crypto(uow).decrypt(uow.session.connection(), tenant, path.read_bytes(), _aad(tenant, key))


def delete(uow: UnitOfWork, key: str) -> None:
    """Delete a stored blob of this tenant once the unit of work commits (a rollback keeps it); one
    already gone is no error."""
    tenant = uow.require_tenant()
    if ".." in key.split("/"):
        raise NotFound("the stored file is missing")
    path = _root(uow) / str(tenant) / key
    uow.after_commit(lambda: path.unlink(missing_ok=True))
