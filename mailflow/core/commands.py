"""Reply words: read from the start of a reply's new text, forgiving of filler.

The input is already the new text (see `reply_text.new_text`); nothing here looks
at quotes. Words are read in English, German, French, Spanish and Dutch, all of
them from everyone (people mix languages): the phrases are the vocabulary's
`forms`, the small words around them are `core.reply_language`. Precision comes
first: a missed word becomes a note passed to the referrer, a wrong close is harm.
The rule, in order:

1. Empty text is no command (None).
2. Greeting lines ("Hi Alice,", "Dear Bob", "Sehr geehrte Frau Adams,", "Hola:")
   are skipped. If the first remaining line is a bare number or a bare address, it
   is a `choice`. A line starting `need:` (`Bedarf:`, `besoin :`, `necesidad:`,
   `behoefte:`) is a `need` with the rest of that line as text.
3. The *window* is the first 200 characters from there, cut into sentences (at
   ".", "!", "?" and line ends). Sentences that only greet, thank or sign off
   ("Thanks!", "Vielen Dank!", "Met vriendelijke groet,") are passed over; the next
   two sentences are read. A sentence that ends in "?" is a question and never
   counts ("Done?", "Contacted? Not yet", "¿Hecho?").
4. Each sentence is cut into clauses at commas, semicolons and dashes, and each
   clause is tried in turn:
   - *structured words* (`core.word_grammar`): a keyword with only closed-set words
     around it: `snooze 2 weeks` / `2 Wochen zurückstellen` / `reporter de 2
     semaines` / `posponer 2 semanas` / `2 weken uitstellen` (7 days without a
     length; the verbs that only remind, "in 2 Wochen erinnern", need one),
     `rating N` (`Bewertung`, `note`, `valoración`, `beoordeling`), `N/5`,
     `N stars`, `★★★★` (1..5; anything else is a note), `stop`, `stop all` (with
     words like "please", "emails", "bitte", "por favor" only: "Stop by the office"
     is no stop), `reopen`, `undo`, `follow up R-7`;
   - *reply words* anywhere in a clause of at most ten words (done / erledigt /
     c'est fait / hecho / gedaan …; won / Auftrag erhalten / signé / firmado /
     opdracht binnen …; lost / kein Bedarf / pas intéressé / no le interesa / geen
     interesse …; contacted / angerufen / appelé / llamé / gebeld …). "met" counts
     only as the clause's first word ("Met on Tuesday", not "We met at a
     conference", nor the Dutch "Met vriendelijke groet").
     *Before* the word only filler may stand: pronouns, auxiliaries, "yes", "ja",
     "oui", "sí", "u", "elkaar", "wir haben", "hemos", a time ("heute Morgen")… Any
     negation, hedge or weekday makes it no command ("not", "noch nicht", "pas
     encore", "todavía no", "nog niet", "probably", "wahrscheinlich", "bientôt",
     "mañana", "binnenkort", "Montag"): a weekday before a word may be a plan as
     well as a report, so "Montag erledigt" and "Lunes firmado" are notes. A bare
     capitalised word counts as a name only before an English phrase ("Jane signed
     today"); in the other languages a sentence-initial noun is as likely
     ("Formular unterschrieben"), so a name needs a title ("Herrn Meier erreicht",
     "Mme Dupont a signé"). Idioms are no word: "de hecho", "en fait", "I'm lost".
     *After* the word, in its clause (up to a colon or bracket), a future makes it
     no command ("done by Friday", "erledigt bis Freitag", "firmado mañana"). After
     done, won and lost only a closed set may follow: times, thanks, "on my side",
     and for won the engagement ("la lettre de mission", "el contrato"), for lost
     the reason's usual words ("to a competitor", "leider"). So "signé le
     formulaire", "terminé la lecture", "hired another firm", "Hecho de menos",
     "Ik heb gedaan wat ik kon" and "passt nicht ganz" are notes.
     *Later in the sentence*, a contrast or exception ("but", "aber", "mais",
     "pero", "maar", "außer", "sauf", "excepto", "behalve") or, for all but lost, a
     negation takes the word back ("angerufen, aber nicht erreicht", "alles
     erledigt außer der Rechnung"); so does a next sentence that starts with one.
   - `forget me` and its forms in each language ("vergessen Sie mich", "oubliez-moi",
     "olvídenme", "vergeet mij", "delete my data", "löschen Sie meine Daten"…) as the
     whole clause: no more mail, and what mailflow holds about the sender is erased;
     "won't" is not "won"; "metadata" and "Meeting" are not "met".
5. Otherwise the reply is a `note` carrying the whole text. Its
   `looks_like_command` is true when the text is at most three words with no
   sentence in it and one of them is a reply word misspelt by one letter (two
   for long English words) or a word used wrongly ("rating nine", "reopen it
   now?"), so the sender can be told the words once.

A `need:` line anywhere in the reply also fills `need` on whatever command was
found ("Won! need: a property lawyer").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from mailflow.core.reply_language import (
    AFTER,
    BLOCKING,
    CONTRASTS,
    DAYS,
    FILLER,
    FUTURES,
    IDIOMS,
    MORNING,
    MORNING_AFTER,
    NEGATIONS,
    NOT_NEGATING_AFTER,
    NOT_NEGATING_BEFORE,
    POLITE,
    TIMES,
    TITLES,
    words_of,
)
from mailflow.core.vocabulary import (
    ALONE,
    CLOSING_WORDS,
    VOCABULARY,
    Word,
    phrase_languages,
    phrases,
)
from mailflow.core.word_grammar import GRAMMAR, TOKEN, Grammar, tokens

PHRASES = phrases()  # what people type -> the word (vocabulary.py), every language
# words a mistyped reply is compared with: the English phrases of one word, and the
# first word of each word with a grammar of its own (snooze, rating, follow…)
KNOWN_WORDS = tuple(dict.fromkeys(
    [p for p, languages in phrase_languages().items() if " " not in p and "en" in languages]
    + [w.shown.split()[0].rstrip(":") for w in VOCABULARY if not w.phrases
       and w.shown[:1].isalpha() and w.word not in ("note", "choice")]))
# the other languages' long single words: a mistype is one letter away ("erldigt")
FOREIGN_WORDS = tuple(p for p, languages in phrase_languages().items()
                      if " " not in p and "en" not in languages and len(p) >= 6)
_HINT_FIRST = frozenset({"rating", "snooze", "need", "reopen", "undo", "stop", "bewertung",
                         "beoordeling", "valoración", "zurückstellen", "uitstellen", "posponer",
                         "stopp"})

# capitalised words at a clause start that are things, not names
_NOT_NAMES = frozenset({"meeting", "call", "paperwork", "proposal", "review", "form", "forms",
                        "document", "documents", "application", "quote", "invoice", "payment",
                        "nothing", "which", "what", "who", "when", "if", "once", "project",
                        "work", "report", "question", "interview", "appointment"})
# after "met" (English, first in its clause): "Met on Tuesday", "Met Jane"; not the Dutch
# "met" (with) of "Met vriendelijke groet"
_MET_AFTER = words_of("on with her him them yesterday today this morning afternoon last week "
                       "in person at the office and already")
_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|dear|good (?:morning|afternoon|evening|day)|morning|afternoon|"
    r"thanks|thank you|thanks a lot|many thanks|thx|cheers|ok|okay|yes|great|sure|sorry|"
    r"update|quick update|good news|bad news|fyi|all good|perfect|excellent|brilliant|"
    r"bonjour|bonsoir|salut|cher|chère|madame|monsieur|merci|merci beaucoup|mille mercis|"
    r"hallo|guten (?:morgen|tag|abend)|liebe|lieber|sehr geehrte|sehr geehrter|moin|servus|"
    r"danke|danke schön|vielen dank|herzlichen dank|besten dank|"
    r"hola|buenos días|buenas tardes|buenas|estimado|estimada|querido|querida|gracias|"
    r"muchas gracias|mil gracias|"
    r"hoi|beste|geachte|goedemorgen|goedemiddag|dag|bedankt|dank je|dank je wel|dank u|"
    r"dank u wel|hartelijk dank|ciao)\b[\w .'-]{0,30}$",
    re.IGNORECASE)
# sign-offs, skipped like greetings even though "met" is a reply word
_CLOSING = re.compile(
    r"^(?:met vriendelijke groet(?:en)?|vriendelijke groet(?:en)?|met hartelijke groet(?:en)?|"
    r"mit freundlichen grüßen|mit freundlichen grüssen|viele grüße|beste grüße|"
    r"cordialement|bien cordialement|bien à vous|saludos|un saludo|atentamente|"
    r"kind regards|best regards|regards|cheers)\b[\w .'-]{0,30}$", re.IGNORECASE)
_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")
_CLAUSE_SPLIT = re.compile(r"\s*(?:[,;]|\s[-\u2013\u2014]+\s|[\u2013\u2014]|\s-\s?|^-\s)\s*")
_WORD = r"(?<![\w'-])({})(?![\w'-])"
_EDGE = "\"'*_()[]¡¿«»“”„ "  # stripped from a clause's ends

# "forget me" in each language, as the whole clause (politeness around it allowed)
_FORGET = re.compile(
    r"^(?:please\s+|bitte\s+|s'il vous plaît,?\s+|por favor,?\s+|alstublieft,?\s+)?"
    r"(?:forget\s+(?:about\s+)?me|(?:delete|erase|remove)\s+(?:all\s+)?my\s+"
    r"(?:personal\s+)?(?:data|details|information|info)"
    r"|vergessen\s+sie\s+mich|löschen\s+sie\s+meine\s+daten|meine\s+daten\s+löschen"
    r"|oubliez[- ]moi|(?:supprimez|effacez)\s+mes\s+(?:données|coordonnées)"
    r"|olv[ií]d(?:e|en)me|(?:borren|borre|eliminen|elimine)\s+mis\s+datos"
    r"|vergeet\s+(?:mij|me)|verwijder\s+mijn\s+gegevens)"
    r"(?:,?\s+(?:please|pls|now|thanks|thank you|bitte|danke|merci|s'il vous plaît|gracias"
    r"|por favor|bedankt|alstublieft))*$",
    re.IGNORECASE)
_CHOICE_NUMBER = re.compile(r"^(?:#|no\.?\s*|number\s+|option\s+)?(\d{1,2})[.)]?$", re.IGNORECASE)
_EMAIL = re.compile(r"^<?(?:mailto:)?([^\s<>@,;]+@[^\s<>@,;]+\.[^\s<>@,;.]+)>?\.?$",
                    re.IGNORECASE)
# real words one letter away from a reply word: not taken for a mistype
_COMMON = frozenset({
    "almost", "call", "calls", "close", "closed", "code", "contact", "cost", "costs", "date",
    "design", "dine", "dome", "don", "dove", "dune", "engage", "fine", "gone", "hope", "host",
    "last", "late", "line", "list", "lone", "lose", "lots", "love", "lust", "meet", "mine",
    "most", "nine", "node", "none", "nope", "note", "one", "post", "rate", "rated", "rates",
    "send", "sent", "shop", "sign", "signal", "signs", "son", "step", "steps", "sure", "toe",
    "ton", "tone", "top", "undone", "wan", "wont", "yet",
})
_WINDOW = 200
_HEAD = 2000  # greeting lines are skipped within this many characters
_ANY_WORD = re.compile(
    _WORD.format("|".join(re.escape(w) for w in (*KNOWN_WORDS, *PHRASES))), re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    """One reply word, canonical, with what it carries."""

    word: str            # done won lost contacted snooze stop stop_all forget rating need
    #                      reopen undo choice note
    outcome: str | None = None   # "done" | "won" | "lost" for closing words
    days: int | None = None      # snooze length in calendar days
    rating: int | None = None    # 1..5
    text: str = ""               # the need, the note (whole text) or the choice answer
    looks_like_command: bool = False  # a short note that is probably a mistyped word
    need: str | None = None  # a "need: ..." line anywhere in the reply, besides the word


@dataclass(frozen=True)
class _Table:
    """The phrases of one vocabulary, prepared once."""

    words: dict[str, str]        # phrase -> word
    english: frozenset[str]      # phrases that are English forms (a bare name may precede)
    grammar: Grammar


@lru_cache(maxsize=8)
def _table(vocabulary: tuple[Word, ...]) -> _Table:
    languages = phrase_languages(vocabulary)
    return _Table(phrases(vocabulary), frozenset(p for p, ls in languages.items() if "en" in ls),
                  GRAMMAR if vocabulary is VOCABULARY else Grammar(vocabulary))


def parse_command(text: str, vocabulary: tuple[Word, ...] = VOCABULARY) -> Command | None:
    """The reply word at the start of `text` (already stripped of quotes), or a note."""
    table = _table(vocabulary)
    command = _parse(text, table)
    if command is None or command.word in ("need", "choice"):
        return command
    need = table.grammar.need_line(text)
    if need is None:
        return command
    if command.word == "note":
        return Command("need", text=need)
    return replace(command, need=need)


def _parse(text: str, table: _Table) -> Command | None:
    whole = text.strip()
    if not whole:
        return None
    # typographic apostrophes ("haven\u2019t", "won\u2019t") read like plain ones
    head = whole[:_HEAD].replace("\u2019", "'")  # the start is all we read
    lines = [line.strip() for line in head.splitlines()]
    start = 0
    while start < len(lines) - 1 and (not lines[start] or _is_greeting(lines[start])):
        start += 1
    first = lines[start]
    direct = _first_line_command(first, table.grammar)
    if direct is not None:
        return direct
    window = "\n".join(lines[start:])[:_WINDOW]
    sentences = [s.strip() for s in _SENTENCES.split(window)]
    sentences = [s for s in sentences if s and not _is_greeting(s)]
    for index, sentence in enumerate(sentences[:2]):
        if sentence.endswith("?"):
            continue
        following = sentences[index + 1] if index + 1 < len(sentences) else ""
        found = _sentence_command(sentence, following, table)
        if found is not None:
            return replace(found, text=whole) if found.word == "note" else found
    return Command("note", text=whole, looks_like_command=_looks_mistyped(whole))


def _is_greeting(line: str) -> bool:
    """A line or sentence that only greets, thanks or signs off ("Hi Alice,", "Danke!")."""
    cleaned = line.strip().rstrip(",.!:;").strip().strip("¡¿").strip()
    if not cleaned or len(cleaned.split()) > 5:
        return False
    if _CLOSING.match(cleaned):
        return True
    return bool(_GREETING.match(cleaned)) and not _ANY_WORD.search(cleaned)


def _first_line_command(line: str, grammar: Grammar) -> Command | None:
    """Answers that take the whole first line: a choice or a need."""
    cleaned = line.strip().strip("*_").strip()
    number = _CHOICE_NUMBER.match(cleaned)
    if number:
        return Command("choice", text=number.group(1))
    email = _EMAIL.match(cleaned)
    if email:
        return Command("choice", text=email.group(1).lower())
    need = grammar.need_first(cleaned)
    if need:
        return Command("need", text=need)
    return None


def _sentence_command(sentence: str, following: str, table: _Table) -> Command | None:
    sentence = " ".join(sentence.split())  # one space between words: the split stays linear
    clauses = [c.strip() for c in _CLAUSE_SPLIT.split(sentence) if c and c.strip()][:4]
    # the next sentence may take the word back: "Aber nicht erreicht.", "Leider nicht ganz."
    opening = tokens(following)[:3]
    next_turns = bool(set(opening[:2]) & CONTRASTS)
    next_denies = bool(set(opening[:2]) & NEGATIONS) and not set(opening) & NOT_NEGATING_BEFORE
    for index, clause in enumerate(clauses):
        clause = clause.strip(_EDGE)
        if not clause:
            continue
        found = _structured(clause, table.grammar)
        if found is not None:
            return found
        word = _reply_word(clause, table)
        if word is None:
            continue
        phrase_end, word_name = word
        rest = clause[phrase_end:] + " " + " ".join(clauses[index + 1:])
        if next_turns or (next_denies and word_name != "lost") \
                or not _quiet_rest(word_name, rest):
            return None  # "angerufen, aber nicht erreicht": the sentence takes it back
        return Command(word_name, outcome=word_name if word_name in CLOSING_WORDS else None)
    return None


def _structured(clause: str, grammar: Grammar) -> Command | None:
    if _FORGET.match(" ".join(clause.lower().rstrip(".!").split())):
        return Command("forget")
    read = grammar.read(clause)
    if read is None:
        return None
    word, amount, text = read
    if word == "snooze":
        return Command("snooze", days=amount)
    if word == "rating":
        if amount is not None and 1 <= amount <= 5:
            return Command("rating", rating=amount)
        return Command("note", looks_like_command=True)  # the caller fills in the text
    if word == "follow_up":
        return Command("follow_up", text=text)
    return Command(word)


def _reply_word(clause: str, table: _Table) -> tuple[int, str] | None:
    """(where the phrase ends, its word) for the first reply phrase the clause says."""
    words = clause.split()
    if not words or len(words) > 10:
        return None
    lowered = clause.lower()
    candidates: list[tuple[int, int, str]] = []
    for phrase in table.words:
        if phrase not in lowered:  # the pattern matches the phrase itself: no regex needed
            continue
        for match in re.finditer(_WORD.format(re.escape(phrase)), lowered):
            candidates.append((match.start(), -len(phrase), phrase))
    for position, _, phrase in sorted(candidates):  # leftmost first, then longest
        before, after = clause[:position], clause[position + len(phrase):]
        word = table.words[phrase]
        if phrase == "met" and (before.strip() or not _met_after(after)):
            continue  # "met" only as the clause's first word, and not the Dutch "with"
        if not _clean_prefix(before, english=phrase in table.english):
            continue
        previous = tokens(before)[-1:]
        if previous and f"{previous[0]} {phrase}" in IDIOMS:
            continue  # "de hecho" (in fact), "en fait", "I'm lost"
        if not _clean_after(word, phrase, after):
            continue
        return position + len(phrase), word
    return None


def _clean_prefix(before: str, english: bool) -> bool:
    """True when only filler (or a name) stands before a reply word: no negation, hedge
    or weekday. A bare capitalised word is a name only before an English phrase ("Jane
    signed"); in the other languages it is as likely a noun ("Formular unterschrieben",
    "Lunes firmado"), so a name needs a title there ("Herrn Meier erreicht")."""
    if "n't" in before.lower():
        return False
    words = re.findall(r"[^\W_]+", before)
    if len(words) > 6:
        return False
    titled = False
    for index, token in enumerate(words):
        lowered = token.lower()
        if _morning(words, index):
            continue  # "heute Morgen erledigt"
        if lowered in BLOCKING:
            return False
        if lowered in TITLES:
            titled = True
            continue
        if lowered in FILLER:
            continue
        if token[:1].isupper() and _may_be_name(lowered) and (titled or (english and index <= 1)):
            continue
        return False
    return True


def _may_be_name(lowered: str) -> bool:
    return (lowered.isalpha() and lowered not in _NOT_NAMES and lowered not in DAYS
            and lowered not in PHRASES)


def _clean_after(word: str, phrase: str, after: str) -> bool:
    """What follows a phrase in its clause leaves it a report of what happened (up to a
    colon or a bracket: "won: ha firmato ieri" explains the word)."""
    cased = TOKEN.findall(re.split(r"[:(]", after, maxsplit=1)[0])
    following = [w.lower() for w in cased]
    if phrase in ALONE:
        return all(w in TIMES or w in POLITE for w in following)
    for index, token in enumerate(following):
        if token in FUTURES and not _morning(following, index):
            return False  # "done by Friday", "firmado mañana", "erledigt bis Montag"
    allowed = AFTER.get(word)
    if allowed is None:
        return True
    # "signé le formulaire", "terminé la lecture", "hired another firm", "spoke about it
    # internally", "rencontré un problème": not this word. Whom one spoke to may follow.
    return all(w in allowed or w.isdecimal() or _morning(following, index)
               or (word == "contacted" and cased[index][:1].isupper() and _may_be_name(w))
               for index, w in enumerate(following))


def _morning(words: list[str], index: int) -> bool:
    """"heute Morgen", "esta mañana": a morning, not tomorrow."""
    return (words[index].lower() in MORNING and index > 0
            and words[index - 1].lower() in MORNING_AFTER)


def _met_after(after: str) -> bool:
    for token in re.findall(r"[^\W_]+", after):
        if token.lower() in _MET_AFTER or token.lower() in DAYS:
            continue
        if token[:1].isupper() and _may_be_name(token.lower()) and token.lower() not in FILLER:
            continue
        return False
    return True


def _quiet_rest(word: str, rest: str) -> bool:
    """Nothing later in the sentence takes the word back: no "but", "except", "außer",
    and (for all but `lost`, whose reasons are often negative) no negation."""
    if word != "lost" and "n't" in rest.lower():
        return False
    following = tokens(rest)
    for index, token in enumerate(following):
        if token in CONTRASTS:
            return False
        if word != "lost" and token in NEGATIONS:
            after = set(following[index + 1:index + 3])  # "no problem", "no hay problema"
            before = following[index - 1] if index > 0 else ""
            if not after & NOT_NEGATING_BEFORE and before not in NOT_NEGATING_AFTER:
                return False
    return True


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _looks_mistyped(text: str) -> bool:
    """A short note that is probably a reply word gone wrong."""
    if "\n" in text.strip() or re.search(r"[.!?]\s+\S", text):
        return False
    words = [w.strip(".,!?:;*\"'").lower() for w in text.split()]
    words = [w for w in words if w]
    if not words or len(words) > 3:
        return False
    if words[0] in _HINT_FIRST:
        return True  # a known word used the wrong way: "rating 9", "need a lawyer"
    for word in words:
        if word in _COMMON or word in KNOWN_WORDS or not 3 <= len(word) <= 12:
            continue  # a real word, or a reply word used on purpose ("not done yet")
        limit = 1 if len(word) <= 5 else 2
        if any(_distance(word, known) <= limit for known in KNOWN_WORDS):
            return True
        if len(word) >= 6 and any(_distance(word, known) == 1 for known in FOREIGN_WORDS):
            return True
    return False
