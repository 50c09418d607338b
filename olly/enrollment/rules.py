"""Pure enrollment rules: who may be covered, from when, and which changes are allowed.

Every function takes plain values and frozen dataclasses and returns a decision; nothing here reads
the clock or the database. "Today" is always an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from olly.codesets import icd10
from olly.kernel.errors import BusinessRuleViolation, FieldError, ValidationFailed
from olly.kernel.periods import add_months, age_on, end_of_month


class Market(StrEnum):
    GROUP = "GROUP"
    """Employer group cover."""
    INDIVIDUAL = "INDIVIDUAL"
    """ACA individual market."""
    SUM_INSURED = "SUM_INSURED"
    """Sum-insured products (family floaters and individual covers)."""
    COBRA = "COBRA"
    """COBRA continuation of an employer group plan, billed directly to the qualified beneficiary."""


class Relationship(StrEnum):
    SELF = "SELF"
    SPOUSE = "SPOUSE"
    DOMESTIC_PARTNER = "DOMESTIC_PARTNER"
    CHILD = "CHILD"
    PARENT = "PARENT"
    PARENT_IN_LAW = "PARENT_IN_LAW"
    SIBLING = "SIBLING"


class TransactionType(StrEnum):
    NEW = "NEW"
    COBRA_ELECTION = "COBRA_ELECTION"
    COBRA_EXTENSION = "COBRA_EXTENSION"
    """Continuation goes on past its first maximum (disability, a second qualifying event)."""
    ADD_DEPENDENT = "ADD_DEPENDENT"
    REMOVE_DEPENDENT = "REMOVE_DEPENDENT"
    PLAN_CHANGE = "PLAN_CHANGE"
    TERMINATION = "TERMINATION"
    REINSTATEMENT = "REINSTATEMENT"
    REINSTATE_DEPENDENT = "REINSTATE_DEPENDENT"
    """A dependent's last removal undone (the policy stays in force; REINSTATEMENT is the policy's)."""
    RENEWAL = "RENEWAL"


class QualifyingEvent(StrEnum):
    OPEN_ENROLLMENT = "OPEN_ENROLLMENT"
    NEW_HIRE = "NEW_HIRE"
    BIRTH = "BIRTH"
    ADOPTION = "ADOPTION"
    MARRIAGE = "MARRIAGE"
    LOSS_OF_OTHER_COVERAGE = "LOSS_OF_OTHER_COVERAGE"
    DIVORCE = "DIVORCE"
    DEATH = "DEATH"
    AGED_OUT = "AGED_OUT"
    MOVE = "MOVE"
    VOLUNTARY = "VOLUNTARY"


class TerminationReason(StrEnum):
    VOLUNTARY = "VOLUNTARY"
    EMPLOYMENT_ENDED = "EMPLOYMENT_ENDED"
    NON_PAYMENT = "NON_PAYMENT"
    FRAUD = "FRAUD"
    DEATH = "DEATH"
    AGED_OUT = "AGED_OUT"
    DIVORCE = "DIVORCE"


#: Who may be a dependent, per market. Sum-insured family products (seed 002) also cover parents,
#: parents-in-law and siblings.
ALLOWED_DEPENDENTS: dict[Market, frozenset[Relationship]] = {
    Market.GROUP: frozenset({Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER, Relationship.CHILD}),
    Market.INDIVIDUAL: frozenset({Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER, Relationship.CHILD}),
    Market.COBRA: frozenset({Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER, Relationship.CHILD}),
    Market.SUM_INSURED: frozenset(
        {
            Relationship.SPOUSE,
            Relationship.CHILD,
            Relationship.PARENT,
            Relationship.PARENT_IN_LAW,
            Relationship.SIBLING,
        }
    ),
}

#: ACA: dependent children may stay on a parent's plan until they turn 26.
CHILD_AGE_LIMIT = 26
#: Days after a qualifying life event to request a special enrollment (DOMAIN.md).
SPECIAL_ENROLLMENT_DAYS = {Market.GROUP: 30, Market.INDIVIDUAL: 60, Market.SUM_INSURED: 30, Market.COBRA: 30}
#: Reasons that allow a termination dated in the past.
RETROACTIVE_REASONS = frozenset({TerminationReason.NON_PAYMENT, TerminationReason.FRAUD})
#: Events whose coverage starts on the event date itself, not the first of the next month.
EVENT_DATE_EFFECTIVE = frozenset({QualifyingEvent.BIRTH, QualifyingEvent.ADOPTION})


@dataclass(frozen=True, slots=True)
class Person:
    relationship: Relationship
    birth_date: date


def dependent_problems(market: Market, dependent: Person, on: date) -> list[FieldError]:
    """Why ``dependent`` cannot be covered under a subscriber on ``on`` (empty when they can)."""
    problems: list[FieldError] = []
    if dependent.relationship == Relationship.SELF:
        problems.append(FieldError("relationship", "a dependent cannot be the subscriber", "invalid_relationship"))
    elif dependent.relationship not in ALLOWED_DEPENDENTS[market]:
        problems.append(
            FieldError(
                "relationship",
                f"{dependent.relationship.value} cannot be covered in the {market.value} market",
                "relationship_not_covered",
            )
        )
    if dependent.birth_date > on:
        problems.append(FieldError("birth_date", "is after the coverage date", "born_after_coverage"))
    if (
        market != Market.SUM_INSURED
        and dependent.relationship == Relationship.CHILD
        and age_on(dependent.birth_date, on) >= CHILD_AGE_LIMIT
    ):
        problems.append(FieldError("birth_date", f"a child is covered until age {CHILD_AGE_LIMIT}", "aged_out"))
    return problems


def child_coverage_end(birth_date: date) -> date:
    """Last day a child is covered: the end of the month in which they turn 26 (a common plan rule)."""
    return end_of_month(add_months(birth_date, CHILD_AGE_LIMIT * 12))


def special_enrollment_effective_date(
    market: Market, event: QualifyingEvent, event_date: date, requested_on: date
) -> date:
    """The coverage start for a change requested on ``requested_on``.

    * Open enrollment and a new hire: the date given is the coverage start (the plan year's first day,
      or the employer's eligibility date after any waiting period); a new hire must still be reported
      within the window.
    * Birth and adoption cover from the event date itself, even when reported late, as long as the
      request is inside the window.
    * Other qualifying events start on the first of the month after the request.
    """
    if event == QualifyingEvent.OPEN_ENROLLMENT:
        return event_date
    window = SPECIAL_ENROLLMENT_DAYS[market]
    if requested_on > event_date + timedelta(days=window):
        raise BusinessRuleViolation(
            f"the special enrollment window of {window} days after the {event.value.lower()} has closed",
            extra={"field": "event_date"},
        )
    if event == QualifyingEvent.NEW_HIRE:
        return event_date
    if requested_on < event_date:
        raise ValidationFailed([FieldError("event_date", "is in the future", "future_event")])
    if event in EVENT_DATE_EFFECTIVE:
        return event_date
    return first_of_next_month(requested_on)


def first_of_next_month(day: date) -> date:
    return end_of_month(day) + timedelta(days=1)


def termination_date(requested: date | None, reason: TerminationReason, today: date) -> date:
    """The last covered day of a termination.

    Terminations take effect at the end of a month (the requested date's month, or this month when
    none is given). A date in the past is refused unless the reason is non-payment or fraud, the only
    grounds on which the ACA allows a retroactive termination (rescission).
    """
    if requested is None:
        return end_of_month(today)
    if requested < today and reason not in RETROACTIVE_REASONS:
        raise BusinessRuleViolation(
            "a termination cannot be dated in the past unless it is for non-payment or fraud",
            extra={"field": "termination_date"},
        )
    if reason in RETROACTIVE_REASONS:
        return requested  # non-payment terminations are dated exactly (e.g. end of a grace month)
    return end_of_month(requested)


#: Markets where medical underwriting is allowed. ACA individual and small-group markets (and, in
#: practice, employer groups under HIPAA's non-discrimination rules) rate without health status.
UNDERWRITTEN_MARKETS = frozenset({Market.SUM_INSURED})
UNDERWRITING_FLAGS = frozenset({"PRE_EXISTING_DISEASE", "NAMED_ILLNESS", "LOADING", "EXCLUSION"})
#: Flags that may name their condition's ICD-10-CM codes.
CONDITION_FLAGS = frozenset({"PRE_EXISTING_DISEASE", "NAMED_ILLNESS", "EXCLUSION"})
#: Pre-existing disease waiting periods allowed for sum-insured products (DOMAIN.md: 2-4 years).
PRE_EXISTING_WAIT_MONTHS = (24, 48)


def underwriting_problems(
    market: Market,
    flag: str,
    waiting_period_months: int | None,
    loading_percent: int | None,
    diagnosis_codes: Sequence[str] = (),
) -> list[FieldError]:
    """Why an underwriting flag may not be recorded (empty when it may)."""
    problems: list[FieldError] = []
    if market not in UNDERWRITTEN_MARKETS:
        problems.append(
            FieldError("flag", f"medical underwriting is not allowed in the {market.value} market", "not_allowed")
        )
    if flag not in UNDERWRITING_FLAGS:
        problems.append(FieldError("flag", f"must be one of {', '.join(sorted(UNDERWRITING_FLAGS))}", "invalid_choice"))
    low, high = PRE_EXISTING_WAIT_MONTHS
    if flag == "PRE_EXISTING_DISEASE" and not (waiting_period_months and low <= waiting_period_months <= high):
        problems.append(FieldError("waiting_period_months", f"must be between {low} and {high} months", "out_of_range"))
    if flag == "LOADING" and not (loading_percent and 0 < loading_percent <= 100):
        problems.append(FieldError("loading_percent", "must be between 1 and 100", "out_of_range"))
    for index, code in enumerate(diagnosis_codes):
        if not icd10.is_valid_diagnosis(code):
            problems.append(FieldError(f"diagnosis_codes.{index}", "is not an ICD-10-CM code", "invalid_code"))
    if diagnosis_codes and flag not in CONDITION_FLAGS:
        problems.append(FieldError("diagnosis_codes", "name the condition of a disease or illness flag", "not_allowed"))
    return problems


class WithdrawalReason(StrEnum):
    """Why an underwriting finding was withdrawn: a code, so reports and reviews read it without
    opening the sealed note."""

    WRONG_PERSON = "WRONG_PERSON"
    """Recorded on someone else covered by the policy."""
    WRONG_CONDITION = "WRONG_CONDITION"
    """The condition or its codes were wrong (a corrected finding may be recorded)."""
    DUPLICATE = "DUPLICATE"
    """The same finding was recorded twice."""
    NOT_SUBSTANTIATED = "NOT_SUBSTANTIATED"
    """The medical evidence does not bear the finding out."""
    OTHER = "OTHER"
    """Explained in the note."""


def withdrawal_problems(reason: WithdrawalReason, note: str | None) -> list[FieldError]:
    """Why a finding may not be withdrawn with this reason (empty when it may)."""
    if reason is WithdrawalReason.OTHER and not (note and note.strip()):
        return [FieldError("note", "explain a withdrawal for another reason", "required")]
    return []


def tier_code(relationships: list[Relationship]) -> str:
    """The group tier for a family: EE, EE+SP, EE+CH or EE+FAM."""
    spouse = any(r in {Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER} for r in relationships)
    child = any(r == Relationship.CHILD for r in relationships)
    if spouse and child:
        return "EE+FAM"
    if spouse:
        return "EE+SP"
    if child:
        return "EE+CH"
    return "EE"


def terms_in_force(periods: Sequence[tuple[date, date]], start: date, end: date) -> list[tuple[int, date, date]]:
    """Which term is in force on each day from ``start`` to ``end``, as runs of (index in
    ``periods``, first day, last day). ``periods`` are the terms' (start, end) in force order: where
    two cover a day, the later one is in force (a repricing or a plan change starts a term that
    overlaps the one it replaces). Days no term covers are left out."""
    cuts = {start}
    for period_start, period_end in periods:
        cuts |= {day for day in (period_start, period_end + timedelta(days=1)) if start < day <= end}
    runs: list[tuple[int, date, date]] = []
    ordered = sorted(cuts)
    for position, cut in enumerate(ordered):
        last = ordered[position + 1] - timedelta(days=1) if position + 1 < len(ordered) else end
        index = next((i for i in reversed(range(len(periods))) if periods[i][0] <= cut <= periods[i][1]), None)
        if index is None:
            continue
        if runs and runs[-1][0] == index and runs[-1][2] + timedelta(days=1) == cut:
            runs[-1] = (index, runs[-1][1], last)
        else:
            runs.append((index, cut, last))
    return runs


# ---------------------------------------------------------------------------------------------
# COBRA continuation (DOMAIN.md; 29 U.S.C. 1161-1168, simplified)
class CobraEvent(StrEnum):
    """Qualifying events that give a right to continue group cover (the catalog's names)."""

    TERMINATION = "TERMINATION"
    """The employee's employment ended (for any reason but gross misconduct)."""
    REDUCED_HOURS = "REDUCED_HOURS"
    DIVORCE = "DIVORCE"
    """Divorce or legal separation: the spouse (and children covered through them) lose cover."""
    DEATH = "DEATH"
    LOSS_OF_DEPENDENT_STATUS = "LOSS_OF_DEPENDENT_STATUS"
    """A child ceases to be a dependent under the plan (ages out)."""


#: Months of continuation per qualifying event: 18 for the employee's own events, 36 for a
#: dependent's loss of eligibility (the extensions of an 18-month event are below).
COBRA_MONTHS: dict[CobraEvent, int] = {
    CobraEvent.TERMINATION: 18,
    CobraEvent.REDUCED_HOURS: 18,
    CobraEvent.DIVORCE: 36,
    CobraEvent.DEATH: 36,
    CobraEvent.LOSS_OF_DEPENDENT_STATUS: 36,
}
#: Events of the employee's employment: every person covered on the policy loses cover.
COBRA_EMPLOYMENT_EVENTS = frozenset({CobraEvent.TERMINATION, CobraEvent.REDUCED_HOURS})
#: Days to elect, counted from the later of the notice date and the first day without cover.
COBRA_ELECTION_DAYS = 60
#: Days after the election to pay the first premium (later premiums have a 30-day grace).
COBRA_FIRST_PREMIUM_DAYS = 45
#: The continuation premium, as a percentage of the full group premium (employee and employer share).
COBRA_PREMIUM_PERCENT = 102
#: The disability extension: 29 months in all, at up to 150 % from the 19th month.
COBRA_DISABILITY_MONTHS = 29
COBRA_DISABILITY_PREMIUM_PERCENT = 150
#: The beneficiary must have been disabled at some time in the first 60 days of continuation.
COBRA_DISABILITY_ONSET_DAYS = 60
#: Days the beneficiary has to tell the plan of a disability determination or a second event.
COBRA_NOTICE_DAYS = 60
#: The longest continuation of all (a second qualifying event, Medicare entitlement).
COBRA_MAXIMUM_MONTHS = 36
#: Months of continuation that a disability or a second qualifying event can extend.
COBRA_EXTENDABLE_MONTHS = 18
#: The employer tells the plan administrator of its events (termination, reduced hours, death)
#: within 30 days; the administrator sends the election notice within 14 days of being told, or
#: within 44 days of the event when the employer is the administrator (29 U.S.C. 1166(a)(2), (c)).
COBRA_EMPLOYER_NOTICE_DAYS = 30
COBRA_ADMINISTRATOR_NOTICE_DAYS = 14
COBRA_EMPLOYER_EVENTS = frozenset({CobraEvent.TERMINATION, CobraEvent.REDUCED_HOURS, CobraEvent.DEATH})


class CobraExtension(StrEnum):
    """Why a beneficiary's continuation lasts longer than their qualifying event's own months."""

    DISABILITY = "DISABILITY"
    SECOND_EVENT = "SECOND_EVENT"
    MEDICARE_ENTITLEMENT = "MEDICARE_ENTITLEMENT"
    """The employee became entitled to Medicare in the 18 months before the employment event."""


class CobraSecondEvent(StrEnum):
    """Events that, during an 18-month continuation, give a spouse or child 36 months."""

    DEATH = "DEATH"
    DIVORCE = "DIVORCE"
    LOSS_OF_DEPENDENT_STATUS = "LOSS_OF_DEPENDENT_STATUS"
    MEDICARE_ENTITLEMENT = "MEDICARE_ENTITLEMENT"
    """The employee's entitlement to Medicare."""


class CobraRemoval(StrEnum):
    """Why a spouse or child leaves the employee's continuation policy when no ordinary termination
    reason says it (the removal's, the transaction's and ``detailedReason``'s code)."""

    EMPLOYEE_MEDICARE_ENTITLEMENT = "EMPLOYEE_MEDICARE_ENTITLEMENT"
    """The employee became entitled to Medicare and the group plan ends a spouse's and children's
    cover then: a second qualifying event for them."""


class CobraEnd(StrEnum):
    """Why continuation ended before its maximum period."""

    OTHER_GROUP_COVERAGE = "OTHER_GROUP_COVERAGE"
    """Covered by another group health plan after the election."""
    MEDICARE_ENTITLEMENT = "MEDICARE_ENTITLEMENT"
    """Entitled to Medicare after the election."""
    DEATH = "DEATH"


class CobraCaseEnd(StrEnum):
    """Why a beneficiary's continuation ended before its maximum period (a case's ``end_reason``):
    the early ends a beneficiary reports (``CobraEnd``), and the continuation policy itself ended."""

    OTHER_GROUP_COVERAGE = "OTHER_GROUP_COVERAGE"
    MEDICARE_ENTITLEMENT = "MEDICARE_ENTITLEMENT"
    DEATH = "DEATH"
    NON_PAYMENT = "NON_PAYMENT"
    """The premium was not paid in time (29 U.S.C. 1162(2)(C)): the continuation policy lapsed."""
    CANCELLED = "CANCELLED"
    """The continuation policy was ended otherwise (the beneficiary dropped it, or a termination)."""


def cobra_case_end(reason: TerminationReason) -> CobraCaseEnd:
    """A continuation policy's termination, as the end of its beneficiaries' cases."""
    if reason is TerminationReason.NON_PAYMENT:
        return CobraCaseEnd.NON_PAYMENT
    if reason is TerminationReason.DEATH:
        return CobraCaseEnd.DEATH
    return CobraCaseEnd.CANCELLED


class CobraRefusal(StrEnum):
    """Why an extension of continuation is refused (the problem's ``code``)."""

    NOT_EXTENDABLE = "cobra_not_an_18_month_event"
    NOT_ELECTED = "cobra_not_elected"
    DISABLED_TOO_LATE = "cobra_disability_after_first_60_days"
    NOTICE_TOO_LATE = "cobra_notice_too_late"
    EVENT_OUTSIDE_CONTINUATION = "cobra_event_outside_continuation"
    ALREADY_EXTENDED = "cobra_already_extended"
    NOT_FOR_THIS_PERSON = "cobra_second_event_not_for_this_person"
    NO_LOSS_OF_COVER = "cobra_second_event_without_loss_of_cover"


def cobra_end_problem(reason: CobraEnd, event_date: date, elected_on: date) -> str | None:
    """Why other group cover or Medicare does not end continuation (None when it does): only cover or
    an entitlement that begins after the election ends it (29 U.S.C. 1162(2)(D))."""
    if reason != CobraEnd.DEATH and event_date <= elected_on:
        return f"only {reason.value.lower().replace('_', ' ')} that begins after the election ends continuation"
    return None


@dataclass(frozen=True, slots=True)
class CobraWindow:
    loss_date: date
    """The first day without group cover (the day after the last covered day)."""
    election_deadline: date
    """The last day an election is accepted (inclusive)."""
    continuation_end: date
    """The last day continuation coverage can last."""


def cobra_window(event: CobraEvent, last_covered_day: date, notice_date: date) -> CobraWindow:
    """The election window and the maximum coverage period of one qualified beneficiary.

    The window is 60 days from the later of the notice date and the loss of cover; the coverage runs
    18 or 36 months from the loss of cover: a loss on 1 April ends on 30 September a year and a half
    later (the day before the same day of the month, 18 months on)."""
    loss = last_covered_day + timedelta(days=1)
    return CobraWindow(
        loss_date=loss,
        election_deadline=max(notice_date, loss) + timedelta(days=COBRA_ELECTION_DAYS),
        continuation_end=add_months(loss, COBRA_MONTHS[event]) - timedelta(days=1),
    )


@dataclass(frozen=True, slots=True)
class CobraNoticeDeadlines:
    """When the election notice of an employer's event was due, and who was late."""

    notice_due: date
    """The administrator's deadline: 14 days after the employer told it, else 44 days after the event."""
    is_notice_late: bool
    """The notice went out after ``notice_due``."""
    employer_notice_due: date
    """30 days after the event."""
    is_employer_late: bool | None
    """The employer told the administrator after ``employer_notice_due`` (None: the day is not known)."""


def cobra_notice_deadlines(
    event_date: date, employer_notified_on: date | None, notice_date: date
) -> CobraNoticeDeadlines:
    """The notice deadlines of an employer's qualifying event (the days counted from the event)."""
    employer_due = event_date + timedelta(days=COBRA_EMPLOYER_NOTICE_DAYS)
    if employer_notified_on is None:
        due = employer_due + timedelta(days=COBRA_ADMINISTRATOR_NOTICE_DAYS)
    else:
        due = employer_notified_on + timedelta(days=COBRA_ADMINISTRATOR_NOTICE_DAYS)
    return CobraNoticeDeadlines(
        notice_due=due,
        is_notice_late=notice_date > due,
        employer_notice_due=employer_due,
        is_employer_late=None if employer_notified_on is None else employer_notified_on > employer_due,
    )


def cobra_premium(full_group_premium_minor: int, percent: int = COBRA_PREMIUM_PERCENT) -> int:
    """102 % (150 % in a disability extension) of the full group premium, in minor units, rounded
    half up to the minor unit (the beneficiary never pays more, up to half a cent of rounding)."""
    if full_group_premium_minor < 0:
        raise ValueError("a premium is never negative")
    return (full_group_premium_minor * percent + 50) // 100


def continuation_end(start: date, months: int) -> date:
    """The last day of ``months`` of continuation counted from ``start``."""
    return add_months(start, months) - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CobraCaseFacts:
    """What the extension rules need of one beneficiary's case."""

    event: CobraEvent
    relationship: Relationship
    event_date: date
    loss_date: date
    continuation_end: date
    elected: bool
    extension: CobraExtension | None


@dataclass(frozen=True, slots=True)
class CobraExtended:
    continuation_end: date
    premium_increase_from: date | None
    """The first day of the 150 % premium (the 19th month), for a disability extension."""
    notice_deadline: date
    """The last day the plan could be told of what extended it (the report was in time)."""


@dataclass(frozen=True, slots=True)
class CobraRefused:
    refusal: CobraRefusal
    message: str
    deadline: date | None = None


def _extendable(case: CobraCaseFacts) -> CobraRefused | None:
    if COBRA_MONTHS[case.event] != COBRA_EXTENDABLE_MONTHS:
        return CobraRefused(
            CobraRefusal.NOT_EXTENDABLE, f"a {case.event.value.lower()} already gives the longest continuation"
        )
    if not case.elected:
        return CobraRefused(CobraRefusal.NOT_ELECTED, "the beneficiary has not elected continuation")
    return None


def cobra_disability_extension(
    case: CobraCaseFacts, disabled_since: date, determined_on: date, today: date
) -> CobraExtended | CobraRefused:
    """The 29-month disability extension of an 18-month event (29 U.S.C. 1162(2)(A)).

    The Social Security Administration must have found the beneficiary disabled at some time in the
    first 60 days of continuation (a disability that began before the event counts), and the plan
    must hear of the determination within 60 days of the latest of the determination, the event and
    the loss of cover, and before the first 18 months end."""
    refused = _extendable(case)
    if refused is not None:
        return refused
    if case.extension in {CobraExtension.DISABILITY, CobraExtension.SECOND_EVENT}:
        return CobraRefused(CobraRefusal.ALREADY_EXTENDED, f"continuation is already extended ({case.extension.value})")
    last_onset = case.loss_date + timedelta(days=COBRA_DISABILITY_ONSET_DAYS - 1)
    if disabled_since > last_onset:
        return CobraRefused(
            CobraRefusal.DISABLED_TOO_LATE,
            f"the disability must have begun by {last_onset.isoformat()}, the 60th day of continuation",
        )
    eighteen_months = continuation_end(case.loss_date, COBRA_EXTENDABLE_MONTHS)
    deadline = min(
        max(determined_on, case.event_date, case.loss_date) + timedelta(days=COBRA_NOTICE_DAYS), eighteen_months
    )
    if today > deadline:
        return CobraRefused(
            CobraRefusal.NOTICE_TOO_LATE,
            f"the plan had to be told of the disability determination by {deadline.isoformat()} ({COBRA_NOTICE_DAYS} "
            f"days after it, and within the first {COBRA_EXTENDABLE_MONTHS} months of continuation); told on "
            f"{today.isoformat()}",
            deadline,
        )
    return CobraExtended(
        continuation_end(case.loss_date, COBRA_DISABILITY_MONTHS),
        add_months(case.loss_date, COBRA_EXTENDABLE_MONTHS),
        deadline,
    )


#: Who a second qualifying event can extend: spouses (and partners) and children, not the employee.
_SECOND_EVENT_RELATIONSHIPS = {
    CobraSecondEvent.DEATH: frozenset({Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER, Relationship.CHILD}),
    CobraSecondEvent.MEDICARE_ENTITLEMENT: frozenset(
        {Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER, Relationship.CHILD}
    ),
    CobraSecondEvent.DIVORCE: frozenset({Relationship.SPOUSE, Relationship.DOMESTIC_PARTNER}),
    CobraSecondEvent.LOSS_OF_DEPENDENT_STATUS: frozenset({Relationship.CHILD}),
}


def cobra_second_event_extension(
    case: CobraCaseFacts,
    event: CobraSecondEvent,
    event_date: date,
    today: date,
    *,
    group_cover_would_end: bool = False,
) -> CobraExtended | CobraRefused:
    """A second qualifying event during an 18-month (or 29-month) continuation gives a spouse or a
    child 36 months in all, counted from the original loss of cover (29 U.S.C. 1162(2)(A)(ii)). It
    must happen while they are on continuation, and the plan must hear of it within 60 days.

    An event is a second qualifying event only if it would have ended the person's group cover had
    the first event not happened (26 CFR 54.4980B-7, Q&A-4(b)). A death, a divorce and a child's
    loss of dependent status always would; the employee's entitlement to Medicare only when the
    group plan's terms end a spouse's and children's cover then (``group_cover_would_end``), which
    the Medicare secondary payer rules generally forbid an employer of 20 or more to do for an active
    employee's family (42 U.S.C. 1395y(b)(1))."""
    if case.relationship not in _SECOND_EVENT_RELATIONSHIPS[event]:
        return CobraRefused(
            CobraRefusal.NOT_FOR_THIS_PERSON,
            f"a {event.value.lower()} is not a second qualifying event for this beneficiary",
        )
    if event == CobraSecondEvent.MEDICARE_ENTITLEMENT and not group_cover_would_end:
        return CobraRefused(
            CobraRefusal.NO_LOSS_OF_COVER,
            "the employee's Medicare entitlement is a second qualifying event only when the group plan ends a "
            "spouse's and children's cover on it",
        )
    refused = _extendable(case)
    if refused is not None:
        return refused
    if case.extension == CobraExtension.SECOND_EVENT:
        return CobraRefused(CobraRefusal.ALREADY_EXTENDED, f"continuation is already extended ({case.extension.value})")
    if not case.loss_date <= event_date <= case.continuation_end:
        return CobraRefused(
            CobraRefusal.EVENT_OUTSIDE_CONTINUATION,
            f"the event must fall in the continuation, {case.loss_date.isoformat()} to "
            f"{case.continuation_end.isoformat()}",
        )
    deadline = cobra_second_event_notice_deadline(event_date)
    if today > deadline:
        return CobraRefused(
            CobraRefusal.NOTICE_TOO_LATE,
            f"the plan had to be told of the {event.value.lower().replace('_', ' ')} of {event_date.isoformat()} "
            f"by {deadline.isoformat()} ({COBRA_NOTICE_DAYS} days after it); told on {today.isoformat()}",
            deadline,
        )
    return CobraExtended(continuation_end(case.loss_date, COBRA_MAXIMUM_MONTHS), None, deadline)


def cobra_second_event_notice_deadline(event_date: date) -> date:
    """The last day the beneficiaries may tell the plan of a second qualifying event (inclusive)."""
    return event_date + timedelta(days=COBRA_NOTICE_DAYS)


def cobra_disability_notice_limit(event: CobraEvent, loss_date: date) -> date | None:
    """The last day any disability determination may be told (the end of the first 18 months of
    continuation), for an event that a disability can extend; None for a 36-month event."""
    if COBRA_MONTHS[event] != COBRA_EXTENDABLE_MONTHS:
        return None
    return continuation_end(loss_date, COBRA_EXTENDABLE_MONTHS)


def cobra_medicare_continuation_end(event_date: date, loss_date: date, entitled_on: date) -> date | None:
    """A spouse's or child's continuation after the employee's termination or reduced hours, when
    the event comes less than 18 months after the employee became entitled to Medicare: the later
    of 36 months from the entitlement and 18 months from the loss of cover (29 U.S.C.
    1162(2)(A)(v)). None when the entitlement does not change the 18 months."""
    if not entitled_on <= event_date < add_months(entitled_on, COBRA_EXTENDABLE_MONTHS):
        return None
    end = continuation_end(entitled_on, COBRA_MAXIMUM_MONTHS)
    eighteen = continuation_end(loss_date, COBRA_EXTENDABLE_MONTHS)
    return end if end > eighteen else None


def cobra_election_problem(today: date, deadline: date) -> str | None:
    """Why an election made on ``today`` is refused (None when it is in time)."""
    if today > deadline:
        return f"the COBRA election window closed on {deadline.isoformat()}"
    return None
