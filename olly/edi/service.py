"""The EDI gateway: trading partners, inbound files through the toolkit to the domains, outbound files.

One inbound file is one unit of work: the raw bytes are stored encrypted, validated (pass 1),
checked against the sending partner's registry entry, acknowledged (TA1/999 per the partner's
settings), then the accepted transactions (pass 2) go to the ports (``ports.py``) and the answers
(277CA, 271, 277) are written, stored and placed in the outbox folder once the unit of work commits.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

from olly.edi import storage
from olly.edi.acks import acknowledge
from olly.edi.claim_ack import AcknowledgedClaim, write_277ca
from olly.edi.claims import ClaimOptions, ClaimSubmission
from olly.edi.codes import InterchangeNote, SetError
from olly.edi.eligibility import EligibilityAnswer, EligibilityInquiry, write_271
from olly.edi.enrollment import ENROLLMENT_VERSION, EnrollmentChange, Maintenance, write_834
from olly.edi.events import EdiInboundReceived, EdiOutboundGenerated
from olly.edi.inbound import check, transactions
from olly.edi.models import (
    AuditReconciliation,
    EdiFile,
    InterchangeReceipt,
    PendingTransaction,
    TradingPartner,
    TransactionSetReceipt,
)
from olly.edi.ports import EdiOrigin, Links, PartnerInfo, keep_pending, links_of, submit_claims
from olly.edi.reconcile import FULL_FILE_ACTIONS, Discrepancy, Finding, effective_date, reconcile
from olly.edi.remittance import REMITTANCE_VERSION, balance_errors, write_835
from olly.edi.repository import DatabaseControlNumbers, DatabaseInterchangeStore, EdiRepository
from olly.edi.status import StatusAnswer, StatusInquiry, write_277
from olly.edi.syntax import Delimiters
from olly.edi.validate import InterchangeReport, Origin, ValidationReport
from olly.edi.writer import EnvelopeSettings, Interchange, Party
from olly.kernel.errors import Conflict, FieldError, Forbidden, NotFound, OllyError, ValidationFailed
from olly.kernel.ids import uuid7
from olly.platform.db import UnitOfWork

KINDS: Final = ("CLEARINGHOUSE", "PROVIDER", "EMPLOYER")
INBOUND_KINDS: Final = ("837P", "837I", "834", "270", "276")
#: ISA05/ISA07 qualifiers of X12 5010.
ISA_QUALIFIERS: Final = ("01", "14", "20", "27", "28", "29", "30", "33", "ZZ")
_RECEIVED_EVENT: Final = {"837P": "EDI_837_RECEIVED", "837I": "EDI_837_RECEIVED", "834": "EDI_834_RECEIVED"}
_RECEIVED_EVENT_270: Final = "EDI_270_RECEIVED"


# ---------------------------------------------------------------------------------------------
# Trading partners
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PartnerSettings:
    code: str
    name: str
    kind: str
    interchange_qualifier: str
    interchange_id: str
    application_code: str | None = None
    accepted_transactions: tuple[str, ...] = INBOUND_KINDS
    ta1_always: bool = False
    send_999: bool = True
    usage: str = "P"
    element_separator: str = "*"
    component_separator: str = ":"
    repetition_separator: str = "^"
    segment_terminator: str = "~"
    provider_ids: tuple[str, ...] = ()
    group_account_id: uuid.UUID | None = None
    apply_audit_changes: bool = False
    """An 834 audit (030) from this partner also applies what it can; by default it is only reported."""
    active: bool = True


def _check_partner(settings: PartnerSettings) -> None:
    errors: list[FieldError] = []
    if settings.kind not in KINDS:
        errors.append(FieldError("kind", f"must be one of {', '.join(KINDS)}", "invalid_code"))
    if settings.interchange_qualifier not in ISA_QUALIFIERS:
        errors.append(FieldError("interchangeQualifier", f"must be one of {', '.join(ISA_QUALIFIERS)}", "invalid_code"))
    if not 1 <= len(settings.interchange_id.strip()) <= 15:
        errors.append(FieldError("interchangeId", "must be 1 to 15 characters", "invalid_length"))
    unknown = [k for k in settings.accepted_transactions if k not in INBOUND_KINDS]
    if unknown:
        errors.append(FieldError("acceptedTransactions", f"allowed: {', '.join(INBOUND_KINDS)}", "invalid_code"))
    if settings.usage not in ("P", "T"):
        errors.append(FieldError("usage", "must be P or T", "invalid_code"))
    separators = [
        settings.element_separator,
        settings.component_separator,
        settings.repetition_separator,
        settings.segment_terminator,
    ]
    if any(len(s) != 1 or s.isalnum() or s == " " for s in separators) or len(set(separators)) != 4:
        errors.append(
            FieldError("separators", "four distinct single non-alphanumeric characters", "invalid_separators")
        )
    if errors:
        raise ValidationFailed(errors)


def save_partner(uow: UnitOfWork, settings: PartnerSettings, partner_id: uuid.UUID | None = None) -> TradingPartner:
    """Register a partner, or replace the settings of ``partner_id``."""
    _check_partner(settings)
    repo = EdiRepository(uow)
    now = uow.clock.now()
    same_code = repo.partner_by_code(settings.code)
    same_id = repo.partner_by_interchange_id(settings.interchange_qualifier, settings.interchange_id)
    if partner_id is None:
        if same_code is not None or same_id is not None:
            raise Conflict("a trading partner with this code or interchange id exists")
        partner = TradingPartner(id=uuid7(), created_at=now)
        uow.session.add(partner)
    else:
        found = repo.partner(partner_id)
        if found is None:
            raise NotFound("no such trading partner")
        partner = found
        if (same_code is not None and same_code.id != partner_id) or (same_id is not None and same_id.id != partner_id):
            raise Conflict("another trading partner has this code or interchange id")
    partner.code = settings.code
    partner.name = settings.name
    partner.kind = settings.kind
    partner.interchange_qualifier = settings.interchange_qualifier
    partner.interchange_id = settings.interchange_id.strip()
    partner.application_code = settings.application_code or settings.interchange_id.strip()
    partner.accepted_transactions = list(settings.accepted_transactions)
    partner.ta1_always = settings.ta1_always
    partner.send_999 = settings.send_999
    partner.usage = settings.usage
    partner.element_separator = settings.element_separator
    partner.component_separator = settings.component_separator
    partner.repetition_separator = settings.repetition_separator
    partner.segment_terminator = settings.segment_terminator
    partner.provider_ids = list(settings.provider_ids)
    partner.group_account_id = settings.group_account_id
    partner.apply_audit_changes = settings.apply_audit_changes
    partner.active = settings.active
    partner.updated_at = now
    uow.flush()
    return partner


def partner_view(partner: TradingPartner) -> dict[str, Any]:
    return {
        "id": str(partner.id),
        "code": partner.code,
        "name": partner.name,
        "kind": partner.kind,
        "interchangeQualifier": partner.interchange_qualifier,
        "interchangeId": partner.interchange_id,
        "applicationCode": partner.application_code,
        "acceptedTransactions": list(partner.accepted_transactions),
        "ta1Always": partner.ta1_always,
        "send999": partner.send_999,
        "usage": partner.usage,
        "separators": {
            "element": partner.element_separator,
            "component": partner.component_separator,
            "repetition": partner.repetition_separator,
            "segment": partner.segment_terminator,
        },
        "providerIds": list(partner.provider_ids),
        "groupAccountId": str(partner.group_account_id) if partner.group_account_id else None,
        "applyAuditChanges": partner.apply_audit_changes,
        "active": partner.active,
    }


def _info(partner: TradingPartner | None) -> PartnerInfo | None:
    if partner is None:
        return None
    return PartnerInfo(
        partner.id,
        partner.code,
        partner.kind,
        partner.interchange_id,
        tuple(partner.provider_ids),
        partner.group_account_id,
    )


def partner_identities(partner: TradingPartner) -> frozenset[str]:
    """The ids that relate a caller to this partner's files (``same_provider``)."""
    return frozenset({partner.interchange_id, *partner.provider_ids})


