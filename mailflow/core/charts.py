"""Bar charts as geometry for inline SVG (pure): the server draws, no JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

BLUE, GREEN, GREY, RED = "#4a7bd0", "#3aa655", "#888888", "#c0392b"


@dataclass(frozen=True)
class Bar:
    partner: str  # the group the bar belongs to (a partner, a month, an outcome)
    kind: str
    value: int
    x: int
    y: int
    w: int
    h: int
    fill: str


@dataclass(frozen=True)
class Label:
    x: int
    y: int
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)


def grouped_bars(groups: Sequence[tuple[str, Sequence[tuple[str, int, str]]]],
                 plot_height: int = 160, bar_width: int = 14, gap: int = 18) -> Chart:
    """Vertical bars, a group per label; heights proportional to the largest value.

    `groups`: (label, [(kind, value, colour), …]). A zero draws no bar.
    """
    top = max([v for _, bars in groups for _, v, _ in bars] + [1])
    x, bars, labels = 8, [], []
    for label, members in groups:
        start = x
        for kind, value, fill in members:
            if value > 0:
                height = max(1, round(value * plot_height / top))
                bars.append(Bar(label, kind, value, x, 10 + plot_height - height, bar_width,
                                height, fill))
            x += bar_width + 2
        labels.append(Label(start, plot_height + 26, label[:18]))
        x += gap
    return Chart(max(x, 200), plot_height + 40, bars, labels)
