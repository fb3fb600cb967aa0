"""Each party in their own language and clock, through Dovecot, aiosmtpd and the CLI."""

from __future__ import annotations

import base64

import pytest

from mailflow.cli.parser import main
from tests.integration.world import World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

GERMAN_INTRO = """From: Alice Adams <alice@firm.example>
To: Jana Schmidt <jana@web.example>, Bob Smith <bob@law.example>
Cc: referrals@firm.example
Subject: =?utf-8?q?Vorstellung=3A_Jana_Schmidt_/_Bob_Smith?=
Date: Mon, 23 Nov 2026 09:30:00 +0000
Message-ID: <intro-de@firm.example>
Content-Type: text/plain; charset=utf-8

Liebe Jana, lieber Bob,

ich möchte Sie beide miteinander bekannt machen. Jana braucht Hilfe bei ihrem Testament
und bei der Nachlassplanung, und Bob ist der beste Anwalt, den ich dafür kenne.

Herzliche Grüße
Alice
"""


def reply(sender: str, to: str, in_reply_to: str, body: str, n: int) -> bytes:
    return f"""From: {sender}
To: {to}
Subject: Re: [R-1] Erinnerung
Date: Tue, 24 Nov 2026 11:0{n}:00 +0000
Message-ID: <reply{n}@law.example>
In-Reply-To: <{in_reply_to}>
Content-Type: text/plain; charset=utf-8

{body}
""".encode()


