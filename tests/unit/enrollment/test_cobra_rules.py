"""COBRA extension rules on plain values: the disability extension, a second qualifying event, the
employee's Medicare entitlement, and what ends continuation early."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from olly.enrollment import rules
from olly.enrollment.rules import (
    CobraCaseFacts,
    CobraEnd,
    CobraEvent,
    CobraExtended,
    CobraExtension,
    CobraRefusal,
    CobraRefused,
    CobraSecondEvent,
    Relationship,
)

#: Ana's employment ended on 20 March 2026; group cover ended on 31 March; continuation to 30 September 2027.
ANA = CobraCaseFacts(
    event=CobraEvent.TERMINATION,
    relationship=Relationship.SELF,
    event_date=date(2026, 3, 20),
    loss_date=date(2026, 4, 1),
    continuation_end=date(2027, 9, 30),
    elected=True,
    extension=None,
)
BEN = replace(ANA, relationship=Relationship.SPOUSE)


def test_premiums_at_102_and_150_percent_round_half_up() -> None:
    assert [rules.cobra_premium(m, 150) for m in (60000, 110000, 45675, 45677, 1, 0)] == [
        90000,
        165000,
        68513,  # 68,512.5
        68516,  # 68,515.5
        2,  # 1.5
        0,
    ]
    assert rules.cobra_premium(45675) == 46589


def test_disability_extension_to_29_months_at_150_percent_from_month_19() -> None:
    # disabled since 30 May 2026 (the 60th day of continuation), determined 2 November, told 1 December
    assert rules.cobra_disability_extension(ANA, date(2026, 5, 30), date(2026, 11, 2), date(2026, 12, 1)) == (
        CobraExtended(date(2028, 8, 31), date(2027, 10, 1), date(2027, 1, 1))
    )
    # a disability that began years before the event counts too
    assert isinstance(
        rules.cobra_disability_extension(BEN, date(2019, 1, 1), date(2019, 6, 1), date(2026, 4, 15)), CobraExtended
    )


def test_disability_extension_refusals() -> None:
    def refusal(case: CobraCaseFacts, since: date, determined: date, today: date) -> tuple[CobraRefusal, date | None]:
        decided = rules.cobra_disability_extension(case, since, determined, today)
        assert isinstance(decided, CobraRefused)
        return decided.refusal, decided.deadline

    # 31 May 2026 is the 61st day of continuation
    assert refusal(ANA, date(2026, 5, 31), date(2026, 11, 2), date(2026, 12, 1)) == (
        CobraRefusal.DISABLED_TOO_LATE,
        None,
    )
    # 60 days after the determination of 2 November: 1 January 2027 is the last day
    assert rules.cobra_disability_extension(ANA, date(2026, 5, 1), date(2026, 11, 2), date(2027, 1, 1)) == (
        CobraExtended(date(2028, 8, 31), date(2027, 10, 1), date(2027, 1, 1))
    )
    assert refusal(ANA, date(2026, 5, 1), date(2026, 11, 2), date(2027, 1, 2)) == (
        CobraRefusal.NOTICE_TOO_LATE,
        date(2027, 1, 1),
    )
    # determined on 15 September 2027: the notice is due by 30 September 2027, the 18 months' end
    assert refusal(ANA, date(2026, 5, 1), date(2027, 9, 15), date(2027, 10, 1)) == (
        CobraRefusal.NOTICE_TOO_LATE,
        date(2027, 9, 30),
    )
    # determined before the event: the 60 days run from the loss of cover (1 April → 31 May)
    assert refusal(ANA, date(2025, 1, 1), date(2025, 6, 1), date(2026, 6, 1)) == (
        CobraRefusal.NOTICE_TOO_LATE,
        date(2026, 5, 31),
    )
    divorced = replace(BEN, event=CobraEvent.DIVORCE, continuation_end=date(2029, 3, 31))
    assert refusal(divorced, date(2026, 5, 1), date(2026, 6, 1), date(2026, 6, 2))[0] == CobraRefusal.NOT_EXTENDABLE
    not_elected = replace(ANA, elected=False)
    assert refusal(not_elected, date(2026, 5, 1), date(2026, 6, 1), date(2026, 6, 2))[0] == CobraRefusal.NOT_ELECTED
    extended = replace(ANA, extension=CobraExtension.DISABILITY)
    assert refusal(extended, date(2026, 5, 1), date(2026, 6, 1), date(2026, 6, 2))[0] == CobraRefusal.ALREADY_EXTENDED


def test_second_event_gives_36_months_from_the_original_loss() -> None:
    assert rules.cobra_second_event_extension(
        BEN, CobraSecondEvent.DIVORCE, date(2027, 2, 10), date(2027, 4, 11)
    ) == CobraExtended(date(2029, 3, 31), None, date(2027, 4, 11))
    # during a disability extension too
    disabled = replace(BEN, continuation_end=date(2028, 8, 31), extension=CobraExtension.DISABILITY)
    assert rules.cobra_second_event_extension(
        disabled, CobraSecondEvent.DEATH, date(2028, 1, 5), date(2028, 1, 6)
    ) == CobraExtended(date(2029, 3, 31), None, date(2028, 3, 5))


def test_second_event_refusals() -> None:
    def refusal(case: CobraCaseFacts, event: CobraSecondEvent, on: date, today: date) -> CobraRefusal:
        decided = rules.cobra_second_event_extension(case, event, on, today)
        assert isinstance(decided, CobraRefused)
        return decided.refusal

    assert (
        refusal(ANA, CobraSecondEvent.DEATH, date(2027, 2, 10), date(2027, 2, 11)) == CobraRefusal.NOT_FOR_THIS_PERSON
    )
    child = replace(BEN, relationship=Relationship.CHILD)
    assert refusal(child, CobraSecondEvent.DIVORCE, date(2027, 2, 10), date(2027, 2, 11)) == (
        CobraRefusal.NOT_FOR_THIS_PERSON
    )
    assert refusal(BEN, CobraSecondEvent.DIVORCE, date(2027, 10, 1), date(2027, 10, 2)) == (
        CobraRefusal.EVENT_OUTSIDE_CONTINUATION
    )
    assert refusal(BEN, CobraSecondEvent.DIVORCE, date(2026, 3, 31), date(2026, 4, 2)) == (
        CobraRefusal.EVENT_OUTSIDE_CONTINUATION
    )
    # 60 days after 10 February 2027 is 11 April 2027
    assert refusal(BEN, CobraSecondEvent.DIVORCE, date(2027, 2, 10), date(2027, 4, 12)) == CobraRefusal.NOTICE_TOO_LATE
    assert refusal(
        replace(BEN, extension=CobraExtension.SECOND_EVENT),
        CobraSecondEvent.DEATH,
        date(2027, 2, 10),
        date(2027, 2, 11),
    ) == (CobraRefusal.ALREADY_EXTENDED)
    assert refusal(replace(BEN, elected=False), CobraSecondEvent.DEATH, date(2027, 2, 10), date(2027, 2, 11)) == (
        CobraRefusal.NOT_ELECTED
    )


def test_the_employees_medicare_entitlement_as_a_second_event() -> None:
    # Ana entitled to Medicare on 1 February 2027, told 15 March: only when the group plan would have
    # ended Ben's cover on it (had her employment not ended) is it a second qualifying event
    medicare = CobraSecondEvent.MEDICARE_ENTITLEMENT
    extended = rules.cobra_second_event_extension(
        BEN, medicare, date(2027, 2, 1), date(2027, 3, 15), group_cover_would_end=True
    )
    assert extended == CobraExtended(date(2029, 3, 31), None, date(2027, 4, 2))
    kept = rules.cobra_second_event_extension(BEN, medicare, date(2027, 2, 1), date(2027, 3, 15))
    assert isinstance(kept, CobraRefused)
    assert (kept.refusal, kept.deadline) == (CobraRefusal.NO_LOSS_OF_COVER, None)
    # never for the employee herself (her own entitlement ends her continuation instead)
    own = rules.cobra_second_event_extension(
        ANA, medicare, date(2027, 2, 1), date(2027, 3, 15), group_cover_would_end=True
    )
    assert isinstance(own, CobraRefused) and own.refusal == CobraRefusal.NOT_FOR_THIS_PERSON
    # a child too, and told on the 61st day is too late, the message naming the deadline
    child = replace(BEN, relationship=Relationship.CHILD)
    late = rules.cobra_second_event_extension(
        child, medicare, date(2027, 2, 1), date(2027, 4, 3), group_cover_would_end=True
    )
    assert late == CobraRefused(
        CobraRefusal.NOTICE_TOO_LATE,
        "the plan had to be told of the medicare entitlement of 2027-02-01 by 2027-04-02 (60 days after it); "
        "told on 2027-04-03",
        date(2027, 4, 2),
    )


def test_the_report_deadlines() -> None:
    assert rules.cobra_second_event_notice_deadline(date(2027, 2, 10)) == date(2027, 4, 11)
    assert rules.cobra_second_event_notice_deadline(date(2028, 1, 5)) == date(2028, 3, 5)  # 29 February counts
    # a disability is told by the end of the first 18 months at the latest; a 36-month event has none
    assert rules.cobra_disability_notice_limit(CobraEvent.TERMINATION, date(2026, 4, 1)) == date(2027, 9, 30)
    assert rules.cobra_disability_notice_limit(CobraEvent.REDUCED_HOURS, date(2026, 3, 1)) == date(2027, 8, 31)
    assert rules.cobra_disability_notice_limit(CobraEvent.DIVORCE, date(2026, 4, 1)) is None


def test_medicare_entitlement_before_the_employment_event() -> None:
    # entitled 1 November 2025, employment ended 20 March 2026: 36 months from the entitlement
    assert rules.cobra_medicare_continuation_end(date(2026, 3, 20), date(2026, 4, 1), date(2025, 11, 1)) == date(
        2028, 10, 31
    )
    # entitled on 21 September 2024 (event 17 months and 30 days later): 36 months end 20 September 2027,
    # before the 18 months from the loss (30 September 2027), so the 18 months stand
    assert rules.cobra_medicare_continuation_end(date(2026, 3, 20), date(2026, 4, 1), date(2024, 9, 21)) is None
    # 18 months or more before the event: not this rule
    assert rules.cobra_medicare_continuation_end(date(2026, 3, 20), date(2026, 4, 1), date(2024, 9, 20)) is None
    # on the event's own day
    assert rules.cobra_medicare_continuation_end(date(2026, 3, 20), date(2026, 4, 1), date(2026, 3, 20)) == date(
        2029, 3, 19
    )


def test_what_ends_continuation_early() -> None:
    assert rules.cobra_end_problem(CobraEnd.OTHER_GROUP_COVERAGE, date(2026, 9, 1), date(2026, 5, 16)) is None
    assert rules.cobra_end_problem(CobraEnd.MEDICARE_ENTITLEMENT, date(2026, 5, 16), date(2026, 5, 16)) == (
        "only medicare entitlement that begins after the election ends continuation"
    )
    assert rules.cobra_end_problem(CobraEnd.DEATH, date(2026, 5, 1), date(2026, 5, 16)) is None


def test_the_notice_deadlines_of_an_employers_event() -> None:
    event = date(2026, 3, 20)  # employment ended: the employer must tell the administrator by 19 April
    deadlines = rules.cobra_notice_deadlines
    # the employer told the administrator on 10 April: the notice is due on 24 April
    assert deadlines(event, date(2026, 4, 10), date(2026, 4, 24)) == rules.CobraNoticeDeadlines(
        notice_due=date(2026, 4, 24),
        is_notice_late=False,
        employer_notice_due=date(2026, 4, 19),
        is_employer_late=False,
    )
    # sent a day after the 14 days
    assert deadlines(event, date(2026, 4, 10), date(2026, 4, 25)).is_notice_late is True
    # told on day 31 (20 April): the employer was late, the administrator's 14 days still run from then
    assert deadlines(event, date(2026, 4, 20), date(2026, 5, 4)) == rules.CobraNoticeDeadlines(
        notice_due=date(2026, 5, 4),
        is_notice_late=False,
        employer_notice_due=date(2026, 4, 19),
        is_employer_late=True,
    )
    # the day the employer told is not known (or the employer is the administrator): 44 days from the event
    assert deadlines(event, None, date(2026, 5, 3)) == rules.CobraNoticeDeadlines(
        notice_due=date(2026, 5, 3),
        is_notice_late=False,
        employer_notice_due=date(2026, 4, 19),
        is_employer_late=None,
    )
    assert deadlines(event, None, date(2026, 5, 4)).is_notice_late is True
