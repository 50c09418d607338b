"""The days a member's coverage copy gains or loses between two copies (``handlers.days_outside``)."""

from __future__ import annotations

from datetime import date

from olly.claims.handlers import days_outside

YEAR = [["2026-01-01", "2026-12-31"]]


def test_a_span_split_by_a_plan_change_gains_and_loses_nothing() -> None:
    split = [["2026-01-01", "2026-05-31"], ["2026-06-01", "2026-12-31"]]
    assert days_outside(split, YEAR) == []
    assert days_outside(YEAR, split) == []


def test_an_end_brought_forward_loses_the_days_after_it_and_undoing_it_gains_them() -> None:
    ended = [["2026-01-01", "2026-01-05"]]
    assert days_outside(YEAR, ended) == [(date(2026, 1, 6), date(2026, 12, 31))]
    assert days_outside(ended, YEAR) == []
    assert days_outside(ended, []) == [(date(2026, 1, 1), date(2026, 1, 5))]  # a member no longer on the policy


def test_gaps_and_open_ends() -> None:
    before = [["2026-01-01", "2026-03-31"], ["2026-06-01", None]]
    after = [["2026-02-01", "2026-07-31"]]
    assert days_outside(before, after) == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 8, 1), None),
    ]
    assert days_outside(after, before) == [(date(2026, 4, 1), date(2026, 5, 31))]
    assert days_outside([["2026-01-01", None]], [["2025-01-01", None]]) == []
    assert days_outside([], YEAR) == []
