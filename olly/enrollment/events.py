"""Events the enrollment domain publishes (see docs/events.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from olly.kernel.events import Amount, Currency, EventPayload

CoverageType = Literal["MEDICAL", "DENTAL", "VISION", "PHARMACY"]
TierCode = Literal["EE", "EE+SP", "EE+CH", "EE+FAM"]


class EnrollmentSubmitted(EventPayload):
    """An enrollment election was submitted (through the API or an 834)."""

    TOPIC: ClassVar[str] = "enrollment.enrollment.submitted"

    event_type: Literal["ENROLLMENT_SUBMITTED"] = "ENROLLMENT_SUBMITTED"
    enrollment_id: uuid.UUID
    member_id: uuid.UUID
    group_id: uuid.UUID | None = None
    plan_id: uuid.UUID
    coverage_type: CoverageType = "MEDICAL"
    election_type: Literal[
        "NEW",
        "ADD_DEPENDENT",
        "REMOVE_DEPENDENT",
        "REINSTATE_DEPENDENT",
        "PLAN_CHANGE",
        "REINSTATEMENT",
        "RENEWAL",
        "COBRA",
    ]
    effective_date: date
    tier_code: TierCode
    member_premium: Amount
    total_premium: Amount
    currency: Currency = "USD"
    dependent_count: int
    submitted_at: datetime


class EnrollmentActivated(EventPayload):
    """An enrollment became active coverage from ``effectiveDate``."""

    TOPIC: ClassVar[str] = "enrollment.enrollment.activated"

    event_type: Literal["ENROLLMENT_ACTIVATED"] = "ENROLLMENT_ACTIVATED"
    enrollment_id: uuid.UUID
    member_id: uuid.UUID
    group_id: uuid.UUID | None = None
    plan_id: uuid.UUID
    coverage_type: CoverageType = "MEDICAL"
    effective_date: date
    tier_code: TierCode
    activated_at: datetime


class EnrollmentTerminated(EventPayload):
    """An enrollment ends on ``terminationDate`` (the last covered day)."""

    TOPIC: ClassVar[str] = "enrollment.enrollment.terminated"

    event_type: Literal["ENROLLMENT_TERMINATED"] = "ENROLLMENT_TERMINATED"
    enrollment_id: uuid.UUID
    member_id: uuid.UUID
    plan_id: uuid.UUID
    coverage_type: CoverageType = "MEDICAL"
    termination_date: date
    reason: Literal["VOLUNTARY", "NON_PAYMENT", "LOSS_OF_ELIGIBILITY", "FRAUD", "OTHER"]
    terminated_at: datetime
    detailed_reason: (
        Literal[
            "VOLUNTARY",
            "EMPLOYMENT_ENDED",
            "NON_PAYMENT",
            "FRAUD",
            "DEATH",
            "AGED_OUT",
            "DIVORCE",
            "OTHER_GROUP_COVERAGE",
            "MEDICARE_ENTITLEMENT",
            "EMPLOYEE_MEDICARE_ENTITLEMENT",
        ]
        | None
    ) = None
    """Olly's own reason, finer than the catalog's ``reason`` (a COBRA continuation ended by other group
    cover is ``LOSS_OF_ELIGIBILITY`` there, ``OTHER_GROUP_COVERAGE`` here; a spouse leaving the employee's
    continuation policy after the employee's Medicare entitlement, ``EMPLOYEE_MEDICARE_ENTITLEMENT``).
    Absent from events before Avro v2: read ``reason`` then."""


class EnrollmentPlanChanged(EventPayload):
    """An enrolled member moved to another plan or coverage tier from ``effectiveDate``."""

    TOPIC: ClassVar[str] = "enrollment.enrollment.plan_changed"

    event_type: Literal["PLAN_CHANGED"] = "PLAN_CHANGED"
    enrollment_id: uuid.UUID
    member_id: uuid.UUID
    previous_plan_id: uuid.UUID
    plan_id: uuid.UUID
    effective_date: date
    tier_code: TierCode
    member_premium: Amount
    total_premium: Amount
    currency: Currency = "USD"
    changed_at: datetime


class UnderwritingFlagged(EventPayload):
    """An underwriting finding was recorded on ``memberId`` of an enrollment (ids only).

    What it says (the flag, the conditions and their waiting period) is health information:
    consumers read it through enrollment's public functions, never from the event."""

    TOPIC: ClassVar[str] = "enrollment.underwriting.flagged"

    event_type: Literal["UNDERWRITING_FLAGGED"] = "UNDERWRITING_FLAGGED"
    enrollment_id: uuid.UUID
    member_id: uuid.UUID
    flag_id: uuid.UUID
    flagged_at: datetime


class UnderwritingWithdrawn(EventPayload):
    """An underwriting finding on ``memberId`` of an enrollment was withdrawn and applies no more.
    Why (the reason and the underwriter's note) stays in enrollment with the finding; consumers
    read what still applies through enrollment's public functions."""

    TOPIC: ClassVar[str] = "enrollment.underwriting.withdrawn"

    event_type: Literal["UNDERWRITING_WITHDRAWN"] = "UNDERWRITING_WITHDRAWN"
    enrollment_id: uuid.UUID
    member_id: uuid.UUID
    flag_id: uuid.UUID
    withdrawn_at: datetime


class CobraNoticeSent(EventPayload):
    """A COBRA election notice went out; the election window closes on ``electionDeadline``."""

    TOPIC: ClassVar[str] = "enrollment.cobra.notice_sent"

    event_type: Literal["COBRA_NOTICE_SENT"] = "COBRA_NOTICE_SENT"
    cobra_case_id: uuid.UUID
    member_id: uuid.UUID
    qualifying_event: Literal[
        "TERMINATION", "REDUCED_HOURS", "DIVORCE", "DEATH", "MEDICARE_ENTITLEMENT", "LOSS_OF_DEPENDENT_STATUS"
    ]
    qualifying_event_date: date
    election_deadline: date
    notice_sent_at: datetime


class CobraElected(EventPayload):
    """A qualified beneficiary elected COBRA continuation coverage."""

    TOPIC: ClassVar[str] = "enrollment.cobra.elected"

    event_type: Literal["COBRA_ELECTED"] = "COBRA_ELECTED"
    cobra_case_id: uuid.UUID
    member_id: uuid.UUID
    plan_id: uuid.UUID
    coverage_start_date: date
    coverage_end_date: date
    first_premium_due_date: date
    monthly_premium: Amount
    currency: Currency = "USD"
    elected_at: datetime


class CobraExtended(EventPayload):
    """A qualified beneficiary's COBRA continuation now ends later, on ``coverageEndDate``."""

    TOPIC: ClassVar[str] = "enrollment.cobra.extended"

    event_type: Literal["COBRA_EXTENDED"] = "COBRA_EXTENDED"
    cobra_case_id: uuid.UUID
    member_id: uuid.UUID
    extension: Literal["DISABILITY", "SECOND_EVENT"]
    previous_coverage_end_date: date
    coverage_end_date: date
    extended_at: datetime


class CobraEnded(EventPayload):
    """A qualified beneficiary's COBRA continuation ended early; ``coverageEndDate`` was its last day."""

    TOPIC: ClassVar[str] = "enrollment.cobra.ended"

    event_type: Literal["COBRA_ENDED"] = "COBRA_ENDED"
    cobra_case_id: uuid.UUID
    member_id: uuid.UUID
    reason: Literal["OTHER_GROUP_COVERAGE", "MEDICARE_ENTITLEMENT", "DEATH", "NON_PAYMENT", "CANCELLED"]
    coverage_end_date: date
    ended_at: datetime
