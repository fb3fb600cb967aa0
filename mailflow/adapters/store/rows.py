"""The typed rows the store hands out, and how a database row becomes one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailflow.adapters.store.base import _json, from_db
from mailflow.core.model import Outcome, Referral, Status


@dataclass(frozen=True)
class NewStep:
    """A workflow step to queue: `status` pending, or skipped (with why) when too old."""

    step: str
    recipient: str
    due_at: datetime
    status: str
    detail: str | None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    referral_id: int  # 0 for a digest or an alert, which belong to no referral
    step: str  # the workflow step, or the notice's kind (confirm, relay, …)
    recipient: str
    due_at: datetime
    status: str
    attempts: int
    message_id: str | None
    sent_at: datetime | None
    detail: str  # why it was skipped or failed: text for people, never data
    payload: str = ""  # a notice's data, a digest's text (JSON); empty for workflow steps
    kind: str = "step"  # step | notice | digest | alert
    answers_at: datetime | None = None  # a notice answering a reply: when it was written

    @property
    def is_notice(self) -> bool:
        return self.kind == "notice"


@dataclass(frozen=True)
class PartnerRecord:
    id: int
    name: str
    emails: tuple[str, ...]
    niche: str
    notes: str
    domain: str | None
    source: str  # "config" (the file wins), "cli" or "web"
    added_by: str | None = None  # who added it on the web (they and the admin may change it)
    language: str | None = None
    timezone: str | None = None
    country: str | None = None
    catch_up_days: int | None = None


def _partner(row: dict[str, Any], emails: tuple[str, ...]) -> PartnerRecord:
    return PartnerRecord(row["id"], row["name"] or "", emails, row["niche"] or "",
                         row["notes"] or "", row["domain"], row["source"] or "",
                         row.get("added_by"), row.get("language"), row.get("timezone"),
                         row.get("country"), row.get("catch_up_days"))


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: the cookie carries a random token; `id` is its SHA-256."""

    id: str
    email: str
    admin: bool
    csrf: str
    created_at: datetime
    seen_at: datetime
    flash: str | None = None


def _session(row: dict[str, Any]) -> WebSession:
    created, seen = from_db(row["created_at"]), from_db(row["seen_at"])
    assert created is not None and seen is not None
    return WebSession(row["id"], row["email"], bool(row["admin"]), row["csrf"], created, seen,
                      row["flash"])


@dataclass(frozen=True)
class PartnerChange:
    at: datetime
    actor: str
    change: str  # added, edited, removed
    email: str
    detail: str


def _referral(row: dict[str, Any]) -> Referral:
    created = from_db(row["created_at"])
    assert created is not None
    return Referral(
        id=row["id"], status=Status(row["status"]), referrer=row["referrer"],
        client=row["client"], partner=row["partner"], subject=row["subject"] or "",
        created_at=created, intro_message_id=row["intro_message_id"] or "",
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        contacted_at=from_db(row["contacted_at"]), closed_at=from_db(row["closed_at"]),
        context=row["context"] or "", candidates=tuple(_json(row["candidates"], [])),
        names=_json(row["names"], {}), direction=row["direction"] or "given",
        history=bool(row.get("history")), plan_from=from_db(row.get("plan_from")),
        snoozed_until=from_db(row.get("snoozed_until")), rating=row.get("rating"),
        value=row.get("value"),
    )


def _outbox(row: dict[str, Any]) -> OutboxRow:
    due = from_db(row["due_at"])
    assert due is not None
    return OutboxRow(row["id"], row["referral_id"] or 0, row["step"], row["recipient"], due,
                     row["status"], row["attempts"] or 0, row["message_id"],
                     from_db(row["sent_at"]), row["detail"] or "", row.get("payload") or "",
                     row.get("kind") or "step", from_db(row.get("answers_at")))


def said_stop(opt_outs: set[tuple[str, int]], email: str, referral_id: int) -> bool:
    """Whether `email` said stop to this referral, or to everything (referral id 0), in the
    pairs `Store.opt_outs_of` returns."""
    return (email, 0) in opt_outs or (email, referral_id) in opt_outs

