"""A client's answer to "may the partner reach out to you?" (pure).

Read only for a referral awaiting the client's consent, and only from its client: there a
"yes" means "introduce me", while in any other reply "yes" is filler. The reading is
strict: the reply's first clause must be one of the phrases below as a whole (a trailing
"please" or "thanks" aside), so "not yet", "no idea" or "yes, but only next month" are no
answer. The scan reads at most `HEAD` characters of the new text, once: linear.
"""

from __future__ import annotations

from typing import Literal

Answer = Literal["yes", "no"]

HEAD = 200  # characters of the new text read; the answer is the first clause of them

# each language's phrases, lower-case, as the first clause says them in full
YES: dict[str, frozenset[str]] = {
    "en": frozenset({"yes", "yes please", "yeah", "yep", "sure", "of course", "ok", "okay",
                     "fine", "happy to", "go ahead", "please do", "sounds good",
                     "no problem", "absolutely", "certainly", "i agree", "agreed"}),
    "de": frozenset({"ja", "ja gerne", "gerne", "gern", "ja bitte", "sehr gerne",
                     "einverstanden", "klar", "natürlich", "selbstverständlich",
                     "in ordnung", "kein problem", "okay", "ok"}),
    "fr": frozenset({"oui", "oui volontiers", "volontiers", "d'accord", "oui d'accord",
                     "avec plaisir", "bien sûr", "oui bien sûr", "pas de problème",
                     "oui merci", "ok", "entendu"}),
    "es": frozenset({"sí", "si", "sí por favor", "si por favor", "claro", "claro que sí",
                     "de acuerdo", "por supuesto", "vale", "sin problema", "con gusto",
                     "ok"}),
    "nl": frozenset({"ja", "ja graag", "graag", "prima", "akkoord", "goed", "prima hoor",
                     "geen probleem", "natuurlijk", "zeker", "oké", "ok"}),
}
NO: dict[str, frozenset[str]] = {
    "en": frozenset({"no", "no thanks", "no thank you", "nope", "not interested",
                     "i'd rather not", "rather not", "please don't", "no please don't",
                     "i decline"}),
    "de": frozenset({"nein", "nein danke", "lieber nicht", "bitte nicht", "nein bitte nicht",
                     "kein interesse", "nicht nötig"}),
    "fr": frozenset({"non", "non merci", "plutôt pas", "non plutôt pas", "pas intéressé",
                     "pas intéressée", "je préfère pas", "je préfère ne pas"}),
    "es": frozenset({"no", "no gracias", "mejor no", "prefiero que no",
                     "no me interesa"}),
    "nl": frozenset({"nee", "nee dank je", "nee dank u", "nee bedankt", "liever niet",
                     "nee liever niet", "geen interesse", "niet nodig"}),
}
# what may follow the phrase in its clause without changing it
COURTESY = frozenset({"please", "thanks", "thank you", "bitte", "danke", "merci",
                      "s'il vous plaît", "por favor", "gracias", "graag", "bedankt",
                      "alstublieft", "dank u", "dank je"})
# a first clause that only greets ("Hi Alice,") is passed over, once
GREETINGS = frozenset({"hi", "hello", "hey", "dear", "hallo", "liebe", "lieber", "guten",
                       "bonjour", "salut", "hola", "estimada", "estimado", "hoi", "beste",
                       "dag", "goedemorgen", "goedemiddag", "good"})

_YES = frozenset().union(*YES.values())
_NO = frozenset().union(*NO.values())
_CLAUSE_END = frozenset(".,;:!?\n()[]\u2014\u2013")
_DROPPED = str.maketrans({"\u2019": "'", "\u00a0": " ", "\u00bf": " ", "\u00a1": " ",
                          "-": " ", '"': " ", "*": " ", "_": " ", "\u201c": " ",
                          "\u201d": " ", "\u201e": " ", "\u00ab": " ", "\u00bb": " "})


def _clauses(text: str) -> list[str]:
    """The first clauses of `text`, each lower-cased with its spaces collapsed."""
    clauses: list[str] = []
    current: list[str] = []
    for char in text[:HEAD].translate(_DROPPED):
        if char in _CLAUSE_END:
            said = " ".join("".join(current).split()).lower()
            if said:
                clauses.append(said)
                if len(clauses) == 2:
                    return clauses
            current = []
        else:
            current.append(char)
    said = " ".join("".join(current).split()).lower()
    return [*clauses, said] if said else clauses


def _strip_courtesy(clause: str) -> str:
    for polite in COURTESY:
        if clause.endswith(" " + polite):
            return clause[: -len(polite) - 1]
    return clause


def read_consent(text: str) -> Answer | None:
    """"yes" or "no" when the reply's first clause says it outright, else None."""
    clauses = _clauses(text)
    if clauses and clauses[0].split(" ", 1)[0] in GREETINGS and len(clauses) > 1:
        clauses = clauses[1:]
    if not clauses:
        return None
    first = clauses[0]
    for said in (first, _strip_courtesy(first)):
        if said in _YES:
            return "yes"
        if said in _NO:
            return "no"
    return None
