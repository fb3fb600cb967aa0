"""Reply words with a grammar of their own: stop, stop all, reopen, undo, follow up,
snooze, rating and need, in every language of the vocabulary.

A clause is cut into words (`tokens`) and read against closed sets, never by a regex
with a repeated group over free text: a keyword of the word's `forms` (anywhere in
the clause: German and Dutch put the verb last, "2 Wochen zurückstellen", "stel 2
weken uit") and otherwise only words from a small set ("please", "emails", "bitte",
"svp", "por favor", "aub"). "Stop by the office" has "by" and "office", so it is no
stop. `snooze` alone keeps its English reading of a prefix ("snooze 2 weeks, she is
away"); the other languages' verbs need the whole clause, and the verbs that only
remind ("erinnern", "rappel", "recuérdame", "herinner") need a length.
"""

from __future__ import annotations

import re

from mailflow.core.reply_language import NUMBERS, POLITE, STOP_REST, UNITS, words_of
from mailflow.core.vocabulary import VOCABULARY, Word, keywords

TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_COMPACT = re.compile(r"^(\d{1,3})(d|w|wks?|m)$")
_REF = re.compile(r"^r-(\d{1,9})$")
# snooze verbs that are a command on their own (7 days); the others need a length
_STRONG_SNOOZE = frozenset({"snooze", "zurückstellen", "zurueckstellen", "pausieren",
                            "reporter", "repousser", "posponer", "pospón", "posponlo", "aplazar",
                            "aplázalo", "uitstellen", "pauzeren"})
_SNOOZE_REST = STOP_REST | words_of(
    "it this for me für um mich mir sie nochmal noch einmal wieder in de d pour dans moi "
    "encore nous durante por en dentro lo la otra vez voor over binnen mij nog eens opnieuw "
    "uit u het ons graag within the referral")
_FOLLOW_REST = STOP_REST | words_of("on zu pour de van voor la el referral")
_STOP_EXTRA = words_of("i want ich möchte will wir je veux voudrais ne plus quiero queremos ik "
                        "wil willen")
# what may follow a bare "4/5", "4 von 5", "4 stars" or the French "note 4"
_AFTER_STARS = POLITE | words_of("sur 5 stars sterne étoiles estrellas sterren from me")


def tokens(text: str) -> list[str]:
    """The words of `text`, lower case, split at spaces, apostrophes and punctuation."""
    return TOKEN.findall(text.lower())