def _delimiters(partner: TradingPartner | None) -> Delimiters:
    if partner is None:
        return Delimiters.default()
    return Delimiters(
        element=partner.element_separator,
        component=partner.component_separator,
        segment=partner.segment_terminator,
        repetition=partner.repetition_separator,
    )


def _our_party(uow: UnitOfWork) -> Party:
    settings = uow.session.info["database"].settings
    return Party(settings.edi_interchange_qualifier, settings.edi_interchange_id, settings.edi_application_code)


def _partner_party(partner: TradingPartner) -> Party:
    return Party(partner.interchange_qualifier, partner.interchange_id, partner.application_code)


def _sequence_key(party: Party) -> str:
    return f"{party.qualifier}:{party.id}"


# ---------------------------------------------------------------------------------------------
# Files and the outbox folder
# ---------------------------------------------------------------------------------------------
def edi_root(uow: UnitOfWork) -> Path:
    settings = uow.session.info["database"].settings
    return Path(settings.data_dir) / "edi" / str(uow.require_tenant())


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def outbound_name(row: EdiFile) -> str:
    return f"{row.kind}-{row.interchange_control_number}-{row.id}.x12"


def _store_outbound(
    uow: UnitOfWork,
    interchange: Interchange,
    *,
    kind: str,
    partner: TradingPartner | None,
    sender: Party,
    receiver: Party,
    guide: str,
    in_reply_to: uuid.UUID | None = None,
    reference: str | None = None,
    summary: dict[str, Any] | None = None,
) -> EdiFile:
    data = interchange.text.encode()
    row = EdiFile(
        id=uuid7(),
        direction="OUT",
        partner_id=partner.id if partner else None,
        kind=kind,
        status="GENERATED",
        sender=_sequence_key(sender)[:20],
        receiver=_sequence_key(receiver)[:20],
        interchange_control_number=f"{interchange.interchange_control_number:09d}",
        implementation_guide=guide,
        source="gateway",
        filename=None,
        storage_key=storage.put(uow, data, prefix="out"),
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        transaction_sets=len(interchange.set_control_numbers),
        accepted_sets=len(interchange.set_control_numbers),
        in_reply_to=in_reply_to,
        reference=reference,
        summary=summary or {},
        created_at=uow.clock.now(),
    )
    uow.session.add(row)
    folder = edi_root(uow) / "outbox" / (partner.code if partner else "unregistered")
    target = folder / outbound_name(row)
    uow.after_commit(lambda: _write_private(target, data))
    return row


