"""The issue's "done when", on a real Dovecot and a real SMTP peer, through the command line:
a client on two referrals and a partner on a third is listed whole by `person`, and after
`forget` no byte of her address or name is left in the database file or in mailflow's IMAP
folders, while every referrer's ledger counts the same. A "forget me" reply stops her mail
within the cycle that reads it, and a forgotten person's `stop all` outlives her address."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import pytest

from mailflow.adapters.imap_mailbox import ImapMailbox
from mailflow.app.ledger_view import partner_rows
from mailflow.app.wiring import build_app
from mailflow.cli.parser import main
from mailflow.config import load_config
from mailflow.core.privacy import Person, message_mentions
from tests.integration.dovecot_server import ImapAccount
from tests.integration.test_transactions import reply
from tests.integration.world import INTRO, World

EMAIL, NAME = "jane@gmail.com", "Jane Doe"
pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]


def intro(n: int, to: str, partner_line: str, minute: int) -> bytes:
    return f"""From: Alice Adams <alice@firm.example>
To: {to}
Cc: referrals@firm.example
Subject: Introduction {n}
Date: Mon, 23 Nov 2026 09:{minute:02d}:00 +0000
Message-ID: <intro{n}@firm.example>

Please meet each other: I think you will get on.

{partner_line}

Alice
""".encode()


INTRO2 = intro(2, f"{NAME} <{EMAIL}>, Carol Tax <carol@tax.example>",
               "partner: carol@tax.example", 35)
INTRO3 = intro(3, f"Tom Baker <tom@bakery.example>, {NAME} <{EMAIL}>",
               f"partner: {EMAIL}", 40)


def _ledgers(world: World, now: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each referrer's ledger, as counts (the partners' keys aside: one is now a pseudonym)."""
    app = build_app(load_config(world.config))
    try:
        moment = datetime.fromisoformat(now)
        return {referrer: sorted((r["given"], r["received"], r["open"], r["won"], r["lost"],
                                  r["done"], tuple(sorted(r["ratings"])),
                                  r["median_hours_to_contact"], r["median_days_to_close"])
                                 for r in partner_rows(app, moment, referrer))
                for referrer in app.store.referrers()}
    finally:
        app.close()


def _database_holds(world: World, *needles: str) -> list[str]:
    path = world.config.parent / "mailflow.db"
    data = b"".join(p.read_bytes() for p in path.parent.glob("mailflow.db*")).lower()
    return [n for n in needles if n.lower().encode() in data]


def _folders_hold(account: ImapAccount, *needles: str) -> dict[str, list[str]]:
    """Which folders still hold a message with one of `needles`, byte for byte."""
    client = account.client()
    found: dict[str, list[str]] = {}
    try:
        for flags, _, folder in client.list_folders():
            if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                continue
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            for data in client.fetch(uids, ["BODY.PEEK[]"]).values() if uids else ():
                raw = bytes(data[b"BODY[]"]).lower()
                found.setdefault(folder, []).extend(n for n in needles
                                                    if n.lower().encode() in raw)
    finally:
        client.logout()
    return {f: sorted(set(n)) for f, n in found.items() if n}


def _three_referrals(world: World) -> None:
    world.deliver(INTRO)
    world.deliver(INTRO2)
    world.deliver(INTRO3)
    world.run("2026-11-23T10:00:00+00:00")
    listed = world.cli_json("list")
    assert isinstance(listed, list)
    assert [(r["client"], r["partner"]) for r in listed] == [
        (EMAIL, "bob@law.example"), (EMAIL, "carol@tax.example"),
        ("tom@bakery.example", EMAIL)]


