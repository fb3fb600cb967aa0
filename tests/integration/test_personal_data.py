"""One person's data: every table that holds people is listed by `person` and erased by
`forget`, read from the schema itself, so that a new column of people cannot be missed."""

from __future__ import annotations

import json
import re
from argparse import Namespace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mailflow.adapters.renderer import Renderer
from mailflow.adapters.store import PERSONAL_COLUMNS, Store
from mailflow.app import operator, privacy
from mailflow.app.cycle import run_cycle
from mailflow.app.ledger_view import partner_rows
from mailflow.app.operator import Action
from mailflow.app.template_context import sample_context
from mailflow.app.wiring import App, build_app
from mailflow.cli import commands
from mailflow.cli.parser import main
from mailflow.config import parse_config
from mailflow.core.model import Outcome
from mailflow.core.privacy import ERASURE_RULES, months_before
from tests.integration.dovecot_server import free_port
from tests.integration.test_transactions import MONDAY, OLD_INTRO
from tests.integration.test_web import sign_in, site
from tests.integration.web_world import WebWorld, web_world
from tests.integration.world import INTRO

__all__ = ["site", "web_world"]

EMAIL, NAME = "jane@gmail.com", "Jane Doe"
# a column whose name says it may hold a person, an address or what someone wrote
PEOPLE = re.compile(r"^(.*e-?mail.*|recipient|sender|actor|.*address.*|referrer|client|partner|"
                    r"by|added_by|.*name.*|candidates|context|subject|detail|notes?|payload|"
                    r"before|record|reason|flash|.*text.*|.*language.*|.*profile.*|"
                    r".*consent.*|.*phone.*|key|value)$", re.IGNORECASE)
# columns named like that which hold no one, each with the reason
EXCLUDED = {
    ("_sqlite_migrations", "name"): "the names of the applied migrations",
    # a language code (en, de…) names nobody; the rows go whole with the person (a contact
    # is deleted, a forgotten partner's row erased by its own rule)
    ("partners", "language"): "a language code",
    ("contacts", "language_set"): "a language code",
    ("contacts", "language_learned"): "a language code",
    ("referrals", "value"): "what a referral was worth: a number, of nobody",
}


