"""The database schema, as sqlite-utils migrations applied in order."""

from __future__ import annotations

import secrets
from typing import Any

from sqlite_utils.migrations import Migrations

migrations = Migrations("mailflow")


@migrations()
def m001_initial(db: Any) -> None:
    db.table("referrals").create({
        "id": int, "status": str, "direction": str, "referrer": str, "client": str,
        "partner": str, "subject": str, "created_at": str, "intro_message_id": str,
        "outcome": str, "contacted_at": str, "closed_at": str, "context": str,
        "candidates": str, "names": str,
    }, pk="id", not_null={"status", "referrer", "created_at"})
    db.table("referrals").create_index(["status"])
    db.table("partners").create({
        "id": int, "name": str, "niche": str, "notes": str, "domain": str, "source": str,
    }, pk="id")
    db.table("partner_emails").create({"email": str, "partner_id": int}, pk="email",
                                foreign_keys=[("partner_id", "partners", "id")])
    db.table("contacts").create({"email": str, "name": str, "undeliverable": str}, pk="email")
    db.table("events").create({
        "id": int, "referral_id": int, "at": str, "kind": str, "actor": str, "detail": str,
    }, pk="id", foreign_keys=[("referral_id", "referrals", "id")])
    db.table("events").create_index(["referral_id"])
    db.table("messages").create({
        "message_id": str, "folder": str, "uidvalidity": int, "uid": int, "kind": str,
        "reason": str, "referral_id": int, "seen_at": str,
    }, pk="message_id")
    db.table("cursors").create({"folder": str, "uidvalidity": int, "last_uid": int}, pk="folder")
    db.table("outbox").create({
        "id": int, "referral_id": int, "step": str, "recipient": str, "due_at": str,
        "status": str, "attempts": int, "message_id": str, "sent_at": str, "detail": str,
    }, pk="id", defaults={"attempts": 0})
    db.table("outbox").create_index(["referral_id", "step", "recipient"], unique=True)
    db.table("outbox").create_index(["status", "due_at"])
    db.table("outbox").create_index(["message_id"])
    db.table("opt_outs").create({"email": str, "referral_id": int, "at": str},
                          pk=("email", "referral_id"))
    db.table("meta").create({"key": str, "value": str}, pk="key")


@migrations()
def m002_snoozes_and_pauses(db: Any) -> None:
    db.table("referrals").add_column("snoozed_until", str)
    db.table("referrals").add_column("rating", int)
    db.table("pauses").create({"email": str, "until": str, "reason": str}, pk="email")


@migrations()
def m003_undo(db: Any) -> None:
    db.table("undo").create({"id": int, "referral_id": int, "actor": str, "at": str,
                             "before": str}, pk="id")
    db.table("undo").create_index(["referral_id"])


@migrations()
def m004_thread_lookups(db: Any) -> None:
    """Replies are matched to intros by Message-ID: index it (a scan per reply at 100k)."""
    db.table("referrals").create_index(["intro_message_id"])
    db.table("messages").create_index(["referral_id"])


@migrations()
def m005_durable_planning_and_payloads(db: Any) -> None:
    """Planning marks written with the change; notice text apart from send errors; an
    installation id for Message-IDs."""
    db.table("replan").create({"referral_id": int}, pk="referral_id")
    db.table("outbox").add_column("payload", str)
    db.execute("update outbox set payload = detail, detail = '' "
               "where step like 'notice.%' and detail like '{%'")
    db.table("outbox").create_index(["recipient", "step"])
    db.table("outbox").create_index(["recipient", "sent_at"])
    for column in ("referrer", "client", "partner"):
        db.table("referrals").create_index([column])
    db.execute("insert or ignore into meta (key, value) values ('installation', ?)",
               [secrets.token_hex(6)])


@migrations()
def m006_history(db: Any) -> None:
    """Intros found old on a first run are history; "follow up" plans from a new start."""
    db.table("referrals").add_column("history", int, not_null_default=0)
    db.table("referrals").add_column("plan_from", str)


@migrations()
def m007_outbox_kinds(db: Any) -> None:
    """Outbox rows say what they are (step, notice, digest, alert) instead of a name prefix;
    digests and alerts, which belong to no referral, join the one queue."""
    db.execute("alter table outbox add column kind text not null default 'step'")
    notices = db.execute("select id, step from outbox where step like 'notice.%'").fetchall()
    for row_id, step in notices:  # notice.<kind>.<n> → kind 'notice', step '<kind>'
        db.execute("update outbox set kind = 'notice', step = ? where id = ?",
                   [step.split(".")[1], row_id])
    db.execute("drop index if exists idx_outbox_referral_id_step_recipient")
    # a workflow step is planned once per referral and person; notices may repeat
    db.execute("create unique index idx_outbox_step_once on outbox "
               "(referral_id, step, recipient) where kind = 'step'")
    db.execute("create index idx_outbox_notices on outbox (referral_id, recipient, step) "
               "where kind != 'step'")


@migrations()
def m008_opaque_cursors(db: Any) -> None:
    """A source's cursor is its own business (IMAP UIDVALIDITY:UID, a Gmail historyId…):
    one text column; messages keep where the source had them as text too. The old
    integer columns stay, unused, for databases written before."""
    db.execute("alter table cursors add column position text")
    db.execute("update cursors set position = uidvalidity || ':' || last_uid")
    db.execute("alter table messages add column place text")
    db.execute("update messages set place = cast(uid as text)")


