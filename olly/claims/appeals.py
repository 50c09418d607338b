"""Appeals of adverse claim determinations.

A member (or the provider, on the member's behalf) may appeal a denied or partly approved claim
until the appeal deadline: the ``appealDeadline`` of a ``CLAIM_DENIED`` event, otherwise 180 days
after the adjudication date (the ACA minimum, DOMAIN.md). A claim has at most one open appeal. The
decision upholds or overturns the determination (an overturn may name the lines it allows) and
publishes ``claims.appeal.resolved``; on an overturn the claims core re-adjudicates the claim. Claims
are known here through ``AppealableClaim``, kept from ``claims.claim.adjudicated`` events, and, to
check the lines an overturn names, their line numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from olly.claims import authorization_repository as repository
from olly.claims.authorization_models import Appeal, AppealableClaim
from olly.claims.events import AppealResolved, ClaimApproved, ClaimDenied
from olly.claims.models import ClaimLine
from olly.kernel.errors import BusinessRuleViolation, Conflict, FieldError, NotFound, ValidationFailed
from olly.kernel.ids import uuid7
from olly.platform.db import PendingRows, UnitOfWork

DEFAULT_APPEAL_WINDOW_DAYS: Final = 180
"""Days after the adverse determination in which an internal appeal may be filed (ACA minimum)."""
POST_SERVICE_DECISION_DAYS: Final = 60
"""An internal appeal of a post-service claim is decided within 60 days."""
APPEALABLE_STATUSES: Final = frozenset({"DENIED", "PARTIALLY_APPROVED"})


class AppealStatus(StrEnum):
    OPEN = "OPEN"
    UPHELD = "UPHELD"
    OVERTURNED = "OVERTURNED"


class AppealOutcome(StrEnum):
    UPHELD = "UPHELD"
    OVERTURNED = "OVERTURNED"


class AppealWindowClosed(BusinessRuleViolation):
    code = "appeal_window_closed"
    title = "The appeal window has closed"


class ClaimNotAppealable(BusinessRuleViolation):
    code = "claim_not_appealable"
    title = "This claim cannot be appealed"


class AppealAlreadyOpen(Conflict):
    code = "appeal_already_open"
    title = "This claim already has an open appeal"


@dataclass(frozen=True, slots=True)
class AppealFiling:
    claim_id: uuid.UUID
    filed_by: str
    reason: str
    documents_reference: str | None = None


# -- pure rules -----------------------------------------------------------------------------------
def default_appeal_deadline(adjudicated_on: date, window_days: int = DEFAULT_APPEAL_WINDOW_DAYS) -> date:
    """The last day an appeal may be filed: day ``window_days`` after the determination, inclusive."""
    return adjudicated_on + timedelta(days=window_days)


# -- the read model -------------------------------------------------------------------------------
#: The columns of the read model's rows a chunk inserts (``AdjudicationChunk``).
APPEALABLE_COLUMNS: Final = (
    "claim_id",
    "member_id",
    "provider_id",
    "status",
    "denial_reason_code",
    "adjudicated_at",
    "appeal_deadline",
    "event_id",
    "tenant_id",
)
_ADJUDICATED_AT: Final = APPEALABLE_COLUMNS.index("adjudicated_at")


class AdjudicationChunk:
    """The read model's rows of a chunk's claims, read in one query (the appeals consumer's
    ``prepare``). A claim absent here has no row yet: its row is kept as the tuple of its values
    (``APPEALABLE_COLUMNS``), which a later message of the same claim in the chunk finds and
    replaces, and the chunk's new rows are inserted together just before it commits (one
    statement, no object per row). A row read here is changed through the ORM, written with the
    chunk's flush. Without a tenant, new rows are ORM objects too."""

    def __init__(self, uow: UnitOfWork, claim_ids: Collection[uuid.UUID]) -> None:
        self.uow = uow
        self.rows: dict[uuid.UUID, AppealableClaim] = {
            row.claim_id: row for row in repository.appealable_claims(uow.session, set(claim_ids))
        }
        self.new: PendingRows[uuid.UUID, tuple[Any, ...]] | None = None
        if uow.tenant_id is not None:
            self.new = PendingRows(
                uow, lambda rows: repository.insert_appealable_claims(uow.session, APPEALABLE_COLUMNS, rows)
            )

    def added(self, row: AppealableClaim) -> None:
        self.rows[row.claim_id] = row


def record_adjudication(
    uow: UnitOfWork, event_id: uuid.UUID, payload: dict[str, Any], *, chunk: AdjudicationChunk | None = None
) -> AppealableClaim | None:
    """Keep the latest adjudication of a claim (an older or repeated event changes nothing).
    ``chunk``: the rows of the claims of the chunk this event came in, read at once; a claim with
    no row before the chunk gets its row there, as values (None is returned)."""
    if payload.get("eventType") == "CLAIM_DENIED":
        denied = ClaimDenied.model_validate(payload)
        claim_id, member_id, provider_id = denied.claim_id, denied.member_id, denied.provider_id
        status, adjudicated_at, reason = "DENIED", denied.adjudicated_at, denied.denial_reason_code
        deadline = denied.appeal_deadline
    else:
        approved = ClaimApproved.model_validate(payload)
        claim_id, member_id, provider_id = approved.claim_id, approved.member_id, approved.provider_id
        status, adjudicated_at, reason = approved.status, approved.adjudicated_at, None
        deadline = default_appeal_deadline(adjudicated_at.date())
    row = chunk.rows.get(claim_id) if chunk is not None else repository.appealable_claim(uow.session, claim_id)
    if row is None and chunk is not None and chunk.new is not None:
        new = chunk.new.get(claim_id)
        if new is None or not new[_ADJUDICATED_AT] > adjudicated_at:
            values = (claim_id, member_id, provider_id, status, reason, adjudicated_at, deadline, event_id)
            chunk.new[claim_id] = (*values, uow.tenant_id)
        return None
    if row is not None and row.adjudicated_at > adjudicated_at:
        return row
    if row is None:
        row = AppealableClaim(claim_id=claim_id)
        uow.session.add(row)
        if chunk is not None:
            chunk.added(row)
    row.member_id, row.provider_id, row.status = member_id, provider_id, status
    row.denial_reason_code, row.adjudicated_at, row.appeal_deadline = reason, adjudicated_at, deadline
    row.event_id = event_id
    if chunk is None:
        uow.session.flush()
    return row


