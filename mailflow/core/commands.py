"""Reply words: read from the start of a reply's new text, forgiving of filler.

The input is already the new text (see `reply_text.new_text`); nothing here looks
at quotes. The rule, in order:

1. Empty text is no command (None).
2. Greeting lines ("Hi Alice,", "Dear Bob", "Good morning,") are skipped. If the
   first remaining line is a bare number or a bare address, it is a `choice`.
   A line starting `need:` is a `need` with the rest of that line as text.
3. The *window* is the first 200 characters from there, cut into sentences (at
   ".", "!", "?" and line ends). Sentences that only greet or thank ("Thanks!",
   "Hi Alice") are passed over; the next two sentences are read. A sentence that
   ends in "?" is a question and never counts ("Done?", "Contacted? Not yet").
4. Each sentence is cut into clauses at commas, semicolons and dashes, and each
   clause is tried in turn:
   - *structured words* at the start of the clause: `snooze [for] [N|a|one…]
     [d|days|w|weeks]` (7 days without a number), `rating N`, `N/5`, `N stars`,
     `★★★★` (1..5; anything else is a note), `stop`, `stop all` (only with words
     like "please", "emails", "sending"; "Stop by the office" is no stop), `forget
     me` / `delete my data` / `erase my data`,
     `reopen`, `undo` (with "please"/"thanks" around them);
   - *reply words* anywhere in a clause of at most eight words: done / complete /
     completed; won / engaged / hired / signed; lost / no fit / not a fit /
     declined; contacted / called / spoke / spoken / in touch; met only as the
     clause's first word ("Met on Tuesday", not "We met at a conference").
     Only filler may stand before the word in its clause: pronouns, "yes", "all",
     "job", "have been", "just", "finally", a name… A negation or hedge right
     before it ("not", "never", "haven't", "almost", "will be", "once") or a
     future right after it ("done by Friday", "signed soon") makes it no
     command: "I'm not done yet" and "The meeting is done" are notes.
     "won't" is not "won"; "metadata" and "Meeting" are not "met".
5. Otherwise the reply is a `note` carrying the whole text. Its
   `looks_like_command` is true when the text is at most three words with no
   sentence in it and one of them is a reply word misspelt by one letter (two
   for long words) or a word used wrongly ("rating nine", "reopen it now?"),
   so the sender can be told the words once.

A `need:` line anywhere in the reply also fills `need` on whatever command was
found ("Won! need: a property lawyer").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from mailflow.core.vocabulary import CLOSING_WORDS, VOCABULARY, Word, phrases

PHRASES = phrases()  # what people type -> the word (vocabulary.py)
# words a mistyped reply is compared with: every phrase of one word, and the first word
# of each word with a grammar of its own (snooze, rating, follow…)
KNOWN_WORDS = tuple(dict.fromkeys(
    [p for p in PHRASES if " " not in p]
    + [w.shown.split()[0].rstrip(":") for w in VOCABULARY if not w.phrases
       and w.shown[:1].isalpha() and w.word not in ("note", "choice")]))

# words that may stand before a reply word in its clause
_FILLER = frozenset({
    "yes", "yep", "yeah", "yup", "ok", "okay", "so", "and", "also", "well", "great", "good",
    "news", "update", "status", "fyi", "re", "now", "just", "already", "finally", "officially",
    "successfully", "both", "all", "job", "deal", "contract", "engagement", "client", "partner",
    "it", "it's", "its", "is", "was", "has", "have", "had", "been", "we", "we've", "weve",
    "we're", "were", "i", "i've", "ive", "i'm", "im", "they", "they've", "they're", "she", "he",
    "she's", "he's", "you", "a", "the", "that's", "thats", "this", "are", "got", "today",
    "yesterday", "earlier", "indeed", "actually", "happy", "glad", "pleased", "to", "report",
    "confirm", "confirmed",
})
# capitalised words at a clause start that are things, not names
_NOT_NAMES = frozenset({"meeting", "call", "paperwork", "proposal", "review", "form", "forms",
                        "document", "documents", "application", "quote", "invoice", "payment",
                        "nothing", "which", "what", "who", "when", "if", "once", "project",
                        "work", "report", "question", "interview", "appointment"})
_NEGATION = re.compile(
    r"(?:\bnot|\bnever|\bno|n't|\bnot yet|\byet to|\balmost|\bnearly|\bhardly|\bbarely|"
    r"\bwill|\bwould|\bshould|\bcould|\bmight|\bmay|\bonce|\bwhen|\bif|\buntil|\bsoon|\bbe|"
    r"\bhopefully|\bpartly|\bpartially|\bhalf|\bwhether|\bbefore)\s*$",
    re.IGNORECASE)
_FUTURE_AFTER = re.compile(
    r"^[ \t]*(?:by|soon|yet|later|tomorrow|next|when|once|if|shortly|until|till|eventually|"
    r"contact|touch|track|sight)\b", re.IGNORECASE)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|dear|good (?:morning|afternoon|evening|day)|morning|afternoon|"
    r"thanks|thank you|thanks a lot|many thanks|thx|cheers|ok|okay|yes|great|sure|sorry|"
    r"update|quick update|good news|bad news|fyi|all good|perfect|excellent|brilliant|"
    r"bonjour|hallo|hola|ciao|hoi)\b[\w .'-]{0,30}$",
    re.IGNORECASE)
_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")
_CLAUSE_SPLIT = re.compile(r"\s*(?:[,;]|\s[-\u2013\u2014]+\s|[\u2013\u2014]|\s-\s?|^-\s)\s*")
_WORD = r"(?<![\w'-])({})(?![\w'-])"

_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_NUMBER = r"(\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten)"
_SNOOZE = re.compile(
    rf"^(?:please\s+)?snooze(?:\s+(?:it|this|for|me))*(?:\s+{_NUMBER}\s*"
    r"(d|days?|w|wks?|weeks?|m|months?)\b)?", re.IGNORECASE)
_RATING = re.compile(
    rf"^(?:rating|rate|rated|score)\s*[:=]?\s*{_NUMBER}(?:\s*(?:/|out of)\s*5)?\b"
    r"|^(\d{1,2})\s*(?:/|out of)\s*5\b|^(\d{1,2})\s*stars?\b"
    r"|^([★⭐*]{1,9})[☆✩ ]*$|^([★⭐]+)", re.IGNORECASE)
_POLITE = r"(?:\s+(?:please|pls|thanks|thank you|now|it|this|that|the referral|referral))*"
_STOP = re.compile(
    r"^(?:please\s+)?(?:stop|unsubscribe)(\s+all)?"
    r"(?:\s+(?:please|pls|now|it|this|these|that|them|sending|emailing|mailing|contacting|"
    r"the|all|of|e-?mails?|reminders?|messages?|nudges?|follow-?ups?|me|us|thanks|"
    r"thank you|for (?:this|me)|referrals?))*$", re.IGNORECASE)
_FORGET = re.compile(
    r"^(?:please\s+)?(?:forget\s+(?:about\s+)?me|(?:delete|erase|remove)\s+(?:all\s+)?my\s+"
    r"(?:personal\s+)?(?:data|details|information|info))"
    r"(?:\s+(?:please|pls|now|thanks|thank you))*$", re.IGNORECASE)
_REOPEN = re.compile(rf"^(?:please\s+)?re-?open{_POLITE}$", re.IGNORECASE)
_FOLLOW_UP = re.compile(rf"^(?:please\s+)?follow[ -]?up(?:\s+(?:on\s+)?\[?r-(\d+)\]?)?{_POLITE}$",
                        re.IGNORECASE)
_UNDO = re.compile(rf"^(?:oops\s+|please\s+|sorry\s+)*undo{_POLITE}$", re.IGNORECASE)
_NEED = re.compile(r"^[^\w\n]*need[ \t]*[:\-\u2013\u2014][ \t]*(\S.*)$",
                   re.IGNORECASE | re.MULTILINE)
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


def parse_command(text: str, vocabulary: tuple[Word, ...] = VOCABULARY) -> Command | None:
    """The reply word at the start of `text` (already stripped of quotes), or a note."""
    command = _parse(text, PHRASES if vocabulary is VOCABULARY else phrases(vocabulary))
    if command is None or command.word in ("need", "choice"):
        return command
    need = _NEED.search(text)
    if need is None:
        return command
    if command.word == "note":
        return Command("need", text=need.group(1).strip())
    return replace(command, need=need.group(1).strip())


def _parse(text: str, table: dict[str, str]) -> Command | None:
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
    direct = _first_line_command(first)
    if direct is not None:
        return direct
    window = "\n".join(lines[start:])[:_WINDOW]
    read = 0
    for sentence in _SENTENCES.split(window):
        sentence = sentence.strip()
        if not sentence or _is_greeting(sentence):
            continue
        read += 1
        if read > 2:
            break
        if sentence.endswith("?"):
            continue
        found = _sentence_command(sentence, table)
        if found is not None:
            return replace(found, text=whole) if found.word == "note" else found
    return Command("note", text=whole, looks_like_command=_looks_mistyped(whole))


def _is_greeting(line: str) -> bool:
    """A line or sentence that only greets or thanks ("Hi Alice,", "Thanks a lot!")."""
    cleaned = line.strip().rstrip(",.!:;").strip()
    return (bool(cleaned) and len(cleaned.split()) <= 5 and bool(_GREETING.match(cleaned))
            and not _ANY_WORD.search(cleaned))


def _first_line_command(line: str) -> Command | None:
    """Answers that take the whole first line: a choice or a need."""
    cleaned = line.strip().strip("*_").strip()
    number = _CHOICE_NUMBER.match(cleaned)
    if number:
        return Command("choice", text=number.group(1))
    email = _EMAIL.match(cleaned)
    if email:
        return Command("choice", text=email.group(1).lower())
    need = _NEED.match(cleaned)
    if need:
        return Command("need", text=need.group(1).strip())
    return None


def _sentence_command(sentence: str, table: dict[str, str]) -> Command | None:
    sentence = " ".join(sentence.split())  # one space between words: the split stays linear
    for clause in [c for c in _CLAUSE_SPLIT.split(sentence) if c and c.strip()][:4]:
        clause = clause.strip().strip("\"'*_()[]").strip()
        found = _structured(clause) or _reply_word(clause, table)
        if found is not None:
            return found
    return None


def _number(token: str) -> int:
    return _NUMBERS[token.lower()] if token.lower() in _NUMBERS else int(token)


def _structured(clause: str) -> Command | None:
    lowered = " ".join(clause.lower().rstrip(".!").split())
    if _FORGET.match(lowered):
        return Command("forget")
    stop = _STOP.match(lowered)
    if stop:
        return Command("stop_all" if stop.group(1) else "stop")
    if _REOPEN.match(lowered):
        return Command("reopen")
    if _UNDO.match(lowered):
        return Command("undo")
    follow_up = _FOLLOW_UP.match(lowered)
    if follow_up:
        return Command("follow_up", text=follow_up.group(1) or "")
    snooze = _SNOOZE.match(lowered)
    if snooze:
        amount, unit = snooze.group(1), snooze.group(2)
        if unit is None:
            return Command("snooze", days=7)
        count = _number(amount)
        per = 30 if unit.startswith("m") else 7 if unit.startswith("w") else 1
        return Command("snooze", days=max(1, min(count * per, 365)))
    rating = _RATING.match(lowered)
    if rating:
        groups = rating.groups()
        stars = groups[3] or groups[4]
        value = len(stars) if stars is not None else _number(next(g for g in groups[:3] if g))
        if 1 <= value <= 5:
            return Command("rating", rating=value)
        return Command("note", looks_like_command=True)  # the caller fills in the text
    return None


def _reply_word(clause: str, table: dict[str, str]) -> Command | None:
    words = clause.split()
    if not words or len(words) > 8:
        return None
    lowered = clause.lower()
    candidates: list[tuple[int, int, str]] = []
    for phrase in table:
        if phrase not in lowered:  # the pattern matches the phrase itself: no regex needed
            continue
        for match in re.finditer(_WORD.format(re.escape(phrase)), lowered):
            candidates.append((match.start(), -len(phrase), phrase))
    for position, _, phrase in sorted(candidates):  # leftmost first, then longest
        before, after = clause[:position], clause[position + len(phrase):]
        if phrase == "met" and before.strip():
            continue  # "met" only as the clause's first word
        if not _clean_prefix(before) or _FUTURE_AFTER.match(after):
            continue
        word = table[phrase]
        return Command(word, outcome=word if word in CLOSING_WORDS else None)
    return None


def _clean_prefix(before: str) -> bool:
    """True when only filler (or a name) stands before a reply word, and no negation."""
    if _NEGATION.search(before.lower().rstrip(" ,")):
        return False
    tokens = re.findall(r"[\w']+", before)
    if len(tokens) > 4:
        return False
    for index, token in enumerate(tokens):
        lowered = token.lower()
        if lowered in _FILLER:
            continue
        if token[:1].isupper() and lowered not in _NOT_NAMES and (index == 0 or index == 1):
            continue  # a name: "Jane signed today"
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
    if words[0] in ("rating", "snooze", "need", "reopen", "undo", "stop"):
        return True  # a known word used the wrong way: "rating 9", "need a lawyer"
    for word in words:
        if word in _COMMON or word in KNOWN_WORDS or not 3 <= len(word) <= 12:
            continue  # a real word, or a reply word used on purpose ("not done yet")
        limit = 1 if len(word) <= 5 else 2
        if any(_distance(word, known) <= limit for known in KNOWN_WORDS):
            return True
    return False
