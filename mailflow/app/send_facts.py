"""What one send needs to know about its due rows, read in a few queries up front.

Checking each email on its own (its referral, the recipient's contact and opt-outs,
the referral's send budget, today's count, the notes) took about twenty statements
per email, more time than the SMTP conversation itself (bench/schedule.py). Nothing
these facts describe changes while the emails of one send are being prepared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mailflow.adapters.store import OutboxRow, PartnerRecord, Store, said_stop
from mailflow.core.model import Referral
from mailflow.core.send_choice import Facts, StepState

EVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class SendFacts:
    store: Store
    referrals: dict[int, Referral] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    opt_outs: set[tuple[str, int]] = field(default_factory=set)
    sent_counts: dict[int, int] = field(default_factory=dict)
    sent_today: dict[str, int] = field(default_factory=dict)
    notices_today: dict[str, int] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)
    partners: dict[str, PartnerRecord | None] = field(default_factory=dict)
    steps: dict[int, dict[str, StepState]] = field(default_factory=dict)
    written_before: set[str] = field(default_factory=set)  # recipients mailflow wrote to

    @classmethod
    def read(cls, store: Store, rows: list[OutboxRow], day_start: datetime) -> SendFacts:
        ids = [r.referral_id for r in rows if r.referral_id]
        referrals = store.referrals_by_id(ids)
        people = {r.recipient for r in rows}
        for referral in referrals.values():
            people.update(e for e in (referral.referrer, referral.client, referral.partner) if e)
        recipients = sorted({r.recipient for r in rows})
        known = store.contacts_of(sorted(people))
        contacts = {e: known.get(e) or {"email": e, "name": "", "undeliverable": None}
                    for e in people}
        partner_emails = sorted({r.partner for r in referrals.values() if r.partner})
        found = store.find_partners(sorted({*partner_emails, *recipients}))
        partners = {e: found.get(e.lower()) for e in partner_emails}
        partners.update((e, found[e.lower()]) for e in recipients if e.lower() in found)
        return cls(store, referrals, contacts,
                   store.opt_outs_of(sorted(people)), store.sent_counts(ids),
                   store.sent_to_each_since(recipients, day_start),
                   store.sent_to_each_since(recipients, day_start, kind="notice"),
                   store.notes_of(ids), partners,
                   {i: {step: StepState(status, due_at, sent_at)
                        for step, status, due_at, sent_at in found}
                    for i, found in store.step_states_of(sorted(
                        {r.referral_id for r in rows
                         if r.kind == "step" and r.referral_id})).items()},
                   set(store.sent_to_each_since(recipients, EVER)))

    def for_choice(self, rows: list[OutboxRow]) -> Facts:
        """These facts as the pure send choice reads them."""
        return Facts(
            parties={i: frozenset(e for e in (r.referrer, r.client, r.partner) if e)
                     for i, r in self.referrals.items()},
            intro_at={i: r.plan_from or r.created_at for i, r in self.referrals.items()},
            stopped=frozenset((r.recipient, r.referral_id) for r in rows
                              if self.opted_out(r.recipient, r.referral_id)),
            bounced=frozenset(r.recipient for r in rows
                              if self.contact(r.recipient).get("undeliverable")),
            sent_counts=self.sent_counts, sent_today=self.sent_today,
            notices_today=self.notices_today,
            steps=self.steps)

    def first_contact(self, email: str) -> bool:
        """No email from mailflow has reached this person before."""
        return email not in self.written_before

    def referral(self, referral_id: int) -> Referral:
        if referral_id not in self.referrals:  # not among the due rows: read it once
            self.referrals[referral_id] = self.store.referral(referral_id)
        return self.referrals[referral_id]

    def contact(self, email: str) -> dict[str, Any]:
        if email not in self.contacts:
            self.contacts[email] = self.store.contact(email)
        return self.contacts[email]

    def opted_out(self, email: str, referral_id: int) -> bool:
        """Only for the people of the due rows' referrals: those were read."""
        return said_stop(self.opt_outs, email, referral_id)

    def sent_count(self, referral_id: int) -> int:
        return self.sent_counts.get(referral_id, 0)

    def find_partner(self, email: str) -> PartnerRecord | None:
        if email not in self.partners:
            self.partners[email] = self.store.find_partner(email)
        return self.partners[email]

    def notes_of(self, referral_id: int) -> list[str]:
        if referral_id not in self.notes:
            self.notes.update(self.store.notes_of([referral_id]))
        return self.notes[referral_id]
