"""A mailbox the way it looks after months of use (seeded, deterministic).

Hundreds of partners (a third known to the directory by domain), repeat partners
and clients, 30 % replies threaded to earlier intros (with quoted text), 5 % robots
(auto-replies and DSNs), some forwarded intros, non-ASCII names, a share of large
attachments, dates spread over two months (beyond 10,000 messages, a longer history at
the same pace).

Two styles of writing (`messages(style=...)`):

- "rich" (the default of bench/ingest.py): mail as people's clients write it, from
  `bench/rich_mail.py`: multipart/alternative text and HTML as Gmail, Outlook and Apple
  Mail make it, quoted history under attribution lines in English, German, French,
  Spanish and Dutch, signatures and disclaimers, 1 KB to 40 KB a message, RFC 2047
  subjects and names.
- "plain": the short plain-text messages of earlier benchmarks (about 450 bytes).

`--fresh` in bench/ingest.py gives the old fresh-intros mailbox.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime

from bench import rich_mail

FIRST_NAMES = ["Jane", "Tom", "Priya", "Mark", "Sam", "Ruth", "José", "Zoë", "Björn", "Ana",
               "Chloé", "Łukasz", "Mei", "Omar", "Ines", "Søren", "Olga", "Kai", "Lea", "Ravi"]
LAST_NAMES = ["Doe", "Baker", "Shah", "Lee", "Green", "Hall", "Pérez", "Müller", "Nowak",
              "Dubois", "Rossi", "Kim", "Haddad", "García", "Jensen", "Ivanova", "Tanaka"]


@dataclass
class Realistic:
    """The messages and the partner directory they were written against."""

    partners: list[dict[str, object]] = field(default_factory=list)
    partner_addresses: list[str] = field(default_factory=list)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _address_header(name: str, email: str) -> str:
    encoded = name if name.isascii() else Header(name, "utf-8").encode()
    return f"{encoded} <{email}>"


def directory(partner_count: int, rng: random.Random) -> Realistic:
    world = Realistic()
    for n in range(partner_count):
        domain = f"firm{n}.example"
        email = f"{rng.choice(['bob', 'carol', 'dan', 'erin', 'frank'])}{n}@{domain}"
        world.partner_addresses.append(email)
        entry: dict[str, object] = {"email": email, "name": _name(rng), "niche": "advice"}
        if n % 3 == 0:
            entry["domain"] = domain  # anyone at this firm is this partner
        world.partners.append(entry)
    return world


STYLES = ("rich", "plain")


def messages(count: int, partner_count: int = 300, attachment_share: float = 0.02,
             attachment_mb: float = 1.0, seed: int = 7,
             style: str = "plain") -> tuple[Realistic, Iterator[bytes]]:
    """`count` messages written against a directory of `partner_count` partners."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    rng = random.Random(seed)
    world = directory(partner_count, rng)
    blob = base64.encodebytes(rng.randbytes(int(attachment_mb * 1024 * 1024))).replace(
        b"\n", b"\r\n")
    # two months of mail up to 10,000 messages; a larger mailbox is a longer history at the
    # same pace, not the same two months ten times as busy (at 100,000 that had 11,800
    # intros from the last fortnight to follow up, 21,000 acknowledgements to one person)
    span = timedelta(days=60) * max(1.0, count / 10_000)
    start = datetime(2026, 11, 13, 8, tzinfo=UTC) - span
    clients = [f"client{n}@mail{n % 40}.example" for n in range(max(50, count // 3))]

    def generate() -> Iterator[bytes]:
        intros: list[tuple[str, str, str]] = []  # (message id, partner, subject)
        for n in range(count):
            when = start + span * (n / max(count, 1))
            date = format_datetime(when)
            roll = rng.random()
            if intros and roll < 0.30:
                yield (rich_mail.reply(n, rng, intros, date) if style == "rich"
                       else _reply(n, rng, intros, date))
            elif intros and roll < 0.35:
                yield (rich_mail.robot(n, rng, intros, date) if style == "rich"
                       else _robot(n, rng, intros, date))
            else:
                # a few partners get most referrals; clients repeat now and then
                index = min(int(rng.paretovariate(1.2)) - 1, partner_count - 1)
                partner = world.partner_addresses[index]
                client = rng.choice(clients)
                subject = (rich_mail.intro_subject(rng, partner) if style == "rich" else
                           f"Introduction: {rng.choice(FIRST_NAMES)} / {partner.split('@')[0]}")
                mid = f"intro{n}@firm.example"
                intros.append((mid, partner, subject))
                big = blob if rng.random() < attachment_share else None
                forwarded = rng.random() < 0.05
                if style == "rich":
                    yield rich_mail.intro(n, rng, client, partner, subject, mid, date, big,
                                          forwarded)
                else:
                    yield _intro(n, rng, client, partner, subject, mid, date, big, forwarded)

    return world, generate()


def _intro(n: int, rng: random.Random, client: str, partner: str, subject: str, mid: str,
           date: str, attachment: bytes | None, forwarded: bool) -> bytes:
    client_name, partner_name = _name(rng), _name(rng)
    text = (f"{client_name.split()[0]}, meet {partner_name}: the best in town.\r\n"
            f"{partner_name.split()[0]}, {client_name.split()[0]} needs help with a move.\r\n"
            "\r\nBest,\r\nAlice\r\n")
    if forwarded:
        to = "referrals@firm.example"
        text = ("FYI, for the tracker.\r\n\r\n---------- Forwarded message ---------\r\n"
                f"From: Alice Adams <alice@firm.example>\r\nDate: {date}\r\n"
                f"Subject: {subject}\r\nTo: {client}, {partner}\r\n\r\n" + text)
        subject = "Fwd: " + subject
        cc = ""
    else:
        to = f"{_address_header(client_name, client)}, {_address_header(partner_name, partner)}"
        cc = "Cc: referrals@firm.example\r\n"
    head = (f"From: Alice Adams <alice@firm.example>\r\nTo: {to}\r\n{cc}Subject: {subject}\r\n"
            f"Date: {date}\r\nMessage-ID: <{mid}>\r\nMIME-Version: 1.0\r\n")
    if attachment is None:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n" + text).encode()
    return (head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "--b\r\n"
            'Content-Type: application/pdf; name="scan.pdf"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + attachment + b"--b--\r\n"


def _reply(n: int, rng: random.Random, intros: list[tuple[str, str, str]], date: str) -> bytes:
    mid, partner, subject = rng.choice(intros)
    word = rng.choice(["contacted", "Done, thanks!", "We spoke on Tuesday, all good.",
                       "won", "Hi Alice, not a fit unfortunately.", "snooze 2 weeks"])
    return (f"From: Partner <{partner}>\r\nTo: Alice <alice@firm.example>\r\n"
            f"Cc: referrals@firm.example\r\nSubject: Re: {subject}\r\nDate: {date}\r\n"
            f"Message-ID: <reply{n}@partners.example>\r\nIn-Reply-To: <{mid}>\r\n"
            f"References: <{mid}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{word}\r\n\r\n"
            f"On Mon, Alice Adams <alice@firm.example> wrote:\r\n> meet our partner\r\n"
            ).encode()


def _robot(n: int, rng: random.Random, intros: list[tuple[str, str, str]], date: str) -> bytes:
    mid, partner, subject = rng.choice(intros)
    if rng.random() < 0.5:
        return (f"From: Partner <{partner}>\r\nTo: referrals@firm.example\r\n"
                f"Subject: Automatic reply: {subject}\r\nAuto-Submitted: auto-replied\r\n"
                f"Date: {date}\r\nMessage-ID: <ooo{n}@partners.example>\r\n"
                f"In-Reply-To: <{mid}>\r\n\r\nI am out of the office until 7 December.\r\n"
                ).encode()
    return (f"From: MAILER-DAEMON@mx.example\r\nTo: referrals@firm.example\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\n"
            f"Message-ID: <dsn{n}@mx.example>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
            "--r\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n"
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            f"Final-Recipient: rfc822; {partner}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            f"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{mid}>\r\n\r\n--r--\r\n"
            ).encode()
