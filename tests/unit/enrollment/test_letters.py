"""The printed COBRA election notice: plain dates, the premium alone and together."""

from __future__ import annotations

from datetime import date

from olly.enrollment import letters
from olly.enrollment.rules import CobraEvent

NOTICE = letters.ElectionNotice(
    beneficiary_name="Cy Rivera",
    notice_date=date(2026, 6, 3),
    event=CobraEvent.LOSS_OF_DEPENDENT_STATUS,
    event_date=date(2026, 6, 1),
    plan_code="PPO-2026",
    loss_date=date(2026, 7, 1),
    election_deadline=date(2026, 8, 30),
    continuation_end=date(2029, 6, 30),
    currency="USD",
    premium_alone_minor=46592,
    premium_together_minor=None,
    offered_together=1,
)


def test_dates_are_written_out() -> None:
    assert [letters.spoken(d) for d in (date(2026, 3, 31), date(2029, 2, 1))] == ["31 March 2026", "1 February 2029"]


def test_a_beneficiary_offered_alone() -> None:
    pdf = letters.render(NOTICE)
    for line in (
        b"(3 June 2026) Tj",
        b"(Your coverage under the group health plan PPO-2026 ended on 30 June 2026) Tj",
        b"(because you are no longer a dependent child under the plan \\(on 1 June 2026\\).) Tj",
        b"(no gap, and it can last until 30 June 2029.) Tj",
        b"(Your election must reach the plan by 30 August 2026 \\(60 days\\).) Tj",
        b"(For you alone: USD 465.92 a month.) Tj",
    ):
        assert line in pdf, line
    assert b"electing together" not in pdf