# ---------------------------------------------------------------------------------------------
# Inbound
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reply:
    file_id: uuid.UUID
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Created:
    kind: str
    """claim, pending_claim, policy, party, pending_enrollment, eligibility_answer, status_answer."""
    id: str
    set_control_number: str
    segment_number: int


@dataclass
class IngestResult:
    file_id: uuid.UUID
    status: str
    """ACCEPTED, PARTIAL, REJECTED."""
    kind: str
    replies: list[Reply] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    claims_accepted: int = 0
    claims_rejected: int = 0
    enrollment_failures: list[dict[str, Any]] = field(default_factory=list)
    reconciliations: list[dict[str, Any]] = field(default_factory=list)
    """One per 834 audit set: its id, set control number, effective date and counts (no PHI)."""

    def view(self) -> dict[str, Any]:
        return {
            "fileId": str(self.file_id),
            "status": self.status,
            "kind": self.kind,
            "acknowledgements": [{"fileId": str(r.file_id), "kind": r.kind, "content": r.text} for r in self.replies],
            "created": [
                {"kind": c.kind, "id": c.id, "setControlNumber": c.set_control_number, "segment": c.segment_number}
                for c in self.created
            ],
            "claimsAccepted": self.claims_accepted,
            "claimsRejected": self.claims_rejected,
            "enrollmentFailures": self.enrollment_failures,
            "reconciliations": self.reconciliations,
        }


def _file_kind(report: ValidationReport) -> str:
    kinds = {s.kind.value for _, _, s in report.transaction_sets() if s.kind is not None}
    if len(kinds) == 1:
        return kinds.pop()
    return "MIXED" if kinds else "UNKNOWN"


def _apply_partner_rules(
    report: ValidationReport, partners: dict[str, TradingPartner | None], caller: frozenset[str] | None
) -> None:
    """Registry checks the toolkit cannot make: a registered, active sender; transactions it may send."""
    for interchange in report.interchanges:
        partner = partners[interchange.sender]
        if caller is not None and (partner is None or not (partner_identities(partner) & caller)):
            raise Forbidden("this file's sender is not a trading partner you act for")
        if partner is None or not partner.active:
            if InterchangeNote.INVALID_SENDER_ID not in interchange.notes:
                interchange.notes.append(InterchangeNote.INVALID_SENDER_ID)
            continue
        if partner.ta1_always:
            interchange.acknowledgment_requested = True
        for group in interchange.groups:
            for report_set in group.sets:
                kind = report_set.kind.value if report_set.kind is not None else None
                refused = kind in INBOUND_KINDS and kind not in partner.accepted_transactions
                if refused and SetError.NOT_SUPPORTED not in report_set.errors:
                    report_set.errors.append(SetError.NOT_SUPPORTED)


def _status(report: ValidationReport) -> str:
    if report.accepted:
        return "ACCEPTED"
    return "PARTIAL" if report.accepted_sets() else "REJECTED"


def _origin(file_id: uuid.UUID, partner: TradingPartner | None, origin: Origin) -> EdiOrigin:
    return EdiOrigin(
        file_id,
        partner.id if partner else None,
        origin.interchange_control_number,
        origin.group_control_number,
        origin.set_control_number,
        origin.segment_number,
        origin.offset,
    )


def _summary(report: ValidationReport) -> dict[str, Any]:
    return {
        "segments": report.segments,
        "bytes": report.bytes,
        "unreadable": report.unreadable.reason if report.unreadable is not None else None,
        "interchanges": [
            {
                "controlNumber": i.control_number,
                "sender": i.sender,
                "notes": [n.value for n in i.notes],
                "groups": [
                    {
                        "controlNumber": g.control_number,
                        "functionalId": g.functional_id,
                        "version": g.version,
                        "acknowledgment": g.acknowledgment.value,
                        "errors": [e.value for e in g.errors],
                        "sets": len(g.sets),
                        "acceptedSets": g.accepted_sets,
                    }
                    for g in i.groups
                ],
            }
            for i in report.interchanges
        ],
    }


