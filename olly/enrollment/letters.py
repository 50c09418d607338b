"""The COBRA election notice as a printed letter: the dates and the premium in plain words.

Rendered with the platform's PDF writer when a qualifying event is recorded, one letter per
qualified beneficiary, sealed in the object store (it names the person: PHI); the case keeps the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from olly.enrollment.rules import (
    COBRA_DISABILITY_MONTHS,
    COBRA_ELECTION_DAYS,
    COBRA_FIRST_PREMIUM_DAYS,
    COBRA_PREMIUM_PERCENT,
    CobraEvent,
)
from olly.kernel.money import Money
from olly.platform.db import UnitOfWork
from olly.platform.objectstore import object_store_of
from olly.platform.pdf import MARGIN, TextLine, text_document

MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

#: Why the group cover ended, finishing "Your coverage ... ended because ...".
EVENT_WORDS: Final[dict[CobraEvent, str]] = {
    CobraEvent.TERMINATION: "the employment ended",
    CobraEvent.REDUCED_HOURS: "the working hours were reduced",
    CobraEvent.DEATH: "of the death of the employee",
    CobraEvent.DIVORCE: "of a divorce or legal separation",
    CobraEvent.LOSS_OF_DEPENDENT_STATUS: "you are no longer a dependent child under the plan",
}


@dataclass(frozen=True, slots=True)
class ElectionNotice:
    beneficiary_name: str
    notice_date: date
    event: CobraEvent
    event_date: date
    plan_code: str
    loss_date: date
    election_deadline: date
    continuation_end: date
    currency: str
    premium_alone_minor: int
    """The monthly premium if the beneficiary elects alone."""
    premium_together_minor: int | None
    """The monthly premium if everyone offered after the event elects together (None when alone)."""
    offered_together: int


def spoken(day: date) -> str:
    """A date as a letter writes it: 31 March 2026."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _money(minor: int, currency: str) -> str:
    return f"{currency} {Money(minor, currency).to_decimal_string()}"


def render(notice: ElectionNotice) -> bytes:
    """The notice as PDF bytes."""
    last_covered = spoken(date.fromordinal(notice.loss_date.toordinal() - 1))
    lines: list[TextLine] = [
        (MARGIN, "Your right to continue your group health coverage (COBRA)", 15),
        (MARGIN, spoken(notice.notice_date), 10),
        (MARGIN, "", 10),
        (MARGIN, f"Dear {notice.beneficiary_name},", 11),
        (MARGIN, "", 10),
        (MARGIN, f"Your coverage under the group health plan {notice.plan_code} ended on {last_covered}", 10),
        (MARGIN, f"because {EVENT_WORDS[notice.event]} (on {spoken(notice.event_date)}).", 10),
        (MARGIN, "You may keep the same coverage by electing COBRA continuation coverage.", 10),
        (MARGIN, "", 10),
        (MARGIN, "When it starts and ends", 12),
        (MARGIN, f"It starts on {spoken(notice.loss_date)}, the day after your group coverage ended, so there is", 10),
        (MARGIN, f"no gap, and it can last until {spoken(notice.continuation_end)}.", 10),
        (MARGIN, "", 10),
        (MARGIN, "How to elect", 12),
        (
            MARGIN,
            f"Your election must reach the plan by {spoken(notice.election_deadline)} ({COBRA_ELECTION_DAYS} days).",
            10,
        ),
        (MARGIN, "If it does not, you lose the right to continue this coverage.", 10),
        (MARGIN, "", 10),
        (MARGIN, "What it costs", 12),
        (MARGIN, f"You pay the whole premium: {COBRA_PREMIUM_PERCENT}% of the full group premium (your share and", 10),
        (MARGIN, "your employer's share together).", 10),
        (MARGIN, f"For you alone: {_money(notice.premium_alone_minor, notice.currency)} a month.", 11),
    ]
    if notice.premium_together_minor is not None:
        lines.append(
            (
                MARGIN,
                f"For all {notice.offered_together} people offered this coverage, electing together: "
                f"{_money(notice.premium_together_minor, notice.currency)} a month.",
                11,
            )
        )
    lines += [
        (MARGIN, f"Your first payment is due {COBRA_FIRST_PREMIUM_DAYS} days after you elect. It pays for every", 10),
        (MARGIN, f"month from {spoken(notice.loss_date)} to the month you elect. Later payments have 30 days", 10),
        (MARGIN, "of grace after their due date.", 10),
        (MARGIN, "", 10),
        (MARGIN, "Coverage that lasts longer, or ends sooner", 12),
        (MARGIN, "If Social Security finds that someone covered was disabled in the first 60 days of", 10),
        (
            MARGIN,
            f"continuation, everyone may continue up to {COBRA_DISABILITY_MONTHS} months (150% of the premium from",
            10,
        ),
        (MARGIN, "the 19th month for the disabled person); a divorce, a death or a child ceasing to be a", 10),
        (MARGIN, "dependent during continuation may extend a spouse's or child's to 36 months. Tell the plan", 10),
        (MARGIN, "within 60 days. Continuation ends early if a premium is not paid, or if you are covered by", 10),
        (MARGIN, "another group health plan or become entitled to Medicare after you elect.", 10),
    ]
    return text_document(lines)


def store(uow: UnitOfWork, notice: ElectionNotice) -> str:
    """Render and seal the notice; returns its object key."""
    return object_store_of(uow).put(uow, "cobra_notice", render(notice))


def discard(uow: UnitOfWork, key: str) -> None:
    """Erase a stored notice (it names the person) with the transaction (``ObjectStore.delete``:
    unreadable from the commit, its bytes removed after it; a rollback keeps it)."""
    object_store_of(uow).delete(uow, key)
