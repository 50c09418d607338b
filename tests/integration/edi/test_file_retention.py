"""Raw X12 files past ``edi_file_retention_days`` lose their content, once a day, keeping their
record; a download then answers 410. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from olly.edi import jobs, public, service
from olly.edi.models import AuditReconciliation, EdiFile, PendingTransaction
from olly.edi.ports import Links
from olly.edi.testing import professional_claims_text, sample_remittance
from olly.kernel.clock import FixedClock
from olly.platform.runtime import Platform
from tests.integration.edi.helpers import FakeRemittances, register
from tests.integration.edi.test_834_audit import NEW_SUBSCRIBER, SUBSCRIBER_ON_HMO, _links, _setup, audit_file


def ingest(platform: Platform, tenant_id: uuid.UUID, text: str) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.ingest(uow, text.encode(), source="cli", filename="in.x12").file_id


def files(platform: Platform, tenant_id: uuid.UUID) -> list[EdiFile]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return list(uow.session.scalars(select(EdiFile).order_by(EdiFile.created_at, EdiFile.id)))


def blob(platform: Platform, tenant_id: uuid.UUID, row: EdiFile) -> Path:
    return Path(platform.settings.data_dir) / "edi" / "blobs" / str(tenant_id) / row.storage_key


def test_files_past_their_retention_lose_their_content_and_keep_their_record(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    register(platform, tenant_id, "CH", qualifier="ZZ", identifier="SUBMITTER")
    old = ingest(platform, tenant_id, professional_claims_text(1))  # the 837, its 999 and its 277CA
    kept_then = files(platform, tenant_id)
    assert len(kept_then) == 3 and all(blob(platform, tenant_id, f).is_file() for f in kept_then)
    days = platform.settings.edi_file_retention_days
    assert days == 2557  # seven years by default
    clock.advance(timedelta(days=days - 1))
    new = ingest(platform, tenant_id, professional_claims_text(1).replace("000000001", "000000002"))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.purge_files(uow) == 0  # the first file is 2,556 days old: kept
    clock.advance(timedelta(days=1, seconds=1))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert jobs.purge_old_files(uow) == 3
        assert blob(platform, tenant_id, kept_then[0]).is_file()  # the blobs go once this commits
    after = {f.id: f for f in files(platform, tenant_id)}
    assert len(after) == 6  # every record stays
    purged = [f for f in after.values() if f.purged_at is not None]
    assert sorted(f.id for f in purged) == sorted(f.id for f in kept_then)
    assert all(not blob(platform, tenant_id, f).exists() for f in purged)
    assert all(blob(platform, tenant_id, f).is_file() for f in after.values() if f.purged_at is None)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        with pytest.raises(service.FilePurged) as gone:
            service.file_content(uow, old)
        assert gone.value.status == 410 and gone.value.code == "file_purged"
        assert service.file_view(after[old])["purgedAt"] == clock.now().isoformat()
        assert service.file_content(uow, new)[1].startswith(b"ISA")
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.purge_files(uow) == 0  # nothing left to purge


def test_no_retention_keeps_every_file(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock) -> None:
    register(platform, tenant_id, "CH", qualifier="ZZ", identifier="SUBMITTER")
    ingest(platform, tenant_id, professional_claims_text(1))
    platform.settings.edi_file_retention_days = 0
    clock.advance(timedelta(days=40_000))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.purge_files(uow) == 0
    assert all(f.purged_at is None and blob(platform, tenant_id, f).is_file() for f in files(platform, tenant_id))


def test_a_purged_835_is_gone_from_the_remittance_download_too(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    register(platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier="CLINIC1")
    with platform.db.unit_of_work(tenant_id) as uow:
        (written,) = service.remit(uow, "RUN-1", Links(remittances=FakeRemittances("RUN-1", [sample_remittance()])))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = public.remittance_file(uow, written.id)
        assert found is not None and found[1].startswith(b"ISA")
    clock.advance(timedelta(days=platform.settings.edi_file_retention_days + 1))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.purge_files(uow) == 1
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow, pytest.raises(service.FilePurged):
        public.remittance_file(uow, written.id)


def test_what_was_read_out_of_a_purged_file_goes_with_it(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    """A purged file's kept transactions (here claims kept awaiting a claims intake, each a copy of a
    claim with its patient) are deleted, and its 834 reconciliations keep their counts but lose their
    findings (members by subscriber id, number and party); a newer file's stay."""
    register(platform, tenant_id, "CH", qualifier="ZZ", identifier="SUBMITTER")
    _setup(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        old_claims = service.ingest(uow, professional_claims_text(2).encode(), source="cli", links=Links()).file_id
        audit = service.ingest(
            uow, audit_file("000000002", [SUBSCRIBER_ON_HMO, NEW_SUBSCRIBER]), source="cli", links=_links()
        ).file_id
    clock.advance(timedelta(days=platform.settings.edi_file_retention_days - 1))
    with platform.db.unit_of_work(tenant_id) as uow:
        text = professional_claims_text(1).replace("000000001", "000000003")
        new_claims = service.ingest(uow, text.encode(), source="cli", links=Links()).file_id

    def kept() -> tuple[list[tuple[uuid.UUID, str]], list[tuple[uuid.UUID, list[str], int]]]:
        with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
            rows = uow.session.scalars(select(PendingTransaction).order_by(PendingTransaction.created_at))
            reconciliations = uow.session.scalars(select(AuditReconciliation))
            return (
                [(r.file_id, r.status) for r in rows],
                [
                    (r.file_id, sorted(f["kind"] for f in r.findings), r.counts["membersInFile"])
                    for r in reconciliations
                ],
            )

    awaiting = "AWAITING_CLAIMS_INTAKE"
    assert kept() == (
        [(old_claims, awaiting), (old_claims, awaiting), (new_claims, awaiting)],
        # E100 on another plan under another name, E200 not enrolled, E100's child absent from the full file
        [(audit, ["NAME_DIFFERS", "NOT_ENROLLED", "NOT_IN_FILE", "PLAN_DIFFERS"], 2)],
    )
    clock.advance(timedelta(days=2))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.purge_files(uow) >= 2  # the two old files (and what was sent in reply)
    assert kept() == ([(new_claims, awaiting)], [(audit, [], 2)])
