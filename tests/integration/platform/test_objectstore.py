"""The object store seals every object with the tenant's key; keys are opaque; S3 through a client."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from olly.kernel.errors import CryptoError, NotFound
from olly.platform.objectstore import FilesystemBackend, ObjectStore, S3Backend
from olly.platform.runtime import Platform

OTHER_TENANT = uuid.UUID("00000000-0000-7000-8000-0000000000ff")


def test_filesystem_round_trip_is_encrypted_at_rest(platform: Platform, tenant_id: uuid.UUID) -> None:
    store = ObjectStore(FilesystemBackend(platform.settings.data_dir / "objects"))
    secret = b"%PDF-1.4 discharge summary of a patient"
    with platform.db.unit_of_work(tenant_id) as uow:
        key = store.put(uow, "claim_document", secret)
    assert key.startswith(f"{tenant_id}/claim_document/") and "patient" not in key
    on_disk = (platform.settings.data_dir / "objects" / key).read_bytes()
    assert secret not in on_disk and len(on_disk) > len(secret)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert store.get(uow, key) == secret
    # another tenant cannot name it; a tampered object does not open; an unknown key is not found
    with platform.db.unit_of_work(OTHER_TENANT) as uow, pytest.raises(NotFound):
        store.get(uow, key)
    path = platform.settings.data_dir / "objects" / key
    path.write_bytes(on_disk[:-1] + bytes([on_disk[-1] ^ 1]))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        with pytest.raises(CryptoError):
            store.get(uow, key)
        with pytest.raises(NotFound):
            store.get(uow, f"{tenant_id}/claim_document/{uuid.uuid4()}")
        with pytest.raises(NotFound):
            store.get(uow, f"{tenant_id}/../../etc/passwd")


class FakeS3:
    """The three calls the backend makes, over a dict (boto3 is optional and not installed in CI)."""

    class NoSuchKey(Exception):
        pass

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> None:
        self.objects[(Bucket, Key)] = Body

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, object]:
        if (Bucket, Key) not in self.objects:
            raise FakeS3.NoSuchKey(Key)
        body = self.objects[(Bucket, Key)]

        class _Body:
            def read(self) -> bytes:
                return body

        return {"Body": _Body()}

    def delete_object(self, *, Bucket: str, Key: str) -> None:
        self.objects.pop((Bucket, Key), None)


def test_s3_backend_stores_only_sealed_bytes(platform: Platform, tenant_id: uuid.UUID) -> None:
    fake = FakeS3()
    store = ObjectStore(S3Backend("olly-docs", client=fake))
    with platform.db.unit_of_work(tenant_id) as uow:
        key = store.put(uow, "eob", b"plan paid 75.00")
    assert list(fake.objects) == [("olly-docs", key)]
    assert b"75.00" not in fake.objects[("olly-docs", key)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert store.get(uow, key) == b"plan paid 75.00"
        with pytest.raises(NotFound):
            store.get(uow, f"{tenant_id}/eob/{uuid.uuid4()}")


def test_the_filesystem_backend_makes_a_removed_folder_again(tmp_path: Path) -> None:
    backend = FilesystemBackend(tmp_path / "objects")
    first, second = (f"{OTHER_TENANT}/raw_claim/{uuid.UUID(int=n)}" for n in (1, 2))
    backend.put(first, b"first")
    shutil.rmtree(tmp_path / "objects")  # an operator cleared the store while the process ran
    backend.put(second, b"second")
    assert backend.get(second) == b"second"
    with pytest.raises(NotFound):
        backend.get(first)
