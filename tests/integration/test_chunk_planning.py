"""Planning a chunk with facts read once for it (app.planning.ChunkFacts) plans exactly
what planning each referral on its own does: opt-outs, bounces and pauses included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailflow.adapters.store import Store
from mailflow.app.cycle import plan_marked
from mailflow.app.planning import HistorySummaries, reconcile
from mailflow.app.wiring import App, build_app
from mailflow.config import parse_config
from mailflow.core.model import Status

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)


def empty_app(tmp_path: Path) -> App:
    (tmp_path / "mail").mkdir(parents=True)
    config = parse_config({"tracker": "referrals@firm.example", "database": "m.db",
                           "maildir": "mail", "outbox_dir": "o",
                           "referrers": ["*@firm.example"]}, tmp_path / "m.yaml")
    return build_app(config)


def populated(tmp_path: Path) -> App:
    app = empty_app(tmp_path)
    store = app.store
    with store.atomic():
        ids = []
        for n in range(30):
            referral = store.add_referral(
                status=Status.OPEN, direction="given", referrer="alice@firm.example",
                client=f"c{n % 7}@mail.example", partner=f"p{n % 5}@law.example",
                subject=f"Intro {n}", created_at=NOW - timedelta(days=n % 9),
                intro_message_id=f"i{n}@firm.example", context="", candidates=[],
                names={}, history=False)
            ids.append(referral.id)
        store.opt_out("c1@mail.example", 0, NOW)  # stop for everything
        store.opt_out("p2@law.example", ids[7], NOW)  # stop for one referral
        store.mark_undeliverable("c3@mail.example", "550 user unknown")
        store.pause("p4@law.example", NOW + timedelta(days=5), "away")
        store.mark_for_planning(ids)
    return app


def outbox(app: App) -> list[tuple[object, ...]]:
    return sorted((r.referral_id, r.step, r.recipient, r.due_at, r.status)
                  for i in range(1, 31) for r in app.store.step_rows(i))


def test_a_chunk_plans_what_one_by_one_plans(tmp_path: Path) -> None:
    chunked, single = populated(tmp_path / "a"), populated(tmp_path / "b")
    try:
        assert plan_marked(chunked, NOW) == 30
        with single.store.atomic():
            for referral_id in range(1, 31):
                reconcile(single.store, referral_id, single.config, single.calendar, NOW)
        planned = outbox(chunked)
        assert planned == outbox(single)
        assert len(planned) > 60
        recipients = {r[2] for r in planned if r[4] == "pending"}
        assert "c1@mail.example" not in recipients and "c3@mail.example" not in recipients
    finally:
        chunked.close()
        single.close()


def test_a_ledger_only_referral_plans_nothing_and_keeps_no_pending_step(
        tmp_path: Path) -> None:
    """History is never chased: planning it is quick (most of a first run), yet a pending
    step one of them somehow has is still cancelled. A received referral plans only its own
    steps, aimed at the firm."""
    app = populated(tmp_path)
    store = app.store
    try:
        with store.atomic():
            kinds = {"history": ("given", True), "received": ("received", False)}
            ids = {}
            for name, (direction, history) in kinds.items():
                ids[name] = store.add_referral(
                    status=Status.OPEN, direction=direction, referrer="alice@firm.example",
                    client="c@mail.example", partner="p@law.example", subject=name,
                    created_at=NOW, intro_message_id=f"{name}@firm.example", context="",
                    candidates=[], names={}, history=history).id
            stale = ids["history"]  # say, planned by an older version before it was history
            store.add_outbox(stale, "nudge", "p@law.example", NOW, kind="step")
            store.mark_for_planning(list(ids.values()))
        plan_marked(app, NOW)
        assert [r.status for r in store.step_rows(stale)] == ["cancelled"]
        assert [(r.step, r.recipient) for r in store.step_rows(ids["received"])] == [
            ("received_reminder", "alice@firm.example")]
        assert store.marked_for_planning() == []
    finally:
        app.close()


def test_a_history_summary_keeps_no_count_a_rollback_undid(tmp_path: Path) -> None:
    """The summary is kept between intros; an intro whose savepoint rolled back (it was
    quarantined after all) is not in it, and the next one is counted on the stored row."""
    store = Store(tmp_path / "m.db")
    summaries = HistorySummaries(store)
    try:
        with store.atomic():
            summaries.add("alice@firm.example", [1], NOW - timedelta(days=40), NOW)
            with pytest.raises(RuntimeError), store.atomic():
                summaries.add("alice@firm.example", [2], NOW - timedelta(days=90), NOW)
                raise RuntimeError("the rest of that message failed")
            summaries.add("alice@firm.example", [3, 4], NOW - timedelta(days=30), NOW)
        pending = store.pending_notice("alice@firm.example", "history")
        assert pending is not None
        data = json.loads(pending.payload)
        assert (data["count"], data["tags"]) == (3, ["R-1", "R-3", "R-4"])
        assert data["first"] == (NOW - timedelta(days=40)).date().isoformat()
        assert len(store.outbox_rows(1)) == 1  # one summary, not one per intro
    finally:
        store.close()


def test_deferred_history_summaries_write_what_was_kept_once_per_batch(
        tmp_path: Path) -> None:
    """Ingest's way: additions wait for their message to be kept and are written just
    before the batch commits, once per referrer; a message undone, or a batch that
    ended without its flush, leaves no trace."""
    store = Store(tmp_path / "m.db")
    summaries = HistorySummaries(store, deferred=True)
    alice, bob = "alice@firm.example", "bob@firm.example"
    try:
        with store.atomic():  # a batch that failed before its flush
            summaries.add(alice, [9], NOW - timedelta(days=99), NOW)
            summaries.message_ended(kept=True)
            store.db.execute("select 1")
        with store.atomic():
            summaries.add(alice, [1], NOW - timedelta(days=40), NOW)
            summaries.message_ended(kept=True)
            summaries.add(alice, [2], NOW - timedelta(days=90), NOW)
            summaries.message_ended(kept=False)  # quarantined after all
            summaries.add(alice, [3, 4], NOW - timedelta(days=30), NOW)
            summaries.add(bob, [5], NOW - timedelta(days=20), NOW)
            summaries.message_ended(kept=True)
            assert store.pending_notice(alice, "history") is None  # nothing written yet
            summaries.flush()
        with store.atomic():  # the next batch adds to the stored row
            summaries.add(alice, [6], NOW - timedelta(days=50), NOW)
            summaries.message_ended(kept=True)
            summaries.flush()
        pending = store.pending_notice(alice, "history")
        assert pending is not None
        data = json.loads(pending.payload)
        assert (data["count"], data["tags"]) == (4, ["R-1", "R-3", "R-4", "R-6"])
        assert data["first"] == (NOW - timedelta(days=50)).date().isoformat()
        assert len(store.outbox_rows(1)) == 1  # one summary, not one per intro
        bobs = store.pending_notice(bob, "history")
        assert bobs is not None and json.loads(bobs.payload)["tags"] == ["R-5"]
    finally:
        store.close()


def test_a_brief_cancelled_on_one_referral_is_planned_on_the_partners_next(
        tmp_path: Path) -> None:
    """The partner brief goes once per partner: a second referral plans none while the
    first one's is pending. Closed before it went, the first cancels it, and the second
    is planned again so that the partner is still briefed once."""
    app = empty_app(tmp_path)
    store = app.store

    def briefs() -> dict[int, str]:
        return {r.referral_id: r.status for i in (first, second, other)
                for r in store.step_rows(i) if r.step == "partner_brief"}

    try:
        with store.atomic():
            first, second, other = (store.add_referral(
                status=Status.OPEN, direction="given", referrer="alice@firm.example",
                client=f"c{n}@mail.example", partner=partner, subject=f"Intro {n}",
                created_at=NOW, intro_message_id=f"i{n}@firm.example", context="",
                candidates=[], names={}, history=False).id
                for n, partner in enumerate(["bob@law.example"] * 2 + ["dan@tax.example"]))
            store.mark_for_planning([first, second, other])
        plan_marked(app, NOW)
        assert briefs() == {first: "pending", other: "pending"}
        with store.atomic():
            store.update_referral(first, status=Status.CLOSED, closed_at=NOW)
            store.mark_for_planning([first])
        plan_marked(app, NOW)
        assert store.marked_for_planning() == [second]  # dan's referral is not touched
        plan_marked(app, NOW)
        assert briefs() == {first: "cancelled", second: "pending", other: "pending"}
    finally:
        app.close()
