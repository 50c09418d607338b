"""Server-side charts: plain data in, SVG geometry out (drawn by ``templates/ops/_chart.html``).

No script draws anything in the browser; the numbers are also in a table beside each chart, so a
screen reader and a printed page get the same facts. Bars are horizontal, one labelled row per
item, so long names (topics, consumer groups) stay readable on a phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

WIDTH: Final = 320
ROW: Final = 22
"""Height of one bar's row (the bar is ``ROW - 6`` tall)."""
LABEL_WIDTH: Final = 150
VALUE_WIDTH: Final = 40
PLOT_WIDTH: Final = WIDTH - LABEL_WIDTH - VALUE_WIDTH


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    y: int
    width: int

    @property
    def short_label(self) -> str:
        return self.label if len(self.label) <= 24 else self.label[:23] + "…"


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * ROW

    @property
    def label_width(self) -> int:
        return LABEL_WIDTH

    @property
    def bar_height(self) -> int:
        return ROW - 6


def bar_chart(title: str, values: list[tuple[str, int]]) -> BarChart:
    """Bars scaled to the largest value; a zero draws no bar (its value still shows)."""
    top = max((v for _, v in values), default=0) or 1
    bars = tuple(
        Bar(label, value, index * ROW + 3, round(PLOT_WIDTH * max(value, 0) / top))
        for index, (label, value) in enumerate(values)
    )
    return BarChart(title, bars)
