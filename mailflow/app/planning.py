"""Keeping the outbox table in line with what the workflow plans for each referral."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from mailflow.adapters.public_holidays import Holidays, country_of_zone, supported
from mailflow.adapters.store import NewStep, OutboxRow, PartnerRecord, Store, said_stop
from mailflow.config import BusinessHours, Config
from mailflow.core.business_time import BusinessCalendar
from mailflow.core.decisions import consent_of
from mailflow.core.model import Referral, Role, Status
from mailflow.core.planning_diff import plan_diff
from mailflow.core.workflow import ReferralFacts, plan, plans_nothing
from mailflow.errors import ConfigError

log = logging.getLogger("mailflow.app.planning")


def calendar_of(config: Config) -> BusinessCalendar:
    hours = config.business_hours
    return BusinessCalendar(config.timezone, frozenset(hours.days), hours.opens, hours.closes,
                            Holidays(frozenset(hours.holidays), country_of(config),
                                     hours.subdivision))


def party_calendar(config: Config, partner: PartnerRecord | None) -> BusinessCalendar | None:
    """A partner's own business hours, when they have a time zone or holidays of their own:
    the firm's days and hours, in their zone, with their country's public holidays (the
    firm's own `holidays` list stays: those are the firm's days off)."""
    if partner is None or not (partner.timezone or partner.country):
        return None
    return _own_calendar(config.business_hours,
                         ZoneInfo(partner.timezone) if partner.timezone else config.timezone,
                         party_country(config, partner))


def party_country(config: Config, partner: PartnerRecord | None) -> str | None:
    """Whose public holidays and date customs a party has: their own country, else their
    time zone's, else the firm's."""
    if partner is not None and partner.country:
        return partner.country
    if partner is not None and partner.timezone:
        found = country_of_zone(partner.timezone)
        return found if found is not None and supported(found) else None
    return country_of(config)


@lru_cache(maxsize=64)
def _own_calendar(hours: BusinessHours, timezone: ZoneInfo,
                  country: str | None) -> BusinessCalendar:
    return BusinessCalendar(timezone, frozenset(hours.days), hours.opens, hours.closes,
                            Holidays(frozenset(hours.holidays), country, None))


def party_calendars(config: Config,
                    partners: Mapping[str, PartnerRecord | None]) -> dict[str, BusinessCalendar]:
    """The partners among `partners` (address → record) with business hours of their own."""
    found = {email: party_calendar(config, record) for email, record in partners.items()}
    return {email: calendar for email, calendar in found.items() if calendar is not None}


def country_of(config: Config) -> str | None:
    """Whose public holidays count: `business_hours.country`, else the time zone's."""
    country = config.business_hours.country
    if country is None:
        found = country_of_zone(str(config.timezone.key))
        return found if found is not None and supported(found) else None
    if country.lower() == "none":
        return None
    if not supported(country):
        raise ConfigError(str(config.path), "business_hours.country",
                          f"no public holidays are known for {country!r} (a country code "
                          "such as GB, DE or US, or none)")
    return country.upper()


@dataclass(frozen=True)
class ChunkFacts:
    """What planning a few hundred referrals reads, read for all of them at once: none of
    it changes while they are planned (planning writes only their own outbox rows)."""

    referrals: dict[int, Referral]
    contacts: dict[str, dict[str, Any]]
    opt_outs: set[tuple[str, int]]
    pauses: dict[str, datetime]
    steps: dict[int, list[OutboxRow]]
    partners: dict[str, PartnerRecord]
    consents: dict[int, tuple[str, str]]

    @classmethod
    def read(cls, store: Store, referral_ids: Sequence[int]) -> ChunkFacts:
        referrals = store.referrals_by_id(referral_ids)
        people = sorted({e for r in referrals.values()
                         for e in (r.referrer, r.client, r.partner) if e})
        return cls(referrals, store.contacts_of(people), store.opt_outs_of(people),
                   store.pauses_of(people), store.step_rows_of(list(referrals)),
                   store.find_partners(sorted({r.partner for r in referrals.values()
                                               if r.partner})),
                   store.consent_events(list(referrals)))


