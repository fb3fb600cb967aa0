"""The reply words, defined once: what people type, who may say it, what it does.

The parser (`commands`), the role check (`reply_rules`), the words listed in emails,
the help email and a test of the README's table all read this table; adding a
word is one row here (and, for a word with an effect of its own, its rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailflow.core.model import Role

ANYONE = frozenset(Role)
WORKERS = frozenset({Role.PARTNER, Role.REFERRER})
REFERRER = frozenset({Role.REFERRER})


@dataclass(frozen=True)
class Word:
    """One reply word.

    `phrases` are read at the start of a clause ("Hi Alice, done, thanks!"); words with
    a grammar of their own (snooze 2 weeks, rating 4, need: …) have none and are parsed
    by their own rule. `changes` words alter the referral, so with reply tokens on they
    count only from a signed reply address. `listed` says whose emails name the word.
    """

    word: str
    phrases: tuple[str, ...]
    roles: frozenset[Role]
    changes: bool
    shown: str
    effect: str
    listed: frozenset[Role] = frozenset()
    readme: str = ""  # how the README's table writes it (defaults to `shown`)
    intent: str | None = None  # the row of `core.transitions` it asks for, if any


VOCABULARY: tuple[Word, ...] = (
    Word("done", ("done", "complete", "completed", "all done"), ANYONE, True, "done",
         "closed (done)", ANYONE, intent="close"),
    Word("won", ("won", "engaged", "hired", "signed"), WORKERS, True, "won", "closed (won)",
         WORKERS, intent="close"),
    Word("lost", ("lost", "no fit", "not a fit", "declined"), WORKERS, True, "lost",
         "closed (lost)", WORKERS, intent="close"),
    Word("contacted", ("contacted", "called", "spoke", "spoken", "in touch", "met"), WORKERS,
         True, "contacted", "contacted; stops the nudges", WORKERS, intent="contacted"),
    Word("snooze", (), WORKERS, True, "snooze 2 weeks", "pending steps move", WORKERS,
         intent="snooze"),
    Word("stop", (), ANYONE, False, "stop", "no more mail to you for this referral",
         frozenset({Role.CLIENT, Role.REFERRER})),
    Word("stop_all", (), ANYONE, False, "stop all", "no more mail to you for any referral",
         readme="stop"),
    Word("forget", (), ANYONE, False, "forget me",
         "no more mail to you for any referral; what mailflow holds about you is erased"),
    Word("rating", (), frozenset({Role.CLIENT, Role.REFERRER}), True, "rating 1-5",
         "stored, shown in the ledger", frozenset({Role.CLIENT}), readme="rating 4",
         intent="rating"),
    Word("need", (), WORKERS, False, "need: WHAT", "passed to the referrer first",
         frozenset({Role.PARTNER}), readme="need: estate lawyer"),
    Word("reopen", (), REFERRER, True, "reopen", "reopens a closed referral", REFERRER,
         intent="reopen"),
    Word("undo", (), ANYONE, True, "undo", "restores the state before your last change"),
    Word("follow_up", (), REFERRER, True, "follow up", "an old intro is followed up from now",
         REFERRER, readme="follow up R-7", intent="follow_up"),
    Word("choice", (), REFERRER, True, "2 or an address",
         'answers "Which of these is the partner?"', readme="2"),
    Word("note", (), ANYONE, False, "anything else", "kept as a note, passed to the referrer",
         readme="anything else"),
)
BY_WORD = {w.word: w for w in VOCABULARY}
CLOSING_WORDS = frozenset({"done", "won", "lost"})


def phrases(vocabulary: tuple[Word, ...] = VOCABULARY) -> dict[str, str]:
    """What people type → the word it means, for the words read from plain phrases."""
    return {phrase: w.word for w in vocabulary for phrase in w.phrases}


def allowed(role: Role, vocabulary: tuple[Word, ...] = VOCABULARY) -> frozenset[str]:
    return frozenset(w.word for w in vocabulary if role in w.roles)


def needs_proof(vocabulary: tuple[Word, ...] = VOCABULARY) -> frozenset[str]:
    return frozenset(w.word for w in vocabulary if w.changes)


def listed_words(role: Role, vocabulary: tuple[Word, ...] = VOCABULARY) -> tuple[str, ...]:
    """The words the emails to someone in `role` list."""
    return tuple(w.shown for w in vocabulary if role in w.listed)


def help_words(vocabulary: tuple[Word, ...] = VOCABULARY) -> list[str]:
    """The words the help email lists, as people type them."""
    return [w.shown for w in vocabulary if w.word not in ("note", "choice")]