def test_a_german_intro_is_followed_up_in_german(world: World) -> None:
    world.deliver(GERMAN_INTRO.encode())
    world.run("2026-11-23T10:00:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert shown["languages"]["bob@law.example"] == {"language": "de",
                                                     "why": "from the intro's text"}
    assert shown["languages"]["alice@firm.example"]["language"] == "en"  # the firm's
    (brief,) = world.sent_to("bob@law.example")
    assert brief.header("content-language") == "de"
    assert "Guten Tag Bob" in brief.text and "Jana" in brief.text
    ack = world.sent_to("alice@firm.example")[0]
    assert ack.header("content-language") == "en"

    world.run("2026-11-24T10:30:00+00:00")  # the nudge, a business day later
    nudge = world.sent_to("bob@law.example")[-1]
    assert nudge.header("content-language") == "de"
    assert "23.11.2026" in nudge.text  # the intro's date as a German reader writes it
    # the first email to a person says who follows up and how to stop or be forgotten
    assert "vergessen Sie mich" in brief.text and "vergessen Sie mich" not in nudge.text
    world.run("2026-11-30T10:30:00+00:00")  # the client's check-in after a week
    (checkin,) = world.sent_to("jana@web.example")
    assert checkin.header("content-language") == "de"
    assert "Guten Tag Jana" in checkin.text

    token = world.reply_address("bob@law.example")
    quoted = ("Ich melde mich nächste Woche.\n\nAm 24.11.2026 um 10:30 schrieb mailflow "
              "<referrals@firm.example>:\n> erledigt")
    world.deliver(reply("Bob Smith <bob@law.example>", token, nudge.message_id, quoted, 1))
    world.deliver(reply("Bob Smith <bob@law.example>", token, nudge.message_id,
                        "Noch nicht erledigt, wir telefonieren morgen.", 2))
    world.run("2026-11-30T11:00:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict) and shown["status"] != "closed"
    world.deliver(reply("Bob Smith <bob@law.example>", token, nudge.message_id,
                        "Erledigt, vielen Dank!", 3))
    world.run("2026-11-30T11:30:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert (shown["status"], shown["outcome"]) == ("closed", "done")
    confirm = world.sent_to("bob@law.example")[-1]
    assert confirm.header("content-language") == "de"


def test_a_partner_set_to_french_in_montreal(world: World) -> None:
    text = world.config.read_text()
    world.config.write_text(text.replace(
        "{email: bob@law.example, name: Bob Smith, niche: estate planning}",
        "{email: bob@law.example, name: Bob Smith, niche: estate planning, language: fr, "
        "timezone: America/Montreal}"))
    world.deliver(b"""From: Alice Adams <alice@firm.example>
To: Jane Doe <jane@gmail.com>, Bob Smith <bob@law.example>
Cc: referrals@firm.example
Subject: Introduction: Jane / Bob
Date: Mon, 23 Nov 2026 09:30:00 +0000
Message-ID: <intro1@firm.example>

Jane, meet Bob, the best estate planner I know. Bob, Jane is updating her will.

Alice
""")
    world.run("2026-11-23T10:00:00+00:00")  # 05:00 in Montreal: Bob's day has not begun
    assert world.sent_to("bob@law.example") == []
    assert world.sent_to("alice@firm.example")  # London is open
    world.run("2026-11-23T14:30:00+00:00")  # 09:30 in Montreal
    (brief,) = world.sent_to("bob@law.example")
    assert brief.header("content-language") == "fr"
    assert "Bonjour Bob" in brief.text
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert shown["languages"]["bob@law.example"] == {"language": "fr", "why": "set by hand"}
    assert shown["languages"]["jane@gmail.com"]["language"] == "en"  # the intro's


def test_unknown_language_gets_the_firms_default_and_one_command_changes_it(
        world: World) -> None:
    world.config.write_text(world.config.read_text() + "\nlanguage: es\n")
    world.deliver(b"""From: Alice Adams <alice@firm.example>
To: Jane Doe <jane@gmail.com>, Bob Smith <bob@law.example>
Cc: referrals@firm.example
Subject: Jane / Bob
Date: Mon, 23 Nov 2026 09:30:00 +0000
Message-ID: <intro1@firm.example>

Jane, Bob.
""")
    world.run("2026-11-23T10:00:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert shown["languages"]["jane@gmail.com"] == {"language": "es",
                                                    "why": "the firm's default"}
    assert world.sent_to("bob@law.example")[0].header("content-language") == "es"
    assert main(["--config", str(world.config), "language", "jane@gmail.com", "nl"]) == 0
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert shown["languages"]["jane@gmail.com"] == {"language": "nl", "why": "set by hand"}
    assert main(["--config", str(world.config), "language", "jane@gmail.com", "xx"]) == 2


INTROS = {
    "fr": ("Présentation : Julie Martin / Bob Smith",
           "Chère Julie, cher Bob,\n\nJe me permets de vous présenter l'un à l'autre. Julie "
           "souhaite organiser sa succession et Bob est le meilleur avocat que je connaisse "
           "pour cela.\n\nBien cordialement,\nAlice",
           "Bonjour Bob", "C'est fait, merci beaucoup !", "Pas encore fait, je l'appelle "
           "demain.", "Le lun. 30 nov. 2026 à 10:30, mailflow <referrals@firm.example> a "
           "écrit :"),
    "es": ("Presentación: Julia Martín / Bob Smith",
           "Estimada Julia, estimado Bob:\n\nMe permito ponerles en contacto. Julia necesita "
           "ayuda con su testamento y Bob es el mejor abogado que conozco para ello.\n\nUn "
           "saludo,\nAlice",
           "Hola, Bob", "Hecho, ¡muchas gracias!", "Todavía no está hecho, la llamo "
           "mañana.", "El lun, 30 nov 2026 a las 10:30, mailflow (<referrals@firm.example>) "
           "escribió:"),
    "nl": ("Introductie: Julia de Vries / Bob Smith",
           "Beste Julia, beste Bob,\n\nGraag breng ik jullie met elkaar in contact. Julia "
           "zoekt hulp bij haar testament en Bob is de beste advocaat die ik daarvoor "
           "ken.\n\nMet vriendelijke groet,\nAlice",
           "Beste Bob", "Gedaan, bedankt!", "Nog niet gedaan, ik bel haar morgen.",
           "Op ma 30 nov. 2026 om 10:30 schreef mailflow <referrals@firm.example>:"),
}


@pytest.mark.parametrize("language", sorted(INTROS))
def test_an_intro_in_french_spanish_or_dutch_is_followed_up_in_it(world: World,
                                                                  language: str) -> None:
    subject, body, greeting, done, not_yet, attribution = INTROS[language]
    world.deliver(f"""From: Alice Adams <alice@firm.example>
To: Julia <julia@web.example>, Bob Smith <bob@law.example>
Cc: referrals@firm.example
Subject: =?utf-8?b?{base64.b64encode(subject.encode()).decode()}?=
Date: Mon, 23 Nov 2026 09:30:00 +0000
Message-ID: <intro-{language}@firm.example>
Content-Type: text/plain; charset=utf-8

{body}
""".encode())
    world.run("2026-11-23T10:00:00+00:00")
    (brief,) = world.sent_to("bob@law.example")
    assert brief.header("content-language") == language and greeting in brief.text
    world.run("2026-11-30T10:30:00+00:00")
    (checkin,) = world.sent_to("julia@web.example")
    assert checkin.header("content-language") == language
    nudge = next(m for m in world.sent_to("bob@law.example") if m.message_id != brief.message_id)
    token = world.reply_address("bob@law.example")
    world.deliver(reply("Bob Smith <bob@law.example>", token, nudge.message_id,
                        f"Ok.\n\n{attribution}\n> {done}", 1))
    world.deliver(reply("Bob Smith <bob@law.example>", token, nudge.message_id, not_yet, 2))
    world.run("2026-11-30T11:00:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict) and shown["status"] != "closed"
    world.deliver(reply("Bob Smith <bob@law.example>", token, nudge.message_id, done, 3))
    world.run("2026-11-30T11:30:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert (shown["status"], shown["outcome"]) == ("closed", "done")
