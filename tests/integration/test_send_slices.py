"""A large send goes in slices of whole recipients, and sends what one slice would."""

from __future__ import annotations

import email
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailflow.adapters.file_mailer import FileMailer
from mailflow.adapters.mailer import OnResult
from mailflow.adapters.store import OutboxRow, to_db
from mailflow.app import dispatch
from mailflow.app.dispatch import slices_of
from mailflow.app.wiring import build_app
from mailflow.config import parse_config
from mailflow.core.outgoing import OutgoingEmail, SendResult
from mailflow.errors import SendError

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)  # a Tuesday, inside business hours
PARTNERS = [f"p{n}@firm{n}.example" for n in range(6)]
USED = {PARTNERS[n * n % len(PARTNERS)] for n in range(1, 26)}  # 4 of them, 2 to 9 rows each


def test_a_slice_takes_whole_recipients_and_at_least_one() -> None:
    due = list(enumerate("abacbdca"))  # (id, recipient) in due order
    assert slices_of(due, 5) == [[0, 2, 7, 1, 4], [3, 6, 5]]  # a and b; c would make 7
    assert slices_of(due, 1) == [[0, 2, 7], [1, 4], [3, 6], [5]]  # more than 1: alone
    assert slices_of(due, 100) == [[0, 2, 7, 1, 4, 3, 6, 5]]
    assert slices_of([], 5) == []


class FailsAfterFirstBatch(FileMailer):
    """The directory outbox, unusable from its second batch on (a server gone away)."""

    batches = 0

    def send_batch(self, emails: Sequence[OutgoingEmail],
                   on_result: OnResult | None = None) -> list[SendResult]:
        self.batches += 1
        if self.batches > 1:
            raise SendError("cannot connect to smtp.example:587: connection refused")
        return super().send_batch(emails, on_result)


def send(tmp_path: Path, slice_rows: int, monkeypatch: pytest.MonkeyPatch,
         now: datetime = NOW, reads_at_least: int = 1, failing: bool = False
         ) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """Each row's status and step, and the emails as their subjects' referral tags, in
    the order sent, after one send at `now` with slices of `slice_rows` (at least
    `reads_at_least` slices read)."""
    monkeypatch.setattr(dispatch, "SLICE_ROWS", slice_rows)
    tmp_path.mkdir()
    config = parse_config({"tracker": "referrals@firm.example", "database": "m.db",
                           "referrers": ["*@firm.example"], "outbox_dir": "outbox",
                           "maildir": "mail"}, tmp_path / "mailflow.yaml")
    app = build_app(config, FailsAfterFirstBatch(tmp_path / "outbox") if failing else None)
    created = to_db(NOW - timedelta(days=3))
    with app.store.atomic():
        for n in range(1, 26):
            partner = PARTNERS[n * n % len(PARTNERS)]
            app.store.db.conn.execute(
                "insert into referrals (id, status, direction, referrer, client, partner, "
                "subject, created_at, intro_message_id, context, candidates, names) values "
                "(?, 'open', 'given', 'alice@firm.example', ?, ?, ?, ?, ?, '', '[]', '{}')",
                (n, f"c{n}@mail.example", partner, f"Intro {n}", created, f"i{n}@firm.example"))
            app.store.db.conn.execute(
                "insert into outbox (referral_id, step, recipient, due_at, status, attempts) "
                "values (?, 'partner_nudge', ?, ?, 'pending', 0)",
                (n, partner, to_db(NOW - timedelta(minutes=n))))
    reads = 0
    taken: set[str] = set()
    still_due = app.store.still_due

    def counted(ids: Sequence[int], at: datetime) -> list[OutboxRow]:
        nonlocal reads
        reads += 1
        rows = still_due(ids, at)
        assert not taken & {r.recipient for r in rows}, "a recipient's rows were taken twice"
        taken.update(r.recipient for r in rows)
        return rows

    monkeypatch.setattr(app.store, "still_due", counted)
    report = app.dispatcher().send_due(now)
    assert reads >= reads_at_least
    statuses = [(s, step) for s, step in app.store.db.conn.execute(
        "select status, step from outbox order by id")]
    app.close()
    outbox = tmp_path / "outbox"
    sent = sorted(outbox.iterdir() if outbox.exists() else [], key=lambda p: p.stat().st_mtime_ns)
    subjects = [email.message_from_bytes(p.read_bytes())["Subject"] for p in sent]
    assert len(subjects) == len(report.sent)
    return statuses, [sorted(s.split()) for s in subjects]


def test_slices_send_what_one_send_would(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    whole = send(tmp_path / "whole", 10_000, monkeypatch)
    sliced = send(tmp_path / "sliced", 4, monkeypatch, reads_at_least=3)
    assert sorted(whole[1]) == sorted(sliced[1]) and whole[0] == sliced[0]
    assert len(whole[1]) == len(USED)  # one combined email each
    assert {s for s, _ in whole[0]} == {"sent"}


def test_rows_left_due_are_not_taken_again(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """At night every row waits for business hours and stays due: each recipient's rows
    are chosen once a send all the same, and the send ends."""
    statuses, emails = send(tmp_path / "night", 4, monkeypatch, NOW.replace(hour=23))
    assert emails == [] and {s for s, _ in statuses} == {"pending"}


def test_a_mailer_gone_after_a_slice_stops_the_send_and_keeps_what_went(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the first slice sent is on record and reported; the rest stays due."""
    statuses, emails = send(tmp_path / "gone", 4, monkeypatch, failing=True)
    assert 0 < len(emails) < len(USED)  # the first slice's, and no other
    assert {s for s, _ in statuses} == {"sent", "pending"}


class FailsAtOnce(FailsAfterFirstBatch):
    """The directory outbox, unusable from the start."""

    batches = 1


def test_a_mailer_gone_before_the_first_slice_fails_the_send(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "FailsAfterFirstBatch", FailsAtOnce)
    with pytest.raises(SendError):
        send(tmp_path / "gone", 4, monkeypatch, failing=True)


def test_a_send_of_some_kinds_leaves_the_others_due(tmp_path: Path) -> None:
    config = parse_config({"tracker": "referrals@firm.example", "database": "m.db",
                           "referrers": ["*@firm.example"], "outbox_dir": "outbox",
                           "maildir": "mail"}, tmp_path / "mailflow.yaml")
    app = build_app(config)
    with app.store.atomic():
        app.store.add_outbox(None, "signin", "alice@firm.example", NOW, kind="signin",
                             payload='{"subject": "Sign in", "text": "a link"}',
                             message_id="s1@firm.example")
    report = app.dispatcher().send_due(NOW, kinds=frozenset({"step", "notice"}))
    assert report.sent == [] and [r.kind for r in app.store.due(NOW)] == ["signin"]
    assert len(app.dispatcher().send_due(NOW).sent) == 1  # the web view's sender sends it
    app.close()
