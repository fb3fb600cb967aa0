"""The small words around reply words, per language: what may stand before a word,
what makes it no command, and what may follow it.

`core.vocabulary` has the words themselves; this table has, for each of the five
languages, the filler ("ja", "wir haben", "u", "elkaar"), the negations ("nicht",
"pas", "todavía no", "niet") and hedges ("wahrscheinlich", "bientôt", "mañana",
"binnenkort") that stop a word from counting, the words that may follow a closing
word ("signé *la lettre de mission*" but not "signé *le formulaire*"), and numbers and
units for `snooze 2 weeks`. The parser reads the union of all languages: people mix
them, and a German "nicht" before an English "done" still means not done.

Every entry is one lower-case word (a token between spaces and apostrophes:
"aujourd'hui" is "aujourd" and "hui"); phrases of several words are in the vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def words_of(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class SmallWords:
    """One language's small words (see the module docstring)."""

    filler: frozenset[str]        # may stand before a reply word
    negations: frozenset[str]     # before a word, or later in its sentence: no command
    hedges: frozenset[str]        # before a word: no command (probably, soon, if, will)
    futures: frozenset[str]       # after a word in its clause: no command (by Friday, soon)
    contrasts: frozenset[str]     # later in the sentence, or starting the next: no command
    titles: frozenset[str]        # a capitalised word after one of these is a name
    days: frozenset[str]          # weekdays and months: never a name, never before a word
    times: frozenset[str]         # may follow any reply word (today, this morning)
    polite: frozenset[str]        # may stand around any reply word (please, thanks)
    after: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)
    # ^ what else may follow a closing word: "won" → "contract", "mandate"…
    stop_rest: frozenset[str] = frozenset()  # may follow stop, reopen, undo, snooze
    numbers: Mapping[str, int] = field(default_factory=dict, hash=False)
    units: Mapping[str, int] = field(default_factory=dict, hash=False)  # → days
    idioms: frozenset[str] = frozenset()  # "word phrase": the phrase means something else


ENGLISH = SmallWords(
    filler=words_of(
        "yes yep yeah yup ok okay so and also well great good news update status fyi re now "
        "just already finally officially successfully both all job deal contract engagement "
        "client partner it it's its is was has have had been we we've weve we're were i i've "
        "ive i'm im they they've they're she he she's he's you a the that's thats this are "
        "got today yesterday earlier indeed actually happy glad pleased to report confirm "
        "confirmed s ve m re d unfortunately sadly"),
    negations=words_of("not no never nothing nobody neither nor"),
    hedges=words_of(
        "yet almost nearly hardly barely will would should could might may once when if "
        "until till soon be hopefully partly partially half whether before probably maybe "
        "perhaps likely possibly mostly going gonna tomorrow next later shortly expect "
        "expected hope hoping think ll"),
    futures=words_of(
        "by soon yet later tomorrow next when once if shortly until till eventually contact "
        "touch track sight will ll before"),
    contrasts=words_of("but except however although though apart besides unless"),
    titles=words_of("mr mrs ms miss dr prof"),
    days=words_of(
        "monday tuesday wednesday thursday friday saturday sunday january february march "
        "april june july august september october november december"),
    times=words_of("today yesterday this morning afternoon evening earlier just now already"),
    polite=words_of("please pls thanks thank you thx cheers sorry much so very lot a many"),
    after={
        "done": words_of("all everything it on my our side from by me us for you now finally "
                       "at last here deal and dusted"),
        "won": words_of("the a an contract engagement letter mandate deal offer proposal quote "
                      "with us client case work business her him them it"),
        "contacted": words_of("to with her him them me us the client on by phone in person "
                              "already just this week at office briefly and"),
        "lost": words_of("them to a the competitor competition another firm price sadly "
                       "unfortunately it"),
    },
    stop_rest=words_of(
        "please pls now it this these that them sending emailing mailing contacting the all "
        "of email emails e-mail e-mails mail mails reminder reminders message messages nudge "
        "nudges follow-up follow-ups followup followups me us thanks thank you for referral "
        "referrals oops sorry on to"),
    numbers={"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
             "seven": 7, "eight": 8, "nine": 9, "ten": 10},
    idioms=frozenset({"m lost", "am lost", "feel lost", "get lost",
                           "got lost", "feeling lost"}),
    units={"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7,
           "m": 30, "month": 30, "months": 30},
)

