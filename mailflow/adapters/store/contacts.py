"""People: names, bounces, stops, out-of-office pauses, and the partner directory."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mailflow.adapters.store.base import (
    StoreBase,
    _assignments,
    _chunks,
    _json,
    _marks,
    from_db,
    to_db,
)
from mailflow.adapters.store.rows import (
    PartnerChange,
    PartnerRecord,
    _partner,
    said_stop,
)
from mailflow.core.privacy import opt_out_hash


class ContactTables(StoreBase):
    """People: names, bounces, stops, out-of-office pauses, and the partner directory."""

    # contacts and opt-outs ------------------------------------------------
    def remember_names(self, names: dict[str, str]) -> None:
        changed = [(email, name) for email, name in names.items()
                   if self._names_written.get(email) != name]
        if not changed:
            return
        if len(self._names_written) > 100_000:  # a bound on memory, not on correctness
            self._names_written.clear()
        self._names_written.update(changed)
        self.db.conn.executemany(
            "insert into contacts (email, name) values (?, ?) "
            "on conflict(email) do update set name = excluded.name "
            "where name is not excluded.name", changed)  # unchanged: not rewritten

    def set_language(self, email: str, language: str | None, by_hand: bool) -> None:
        """A person's language: learned from their mail, or set by hand (which wins)."""
        column = "language_set" if by_hand else "language_learned"
        self.db.execute(f"insert into contacts (email, {column}) values (?, ?) "
                        f"on conflict(email) do update set {column} = excluded.{column} "
                        f"where {column} is not excluded.{column}", [email, language])

    def save_profile(self, email: str, ideal: str, avoid: str, at: datetime) -> None:
        """What a partner said makes a good referral for them; the latest replaces older."""
        self._avoid_said.pop(email, None)
        self.db.execute("insert into partner_profiles (email, ideal, avoid, at) values "
                        "(?, ?, ?, ?) on conflict(email) do update set ideal = excluded.ideal, "
                        "avoid = excluded.avoid, at = excluded.at",
                        [email, ideal, avoid, to_db(at)])

    def profiles_of(self, emails: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The profiles among `emails`: {email: {ideal, avoid, at}}."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(emails):
            for row in self.query("select * from partner_profiles where email in "
                                  f"({_marks(chunk)})", chunk):
                found[row["email"]] = {**row, "at": from_db(row["at"])}
        return found

    def avoid_of(self, emails: Sequence[str]) -> dict[str, str]:
        """What each of these partners said they do not want (`not:`), for those who said
        it. Remembered: each intro asked for its partners' (0.65 statements a message in
        bench/handle.py), mostly the same few hundred partners, mostly without one; read
        again once another connection (the web view, a command) has written."""
        said = self._avoid_said
        if self._others_wrote() or len(said) > 100_000:  # (a bound on memory)
            said.clear()
        missing = [e for e in dict.fromkeys(emails) if e not in said]
        if missing:
            profiles = self.profiles_of(missing)
            for email in missing:
                profile = profiles.get(email)
                said[email] = (profile.get("avoid") or None) if profile else None
        return {e: avoid for e in emails if (avoid := said[e])}

    def contacts_of(self, emails: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The contacts known among `emails` (names, undeliverable marks)."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(emails):
            for row in self.query(f"select * from contacts where email in ({_marks(chunk)})",
                                  chunk):
                found[row["email"]] = row
        return found

    def opt_outs_of(self, emails: Sequence[str]) -> set[tuple[str, int]]:
        """(email, referral id) said stop among `emails`; referral id 0 means everything."""
        found: set[tuple[str, int]] = set()
        for chunk in _chunks(emails):
            found.update((r[0], r[1]) for r in self.db.execute(
                f"select email, referral_id from opt_outs where email in ({_marks(chunk)})",
                list(chunk)).fetchall())
        found.update((email, 0) for email in self.forgotten_stops(emails))
        return found

    def forgotten_stops(self, emails: Sequence[str]) -> set[str]:
        """Which of `emails` said `stop all` before they were forgotten (only a salted
        hash of their address is kept)."""
        if not emails or self.db.execute("select 1 from opt_out_hashes limit 1").fetchone() \
                is None:
            return set()
        salt = self.privacy_salt()
        hashed = {opt_out_hash(e, salt): e for e in emails}
        found: set[str] = set()
        for chunk in _chunks(list(hashed)):
            found.update(hashed[r[0]] for r in self.db.execute(
                f"select hash from opt_out_hashes where hash in ({_marks(chunk)})",
                chunk).fetchall())
        return found

    def keep_opt_out_hash(self, hashed: str, at: datetime) -> None:
        self.db.execute("insert or ignore into opt_out_hashes (hash, at) values (?, ?)",
                        [hashed, to_db(at)])

    # "forget me" ------------------------------------------------------------
    def ask_forget(self, email: str, referral_id: int | None, at: datetime) -> None:
        """Record a person's "forget me" (the first one counts: asking again does not
        put the erasure off)."""
        self.db.execute("insert or ignore into forget_requests (email, asked_at, referral_id) "
                        "values (?, ?, ?)", [email, to_db(at), referral_id])

    def forget_requests(self) -> list[dict[str, Any]]:
        return self.query("select email, asked_at, referral_id from forget_requests "
                          "order by asked_at, email")

    def rewrite_contact_rows(self, table: str, rowid: int, fields: dict[str, Any] | None
                             ) -> None:
        """An erasure's change to one row of a table of people (`fields` None: deleted)."""
        sql = {"contacts": ("update contacts set {} where rowid = ?",
                            "delete from contacts where rowid = ?"),
               "opt_outs": ("update opt_outs set {} where rowid = ?",
                            "delete from opt_outs where rowid = ?"),
               "pauses": ("update pauses set {} where rowid = ?",
                          "delete from pauses where rowid = ?"),
               "partners": ("update partners set {} where rowid = ?",
                            "delete from partners where rowid = ?"),
               "partner_emails": ("update partner_emails set {} where rowid = ?",
                                  "delete from partner_emails where rowid = ?"),
               "partner_changes": ("update partner_changes set {} where rowid = ?",
                                   "delete from partner_changes where rowid = ?"),
               "forget_requests": ("update forget_requests set {} where rowid = ?",
                                   "delete from forget_requests where rowid = ?"),
               "partner_profiles": ("update partner_profiles set {} where rowid = ?",
                                    "delete from partner_profiles where rowid = ?")}
        if table not in sql:
            raise ValueError(f"{table} is not a table of people")
        update, delete = sql[table]
        self._names_written.clear()  # a name written before may be gone: write it again
        self._avoid_said.clear()
        if fields is None:
            self.db.execute(delete, [rowid])
        elif fields:
            self.db.execute(update.format(_assignments(fields)), [*fields.values(), rowid])

    def drop_contacts_without_referrals(self) -> int:
        """Retention: contacts (names, bounce marks) of people on no referral that is still
        kept whole, who are not in the partner directory."""
        cursor = self.db.execute(
            "delete from contacts where email not in (select email from partner_emails) "
            "and not exists (select 1 from referrals r where r.expired_at is null and "
            "(r.referrer = contacts.email or r.client = contacts.email "
            "or r.partner = contacts.email))")
        self._names_written.clear()
        return int(cursor.rowcount)

    def contact(self, email: str) -> dict[str, Any]:
        rows = self.query("select * from contacts where email = ?", [email])
        return rows[0] if rows else {"email": email, "name": "", "undeliverable": None}

    def mark_undeliverable(self, email: str, reason: str) -> None:
        self.db.table("contacts").upsert({"email": email, "undeliverable": reason}, pk="email")

    def opt_out(self, email: str, referral_id: int | None, at: datetime,
                by: str | None = None) -> None:
        """`by`: who said stop for `email`, when it was not `email` itself (the referrer on
        the web or the operator), so that only such a stop can be resumed. A stop the person
        said themselves stays theirs whoever says it again."""
        self.db.execute("insert into opt_outs (email, referral_id, at, by) values (?, ?, ?, ?) "
                        "on conflict(email, referral_id) do update set at = excluded.at, "
                        "by = case when opt_outs.by is null then null else excluded.by end",
                        [email, referral_id or 0, to_db(at), by])

    def stops_on(self, referral_id: int, emails: Sequence[str]) -> dict[str, str | None]:
        """Which of `emails` get no mail about the referral: each with who said stop for
        them (None: they said it themselves, or said `stop all`)."""
        found: dict[str, str | None] = {}
        for chunk in _chunks(list(emails)):
            for email, rid, by in self.db.execute(
                    "select email, referral_id, by from opt_outs where email in "
                    f"({_marks(chunk)}) and referral_id in (0, ?) order by referral_id",
                    [*chunk, referral_id]).fetchall():
                found[email] = None if rid == 0 or found.get(email, "") is None else by
        found.update(dict.fromkeys(self.forgotten_stops(list(emails))))
        return found

    def resume(self, email: str, referral_id: int) -> bool:
        """Lift a stop someone else said for `email` about one referral (never their own)."""
        cursor = self.db.execute("delete from opt_outs where email = ? and referral_id = ? "
                                 "and by is not null", [email, referral_id])
        return cursor.rowcount > 0

    def opted_out(self, email: str, referral_id: int) -> bool:
        return said_stop(self.opt_outs_of([email]), email, referral_id)

    # pauses (out of office) ---------------------------------------------------
    def paused_until(self, email: str) -> datetime | None:
        rows = self.query("select until from pauses where email = ?", [email])
        return from_db(rows[0]["until"]) if rows else None

    def pauses_of(self, emails: Sequence[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for chunk in _chunks(emails):
            for row in self.query(f"select email, until from pauses where email in "
                                  f"({_marks(chunk)})", chunk):
                if (until := from_db(row["until"])) is not None:
                    found[row["email"]] = until
        return found

    def pause(self, email: str, until: datetime, reason: str) -> None:
        self.db.execute("insert into pauses (email, until, reason) values (?, ?, ?) "
                        "on conflict(email) do update set until = excluded.until, "
                        "reason = excluded.reason", [email, to_db(until), reason])

    def clear_undeliverable(self, email: str) -> bool:
        cursor = self.db.execute("update contacts set undeliverable = null where email = ? "
                                 "and undeliverable is not null", [email])
        return cursor.rowcount > 0

    # partners and undo -----------------------------------------------------
    def partner_records(self) -> list[PartnerRecord]:
        emails: dict[int, list[str]] = {}
        for row in self.query("select email, partner_id from partner_emails order by email"):
            emails.setdefault(row["partner_id"], []).append(row["email"])
        return [_partner(r, tuple(emails.get(r["id"], ())))
                for r in self.query("select * from partners order by id")]

    def find_partner(self, email: str) -> PartnerRecord | None:
        return self.find_partners([email]).get(email.lower())

    def find_partners(self, emails: Sequence[str]) -> dict[str, PartnerRecord]:
        """The partner of each of `emails` that is a partner's address (keys lower-case)."""
        lowered = [e.lower() for e in emails]
        ids: dict[str, int] = {}
        for chunk in _chunks(lowered):
            ids.update((r[0], r[1]) for r in self.db.execute(
                f"select email, partner_id from partner_emails where email in ({_marks(chunk)})",
                chunk).fetchall())
        partners: dict[int, PartnerRecord] = {}
        for chunk in _chunks(list(ids.values())):
            addresses: dict[int, list[str]] = {}
            for row in self.db.execute("select email, partner_id from partner_emails where "
                                       f"partner_id in ({_marks(chunk)}) order by email",
                                       chunk).fetchall():
                addresses.setdefault(row[1], []).append(row[0])
            for row in self.query(f"select * from partners where id in ({_marks(chunk)})",
                                  chunk):
                partners[row["id"]] = _partner(row, tuple(addresses.get(row["id"], ())))
        return {email: partners[i] for email, i in ids.items() if i in partners}

    def save_partner(self, fields: dict[str, Any], emails: Sequence[str],
                     partner_id: int | None) -> int:
        """Insert (partner_id None) or replace a partner and its addresses; returns its id."""
        if partner_id is None:
            names = ", ".join(fields)
            cursor = self.db.execute(f"insert into partners ({names}) values "
                                     f"({', '.join('?' * len(fields))})", list(fields.values()))
            assert cursor.lastrowid is not None
            partner_id = int(cursor.lastrowid)
        else:
            self._update("partners", "id", partner_id, fields)
            self.db.execute("delete from partner_emails where partner_id = ?", [partner_id])
        self.db.conn.executemany(
            "insert into partner_emails (email, partner_id) values (?, ?) "
            "on conflict(email) do update set partner_id = excluded.partner_id",
            [(e, partner_id) for e in emails])
        return partner_id

    def add_partner_change(self, at: datetime, actor: str, change: str, email: str,
                           detail: str, record: dict[str, Any] | None = None) -> int:
        """Record a change to the directory; `record`: the partner as it was, when removed."""
        cursor = self.db.execute(
            "insert into partner_changes (at, actor, change, email, detail, record) "
            "values (?, ?, ?, ?, ?, ?)",
            [to_db(at), actor, change, email, detail,
             json.dumps(record) if record is not None else None])
        return int(cursor.lastrowid or 0)

    def removed_partner(self, change_id: int) -> dict[str, Any] | None:
        """The partner a removal took away, as it was (None: no such removal)."""
        row = self.db.execute("select record from partner_changes where id = ? and "
                              "change = 'removed'", [change_id]).fetchone()
        return _json(row[0], None) if row and row[0] else None

    def partner_changes(self, limit: int = 50) -> list[PartnerChange]:
        rows = self.query("select * from partner_changes order by id desc limit ?", [limit])
        return [PartnerChange(from_db(r["at"]) or datetime.min, r["actor"], r["change"],
                              r["email"], r["detail"] or "") for r in rows]

    def delete_partner(self, partner_id: int) -> None:
        self.db.execute("delete from partner_emails where partner_id = ?", [partner_id])
        self.db.execute("delete from partners where id = ?", [partner_id])