def ingest(
    uow: UnitOfWork,
    data: bytes,
    *,
    source: str,
    filename: str | None = None,
    links: Links | None = None,
    caller_ids: frozenset[str] | None = None,
    options: ClaimOptions | None = None,
) -> IngestResult:
    """Take one inbound file in. ``caller_ids`` (a partner's API caller) limits the senders it may
    submit for; staff and the CLI pass ``None``. Bad content never raises: it is answered."""
    links = links or links_of(uow)
    repo = EdiRepository(uow)
    settings = uow.session.info["database"].settings
    receivers = {r.strip() for r in settings.edi_receiver_ids.split(",") if r.strip()} or None
    now = uow.clock.now()
    store = DatabaseInterchangeStore(uow)
    report = check(data, store=store, receiver_ids=receivers)
    partners: dict[str, TradingPartner | None] = {
        i.sender: repo.partner_by_interchange_id(i.sender_qualifier, i.sender_id) for i in report.interchanges
    }
    if caller_ids is not None and not report.interchanges:
        raise Forbidden("the file names no sender you act for")
    _apply_partner_rules(report, partners, caller_ids)

    file_id = uuid7()
    first = report.interchanges[0] if report.interchanges else None
    first_partner = partners.get(first.sender) if first else None
    inbound = EdiFile(
        id=file_id,
        direction="IN",
        partner_id=first_partner.id if first_partner else None,
        kind=_file_kind(report),
        status=_status(report),
        sender=(first.sender if first else "UNKNOWN")[:20],
        receiver=(f"{first.receiver_qualifier.strip()}:{first.receiver_id.strip()}" if first else "UNKNOWN")[:20],
        interchange_control_number=(first.control_number if first else "")[:9],
        implementation_guide=next((g.version for i in report.interchanges for g in i.groups), "")[:16],
        source=source,
        filename=(Path(filename).name[:255] if filename else None),
        storage_key=storage.put(uow, data, prefix="in"),
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        transaction_sets=sum(1 for _ in report.transaction_sets()),
        accepted_sets=len(report.accepted_sets()),
        in_reply_to=None,
        reference=None,
        summary=_summary(report),
        created_at=now,
    )
    uow.session.add(inbound)
    result = IngestResult(file_id, inbound.status, inbound.kind)

    receipts: dict[str, uuid.UUID] = {}
    for interchange in report.interchanges:
        if interchange.accepted and (interchange.sender, interchange.control_number) in store.pending:
            receipt = InterchangeReceipt(
                id=uuid7(),
                file_id=file_id,
                sender=interchange.sender[:20],
                control_number=interchange.control_number,
                received_at=now,
            )
            uow.session.add(receipt)
            receipts[interchange.control_number] = receipt.id
    for interchange, group, report_set in report.transaction_sets():
        uow.session.add(
            TransactionSetReceipt(
                id=uuid7(),
                file_id=file_id,
                interchange_control_number=interchange.control_number[:9],
                group_control_number=group.control_number[:9],
                set_control_number=report_set.control_number[:9],
                set_id=report_set.set_id[:3],
                implementation_guide=report_set.reference[:16],
                accepted=report_set.accepted and not group.errors and interchange.accepted,
                errors=[e.value for e in report_set.errors],
            )
        )
    uow.flush()

    # -- acknowledgements (per interchange, with the partner's own settings) -----------------------
    ours = _our_party(uow)
    if not report.interchanges:
        acks = acknowledge(report, control_numbers=DatabaseControlNumbers(uow, "unregistered"), now=now)
        for ta1 in acks.ta1:
            row = _store_outbound(
                uow,
                ta1,
                kind="TA1",
                partner=None,
                sender=ours,
                receiver=Party("ZZ", "UNKNOWN"),
                guide="",
                in_reply_to=file_id,
            )
            result.replies.append(Reply(row.id, "TA1", ta1.text))
    for interchange in report.interchanges:
        partner = partners[interchange.sender]
        receiver = Party(interchange.sender_qualifier.strip() or "ZZ", interchange.sender_id.strip() or "UNKNOWN")
        numbers = DatabaseControlNumbers(uow, _sequence_key(_partner_party(partner) if partner else receiver))
        single = ValidationReport(interchanges=[interchange], segments=report.segments, bytes=report.bytes)
        acks = acknowledge(
            single,
            control_numbers=numbers,
            now=now,
            delimiters=_delimiters(partner),
            usage=partner.usage if partner else None,
        )
        for ta1 in acks.ta1:
            row = _store_outbound(
                uow, ta1, kind="TA1", partner=partner, sender=ours, receiver=receiver, guide="", in_reply_to=file_id
            )
            result.replies.append(Reply(row.id, "TA1", ta1.text))
        if partner is None or partner.send_999:
            for ack in acks.implementation:
                row = _store_outbound(
                    uow,
                    ack,
                    kind="999",
                    partner=partner,
                    sender=ours,
                    receiver=receiver,
                    guide="005010X231A1",
                    in_reply_to=file_id,
                )
                result.replies.append(Reply(row.id, "999", ack.text))

    # -- the accepted transactions, to the domains ---------------------------------------------------
    if report.accepted_sets():
        _dispatch(uow, data, report, partners, links, result, options, ours)
        if result.enrollment_failures:
            inbound.summary = {**inbound.summary, "enrollmentFailures": result.enrollment_failures}
        if result.reconciliations:
            inbound.summary = {**inbound.summary, "reconciliations": result.reconciliations}

    # -- events ------------------------------------------------------------------------------------
    for interchange in report.interchanges:
        receipt_id = receipts.get(interchange.control_number)
        if receipt_id is None:
            continue
        kinds = [s.kind.value for g in interchange.groups for s in g.sets if s.kind is not None and s.accepted]
        event_type = next((_RECEIVED_EVENT[k] for k in kinds if k in _RECEIVED_EVENT), None)
        if event_type is None and "270" in kinds:
            event_type = _RECEIVED_EVENT_270
        if event_type is None:
            continue
        partner = partners[interchange.sender]
        uow.publish(
            EdiInboundReceived(
                event_type=event_type,
                interchange_id=receipt_id,
                interchange_control_number=interchange.control_number,
                sender_id=interchange.sender_id.strip(),
                receiver_id=interchange.receiver_id.strip(),
                implementation_guide=interchange.groups[0].version if interchange.groups else "",
                transaction_set_count=sum(len(g.sets) for g in interchange.groups),
                size_bytes=len(data),
                storage_key=inbound.storage_key,
                received_at=now,
            ),
            key=partner.id if partner else file_id,
        )
    return result


