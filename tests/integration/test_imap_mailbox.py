"""The IMAP adapter against a real Dovecot."""

from __future__ import annotations

import email
import logging
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mailflow.adapters.imap_mailbox import ImapMailbox
from mailflow.adapters.mailbox import FetchedMessage
from mailflow.adapters.store import Store
from mailflow.app.parse_ahead import ParsePool
from mailflow.config import Config, parse_config
from mailflow.errors import MailboxError
from tests.integration.dovecot_server import DovecotServer, ImapAccount, account, free_port

pytestmark = pytest.mark.dovecot


def message(n: int, extra: bytes = b"") -> bytes:
    return (f"From: Alice <alice@firm.example>\r\nTo: bob@law.example\r\n"
            f"Subject: message {n}\r\nMessage-ID: <m{n}@firm.example>\r\n"
            f"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\n").encode() + extra + \
        b"\r\nHello " + str(n).encode() + b"\r\n"


def big_message() -> bytes:
    attachment = os.urandom(3 * 1024 * 1024).hex()[: 4 * 1024 * 1024]
    lines = "\r\n".join(attachment[i:i + 76] for i in range(0, len(attachment), 76))
    return ("From: Alice <alice@firm.example>\r\nTo: bob@law.example\r\n"
            "Subject: big one\r\nMessage-ID: <big@firm.example>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
            "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\nPlease see the attached, "
            "done=3F\r\n--XX\r\nContent-Type: application/octet-stream\r\n"
            'Content-Disposition: attachment; filename="scan.bin"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n" + lines + "\r\n--XX--\r\n").encode()


def connect(account: ImapAccount, folder: str = "INBOX") -> ImapMailbox:
    return ImapMailbox.connect(account.host, account.port, "none", account.username,
                               account.password, folder)


def test_incremental_fetch_by_uid(imap_account: ImapAccount) -> None:
    for n in range(3):
        imap_account.deliver(message(n))
    box = connect(imap_account)
    try:
        first = [m for batch in box.fetch_new(None, 10) for m in batch]
        assert [m.raw for m in first] == [message(n) for n in range(3)]
        last = first[-1].cursor
        assert last == f"{box.uidvalidity()}:{first[-1].key}"
        assert list(box.fetch_new(last, 10)) == []  # the "n:*" pitfall
        for n in range(3, 5):
            imap_account.deliver(message(n))
        box.select()
        newer = [m for batch in box.fetch_new(last, 10) for m in batch]
        assert [email.message_from_bytes(m.raw)["Subject"] for m in newer] == \
            ["message 3", "message 4"]
        assert isinstance(box.uidvalidity(), int) and box.uidvalidity() > 0
    finally:
        box.close()


def test_batches(imap_account: ImapAccount) -> None:
    for n in range(5):
        imap_account.deliver(message(n))
    box = connect(imap_account)
    try:
        assert [len(b) for b in box.fetch_after(0, 2)] == [2, 2, 1]
    finally:
        box.close()


def fetched_from(box: ImapMailbox) -> list[FetchedMessage]:
    """Everything in the folder, fetched as ingest's batches fetch it; the box closed."""
    try:
        return [m for batch in box.fetch_after(0, 10) for m in batch]
    finally:
        box.close()


def test_large_message_fetches_text_parts_only(imap_account: ImapAccount) -> None:
    imap_account.deliver(big_message())
    (fetched,) = fetched_from(connect(imap_account))
    assert fetched.parts_omitted
    assert len(fetched.raw) < 100_000
    parsed = email.message_from_bytes(fetched.raw)
    assert parsed["Subject"] == "big one"
    texts = [p for p in parsed.walk() if p.get_content_type() == "text/plain"]
    payload = texts[0].get_payload(decode=True)
    assert isinstance(payload, bytes) and b"done?" in payload


def large_with_parts(parts: int, part_size: int) -> bytes:
    body = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i} {'x' * part_size}\r\n"
                   for i in range(parts))
    return ("From: Eve <eve@evil.example>\r\nTo: referrals@firm.example\r\n"
            "Subject: many parts\r\nMessage-ID: <many@evil.example>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + body + "--b--\r\n").encode()


def test_a_large_message_of_thousands_of_text_parts_stops_nothing(
        imap_account: ImapAccount, tmp_path: Path) -> None:
    """Their sections once made one FETCH line Dovecot refused ("command line too
    large"): the whole cycle failed, and every cycle after it, on one stranger's mail."""
    from datetime import UTC, datetime

    from mailflow.app.ingest import ingest
    from mailflow.app.wiring import build_app, folders_of

    imap_account.deliver(large_with_parts(5000, 60))  # 520 KB: fetched part by part
    imap_account.deliver(message(1))
    config = imap_config(imap_account, tmp_path)
    app = build_app(config)
    box = connect(imap_account)
    try:
        report = ingest(box, app.handler, folders_of(config),
                        datetime(2026, 11, 23, 10, tzinfo=UTC))
        assert report.fetched == 2
        assert sorted(m["message_id"] for m in app.store.messages()) == [
            "m1@firm.example", "many@evil.example"]
        assert list(box.fetch_new(None, 100)) == []  # both moved on
    finally:
        box.close()
        app.close()


def test_a_huge_text_part_is_fetched_cut_to_what_parsing_reads(
        imap_account: ImapAccount) -> None:
    from mailflow.adapters.imap_mailbox import TEXT_PART_BYTES

    imap_account.deliver(large_with_parts(1, 3 * 1024 * 1024))
    (fetched,) = fetched_from(connect(imap_account))
    assert fetched.parts_omitted
    assert TEXT_PART_BYTES <= len(fetched.raw) < TEXT_PART_BYTES + 4096
    assert email.message_from_bytes(fetched.raw)["Subject"] == "many parts"


def test_a_batch_holds_a_bounded_number_of_large_messages(
        imap_account: ImapAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each large one can bring megabytes of text parts: 200 in one batch could be 1 GB."""
    from mailflow.adapters import imap_mailbox

    monkeypatch.setattr(imap_mailbox, "LARGE_PER_BATCH", 2)
    for n in range(6):
        imap_account.deliver(large_with_parts(1, 300_000) if n in (0, 2, 3, 4) else message(n))
    box = connect(imap_account)
    try:
        shapes = [(len(b.uids), len(b.large)) for b in box.batches_after(0, 200)]
    finally:
        box.close()
    assert shapes == [(3, 2), (3, 2)]  # large, small, large | large, large, small


@pytest.mark.parametrize("refused", ["BODYSTRUCTURE", ".MIME]"])
def test_a_large_message_the_server_will_not_give_in_parts_is_read_by_its_headers(
        imap_account: ImapAccount, refused: str) -> None:
    """A structure imapclient cannot parse, or a refused FETCH of its parts, once failed
    the whole batch, and so every cycle; now only that message is read in less."""
    from imapclient.exceptions import IMAPClientError

    imap_account.deliver(big_message())
    imap_account.deliver(message(1))
    box = connect(imap_account)
    real_fetch = box.client.fetch

    def refusing(uids, items, *args, **kwargs):  # type: ignore[no-untyped-def]
        if any(refused in str(item) for item in items):
            raise IMAPClientError("FETCH command error: BAD [b'as a server may']")
        return real_fetch(uids, items, *args, **kwargs)

    box.client.fetch = refusing  # type: ignore[method-assign]
    big, small = fetched_from(box)
    assert big.parts_omitted and b"Please see the attached" not in big.raw  # headers only
    assert email.message_from_bytes(big.raw)["Subject"] == "big one"
    assert not small.parts_omitted and b"Hello 1" in small.raw


def test_fetch_does_not_mark_seen_and_move_keeps_everything(imap_account: ImapAccount) -> None:
    for n in range(3):
        imap_account.deliver(message(n))
    box = connect(imap_account)
    try:
        fetched = [m for batch in box.fetch_after(0, 10) for m in batch]
        client = imap_account.client()
        client.select_folder("INBOX")
        assert client.search(["SEEN"]) == []
        client.logout()
        box.move([m.key for m in fetched[:2]], "mailflow/processed")
    finally:
        box.close()
    client = imap_account.client()
    try:
        assert len(client.select_folder("INBOX", readonly=True) and client.search()) == 1
        client.select_folder("mailflow.processed", readonly=True)  # Dovecot uses "."
        assert len(client.search()) == 2
    finally:
        client.logout()


def test_wrong_password_is_one_clear_line(imap_account: ImapAccount) -> None:
    with pytest.raises(MailboxError, match="wrong username or password"):
        ImapMailbox.connect(imap_account.host, imap_account.port, "none",
                            imap_account.username, "not-the-password", "INBOX")


def test_closed_port_is_connection_refused() -> None:
    with pytest.raises(MailboxError, match="connection refused"):
        ImapMailbox.connect("127.0.0.1", free_port(), "none", "x", "y", "INBOX", timeout=5)


def test_missing_folder_names_it(imap_account: ImapAccount) -> None:
    with pytest.raises(MailboxError, match="folder Referrals does not exist"):
        connect(imap_account, "Referrals")


def test_starttls_not_offered_never_falls_back(imap_account: ImapAccount) -> None:
    with pytest.raises(MailboxError, match="TLS failed"):
        ImapMailbox.connect(imap_account.host, imap_account.port, "starttls",
                            imap_account.username, imap_account.password, "INBOX", timeout=5)


def test_idle_wakes_on_new_mail(imap_account: ImapAccount) -> None:
    box = connect(imap_account)
    try:
        assert box.push_ready()
        assert box.idle_wait(1.0) is False
        timer = threading.Timer(0.5, imap_account.deliver, [message(9)])
        timer.start()
        started = time.monotonic()
        woke = box.idle_wait(15.0)
        timer.join()
        assert woke and time.monotonic() - started < 15.0
    finally:
        box.close()


def test_uidvalidity_change_rescans_without_duplicates(imap_account: ImapAccount,
                                                        tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from mailflow.app.ingest import ingest
    from mailflow.app.wiring import build_app, folders_of
    from mailflow.config import parse_config

    for n in range(3):
        imap_account.deliver(message(n, b"Cc: referrals@firm.example\r\n"))
    config = parse_config({"tracker": "referrals@firm.example", "outbox_dir": "o",
                           "referrers": ["*@firm.example"],
                           "imap": {"host": imap_account.host, "port": imap_account.port,
                                    "tls": "none", "username": imap_account.username,
                                    "password": imap_account.password,
                                    "processed_folder": False}}, tmp_path / "m.yaml")
    app = build_app(config)
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    box = connect(imap_account)
    try:
        first = ingest(box, app.handler, folders_of(config), now)
        assert first.fetched == 3
        real = box.uidvalidity()
        app.store.set_cursor("INBOX", f"{real + 1}:999")  # as if the folder had been rebuilt
        again = ingest(box, app.handler, folders_of(config), now)
        assert again.fetched == 3 and again.duplicates == 3
        assert app.store.cursor("INBOX") == f"{real}:{first_uid_max(box)}"
    finally:
        box.close()
        app.close()


def imap_config(account: ImapAccount, tmp_path: Path) -> Config:
    return parse_config({"tracker": "referrals@firm.example", "outbox_dir": "o",
                         "referrers": ["*@firm.example"], "database": "m.db",
                         "imap": {"host": account.host, "port": account.port, "tls": "none",
                                  "username": account.username,
                                  "password": account.password}}, tmp_path / "m.yaml")


def first_uid_max(box: ImapMailbox) -> int:
    return max(int(m.key) for batch in box.fetch_after(0, 100) for m in batch)


def test_crash_half_way_resumes_without_duplicates(imap_account: ImapAccount,
                                                   tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from mailflow.app.ingest import ingest
    from mailflow.app.wiring import build_app, folders_of

    for n in range(10):
        imap_account.deliver(message(n, b"Cc: referrals@firm.example\r\n")
                             .replace(b"To: bob@law.example", b"To: bob@law.example, "
                                      b"c" + str(n).encode() + b"@x.example"))
    config = imap_config(imap_account, tmp_path)
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    app = build_app(config)
    handler = app.handler
    real = handler.handle_reading
    calls = {"n": 0}

    def dies_on_the_sixth(reading, at):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt("power cut")  # not caught by the per-message guard
        return real(reading, at)

    handler.handle_reading = dies_on_the_sixth  # type: ignore[method-assign]
    box = connect(imap_account)
    with pytest.raises(KeyboardInterrupt):
        ingest(box, handler, folders_of(config), now, batch_size=4)
    box.close()
    app.close()
    app = build_app(config)  # a fresh process after the crash
    box = connect(imap_account)
    try:
        ingest(box, app.handler, folders_of(config), now, batch_size=4)
        assert len(app.store.referrals()) == 10
        assert len(app.store.messages("intro")) == 10
    finally:
        box.close()
        app.close()


def test_tls_certificates_are_verified(dovecot_tls: DovecotServer) -> None:
    user = account(dovecot_tls, 1)
    assert dovecot_tls.tls_port is not None and dovecot_tls.certificate is not None
    for tls, port in (("ssl", dovecot_tls.tls_port), ("starttls", dovecot_tls.port)):
        untrusted = r"TLS failed .*certificate verify failed: self.signed certificate"
        with pytest.raises(MailboxError, match=untrusted):
            ImapMailbox.connect(user.host, port, tls, user.username, user.password, "INBOX",
                                timeout=10)
        trusted = ImapMailbox.connect(user.host, port, tls, user.username, user.password,
                                      "INBOX", ca_file=dovecot_tls.certificate, timeout=10)
        assert trusted.uidvalidity() > 0
        trusted.close()


def test_uid_sets_are_compact_and_fit_a_command_line() -> None:
    from mailflow.adapters.imap_mailbox import uid_sets

    assert uid_sets([7, 1, 2, 3, 5, 8, 8]) == ["1:3,5,7:8"]
    assert uid_sets([]) == []
    scattered = uid_sets(list(range(1, 100_000, 2)))
    assert max(len(s) for s in scattered) < 4000
    assert sorted(int(u) for s in scattered for u in s.split(",")) == list(range(1, 100_000, 2))


def test_a_backlog_is_moved_in_a_few_commands_then_the_cursor_follows(
        imap_account: ImapAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A MOVE costs the server time in proportion to the folder: one per batch was
    quadratic on a 100k backlog. Moves are gathered, doubling, and the cursor waits."""
    from datetime import UTC, datetime

    from mailflow.app import ingest as ingest_module
    from mailflow.app.wiring import build_app, folders_of

    for n in range(40):
        imap_account.deliver(message(n))
    config = imap_config(imap_account, tmp_path)
    monkeypatch.setattr(ingest_module.PendingMoves, "AT_LEAST", 4)
    app = build_app(config)
    box = connect(imap_account)
    moved: list[int] = []
    uids: list[int] = []
    real_move = box.move
    beside = Store(config.database)  # its own connection: moves run in a thread of their own

    def counting(keys, destination):  # type: ignore[no-untyped-def]
        moved.append(len(keys))
        uids.extend(int(k) for k in keys)
        cursor_then = beside.cursor("INBOX")
        assert cursor_then is None or int(cursor_then.split(":")[1]) < int(min(keys, key=int))
        return real_move(keys, destination)

    box.move = counting  # type: ignore[method-assign]
    try:
        # every batch fetched here: none is fetched ahead, so no early move (tested apart)
        ingest_module.ingest(box, app.handler, folders_of(config),
                             datetime(2026, 11, 23, 10, tzinfo=UTC), batch_size=4,
                             pool=ParsePool(broken=True))
        assert moved == [4, 4, 8, 16, 8]  # ten batches, five moves
        # one untagged EXPUNGE per moved message, kept by imaplib until dropped
        assert "EXPUNGE" not in box.client._imap.untagged_responses
        assert list(box.fetch_new(None, 100)) == []  # the inbox is empty
        assert app.store.cursor("INBOX") == f"{box.uidvalidity()}:{max(uids)}"
    finally:
        box.close()
        app.close()
        beside.close()



def test_a_move_that_fails_in_its_thread_stops_the_run_and_loses_nothing(
        imap_account: ImapAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Moves run beside the handling of the next batches; one that fails is raised from
    ingest, the cursor stays behind it, and the next run only moves what was recorded."""
    from datetime import UTC, datetime

    from mailflow.app import ingest as ingest_module
    from mailflow.app.wiring import build_app, folders_of

    for n in range(12):
        imap_account.deliver(message(n))
    config = imap_config(imap_account, tmp_path)
    monkeypatch.setattr(ingest_module.PendingMoves, "AT_LEAST", 4)
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    app = build_app(config)
    box = connect(imap_account)
    real_move = box.move
    calls = {"n": 0}

    def fails_the_second_time(keys, destination):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise MailboxError("cannot move messages to Processed: the server went away")
        return real_move(keys, destination)

    box.move = fails_the_second_time  # type: ignore[method-assign]
    try:
        with pytest.raises(MailboxError, match="server went away"):
            ingest_module.ingest(box, app.handler, folders_of(config), now, batch_size=4)
        cursor = app.store.cursor("INBOX")
        assert cursor is not None and int(cursor.split(":")[1]) <= 4  # only the first move
        box.move = real_move  # type: ignore[method-assign]
        again = ingest_module.ingest(box, app.handler, folders_of(config), now, batch_size=4)
        assert again.duplicates == again.fetched > 0  # recorded before: only moved now
        assert len(app.store.messages()) == 12  # each recorded once
        assert list(box.fetch_new(None, 100)) == []  # the inbox is empty
    finally:
        box.close()
        app.close()


def backlog_messages() -> list[bytes]:
    """Ten messages: replies-to-be, a large one (text parts only) and one without a
    From (quarantined)."""
    raws = [message(n, b"Cc: referrals@firm.example\r\n") for n in range(10)]
    raws[5] = big_message()
    raws[7] = b"To: bob@law.example\r\nSubject: no sender\r\n\r\nwho sent this?\r\n"
    return raws


def backlog_with_a_worker(account: ImapAccount, tmp_path: Path, password: str | None = None,
                          folder: str = "INBOX", overlap: bool = True
                          ) -> tuple[int, ParsePool, list[tuple[str, str, str]]]:
    """The backlog in batches of two, the worker started (with `overlap`), logging in
    with `password` (default: the right one): (fetched, pool, records)."""
    from datetime import UTC, datetime

    from mailflow.app.ingest import ingest
    from mailflow.app.wiring import build_app, folders_of

    for raw in backlog_messages():
        account.deliver(raw, folder)
    tmp_path.mkdir(exist_ok=True)
    config = imap_config(account, tmp_path)
    app = build_app(config)
    box = connect(account, folder)
    if password is not None:
        assert box.access is not None
        box.access = replace(box.access, password=password)
    pool = ParsePool()
    assert pool.start()
    try:
        report = ingest(box, app.handler, folders_of(config),
                        datetime(2026, 11, 23, 10, tzinfo=UTC), batch_size=2,
                        overlap=overlap, pool=pool)
        records = sorted((m["message_id"], m["kind"], m["reason"])
                         for m in app.store.messages())
        return report.fetched, pool, records
    finally:
        pool.close()
        box.close()
        app.close()


def test_the_parsing_process_fetches_a_backlog_on_a_connection_of_its_own(
        imap_account: ImapAccount, tmp_path: Path) -> None:
    fetched, pool, records = backlog_with_a_worker(imap_account, tmp_path / "workers")
    assert fetched == 10 and len(records) == 10
    assert pool.fetched_elsewhere == 4 and pool.fetches  # all batches but the first
    # the same mail, all fetched and parsed in this process, is recorded the same way
    _, serial, expected = backlog_with_a_worker(imap_account, tmp_path / "serial",
                                                folder="Serial", overlap=False)
    assert serial.fetched_elsewhere == 0
    assert records == expected
    assert [kind for _, kind, _ in records].count("quarantined") == 1


class Said(logging.Handler):
    """What a logger said (caplog misses it once logs.setup stopped propagation)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_worker_that_cannot_log_in_leaves_the_fetching_to_this_process(
        imap_account: ImapAccount, tmp_path: Path) -> None:
    said = Said()
    logging.getLogger("mailflow.app.parse_ahead").addHandler(said)
    try:
        fetched, pool, records = backlog_with_a_worker(imap_account, tmp_path,
                                                       "not the password")
    finally:
        logging.getLogger("mailflow.app.parse_ahead").removeHandler(said)
    assert fetched == 10 and len(records) == 10  # nothing lost, nothing twice
    assert pool.fetched_elsewhere == 0 and not pool.fetches and not pool.broken
    said_all = "\n".join(said.lines)
    assert "could not fetch a batch (MailboxError: IMAP login failed" in said_all
    assert said_all.count("could not fetch a batch") == 1  # not once per batch in flight
    assert "not the password" not in said_all


def test_the_protocol_is_logged_only_when_someone_would_read_it(
        imap_account: ImapAccount) -> None:
    """imaplib formats every line for imapclient's debug logger (a third of a fetch's CPU):
    it is left on only when that logger would show them."""
    imap_account.deliver(message(1))
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    protocol = logging.getLogger("imapclient.imaplib")
    keep = Keep()
    protocol.addHandler(keep)
    level = protocol.level
    try:
        quiet = connect(imap_account)
        assert quiet.client._imap.debug == 0
        assert [m.raw for b in quiet.fetch_new(None, 10) for m in b] == [message(1)]
        quiet.close()
        assert lines == []
        protocol.setLevel(logging.DEBUG)
        told = connect(imap_account)
        assert [m.raw for b in told.fetch_new(None, 10) for m in b] == [message(1)]
        told.close()
        assert any("FETCH" in line for line in lines)  # each command and answer, as before
        assert not any("pw-" in line for line in lines)  # the password redacted, as before
    finally:
        protocol.removeHandler(keep)
        protocol.setLevel(level)
