"""`mailflow run`: the cycle on a ticker, IDLE when the server has it, until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType

import schedule

from mailflow.adapters import clock, systemd
from mailflow.adapters.mailbox import PUSH, MailboxSource
from mailflow.app import alerts
from mailflow.app.cycle import run_cycle
from mailflow.app.wiring import App, open_mailbox
from mailflow.errors import ConfigError, MailboxError, MailflowError, SignInError

log = logging.getLogger("mailflow.app.daemon")
IDLE_RENEW_SECONDS = 9 * 60  # servers drop IDLE near 29 min, Office 365 sooner
MAX_BACKOFF_SECONDS = 300


class _Interrupted(Exception):
    """Raised by the signal handler to leave a wait (IDLE, sleep) at once."""


class Daemon:
    def __init__(self, app: App, since: datetime | None = None,
                 now: Callable[[], datetime] = clock.now) -> None:
        self.app = app
        self.since = since
        self.now = now
        self.stopping = False
        self.busy = False
        self.mailbox: MailboxSource | None = None
        self.failures = 0
        self.poll_interval = app.mailbox.poll_interval
        self.use_idle = app.mailbox.push
        self.watchdog = systemd.watchdog_seconds()

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: finishing the work in hand, then exiting", signum)
        self.stopping = True
        if not self.busy:
            raise _Interrupted

    def cycle(self) -> None:
        """One guarded cycle; failures are reported and retried with backoff."""
        now = self.now()
        self.busy = True
        try:
            if self.mailbox is None:
                self.mailbox = open_mailbox(self.app.config)
            run_cycle(self.app, now, self.mailbox, self.since)
            self.failures = 0
            alerts.success(self.app, now)
        except ConfigError:
            raise  # only a mistake in the configuration stops the daemon
        except Exception as exc:  # anything else: report, back off, try again
            self.failures += 1
            self._drop_mailbox()
            # waiting mends neither a refused password nor a lapsed sign-in: tell at once
            urgent = ((isinstance(exc, MailboxError) and "password" in str(exc))
                      or isinstance(exc, SignInError))
            if isinstance(exc, MailflowError):
                log.error("cycle failed (%s in a row): %s", self.failures, exc)
            else:
                log.exception("cycle failed (%s in a row) on an unexpected error",
                              self.failures)
            try:
                alerts.failure(self.app, now, f"{type(exc).__name__}: {exc}"
                               if not isinstance(exc, MailflowError) else str(exc), urgent)
            except Exception:
                log.exception("could not record or send the alert")
        finally:
            self.busy = False

    def close(self) -> None:
        self._drop_mailbox()

    def _drop_mailbox(self) -> None:
        if self.mailbox is not None:
            try:
                self.mailbox.close()
            except Exception:  # the connection is already gone: nothing to tidy
                log.debug("closing a broken mailbox connection failed", exc_info=True)
            self.mailbox = None

    def _wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking early for new mail (IDLE) or a signal."""
        box = self.mailbox
        if (self.use_idle and box is not None and PUSH in box.capabilities
                and box.push_ready()):
            try:
                if box.idle_wait(min(seconds, IDLE_RENEW_SECONDS)):
                    self.cycle()
                return
            except MailflowError as exc:
                log.warning("IDLE failed, reconnecting: %s", exc)
                self._drop_mailbox()
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(min(1.0, end - time.monotonic()))

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        ticker = schedule.Scheduler()
        ticker.every(self.poll_interval).seconds.do(self.cycle)
        log.info("mailflow running: %s, polling every %ss%s", self.app.config.tracker,
                 self.poll_interval, " with IDLE" if self.use_idle else "")
        try:
            self.cycle()
            systemd.notify("READY=1")
            while not self.stopping:
                systemd.notify("WATCHDOG=1")  # a loop stuck anywhere stops these: restart
                ticker.run_pending()
                if self.stopping:
                    break
                backoff = min(MAX_BACKOFF_SECONDS, 5 * 2 ** self.failures) if self.failures else 0
                wait = max(1.0, ticker.idle_seconds or 1.0, backoff)
                if self.watchdog is not None:
                    wait = min(wait, self.watchdog / 2)  # ping well within the watchdog
                self._wait(wait)
        except _Interrupted:
            pass
        systemd.notify("STOPPING=1")
        self._drop_mailbox()
        log.info("mailflow stopped")