def _dispatch(
    uow: UnitOfWork,
    data: bytes,
    report: ValidationReport,
    partners: dict[str, TradingPartner | None],
    links: Links,
    result: IngestResult,
    options: ClaimOptions | None,
    ours: Party,
) -> None:
    by_control: dict[str, InterchangeReport] = {i.control_number: i for i in report.interchanges}
    claim_acks: dict[str, list[AcknowledgedClaim]] = defaultdict(list)
    eligibility: dict[str, list[EligibilityAnswer]] = defaultdict(list)
    statuses: dict[str, list[StatusAnswer]] = defaultdict(list)
    audit_sets: dict[tuple[str, str, str], list[tuple[EnrollmentChange, EdiOrigin]]] = defaultdict(list)
    file_id = result.file_id
    chunk: list[tuple[str, ClaimSubmission, EdiOrigin]] = []

    def submit_chunk() -> None:
        """The chunk's claims through the intake, acknowledged in file order."""
        submitted = [(claim, origin) for _, claim, origin in chunk if claim.accepted]
        intakes = iter(submit_claims(links.claims, uow, submitted) if submitted else ())
        for control, claim, origin in chunk:
            if not claim.accepted:  # the 837's own errors: the intake never sees it
                claim_acks[control].append(AcknowledgedClaim.of(claim))
                result.claims_rejected += 1
                continue
            intake = next(intakes)
            claim_acks[control].append(AcknowledgedClaim.of(claim, intake.claim_id, intake.problems))
            if intake.accepted and not intake.problems:
                result.claims_accepted += 1
                result.created.append(
                    Created("claim", intake.claim_id or "", origin.set_control_number, origin.segment_number)
                )
            else:
                result.claims_rejected += 1
        chunk.clear()

    for count, item in enumerate(transactions(data, report, options=options), start=1):
        if count % _FLUSH_EVERY == 0:
            _release_written(uow)
        interchange = by_control[item.origin.interchange_control_number]
        partner = partners[interchange.sender]
        origin = _origin(file_id, partner, item.origin)
        control = interchange.control_number
        if isinstance(item, ClaimSubmission):
            chunk.append((control, item, origin))
            if len(chunk) >= _CLAIM_CHUNK:
                submit_chunk()
            continue
        if chunk:  # whatever follows a claim sees it taken in, as one by one
            submit_chunk()
        if isinstance(item, EnrollmentChange):
            key = (control, origin.group_control_number, origin.set_control_number)
            if item.kind is Maintenance.AUDIT or item.action in FULL_FILE_ACTIONS:
                audit_sets[key].append((item, origin))  # compared once the whole set is read
            if item.kind is not Maintenance.AUDIT:
                _apply_enrollment(uow, item, origin, partner, links, result)
        elif isinstance(item, EligibilityInquiry):
            eligibility[control].append(links.eligibility.answer(uow, item, origin))
        elif isinstance(item, StatusInquiry):
            statuses[control].append(links.status.lookup(uow, item, origin))

    if chunk:
        submit_chunk()
    for (control, _, _), members in audit_sets.items():
        _reconcile(uow, members, partners[by_control[control].sender], links, result)

    for control, acks in claim_acks.items():
        interchange = by_control[control]
        partner = partners[interchange.sender]
        settings, numbers, receiver = _reply_envelope(uow, interchange, partner, ours)
        first = acks[0]
        text = write_277ca(
            acks,
            payer_name=first.payer_name or "PAYER",
            payer_id=first.payer_id or ours.id,
            received=uow.clock.now().date(),
            settings=settings,
            control_numbers=numbers,
            now=uow.clock.now(),
        )
        row = _store_outbound(
            uow,
            text,
            kind="277CA",
            partner=partner,
            sender=settings.sender,
            receiver=receiver,
            guide="005010X214",
            in_reply_to=file_id,
            summary={
                "accepted": sum(1 for a in acks if a.accepted),
                "rejected": sum(1 for a in acks if not a.accepted),
            },
        )
        result.replies.append(Reply(row.id, "277CA", text.text))
    for control, answers in eligibility.items():
        interchange = by_control[control]
        partner = partners[interchange.sender]
        settings, numbers, receiver = _reply_envelope(uow, interchange, partner, ours)
        text = write_271(answers, settings=settings, control_numbers=numbers, now=uow.clock.now())
        row = _store_outbound(
            uow,
            text,
            kind="271",
            partner=partner,
            sender=settings.sender,
            receiver=receiver,
            guide="005010X279A1",
            in_reply_to=file_id,
            summary={"answers": len(answers), "found": sum(1 for a in answers if a.found)},
        )
        result.replies.append(Reply(row.id, "271", text.text))
        result.created.append(Created("eligibility_answer", str(row.id), "", 0))
        _announce_outbound(uow, row, "EDI_271_GENERATED", interchange.sender_id.strip())
    for control, found in statuses.items():
        interchange = by_control[control]
        partner = partners[interchange.sender]
        settings, numbers, receiver = _reply_envelope(uow, interchange, partner, ours)
        text = write_277(found, settings=settings, control_numbers=numbers, now=uow.clock.now())
        row = _store_outbound(
            uow,
            text,
            kind="277",
            partner=partner,
            sender=settings.sender,
            receiver=receiver,
            guide="005010X212",
            in_reply_to=file_id,
            summary={"answers": len(found)},
        )
        result.replies.append(Reply(row.id, "277", text.text))
        result.created.append(Created("status_answer", str(row.id), "", 0))


#: Kept transactions are flushed and let go of in batches, so a large file does not hold every row.
_FLUSH_EVERY: Final = 2000
#: An 837's claims go to the intake in chunks of this many (one set of reads and writes per chunk).
_CLAIM_CHUNK: Final = 500


