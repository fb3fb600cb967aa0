"""The digest's HTML ledger through the real Jinja2 renderer: bars and legend agree."""

from __future__ import annotations

from mailflow.adapters.renderer import Renderer
from mailflow.cli.checks import digest_sample


def test_no_green_bar_and_no_green_legend_when_nothing_was_received() -> None:
    html = Renderer().render("digest", digest_sample()).html or ""
    assert 'class="bar-given"' in html and 'class="bar-received"' not in html
    assert "Blue bars" in html and "Green bars" not in html


def test_bars_scale_to_the_largest_count_given_or_received() -> None:
    context = digest_sample()
    context["ledger"] = [{**context["ledger"][0], "given": 1, "received": 4}]  # type: ignore[index]
    context["max_count"] = 4
    html = Renderer().render("digest", context).html or ""
    assert "width:20px" in html and "width:80px" in html
    assert "Blue bars" in html and "Green bars" in html
