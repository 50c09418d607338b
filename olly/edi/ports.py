"""What the gateway needs from other domains, as ports; adapters live in the composition layer.

The gateway never imports another domain. For each inbound transaction kind it calls a port; the
composition layer (``olly/edi_links.py``) installs adapters over the domains' public functions.
When a domain is not installed, the default adapters below keep every accepted transaction in
``edi_pending_transactions`` (encrypted), so nothing received is lost.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import select

from olly.edi.claims import ClaimProblem, ClaimSubmission
from olly.edi.eligibility import EligibilityAnswer, EligibilityInquiry
from olly.edi.enrollment import EnrollmentChange, EnrollmentFile
from olly.edi.models import PendingTransaction
from olly.edi.reconcile import RosterEntry
from olly.edi.remittance import Remittance
from olly.edi.status import NOT_FOUND, ClaimStatus, StatusAnswer, StatusInquiry
from olly.kernel.ids import uuid7
from olly.kernel.money import Money
from olly.platform.db import UnitOfWork


@dataclass(frozen=True, slots=True)
class EdiOrigin:
    """Where an inbound transaction came from: the stored file and the position in it."""

    file_id: uuid.UUID
    partner_id: uuid.UUID | None
    interchange_control_number: str
    group_control_number: str
    set_control_number: str
    segment_number: int
    """Ordinal (in the file) of the CLM / INS / HL that starts the transaction."""
    byte_offset: int


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    """The registry's view of the partner that sent a file."""

    id: uuid.UUID
    code: str
    kind: str
    interchange_id: str
    provider_ids: tuple[str, ...]
    group_account_id: uuid.UUID | None


# -- 837 → claims intake -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What the claims intake made of one 837 claim."""

    accepted: bool
    claim_id: str | None = None
    """The intake's id of the claim (the payer claim number, REF*1K of the 277CA)."""
    transaction_id: uuid.UUID | None = None
    problems: tuple[ClaimProblem, ...] = ()
    """Why the intake refused it (277CA STC A7/A6 …); empty when accepted."""


class ClaimIntake(Protocol):
    def submit(self, uow: UnitOfWork, claim: ClaimSubmission, origin: EdiOrigin) -> IntakeResult:
        """Take one accepted 837 claim in, in the caller's unit of work; never commit."""
        ...


class ChunkedClaimIntake(ClaimIntake, Protocol):
    def submit_chunk(self, uow: UnitOfWork, items: Sequence[tuple[ClaimSubmission, EdiOrigin]]) -> list[IntakeResult]:
        """``submit`` for each claim of a chunk, in order, each accepted or refused on its own."""
        ...


def submit_claims(
    intake: ClaimIntake, uow: UnitOfWork, items: Sequence[tuple[ClaimSubmission, EdiOrigin]]
) -> list[IntakeResult]:
    """Each claim's intake result, in order: through ``submit_chunk`` when the intake has one (the
    claims domain's reads and writes a chunk at once), else claim by claim."""
    chunked = getattr(intake, "submit_chunk", None)
    if chunked is not None:
        return list(chunked(uow, items))
    return [intake.submit(uow, claim, origin) for claim, origin in items]


# -- 276 → claim status --------------------------------------------------------------------------
class ClaimStatusLookup(Protocol):
    def lookup(self, uow: UnitOfWork, inquiry: StatusInquiry, origin: EdiOrigin) -> StatusAnswer:
        """The status of the claim a 276 asks about (``NOT_FOUND`` when unknown)."""
        ...


# -- 834 → enrollment ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EnrollmentOutcome:
    applied: bool
    action: str
    """What was done: ENROLLED, DEPENDENT_ADDED, TERMINATED, DEPENDENT_REMOVED, CHANGED, UNCHANGED,
    REINSTATED, DEPENDENT_REINSTATED, PENDING, IGNORED."""
    policy_id: uuid.UUID | None = None
    party_id: uuid.UUID | None = None
    error_code: str | None = None
    """Stable code of the refusal (never a data value)."""
    reason: str | None = None
    """Why it was refused, in words (names fields, never their values)."""


class EnrollmentSink(Protocol):
    def apply(
        self, uow: UnitOfWork, change: EnrollmentChange, origin: EdiOrigin, partner: PartnerInfo | None
    ) -> EnrollmentOutcome:
        """Apply one 834 INS loop (add, change, termination, dependent) in the caller's unit of work.
        The gateway runs each call in a savepoint: an exception undoes that member only."""
        ...


# -- 270 → eligibility ---------------------------------------------------------------------------
class EligibilityResponder(Protocol):
    def answer(self, uow: UnitOfWork, inquiry: EligibilityInquiry, origin: EdiOrigin) -> EligibilityAnswer:
        """The 271 answer (EB segments) for one person of a 270."""
        ...


# -- payment runs → 835 --------------------------------------------------------------------------
class RemittanceSource(Protocol):
    def payment_run(self, uow: UnitOfWork, run_id: str) -> Sequence[Remittance]:
        """One balanced ``Remittance`` per payee of the run (payment id = ``Payment.trace_number``,
        amount = Σ CLP04 − Σ PLB, date, and per claim billed/allowed/paid, CAS at claim and line
        level, SVC lines). Empty when the run is unknown."""
        ...


