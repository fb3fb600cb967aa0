"""The language of a short text (a reply, an intro), or None when it cannot be told.

Lingua is used because it is built for short texts; its low-accuracy mode (trigram
models only) loads in tens of milliseconds and some 15 MB for the five languages, where
the high-accuracy models cost a second and 170 MB, and on replies of a few words the two
agree. A text with fewer than two words, or where the best guess is not clearly ahead,
says nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_MIN_WORDS = 2
_MIN_CONFIDENCE = 0.6
_READ = 400  # the start of a text tells its language; the rest adds only time
_WORDS = re.compile(r"[^\W\d_]{2,}")
# a language is named by a header or tag like "de", "de-DE", "fr-CA"
_TAG = re.compile(r"^\s*([A-Za-z]{2})(?:[-_][A-Za-z0-9]{1,8})*\s*(?:,|$)")


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.ENGLISH, Language.GERMAN, Language.FRENCH, Language.SPANISH, Language.DUTCH,
    ).with_low_accuracy_mode().build()


def language_of(text: str) -> str | None:
    """'en', 'de', 'fr', 'es' or 'nl' when the text clearly is in it."""
    sample = text[:_READ]
    words = _WORDS.findall(sample)
    if len(words) < _MIN_WORDS:
        return None
    values = _detector().compute_language_confidence_values(" ".join(words))
    if not values or values[0].value < _MIN_CONFIDENCE:
        return None
    code: str = values[0].language.iso_code_639_1.name.lower()
    return code


def language_of_tag(header: str | None) -> str | None:
    """The first language of a Content-Language header, if it is one mailflow writes."""
    from mailflow.core.languages import SUPPORTED

    if not header:
        return None
    found = _TAG.match(header)
    code = found.group(1).lower() if found else None
    return code if code in SUPPORTED else None


def message_language(text: str, content_language: str | None) -> str | None:
    """The language a person wrote in: their text's, else the header their mail program
    set (often the program's own language, so the text comes first)."""
    return language_of(text) or language_of_tag(content_language)