def test_person_then_forget_leaves_no_byte_and_the_same_ledger(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    _three_referrals(world)
    reply(world, f"{NAME} <{EMAIL}>", "Thanks Alice, I will call Bob about my will.", 1,
          "Mon, 23 Nov 2026 10:20:00 +0000")
    reply(world, f"{NAME} <{EMAIL}>", "rating 5", 2, "Mon, 23 Nov 2026 10:25:00 +0000")
    reply(world, "Bob Smith <bob@law.example>",
          f"Contacted.\n\nOn Mon, {NAME} <{EMAIL}> wrote:\n> I will call Bob", 3,
          "Mon, 23 Nov 2026 10:30:00 +0000")
    world.run("2026-11-23T11:00:00+00:00")
    world.run("2026-11-30T12:00:00+00:00")  # the client check-ins, the digest
    assert world.sent_to(EMAIL), "Jane got mail: there is mail of hers to expunge"
    assert main(["--config", str(world.config), "close", "R-1", "--outcome", "won"]) == 0
    now = "2026-12-01T10:00:00+00:00"
    before = _ledgers(world, now)

    held = world.cli_json("person", EMAIL)
    assert isinstance(held, dict)
    assert held["names"] == [NAME]
    assert [(r["id"], r["roles"]) for r in held["referrals"]] == [
        ("R-1", ["client"]), ("R-2", ["client"]), ("R-3", ["partner"])]
    tables = held["held"]
    assert {"referrals", "events", "outbox", "messages", "contacts"} <= set(tables)
    assert any("my will" in (e["detail"] or "") for e in tables["events"])  # her note
    assert {m["message_id"] for m in tables["messages"]} == {
        "trace1@people.example", "trace2@people.example"}  # from her
    assert {o["recipient"] for o in tables["outbox"]} >= {EMAIL}  # to her
    capsys.readouterr()
    assert main(["--config", str(world.config), "person", EMAIL]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{EMAIL} ({NAME})") and "R-3    partner" in text

    assert _database_holds(world, EMAIL, NAME) == [EMAIL, NAME]
    assert _folders_hold(world.imap, EMAIL)  # processed and Sent hold her mail
    assert main(["--config", str(world.config), "forget", EMAIL]) == 0  # a dry run
    assert "would forget" in capsys.readouterr().out
    assert _database_holds(world, EMAIL, NAME) == [EMAIL, NAME]
    assert main(["--config", str(world.config), "forget", EMAIL, "--yes"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"forgot {EMAIL}: now forgotten-") and "mailflow/processed" in said

    assert _database_holds(world, EMAIL, NAME) == []
    assert _folders_hold(world.imap, EMAIL, NAME) == {}
    assert _ledgers(world, now) == before
    listed = world.cli_json("list")
    assert isinstance(listed, list) and len(listed) == 3
    pseudonym = listed[0]["client"]
    assert pseudonym.startswith("forgotten-") and pseudonym.endswith("@invalid")
    assert listed[1]["client"] == listed[2]["partner"] == pseudonym  # the same everywhere
    sent = len(world.smtp.messages)
    world.run("2026-12-14T10:00:00+00:00")  # nothing ever goes to a pseudonym
    assert not [m for m in world.sent()[sent:] if "invalid" in str(m.to)]


def test_forget_me_stops_mail_in_the_cycle_and_erases_after_the_delay(world: World) -> None:
    _three_referrals(world)
    to_jane = len(world.sent_to(EMAIL))
    reply(world, f"{NAME} <{EMAIL}>", "Hi Alice,\n\nPlease forget me.\n\nJane", 1,
          "Mon, 30 Nov 2026 09:59:00 +0000")
    # the cycle that reads it is the one her client check-in (+7 days) is due in
    world.run("2026-11-30T10:00:00+00:00")
    got = world.sent_to(EMAIL)[to_jane:]
    assert [m.subject for m in got] == ["[R-1] Noted"]  # the confirmation, and nothing else
    assert "no more emails to you about any referral" in got[0].text
    told = [m for m in world.sent_to("alice@firm.example") if EMAIL in m.text
            and "asked mailflow to forget them" in m.text]
    assert told, "the referrer is told"
    world.run("2026-12-03T10:00:00+00:00")
    assert len(world.sent_to(EMAIL)) == to_jane + 1  # still nothing more
    assert _database_holds(world, EMAIL)  # not yet: the referrer has a week
    world.run("2026-12-07T10:00:00+00:00")  # seven days after asking: the daily job erases
    assert _database_holds(world, EMAIL, NAME) == []
    assert _folders_hold(world.imap, EMAIL, NAME) == {}
    status = world.cli_json("status")
    assert isinstance(status, dict) and status["privacy"]["forget_requests"] == 0


def test_a_forgotten_persons_stop_all_is_honoured_on_a_later_intro(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    reply(world, f"{NAME} <{EMAIL}>", "Stop all emails please", 1,
          "Mon, 23 Nov 2026 10:20:00 +0000")
    world.run("2026-11-23T11:00:00+00:00")
    assert main(["--config", str(world.config), "forget", EMAIL, "--yes"]) == 0
    assert _database_holds(world, EMAIL) == []
    world.deliver(INTRO.replace(b"intro1@", b"intro9@").replace(b"23 Nov", b"25 Nov"))
    world.run("2026-11-25T10:00:00+00:00")
    listed = world.cli_json("list")
    assert isinstance(listed, list) and listed[-1]["client"] == EMAIL  # a new person
    to_jane = len(world.sent_to(EMAIL))
    world.run("2026-12-03T10:00:00+00:00")  # her client check-in would be due
    assert len(world.sent_to(EMAIL)) == to_jane
    shown = world.cli_json("show", listed[-1]["id"])
    assert isinstance(shown, dict)
    assert [o["status"] for o in shown["outbox"] if o["recipient"] == EMAIL] in (
        [], ["skipped"]), shown["outbox"]


def test_expunge_mentioning_erases_only_the_matching_messages(
        imap_account: ImapAccount) -> None:
    for n, sender in enumerate([f"{NAME} <{EMAIL}>", "Bob <bob@law.example>",
                                "=?utf-8?q?Zo=C3=AB_=C3=9Cnal?= <zoe@example.org>",
                                "Mary <mary.jane@gmail.com>"]):
        imap_account.deliver(f"From: {sender}\r\nTo: referrals@firm.example\r\n"
                             f"Subject: m{n}\r\nMessage-ID: <m{n}@x>\r\n\r\nhello\r\n".encode(),
                             "mailflow.processed")  # this Dovecot's delimiter is a dot
    imap_account.deliver(f"From: Bob <bob@law.example>\r\nSubject: quote\r\n"
                         f"Message-ID: <q@x>\r\n\r\n> {NAME} wrote:\r\n".encode(),
                         "mailflow.processed")
    box = ImapMailbox.connect(imap_account.host, imap_account.port, "none",
                              imap_account.username, imap_account.password, "INBOX")
    jane = partial(message_mentions, person=Person(EMAIL, (NAME,), "x@invalid"))
    zoe = partial(message_mentions, person=Person("zoe@x.example", ("Zoë Ünal",), "z@invalid"))
    try:
        # Mary's address holds Jane's: the server finds it, the check lets it be
        assert box.expunge_mentioning("mailflow/processed", [EMAIL, NAME], jane,
                                      dry_run=True) == 2
        assert box.expunge_mentioning("mailflow/processed", [EMAIL, NAME], jane) == 2
        assert box.expunge_mentioning("mailflow/processed", ["Zoë Ünal"], zoe) == 1
        assert box.expunge_mentioning("no/such/folder", [EMAIL], jane) == 0
        assert box.uidvalidity()  # the folder read from is selected again
    finally:
        box.close()
    client = imap_account.client()
    try:
        client.select_folder("mailflow.processed")
        subjects = [bytes(d[b"BODY[HEADER.FIELDS (SUBJECT)]"]).strip() for d in
                    client.fetch(client.search(["ALL"]),
                                 ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]).values()]
    finally:
        client.logout()
    assert subjects == [b"Subject: m1", b"Subject: m3"]