@migrations()
def m009_web_signins(db: Any) -> None:
    """One-time sign-in links of the web view: each nonce is used once."""
    db.execute("create table signins (nonce text primary key, email text not null, "
               "created_at text not null, used_at text)")
    db.execute("create index idx_referrals_created on referrals (referrer, created_at)")


@migrations()
def m010_status_counts(db: Any) -> None:
    """`status` counts quarantined messages and lists the latest through an index."""
    db.execute("create index if not exists idx_messages_kind_seen on messages (kind, seen_at)")
    # each referrer's digest clock now starts at their first intro; existing ones keep theirs
    db.execute("insert or ignore into meta (key, value) select 'digest:' || referrer, "
               "min(created_at) from referrals group by referrer")


@migrations()
def m011_web_sessions_and_audit(db: Any) -> None:
    """Web sessions on the server (the cookie holds a random id, stored hashed), who added
    a partner and every change to the directory, and who said stop for someone."""
    db.execute("create table web_sessions (id text primary key, email text not null, "
               "admin integer not null, csrf text not null, created_at text not null, "
               "seen_at text not null, flash text)")
    db.execute("create index idx_web_sessions_email on web_sessions (email)")
    db.execute("create index idx_signins_email on signins (email, created_at)")
    db.execute("create index idx_signins_created on signins (created_at)")
    db.execute("alter table partners add column added_by text")
    db.execute("create table partner_changes (id integer primary key, at text not null, "
               "actor text not null, change text not null, email text not null, "
               "detail text)")
    db.execute("alter table opt_outs add column by text")


@migrations()
def m012_removed_partners(db: Any) -> None:
    """A removed partner is kept whole with its removal, so that Undo puts it back as it was."""
    db.execute("alter table partner_changes add column record text")


@migrations()
def m013_personal_data(db: Any) -> None:
    """Who sent each message (so one person's records can be listed and erased), requests to
    be forgotten, salted hashes of the `stop all` of forgotten people, and when retention
    expired a closed referral's texts."""
    db.execute("alter table messages add column sender text")
    db.execute("create table forget_requests (email text primary key, asked_at text not null, "
               "referral_id integer)")
    db.execute("create table opt_out_hashes (hash text primary key, at text not null)")
    db.execute("alter table referrals add column expired_at text")
    db.execute("insert or ignore into meta (key, value) values ('privacy_salt', ?)",
               [secrets.token_hex(16)])


@migrations()
def m014_languages_and_zones(db: Any) -> None:
    """Each party's language and a partner's own time zone and holidays (issue #26): set by
    hand on a partner or a contact, or learned from a person's own mail (an intro's own
    language is read from its text when an email is written, not stored)."""
    for column in ("language", "timezone", "country"):
        db.execute(f"alter table partners add column {column} text")
    # how long without an exchange before the digest suggests catching up (None: the default)
    db.execute("alter table partners add column catch_up_days integer")
    db.execute("alter table contacts add column language_set text")
    db.execute("alter table contacts add column language_learned text")


@migrations()
def m015_values_and_profiles(db: Any) -> None:
    """What a referral was worth (`won 4500`), in the firm's currency, and what a partner
    says makes a good referral for them (`ideal:` / `not:`), replaced by their latest."""
    db.execute("alter table referrals add column value real")
    db.execute("create table partner_profiles (email text primary key, ideal text, "
               "avoid text, at text not null)")


@migrations()
def m016_ledger_sums(db: Any) -> None:
    """The ledger sums in SQL: every column they read of a referral in one index (the
    rows, with their intro texts, are many times its size), a partner's latest word found
    by walking their events backwards, consent answers and needs by kind, and the admin's
    period by creation."""
    db.execute("create index if not exists idx_referrals_ledger on referrals (referrer, "
               "created_at, partner, direction, status, outcome, contacted_at, closed_at, "
               "rating, value)")
    db.execute("create index if not exists idx_events_actor_at on events (actor, at)")
    db.execute("create index if not exists idx_events_kind on events (kind)")
    db.execute("create index if not exists idx_referrals_created_at on referrals (created_at)")


@migrations()
def m017_redundant_referral_indexes(db: Any) -> None:
    """Two indexes on referrals that idx_referrals_ledger (referrer, created_at, …) serves
    whole, being a prefix of it: (referrer) and (referrer, created_at). Each was one more
    b-tree written by every intro (bench/handle.py)."""
    db.execute("drop index if exists idx_referrals_referrer")
    db.execute("drop index if exists idx_referrals_created")


@migrations()
def m018_partner_ledger_index(db: Any) -> None:
    """The ledger's sums walked in partner order: (partner) widened to cover every column
    they read, so that they group by partner without sorting the referrals (at 100,000, the
    sort was two thirds of the all-time ledger). An intro writes as many b-trees as before;
    a change of status, outcome, contact or closing time, rating or value now rewrites
    this index's entry too, as it does idx_referrals_ledger's."""
    db.execute("create index if not exists idx_referrals_partner_ledger on referrals ("
               "partner, direction, status, outcome, created_at, contacted_at, closed_at, "
               "rating, value, referrer)")
    db.execute("drop index if exists idx_referrals_partner")


@migrations()
def m019_answers_dated_by_their_reply(db: Any) -> None:
    """When the reply a notice answers was written (`Notify.answering`), apart from when
    the notice may go (`due_at`, which a deferral or a retry moves): an answer to a reply
    read late lapses past the grace from then (core.send_choice)."""
    db.execute("alter table outbox add column answers_at text")
