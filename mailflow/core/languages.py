"""Which language each party gets, and why: a pure choice from what is known about them.

The order (issue #26): set by hand (a partner's `language:`, `partners edit --language`,
`mailflow language EMAIL CODE`, the web), then learned from the person's own mail, then
the language of the intro's text (for its client and partner), then the firm's default.
The referrers are the firm's people: the firm's default unless set by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailflow.core.model import Role

SUPPORTED = ("en", "de", "fr", "es", "nl")
NAMES = {"en": "English", "de": "Deutsch", "fr": "français", "es": "español",
         "nl": "Nederlands"}
# why a party gets its language, as `show` and the web say it
SOURCES = {"set": "set by hand", "mail": "from their own mail", "intro": "from the intro's text",
           "default": "the firm's default"}


@dataclass(frozen=True)
class LanguageChoice:
    code: str
    source: str  # a key of SOURCES

    @property
    def why(self) -> str:
        return SOURCES[self.source]


def normalise(value: str) -> str | None:
    """'de', 'DE', 'de-CH', 'de_AT', 'German', 'Deutsch' → 'de'; anything else → None."""
    cleaned = value.strip().lower().replace("_", "-")
    code = cleaned.split("-")[0]
    if code in SUPPORTED:
        return code
    by_name = {name.lower(): c for c, name in NAMES.items()}
    by_name.update({"german": "de", "french": "fr", "spanish": "es", "dutch": "nl",
                    "english": "en", "francais": "fr", "espanol": "es", "castellano": "es",
                    "nederlands": "nl", "deutsch": "de", "flemish": "nl", "vlaams": "nl"})
    return by_name.get(cleaned)


def choose(role: Role | None, *, set_by_hand: str | None, learned: str | None,
           intro: str | None, default: str) -> LanguageChoice:
    """The language one party gets on one referral."""
    if set_by_hand:
        return LanguageChoice(set_by_hand, "set")
    if role is Role.REFERRER:
        return LanguageChoice(default, "default")  # the firm's own people
    if learned:
        return LanguageChoice(learned, "mail")
    if intro and role in (Role.CLIENT, Role.PARTNER):
        return LanguageChoice(intro, "intro")
    return LanguageChoice(default, "default")


def locale_for(language: str, country: str | None) -> str:
    """The Babel locale for a language in a country: 'de' in CH → 'de_CH', 'en' in US →
    'en_US'; a language not spoken there keeps its own ('fr' in DE → 'fr'). English
    without a country is British, as mailflow's dates have always been."""
    from babel import Locale, UnknownLocaleError

    if country:
        candidate = f"{language}_{country.upper()}"
        try:
            Locale.parse(candidate)
            return candidate
        except (UnknownLocaleError, ValueError):
            pass
    return "en_GB" if language == "en" else language