GERMAN = SmallWords(
    filler=words_of(
        "ja jawohl ok okay so also und auch gute nachricht nachrichten update status "
        "wir ich er sie es man haben habe hab hat hatte hatten ist sind war waren wurde "
        "wurden uns ihn ihm ihr ihnen mit das die der den dem alles schon bereits jetzt nun "
        "heute gestern vorhin eben soeben gerade endlich erfolgreich inzwischen mittlerweile "
        "telefonisch persönlich kunde kunden kundin mandant mandanten mandantin klient "
        "klientin freue freuen mich leider bin stehe stehen"),
    negations=words_of("nicht nie niemals kein keine keinen keiner keinem nichts"),
    hedges=words_of(
        "noch fast beinahe bald morgen wird werden würde sollte sollten könnte müsste muss "
        "wenn falls sobald bis ob vielleicht hoffentlich wahrscheinlich vermutlich eventuell "
        "teilweise halb demnächst gleich erst später voraussichtlich worden"),
    futures=words_of(
        "bis bald morgen nächste nächsten nächster nächstes wenn sobald später demnächst "
        "noch gleich wird werden"),
    contrasts=words_of("aber außer ausser jedoch allerdings sondern nur trotzdem obwohl"),
    titles=words_of("herr herrn frau dr prof"),
    days=words_of(
        "montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag januar "
        "februar märz mai juni juli oktober dezember"),
    times=words_of("heute gestern vorhin eben soeben gerade vormittag nachmittag früh abend"),
    polite=words_of("bitte danke dank vielen herzlichen besten schön sehr"),
    after={
        "done": words_of("alles es ist jetzt nun schon endlich von meiner unserer seite für "
                       "uns mich"),
        "won": words_of("den die das der vertrag mandat auftrag angebot vollmacht mit uns "
                      "mandatsvereinbarung honorarvereinbarung"),
        "contacted": words_of("mit ihr ihm ihnen ihn sie der dem den kundin kunden mandantin "
                              "mandanten telefonisch persönlich per telefon am im büro kurz "
                              "bereits schon ausführlich"),
        "lost": words_of("leider an die konkurrenz mehr zu uns für das angebot es"),
    },
    stop_rest=words_of(
        "bitte danke jetzt die diese alle e-mails emails mails nachrichten erinnerungen "
        "senden schicken zusenden mir uns keine mehr hoppla sorry entschuldigung es das "
        "empfehlung machen"),
    numbers={"ein": 1, "eine": 1, "einen": 1, "einer": 1, "einem": 1, "eins": 1, "zwei": 2,
             "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9,
             "zehn": 10},
    idioms=frozenset({"bin fertig", "bist fertig", "bin verloren", "bin erledigt"}),
    units={"tag": 1, "tage": 1, "tagen": 1, "woche": 7, "wochen": 7, "monat": 30,
           "monate": 30, "monaten": 30},
)

