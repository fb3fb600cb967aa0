"""One person's data, decided without a database: pseudonyms, scrubbing, each table's rule,
"forget me" as a reply word and as effects, and the dates of retention (core.privacy)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from mailflow.core.commands import parse_command
from mailflow.core.decisions import Reply, on_reply
from mailflow.core.effects import AskForget, Notify, OptOut
from mailflow.core.model import Referral, Status
from mailflow.core.privacy import (
    FORGOTTEN,
    WITHDRAWN_DETAIL,
    Person,
    RowChange,
    daily_due,
    due_erasures,
    is_pseudonym,
    message_mentions,
    months_before,
    names_seen,
    opt_out_hash,
    person_report,
    plan_erasure,
    pseudonym,
    scrub,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
JANE = Person("jane@gmail.com", ("Jane Doe",), pseudonym("jane@gmail.com", "salt"))
REF = Referral(7, Status.OPEN, "alice@firm.example", "jane@gmail.com", "bob@law.example",
               "Intro", NOW - timedelta(days=1), "<intro@firm.example>")


def test_a_pseudonym_is_stable_per_salt_and_never_deliverable() -> None:
    assert pseudonym("Jane@Gmail.com ", "salt") == JANE.pseudonym
    assert pseudonym("jane@gmail.com", "other") != JANE.pseudonym
    assert is_pseudonym(JANE.pseudonym) and JANE.pseudonym.endswith("@invalid")
    assert "jane" not in JANE.pseudonym
    assert opt_out_hash("jane@gmail.com", "salt") != opt_out_hash("jane@gmail.com", "x")
    assert "jane" not in opt_out_hash("jane@gmail.com", "salt")


@pytest.mark.parametrize(("text", "scrubbed"), [
    ("client JANE@gmail.com, partner bob@law.example",
     f"client {JANE.pseudonym}, partner bob@law.example"),
    ("Jane Doe <jane@gmail.com> wrote", f"{FORGOTTEN} <{JANE.pseudonym}> wrote"),
    ("mary.jane@gmail.com and jane@gmail.community stay",
     "mary.jane@gmail.com and jane@gmail.community stay"),
    ("Janet Doerr stays", "Janet Doerr stays"),
])
def test_scrub_replaces_the_address_and_the_name_only_whole(text: str, scrubbed: str) -> None:
    assert scrub(text, JANE) == scrubbed


def test_first_names_go_only_where_asked() -> None:
    assert scrub("Introduction: Jane / Bob", JANE) == "Introduction: Jane / Bob"
    assert scrub("Introduction: Jane / Bob", JANE, name_parts=True) == \
        f"Introduction: {FORGOTTEN} / Bob"


def test_a_name_written_by_json_is_found_too() -> None:
    zoe = Person("zoe@x.example", ("Zoë Ünal",), "forgotten-1@invalid")
    stored = json.dumps({"zoe@x.example": "Zoë Ünal"})  # \u00eb in the column
    assert scrub(stored, zoe) == json.dumps({"forgotten-1@invalid": "[forgotten]"})


def test_names_are_gathered_from_the_contact_the_intros_and_the_directory() -> None:
    rows = {"contacts": [{"email": "jane@gmail.com", "name": "Jane Doe"}],
            "referrals": [{"names": json.dumps({"jane@gmail.com": "Jane D."})}],
            "partners": [{"name": "Doe Legal", "_emails": ["jane@gmail.com"]},
                         {"name": "Big Firm", "_emails": ["jane@gmail.com", "x@y.example"]}]}
    assert names_seen("jane@gmail.com", rows) == ("Jane Doe", "Jane D.", "Doe Legal")


def test_each_table_has_its_rule() -> None:
    rows = {
        "referrals": [{"_rowid": 7, "id": 7, "referrer": "alice@firm.example",
                       "client": "jane@gmail.com", "partner": "bob@law.example",
                       "subject": "Introduction: Jane / Bob", "context": "about her will",
                       "names": json.dumps({"jane@gmail.com": "Jane Doe",
                                            "bob@law.example": "Bob"}),
                       "candidates": "[]"}],
        "events": [{"_rowid": 1, "actor": "jane@gmail.com", "kind": "note",
                    "detail": "my will"},
                   {"_rowid": 2, "actor": "jane@gmail.com", "kind": "closed",
                    "detail": "closed (done) by jane@gmail.com"},
                   {"_rowid": 3, "actor": "alice@firm.example", "kind": "intake",
                    "detail": "client jane@gmail.com"}],
        "undo": [{"_rowid": 4, "actor": "jane@gmail.com", "before": "{}"}],
        "outbox": [{"_rowid": 5, "recipient": "jane@gmail.com", "status": "pending",
                    "payload": "", "detail": ""},
                   {"_rowid": 6, "recipient": "alice@firm.example", "status": "pending",
                    "payload": json.dumps({"news": "note", "sender": "jane@gmail.com",
                                           "text": "my will"}), "detail": ""}],
        "messages": [{"_rowid": 8, "sender": "jane@gmail.com", "reason": "reply"}],
        "opt_outs": [{"_rowid": 9, "email": "jane@gmail.com", "referral_id": 0, "by": None}],
        "meta": [{"_rowid": 10, "key": "digest:jane@gmail.com", "value": "x"}],
    }
    changes = {(c.table, c.rowid): c.fields for c in plan_erasure(JANE, rows)}
    referral = changes[("referrals", 7)]
    assert referral is not None
    assert referral["client"] == JANE.pseudonym and referral["context"] == ""
    assert referral["subject"] == f"Introduction: {FORGOTTEN} / Bob"
    assert json.loads(referral["names"]) == {"bob@law.example": "Bob"}
    assert changes[("events", 1)] == {"actor": JANE.pseudonym, "detail": ""}  # her words
    assert changes[("events", 2)] == {"actor": JANE.pseudonym,
                                      "detail": f"closed (done) by {JANE.pseudonym}"}
    assert changes[("events", 3)] == {"detail": f"client {JANE.pseudonym}"}
    assert changes[("undo", 4)] is None
    assert changes[("outbox", 5)] == {"recipient": JANE.pseudonym, "status": "withdrawn",
                                      "detail": WITHDRAWN_DETAIL}
    relay = changes[("outbox", 6)]
    assert relay is not None and relay["status"] == "withdrawn"
    assert json.loads(relay["payload"]) == {"news": "note", "sender": JANE.pseudonym}
    assert changes[("messages", 8)] is None and changes[("opt_outs", 9)] is None
    assert changes[("meta", 10)] is None


def test_a_table_without_a_rule_stops_the_erasure() -> None:
    with pytest.raises(ValueError, match="profiles"):
        plan_erasure(JANE, {"profiles": [{"_rowid": 1}]})
    assert plan_erasure(JANE, {"events": [{"_rowid": 1, "actor": "x", "detail": "y"}]}) == []
    assert RowChange("events", 1, None).fields is None


def test_the_report_names_each_role() -> None:
    rows = {"referrals": [{"id": 1, "client": "jane@gmail.com", "status": "open"},
                          {"id": 2, "partner": "jane@gmail.com", "status": "closed",
                           "outcome": "won"},
                          {"id": 3, "candidates": '["jane@gmail.com"]', "status": "open"}],
            "contacts": [{"_rowid": 1, "email": "jane@gmail.com", "name": "Jane Doe"}]}
    report = person_report(JANE, rows).as_dict()
    assert [(r["id"], r["roles"]) for r in report["referrals"]] == [
        ("R-1", ["client"]), ("R-2", ["partner"]), ("R-3", ["candidate"])]
    assert report["held"]["contacts"] == [{"email": "jane@gmail.com", "name": "Jane Doe"}]


@pytest.mark.parametrize("text", ["forget me", "Please forget me.", "Hi Alice,\n\nforget me",
                                  "Delete my data", "erase my data please",
                                  "Please delete all my personal data", "Forget about me!"])
def test_forget_me_is_read(text: str) -> None:
    command = parse_command(text)
    assert command is not None and command.word == "forget", text


@pytest.mark.parametrize("text", ["forget it", "I forget me", "Don't forget me",
                                  "delete my appointment", "forget me not, I'll call Bob"])
def test_forget_me_is_not_read_from_other_words(text: str) -> None:
    command = parse_command(text)
    assert command is None or command.word != "forget", text


def test_a_long_forget_costs_linear_time() -> None:
    def cost(repeats: int) -> float:
        began = time.perf_counter()
        for _ in range(20):
            parse_command("forget me " + "please " * repeats + "x")
        return time.perf_counter() - began

    cost(4)
    small, large = cost(50), cost(100)
    assert large < small * 8, (small, large)


def test_forget_me_stops_all_at_once_and_asks_for_the_erasure() -> None:
    effects = on_reply(Reply(REF, "jane@gmail.com", parse_command("forget me"),
                             forget_after_days=7), NOW)
    assert OptOut("jane@gmail.com", None) in effects
    assert AskForget("jane@gmail.com", 7) in effects
    notices = {(n.recipient, n.kind): n.data for n in effects if isinstance(n, Notify)}
    assert notices[("jane@gmail.com", "confirm")] == {"change": "forget", "days": 7,
                                                      "erase": True, "undo_offer": False}
    assert notices[("alice@firm.example", "confirm")]["asked_by"] == "jane@gmail.com"


def test_an_unproven_forget_me_stops_mail_but_erases_nothing() -> None:
    effects = on_reply(Reply(REF, "jane@gmail.com", parse_command("forget me"), proven=False),
                       NOW)
    assert OptOut("jane@gmail.com", None) in effects
    assert not [e for e in effects if isinstance(e, AskForget)]
    told = [n for n in effects if isinstance(n, Notify) and n.recipient == "alice@firm.example"]
    assert told and told[0].data["erase"] is False


def test_requests_fall_due_after_the_delay() -> None:
    requests = [{"email": "a@x.example", "asked_at": (NOW - timedelta(days=7)).isoformat()},
                {"email": "b@x.example", "asked_at": (NOW - timedelta(days=6)).isoformat()}]
    assert due_erasures(requests, NOW, 7) == ["a@x.example"]
    assert due_erasures(requests, NOW, 0) == ["a@x.example", "b@x.example"]


def test_months_are_calendar_months() -> None:
    assert months_before(datetime(2027, 3, 31, tzinfo=UTC), 1) == datetime(2027, 2, 28,
                                                                            tzinfo=UTC)
    assert months_before(datetime(2027, 1, 15, tzinfo=UTC), 24) == datetime(2025, 1, 15,
                                                                             tzinfo=UTC)
    assert months_before(datetime(2026, 11, 24, tzinfo=UTC), -6) == datetime(2027, 5, 24,
                                                                             tzinfo=UTC)


def test_the_daily_work_runs_once_a_day() -> None:
    assert daily_due(None, NOW)
    assert not daily_due("2026-11-24", NOW)
    assert daily_due("2026-11-23", NOW)


@pytest.mark.parametrize(("raw", "named"), [
    (b"From: Jane Doe <jane@gmail.com>\r\n\r\nhi\r\n", True),
    (b"From: Mary <mary.jane@gmail.com>\r\n\r\nhi\r\n", False),
    (b"From: =?utf-8?q?Jane_Doe?= <j@x.example>\r\n\r\nhi\r\n", True),
    (b"From: b@x.example\r\nContent-Type: text/plain; charset=utf-8\r\n"
     b"Content-Transfer-Encoding: base64\r\n\r\nSmFuZSBEb2UgY2FsbGVk\r\n", True),  # Jane Doe called
    (b"From: b@x.example\r\nContent-Type: text/plain; charset=klingon\r\n\r\nhi\r\n", False),
])
def test_a_stored_message_names_the_person_in_any_encoding(raw: bytes, named: bool) -> None:
    assert message_mentions(raw, JANE) is named


def test_an_unknown_charset_does_not_hide_a_name() -> None:
    raw = (b"From: Jane Doe <j@x.example>\r\nContent-Type: text/plain; charset=klingon\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nSmFuZSBEb2UgY2FsbGVk\r\n")
    assert message_mentions(raw, JANE)
    assert message_mentions(raw.replace(b"Jane Doe <j", b"<j"), JANE)  # the text, as UTF-8



def test_on_their_referrals_even_a_first_name_goes_from_what_others_wrote() -> None:
    rows = {"referrals": [{"_rowid": 7, "id": 7, "client": "jane@gmail.com", "candidates": "[]",
                           "subject": "Intro", "names": "{}"}],
            "events": [{"_rowid": 1, "referral_id": 7, "actor": "bob@law.example",
                        "kind": "note", "detail": "Jane called me about her will"},
                       {"_rowid": 2, "referral_id": 8, "actor": "bob@law.example",
                        "kind": "note", "detail": "Jane from accounts called"}]}
    changes = {(c.table, c.rowid): c.fields for c in plan_erasure(JANE, rows)}
    assert changes[("events", 1)] == {"detail": f"{FORGOTTEN} called me about her will"}
    assert ("events", 2) not in changes  # another referral, another Jane
