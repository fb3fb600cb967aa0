"""A person's action on a referral from the command line or the web: the shell reads the
facts, the core decides (`core.decisions.on_operator`), the executor applies, and the
referral is re-planned at once. Email replies reach the same rules through `on_reply`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mailflow.adapters.store import OutboxRow
from mailflow.app.executor import apply_effects
from mailflow.app.planning import replan
from mailflow.app.wiring import App
from mailflow.core.decisions import (
    UNDO_WINDOW,
    PlannedEmail,
    on_language,
    on_operator,
    on_unbounce,
    on_unwithdraw,
    on_withdraw,
)
from mailflow.core.effects import Effect
from mailflow.core.model import Outcome, Referral


@dataclass(frozen=True)
class Action:
    """What was asked: `close`, `reopen`, `snooze`, `partner`, `swap`, `stop`, `resume` or
    `undo`, with the values the action takes."""

    name: str
    outcome: Outcome | None = None
    days: int | None = None
    partner: str | None = None
    address: str | None = None
    undo_id: int | None = None  # undo: the change the person saw (a second press: nothing)


def act(app: App, referral: Referral, action: Action, now: datetime, actor: str) -> Referral:
    """Apply `action`; raises ValueError (the sentence to show) when it does not apply."""
    store = app.store
    last_undo = (store.latest_undo(referral.id, actor, now - UNDO_WINDOW)
                 if action.name == "undo" else None)
    if action.undo_id is not None and last_undo != action.undo_id:
        last_undo = None  # that change is undone already: an earlier one stays
    effects = on_operator(
        referral, action.name, now, actor=actor, outcome=action.outcome, days=action.days,
        partner=action.partner, address=action.address, last_undo=last_undo,
        stops=(store.stops_on(referral.id, [action.address])
               if action.name in ("stop", "resume") and action.address else None))
    _apply_and_plan(app, effects, now)
    return store.referral(referral.id)


def withdraw(app: App, row: OutboxRow, now: datetime, actor: str, undo: bool = False) -> None:
    """Cancel a planned email (or, `undo`, plan it again); ValueError when it cannot be."""
    email = PlannedEmail(row.id, row.referral_id, row.step, row.recipient, row.status)
    _apply_and_plan(app, on_unwithdraw(email, actor) if undo else on_withdraw(email, actor),
                    now)


def last_change(app: App, referral: Referral, now: datetime, actor: str) -> int | None:
    """The id of `actor`'s change to `referral` that an Undo now would put back."""
    return app.store.latest_undo(referral.id, actor, now - UNDO_WINDOW)


def unbounce(app: App, email: str, now: datetime, actor: str) -> bool:
    """Clear `email`'s bounce flag; False when it was not marked as bouncing."""
    if not app.store.contact(email).get("undeliverable"):
        return False
    _apply_and_plan(app, on_unbounce(email, app.store.open_referrals_of(email), actor), now)
    return True


def set_language(app: App, email: str, language: str | None, now: datetime,
                 actor: str = "cli") -> None:
    """The language `email` gets, set by hand (None: learned from their mail again)."""
    effects = on_language(email, language, app.store.open_referrals_of(email), actor)
    with app.store.atomic():
        apply_effects(app.store, effects, now)


def _apply_and_plan(app: App, effects: Sequence[Effect], now: datetime) -> None:
    store = app.store
    with store.atomic():
        for referral_id in apply_effects(store, effects, now):
            replan(store, referral_id, app.config, app.calendar, now)
