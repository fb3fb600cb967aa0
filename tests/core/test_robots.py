"""Robots (tests/mail/robots): bounces by DSN status, auto-replies, lists, our own mail."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from mailflow.core.parse import parse_message
from mailflow.core.robots import RobotVerdict, detect_robot, read_return_date

CORPUS = Path(__file__).parents[1] / "mail" / "robots"
EXPECTED: dict[str, dict[str, Any] | None] = yaml.safe_load(
    (CORPUS / "expected.yaml").read_text(encoding="utf-8"))
TODAY = date(2026, 11, 23)
OWN = ("referrals@firm.example",)


def test_corpus_is_complete() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_robot_verdict(name: str) -> None:
    expected = EXPECTED[name]
    verdict = detect_robot(parse_message((CORPUS / name).read_bytes()), OWN, TODAY)
    if expected is None:
        assert verdict is None
        return
    assert verdict is not None and verdict.kind == expected["kind"]
    assert verdict.reason.startswith(expected["kind"] + ": ")
    for key in ("reason", "status", "permanent", "original_message_id", "returns_on"):
        if key in expected:
            assert getattr(verdict, key) == expected[key], key
    if "failed_recipients" in expected:
        assert list(verdict.failed_recipients) == expected["failed_recipients"]


@pytest.mark.parametrize(("text", "today", "expected"), [
    ("I am back on Monday 7 December.", TODAY, date(2026, 12, 7)),
    ("I will return on December 7, 2026.", TODAY, date(2026, 12, 7)),
    ("Back 2026-12-07", TODAY, date(2026, 12, 7)),
    ("I return on 7th of December", TODAY, date(2026, 12, 7)),
    ("Out until Dec. 7th", TODAY, date(2026, 12, 7)),
    ("Ich bin bis zum 07.12.2026 nicht im Büro", TODAY, date(2026, 12, 7)),
    ("Ich bin bis zum 7. Dezember nicht im Büro", TODAY, date(2026, 12, 7)),
    ("Ab dem 8. Dezember bin ich wieder da", TODAY, date(2026, 12, 8)),
    ("Ab dem 07.12. bin ich wieder erreichbar", TODAY, date(2026, 12, 7)),
    ("de retour le 7 décembre", TODAY, date(2026, 12, 7)),
    ("Je serai de retour le 1er décembre 2026.", TODAY, date(2026, 12, 1)),
    ("hasta el 7 de diciembre", TODAY, date(2026, 12, 7)),
    ("Estaré fuera hasta el lunes 7 de diciembre de 2026.", TODAY, date(2026, 12, 7)),
    ("afwezig tot 7 december", TODAY, date(2026, 12, 7)),
    ("away from 1 Dec until 7 Dec", TODAY, date(2026, 12, 7)),
    ("Ich bin vom 1. Dezember bis 7. Dezember nicht da", TODAY, date(2026, 12, 7)),
    ("back on 5 January", date(2026, 12, 20), date(2027, 1, 5)),   # year rollover
    ("back on 23 November", TODAY, TODAY),                           # today itself
    ("back on 7 December. 2 colleagues can help", TODAY, date(2026, 12, 7)),
    # the five languages, as out-of-office replies write them
    ("Ich bin ab dem 12. Januar wieder im Büro.", TODAY, date(2027, 1, 12)),
    ("Ich bin am 7.12. wieder im Büro.", TODAY, date(2026, 12, 7)),
    ("Je serai de retour le 12 janvier.", TODAY, date(2027, 1, 12)),
    ("Je suis absent jusqu'au 7 décembre inclus.", TODAY, date(2026, 12, 7)),
    ("Je serai absente du 1er au 7 décembre.", TODAY, date(2026, 12, 7)),
    ("Estaré de vuelta el 12 de enero.", TODAY, date(2027, 1, 12)),
    ("Volveré el 7 de diciembre.", TODAY, date(2026, 12, 7)),
    ("Estaré fuera del 1 al 7 de diciembre.", TODAY, date(2026, 12, 7)),
    ("Vanaf 12 januari weer aanwezig.", TODAY, date(2027, 1, 12)),
    ("Ik ben afwezig t/m 7 december.", TODAY, date(2026, 12, 7)),
    ("Ik ben weer op kantoor op 7 december.", TODAY, date(2026, 12, 7)),
    # negatives
    ("return on 12/07/2026", TODAY, None),            # US or European? not guessed
    ("I am out of the office", TODAY, None),
    ("I am back on Monday", TODAY, None),              # a weekday is no date
    ("back on 1 November 2026", TODAY, None),          # already past
    ("back on 7 December 2028", TODAY, None),          # too far ahead
    ("Our office party is on 7 December.", TODAY, None),  # no back/until context
    ("The total is due on 7 December.", TODAY, None),  # 'tot' inside a word is no context
    ("I am back soon. The deadline is 7 December.", TODAY, None),  # context in another sentence
    ("back on 31 February", TODAY, None),              # no such day
    ("Version 5.1.1 is back", TODAY, None),
    ("Am 7. Dezember ist Weihnachtsfeier.", TODAY, None),  # no return word
    ("La fête du bureau est le 7 décembre.", TODAY, None),
])
def test_read_return_date(text: str, today: date, expected: date | None) -> None:
    assert read_return_date(text, today) == expected


def _detect(head: str, body: str = "Hello.", own: tuple[str, ...] = OWN) -> RobotVerdict | None:
    raw = (f"{head}\nTo: referrals@firm.example\nDate: Wed, 18 Nov 2026 10:00:00 +0000\n"
           f"Message-ID: <t@x.example>\n\n{body}\n")
    return detect_robot(parse_message(raw.replace("\n", "\r\n").encode()), own, TODAY)


@pytest.mark.parametrize("sender", ["referrals+r7.abc@firm.example", "Referrals@Firm.example"])
def test_own_address_and_plus_variants_are_own_mail(sender: str) -> None:
    verdict = _detect(f"From: {sender}\nSubject: hi", own=("REFERRALS@firm.example",))
    assert verdict is not None and verdict.kind == "own-mail"
    assert verdict.reason == f"own-mail: From {sender.lower()}"


@pytest.mark.parametrize(("head", "kind"), [
    ("From: a@b.example\nSubject: Re: Out of office\nAuto-Submitted: auto-replied", "auto-reply"),
    ("From: a@b.example\nSubject: Re: Out of office\nAuto-Submitted: no", None),
    ("From: a@b.example\nSubject: Hello\nPrecedence: junk", "auto-reply"),
    ("From: a@b.example\nSubject: Hello\nX-Precedence: auto_reply", "auto-reply"),
    ("From: a@b.example\nSubject: Hello\nX-Autoreply: yes", "auto-reply"),
    ("From: a@b.example\nSubject: Hello\nX-Autorespond: yes", "auto-reply"),
    ("From: a@b.example\nSubject: Hello\nX-MS-Exchange-Generated-Message-Source: Mailbox Rules",
     "auto-reply"),
    ("From: a@b.example\nSubject: Hello\nPrecedence: list", "mailing-list"),
    ("From: a@b.example\nSubject: Hello\nList-Unsubscribe: <mailto:u@b.example>", None),
    ("From: a@b.example\nSubject: Absences at the firm", None),
    ("From: a@b.example\nSubject: Autoreply", "auto-reply"),
    ("From: a@b.example\nSubject: AUTO: Ihre Nachricht", "auto-reply"),
    ("From: a@b.example\nSubject: Frånvaro: [R-7]", "auto-reply"),
    ("From: a@b.example\nSubject: Risposta automatica: [R-7]", "auto-reply"),
    ("From: a@b.example\nSubject: Out of the office", "auto-reply"),
    ("From: a@b.example\nSubject: Re: [R-7] Quick nudge\nX-Mailflow-Loop: R-7", "own-mail"),
])
def test_header_and_subject_rules(head: str, kind: str | None) -> None:
    verdict = _detect(head)
    assert (verdict.kind if verdict else None) == kind


def test_returned_headers_without_message_id_fall_back_to_in_reply_to() -> None:
    raw = (CORPUS / "postfix_dsn_511.eml").read_bytes()
    returned = b"Message-ID: <r7.partner_nudge.1@mailflow.firm.example>\r\n"
    assert raw.count(returned) == 1
    raw = raw.replace(returned, b"").replace(
        b"MIME-Version", b"In-Reply-To: <r7.partner_nudge.9@mailflow.firm.example>\r\n"
        b"MIME-Version", 1)
    verdict = detect_robot(parse_message(raw), OWN, TODAY)
    assert verdict is not None
    assert verdict.original_message_id == "r7.partner_nudge.9@mailflow.firm.example"


def test_text_bounce_never_lists_our_own_address() -> None:
    verdict = _detect("From: MAILER-DAEMON@mx.example\nReturn-Path: <>\n"
                      "Subject: Undelivered Mail Returned to Sender",
                      "This is the mail system at host mx.example.\n\n"
                      "<referrals@firm.example>: host said: 550 5.1.1 unknown")
    assert verdict is not None and verdict.kind == "bounce" and verdict.failed_recipients == ()


def test_bounce_without_status_is_permanent_only_when_it_says_so() -> None:
    quiet = _detect("From: MAILER-DAEMON@mx.example\nSubject: Undeliverable: hi",
                    "Your message could not be delivered to <x@y.example>.")
    loud = _detect("From: MAILER-DAEMON@mx.example\nSubject: failure notice",
                   "<x@y.example>:\nThis is a permanent error; I've given up.")
    assert quiet is not None and (quiet.kind, quiet.status, quiet.permanent) == (
        "bounce", None, False)
    assert quiet.failed_recipients == ("x@y.example",)
    assert loud is not None and (loud.status, loud.permanent) == (None, True)
    assert loud.reason == "bounce: permanent failure, no status code"


def test_delay_notice_in_text_is_not_permanent() -> None:
    verdict = _detect("From: MAILER-DAEMON@mx.example\nReturn-Path: <>\n"
                      "Subject: Delayed Mail (still being retried)",
                      "This is the mail system at host mx.example.\n\n"
                      "<x@y.example>: host said: 451 4.4.1 try again later")
    assert verdict is not None and (verdict.status, verdict.permanent) == ("4.4.1", False)


def test_empty_return_path_alone_is_not_a_bounce() -> None:
    verdict = _detect("From: eva@lind.example\nReturn-Path: <>\nSubject: Re: [R-7] hi",
                      "Contacted. The letter could not be delivered by post, so I called.")
    assert verdict is None


def test_mailer_daemon_is_always_a_robot() -> None:
    verdict = _detect("From: mailer-daemon@mx.example\nSubject: Note", "Quota at 90%.")
    assert verdict is not None and verdict.kind == "bounce" and not verdict.permanent


def _dsn(action: str, status: str) -> RobotVerdict | None:
    return detect_robot(parse_message(_dsn_raw(action, status)), OWN, TODAY)


def _dsn_raw(action: str, status: str) -> bytes:
    raw = ("From: MAILER-DAEMON@mx.example\r\nTo: referrals@firm.example\r\n"
           "Subject: Delivery Status Notification\r\nMessage-ID: <d@mx.example>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
           "--B\r\nContent-Type: text/plain\r\n\r\nA notice.\r\n"
           "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
           f"Final-Recipient: rfc822; jane@x.example\r\nAction: {action}\r\n"
           f"Status: {status}\r\n\r\n--B--\r\n")
    return raw.encode()


def test_each_sign_of_a_bounce_is_enough_on_its_own() -> None:
    """A daemon with a return path, an empty return path from an unlisted sender, and a
    report from an ordinary address: each found, though the other two signs are missing."""
    daemon = _detect("From: postmaster@mx.example\nReturn-Path: <postmaster@mx.example>\n"
                     "Subject: Undelivered Mail Returned to Sender",
                     "Your message could not be delivered to <x@y.example>.")
    system = _detect("From: Mail Delivery System <bounces@mx.example>\nReturn-Path: <>\n"
                     "Subject: Returned mail",
                     "This is the mail system at host mx.example.\n\n"
                     "<x@y.example>: host said: 550 5.1.1 unknown")
    report = detect_robot(parse_message(_dsn_raw("failed", "5.1.1").replace(
        b"From: MAILER-DAEMON@mx.example", b"From: notices@mx.example\r\n"
        b"Return-Path: <notices@mx.example>")), OWN, TODAY)
    for verdict in (daemon, system, report):
        assert verdict is not None and verdict.kind == "bounce"
    assert daemon is not None and daemon.failed_recipients == ("x@y.example",)
    assert system is not None and system.status == "5.1.1"
    assert report is not None and report.permanent


@pytest.mark.parametrize(("action", "status", "permanent"), [
    ("failed", "5.1.1", True), ("failed", "5.7.1", True), ("delayed", "4.4.7", False),
    ("failed", "4.4.7", False), ("delivered", "2.0.0", False), ("relayed", "5.0.0", False),
])
def test_dsn_permanence_comes_from_action_and_status(action: str, status: str,
                                                     permanent: bool) -> None:
    verdict = _dsn(action, status)
    assert verdict is not None and verdict.kind == "bounce"
    assert verdict.permanent is permanent
    assert (verdict.failed_recipients == ("jane@x.example",)) is (action in ("failed",
                                                                             "delayed"))
