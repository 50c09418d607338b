"""The portals' pure presentation helpers: chart geometry and accumulator progress."""

from __future__ import annotations

from olly.web.charts import PLOT_WIDTH, bar_chart
from olly.web.member import Progress, progress_of


def test_bars_scale_to_the_largest_value_one_row_each() -> None:
    chart = bar_chart("Dead letters", [("claims.claim.submitted", 4), ("billing.payment.missed", 1), ("quiet", 0)])
    assert PLOT_WIDTH == 130
    assert [(b.label, b.value, b.y, b.width) for b in chart.bars] == [
        ("claims.claim.submitted", 4, 3, 130),
        ("billing.payment.missed", 1, 25, 32),  # 130 / 4 = 32.5, rounded half to even
        ("quiet", 0, 47, 0),
    ]
    assert (chart.width, chart.height, chart.bar_height) == (320, 66, 16)


def test_an_empty_chart_still_has_one_row_of_height() -> None:
    chart = bar_chart("Consumer lag", [])
    assert chart.bars == ()
    assert chart.height == 22


def test_a_long_label_is_shortened_for_the_drawing_only() -> None:
    (bar,) = bar_chart("x", [("eligibility-enrollment-consumer", 2)]).bars
    assert bar.short_label == "eligibility-enrollment-…"
    assert bar.label == "eligibility-enrollment-consumer"


def test_progress_is_what_was_met_of_the_limit() -> None:
    accumulators = [
        {"network": "IN_NETWORK", "individual": "1000.00", "individual_remaining": "250.00"},
        {"network": "OUT_OF_NETWORK", "individual": "0.00", "individual_remaining": "0.00"},
    ]
    assert progress_of("Deductible", accumulators) == [
        Progress("Deductible", "IN_NETWORK", "1000.00", "750.00", "250.00", 75),
        Progress("Deductible", "OUT_OF_NETWORK", "0.00", "0.00", "0.00", 0),
    ]
