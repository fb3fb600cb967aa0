"""What a won referral was worth, as people write it in a reply: "won 4500", "Won $4,500",
"Gewonnen, 4.500 €", "value: 4500", "Wert: 4.500,50".

Read from the start of the reply's new text only (the same window as the reply words), so
a figure further down, a date or a phone number is never taken for a value. A figure
counts when it follows a `value:` label in any supported language, or, in a reply whose
word is `won`, when it carries a currency mark or directly follows the word.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mailflow.core.vocabulary import BY_WORD

_WINDOW = 300
_BARE_AT_LEAST = 100  # without a currency mark, a smaller figure is no value
_MAX = 1e12  # beyond any referral's worth: a typo or a phone number
# 4500 | 4,500 | 4.500 | 4 500 | 4 500 | 4,500.50 | 4.500,50 | 4500.5
_NUMBER = r"\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MARK = r"[$€£¥]|\b(?:eur|euro|euros|usd|gbp|chf|cad|aud|dollars?|pounds?)\b|(?<=\d)k\b"
_AMOUNT = rf"(?:(?P<pre>{_MARK})\s?)?(?P<number>{_NUMBER})(?:\s?(?P<post>{_MARK}))?"
_LABEL = re.compile(
    rf"(?<!\w)(?:value|worth|wert|auftragswert|valeur|montant|valor|importe|waarde|bedrag)"
    rf"[ \t]*[:=][ \t]*{_AMOUNT}", re.IGNORECASE)
_ANY = re.compile(_AMOUNT, re.IGNORECASE)


@lru_cache(maxsize=1)
def _after_won() -> re.Pattern[str]:
    """A `won` word of any language, then a figure: "won 4500", "Auftrag erhalten: 4.500"."""
    word = BY_WORD["won"]
    forms = sorted({*word.phrases, *(f for forms in word.forms.values() for f in forms)},
                   key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(f) for f in forms)})"
                      rf"[ \t:,\-\u2013\u2014!.]{{0,4}}{_AMOUNT}", re.IGNORECASE)


def number_of(text: str) -> float | None:
    """'4.500,50' → 4500.5, '4,500' → 4500.0, '4500.5' → 4500.5."""
    digits = text.replace("\u00a0", " ").replace("\u202f", " ").replace(" ", "")
    last = max(digits.rfind("."), digits.rfind(","))
    if last >= 0 and len(digits) - last - 1 in (1, 2):  # a decimal part
        whole, fraction = digits[:last], digits[last + 1:]
    else:
        whole, fraction = digits, ""
    whole = whole.replace(".", "").replace(",", "")
    if not whole.isdigit() or not (fraction == "" or fraction.isdigit()):
        return None
    value = float(f"{whole}.{fraction or 0}")
    return value if 0 < value < _MAX else None


def _value(match: re.Match[str]) -> float | None:
    number = number_of(match.group("number"))
    if number is None:
        return None
    if (match.group("post") or "").lower() == "k" or (match.group("pre") or "").lower() == "k":
        number *= 1000
    return number


def read_value(text: str, word: str | None) -> float | None:
    """The value a reply gives its referral, or None. `word`: the reply word it says."""
    head = text[:_WINDOW]
    labelled = _LABEL.search(head)
    if labelled:
        return _value(labelled)
    if word != "won":
        return None
    for match in _ANY.finditer(head.split("\n\n")[0]):
        if match.group("pre") or match.group("post"):
            return _value(match)
    after = _after_won().search(head)
    value = _value(after) if after else None
    # a bare small number after the word is a count or a date ("won 2 weeks ago")
    return value if value is not None and value >= _BARE_AT_LEAST else None
