"""One cycle: ingest new mail, re-plan what changed, send what is due. Shared by every mode."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mailflow.adapters.mailbox import KEEP_COPY, MailboxSource
from mailflow.adapters.store import to_db
from mailflow.app import alerts, privacy
from mailflow.app.digests import queue_digests
from mailflow.app.dispatch import DispatchReport
from mailflow.app.ingest import IngestReport, ingest
from mailflow.app.planning import ChunkFacts, replan, replan_if_config_changed
from mailflow.app.wiring import App, folders_of, open_mailbox

CYCLE_KINDS = frozenset({"step", "notice", "digest", "alert"})
log = logging.getLogger("mailflow.app.cycle")


def _sent_folder(app: App, box: MailboxSource) -> Callable[[bytes], None] | None:
    """Where a copy of each sent email goes, when a sent folder is set and the source can."""
    folder = app.mailbox.sent_folder
    if folder is None or KEEP_COPY not in box.capabilities:
        return None
    return lambda raw: box.append(folder, raw)


PLAN_CHUNK = 200  # referrals planned per commit (each still in its own savepoint)


def plan_marked(app: App, now: datetime) -> int:
    """Re-plan every referral marked by a change; each plan commits with its mark's removal.

    A few hundred plans share one commit (a first run marks thousands, and every commit
    waits for the disk); each is still all or nothing in its own savepoint.
    """
    marked = app.store.marked_for_planning()
    for start in range(0, len(marked), PLAN_CHUNK):
        chunk = marked[start:start + PLAN_CHUNK]
        with app.store.atomic():
            known = ChunkFacts.read(app.store, chunk)
            for referral_id in chunk:
                try:  # one referral that cannot be planned keeps its mark and stops no other
                    with app.store.atomic():
                        replan(app.store, referral_id, app.config, app.calendar, now, known)
                except Exception:
                    log.exception("R-%s could not be planned; it is tried again next cycle",
                                  referral_id)
    return len(marked)


@dataclass
class CycleReport:
    ingest: IngestReport = field(default_factory=IngestReport)
    dispatch: DispatchReport = field(default_factory=DispatchReport)
    digests: list[str] = field(default_factory=list)  # referrers whose digest was queued
    privacy: privacy.DailyReport | None = None  # the day's erasures and retention, if run


def run_cycle(app: App, now: datetime, mailbox: MailboxSource | None = None,
              since: datetime | None = None,
              progress: Callable[[int], None] | None = None) -> CycleReport:
    """Ingest all new mail, then send everything due as of `now`."""
    log.debug("phase: cycle started")  # these phase lines time bench/ingest.py --command
    report = CycleReport()
    last_poll = app.store.meta("last_poll")
    if last_poll:
        alerts.returned(app, now, datetime.fromisoformat(last_poll))
    handler = app.handler
    # what arrives now arrived since the last cycle, whatever its sender's clock says
    handler.arrived_after = datetime.fromisoformat(last_poll) if last_poll else None
    replan_if_config_changed(app.store, app.config, app.calendar, now)
    own = mailbox is None
    box = mailbox if mailbox is not None else open_mailbox(app.config)
    log.debug("phase: mailbox open")
    try:
        report.ingest = ingest(box, handler, folders_of(app.config), now,
                               app.mailbox.batch_size, since,
                               progress, timedelta(days=app.config.workflow.history_after_days),
                               meanwhile=lambda: plan_marked(app, now))  # during the last move
        log.debug("phase: moved and planned")
        with app.store.atomic():
            app.store.set_meta("last_poll", to_db(now) or "")
        report.digests = queue_digests(app, now)
        report.privacy = privacy.daily(app, now, box)
        # sign-in links are the web view's to send (its sender thread): never both at once
        report.dispatch = app.dispatcher().send_due(now, _sent_folder(app, box),
                                                    kinds=CYCLE_KINDS)
        log.debug("phase: sent")
    finally:
        if own:
            box.close()
    if report.dispatch.sent:
        with app.store.atomic():
            app.store.set_meta("last_send", to_db(now) or "")
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.ingest.by_kind.items()))
    log.info("cycle at %s: %s fetched (%s), %s duplicates; %s sent, %s deferred, %s failed, "
             "%s missed", now.isoformat(timespec="minutes"), report.ingest.fetched,
             kinds or "nothing new", report.ingest.duplicates, len(report.dispatch.sent),
             report.dispatch.deferred, report.dispatch.failed, report.dispatch.missed)
    return report
