"""Bar charts as geometry for inline SVG (pure): the server draws, no JavaScript.

Bars run across, one group of bars under each group's full label, so that a chart reads
on a phone: every bar has its value written beside it, a missing value (no rating yet)
is drawn as a hatched marker with words rather than as a zero, the scale has ticks, and
the legend names only the series that are drawn.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

# 3:1 or better against white, for graphics (WCAG 1.4.11)
BLUE, GREEN, GREY, RED = "#2f5fb3", "#237a3b", "#666666", "#b03a2e"

WIDTH = 380  # natural width: about a phone's (the page scales it up to 560 px, never down far)
LINE = 16  # a label line's height
BAR = 14
GAP = 4
MARGIN = 8
VALUE_ROOM = 112  # right of the longest bar: its value, or "no rating yet"
CHAR = 7  # about one character's width at 12 px


@dataclass(frozen=True)
class Series:
    """One kind of bar: its class (`given`), its legend words and its colour."""

    kind: str
    name: str
    fill: str


@dataclass(frozen=True)
class Bar:
    group: str  # the group the bar belongs to (a partner, a month, an outcome), in full
    kind: str
    value: float | None  # None: missing, drawn as a hatched marker
    x: int
    y: int
    w: int
    h: int
    fill: str
    text: str  # the value as written beside the bar
    text_x: int
    text_y: int

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Label:
    x: int
    y: int
    text: str


@dataclass(frozen=True)
class Tick:
    x: int
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    legend: list[Series] = field(default_factory=list)
    axis_y: int = 0  # where the scale runs; grid lines go from the top to here
    missing: str = ""  # the words of a missing value, when the chart has one

    @property
    def empty(self) -> bool:
        return not self.bars


def nice_top(largest: float) -> tuple[float, float]:
    """The scale's end and its step: 1, 2 or 5 times a power of ten, four to ten steps."""
    if largest <= 0:
        return 1.0, 1.0
    power = 10 ** math.floor(math.log10(largest))
    for step in (power / 10, power / 5, power / 2, power, power * 2, power * 5):
        if largest / step <= 5:
            if step < 1 and float(largest).is_integer():
                step = 1.0  # counts: whole-number ticks only
            return round(math.ceil(round(largest / step, 9)) * step, 9), step
    return math.ceil(largest / (power * 10)) * power * 10, power * 10  # pragma: no cover


def _number(value: float, unit: str) -> str:
    text = f"{value:g}" if value == int(value) else f"{value:.1f}"
    return f"{text} {unit}".strip()


def bar_chart(groups: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[Series],
              missing: str = "none yet", top: float | None = None, unit: str = "",
              width: int = WIDTH) -> Chart:
    """Across-bars, one row per value of each series under each group's label.

    `groups`: (label, one value per series). A value of None is missing (drawn as such,
    with `missing` beside it); a zero is a value, written "0" ("0 received" when there
    are several series). `top`: the scale's end (a rating's 5), else a round number at or
    above the largest value.
    """
    values = [v for _, vs in groups for v in vs if v is not None]
    end, step = (top, _step(top)) if top else nice_top(max(values, default=0))
    plot = width - 2 * MARGIN - VALUE_ROOM
    room = max(8, (width - 2 * MARGIN) // CHAR)
    bars: list[Bar] = []
    labels: list[Label] = []
    y = MARGIN
    for label, members in groups:
        for line in textwrap.wrap(label, room, break_long_words=True) or [""]:
            y += LINE
            labels.append(Label(MARGIN, y - 4, line))
        for kind_of, value in zip(series, members, strict=True):
            if value is None:
                w, text = 24, missing
            else:
                w, text = round(plot * min(value, end) / end), _number(value, unit)
                if len(series) > 1:  # the words say which bar it is, not the colour alone
                    text = f"{text} {kind_of.kind}"
            bars.append(Bar(label, kind_of.kind, value, MARGIN, y + GAP // 2, w, BAR,
                            kind_of.fill, text, MARGIN + w + 6, y + GAP // 2 + BAR - 3))
            y += BAR + GAP
        y += GAP
    axis_y = y + GAP
    ticks = [Tick(MARGIN + round(plot * i * step / end), _number(i * step, ""))
             for i in range(round(end / step) + 1)]
    drawn = {b.kind for b in bars if b.value}
    return Chart(width, axis_y + LINE + MARGIN, bars, labels, ticks,
                 [s for s in series if s.kind in drawn], axis_y,
                 missing if any(b.missing for b in bars) else "")


def _step(top: float) -> float:
    return nice_top(top)[1] if top > 5 else 1.0