FRENCH = SmallWords(
    filler=words_of(
        "oui ok d'accord bon bonne nouvelle nouvelles donc et aussi alors voilà nous on je j "
        "il elle ils elles vous a ai as avons avez ont est sont été c ça cela ce l le la les "
        "lui leur s se m n ne y tout tous toute déjà enfin finalement aujourd hui hier bien "
        "client cliente avec sommes malheureusement"),
    negations=words_of("pas jamais rien aucun aucune"),
    hedges=words_of(
        "encore presque bientôt demain sera seront serait va vais vont allons si quand "
        "lorsque dès jusqu peut être quasi probablement sûrement partiellement moitié prochain "
        "prochaine prochainement plus tard espère espérons"),
    futures=words_of(
        "bientôt demain prochain prochaine prochainement quand lorsque dès si jusqu avant "
        "ici tard sera"),
    contrasts=words_of("mais sauf excepté hormis cependant toutefois pourtant quoique"),
    titles=words_of("m monsieur mme madame mlle mademoiselle me maître dr"),
    days=words_of(
        "lundi mardi mercredi jeudi vendredi samedi dimanche janvier février avril juin "
        "juillet août septembre octobre novembre décembre"),
    times=words_of("aujourd hui hier ce matin soir après midi tout à l heure"),
    polite=words_of("merci beaucoup svp s il vous plaît plait"),
    after={
        "done": words_of("c est tout de mon notre côté pour moi nous"),
        "won": words_of("le la l les contrat lettre de mission mandat devis offre proposition "
                      "avec nous convention d honoraires"),
        "contacted": words_of("avec elle lui eux la le les cliente client par téléphone en "
                              "personne à au cabinet brièvement déjà"),
        "lost": words_of("malheureusement à la concurrence l offre notre proposition devis pour "
                       "nous"),
    },
    stop_rest=words_of(
        "svp s il vous plaît plait merci les ces e-mails mails courriels messages relances "
        "rappels envoi envois d de me m moi nous tout oups pardon désolé ça cela dernière "
        "modification"),
    numbers={"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
             "sept": 7, "huit": 8, "neuf": 9, "dix": 10},
    idioms=frozenset({"en fait", "au fait", "le fait", "du fait", "un fait", "à fait",
                      "suis perdu", "suis perdue", "sommes perdus"}),
    units={"jour": 1, "jours": 1, "semaine": 7, "semaines": 7, "mois": 30},
)

SPANISH = SmallWords(
    filler=words_of(
        "sí vale ok bien buena buenas noticia noticias pues y también ya yo nosotros hemos "
        "he ha han has habíamos hemos está están estamos es fue lo la le les los nos me se "
        "te todo finalmente hoy ayer cliente clienta con él ella ellos el al final por fin "
        "lamentablemente"),
    negations=words_of("no nunca nada ningún ninguna tampoco"),
    hedges=words_of(
        "todavía aún aun casi pronto mañana será serán va vamos voy van si cuando hasta "
        "quizás quizá tal vez probablemente seguramente parcialmente medio próxima próximo "
        "luego espero esperamos"),
    futures=words_of(
        "pronto mañana próxima próximo cuando si hasta antes luego será tarde"),
    contrasts=words_of("pero excepto salvo menos aunque embargo sino"),
    titles=words_of("sr sra srta señor señora señorita don doña dr dra"),
    days=words_of(
        "lunes martes miércoles miercoles jueves viernes sábado sabado domingo enero febrero "
        "marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"),
    times=words_of("hoy ayer esta mañana tarde noche"),
    polite=words_of("gracias muchas mil por favor muchísimas"),
    after={
        "done": words_of("todo de mi nuestra parte para mí"),
        "won": words_of("el la lo los contrato encargo hoja de presupuesto propuesta oferta "
                      "con nosotros nos"),
        "contacted": words_of("con ella él ellos la le el cliente clienta por teléfono en "
                              "persona ya brevemente"),
        "lost": words_of("lamentablemente desgraciadamente por la competencia contra oferta "
                       "propuesta con"),
    },
    stop_rest=words_of(
        "por favor gracias los las estos correos emails e-mails mails mensajes recordatorios "
        "de me nos más enviar todo uy perdón eso lo último cambio"),
    numbers={"un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
             "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10},
    idioms=frozenset({"de hecho", "el hecho", "un hecho", "los hechos", "estoy perdido",
                      "estoy perdida", "estoy listo", "estoy lista"}),
    units={"día": 1, "días": 1, "dia": 1, "dias": 1, "semana": 7, "semanas": 7, "mes": 30,
           "meses": 30},
)

DUTCH = SmallWords(
    filler=words_of(
        "ja jawel ok oké goed goede nieuws dus en ook nou we wij ik hij zij ze u je jij "
        "jullie elkaar hebben heb hebt heeft had hadden is zijn was waren werd haar hem hen "
        "hun met het de alles al inmiddels intussen nu vandaag gisteren eindelijk zojuist "
        "net succesvol telefonisch klant cliënt helaas"),
    negations=words_of("niet geen nooit niets niemand"),
    hedges=words_of(
        "nog bijna binnenkort morgen zal zullen zou wordt worden gaat gaan ga als wanneer "
        "zodra tot misschien waarschijnlijk hopelijk deels gedeeltelijk half volgende straks "
        "later hoop hopen"),
    futures=words_of(
        "binnenkort morgen volgende als wanneer zodra later straks voor vóór uiterlijk tot "
        "nog zal"),
    contrasts=words_of("maar behalve echter hoewel toch alleen"),
    titles=words_of("dhr mevr mevrouw meneer heer"),
    days=words_of(
        "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag januari februari maart "
        "mei juni juli augustus"),
    times=words_of("vandaag gisteren vanochtend vanmorgen vanmiddag zojuist net eerder"),
    polite=words_of("bedankt dank dankjewel dankuwel je u wel hartelijk graag alstublieft "
                  "alsjeblieft aub"),
    after={
        "done": words_of("het alles van mijn onze kant voor mij ons"),
        "won": words_of("het de contract opdracht offerte voorstel overeenkomst "
                      "opdrachtbevestiging met ons"),
        "contacted": words_of("met haar hem hen de klant telefonisch persoonlijk even al kort "
                              "op kantoor"),
        "lost": words_of("helaas aan de concurrent concurrentie offerte voorstel voor ons meer"),
    },
    stop_rest=words_of(
        "aub alstublieft alsjeblieft graag bedankt dank de deze mails e-mails berichten "
        "herinneringen mij me ons meer geen sturen versturen uit oeps sorry het dit dat "
        "laatste wijziging"),
    numbers={"een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6,
             "zeven": 7, "acht": 8, "negen": 9, "tien": 10},
    idioms=frozenset({"ben klaar", "ben verloren"}),
    units={"dag": 1, "dagen": 1, "week": 7, "weken": 7, "maand": 30, "maanden": 30},
)

SMALL_WORDS: dict[str, SmallWords] = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH,
                                      "es": SPANISH, "nl": DUTCH}