# -- members → 834 -------------------------------------------------------------------------------
class EnrollmentSource(Protocol):
    def snapshot(
        self, uow: UnitOfWork, partner: PartnerInfo, as_of: date, since: date | None = None
    ) -> EnrollmentFile | None:
        """Everyone covered under the partner's group on ``as_of`` or later (current and future
        coverage), as an audit (030) file; with ``since``, the members changed from that day to
        ``as_of`` with their own maintenance types (BGN08 2). ``None`` when the partner has no group."""
        ...

    def roster(self, uow: UnitOfWork, partner: PartnerInfo, on: date) -> Sequence[RosterEntry] | None:
        """The same people as ``snapshot(on)``, with Olly's member number and party id, for an 834
        audit's reconciliation. ``None`` when no enrollment is known here (nothing to compare with)."""
        ...


# -- defaults: keep what no domain takes ---------------------------------------------------------
_FIELDS: dict[type, tuple[str, ...]] = {}


def to_jsonable(value: Any) -> Any:
    """A transaction dataclass as JSON (Money as decimal string + currency, dates ISO)."""
    if value is None or isinstance(value, (str, bool, int)):  # a StrEnum is a str: JSON writes its value
        return value
    if isinstance(value, Money):
        return {"amount": value.to_decimal_string(), "currency": value.currency}
    kind = type(value)
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def keep_pending(uow: UnitOfWork, kind: str, status: str, item: Any, origin: EdiOrigin) -> PendingTransaction:
    row = PendingTransaction(
        id=uuid7(),
        file_id=origin.file_id,
        kind=kind,
        status=status,
        segment_number=origin.segment_number,
        byte_offset=origin.byte_offset,
        set_control_number=origin.set_control_number,
        content=to_jsonable(item),
        created_at=uow.clock.now(),
    )
    uow.session.add(row)
    return row


AWAITING_CLAIMS_INTAKE = "AWAITING_CLAIMS_INTAKE"
AWAITING_ENROLLMENT = "AWAITING_ENROLLMENT"


class PendingClaimIntake:
    """Default ``ClaimIntake`` when no claims domain is installed: the claim is accepted for processing
    and kept as "awaiting claims intake"; its pending id is the payer claim number."""

    def submit(self, uow: UnitOfWork, claim: ClaimSubmission, origin: EdiOrigin) -> IntakeResult:
        row = keep_pending(uow, claim.kind.value, AWAITING_CLAIMS_INTAKE, claim, origin)
        return IntakeResult(accepted=True, claim_id=str(row.id), transaction_id=row.id)


class PendingClaimStatus:
    """Default ``ClaimStatusLookup``: a claim kept as awaiting intake is "received" (A1:20), else not found."""

    def lookup(self, uow: UnitOfWork, inquiry: StatusInquiry, origin: EdiOrigin) -> StatusAnswer:
        if inquiry.payer_claim_number:
            try:
                pending_id = uuid.UUID(inquiry.payer_claim_number)
            except ValueError:
                pending_id = None
            if pending_id is not None:
                row = uow.session.scalars(
                    select(PendingTransaction).where(
                        PendingTransaction.id == pending_id, PendingTransaction.status == AWAITING_CLAIMS_INTAKE
                    )
                ).first()
                if row is not None:
                    return StatusAnswer(
                        inquiry,
                        (ClaimStatus("A1", "20", effective=row.created_at.date()),),
                        payer_claim_number=str(row.id),
                    )
        return StatusAnswer(inquiry, (NOT_FOUND,))


class PendingEnrollment:
    """Default ``EnrollmentSink`` when no enrollment adapter is installed: the change is kept."""

    def apply(
        self, uow: UnitOfWork, change: EnrollmentChange, origin: EdiOrigin, partner: PartnerInfo | None
    ) -> EnrollmentOutcome:
        keep_pending(uow, "834", AWAITING_ENROLLMENT, change, origin)
        return EnrollmentOutcome(applied=False, action="PENDING")


class UnavailableEligibility:
    """Default ``EligibilityResponder``: 271 with AAA 42 (unable to respond now)."""

    def answer(self, uow: UnitOfWork, inquiry: EligibilityInquiry, origin: EdiOrigin) -> EligibilityAnswer:
        return EligibilityAnswer(inquiry, found=False, rejection_reason="42")


class NoEnrollmentSource:
    def snapshot(
        self, uow: UnitOfWork, partner: PartnerInfo, as_of: date, since: date | None = None
    ) -> EnrollmentFile | None:
        return None

    def roster(self, uow: UnitOfWork, partner: PartnerInfo, on: date) -> Sequence[RosterEntry] | None:
        return None


class NoRemittances:
    def payment_run(self, uow: UnitOfWork, run_id: str) -> Sequence[Remittance]:
        return ()


@dataclass(frozen=True)
class Links:
    """The adapters the gateway calls; the composition layer replaces the defaults."""

    claims: ClaimIntake = field(default_factory=PendingClaimIntake)
    status: ClaimStatusLookup = field(default_factory=PendingClaimStatus)
    enrollment: EnrollmentSink = field(default_factory=PendingEnrollment)
    eligibility: EligibilityResponder = field(default_factory=UnavailableEligibility)
    remittances: RemittanceSource = field(default_factory=NoRemittances)
    members: EnrollmentSource = field(default_factory=NoEnrollmentSource)


def links_of(uow: UnitOfWork) -> Links:
    """The links installed on the database (``db.session_info["edi_links"]``), else the defaults."""
    links = uow.session.info.get("edi_links")
    return links if isinstance(links, Links) else Links()