def _release_written(uow: UnitOfWork) -> None:
    uow.session.flush()
    for row in [o for o in uow.session.identity_map.values() if isinstance(o, PendingTransaction)]:
        uow.session.expunge(row)


def _apply_enrollment(
    uow: UnitOfWork,
    change: EnrollmentChange,
    origin: EdiOrigin,
    partner: TradingPartner | None,
    links: Links,
    result: IngestResult,
) -> None:
    try:
        with uow.session.begin_nested():
            outcome = links.enrollment.apply(uow, change, origin, _info(partner))
    except (OllyError, ValueError) as exc:  # one member's refusal must not lose the others: keep it
        code = getattr(exc, "code", type(exc).__name__)
        # Domain errors name fields, never values; a ValueError's text is not trusted to.
        reason = exc.detail if isinstance(exc, OllyError) else "the member's data could not be read"
        _refuse_enrollment(uow, change, origin, result, str(code), reason)
        return
    if outcome.error_code is not None:
        _refuse_enrollment(uow, change, origin, result, outcome.error_code, outcome.reason)
        return
    if outcome.action == "PENDING":
        result.created.append(Created("pending_enrollment", "", origin.set_control_number, origin.segment_number))
        return
    if outcome.policy_id is not None:
        result.created.append(
            Created("policy", str(outcome.policy_id), origin.set_control_number, origin.segment_number)
        )
    if outcome.party_id is not None:
        result.created.append(Created("party", str(outcome.party_id), origin.set_control_number, origin.segment_number))


def _reconcile(
    uow: UnitOfWork,
    members: list[tuple[EnrollmentChange, EdiOrigin]],
    partner: TradingPartner | None,
    links: Links,
    result: IngestResult,
) -> None:
    """Compare an 834 set's audit records with the enrollment in force on the file's effective date
    and keep the reconciliation with the file. When the partner allows it (``apply_audit_changes``)
    what differs is then applied: a member not enrolled is added (021), a plan, name, birth date or
    gender that differs is changed (001). Coverage levels, dates and members absent from the file are only
    reported: a tier follows from the dependents covered, and an absence carries no termination date.

    Without an enrollment domain (or a partner with a group) there is nothing to compare with: the
    audit records go to the enrollment port as before (kept as awaiting enrollment)."""
    first, origin = members[0]
    info = _info(partner)
    on = effective_date(first, uow.clock.today())
    roster = links.members.roster(uow, info, on) if info is not None and info.group_account_id else None
    if roster is None:
        for change, at in members:
            if change.kind is Maintenance.AUDIT:
                _apply_enrollment(uow, change, at, partner, links, result)
        return
    changes = [change for change, _ in members]
    outcome = reconcile(changes, roster, on, full_file=first.action in FULL_FILE_ACTIONS)
    applying = partner is not None and partner.apply_audit_changes
    rows = [f.view() for f in outcome.findings]
    if applying:
        by_segment = {at.segment_number: (change, at) for change, at in members}
        done: dict[int, str] = {}
        for finding in outcome.findings:
            fix = _audit_fix(finding, by_segment)
            if fix is None:
                continue
            change, at = fix
            before = len(result.enrollment_failures)
            _apply_enrollment(uow, change, at, partner, links, result)
            refused = result.enrollment_failures[before:]
            # what was done (the maintenance type applied) or why not (the refusal's code)
            done[at.segment_number] = str(refused[0]["code"]) if refused else change.maintenance
        for finding, view in zip(outcome.findings, rows, strict=True):
            if finding.kind in _AUDIT_FIXES and finding.segment_number in done:
                view["applied"] = done[finding.segment_number]
    row = AuditReconciliation(
        id=uuid7(),
        file_id=result.file_id,
        partner_id=partner.id if partner else None,
        interchange_control_number=origin.interchange_control_number[:9],
        set_control_number=origin.set_control_number[:9],
        effective_date=on,
        full_file=outcome.full_file,
        applied=applying,
        counts=outcome.counts(),
        findings=rows,
        created_at=uow.clock.now(),
    )
    uow.session.add(row)
    result.reconciliations.append(reconciliation_summary(row))


#: What an audit applies, by finding, when the partner allows it (INS03 of the change it becomes).
_AUDIT_FIXES: Final = {
    Discrepancy.NOT_ENROLLED: Maintenance.ADDITION,
    Discrepancy.PLAN_DIFFERS: Maintenance.CHANGE,
    Discrepancy.NAME_DIFFERS: Maintenance.CHANGE,
    Discrepancy.BIRTH_DATE_DIFFERS: Maintenance.CHANGE,
    Discrepancy.GENDER_DIFFERS: Maintenance.CHANGE,
}


def _audit_fix(
    finding: Finding, by_segment: dict[int, tuple[EnrollmentChange, EdiOrigin]]
) -> tuple[EnrollmentChange, EdiOrigin] | None:
    """The audit record of ``finding`` as the add or change that makes enrollment agree with it; a
    member's plan, name, birth date and gender are one change (applied once, on its first finding)."""
    wanted = _AUDIT_FIXES.get(finding.kind)
    found = by_segment.pop(finding.segment_number, None) if wanted and finding.segment_number else None
    if wanted is None or found is None:
        return None
    change, at = found
    coverages = tuple(replace(c, maintenance=wanted.value) for c in change.coverages)
    return replace(change, maintenance=wanted.value, coverages=coverages), at