def _schema(store: Store) -> dict[str, list[dict[str, Any]]]:
    tables = [r["name"] for r in store.query(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")]
    return {t: store.query(f"pragma table_info([{t}])") for t in tables}


def test_every_column_that_holds_people_is_covered(tmp_path: Path) -> None:
    """A new table or column of addresses, names or people's words must be read by
    `person` and handled by the erasure (PERSONAL_COLUMNS and core.privacy.ERASURE_RULES),
    or be listed above with the reason it holds no one."""
    store = Store(tmp_path / "m.db")
    try:
        schema = _schema(store)
    finally:
        store.close()
    missing = []
    for table, columns in schema.items():
        exact, text = PERSONAL_COLUMNS.get(table, ((), ()))
        for column in columns:
            name = column["name"]
            if (PEOPLE.match(name) and name not in exact + text
                    and (table, name) not in EXCLUDED):
                missing.append(f"{table}.{name}")
    assert not missing, ("columns that may hold people, not covered by PERSONAL_COLUMNS "
                         f"(mailflow/adapters/store/people.py) nor excluded here: {missing}")
    assert set(PERSONAL_COLUMNS) <= set(schema), "PERSONAL_COLUMNS names a table that is gone"
    assert set(PERSONAL_COLUMNS) == set(ERASURE_RULES), \
        "every table person reads needs an erasure rule in core.privacy, and no other"
    for table, (exact, text) in PERSONAL_COLUMNS.items():
        names = {c["name"] for c in schema[table]}
        assert set(exact + text) <= names, f"{table}: {set(exact + text) - names}"


def maildir_app(tmp_path: Path, **more: Any) -> App:
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True, exist_ok=True)
    config = parse_config({"tracker": "referrals@firm.example", "database": "m.db",
                           "maildir": "mail", "outbox_dir": "outbox",
                           "referrers": ["*@firm.example"],
                           "partners": [{"email": "bob@law.example", "name": "Bob Smith"}],
                           **more}, tmp_path / "m.yaml")
    return build_app(config)


AT = "2026-11-23T09:00:00+00:00"
# values a planted row needs to be a valid row of its table, and rows that refer to each other
OVERRIDES: dict[str, dict[str, Any]] = {
    "referrals": {"status": "closed", "created_at": AT, "outcome": "won",
                  "names": json.dumps({EMAIL: NAME}), "candidates": json.dumps([EMAIL])},
    "meta": {"key": f"digest:{EMAIL}"},
    "partner_emails": {"partner_id": 900},
    "partners": {"id": 900},
    "forget_requests": {"asked_at": AT},
    "outbox": {"due_at": AT, "status": "sent", "kind": "notice", "step": "relay"},
    "events": {"at": AT, "kind": "intake"},
    "opt_outs": {"referral_id": 0},
}


def _plant(store: Store) -> dict[str, int]:
    """One row in every table that holds people, each column that may hold them holding
    Jane (her address, or a text with her name and address); returns each row's rowid."""
    text = f"a note from {NAME} <{EMAIL}>"
    schema = _schema(store)
    planted: dict[str, int] = {}
    with store.atomic():
        for table, (exact, texts) in PERSONAL_COLUMNS.items():
            row: dict[str, Any] = {}
            for n, column in enumerate(schema[table]):
                name, kind = column["name"], column["type"].upper()
                if name in exact:
                    row[name] = EMAIL
                elif name in texts:
                    row[name] = NAME if name == "name" else text
                elif not (column["notnull"] or column["pk"]):
                    row[name] = None
                elif "INT" in kind:
                    row[name] = 900 + n
                else:
                    row[name] = f"{table}-{name}"
            row.update(OVERRIDES.get(table, {}))
            columns = ", ".join(f"[{c}]" for c in row)
            cursor = store.db.execute(
                f"insert into [{table}] ({columns}) values ({', '.join('?' * len(row))})",
                list(row.values()))
            planted[table] = int(cursor.lastrowid or 0)
    return planted


def _held(path: Path, *needles: str) -> list[str]:
    """Which of `needles` (case-insensitive) the database's files still hold, byte for byte."""
    data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return [n for n in needles if n.lower().encode() in data.lower()]


def test_person_lists_every_planted_row_and_forget_leaves_no_byte(tmp_path: Path) -> None:
    app = maildir_app(tmp_path)
    try:
        planted = _plant(app.store)
        report = privacy.person(app, EMAIL)
        assert report.names == (NAME,)
        for table, rowid in planted.items():
            found = privacy.read_person(app.store, EMAIL)[1][table]
            assert [r["_rowid"] for r in found] == [rowid], table
            assert report.tables[table], table
        assert report.referrals[0]["roles"] == ["referrer", "client", "partner"]
        assert _held(app.config.database, EMAIL, NAME) == [EMAIL, NAME]
        erased = privacy.forget(app, EMAIL, MONDAY)
        assert erased.rows.keys() == planted.keys()
        assert _held(app.config.database, EMAIL, NAME) == []
        left = privacy.read_person(app.store, EMAIL)[1]
        assert not any(left.values()), left
        # the referral stays, under the pseudonym
        (referral,) = app.store.referrals()
        assert referral.client == referral.partner == erased.pseudonym
        assert app.store.opted_out(erased.pseudonym, referral.id)
    finally:
        app.close()


def test_forget_without_yes_changes_nothing_and_says_what_would_go(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = maildir_app(tmp_path)
    try:
        _plant(app.store)
    finally:
        app.close()
    (tmp_path / "mail" / ".mailflow.processed" / "cur").mkdir(parents=True)
    (tmp_path / "mail" / ".mailflow.processed" / "cur" / "1:2,S").write_bytes(
        f"From: {NAME} <{EMAIL}>\r\nSubject: hi\r\n\r\nhello\r\n".encode())
    (tmp_path / "mail" / ".mailflow.processed" / "cur" / "2:2,S").write_bytes(
        b"From: Bob <bob@law.example>\r\nSubject: hi\r\n\r\nhello\r\n")
    config = str(tmp_path / "m.yaml")
    (tmp_path / "m.yaml").write_text("tracker: referrals@firm.example\ndatabase: m.db\n"
                                     "maildir: mail\noutbox_dir: outbox\n")
    assert main(["--config", config, "forget", EMAIL]) == 0
    out = capsys.readouterr().out
    assert "would forget jane@gmail.com" in out and "1 in mailflow/processed" in out
    assert "nothing was changed" in out
    assert _held(tmp_path / "m.db", EMAIL) == [EMAIL]
    assert len(list((tmp_path / "mail" / ".mailflow.processed" / "cur").iterdir())) == 2
    assert main(["--config", config, "forget", "not an address"]) == 2
    assert capsys.readouterr().err.strip() == "mailflow: EMAIL: not an address: 'not an address'"
    assert main(["--config", config, "forget", EMAIL, "--yes"]) == 0
    assert "forgot jane@gmail.com" in capsys.readouterr().out
    assert _held(tmp_path / "m.db", EMAIL, NAME) == []
    assert [p.name for p in (tmp_path / "mail" / ".mailflow.processed" / "cur").iterdir()] \
        == ["2:2,S"]
    assert main(["--config", config, "person", EMAIL]) == 0
    assert capsys.readouterr().out.strip() == f"nothing held about {EMAIL}"


def _deliver(tmp_path: Path, name: str, raw: bytes) -> None:
    (tmp_path / "mail" / "new" / name).write_bytes(raw)


def _counts(app: App, now: datetime) -> list[tuple[Any, ...]]:
    return sorted((r["email"], r["given"], r["received"], r["open"], r["won"], r["lost"],
                   r["done"], tuple(r["ratings"]), r["median_hours_to_contact"],
                   r["median_days_to_close"]) for r in partner_rows(app, now))


def test_retention_over_a_simulated_year_drops_old_texts_and_keeps_the_counts(
        tmp_path: Path) -> None:
    app = maildir_app(tmp_path, retention={"closed_months": 6})
    try:
        _deliver(tmp_path, "intro.eml", INTRO)
        run_cycle(app, MONDAY)
        _deliver(tmp_path, "note.eml", f"""From: {NAME} <{EMAIL}>
To: referrals@firm.example
Subject: Re: [R-1] Introduction: Jane / Bob
Date: Mon, 23 Nov 2026 10:30:00 +0000
Message-ID: <note1@gmail.com>
In-Reply-To: <intro1@firm.example>

Thanks Alice, I will call Bob about my will.
""".encode())
        run_cycle(app, MONDAY + timedelta(hours=1))
        first = app.store.referral(1)
        operator.act(app, first, Action("close", outcome=Outcome.WON), MONDAY
                     + timedelta(hours=2), "cli")
        three_months = MONDAY + timedelta(days=91)
        _deliver(tmp_path, "intro2.eml", OLD_INTRO.replace(b"old1@", b"later1@").replace(
            b"Tue, 06 Oct 2026", three_months.strftime("%a, %d %b %Y").encode()))
        run_cycle(app, three_months)
        second = app.store.referral(2)
        assert second.client == "tom@bakery.example" and second.context
        operator.act(app, second, Action("close", outcome=Outcome.LOST), three_months, "cli")
        measured = MONDAY + timedelta(days=400)
        before = _counts(app, measured)
        assert app.store.notes_of([1]) == {1: ["Thanks Alice, I will call Bob about my will."]}
        expired_at: dict[int, datetime] = {}
        for day in range(0, 370, 3):  # a year of cycles, every third day
            now = MONDAY + timedelta(days=day, hours=3)
            run_cycle(app, now)
            for referral_id in (1, 2):
                if referral_id not in expired_at and not app.store.referral(referral_id).context:
                    expired_at[referral_id] = now
        # each lost its texts in the first cycle of the day it was six months closed
        assert expired_at[1].date() - timedelta(days=3) < months_before(
            MONDAY + timedelta(hours=2), -6).date() <= expired_at[1].date()
        assert expired_at[2].date() - timedelta(days=3) < months_before(
            three_months, -6).date() <= expired_at[2].date()
        assert app.store.notes_of([1]) == {1: [""]}
        assert app.store.referral(1).names == {} and app.store.referral(1).outcome is Outcome.WON
        assert _counts(app, measured) == before
        assert app.store.contacts_of([EMAIL, "tom@bakery.example"]) == {}
        assert "bob@law.example" in app.store.contacts_of(["bob@law.example"])  # a partner
        assert all(m["sender"] is None for m in app.store.messages())
        assert _held(app.config.database, "my will") == []
        status = commands.status(app.config, Namespace(json=True), MONDAY)
        assert status["privacy"]["expired_referrals"] == 2
        assert status["privacy"]["retention_closed_months"] == 6
    finally:
        app.close()


@pytest.mark.smtp
def test_the_admin_sees_and_erases_a_person_on_the_web(
        site: tuple[WebWorld, App, TestClient]) -> None:
    world, _, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    assert client.get(f"/people?email={EMAIL}").status_code == 404  # the admin's alone
    refused = client.post("/people/forget", data={"csrf": csrf, "email": EMAIL,
                                                  "confirm": EMAIL})
    assert refused.status_code == 404
    admin = TestClient(client.app, base_url="http://mailflow.test")
    token = sign_in(world, admin, "ops@firm.example")
    page = admin.get("/people", params={"email": EMAIL}).text
    assert "Held about jane@gmail.com" in page and "R-1" in page and ">client<" in page
    assert "Erase jane@gmail.com" in page
    mistyped = admin.post("/people/forget", data={"csrf": token, "email": EMAIL,
                                                  "confirm": "jane@gmail.co"})
    assert "Type the address again" in mistyped.text
    assert _held(world.root / "mailflow.db", EMAIL) == [EMAIL]
    done = admin.post("/people/forget", data={"csrf": token, "email": EMAIL,
                                              "confirm": EMAIL.upper()})
    assert done.status_code == 200 and "Erased: the person is now forgotten-" in done.text
    assert EMAIL not in done.text
    assert _held(world.root / "mailflow.db", EMAIL) == []
    assert "Nothing is held about this address" in admin.get(
        "/people", params={"email": EMAIL}).text
    admin.close()


def test_forget_erases_nothing_when_the_mailbox_cannot_be_reached(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = maildir_app(tmp_path)
    try:
        _plant(app.store)
    finally:
        app.close()
    monkeypatch.setenv("NO_PASSWORD", "x")
    config = tmp_path / "imap.yaml"
    config.write_text(f"tracker: referrals@firm.example\ndatabase: m.db\noutbox_dir: out\n"
                      f"imap: {{host: 127.0.0.1, port: {free_port()}, tls: none, "
                      "username: u, password_env: NO_PASSWORD}\n")
    assert main(["--config", str(config), "forget", EMAIL, "--yes"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("mailflow: cannot connect to 127.0.0.1:")
    assert error.endswith("; nothing was erased") and "\n" not in error
    assert _held(tmp_path / "m.db", EMAIL, NAME) == [EMAIL, NAME]
    assert main(["--config", str(config), "forget", EMAIL]) == 0  # the dry run says why
    assert "the mailbox could not be searched: cannot connect" in capsys.readouterr().out


@pytest.mark.parametrize(("data", "says"), [
    ({"change": "forget", "days": 7, "erase": True},
     "no more emails to you about any referral. What mailflow holds about you"),
    ({"change": "forget", "days": 7, "erase": False},
     "no more emails to you about any referral.\n"),
    ({"change": "forget", "asked_by": "jane@gmail.com", "days": 7, "erase": True},
     "erased in 7 days, so that you can settle R-42 first"),
    ({"change": "forget", "asked_by": "jane@gmail.com", "days": 7, "erase": False},
     "unless you run `mailflow forget jane@gmail.com --yes`"),
])
def test_the_confirmation_of_a_forget_me_renders_every_way(data: dict[str, object],
                                                           says: str) -> None:
    rendered = Renderer().render("notice_confirm", {**sample_context(), **data,
                                                    "undo_offer": False})
    assert says in rendered.text, rendered.text
