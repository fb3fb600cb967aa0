"""`partner_hint` tries its pattern only at the start of a line with the word: the same
answer as searching every position."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailflow.core.intake import _HINT, partner_hint

_PIECES = st.sampled_from(["partner", "Partner", "PARTNER", "partner:", "partner: ",
                           "partner = ", "bob@law.example", "<bob@law.example>", "\n", "\r\n",
                           " ", "\t", "> ", "- ", "*", "x", "é", ".", ",", "@", "partnerx",
                           "pArTnEr", "İ", "\udcff", "\uff30artner"])  # a fullwidth P: not a match


def _searched(text: str) -> str | None:
    match = _HINT.search(text)
    return match.group(1).lower() if match else None


@given(st.lists(_PIECES, max_size=30).map("".join) | st.text(max_size=60))
@settings(max_examples=1500)
@example("Partner\nFirm LLP\n\npartner: bob@law.example\n")
@example("partner partner: a@b.example\npartner: c@d.example")
@example("x partner: a@b.example\n> partner: <c@d.example>.")
@example("İİ\nPaRtNeR: a@b.example")  # lower() makes İ two characters
@example("\udcff partner: a@b.example\n")  # a lone surrogate (bytes decoded with surrogateescape)
def test_the_hint_is_what_a_search_of_every_position_finds(text: str) -> None:
    assert partner_hint(text) == _searched(text)