def _split(forms: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Keyword forms as word tuples, longest first ("stop all" before "stop")."""
    return sorted({tuple(tokens(f)) for f in forms if tokens(f)}, key=len, reverse=True)


class Grammar:
    """The keyword rules of one vocabulary, prepared once."""

    def __init__(self, vocabulary: tuple[Word, ...] = VOCABULARY) -> None:
        self.stop_all = _split(keywords("stop_all", vocabulary))
        self.stop = _split(keywords("stop", vocabulary))
        self.reopen = _split(keywords("reopen", vocabulary))
        self.undo = _split(keywords("undo", vocabulary))
        self.follow_up = _split(keywords("follow_up", vocabulary))
        self.snooze = frozenset(k for k in keywords("snooze", vocabulary) if " " not in k)
        rating = sorted(keywords("rating", vocabulary), key=len, reverse=True)
        numbers = sorted(NUMBERS, key=len, reverse=True)
        number = "(\\d{1,3}|" + "|".join(re.escape(n) for n in numbers) + ")"
        out_of = r"(?:/|out of|von|sur|de|van|op|uit)"
        stars = r"(?:stars?|sterne?|étoiles?|estrellas?|sterren|ster)"
        self.rating = re.compile(
            "^(" + "|".join(re.escape(k) for k in rating) + rf")\s?[:=]?\s?{number}"
            rf"(?:\s?{out_of}\s?5)?(?![\w])"
            rf"|^(\d{{1,2}})\s?{out_of}\s?5(?![\w])|^(\d{{1,2}})\s?{stars}(?![\w])"
            r"|^([★⭐*]{1,9})[☆✩ ]*$|^([★⭐]+)", re.IGNORECASE)
        need = sorted(keywords("need", vocabulary), key=len, reverse=True)
        self.need = re.compile(
            r"^[^\w\n]*(?:" + "|".join(re.escape(k) for k in need)
            + r")[ \t]*[:\-\u2013\u2014][ \t]*(\S.*)$", re.IGNORECASE | re.MULTILINE)

    def read(self, clause: str) -> tuple[str, int | None, str] | None:
        """(word, days or rating, text) for a clause that is one of these words."""
        lowered = " ".join(clause.lower().rstrip(".!").split())
        words = tokens(lowered)
        if not words:
            return self._rating(lowered)  # "★★★"
        if _keyword(words, self.stop_all, STOP_REST | _STOP_EXTRA) is not None:
            return ("stop_all", None, "")
        if _keyword(words, self.stop, STOP_REST | _STOP_EXTRA) is not None:
            return ("stop", None, "")
        if _keyword(words, self.reopen, STOP_REST) is not None:
            return ("reopen", None, "")
        if _keyword(words, self.undo, STOP_REST) is not None:
            return ("undo", None, "")
        follow = _keyword(words, self.follow_up, _FOLLOW_REST, _REF)
        if follow is not None:
            refs = [m.group(1) for w in words if (m := _REF.match(w))]
            return ("follow_up", None, refs[0] if refs else "")
        days = self._snooze(words)
        if days is not None:
            return ("snooze", days, "")
        return self._rating(lowered)

    def _snooze(self, words: list[str]) -> int | None:
        start = 0
        while start < len(words) and words[start] in POLITE:
            start += 1
        prefix = start < len(words) and words[start] == "snooze"  # the English reading
        verbs: list[str] = []
        days: int | None = None
        index = start if prefix else 0
        while index < len(words):
            word = words[index]
            following = words[index + 1] if index + 1 < len(words) else ""
            compact = _COMPACT.match(word)
            if word in self.snooze:
                verbs.append(word)
            elif compact:
                count, unit = int(compact.group(1)), compact.group(2)
                per = 30 if unit == "m" else 7 if unit.startswith("w") else 1
                days = count * per if days is None else days
            elif (word in NUMBERS or (word.isdecimal() and len(word) <= 3)) and following in UNITS:
                count = NUMBERS[word] if word in NUMBERS else int(word)
                days = count * UNITS[following] if days is None else days
                index += 1
            elif word not in _SNOOZE_REST:
                if prefix:
                    break  # "snooze 2 weeks, she is away": the rest is not read
                return None
            index += 1
        if not verbs:
            return None
        if days is None:
            if not any(v in _STRONG_SNOOZE for v in verbs):
                return None  # "rappel", "erinnern" alone are no snooze
            days = 7
        return max(1, min(days, 365))

    def _rating(self, lowered: str) -> tuple[str, int | None, str] | None:
        match = self.rating.match(lowered)
        if match is None:
            return None
        groups = match.groups()
        if (groups[0] == "note" or groups[2] or groups[3]) and any(
                w not in _AFTER_STARS for w in tokens(lowered[match.end():])):
            return None  # "Note: 2 meetings", "2 de 5 documents reçus" are notes
        stars = groups[4] or groups[5]
        if stars is not None:
            value = len(stars)
        else:
            token = next(g for g in groups[1:4] if g)
            value = NUMBERS[token] if token in NUMBERS else int(token)
        return ("rating", value, "")

    def need_line(self, text: str) -> str | None:
        """The text of a `need:` line anywhere in `text` (any language's keyword)."""
        found = self.need.search(text)
        return found.group(1).strip() if found else None

    def need_first(self, line: str) -> str | None:
        found = self.need.match(line)
        return found.group(1).strip() if found else None


def _keyword(words: list[str], keywords: list[tuple[str, ...]], rest: frozenset[str],
             extra: re.Pattern[str] | None = None) -> tuple[str, ...] | None:
    """The keyword that, with only `rest` words around it, makes up `words`."""
    present = set(words)  # most keywords have no word in the clause: skipped at a glance
    for keyword in keywords:
        if keyword[0] not in present:
            continue
        size = len(keyword)
        for start in range(len(words) - size + 1):
            if tuple(words[start:start + size]) != keyword:
                continue
            others = words[:start] + words[start + size:]
            if all(w in rest or (extra is not None and extra.match(w)) for w in others):
                return keyword
    return None


GRAMMAR = Grammar()
