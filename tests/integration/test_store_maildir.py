"""The SQLite store and the Maildir source against the real file system."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailflow.adapters.maildir_mailbox import (
    BATCH_BYTES,
    READ_AT_MOST,
    MaildirMailbox,
    ensure_maildir,
)
from mailflow.adapters.store import NewStep, Store
from mailflow.core.model import Outcome, Status

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_migrations_are_idempotent_and_wal_is_on(tmp_path: Path) -> None:
    Store(tmp_path / "m.db").close()
    store = Store(tmp_path / "m.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in store.db.execute("select name from _sqlite_migrations")]
    assert names == sorted(set(names)) and len(names) >= 3


def test_no_index_is_a_prefix_of_another(tmp_path: Path) -> None:
    """Every index is written by every insert into its table: one whose columns begin
    another (not unique, not partial) serves no query the longer one does not."""
    store = Store(tmp_path / "m.db")
    try:
        tables = [r[0] for r in store.db.execute(
            "select name from sqlite_master where type = 'table'").fetchall()]
        redundant = []
        for table in tables:
            indexes = {name: ([c[2] for c in store.db.execute(
                f"pragma index_info([{name}])").fetchall()], bool(unique), bool(partial))
                for _, name, unique, _, partial in store.db.execute(
                    f"pragma index_list([{table}])").fetchall()}
            for name, (columns, unique, partial) in indexes.items():
                if unique or partial:
                    continue
                redundant += [f"{table}.{name} begins {other}" for other, (longer, _, part)
                              in indexes.items() if other != name and not part
                              and len(longer) > len(columns)
                              and longer[:len(columns)] == columns]
        assert not redundant, redundant
    finally:
        store.close()


def test_referral_round_trip_and_due_query(tmp_path: Path) -> None:
    store = Store(tmp_path / "m.db")
    referral = store.add_referral(status=Status.OPEN, direction="given",
                                  referrer="alice@firm.example", client="jane@gmail.com",
                                  partner="bob@law.example", subject="Intro", created_at=T0,
                                  intro_message_id="i1@x", names={"jane@gmail.com": "Jane"})
    assert referral.tag == "R-1" and referral.names == {"jane@gmail.com": "Jane"}
    assert referral.created_at == T0
    store.add_steps(1, [NewStep("partner_nudge", "bob@law.example", T0 + timedelta(days=1),
                                "pending", None)])
    store.add_steps(1, [NewStep("partner_nudge", "bob@law.example", T0, "pending",
                                None)])  # duplicate ignored
    assert [r.step for r in store.due(T0 + timedelta(days=1))] == ["partner_nudge"]
    assert store.due(T0 + timedelta(hours=23)) == []
    plan = store.db.execute("explain query plan select * from outbox where status = 'pending' "
                            "and due_at <= ?", ["x"]).fetchall()
    assert any("USING INDEX" in str(row) for row in plan)
    store.update_referral(1, status=Status.CONTACTED, contacted_at=T0)
    changed = store.referral(1)
    assert changed.status is Status.CONTACTED and changed.contacted_at == T0
    with pytest.raises(KeyError):  # a referral that is not there is said, not ignored
        store.update_referral(2, status=Status.CLOSED)


def test_atomic_rolls_back_everything(tmp_path: Path) -> None:
    store = Store(tmp_path / "m.db")
    try:
        with store.atomic():
            store.record_message("m1@x", "INBOX", "1", "intro", "", None, T0)
            raise RuntimeError("crash half-way")
    except RuntimeError:
        pass
    assert store.seen_message("m1@x") is None


def test_a_whole_block_is_undone_whole_and_takes_one_savepoint(tmp_path: Path) -> None:
    from mailflow.adapters.store.base import PartlyFailed
    store = Store(tmp_path / "m.db")
    statements: list[str] = []
    try:
        with store.atomic():  # ingest's batch
            store.db.conn.set_trace_callback(statements.append)
            with store.atomic(whole=True):  # a message
                store.record_message("m1@x", "INBOX", "1", "intro", "", None, T0)
                with store.atomic(), store.atomic():  # its changes
                    store.record_message("m2@x", "INBOX", "2", "intro", "", None, T0)
            store.db.conn.set_trace_callback(None)
            with pytest.raises(RuntimeError, match="raised"), store.atomic(whole=True):
                store.record_message("m3@x", "INBOX", "3", "intro", "", None, T0)
                with store.atomic():
                    store.record_message("m4@x", "INBOX", "4", "intro", "", None, T0)
                    raise RuntimeError("raised")
            with pytest.raises(PartlyFailed), store.atomic(whole=True):
                store.record_message("m5@x", "INBOX", "5", "intro", "", None, T0)
                try:
                    with store.atomic():  # its error caught: the first write is not kept
                        store.record_message("m6@x", "INBOX", "6", "intro", "", None, T0)
                        raise RuntimeError("caught")
                except RuntimeError:
                    pass
            with store.atomic():  # an ordinary block again: a savepoint of its own
                statements.append("after")
                store.db.conn.set_trace_callback(statements.append)
                store.record_message("m7@x", "INBOX", "7", "intro", "", None, T0)
            store.db.conn.set_trace_callback(None)
        assert [s.split()[0] for s in statements] == [
            "SAVEPOINT", "insert", "insert", "RELEASE", "after", "insert", "RELEASE"]
        assert [m for m in ("m1@x", "m2@x", "m3@x", "m4@x", "m5@x", "m6@x", "m7@x")
                if store.seen_message(m)] == ["m1@x", "m2@x", "m7@x"]
    finally:
        store.close()


def test_a_partners_not_is_remembered_until_someone_else_writes(tmp_path: Path) -> None:
    store, other = Store(tmp_path / "m.db"), Store(tmp_path / "m.db")
    statements: list[str] = []
    try:
        with store.atomic():
            store.save_profile("bob@law.example", "tax", "litigation", T0)
            assert store.avoid_of(["bob@law.example", "amy@x.example"]) == {
                "bob@law.example": "litigation"}
            store.db.conn.set_trace_callback(statements.append)
            assert store.avoid_of(["amy@x.example", "bob@law.example"]) == {
                "bob@law.example": "litigation"}
            store.db.conn.set_trace_callback(None)
        assert statements == []  # remembered, in the same transaction
        with store.atomic():
            store.db.conn.set_trace_callback(statements.append)
            assert store.avoid_of(["bob@law.example"]) == {"bob@law.example": "litigation"}
            store.db.conn.set_trace_callback(None)
        assert [s.split()[0] for s in statements] == ["PRAGMA"]  # nobody else wrote
        with other.atomic():  # the web view, say
            other.save_profile("amy@x.example", "", "payroll", T0)
        with store.atomic():
            assert store.avoid_of(["amy@x.example"]) == {"amy@x.example": "payroll"}
        with pytest.raises(RuntimeError), store.atomic():
            store.save_profile("amy@x.example", "", "audits", T0)
            assert store.avoid_of(["amy@x.example"]) == {"amy@x.example": "audits"}
            raise RuntimeError("rolled back")
        assert store.avoid_of(["amy@x.example"]) == {"amy@x.example": "payroll"}
    finally:
        store.close()
        other.close()


def _drop(path: Path, name: str, body: bytes) -> None:
    (path / "new" / name).write_bytes(body)


def test_maildir_fetch_and_move(tmp_path: Path) -> None:
    ensure_maildir(tmp_path)
    for n in range(5):
        _drop(tmp_path, f"{n}.msg", f"Subject: {n}\r\n\r\nbody\r\n".encode())
    box = MaildirMailbox(tmp_path)
    batches = list(box.fetch_new(None, 2))
    assert [len(b) for b in batches] == [2, 2, 1]
    keys = [m.key for b in batches for m in b]
    box.move(keys[:3], "mailflow/processed")
    left = [m for b in box.fetch_new(None, 10) for m in b]
    assert len(left) == 2
    moved = list((tmp_path / ".mailflow.processed" / "cur").iterdir())
    assert len(moved) == 3
    assert sum(1 for _ in tmp_path.rglob("*.msg*")) == 5  # nothing deleted


def test_a_huge_maildir_file_is_read_in_part_and_batches_hold_a_bounded_size(
        tmp_path: Path) -> None:
    """A file is read up to READ_AT_MOST (parsing keeps less), and a batch stops short
    of BATCH_BYTES: 200 files of 50 MB each were read whole into one batch, 10 GB."""
    ensure_maildir(tmp_path)
    huge = b"Subject: huge\r\n\r\n" + b"x" * (READ_AT_MOST + 10)
    _drop(tmp_path, "0.msg", huge)
    for n in range(1, 6):
        _drop(tmp_path, f"{n}.msg", f"Subject: {n}\r\n\r\n".encode() + b"y" * 100_000)
    box = MaildirMailbox(tmp_path)
    fetched = [m for batch in box.fetch_new(None, 200) for m in batch]
    assert fetched[0].raw == huge[:READ_AT_MOST]
    assert [m.parts_omitted for m in fetched] == [True] + [False] * 5
    assert [m.key for m in fetched] == [f"new/{n}.msg" for n in range(6)]
    assert sum(len(m.raw) for m in fetched) < BATCH_BYTES
    assert len(list(box.fetch_new(None, 200))) == 1  # so all six make one batch


def test_maildir_batches_are_cut_by_size_as_by_count(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailflow.adapters import maildir_mailbox

    monkeypatch.setattr(maildir_mailbox, "BATCH_BYTES", 250)
    ensure_maildir(tmp_path)
    for n, size in enumerate([100, 100, 100, 400, 10, 10, 10, 10]):
        _drop(tmp_path, f"{n}.msg", b"S: x\r\n\r\n".ljust(size, b"z"))
    box = MaildirMailbox(tmp_path)
    sizes = [[len(m.raw) for m in batch] for batch in box.fetch_new(None, 3)]
    # by size: 100+100 (a third would pass 250); a 400 alone; then by count, three
    assert sizes == [[100, 100], [100], [400], [10, 10, 10], [10]]


def test_what_a_rollback_undid_is_written_again(tmp_path: Path) -> None:
    """Names and digest clocks are written once per process; a rollback must not leave
    the store believing it wrote what was undone."""
    store = Store(tmp_path / "m.db")
    with store.atomic():
        store.remember_names({"jane@gmail.com": "Jane"})
        store.first_seen("alice@firm.example", T0)
        try:
            with store.atomic():  # one message's savepoint, then its failure
                store.remember_names({"jane@gmail.com": "Jane Doe", "bob@law.example": "Bob"})
                store.first_seen("carol@firm.example", T0)
                raise RuntimeError("the handler failed")
        except RuntimeError:
            pass
        store.remember_names({"jane@gmail.com": "Jane Doe", "bob@law.example": "Bob"})
        store.first_seen("carol@firm.example", T0 + timedelta(days=1))
    assert store.contact("jane@gmail.com")["name"] == "Jane Doe"
    assert store.contact("bob@law.example")["name"] == "Bob"
    assert store.meta("digest:carol@firm.example") is not None
    store.remember_names({"jane@gmail.com": "Jane"})  # a later intro's name still counts
    assert store.contact("jane@gmail.com")["name"] == "Jane"
    store.close()


def test_a_commit_that_fails_is_rolled_back_and_forgotten(tmp_path: Path) -> None:
    """A COMMIT can fail (a full disk; here a deferred constraint): nothing of the
    transaction stays open or remembered as written."""
    store = Store(tmp_path / "m.db")
    store.db.execute("PRAGMA foreign_keys = ON")
    store.db.execute("create table checked (referral_id integer references referrals(id) "
                     "deferrable initially deferred)")
    rollbacks = store.rollbacks
    with pytest.raises(sqlite3.IntegrityError), store.atomic():
        store.remember_names({"jane@gmail.com": "Jane"})
        store.db.execute("insert into checked values (999)")  # fails only at COMMIT
    assert not store.db.conn.in_transaction and store.rollbacks == rollbacks + 1
    assert store.contact("jane@gmail.com")["name"] == ""  # not stored
    store.remember_names({"jane@gmail.com": "Jane"})
    assert store.contact("jane@gmail.com")["name"] == "Jane"
    store.close()


_MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)),
                                                   timezone(timedelta(hours=5, minutes=30))]))
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_EMAIL = st.from_regex(r"[a-z]{1,6}@[a-z]{1,6}\.example", fullmatch=True)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(status=st.sampled_from(Status), direction=st.sampled_from(["given", "received"]),
       client=st.none() | _EMAIL, partner=st.none() | _EMAIL, subject=_TEXT,
       created_at=_MOMENTS, context=_TEXT, candidates=st.lists(_EMAIL, max_size=3),
       names=st.dictionaries(_EMAIL, _TEXT, max_size=3), history=st.booleans(),
       extra=st.fixed_dictionaries({}, optional={
           "contacted_at": _MOMENTS, "closed_at": _MOMENTS, "plan_from": _MOMENTS,
           "snoozed_until": _MOMENTS, "outcome": st.sampled_from(Outcome),
           "rating": st.integers(1, 5)}))
def test_a_new_referral_is_what_the_store_then_reads(
        tmp_path: Path, status: Status, direction: str, client: str | None,
        partner: str | None, subject: str, created_at: datetime, context: str,
        candidates: list[str], names: dict[str, str], history: bool,
        extra: dict[str, object]) -> None:
    """add_referral makes its answer without reading the row back: it must be the row."""
    store = Store(tmp_path / f"{uuid.uuid4().hex}.db")
    try:
        made = store.add_referral(status=status, direction=direction,
                                  referrer="alice@firm.example", client=client,
                                  partner=partner, subject=subject, created_at=created_at,
                                  intro_message_id="i@x", context=context,
                                  candidates=candidates, names=names, history=history,
                                  **extra)
        assert made == store.referral(made.id)
    finally:
        store.close()
