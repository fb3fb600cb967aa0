"""Every email in every language: complete, in that language, from the same facts.

Each template renders with sample data in English, German, French, Spanish and Dutch
(StrictUndefined: a variable a translation invents fails here), and a non-English email
holds no English word beyond names, addresses and tags.
"""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pytest

from mailflow.adapters.renderer import Renderer
from mailflow.app.template_context import say
from mailflow.cli.checks import template_sample
from mailflow.core.languages import SUPPORTED

RENDERER = Renderer()
TRANSLATED = [code for code in SUPPORTED if code != "en"]
# words that give an English sentence away and are no word of the other four languages
ENGLISH = frozenset({
    "the", "and", "you", "your", "yours", "with", "from", "this", "that", "these", "have",
    "has", "been", "would", "could", "please", "thanks", "thank", "reply", "replies", "when",
    "which", "what", "who", "about", "referral", "referrals", "introduced", "introduction",
    "still", "closed", "won", "lost", "done", "weeks", "days", "hours", "here",
    "there", "sign", "need", "needs", "feedback", "nothing", "changed", "again",
    "partner's", "client's",
})
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# what the sample data itself brings in (names, subjects, notes typed by people)
SAMPLE_WORDS = frozenset(w.lower() for w in WORD.findall(" ".join(str(v) for v in (
    template_sample("notice_relay") | template_sample("digest")).values())))


def _variants(name: str) -> list[dict[str, object]]:
    """The sample, and the sample through each branch a template has."""
    base = template_sample(name)
    branches: dict[str, tuple[object, ...]] = {
        "change": ("closed", "contacted", "snoozed", "stopped", "reopened", "follow-up",
                   "partner-chosen", "undone", "nothing-to-undo", "something-else"),
        "news": ("rating", "need", "note"),
        "event": ("failing", "recovered", "signin-cap", "back"),
        "first_contact": (True, False),
    }
    found = [base]
    for key, values in branches.items():
        if key in base or (key == "change" and name == "notice_confirm") or (
                key == "news" and name == "notice_relay") or (key == "event" and name == "alert"):
            found += [{**base, key: value, "partner_chosen": "bob@law.example",
                       "scope": "all", "days": 14, "given_rating": 4, "sender": "Jane Doe",
                       "text": "Jane Doe", "problem": "IMAP", "incident": "IMAP"}
                      for value in values]
    return found


@pytest.mark.parametrize(("name", "language"), list(product(RENDERER.names(), SUPPORTED)))
def test_every_email_renders_in_every_language(name: str, language: str) -> None:
    for context in _variants(name):
        rendered = RENDERER.render(name, context, language)
        assert rendered.language == language, f"{language}/{name}.j2 is missing"
        assert rendered.subject.strip() and rendered.text.strip()


@pytest.mark.parametrize(("name", "language"), list(product(RENDERER.names(), TRANSLATED)))
def test_no_english_is_left_in_a_translation(name: str, language: str) -> None:
    for context in _variants(name):
        context = {**context, "say": say(language)}
        rendered = RENDERER.render(name, context, language)
        body = " ".join((rendered.subject, rendered.text, re.sub(r"<[^>]+>", " ",
                                                                 rendered.html or "")))
        words = {w.lower() for w in WORD.findall(body)} - SAMPLE_WORDS
        words -= {w.lower() for w in WORD.findall(" ".join(say(language).values()))}
        assert not words & ENGLISH, f"{language}/{name}.j2: {sorted(words & ENGLISH)}"


def test_the_same_facts_in_each_language() -> None:
    """The names, tags, numbers and the subject an English email holds, each translation
    holds too."""
    facts = ("Jane", "Alice", "Bob", "R-42", "2026", "estate planning", "Introduction: Jane")
    for name in RENDERER.names():
        context = template_sample(name)
        english = RENDERER.render(name, context).text
        for language in TRANSLATED:
            text = RENDERER.render(name, context, language).text
            for fact in facts:
                assert fact not in english or fact in text, (language, name, fact)


def test_an_override_per_language_and_the_fallback_to_the_firms_language(
        tmp_path: Path) -> None:
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "partner_nudge.j2").write_text(
        "{% block subject %}Eigene Erinnerung{% endblock %}{% block text %}Hallo{% endblock %}")
    (tmp_path / "it").mkdir()  # a language mailflow does not write is never used
    ours = Renderer(tmp_path, default_language="fr")
    context = template_sample("partner_nudge")
    assert ours.render("partner_nudge", context, "de").subject == "Eigene Erinnerung"
    assert ours.render("partner_nudge", context, "nl").language == "nl"  # built in
    # a translation missing from the built-in set and the overrides: the firm's language
    (tmp_path / "extra_step.j2").write_text(
        "{% block subject %}Extra{% endblock %}{% block text %}Extra{% endblock %}")
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "extra_step.j2").write_text(
        "{% block subject %}En plus{% endblock %}{% block text %}En plus{% endblock %}")
    again = Renderer(tmp_path, default_language="fr")
    assert again.render("extra_step", context, "es").subject == "En plus"
    assert "es/extra_step" in again.missing_translations()
    assert "fr/extra_step" not in again.missing_translations()
