"""Carrying out a decision: one list of effects, applied in one transaction.

The only writer of what people (by email, command line or web) do to referrals;
the core decides, this applies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import singledispatch

from mailflow.adapters.store import Store
from mailflow.core.decisions import WITHDRAWN
from mailflow.core.effects import (
    AddEvent,
    AskForget,
    ClearUndeliverable,
    CreateReferral,
    Effect,
    KeepUndo,
    LearnLanguage,
    MarkUndeliverable,
    Notify,
    OptOut,
    Pause,
    Plan,
    RememberNames,
    RestoreUndo,
    Resume,
    SaveProfile,
    SetFields,
    StartDigestClock,
    Unwithdraw,
    Withdraw,
)


def apply_effects(store: Store, effects: Sequence[Effect], now: datetime,
                  created: list[int] | None = None) -> list[int]:
    """Apply `effects` in order, all or nothing; returns the referrals marked for planning.

    `created` receives the id of each referral a `CreateReferral` made, in order.
    """
    planned: list[int] = []
    with store.atomic():
        for effect in effects:
            if isinstance(effect, CreateReferral):
                referral_id = _create(effect, store, now)
                if created is not None:
                    created.append(referral_id)
                if effect.plan:
                    planned.append(referral_id)
                continue
            _apply(effect, store, now)
            if isinstance(effect, Plan):
                planned.extend(effect.referral_ids)
    return list(dict.fromkeys(planned))


def _create(effect: CreateReferral, store: Store, now: datetime) -> int:
    referral_id = store.insert_referral(**effect.fields)
    store.add_event(referral_id, now, "intake", effect.actor, effect.detail)
    for kind, detail in effect.events:
        store.add_event(referral_id, now, kind, effect.actor, detail)
    if effect.plan:
        store.mark_for_planning([referral_id])
    return referral_id


def queue_notice(store: Store, notice: Notify, now: datetime) -> bool:
    """One notice row, due now; with `once`, none when that person already had this kind."""
    if notice.once and store.notices_to(notice.referral_id, notice.recipient, notice.kind):
        if notice.answering is not None:  # one still waiting keeps up with the latest reply
            store.answer_later(notice.referral_id, notice.recipient, notice.kind,
                               notice.answering)
        return False
    store.add_outbox(notice.referral_id, notice.kind, notice.recipient, now, kind="notice",
                     answers_at=notice.answering,
                     payload=json.dumps(dict(notice.data), default=str))
    return True


@singledispatch
def _apply(effect: Effect, store: Store, now: datetime) -> None:
    raise TypeError(f"no executor for {type(effect).__name__}")


@_apply.register
def _(effect: RememberNames, store: Store, now: datetime) -> None:
    store.remember_names(dict(effect.names))


@_apply.register
def _(effect: SaveProfile, store: Store, now: datetime) -> None:
    store.save_profile(effect.address, effect.ideal, effect.avoid, now)


@_apply.register
def _(effect: LearnLanguage, store: Store, now: datetime) -> None:
    store.set_language(effect.address, effect.language, effect.by_hand)


@_apply.register
def _(effect: StartDigestClock, store: Store, now: datetime) -> None:
    store.first_seen(effect.referrer, now)


@_apply.register
def _(effect: SetFields, store: Store, now: datetime) -> None:
    store.update_referral(effect.referral_id, **effect.changes)


@_apply.register
def _(effect: AddEvent, store: Store, now: datetime) -> None:
    store.add_event(effect.referral_id, now, effect.kind, effect.actor, effect.detail)


@_apply.register
def _(effect: KeepUndo, store: Store, now: datetime) -> None:
    store.keep_undo(effect.referral_id, effect.actor, now, dict(effect.before))


@_apply.register
def _(effect: RestoreUndo, store: Store, now: datetime) -> None:
    store.restore_undo(effect.undo_id)


@_apply.register
def _(effect: OptOut, store: Store, now: datetime) -> None:
    store.opt_out(effect.address, effect.referral_id, now, effect.by)


@_apply.register
def _(effect: AskForget, store: Store, now: datetime) -> None:
    store.ask_forget(effect.address, effect.referral_id, now)


@_apply.register
def _(effect: Resume, store: Store, now: datetime) -> None:
    store.resume(effect.address, effect.referral_id)


@_apply.register
def _(effect: MarkUndeliverable, store: Store, now: datetime) -> None:
    store.mark_undeliverable(effect.address, effect.reason)


@_apply.register
def _(effect: ClearUndeliverable, store: Store, now: datetime) -> None:
    store.clear_undeliverable(effect.address)


@_apply.register
def _(effect: Pause, store: Store, now: datetime) -> None:
    store.pause(effect.address, effect.until, effect.reason)


@_apply.register
def _(effect: Withdraw, store: Store, now: datetime) -> None:
    store.update_outbox(effect.row_id, status=WITHDRAWN, detail=effect.detail)


@_apply.register
def _(effect: Unwithdraw, store: Store, now: datetime) -> None:
    store.update_outbox(effect.row_id, status="pending", detail=None)


@_apply.register
def _(effect: Plan, store: Store, now: datetime) -> None:
    store.mark_for_planning(list(effect.referral_ids))


@_apply.register
def _(effect: Notify, store: Store, now: datetime) -> None:
    queue_notice(store, effect, now)