def facts_of(store: Store, referral: Referral, config: Config,
             known: ChunkFacts | None = None) -> ReferralFacts:
    emails = [e for e in (referral.referrer, referral.client, referral.partner) if e]
    if known is None:
        opted = frozenset(e for e in emails if store.opted_out(e, referral.id))
        undeliverable = frozenset(e for e in emails if store.contact(e).get("undeliverable"))
        pauses = store.pauses_of(emails)
    else:
        opted = frozenset(e for e in emails if said_stop(known.opt_outs, e, referral.id))
        undeliverable = frozenset(e for e in emails
                                  if (known.contacts.get(e) or {}).get("undeliverable"))
        pauses = {e: known.pauses[e] for e in emails if e in known.pauses}
    partner = referral.partner
    record = None if partner is None else (
        store.find_partner(partner) if known is None else known.partners.get(partner.lower()))
    brief = next((s for s in config.workflow.steps if s.once_per_partner
                  and s.to is Role.PARTNER), None)
    briefed = bool(brief and referral.partner and store.step_exists_for_partner(
        brief.name, referral.partner, referral.id))
    consent = (store.consent_events([referral.id]) if known is None
               else known.consents).get(referral.id)
    return ReferralFacts(referral, briefed, opted, undeliverable, referral.snoozed_until, pauses,
                         party_calendars(config, {partner: record} if partner else {}),
                         consent_of(*consent) if consent else None)


def reconcile(store: Store, referral_id: int, config: Config, calendar: BusinessCalendar,
              now: datetime, known: ChunkFacts | None = None) -> None:
    """Insert, move, revive or cancel this referral's steps to match the plan
    (`core.planning_diff` says which).

    `known`: the facts of the chunk being planned (ChunkFacts), read once for all of it.
    """
    known = known if known is not None and referral_id in known.referrals else None
    referral = known.referrals[referral_id] if known else store.referral(referral_id)
    rows = known.steps.get(referral_id, []) if known else store.step_rows(referral_id)
    if plans_nothing(referral) and all(r.status != "pending" for r in rows):
        return  # most of a first run's referrals: nothing planned, nothing to cancel
    wanted = plan(facts_of(store, referral, config, known), config.workflow.steps, calendar,
                  config.workflow.acknowledge_referrer, config.workflow.received_steps)
    days = config.workflow.catch_up_after_days
    diff = plan_diff(wanted, rows, {s.name for s in config.workflow.steps if s.once_per_partner},
                     now, now - timedelta(days=days), days)
    for row_id in diff.cancel:
        store.update_outbox(row_id, status="cancelled", detail="no longer due")
    for partner in diff.replan_partners:
        store.mark_for_planning(store.open_referrals_of_partner(partner, referral.id))
    for row_id, due_at in diff.move:
        store.update_outbox(row_id, due_at=due_at)
    for row_id, due_at in diff.revive:
        store.update_outbox(row_id, status="pending", due_at=due_at, detail="")
    store.add_steps(referral_id, [NewStep(a.step, a.recipient, a.due_at, a.status, a.why)
                                  for a in diff.add])


def workflow_fingerprint(config: Config) -> str:
    """What planning depends on in the config; a change means every open referral re-plans."""
    parts = (config.workflow.steps, config.workflow.received_steps,
             config.workflow.acknowledge_referrer,
             config.workflow.catch_up_after_days, config.business_hours, str(config.timezone))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def replan_if_config_changed(store: Store, config: Config, calendar: BusinessCalendar,
                             now: datetime) -> int:
    """After an edit of the workflow or business hours, bring the whole outbox in line."""
    fingerprint = workflow_fingerprint(config)
    if store.meta("workflow") == fingerprint:
        return 0
    touched = 0
    with store.atomic():
        for referral in store.referrals():
            if referral.status is not Status.CLOSED or any(
                    r.status == "pending" for r in store.outbox_rows(referral.id)):
                reconcile(store, referral.id, config, calendar, now)
                touched += 1
        store.set_meta("workflow", fingerprint)
    if touched:
        log.info("workflow or business hours changed: %s referrals re-planned", touched)
    return touched


HISTORY_LISTED = 20  # tags named in the first-run summary; the count covers the rest


