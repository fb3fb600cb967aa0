"""HTML bodies as text, whole and cut before the first quote container (one walk gives
both)."""

from __future__ import annotations

import pytest

from mailflow.core.html_text import html_to_text

QUOTE = '<div class="gmail_quote">On Tue mailflow wrote:<blockquote>old words</blockquote></div>'


@pytest.mark.parametrize(("html", "whole", "cut"), [
    pytest.param(f"<div>Done</div>{QUOTE}", "Done\n\nOn Tue mailflow wrote:\n> old words",
                 "Done", id="the-line-before-the-quote-is-kept"),
    pytest.param(f"Done, thanks{QUOTE}", "Done, thanks\nOn Tue mailflow wrote:\n> old words",
                 "Done, thanks", id="text-right-before-the-quote-is-kept"),
    pytest.param('<p>Line one</p><p>Line two</p><blockquote type="cite">old</blockquote>',
                 "Line one\n\nLine two\n\n> old", "Line one\n\nLine two", id="two-paragraphs"),
    pytest.param(f"{QUOTE}<div>Won, below the quote</div>",
                 "On Tue mailflow wrote:\n> old words\n\nWon, below the quote",
                 "On Tue mailflow wrote:\n> old words\n\nWon, below the quote",
                 id="nothing-above-the-quote-gives-the-whole"),
    pytest.param("<div>No quote at all</div>", "No quote at all", "No quote at all",
                 id="no-quote"),
])
def test_whole_and_cut(html: str, whole: str, cut: str) -> None:
    assert html_to_text(html) == whole
    assert html_to_text(html, cut_quotes=True) == cut
    assert html_to_text(html) == whole  # the second read is the cache's: the same
