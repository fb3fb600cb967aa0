"""Language names and tags at their edges, and texts too unclear to tell."""

from __future__ import annotations

import pytest

from mailflow.core.languages import NAMES, SUPPORTED, choose, locale_for, normalise
from mailflow.core.model import Role
from mailflow.core.text_language import language_of, language_of_tag, message_language


@pytest.mark.parametrize(("given", "code"), [
    ("english", "en"), ("French", "fr"), ("SPANISH", "es"), ("Dutch", "nl"),
    ("francais", "fr"), ("Français", "fr"), ("espanol", "es"), ("Castellano", "es"),
    ("nederlands", "nl"), ("Deutsch", "de"), ("Flemish", "nl"), ("vlaams", "nl"),
    (" de_AT ", "de"), ("nl-BE", "nl"), ("EN-us", "en"),
])
def test_every_name_people_give_a_language_by(given: str, code: str) -> None:
    assert normalise(given) == code


def test_each_supported_language_is_known_by_its_own_name_and_code() -> None:
    for code in SUPPORTED:
        assert normalise(code) == code
        assert normalise(NAMES[code]) == code
        assert normalise(NAMES[code].upper()) == code


@pytest.mark.parametrize("role", [Role.CLIENT, Role.PARTNER])
def test_an_intros_language_reaches_its_client_and_partner(role: Role) -> None:
    assert choose(role, set_by_hand=None, learned=None, intro="fr", default="en").source == "intro"


def test_a_party_of_no_known_role_never_takes_the_intros_language() -> None:
    choice = choose(None, set_by_hand=None, learned=None, intro="fr", default="de")
    assert (choice.code, choice.source, choice.why) == ("de", "default", "the firm's default")
    learned = choose(None, set_by_hand=None, learned="es", intro="fr", default="de")
    assert (learned.code, learned.why) == ("es", "from their own mail")


def test_a_country_where_the_language_is_not_spoken_keeps_the_language_alone() -> None:
    assert locale_for("fr", "CH") == "fr_CH"
    assert locale_for("nl", "be") == "nl_BE"  # the country's case does not matter
    assert locale_for("fr", "DE") == "fr"  # no French of Germany
    assert locale_for("es", "JP") == "es"
    assert locale_for("en", "XX") == "en_GB"  # English falls back to British
    assert locale_for("en", "") == "en_GB"


@pytest.mark.parametrize("text", ["Hotel Restaurant", "Radio Video", "Bank Hotel Taxi"])
def test_a_best_guess_not_clearly_ahead_says_nothing(text: str) -> None:
    assert language_of(text) is None


@pytest.mark.parametrize("word", ["Erledigt", "Dankeschön", "Muchísimas", "aanbevolen"])
def test_one_word_says_nothing_however_clear(word: str) -> None:
    # on its own, lingua reads "Erledigt" as Dutch: one word is too little to go on
    assert language_of(word) is None


def test_only_the_start_of_a_long_text_is_read() -> None:
    german = "Wir haben gestern telefoniert, alles gut. "
    english = "We spoke yesterday and it went well, thank you. "
    assert language_of(german * 10 + english * 40) == "de"
    assert language_of("-" * 400 + english) is None  # nothing but dashes in the window
    assert language_of("-" * 250 + german) == "de"  # but the window is more than a line


@pytest.mark.parametrize(("header", "code"), [
    ("fr-CA", "fr"), ("NL", "nl"), (" es_ES , en", "es"), ("en-GB-oxendict", "en"),
    ("123", None), (",", None), ("  ", None), ("de-", None), ("deu", None), ("", None),
])
def test_content_language_headers(header: str, code: str | None) -> None:
    assert language_of_tag(header) == code


def test_an_unclear_text_leaves_the_header_to_say() -> None:
    assert message_language("Hotel Restaurant", "es") == "es"
    assert message_language("Hotel Restaurant", "garbage") is None
