"""The EDI gateway on both engines: partners, stored files, duplicates, acknowledgements, 835s."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from olly.edi import service, storage
from olly.edi.claims import ClaimProblem, ClaimSubmission
from olly.edi.models import InterchangeReceipt, TransactionSetReceipt
from olly.edi.ports import AWAITING_CLAIMS_INTAKE, EdiOrigin, IntakeResult, Links
from olly.edi.repository import DatabaseControlNumbers
from olly.edi.testing import BILLING_NPI, professional_claims_text, sample_remittance
from olly.edi.writer import Party
from olly.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from olly.platform.bus.models import OutboxRecord
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform
from tests.integration.edi.helpers import FakeRemittances, files, pending, register, reply, segments
from tests.unit.edi.conftest import fixture_bytes
from tests.unit.edi.pyx12_judge import judge


def ingest(platform: Platform, tenant_id: uuid.UUID, data: bytes, links: Links | None = None) -> service.IngestResult:
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.ingest(uow, data, source="cli", filename="in.x12", links=links)


def events(platform: Platform, topic: str) -> list[dict[str, object]]:
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        rows = uow.session.scalars(
            select(OutboxRecord).where(OutboxRecord.topic == topic).order_by(OutboxRecord.id)
        ).all()
        return [json.loads(r.payload) for r in rows]


def test_the_837i_sample_is_stored_acknowledged_and_kept_for_claims_intake(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    partner = register(platform, tenant_id)
    data = fixture_bytes("two-claims-single-provider.837i")
    result = ingest(platform, tenant_id, data)
    assert (result.status, result.kind, [r.kind for r in result.replies]) == (
        "ACCEPTED",
        "837I",
        ["TA1", "999", "277CA"],
    )
    # ISA14 = 1 asks for a TA1: accepted, no note
    assert segments(reply(result, "TA1"), "TA1") == [["TA1", "000000907", "131031", "1147", "A", "000"]]
    ack = reply(result, "999")
    assert segments(ack, "IK5") == [["IK5", "A"]] and segments(ack, "AK9") == [["AK9", "A", "1", "1", "1"]]
    assert judge(ack) == []
    # the sample's claims carry ICD-9 qualifiers (BK/BF) and a billing NPI failing its check digit:
    # both rejected in the 277CA, none taken in
    claim_ack = reply(result, "277CA")
    assert judge(claim_ack) == []
    assert [s[1] for s in segments(claim_ack, "STC") if s[1].startswith("A7")] == [
        "A7:254",
        "A7:255",
        "A7:255",
        "A7:562:85",
        "A7:254",
        "A7:562:85",
    ]
    assert (result.claims_accepted, result.claims_rejected) == (0, 2)
    assert pending(platform, tenant_id) == []
    (inbound,) = files(platform, tenant_id, "IN")
    assert (inbound.partner_id, inbound.kind, inbound.status, inbound.interchange_control_number) == (
        partner,
        "837I",
        "ACCEPTED",
        "000000907",
    )
    assert (inbound.size_bytes, inbound.transaction_sets, inbound.accepted_sets) == (len(data), 1, 1)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert storage.get(uow, inbound.storage_key) == data
        (receipt,) = uow.session.scalars(select(InterchangeReceipt)).all()
        assert (receipt.sender, receipt.control_number) == ("30:000000005", "000000907")
        (set_receipt,) = uow.session.scalars(select(TransactionSetReceipt)).all()
        assert (set_receipt.group_control_number, set_receipt.set_control_number, set_receipt.accepted) == (
            "1",
            "987654",
            True,
        )
    # the blob on disk is sealed: the claim data is not readable in it
    blob = Path(platform.settings.data_dir, "edi", "blobs", str(tenant_id), inbound.storage_key).read_bytes()
    assert b"DOE" not in blob and b"CLM*" not in blob
    (event,) = events(platform, "edi.inbound.received")
    assert (event["eventType"], event["interchangeControlNumber"], event["storageKey"], event["sizeBytes"]) == (
        "EDI_837_RECEIVED",
        "000000907",
        inbound.storage_key,
        len(data),
    )
    assert "DOE" not in str(event)


def test_accepted_claims_wait_for_claims_intake_with_their_origin(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id, qualifier="ZZ", identifier="SUBMITTER")
    result = ingest(platform, tenant_id, professional_claims_text(3).encode())
    assert (result.status, result.claims_accepted, result.claims_rejected) == ("ACCEPTED", 3, 0)
    kept = pending(platform, tenant_id)
    assert [(p.kind, p.status) for p in kept] == [("837P", AWAITING_CLAIMS_INTAKE)] * 3
    assert [c.id for c in result.created] == [str(p.id) for p in kept]
    assert [p.content["claim_id"] for p in kept] == ["C000000000", "C000000001", "C000000002"]
    assert kept[0].content["total_charge"] == {"amount": "111.00", "currency": "USD"}
    claim_ack = reply(result, "277CA")
    assert judge(claim_ack) == []
    # accepted claims carry the intake's number as REF*1K
    assert [s[2] for s in segments(claim_ack, "REF") if s[1] == "1K"] == [str(p.id) for p in kept]


class RefusingIntake:
    """A ``ClaimIntake`` that refuses the second claim (unknown member) and numbers the others."""

    def __init__(self) -> None:
        self.origins: list[EdiOrigin] = []

    def submit(self, uow: UnitOfWork, claim: ClaimSubmission, origin: EdiOrigin) -> IntakeResult:
        self.origins.append(origin)
        if len(self.origins) == 2:
            return IntakeResult(False, problems=(ClaimProblem("A7", "33", "member", "IL"),))
        return IntakeResult(True, claim_id=f"CLM-{len(self.origins)}", transaction_id=uuid.uuid4())


def test_the_intake_port_decides_each_claim_and_the_277ca_says_so(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id, qualifier="ZZ", identifier="SUBMITTER")
    intake = RefusingIntake()
    result = ingest(platform, tenant_id, professional_claims_text(3).encode(), Links(claims=intake))
    assert (result.claims_accepted, result.claims_rejected) == (2, 1)
    assert [(c.kind, c.id) for c in result.created] == [("claim", "CLM-1"), ("claim", "CLM-3")]
    assert [o.file_id for o in intake.origins] == [result.file_id] * 3
    assert len({o.segment_number for o in intake.origins}) == 3
    claim_ack = reply(result, "277CA")
    assert judge(claim_ack) == []
    assert [s[1] for s in segments(claim_ack, "STC")][-3:] == ["A2:20", "A7:33:IL", "A2:20"]


def test_a_duplicate_interchange_gets_ta1_025_and_changes_nothing(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id, qualifier="ZZ", identifier="SUBMITTER")
    data = professional_claims_text(2).encode()
    assert ingest(platform, tenant_id, data).status == "ACCEPTED"
    again = ingest(platform, tenant_id, data)
    assert again.status == "REJECTED"
    assert [r.kind for r in again.replies] == ["TA1"]
    assert segments(reply(again, "TA1"), "TA1")[0][4:] == ["R", "025"]
    assert len(pending(platform, tenant_id)) == 2
    assert [f.status for f in files(platform, tenant_id, "IN")] == ["ACCEPTED", "REJECTED"]
    assert len(events(platform, "edi.inbound.received")) == 1


def test_unknown_senders_and_refused_transactions(platform: Platform, tenant_id: uuid.UUID) -> None:
    unknown = ingest(platform, tenant_id, fixture_bytes("two-claims-single-provider.837i"))
    assert unknown.status == "REJECTED"
    assert segments(reply(unknown, "TA1"), "TA1")[0][4:] == ["R", "006"]
    register(platform, tenant_id, accepted_transactions=("837P", "270"), send_999=True)
    refused = ingest(platform, tenant_id, fixture_bytes("claim-level-status.276"))
    ack = reply(refused, "999")
    assert judge(ack) == []
    assert segments(ack, "IK5") == [["IK5", "R", "1"]]
    assert segments(ack, "AK9")[0][1] == "R"
    assert refused.status == "REJECTED" and "277" not in [r.kind for r in refused.replies]


def test_partner_settings_shape_the_replies(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(
        platform,
        tenant_id,
        qualifier="ZZ",
        identifier="SUBMITTER",
        ta1_always=True,
        send_999=False,
        usage="T",
        element_separator="|",
        component_separator=">",
        repetition_separator="!",
        segment_terminator="~",
    )
    result = ingest(platform, tenant_id, professional_claims_text(1).encode())
    assert [r.kind for r in result.replies] == ["TA1", "277CA"]
    ta1 = reply(result, "TA1")
    assert ta1.startswith("ISA|") and ta1.split("|")[15] == "T" and ta1.split("|")[16].startswith(">")
    assert segments(ta1, "TA1", "|")[0][4:] == ["A", "000"]
    assert reply(result, "277CA").startswith("ISA|")


def test_known_bad_samples_are_answered_not_raised(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id, qualifier="ZZ", identifier="SUBMITTERS.ID")
    complex_result = ingest(platform, tenant_id, fixture_bytes("x12_complex.txt"))
    ack = reply(complex_result, "999")
    assert judge(ack) == []
    assert [s[1] for s in segments(ack, "IK5")] == ["R", "R"]
    assert segments(ack, "AK9")[0][1:2] == ["R"]
    assert complex_result.status == "REJECTED" and complex_result.claims_accepted == 0
    # x12_many_claims.txt has x12_complex's ISA13 and sender: its interchange envelope was accepted
    # (only the sets inside were rejected), so this one is a duplicate
    duplicate = ingest(platform, tenant_id, fixture_bytes("x12_many_claims.txt"))
    assert segments(reply(duplicate, "TA1"), "TA1")[0][4:] == ["R", "025"]
    garbage = ingest(platform, tenant_id, b"this is not an X12 file at all")
    assert garbage.status == "REJECTED" and [r.kind for r in garbage.replies] == ["TA1"]
    assert pending(platform, tenant_id) == []


def test_a_wrong_se_count_is_a_999_rejection(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id, qualifier="ZZ", identifier="SUBMITTERS.ID")
    many = ingest(platform, tenant_id, fixture_bytes("x12_many_claims.txt"))
    many_ack = reply(many, "999")
    assert judge(many_ack) == []
    # the SE count is wrong (4) and segments have errors (5); at most 100 IK3s are written
    assert (segments(many_ack, "IK5"), len(segments(many_ack, "IK3"))) == ([["IK5", "R", "4", "5"]], 100)
    assert (many.status, many.claims_accepted, pending(platform, tenant_id)) == ("REJECTED", 0, [])


def test_276_gets_a_277_from_the_default_status_lookup(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id)
    result = ingest(platform, tenant_id, fixture_bytes("claim-level-status.276"))
    answer = reply(result, "277")
    assert [s[1] for s in segments(answer, "STC")] == ["A4:35", "A4:35", "A4:35"]


def test_control_numbers_are_never_shared_between_concurrent_writers(platform: Platform, tenant_id: uuid.UUID) -> None:
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                with platform.db.unit_of_work(tenant_id) as uow:
                    number = DatabaseControlNumbers(uow, "ZZ:PARTNER").next_interchange(Party("ZZ", "OLLY"))
                with lock:
                    taken.append(number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(taken) == list(range(1, 61))
    with platform.db.unit_of_work(tenant_id) as uow:
        other = DatabaseControlNumbers(uow, "ZZ:OTHER")
        assert (other.next_interchange(Party("ZZ", "OLLY")), other.next_group(Party("ZZ", "OLLY"))) == (1, 1)


def test_a_payment_run_becomes_one_balanced_835_per_payee(platform: Platform, tenant_id: uuid.UUID) -> None:
    partner = register(
        platform,
        tenant_id,
        "CLINIC",
        kind="PROVIDER",
        qualifier="ZZ",
        identifier=BILLING_NPI,
        provider_ids=(BILLING_NPI,),
    )
    other_npi = "1245319599"
    source = FakeRemittances("RUN-1", [sample_remittance(), sample_remittance(other_npi, method="ACH")])
    with platform.db.unit_of_work(tenant_id) as uow:
        written = service.remit(uow, "RUN-1", Links(remittances=source))
        ids = [w.id for w in written]
    assert [(w.kind, w.partner_id, w.reference) for w in written] == [("835", partner, "RUN-1"), ("835", None, "RUN-1")]
    assert [w.summary for w in written] == [
        {"claims": 2, "paid": "52.80", "currency": "USD", "payeeNpi": npi, "traceNumber": "CHK0001"}
        for npi in (BILLING_NPI, other_npi)
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        texts = [service.file_content(uow, i)[1].decode() for i in ids]
    for text in texts:
        assert judge(text) == []
        assert segments(text, "BPR")[0][2] == "52.80"
        assert [(s[1], s[3], s[4], s[5]) for s in segments(text, "CLP")] == [
            ("C000000000", "111.00", "52.80", "23.20"),
            ("C000000001", "111.74", "0.00", ""),
        ]
    outbox = Path(platform.settings.data_dir, "edi", str(tenant_id), "outbox")
    assert sorted(p.name for p in (outbox / "CLINIC").iterdir()) == [service.outbound_name(written[0])]
    assert (outbox / "CLINIC" / service.outbound_name(written[0])).read_text() == texts[0]
    generated = events(platform, "edi.outbound.generated")
    assert [(e["eventType"], e["receiverId"]) for e in generated] == [
        ("EDI_835_GENERATED", BILLING_NPI),
        ("EDI_835_GENERATED", other_npi),
    ]
    # a run is remitted once
    with platform.db.unit_of_work(tenant_id) as uow:
        assert [f.id for f in service.remit(uow, "RUN-1", Links(remittances=source))] == ids
        with pytest.raises(NotFound, match="no such payment run"):
            service.remit(uow, "RUN-2", Links(remittances=source))


def test_an_unbalanced_run_is_refused_whole(platform: Platform, tenant_id: uuid.UUID) -> None:
    good = sample_remittance()
    bad = replace(sample_remittance("1245319599"), claims=(replace(good.claims[0], paid=good.claims[0].charge),))
    with pytest.raises(ValidationFailed), platform.db.unit_of_work(tenant_id) as uow:
        service.remit(uow, "RUN-9", Links(remittances=FakeRemittances("RUN-9", [good, bad])))
    assert files(platform, tenant_id, "OUT") == []


def test_partner_registry_checks_and_conflicts(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id)
    with pytest.raises(Conflict, match="exists"):
        register(platform, tenant_id, "CH2")
    with pytest.raises(ValidationFailed) as failed:
        register(platform, tenant_id, "CH3", identifier="X", kind="BANK", segment_terminator="*")
    assert [e.field for e in failed.value.errors] == ["kind", "separators"]


def test_a_partner_caller_may_submit_only_for_itself(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id, provider_ids=("1234567890",))
    data = fixture_bytes("two-claims-single-provider.837i")
    with pytest.raises(Forbidden), platform.db.unit_of_work(tenant_id) as uow:
        service.ingest(uow, data, source="api", caller_ids=frozenset({"1245319508"}))
    assert files(platform, tenant_id, "IN") == []
    with platform.db.unit_of_work(tenant_id) as uow:
        allowed = service.ingest(uow, data, source="api", caller_ids=frozenset({"1234567890"}))
    assert allowed.status == "ACCEPTED"


def test_large_files_flush_kept_claims_in_batches(
    platform: Platform, tenant_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "_FLUSH_EVERY", 2)
    register(platform, tenant_id, qualifier="ZZ", identifier="SUBMITTER")
    result = ingest(platform, tenant_id, professional_claims_text(5).encode())
    assert (result.claims_accepted, result.claims_rejected) == (5, 0)
    kept = pending(platform, tenant_id)
    assert [p.content["claim_id"] for p in kept] == [f"C00000000{n}" for n in range(5)]
    assert [s[2] for s in segments(reply(result, "277CA"), "REF") if s[1] == "1K"] == [str(p.id) for p in kept]
