"""The partner directory in the store: seeded from the config, grown by intake and CLI.

The config file wins for the partners it names: they are rewritten from it at
every start, and the CLI refuses to edit them (it says to edit the file).
"""

from __future__ import annotations

import hashlib

from mailflow.adapters.store import PartnerRecord, Store
from mailflow.config import PartnerEntry, partner_entry
from mailflow.core.intake import PartnerDirectory
from mailflow.errors import UsageError


def records(store: Store) -> list[PartnerRecord]:
    return store.partner_records()


def find(store: Store, email: str) -> PartnerRecord | None:
    return store.find_partner(email)


def _save(store: Store, entry: PartnerEntry, source: str, existing: PartnerRecord | None) -> None:
    row = {"name": entry.name, "niche": entry.niche, "notes": entry.notes,
           "domain": entry.domain, "source": source}
    store.save_partner(row, entry.email, existing.id if existing else None)


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
            _save(store, entry, "config", existing)
        store.set_meta("partners_seed", fingerprint)
    return True


def _existing(store: Store, emails: tuple[str, ...], config_file: str) -> PartnerRecord | None:
    existing = next((p for p in (find(store, e) for e in emails) if p), None)
    if existing is not None and existing.source == "config":
        raise UsageError(f"{existing.emails[0]} is defined in {config_file}; "
                         "edit it there (the config file wins)")
    return existing


def add(store: Store, entry: PartnerEntry, config_file: str) -> None:
    """Add a CLI-managed partner; an address already known is refused (use edit)."""
    if _existing(store, entry.email, config_file) is not None:
        raise UsageError(f"{entry.email[0]} is already a partner; use `partners edit` "
                         "to change it")
    with store.atomic():
        _save(store, entry, "cli", None)


def edit(store: Store, emails: tuple[str, ...], changes: dict[str, str | None],
         config_file: str) -> PartnerEntry:
    """Change only the fields given in `changes` of a known CLI-managed partner."""
    existing = _existing(store, emails, config_file)
    if existing is None:
        raise UsageError(f"no partner with address {emails[0]}; use `partners add`")
    current = {"email": list(dict.fromkeys((*existing.emails, *emails))),
               "name": existing.name, "niche": existing.niche, "notes": existing.notes,
               "domain": existing.domain}
    current.update({k: v for k, v in changes.items() if v is not None})
    entry = partner_entry(current)
    with store.atomic():
        _save(store, entry, "cli", existing)
    return entry


def remove(store: Store, email: str, config_file: str) -> PartnerRecord:
    """Remove a CLI-managed partner; returns what was removed."""
    existing = find(store, email)
    if existing is None:
        raise UsageError(f"no partner with address {email}")
    if existing.source == "config":
        raise UsageError(f"{email} is defined in {config_file}; remove it there")
    with store.atomic():
        store.delete_partner(existing.id)
    return existing


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
