"""The reply words, defined once: what people type, who may say it, what it does.

The parser (`commands`), the role check (`reply_rules`), the words listed in emails,
the help email and a test of the README's table all read this table; adding a
word is one row here (and, for a word with an effect of its own, its rule).

Words are read in English, German, French, Spanish and Dutch. People mix languages,
so the parser reads every language's forms from everyone; `shown_in` only decides
how an email in one language names the word. The small words around them (filler,
negations, hedges, numbers) are in `core.reply_language`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mailflow.core.model import Role

ANYONE = frozenset(Role)
WORKERS = frozenset({Role.PARTNER, Role.REFERRER})
REFERRER = frozenset({Role.REFERRER})
LANGUAGES = ("en", "de", "fr", "es", "nl")


@dataclass(frozen=True)
class Word:
    """One reply word.

    `phrases` are the English phrases read at the start of a clause ("Hi Alice, done,
    thanks!"); `forms` holds the phrases of the other languages. Words with a grammar
    of their own (snooze 2 weeks, rating 4, need: …) have no phrases: their `forms`, in
    every language including English, are the keywords their rule reads ("snooze",
    "zurückstellen", "Bewertung"). `changes` words alter the referral, so with reply
    tokens on they count only from a signed reply address. `listed` says whose emails
    name the word; `shown` is how an English email names it, `shown_in` the others.
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
    forms: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    shown_in: Mapping[str, str] = field(default_factory=dict, hash=False)

    def typed(self, language: str) -> tuple[str, ...]:
        """What people type for this word in `language`."""
        own = self.forms.get(language, ())
        return (*self.phrases, *own) if language == "en" else own

    def shown_for(self, language: str = "en") -> str:
        """How an email in `language` names the word (English when not translated)."""
        return self.shown_in.get(language, self.shown)


# Phrases are lower case. A phrase in ALONE counts only when nothing but thanks or a
# time ("today") follows it in its clause: "Listo, gracias" is done, "listo para" is not.
VOCABULARY: tuple[Word, ...] = (
    Word("done", ("done", "complete", "completed", "all done"), ANYONE, True, "done",
         "closed (done)", ANYONE, intent="close",
         forms={"de": ("erledigt", "alles erledigt", "ist erledigt", "abgeschlossen", "fertig",
                       "hat sich erledigt"),
                "fr": ("fait", "c'est fait", "terminé", "terminée", "fini", "réglé",
                       "c'est réglé"),
                "es": ("hecho", "hecha", "está hecho", "ya está", "listo", "terminado",
                       "terminada", "completado", "finalizado", "resuelto"),
                "nl": ("gedaan", "klaar", "afgerond", "geregeld", "afgehandeld", "voltooid")},
         shown_in={"de": "erledigt", "fr": "terminé", "es": "hecho", "nl": "afgerond"}),
    Word("won", ("won", "engaged", "hired", "signed"), WORKERS, True, "won", "closed (won)",
         WORKERS, intent="close",
         forms={"de": ("gewonnen", "auftrag erhalten", "mandat erhalten", "auftrag bekommen",
                       "mandat bekommen", "zuschlag erhalten", "zusage erhalten",
                       "mandat erteilt", "auftrag erteilt", "unterschrieben", "unterzeichnet",
                       "vertrag unterschrieben", "beauftragt", "mandatiert"),
                "fr": ("gagné", "signé", "signée", "signés", "c'est signé", "contrat signé",
                       "mandat signé", "affaire conclue", "mandaté", "mandatés"),
                "es": ("ganado", "firmado", "firmada", "firmó", "firmaron", "contrato firmado",
                       "contratado", "contratada", "contrató", "contrataron",
                       "encargo aceptado"),
                "nl": ("gewonnen", "opdracht binnen", "opdracht is binnen", "opdracht gekregen",
                       "getekend", "ondertekend", "contract getekend", "offerte getekend",
                       "offerte aangenomen", "binnengehaald")},
         shown_in={"de": "Auftrag erhalten", "fr": "signé", "es": "firmado",
                   "nl": "opdracht binnen"}),
    Word("lost", ("lost", "no fit", "not a fit", "declined"), WORKERS, True, "lost",
         "closed (lost)", WORKERS, intent="close",
         forms={"de": ("verloren", "kein auftrag", "kein mandat", "kein bedarf",
                       "kein interesse", "passt nicht", "abgesagt", "abgelehnt",
                       "angebot abgelehnt", "absage erhalten", "nicht zustande gekommen"),
                "fr": ("perdu", "perdue", "sans suite", "pas de suite", "pas donné suite",
                       "pas intéressé", "pas intéressée", "pas intéressés", "refusé",
                       "refusée", "décliné", "pas retenu", "pas retenus", "pas retenue"),
                "es": ("perdido", "perdida", "no le interesa", "no les interesa",
                       "no está interesado", "no está interesada", "no interesado",
                       "sin interés", "rechazado", "rechazada", "rechazó", "no encaja",
                       "no prosperó", "no salió adelante"),
                "nl": ("verloren", "geen opdracht", "geen interesse", "geen behoefte",
                       "past niet", "afgewezen", "afgezegd", "niet doorgegaan",
                       "gaat niet door", "niet geïnteresseerd", "niet gegund")},
         shown_in={"de": "kein Auftrag", "fr": "sans suite", "es": "perdido",
                   "nl": "geen opdracht"}),
    Word("contacted", ("contacted", "called", "spoke", "spoken", "in touch", "met"), WORKERS,
         True, "contacted", "contacted; stops the nudges", WORKERS, intent="contacted",
         forms={"de": ("kontaktiert", "angerufen", "telefoniert", "gesprochen", "getroffen",
                       "erreicht", "in kontakt", "kontakt aufgenommen", "kontakt hergestellt"),
                "fr": ("contacté", "contactée", "contactés", "appelé", "appelée", "appelés",
                       "parlé", "rencontré", "rencontrée", "rencontrés", "échangé",
                       "en contact", "eu au téléphone", "eue au téléphone"),
                "es": ("contactado", "contactada", "contacté", "llamado", "llamé",
                       "hablado", "hablé", "reunido", "reunida", "me reuní", "en contacto"),
                "nl": ("contact gehad", "contact opgenomen", "gebeld", "gesproken", "ontmoet",
                       "bereikt", "in contact")},
         shown_in={"de": "kontaktiert", "fr": "contacté", "es": "contactado",
                   "nl": "contact gehad"}),
    Word("snooze", (), WORKERS, True, "snooze 2 weeks", "pending steps move", WORKERS,
         intent="snooze",
         forms={"en": ("snooze",),
                "de": ("zurückstellen", "zurueckstellen", "pausieren", "erinnern",
                       "verschieben", "wiedervorlage"),
                "fr": ("reporter", "repousser", "rappel", "rappelez", "rappelez-moi", "relancez",
                       "relancez-moi", "relance", "relancer"),
                "es": ("posponer", "pospón", "posponlo", "aplazar", "aplázalo", "recuérdame",
                       "recordarme", "recuérdamelo"),
                "nl": ("uitstellen", "stel", "herinner", "herinneren", "pauzeren")},
         shown_in={"de": "in 2 Wochen erinnern", "fr": "reporter de 2 semaines",
                   "es": "posponer 2 semanas", "nl": "2 weken uitstellen"}),
    Word("stop", (), ANYONE, False, "stop", "no more mail to you for this referral",
         frozenset({Role.CLIENT, Role.REFERRER}),
         forms={"en": ("stop", "unsubscribe", "no more emails", "no more reminders"),
                "de": ("stopp", "abbestellen", "abmelden", "aufhören", "keine e-mails mehr",
                       "keine mails mehr", "keine nachrichten mehr", "keine erinnerungen mehr"),
                "fr": ("arrêter", "arrêtez", "désabonner", "désinscrire", "plus de mails",
                       "plus de messages", "plus de relances"),
                "es": ("parar", "detener", "baja", "darme de baja", "dar de baja",
                       "no más correos", "no más mensajes", "no más recordatorios"),
                "nl": ("stoppen", "afmelden", "uitschrijven", "geen mails meer",
                       "geen e-mails meer", "geen berichten meer", "geen herinneringen meer")},
         shown_in={"de": "stopp", "fr": "stop", "es": "baja", "nl": "stop"}),
    Word("stop_all", (), ANYONE, False, "stop all", "no more mail to you for any referral",
         readme="stop",
         forms={"en": ("stop all", "unsubscribe all"),
                "de": ("stopp alle", "stop alle", "alles stoppen", "alle stoppen",
                       "alles abbestellen", "alle abbestellen"),
                "fr": ("stop tout", "arrêter tout", "arrêtez tout", "tout arrêter",
                       "désabonner de tout"),
                "es": ("stop todo", "parar todo", "baja de todo", "darme de baja de todo"),
                "nl": ("stop alles", "alles stoppen", "overal afmelden")},
         shown_in={"de": "stopp alle", "fr": "stop tout", "es": "baja de todo",
                   "nl": "stop alles"}),
    Word("forget", (), ANYONE, False, "forget me",
         "no more mail to you for any referral; what mailflow holds about you is erased",
         forms={"en": ("forget me", "delete my data", "erase my data"),
                "de": ("vergessen sie mich", "löschen sie meine daten", "meine daten löschen"),
                "fr": ("oubliez-moi", "supprimez mes données", "effacez mes données"),
                "es": ("olvídenme", "olvídeme", "borren mis datos"),
                "nl": ("vergeet mij", "vergeet me", "verwijder mijn gegevens")},
         shown_in={"de": "vergessen Sie mich", "fr": "oubliez-moi", "es": "olvídenme",
                   "nl": "vergeet mij"}),
    Word("rating", (), frozenset({Role.CLIENT, Role.REFERRER}), True, "rating 1-5",
         "stored, shown in the ledger", frozenset({Role.CLIENT}), readme="rating 4",
         intent="rating",
         forms={"en": ("rating", "rate", "rated", "score"), "de": ("bewertung",),
                "fr": ("note", "évaluation"), "es": ("valoración", "valoracion", "puntuación",
                                                     "puntuacion"),
                "nl": ("beoordeling", "waardering")},
         shown_in={"de": "Bewertung 1-5", "fr": "note 1-5", "es": "valoración 1-5",
                   "nl": "beoordeling 1-5"}),
    Word("need", (), WORKERS, False, "need: WHAT", "passed to the referrer first",
         frozenset({Role.PARTNER}), readme="need: estate lawyer",
         forms={"en": ("need",), "de": ("bedarf",), "fr": ("besoin",),
                "es": ("necesidad", "necesita"), "nl": ("behoefte",)},
         shown_in={"de": "Bedarf: WAS", "fr": "besoin : QUOI", "es": "necesidad: QUÉ",
                   "nl": "behoefte: WAT"}),
    Word("reopen", (), REFERRER, True, "reopen", "reopens a closed referral", REFERRER,
         intent="reopen",
         forms={"en": ("reopen", "re-open"),
                "de": ("wieder öffnen", "wiedereröffnen", "erneut öffnen"),
                "fr": ("rouvrir", "réouvrir"), "es": ("reabrir",),
                "nl": ("heropenen", "opnieuw openen")},
         shown_in={"de": "wieder öffnen", "fr": "rouvrir", "es": "reabrir", "nl": "heropenen"}),
    Word("undo", (), ANYONE, True, "undo", "restores the state before your last change",
         forms={"en": ("undo",), "de": ("rückgängig", "rückgängig machen", "rueckgaengig"),
                "fr": ("annuler", "annulez"), "es": ("deshacer", "deshaz"),
                "nl": ("ongedaan maken", "terugdraaien")},
         shown_in={"de": "rückgängig", "fr": "annuler", "es": "deshacer",
                   "nl": "ongedaan maken"}),
    Word("follow_up", (), REFERRER, True, "follow up", "an old intro is followed up from now",
         REFERRER, readme="follow up R-7", intent="follow_up",
         forms={"en": ("follow up", "follow-up", "followup"),
                "de": ("nachfassen", "weiterverfolgen"), "fr": ("relancer", "faire le suivi"),
                "es": ("hacer seguimiento", "dar seguimiento"), "nl": ("opvolgen",)},
         shown_in={"de": "nachfassen", "fr": "relancer", "es": "hacer seguimiento",
                   "nl": "opvolgen"}),
    Word("choice", (), REFERRER, True, "2 or an address",
         'answers "Which of these is the partner?"', readme="2",
         shown_in={"de": "2 oder eine Adresse", "fr": "2 ou une adresse",
                   "es": "2 o una dirección", "nl": "2 of een adres"}),
    Word("note", (), ANYONE, False, "anything else", "kept as a note, passed to the referrer",
         readme="anything else",
         shown_in={"de": "alles andere", "fr": "tout autre texte", "es": "cualquier otra cosa",
                   "nl": "al het andere"}),
)
# phrases that count only as the whole clause (thanks and a time may follow)
ALONE = frozenset({"fertig", "ya está", "listo", "klaar", "passt nicht"})
BY_WORD = {w.word: w for w in VOCABULARY}
CLOSING_WORDS = frozenset({"done", "won", "lost"})


def phrases(vocabulary: tuple[Word, ...] = VOCABULARY) -> dict[str, str]:
    """What people type → the word it means, for the words read from plain phrases,
    in every language (the first word listed wins a phrase two words share)."""
    table: dict[str, str] = {}
    for w in vocabulary:
        if not w.phrases and not _plain(w):
            continue
        for language in LANGUAGES:
            for phrase in w.typed(language):
                table.setdefault(phrase, w.word)
    return table


def phrase_languages(vocabulary: tuple[Word, ...] = VOCABULARY) -> dict[str, frozenset[str]]:
    """Each plain phrase → the languages it is a form in."""
    found: dict[str, set[str]] = {}
    for w in vocabulary:
        if w.phrases or _plain(w):
            for language in LANGUAGES:
                for phrase in w.typed(language):
                    found.setdefault(phrase, set()).add(language)
    return {phrase: frozenset(languages) for phrase, languages in found.items()}


def keywords(word: str, vocabulary: tuple[Word, ...] = VOCABULARY) -> tuple[str, ...]:
    """The keywords the rule of a word with a grammar of its own reads, every language."""
    row = next((w for w in vocabulary if w.word == word), None)
    if row is None:
        return ()
    return tuple(dict.fromkeys(k for language in LANGUAGES for k in row.forms.get(language, ())))


def _plain(word: Word) -> bool:
    """A word read from plain phrases (its English ones may be empty in a copy)."""
    return word.word in CLOSING_WORDS or word.word == "contacted"


def allowed(role: Role, vocabulary: tuple[Word, ...] = VOCABULARY) -> frozenset[str]:
    return frozenset(w.word for w in vocabulary if role in w.roles)


def needs_proof(vocabulary: tuple[Word, ...] = VOCABULARY) -> frozenset[str]:
    return frozenset(w.word for w in vocabulary if w.changes)


def listed_words(role: Role, language: str = "en",
                 vocabulary: tuple[Word, ...] = VOCABULARY) -> tuple[str, ...]:
    """The words the emails to someone in `role` list, as an email in `language` names them."""
    return tuple(w.shown_for(language) for w in vocabulary if role in w.listed)


def help_words(language: str = "en", vocabulary: tuple[Word, ...] = VOCABULARY) -> list[str]:
    """The words the help email lists, as people type them in `language`."""
    return [w.shown_for(language) for w in vocabulary if w.word not in ("note", "choice")]


def shown_words(language: str = "en",
                vocabulary: tuple[Word, ...] = VOCABULARY) -> dict[str, str]:
    """Each word → how an email in `language` names it ("contacted" → "kontaktiert")."""
    return {w.word: w.shown_for(language) for w in vocabulary}
