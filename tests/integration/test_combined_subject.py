"""A combined email's subject names its first referrals, not all of them: a first run
combined 21,000 acknowledgements to one referrer into one email."""

from __future__ import annotations

import pytest

from mailflow.adapters.renderer import Renderer
from mailflow.app.template_context import say

COUNT = {"en": "12 referrals", "de": "12 Empfehlungen", "fr": "12 recommandations",
         "es": "12 recomendaciones", "nl": "12 doorverwijzingen"}


@pytest.mark.parametrize("language", sorted(COUNT))
def test_the_subject_names_five_and_counts_them_all(language: str) -> None:
    items = [{"tag": f"R-{n}", "subject": f"Intro {n}", "text": "Recorded.", "html": None}
             for n in range(1, 13)]
    context = {"recipient": {"email": "a@firm.example", "first_name": "Alice"},
               "items": items, "say": say(language)}
    rendered = Renderer().render("combined", context, language)
    assert COUNT[language] in rendered.subject
    assert rendered.subject.endswith("R-1, R-2, R-3, R-4, R-5, …")
    assert "R-6" not in rendered.subject and "R-12" in rendered.text