def reconciliation_summary(row: AuditReconciliation) -> dict[str, Any]:
    """What the file's summary and the ingest answer say of a reconciliation: numbers, no member."""
    return {
        "id": str(row.id),
        "setControlNumber": row.set_control_number,
        "effectiveDate": row.effective_date.isoformat(),
        "fullFile": row.full_file,
        "applied": row.applied,
        "counts": dict(row.counts),
    }


def reconciliations(uow: UnitOfWork, file_id: uuid.UUID) -> list[dict[str, Any]]:
    """The reconciliations of an inbound 834 with their per-member findings (staff only: the
    findings name members). ``NotFound`` when the file is unknown or held no audit."""
    rows = EdiRepository(uow).reconciliations(file_id)
    if not rows:
        raise NotFound("no reconciliation for this file: it is unknown or held no 834 audit")
    return [{**reconciliation_summary(r), "findings": list(r.findings)} for r in rows]


def _refuse_enrollment(
    uow: UnitOfWork,
    change: EnrollmentChange,
    origin: EdiOrigin,
    result: IngestResult,
    code: str,
    reason: str | None,
) -> None:
    """Keep a refused 834 member (``FAILED_ENROLLMENT``) with the code and reason of the refusal; the
    file's summary lists them (``enrollmentFailures``) once the file is dispatched."""
    row = keep_pending(uow, "834", "FAILED_ENROLLMENT", change, origin)
    row.content = {**row.content, "refusal": {"code": code, "reason": reason}}
    failure: dict[str, Any] = {"segment": origin.segment_number, "code": code}
    if reason:
        failure["reason"] = reason
    result.enrollment_failures.append(failure)


def _reply_envelope(
    uow: UnitOfWork, interchange: InterchangeReport, partner: TradingPartner | None, ours: Party
) -> tuple[EnvelopeSettings, DatabaseControlNumbers, Party]:
    if partner is not None:
        receiver = _partner_party(partner)
    else:
        receiver = Party(interchange.sender_qualifier.strip() or "ZZ", interchange.sender_id.strip() or "UNKNOWN")
    # Answer as the identity the partner addressed (ISA07/08, GS03), like the 999 does.
    addressed = interchange.groups[0].receiver_code if interchange.groups else ""
    if interchange.receiver_id.strip():
        ours = Party(
            interchange.receiver_qualifier.strip() or ours.qualifier, interchange.receiver_id.strip(), addressed
        )
    settings = EnvelopeSettings(
        ours, receiver, partner.usage if partner else interchange.usage or "P", False, _delimiters(partner)
    )
    return settings, DatabaseControlNumbers(uow, _sequence_key(receiver)), receiver


def _announce_outbound(uow: UnitOfWork, row: EdiFile, event_type: str, receiver_id: str) -> None:
    uow.publish(
        EdiOutboundGenerated(
            event_type=event_type,
            interchange_id=row.id,
            interchange_control_number=row.interchange_control_number,
            sender_id=row.sender.partition(":")[2],
            receiver_id=receiver_id,
            implementation_guide=row.implementation_guide,
            transaction_set_count=row.transaction_sets,
            size_bytes=row.size_bytes,
            storage_key=row.storage_key,
            generated_at=row.created_at,
        ),
        key=row.partner_id or row.id,
    )


# ---------------------------------------------------------------------------------------------
# Outbound: members → 834
# ---------------------------------------------------------------------------------------------
def send_enrollment(
    uow: UnitOfWork, partner_code: str, as_of: date, links: Links | None = None, *, since: date | None = None
) -> EdiFile:
    """An 834 to a registered partner: stored, in its outbox folder and announced
    (``EDI_834_GENERATED``). A full file (every member covered under the partner's group on ``as_of``
    or later, INS03 030), or with ``since`` the changes recorded from that day to ``as_of``."""
    if since is not None and since > as_of:
        raise ValidationFailed([FieldError("since", "must not be after the as-of date", "since_after_as_of")])
    links = links or links_of(uow)
    partner = EdiRepository(uow).partner_by_code(partner_code)
    if partner is None or not partner.active:
        raise NotFound("no such active trading partner")
    info = _info(partner)
    assert info is not None
    if info.group_account_id is None:
        raise ValidationFailed(
            [FieldError("partner", "the partner has no group account to report", "no_group_account")],
            "the partner has no members to report",
        )
    enrollment_file = links.members.snapshot(uow, info, as_of, since)
    if enrollment_file is None or not enrollment_file.members:
        if since is not None:
            raise NotFound("no member of the partner's group changed in that period")
        raise NotFound("nobody is covered under the partner's group on that date")
    ours = _our_party(uow)
    receiver = _partner_party(partner)
    settings = EnvelopeSettings(ours, receiver, partner.usage, False, _delimiters(partner))
    interchange = write_834(
        enrollment_file,
        settings=settings,
        control_numbers=DatabaseControlNumbers(uow, _sequence_key(receiver)),
        now=uow.clock.now(),
    )
    row = _store_outbound(
        uow,
        interchange,
        kind="834",
        partner=partner,
        sender=ours,
        receiver=receiver,
        guide=ENROLLMENT_VERSION,
        reference=f"834:{since.isoformat() + '..' if since else ''}{as_of.isoformat()}",
        summary={
            "asOf": as_of.isoformat(),
            **({"since": since.isoformat()} if since else {}),
            "members": len(enrollment_file.members),
            "subscribers": sum(1 for m in enrollment_file.members if m.is_subscriber),
        },
    )
    _announce_outbound(uow, row, "EDI_834_GENERATED", receiver.id)
    return row


