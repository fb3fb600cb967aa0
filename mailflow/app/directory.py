"""The partner directory in the store: seeded from the config, grown by intake and CLI.

The config file wins for the partners it names: they are rewritten from it at
every start, and the CLI refuses to edit them (it says to edit the file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from mailflow.adapters.store import PartnerRecord, Store
from mailflow.config import PartnerEntry, partner_entry
from mailflow.core.intake import PartnerDirectory
from mailflow.errors import UsageError

# what a partner is besides their addresses, in the order the directory shows it
PROFILE = ("name", "niche", "notes", "domain", "language", "timezone", "country",
           "catch_up_days")


def records(store: Store) -> list[PartnerRecord]:
    return store.partner_records()


def find(store: Store, email: str) -> PartnerRecord | None:
    return store.find_partner(email)


@dataclass(frozen=True)
class Editor:
    """Who changes the directory: the operator on the command line, or a referrer on the web."""

    actor: str  # recorded with each change
    source: str  # "cli" or "web": what the partners it adds are marked as
    config_file: str  # how a refusal names the config file (never a server path on the web)
    email: str | None = None  # the referrer, on the web
    admin: bool = True  # the operator and the admin may change any partner not in the file

    def may_change(self, record: PartnerRecord) -> bool:
        """The one who added a partner on the web, the admin and the operator."""
        return self.admin or (record.source == "web" and record.added_by == self.email)


def _save(store: Store, entry: PartnerEntry, editor: Editor,
          existing: PartnerRecord | None) -> None:
    added_by = existing.added_by if existing else (editor.email if editor.source == "web"
                                                   else None)
    row = {**{k: getattr(entry, k) for k in PROFILE},
           "source": existing.source if existing else editor.source, "added_by": added_by}
    store.save_partner(row, entry.email, existing.id if existing else None)
    _replan(store, entry)


def _replan(store: Store, entry: PartnerEntry) -> None:
    """Their open referrals plan again: a new time zone or holidays move their steps."""
    for email in entry.email:
        store.mark_for_planning(store.open_referrals_of_partner(email, 0))


def seed_from_config(store: Store, entries: tuple[PartnerEntry, ...]) -> bool:
    """Write the config's partners into the store, only when they changed since last time.

    So a read-only command (`list`, `show`…) beside the running daemon never writes.
    """
    fingerprint = hashlib.sha256(repr(entries).encode()).hexdigest()
    if store.meta("partners_seed") == fingerprint:
        return False
    with store.atomic():
        for entry in entries:
            existing = next((p for p in (find(store, e) for e in entry.email) if p), None)
            row = {**{k: getattr(entry, k) for k in PROFILE}, "source": "config",
                   "added_by": None}
            store.save_partner(row, entry.email, existing.id if existing else None)
            _replan(store, entry)
        store.set_meta("partners_seed", fingerprint)
    return True


def _changeable(store: Store, emails: tuple[str, ...], editor: Editor,
                verb: str) -> PartnerRecord | None:
    existing = next((p for p in (find(store, e) for e in emails) if p), None)
    if existing is None:
        return None
    if existing.source == "config":
        raise UsageError(f"{existing.emails[0]} is defined in {editor.config_file}; "
                         f"{verb} it there (the config file wins)")
    if not editor.may_change(existing):
        raise UsageError(f"{existing.emails[0]} was added by {existing.added_by or 'the operator'}"
                         "; only they or the admin can change it")
    return existing


def _describe(entry: PartnerEntry) -> str:
    fields = [f"{k}: {getattr(entry, k)}" for k in PROFILE if getattr(entry, k)]
    return "; ".join(fields)


def add(store: Store, entry: PartnerEntry, editor: Editor, now: datetime) -> None:
    """Add a partner; an address already known is refused (use edit)."""
    existing = next((p for p in (find(store, e) for e in entry.email) if p), None)
    if existing is not None and existing.source == "config":
        raise UsageError(f"{existing.emails[0]} is defined in {editor.config_file}; "
                         "edit it there (the config file wins)")
    if existing is not None:
        raise UsageError(f"{entry.email[0]} is already a partner; use `partners edit` "
                         "to change it")
    with store.atomic():
        _save(store, entry, editor, None)
        store.add_partner_change(now, editor.actor, "added", entry.email[0], _describe(entry))


def edit(store: Store, emails: tuple[str, ...], changes: dict[str, str | None],
         editor: Editor, now: datetime) -> PartnerEntry:
    """Change only the fields given in `changes` of a known partner."""
    existing = _changeable(store, emails, editor, "edit")
    if existing is None:
        raise UsageError(f"no partner with address {emails[0]}; use `partners add`")
    current: dict[str, object] = {"email": list(dict.fromkeys((*existing.emails, *emails))),
                                  **{k: getattr(existing, k) for k in PROFILE}}
    current.update({k: v for k, v in changes.items() if v is not None})
    entry = partner_entry(current)
    with store.atomic():
        _save(store, entry, editor, existing)
        store.add_partner_change(now, editor.actor, "edited", entry.email[0], _describe(entry))
    return entry


def remove(store: Store, email: str, editor: Editor, now: datetime) -> tuple[PartnerRecord, int]:
    """Remove a partner; returns what was removed and the id of its removal (for Undo)."""
    existing = _changeable(store, (email,), editor, "remove")
    if existing is None:
        raise UsageError(f"no partner with address {email}")
    record = {"emails": list(existing.emails), **{k: getattr(existing, k) for k in PROFILE},
              "source": existing.source, "added_by": existing.added_by}
    with store.atomic():
        store.delete_partner(existing.id)
        change = store.add_partner_change(now, editor.actor, "removed", existing.emails[0],
                                          existing.name, record)
    return existing, change


def restore(store: Store, change_id: int, editor: Editor, now: datetime) -> str:
    """Put a removed partner back as it was (every address, who manages it); its address."""
    record = store.removed_partner(change_id)
    if record is None:
        raise UsageError("there is no such removal to undo")
    emails = tuple(str(e) for e in record.get("emails") or ())
    was = PartnerRecord(0, str(record.get("name") or ""), emails,
                        str(record.get("niche") or ""), str(record.get("notes") or ""),
                        record.get("domain"), str(record.get("source") or ""),
                        record.get("added_by"), record.get("language"),
                        record.get("timezone"), record.get("country"),
                        record.get("catch_up_days"))
    if not emails or not editor.may_change(was):
        raise UsageError("only whoever manages that partner can put it back")
    if any(find(store, e) is not None for e in emails):
        raise UsageError(f"{emails[0]} is a partner again already")
    with store.atomic():
        store.save_partner({**{k: getattr(was, k) for k in PROFILE}, "source": was.source,
                            "added_by": was.added_by}, emails, None)
        store.add_partner_change(now, editor.actor, "restored", emails[0], was.name)
    return emails[0]


def directory_from_store(store: Store) -> PartnerDirectory:
    by_email: dict[str, str] = {}
    by_domain: dict[str, str] = {}
    for record in records(store):
        key = record.emails[0] if record.emails else str(record.id)
        for email in record.emails:
            by_email[email] = key
        if record.domain:
            by_domain[record.domain.lower()] = key
    return PartnerDirectory(by_email, by_domain, store.past_partners())