def _union(pick: str) -> frozenset[str]:
    return frozenset().union(*(getattr(words, pick) for words in SMALL_WORDS.values()))


NEGATIONS = _union("negations")
HEDGES = _union("hedges")
# what blocks a word standing before it; a blocking word is never filler elsewhere
BLOCKING = NEGATIONS | HEDGES | _union("days")
FILLER = (_union("filler") | _union("times")) - BLOCKING
FUTURES = _union("futures")
CONTRASTS = _union("contrasts")
TITLES = _union("titles")
DAYS = _union("days")
TIMES = _union("times") - FUTURES
POLITE = _union("polite")
STOP_REST = _union("stop_rest") | POLITE
AFTER: dict[str, frozenset[str]] = {
    word: frozenset().union(*(w.after.get(word, frozenset()) for w in SMALL_WORDS.values()))
    | TIMES | POLITE
    for word in ("done", "won", "lost", "contacted")}
AFTER["contacted"] |= _union("days")  # "Met on Tuesday": a contact on a day is a report
IDIOMS = _union("idioms")
NUMBERS: dict[str, int] = {k: v for w in SMALL_WORDS.values() for k, v in w.numbers.items()}
UNITS: dict[str, int] = {k: v for w in SMALL_WORDS.values() for k, v in w.units.items()}
# "no problem", "de rien": a negation that negates nothing
NOT_NEGATING_BEFORE = words_of("problem problems worries prob probleme problem problème "
                             "problema problemas probleem problemen souci soucis")
NOT_NEGATING_AFTER = words_of("de")
# "heute Morgen", "esta mañana": a morning, not tomorrow
MORNING = words_of("morgen mañana")
MORNING_AFTER = words_of("heute gestern esta la por de ayer")