# -- use cases ------------------------------------------------------------------------------------
def appealable_claim(uow: UnitOfWork, claim_id: uuid.UUID) -> AppealableClaim:
    claim = repository.appealable_claim(uow.session, claim_id)
    if claim is None:
        raise NotFound("no adjudicated claim with this id")
    return claim


def file_appeal(uow: UnitOfWork, filing: AppealFiling) -> Appeal:
    claim = appealable_claim(uow, filing.claim_id)
    if claim.status not in APPEALABLE_STATUSES:
        raise ClaimNotAppealable(f"the claim was {claim.status}; only denied or partly approved claims are appealed")
    today = uow.clock.today()
    if today > claim.appeal_deadline:
        raise AppealWindowClosed(
            f"appeals of this claim were due by {claim.appeal_deadline.isoformat()}",
            extra={"appealDeadline": claim.appeal_deadline.isoformat()},
        )
    if repository.open_appeal_of_claim(uow.session, claim.claim_id) is not None:
        raise AppealAlreadyOpen("decide the open appeal of this claim before filing another")
    now = uow.clock.now()
    appeal = Appeal(
        id=uuid7(),
        claim_id=claim.claim_id,
        open_claim_id=claim.claim_id,
        member_id=claim.member_id,
        provider_id=claim.provider_id,
        level="INTERNAL",
        status=AppealStatus.OPEN,
        reason=filing.reason,
        documents_reference=filing.documents_reference,
        filed_at=now,
        filed_by=filing.filed_by,
        appeal_deadline=claim.appeal_deadline,
        decision_due_at=now + timedelta(days=POST_SERVICE_DECISION_DAYS),
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(appeal)
    except IntegrityError as error:  # another filing for this claim won the race
        raise AppealAlreadyOpen("decide the open appeal of this claim before filing another") from error
    return appeal


def get(uow: UnitOfWork, appeal_id: uuid.UUID) -> Appeal:
    appeal = repository.appeal(uow.session, appeal_id)
    if appeal is None:
        raise NotFound("appeal not found")
    return appeal


def queue(
    uow: UnitOfWork,
    *,
    status: AppealStatus | None = None,
    party_ids: frozenset[uuid.UUID] | None = None,
    provider_ids: frozenset[str] | None = None,
    limit: int = 200,
) -> list[Appeal]:
    return repository.appeal_queue(
        uow.session,
        status=status.value if status else None,
        party_ids=party_ids,
        provider_ids=provider_ids,
        limit=limit,
    )


def decide(
    uow: UnitOfWork,
    appeal_id: uuid.UUID,
    outcome: AppealOutcome,
    note: str,
    decided_by: str,
    *,
    lines: Sequence[int] | None = None,
) -> Appeal:
    """Uphold or overturn an open appeal. ``lines``: the claim's lines an overturn allows (None:
    every line); the claims core then sets aside, on those lines only, the denials an appeal can
    overturn and the examiners' denials and reductions (``service.readjudicate_after_overturn``)."""
    appeal = repository.appeal(uow.session, appeal_id, for_update=True)
    if appeal is None:
        raise NotFound("appeal not found")
    if appeal.status != AppealStatus.OPEN:
        raise Conflict(f"this appeal was already decided ({appeal.status})")
    allowed = _allowed_lines(uow, appeal, outcome, lines)
    now = uow.clock.now()
    appeal.status = outcome.value
    appeal.open_claim_id = None
    appeal.decided_at = now
    appeal.decided_by = decided_by
    appeal.decision_note = note
    appeal.allowed_lines = allowed
    uow.session.flush()
    uow.publish(
        AppealResolved(
            event_type="APPEAL_UPHELD" if outcome is AppealOutcome.UPHELD else "APPEAL_OVERTURNED",
            appeal_id=appeal.id,
            claim_id=appeal.claim_id,
            member_id=appeal.member_id,
            level="INTERNAL",
            resolved_at=now,
        ),
        key=appeal.member_id,
    )
    return appeal


def _allowed_lines(
    uow: UnitOfWork, appeal: Appeal, outcome: AppealOutcome, lines: Sequence[int] | None
) -> list[int] | None:
    """The lines an overturn names, checked against the claim's (sorted); None when it names none."""
    if lines is None:
        return None
    if outcome is not AppealOutcome.OVERTURNED:
        raise ValidationFailed([FieldError("body.lines", "only an overturn names the lines it allows", "invalid")])
    if len(set(lines)) != len(lines):
        raise ValidationFailed([FieldError("body.lines", "names a line twice", "invalid")])
    known = set(uow.session.scalars(select(ClaimLine.line_number).where(ClaimLine.claim_id == appeal.claim_id)))
    unknown = sorted(set(lines) - known)
    if unknown:
        numbers = ", ".join(str(n) for n in unknown)
        raise ValidationFailed([FieldError("body.lines", f"the claim has no line {numbers}", "invalid")])
    return sorted(lines)


def is_overdue(appeal: Appeal, now: datetime) -> bool:
    return appeal.status == AppealStatus.OPEN and now > appeal.decision_due_at