class HistorySummaries:
    """The one pending summary per referrer of the old intros a first run found.

    What each summary holds is kept between intros (read once per referrer instead of
    once per intro: most of a first run is history) and forgotten as soon as the store
    rolls anything back, since what it remembers may then be undone.

    `deferred` (ingest's batches): an intro's addition is held until ingest says its
    message was kept (`message_ended`), and the batch's are written just before its
    commit (`flush`), once per referrer instead of once per intro (a first run:
    1,602 of 3,000 realistic messages, 10-14 us each). Additions of a message that was
    not kept, or of a transaction that ended without a flush, are never written.
    """

    def __init__(self, store: Store, deferred: bool = False) -> None:
        self.store = store
        self.deferred = deferred
        self._known: dict[str, tuple[int, dict[str, Any]]] = {}  # referrer: (row id, data)
        self._rollbacks = store.rollbacks
        # (referrer, new ids, intro time, now): this message's, then its batch's
        self._tentative: list[tuple[str, list[int], datetime, datetime]] = []
        self._kept: list[tuple[str, list[int], datetime, datetime]] = []
        self._kept_in = -1  # the transaction `_kept` belongs to

    def add(self, referrer: str, new_ids: list[int], intro_at: datetime,
            now: datetime) -> None:
        if self.deferred:
            self._tentative.append((referrer, list(new_ids), intro_at, now))
        else:
            self._write(referrer, new_ids, intro_at, now)

    def message_ended(self, kept: bool) -> None:
        """The message whose additions are tentative was kept (recorded), or undone."""
        if kept and self._tentative:
            if self._kept_in != self.store.transaction_number:
                self._kept.clear()  # of a transaction that ended without a flush: undone
                self._kept_in = self.store.transaction_number
            self._kept.extend(self._tentative)
        self._tentative.clear()

    def discard(self) -> None:
        """Forget what waits: its batch ended without a flush (its run failed)."""
        self._tentative.clear()
        self._kept.clear()

    def flush(self) -> None:
        """Write the kept additions, one row write per referrer; called inside the
        transaction they belong to, before its commit."""
        kept, self._kept = self._kept, []
        if (not kept or self._kept_in != self.store.transaction_number
                or not self.store.in_transaction):
            return  # its transaction ended without a flush: undone
        merged: dict[str, tuple[list[int], datetime, datetime]] = {}
        for referrer, ids, intro_at, now in kept:
            if referrer in merged:
                all_ids, first, first_now = merged[referrer]
                merged[referrer] = (all_ids + ids, min(first, intro_at), first_now)
            else:
                merged[referrer] = (ids, intro_at, now)
        for referrer, (ids, first, now) in merged.items():
            self._write(referrer, ids, first, now)

    def _write(self, referrer: str, new_ids: list[int], intro_at: datetime,
               now: datetime) -> None:
        if self.store.rollbacks != self._rollbacks:
            self._known.clear()
            self._rollbacks = self.store.rollbacks
        row_id, data = self._known.get(referrer) or self._read(referrer, intro_at)
        data = {**data, "count": data["count"] + len(new_ids),
                "tags": (data["tags"] + [f"R-{i}" for i in new_ids])[:HISTORY_LISTED],
                "first": min(data["first"], intro_at.date().isoformat())}
        data["listed"] = (", ".join(data["tags"])
                          + (", …" if data["count"] > len(data["tags"]) else ""))
        payload = json.dumps(data)
        if row_id:
            self.store.update_outbox(row_id, payload=payload)
        else:
            row_id = self.store.add_outbox(new_ids[0], "history", referrer, now,
                                           kind="notice", payload=payload) or 0
        if row_id:
            self._known[referrer] = (row_id, data)

    def _read(self, referrer: str, intro_at: datetime) -> tuple[int, dict[str, Any]]:
        pending = self.store.pending_notice(referrer, "history")
        if pending is not None:
            return pending.id, json.loads(pending.payload)
        return 0, {"count": 0, "tags": [], "first": intro_at.date().isoformat()}


def replan(store: Store, referral_id: int, config: Config, calendar: BusinessCalendar,
           now: datetime, known: ChunkFacts | None = None) -> None:
    """Re-plan a marked referral and clear its mark, in the caller's transaction."""
    reconcile(store, referral_id, config, calendar, now, known)
    store.unmark_for_planning(referral_id)
