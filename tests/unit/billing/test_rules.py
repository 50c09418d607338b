"""Billing rules with hand-computed figures: proration, installments, allocation, grace, aging, postings."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from olly.billing import rules
from olly.billing.rules import (
    GraceRule,
    LedgerAccount,
    OpenInvoice,
    PostingLine,
    Proration,
    RemainderTo,
    UnbalancedPosting,
)
from olly.kernel.errors import BusinessRuleViolation

JAN = (date(2026, 1, 1), date(2026, 1, 31))
FEB = (date(2026, 2, 1), date(2026, 2, 28))


def test_daily_proration_charges_covered_days_over_days_in_the_month() -> None:
    # 1,500.00 for January 20-31: 150000 × 12 / 31 = 58064.52 → 580.65
    assert rules.prorate(150000, *JAN, date(2026, 1, 20), date(2026, 1, 31), Proration.DAILY) == 58065
    # 600.00 for February 10-28: 60000 × 19 / 28 = 40714.29 → 407.14
    assert rules.prorate(60000, *FEB, date(2026, 2, 10), date(2026, 2, 28), Proration.DAILY) == 40714
    # a termination on 15 January: 15 of 31 days of 480.00 = 232.26 (23225.8 rounds up)
    assert rules.prorate(48000, *JAN, date(2026, 1, 1), date(2026, 1, 15), Proration.DAILY) == 23226
    assert rules.prorate(48000, *JAN, *JAN, Proration.DAILY) == 48000
    assert rules.prorate(48000, *JAN, date(2026, 1, 31), date(2026, 1, 30), Proration.DAILY) == 0


def test_whole_month_proration_follows_the_mid_month_rule() -> None:
    assert rules.prorate(48000, *JAN, date(2026, 1, 15), date(2026, 1, 31), Proration.WHOLE_MONTHS) == 48000
    assert rules.prorate(48000, *JAN, date(2026, 1, 16), date(2026, 1, 31), Proration.WHOLE_MONTHS) == 0
    assert rules.prorate(48000, *JAN, date(2026, 1, 1), date(2026, 1, 14), Proration.WHOLE_MONTHS) == 0
    assert rules.prorate(48000, *FEB, date(2026, 2, 1), date(2026, 2, 15), Proration.WHOLE_MONTHS) == 48000


def test_installments_put_the_leftover_cents_on_the_first_or_last() -> None:
    # 1,000.00 in 12: 83.33 × 12 = 999.96, the 4 cents left go to one installment
    assert rules.installments(100000, 12) == [8337] + [8333] * 11
    assert rules.installments(100000, 12, RemainderTo.LAST) == [8333] * 11 + [8337]
    assert rules.installments(1200001, 4) == [300001, 300000, 300000, 300000]
    assert rules.installments(5, 12) == [5] + [0] * 11
    with pytest.raises(BusinessRuleViolation, match="at least one"):
        rules.installments(100, 0)


@given(
    st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=366), st.sampled_from(RemainderTo)
)
def test_installments_always_sum_to_the_premium(total: int, count: int, remainder_to: RemainderTo) -> None:
    parts = rules.installments(total, count, remainder_to)
    assert sum(parts) == total and len(parts) == count
    assert max(parts) - min(parts) < count


def test_payments_go_to_the_oldest_open_invoice_first_and_the_rest_is_credit() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    invoices = [
        OpenInvoice(c, date(2026, 3, 1), date(2026, 2, 15), 48000),
        OpenInvoice(a, date(2026, 1, 1), date(2025, 12, 15), 10000),
        OpenInvoice(b, date(2026, 2, 1), date(2026, 1, 15), 48000),
    ]
    allocations, credit = rules.allocate(60000, invoices)
    assert [(x.invoice_id, x.amount_minor) for x in allocations] == [(a, 10000), (b, 48000), (c, 2000)]
    assert credit == 0
    allocations, credit = rules.allocate(120000, invoices)
    assert [x.amount_minor for x in allocations] == [10000, 48000, 48000] and credit == 14000
    assert rules.allocate(500, []) == ([], 500)
    with pytest.raises(BusinessRuleViolation, match="positive"):
        rules.allocate(0, invoices)


def test_thirty_day_grace_matches_the_catalog_example() -> None:
    window = rules.grace_window(date(2026, 2, 28), date(2026, 2, 28), aptc=False)
    assert window.rule is GraceRule.DAYS
    assert (window.started_on, window.end_date) == (date(2026, 3, 1), date(2026, 3, 30))
    assert (window.coverage_end_if_expired, window.claims_pend_from) == (date(2026, 2, 28), date(2026, 3, 1))


def test_aptc_grace_is_three_months_with_termination_at_the_end_of_month_one() -> None:
    window = rules.grace_window(date(2026, 3, 1), date(2026, 2, 28), aptc=True, aptc_months=3)
    assert window.rule is GraceRule.APTC_MONTHS
    assert window.end_date == date(2026, 5, 31)
    assert window.coverage_end_if_expired == date(2026, 3, 31)
    assert window.claims_pend_from == date(2026, 4, 1)  # months 2 and 3 pend


def test_aging_buckets_count_days_past_due() -> None:
    due = date(2026, 1, 1)
    assert rules.aging_bucket(due, date(2025, 12, 20)) == "0-30"
    assert rules.aging_bucket(due, date(2026, 1, 31)) == "0-30"
    assert rules.aging_bucket(due, date(2026, 2, 1)) == "31-60"
    assert rules.aging_bucket(due, date(2026, 3, 2)) == "31-60"
    assert rules.aging_bucket(due, date(2026, 3, 3)) == "61-90"
    assert rules.aging_bucket(due, date(2026, 4, 1)) == "61-90"
    assert rules.aging_bucket(due, date(2026, 4, 2)) == "90+"


accounts = st.sampled_from(LedgerAccount)
amounts = st.integers(min_value=1, max_value=10**11)


@st.composite
def balanced_postings(draw: st.DrawFn) -> list[PostingLine]:
    """Random debits split into random credits of the same total."""
    debits = draw(st.lists(amounts, min_size=1, max_size=6))
    total = sum(debits)
    cuts = (
        sorted(draw(st.lists(st.integers(min_value=1, max_value=total - 1), max_size=5, unique=True)))
        if total > 1
        else []
    )
    bounds = [0, *cuts, total]
    credits = [bounds[i + 1] - bounds[i] for i in range(len(bounds) - 1)]
    return [PostingLine(draw(accounts), debit_minor=d) for d in debits] + [
        PostingLine(draw(accounts), credit_minor=c) for c in credits
    ]


@given(balanced_postings())
def test_every_balanced_posting_is_accepted_and_its_reversal_nets_to_zero(lines: list[PostingLine]) -> None:
    rules.check_posting(lines)
    reversal = rules.reversal_of(lines)
    rules.check_posting(reversal)
    net: dict[LedgerAccount, int] = {}
    for line in [*lines, *reversal]:
        net[line.account] = net.get(line.account, 0) + line.debit_minor - line.credit_minor
    assert set(net.values()) == {0}


@given(balanced_postings(), st.integers(min_value=1, max_value=10**6), st.booleans())
def test_every_unbalanced_posting_is_refused(lines: list[PostingLine], off_by: int, on_debit: bool) -> None:
    extra = (
        PostingLine(LedgerAccount.CASH, debit_minor=off_by)
        if on_debit
        else PostingLine(LedgerAccount.CASH, credit_minor=off_by)
    )
    with pytest.raises(UnbalancedPosting):
        rules.check_posting([*lines, extra])


def test_malformed_lines_are_refused() -> None:
    with pytest.raises(UnbalancedPosting):
        rules.check_posting([PostingLine(LedgerAccount.CASH, debit_minor=100)])
    with pytest.raises(UnbalancedPosting):
        rules.check_posting([PostingLine(LedgerAccount.CASH, 100, 100), PostingLine(LedgerAccount.CASH, 0, 0)])
    with pytest.raises(UnbalancedPosting):
        rules.check_posting(
            [PostingLine(LedgerAccount.CASH, debit_minor=-5), PostingLine(LedgerAccount.CASH, credit_minor=-5)]
        )


def test_card_numbers_are_recognised_as_references_to_refuse() -> None:
    assert rules.looks_like_card_number("4111111111111111")
    assert rules.looks_like_card_number("4111 1111 1111 1111")
    assert rules.looks_like_card_number("5500-0000-0000-0004")
    assert not rules.looks_like_card_number("4111111111111112")  # fails the Luhn check
    assert not rules.looks_like_card_number("pi_3Nx4111111111111111")
    assert not rules.looks_like_card_number("CHK-1042")
    assert not rules.looks_like_card_number("411111111111")  # 12 digits
