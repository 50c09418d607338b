"""Server-side charts: plain data in, SVG geometry out (rendered by ``templates/chart.svg``).

No script draws anything in the browser; the numbers are also in a table beside each chart, so a
screen reader and a printed page get the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

WIDTH: Final = 320
HEIGHT: Final = 160
GAP: Final = 8
LABEL_SPACE: Final = 24


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def baseline(self) -> int:
        return self.height - LABEL_SPACE


def bar_chart(title: str, values: list[tuple[str, int]]) -> BarChart:
    """Bars scaled to the largest value (an all-zero chart draws no bars, only its labels)."""
    if not values:
        return BarChart(title, ())
    top = max(v for _, v in values) or 1
    plot = HEIGHT - LABEL_SPACE - GAP
    slot = WIDTH // len(values)
    bars = []
    for index, (label, value) in enumerate(values):
        height = round(plot * max(value, 0) / top)
        bars.append(
            Bar(label, value, index * slot + GAP // 2, HEIGHT - LABEL_SPACE - height, max(slot - GAP, 1), height)
        )
    return BarChart(title, tuple(bars))
