"""Bar charts as geometry for inline SVG (pure): the server draws, no JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

BLUE, GREEN, GREY, RED = "#4a7bd0", "#3aa655", "#888888", "#c0392b"


@dataclass(frozen=True)
class Bar:
    partner: str  # the group the bar belongs to (a partner, a month, an outcome)
    kind: str
    value: float
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


def grouped_bars(groups: Sequence[tuple[str, Sequence[tuple[str, float, str]]]],
                 plot_height: int = 160, bar_width: int = 14, group_width: int = 100) -> Chart:
    """Vertical bars, a group per label; heights proportional to the largest value.

    `groups`: (label, [(kind, value, colour), …]). A zero draws no bar. Each group takes
    `group_width` pixels, its label cut to fit under it.
    """
    top = max([v for _, bars in groups for _, v, _ in bars] + [1])
    bars, labels = [], []
    for index, (label, members) in enumerate(groups):
        start = 8 + index * group_width
        for offset, (kind, value, fill) in enumerate(members):
            if value > 0:
                height = max(1, round(value * plot_height / top))
                bars.append(Bar(label, kind, value, start + offset * (bar_width + 2),
                                10 + plot_height - height, bar_width, height, fill))
        labels.append(Label(start, plot_height + 26, _fit(label, group_width)))
    return Chart(max(16 + len(groups) * group_width, 200), plot_height + 40, bars, labels)


def _fit(label: str, width: int) -> str:
    room = max(4, width // 7 - 1)  # about 7 px a character at 11 px
    return label if len(label) <= room else label[:room - 1] + "…"
