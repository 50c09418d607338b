"""The object store seals every object with the tenant's key; keys are opaque; S3 through a client."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update

from olly.kernel.errors import CryptoError, NotFound
from olly.platform import objectstore
from olly.platform.objectstore import FilesystemBackend, ObjectStore, PackEntry, S3Backend
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
        self.puts = 0

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> None:
        self.objects[(Bucket, Key)] = Body
        self.puts += 1

    def get_object(self, *, Bucket: str, Key: str, Range: str | None = None) -> dict[str, object]:
        if (Bucket, Key) not in self.objects:
            raise FakeS3.NoSuchKey(Key)
        body = self.objects[(Bucket, Key)]
        if Range is not None:  # "bytes=first-last", both inclusive
            first, last = (int(n) for n in Range.removeprefix("bytes=").split("-"))
            body = body[first : last + 1]

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


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _entries(platform: Platform) -> dict[str, tuple[str, int, int]]:
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        rows = uow.session.execute(select(PackEntry.object_key, PackEntry.pack_key, PackEntry.offset, PackEntry.length))
        return {row.object_key: (row.pack_key, row.offset, row.length) for row in rows}


def test_objects_put_in_one_transaction_are_written_as_one_pack(platform: Platform, tenant_id: uuid.UUID) -> None:
    root = platform.settings.data_dir / "packs-test"
    store = ObjectStore(FilesystemBackend(root))
    bodies = [f"claim {n} for a patient".encode() * (n + 1) for n in range(3)]
    with platform.db.unit_of_work(tenant_id) as uow:
        keys = [store.put(uow, "raw_claim", body) for body in bodies]
        # held until the commit, and readable in the unit of work that put them
        assert _files(root) == []
        assert store.get(uow, keys[1]) == bodies[1]
    (pack,) = _files(root)
    assert pack.relative_to(root).parts[:2] == (str(tenant_id), "packs")
    on_disk = pack.read_bytes()
    assert b"patient" not in on_disk
    entries = _entries(platform)
    pack_key = str(pack.relative_to(root))
    assert {key: entries[key][0] for key in keys} == dict.fromkeys(keys, pack_key)
    # the objects one after another, in the order put, filling the pack exactly
    places = [entries[key][1:] for key in keys]
    assert [offset for offset, _ in places] == [0, places[0][1], places[0][1] + places[1][1]]
    assert sum(length for _, length in places) == len(on_disk)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [store.get(uow, key) for key in keys] == bodies
    with platform.db.unit_of_work(OTHER_TENANT) as uow, pytest.raises(NotFound):
        store.get(uow, keys[0])

    # each object is sealed on its own: pointed at another's bytes, it does not open
    with platform.db.unit_of_work(None, all_tenants=True) as uow:
        uow.session.execute(
            update(PackEntry).where(PackEntry.object_key == keys[0]).values(offset=places[1][0], length=places[1][1])
        )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        with pytest.raises(CryptoError):
            store.get(uow, keys[0])
        assert store.get(uow, keys[2]) == bodies[2]
    # a flipped byte in one object spoils that object only
    last = places[2][0] + places[2][1] - 1
    pack.write_bytes(on_disk[:last] + bytes([on_disk[last] ^ 1]))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        with pytest.raises(CryptoError):
            store.get(uow, keys[2])
        assert store.get(uow, keys[1]) == bodies[1]


def test_a_rolled_back_transaction_leaves_no_entry(platform: Platform, tenant_id: uuid.UUID) -> None:
    root = platform.settings.data_dir / "packs-test"
    store = ObjectStore(FilesystemBackend(root))
    keys: list[str] = []
    with pytest.raises(RuntimeError), platform.db.unit_of_work(tenant_id) as uow:
        keys += [store.put(uow, "raw_claim", b"one"), store.put(uow, "raw_claim", b"two")]
        raise RuntimeError("the intake failed")
    assert _files(root) == [] and _entries(platform) == {}
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow, pytest.raises(NotFound):
        store.get(uow, keys[0])


def test_an_object_stored_again_replaces_the_packed_one(platform: Platform, tenant_id: uuid.UUID) -> None:
    root = platform.settings.data_dir / "packs-test"
    store = ObjectStore(FilesystemBackend(root))
    chosen = store.new_key(tenant_id, "eob")
    with platform.db.unit_of_work(tenant_id) as uow:
        store.put_under(uow, chosen, b"first rendering")
        other = store.put(uow, "eob", b"another claim's")
    assert set(_entries(platform)) == {chosen, other}
    with platform.db.unit_of_work(tenant_id) as uow:  # alone this time: written under its own key
        store.put_under(uow, chosen, b"second rendering")
    assert set(_entries(platform)) == {other}
    assert (root / chosen).is_file()
    with platform.db.unit_of_work(tenant_id) as uow:  # and packed again, with another
        store.put_under(uow, chosen, b"third")
        store.put_under(uow, chosen, b"third rendering")  # twice in one transaction: the last counts
        store.put(uow, "eob", b"yet another")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert store.get(uow, chosen) == b"third rendering"
        assert store.get(uow, other) == b"another claim's"


def test_large_objects_are_never_packed(
    platform: Platform, tenant_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(objectstore, "PACK_MEMBER_MAX_BYTES", 100)
    monkeypatch.setattr(objectstore, "PACK_MAX_BYTES", 150)
    root = platform.settings.data_dir / "packs-test"
    store = ObjectStore(FilesystemBackend(root))
    with platform.db.unit_of_work(tenant_id) as uow:
        big = store.put(uow, "claim_document", b"x" * 200)  # written at once, under its own key
        assert [p.relative_to(root).as_posix() for p in _files(root)] == [big]
        # sealed, each small object is over 75 bytes: two pass PACK_MAX_BYTES, and the held objects
        # are then written early, as a pack of their own
        small = [store.put(uow, "raw_claim", bytes([n]) * 40) for n in range(2)]
        assert len(_files(root)) == 2
        small += [store.put(uow, "raw_claim", bytes([n]) * 40) for n in range(2, 4)]
        assert len(_files(root)) == 3
    assert len(_files(root)) == 3
    packs = {_entries(platform)[key][0] for key in small}
    assert len(packs) == 2 and big not in _entries(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert store.get(uow, big) == b"x" * 200
        assert [store.get(uow, key) for key in small] == [bytes([n]) * 40 for n in range(4)]


def test_s3_packs_are_one_request_and_read_by_range(platform: Platform, tenant_id: uuid.UUID) -> None:
    fake = FakeS3()
    store = ObjectStore(S3Backend("olly-docs", client=fake))
    with platform.db.unit_of_work(tenant_id) as uow:
        keys = [store.put(uow, "eob", f"plan paid {n}.00".encode()) for n in range(5)]
    assert fake.puts == 1
    ((_, pack_key),) = fake.objects
    assert pack_key.startswith(f"{tenant_id}/packs/")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [store.get(uow, key) for key in keys] == [f"plan paid {n}.00".encode() for n in range(5)]


def test_an_erased_object_is_gone_from_its_pack_and_its_own_key(platform: Platform, tenant_id: uuid.UUID) -> None:
    root = platform.settings.data_dir / "packs-test"
    store = ObjectStore(FilesystemBackend(root))
    bodies = [b"bill of Jane Roe " * 4, b"bill of John Doe " * 4, b"bill of Ann Poe " * 4]
    with platform.db.unit_of_work(tenant_id) as uow:
        packed = [store.put(uow, "claim_document", body) for body in bodies]
    with platform.db.unit_of_work(tenant_id) as uow:
        alone = store.put(uow, "claim_document", b"alone")  # one object: under its own key
    (pack,) = (p for p in _files(root) if "/packs/" in p.as_posix())
    before = pack.read_bytes()
    pack_key, offset, length = _entries(platform)[packed[1]]
    with platform.db.unit_of_work(tenant_id) as uow:
        store.delete(uow, packed[1])
        store.delete(uow, alone)
        with pytest.raises(NotFound):  # gone for the unit of work that erased it
            store.get(uow, packed[1])
        assert (root / alone).is_file()  # the bytes go once the erasure has committed
    assert packed[1] not in _entries(platform) and not (root / alone).exists()
    after = pack.read_bytes()
    assert after[offset : offset + length] == bytes(length)  # overwritten in place
    assert after[:offset] == before[:offset] and after[offset + length :] == before[offset + length :]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        for key in (packed[1], alone):
            with pytest.raises(NotFound):
                store.get(uow, key)
        assert [store.get(uow, packed[0]), store.get(uow, packed[2])] == [bodies[0], bodies[2]]
    with platform.db.unit_of_work(tenant_id) as uow:
        store.delete(uow, packed[1])  # erasing again is no error
    with platform.db.unit_of_work(OTHER_TENANT) as uow, pytest.raises(NotFound):
        store.delete(uow, packed[0])  # another tenant's key is not found, and not erased
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert store.get(uow, packed[0]) == bodies[0]
    assert pack_key == str(pack.relative_to(root))


def test_an_erasure_rolled_back_erases_nothing(platform: Platform, tenant_id: uuid.UUID) -> None:
    root = platform.settings.data_dir / "packs-test"
    store = ObjectStore(FilesystemBackend(root))
    with platform.db.unit_of_work(tenant_id) as uow:
        keys = [store.put(uow, "claim_document", b"one"), store.put(uow, "claim_document", b"two")]
    with pytest.raises(RuntimeError), platform.db.unit_of_work(tenant_id) as uow:
        store.delete(uow, keys[0])
        raise RuntimeError("the deletion request failed")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [store.get(uow, key) for key in keys] == [b"one", b"two"]


def test_an_object_put_and_erased_in_one_transaction_is_never_written(platform: Platform, tenant_id: uuid.UUID) -> None:
    root = platform.settings.data_dir / "packs-test"
    store = ObjectStore(FilesystemBackend(root))
    with platform.db.unit_of_work(tenant_id) as uow:
        kept = store.put(uow, "claim_document", b"kept")
        dropped = store.put(uow, "claim_document", b"dropped")
        store.delete(uow, dropped)
    assert [p.relative_to(root).as_posix() for p in _files(root)] == [kept]
    assert _entries(platform) == {}


def test_on_s3_an_erased_packed_object_loses_its_entry(platform: Platform, tenant_id: uuid.UUID) -> None:
    fake = FakeS3()
    store = ObjectStore(S3Backend("olly-docs", client=fake))
    with platform.db.unit_of_work(tenant_id) as uow:
        keys = [store.put(uow, "eob", f"plan paid {n}.00".encode()) for n in range(3)]
    with platform.db.unit_of_work(tenant_id) as uow:
        store.delete(uow, keys[0])
    assert keys[0] not in _entries(platform) and len(fake.objects) == 1  # the pack stays, sealed
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        with pytest.raises(NotFound):
            store.get(uow, keys[0])
        assert store.get(uow, keys[1]) == b"plan paid 1.00"
