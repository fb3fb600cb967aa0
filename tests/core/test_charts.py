"""The ledger's charts as geometry: values written, missing drawn as missing, a scale, a
legend of what is drawn, full labels, and a width that fits a phone."""

from __future__ import annotations

from itertools import pairwise

import pytest

from mailflow.core.charts import (
    BLUE,
    GREEN,
    MARGIN,
    VALUE_ROOM,
    WIDTH,
    Series,
    bar_chart,
    nice_top,
)

GIVEN, RECEIVED = Series("given", "given", BLUE), Series("received", "received", GREEN)


@pytest.mark.parametrize(("largest", "top", "step"), [
    (0, 1, 1), (1, 1, 1), (3, 3, 1), (7, 8, 2), (12, 15, 5), (37.5, 40, 10), (160, 200, 50),
    (0.4, 0.4, 0.1), (0.45, 0.5, 0.1),
])
def test_the_scale_ends_on_a_round_number(largest: float, top: float, step: float) -> None:
    end, every = nice_top(largest)
    assert end == pytest.approx(top) and every == pytest.approx(step)


def test_bars_are_proportional_and_every_value_is_written_beside_its_bar() -> None:
    chart = bar_chart([("Bob Smith", [2, 0]), ("Carol Jones", [1, 1])], [GIVEN, RECEIVED])
    plot = WIDTH - 2 * MARGIN - VALUE_ROOM
    widths = {(b.group, b.kind): b.w for b in chart.bars}
    assert widths == {("Bob Smith", "given"): plot, ("Bob Smith", "received"): 0,
                      ("Carol Jones", "given"): plot // 2, ("Carol Jones", "received"): plot // 2}
    # a zero is a value; with two series the words say which bar is which
    assert [b.text for b in chart.bars] == ["2 given", "0 received", "1 given", "1 received"]
    for bar in chart.bars:
        assert bar.text_x == bar.x + bar.w + 6  # beside its bar
        assert bar.y < bar.text_y <= bar.y + bar.h
    assert [t.text for t in chart.ticks] == ["0", "1", "2"]
    assert chart.ticks[-1].x == MARGIN + plot and chart.ticks[0].x == MARGIN


def test_the_legend_names_only_what_is_drawn() -> None:
    never_back = bar_chart([("Bob", [3, 0]), ("Carol", [1, 0])], [GIVEN, RECEIVED])
    assert [s.kind for s in never_back.legend] == ["given"]
    both = bar_chart([("Bob", [3, 1])], [GIVEN, RECEIVED])
    assert [s.kind for s in both.legend] == ["given", "received"]


def test_a_missing_value_is_drawn_as_missing_not_as_zero() -> None:
    rating = Series("rating", "mean rating", GREEN)
    chart = bar_chart([("Bob", [4.5]), ("Carol", [None])], [rating], missing="no rating yet",
                      top=5)
    bob, carol = chart.bars
    assert not bob.missing and bob.text == "4.5"
    assert carol.missing and carol.value is None and carol.w > 0
    assert carol.text == "no rating yet" and chart.missing == "no rating yet"
    assert [t.text for t in chart.ticks] == ["0", "1", "2", "3", "4", "5"]
    assert bar_chart([("Bob", [4.0])], [rating], top=5).missing == ""


def test_labels_are_whole_wrapped_to_the_width_and_the_chart_fits_a_phone() -> None:
    name = "Hall, Hall & Partners Estate and Probate Lawyers of Greater Manchester Ltd"
    chart = bar_chart([(name, [1])], [GIVEN])
    assert " ".join(label.text for label in chart.labels) == name
    assert len(chart.labels) == 2
    assert all(len(label.text) * 7 <= chart.width - 2 * MARGIN for label in chart.labels)
    assert chart.width <= 440 and all(b.text_x + 8 * len(b.text) <= chart.width
                                      for b in chart.bars)
    assert chart.bars[0].y > chart.labels[-1].y  # the bars come under their label


def test_groups_do_not_overlap_and_the_scale_is_below_them() -> None:
    chart = bar_chart([(f"P{n}", [n, 1]) for n in range(1, 6)], [GIVEN, RECEIVED])
    tops = [b.y for b in chart.bars]
    assert tops == sorted(tops) and all(b - a >= 14 for a, b in pairwise(tops))
    assert chart.axis_y > max(b.y + b.h for b in chart.bars)
    assert chart.height > chart.axis_y


def test_an_empty_chart_has_nothing_to_draw() -> None:
    chart = bar_chart([], [GIVEN])
    assert chart.empty and chart.legend == [] and chart.missing == ""