# ---------------------------------------------------------------------------------------------
# Outbound: payment runs → 835
# ---------------------------------------------------------------------------------------------
def remit(uow: UnitOfWork, run_id: str, links: Links | None = None) -> list[EdiFile]:
    """One balanced 835 per payee of a payment run, stored, in the outbox and announced.

    Idempotent per run: a run already remitted returns its files again."""
    links = links or links_of(uow)
    repo = EdiRepository(uow)
    existing = repo.remittance_files(run_id[:64])
    if existing:
        return list(existing)
    remittances = links.remittances.payment_run(uow, run_id)
    if not remittances:
        raise NotFound("no such payment run, or nothing to remit")
    payees = [r.payee.key for r in remittances]
    problems = [
        FieldError(f"remittances.{index}.{e.field}", e.message, e.code)
        for index, remittance in enumerate(remittances)
        for e in balance_errors(remittance)
    ]
    if len(set(payees)) != len(payees):
        problems.append(FieldError("payees", "a payee appears twice in one run", "duplicate_payee"))
    if problems:  # refused whole: no payee gets an 835 of a run that does not balance
        raise ValidationFailed(problems, "the payment run cannot be remitted")
    ours = _our_party(uow)
    partners = repo.partners()
    files = []
    for remittance in remittances:
        partner = next(
            (
                p
                for p in partners
                if p.active and (remittance.payee.npi in p.provider_ids or p.interchange_id == remittance.payee.npi)
            ),
            None,
        )
        receiver = _partner_party(partner) if partner else Party("ZZ", remittance.payee.npi)
        settings = EnvelopeSettings(ours, receiver, partner.usage if partner else "P", False, _delimiters(partner))
        interchange = write_835(
            remittance,
            settings=settings,
            control_numbers=DatabaseControlNumbers(uow, _sequence_key(receiver)),
            now=uow.clock.now(),
        )
        row = _store_outbound(
            uow,
            interchange,
            kind="835",
            partner=partner,
            sender=ours,
            receiver=receiver,
            guide=REMITTANCE_VERSION,
            reference=run_id[:64],
            summary={
                "claims": len(remittance.claims),
                "paid": remittance.total_paid.to_decimal_string(),
                "currency": remittance.currency,
                "payeeNpi": remittance.payee.npi,
                "traceNumber": remittance.payment.trace_number,
            },
        )
        _announce_outbound(uow, row, "EDI_835_GENERATED", receiver.id)
        files.append(row)
    return files


def file_view(row: EdiFile) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "direction": row.direction,
        "kind": row.kind,
        "status": row.status,
        "partnerId": str(row.partner_id) if row.partner_id else None,
        "sender": row.sender,
        "receiver": row.receiver,
        "interchangeControlNumber": row.interchange_control_number,
        "implementationGuide": row.implementation_guide,
        "source": row.source,
        "sizeBytes": row.size_bytes,
        "sha256": row.sha256,
        "transactionSets": row.transaction_sets,
        "acceptedSets": row.accepted_sets,
        "inReplyTo": str(row.in_reply_to) if row.in_reply_to else None,
        "reference": row.reference,
        "summary": row.summary,
        "createdAt": row.created_at.isoformat(),
        "purgedAt": row.purged_at.isoformat() if row.purged_at else None,
    }


class FilePurged(OllyError):
    status = 410
    code = "file_purged"
    title = "The raw file was deleted past its retention"


def file_content(uow: UnitOfWork, file_id: uuid.UUID) -> tuple[EdiFile, bytes]:
    row = EdiRepository(uow).file(file_id)
    if row is None:
        raise NotFound("no such EDI file")
    return row, content_of(uow, row)


def content_of(uow: UnitOfWork, row: EdiFile) -> bytes:
    """A file's X12 text (decrypted); ``FilePurged`` (410) once deleted past its retention."""
    if row.purged_at is not None:
        raise FilePurged(f"the file's record stays; its content was deleted on {row.purged_at.date().isoformat()}")
    return storage.get(uow, row.storage_key)


#: Files a retention pass deletes at most (the next pass, a day later, goes on).
PURGE_BATCH: Final = 1000


def purge_files(uow: UnitOfWork, *, limit: int = PURGE_BATCH) -> int:
    """Delete the raw content of files (received and sent) older than ``edi_file_retention_days``,
    oldest first, keeping each file's record (kind, partner, control numbers, counts, and when it was
    purged): what a deletion request cannot take out of a file that names many people leaves with
    it. What was read out of the file and kept goes with it: its kept transactions (refused 834
    members, records awaiting a person or a claims intake, each a copy of a member's data) and the
    findings of its 834 reconciliations (their counts stay). The blobs go once this commits. 0 days
    keeps every file."""
    days = uow.session.info["database"].settings.edi_file_retention_days
    if days <= 0:
        return 0
    now = uow.clock.now()
    repo = EdiRepository(uow)
    rows = repo.files_to_purge(now - timedelta(days=days), limit)
    for row in rows:
        storage.delete(uow, row.storage_key)
        row.purged_at = now
    repo.forget_what_was_read([row.id for row in rows])
    return len(rows)
