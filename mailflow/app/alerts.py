"""Telling the operator once per incident (and once on recovery): log line and admin email."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta

from mailflow.adapters.store import to_db
from mailflow.app.outgoing import queue_email, send_now
from mailflow.app.readers import firm_reader
from mailflow.app.wiring import App

log = logging.getLogger("mailflow.app.alerts")
AWAY_AT_LEAST = timedelta(hours=3)


def _queue_alert(app: App, now: datetime, event: str, **facts: str) -> bool:
    """Queue an alert to the admin, in the caller's transaction; False when there is no
    admin to tell.

    It is an outbox row like every email: if SMTP is the very thing that is down, it is
    retried with backoff and goes out when sending works again.
    """
    admin = app.config.admin
    if admin is None:
        return False
    try:
        reader = firm_reader(app.config, admin, app.store.contact(admin))
        written_in = app.renderer.language_of("alert", reader.language.code)
        rendered = app.renderer.render("alert", {"event": event, **_localised(
            facts, reader.locale(written_in), app.config.timezone)}, written_in)
        subject, text, language = rendered.subject, rendered.text, rendered.language
    except Exception as exc:  # a broken alert.j2 override must not silence the alert
        log.error("alert template failed (%s); sending the facts as they are", exc)
        subject = f"mailflow alert: {event}"
        text = "\n".join(f"{k}: {v}" for k, v in facts.items()) + "\n"
        language = "en"
    queue_email(app, "alert", admin, now, f"alert.{now.strftime('%Y%m%d%H%M%S')}",
                {"subject": subject, "text": text, "language": language})
    return True


def _localised(facts: dict[str, str], locale: str, zone: ZoneInfo) -> dict[str, str]:
    """Moments and durations as the admin's locale writes them ("23.11.2026, 10:00",
    "5 Stunden"); everything else as it is."""
    shown = dict(facts)
    for key in ("since", "at"):
        if shown.get(key):
            moment = datetime.fromisoformat(shown[key]).astimezone(zone)
            shown[key] = (f"{format_date(moment, 'medium', locale=locale)} "
                          f"{format_time(moment, 'short', locale=locale)}")
    if "away_seconds" in shown:
        away = timedelta(seconds=float(shown.pop("away_seconds")))
        shown["away"] = format_timedelta(away, threshold=2, locale=locale)
    return shown


def _send_alerts(app: App, now: datetime) -> None:
    """Try to send the queued alerts at once (any hour)."""
    try:
        send_now(app, now, "alert")
    except Exception as exc:  # the alert stays queued; the next cycle tries again
        log.error("could not email the admin about it yet: %s", exc)


def failure(app: App, now: datetime, problem: str, urgent: bool = False) -> None:
    """Record a failed cycle; alert once the incident is urgent or old enough."""
    store = app.store
    # the incident and its alert are written together: killed between the two, the
    # incident stood and its alert was never queued
    with store.atomic():
        started = store.meta("failing_since")
        if started is None:
            store.set_meta("failing_since", to_db(now) or "")
            started = to_db(now)
        assert started is not None
        if store.meta("incident"):
            return
        late = now - datetime.fromisoformat(started) >= timedelta(
            minutes=app.config.alert_after_minutes)
        if not (urgent or late):
            return
        store.set_meta("incident", f"{to_db(now)} {problem}")
        queued = _queue_alert(app, now, "failing", problem=problem, since=started)
    log.error("ALERT: %s (failing since %s)", problem, started)
    if queued:
        _send_alerts(app, now)


def success(app: App, now: datetime) -> None:
    store = app.store
    with store.atomic():  # the incident ends with the news of its end
        incident = store.meta("incident")
        store.delete_meta("failing_since", "incident")
        store.set_meta("last_success", to_db(now) or "")
        queued = bool(incident) and _queue_alert(app, now, "recovered", at=to_db(now) or "",
                                                 incident=incident or "")
    if incident:
        log.error("RECOVERED: mailflow works again (incident: %s)", incident)
    if queued:
        _send_alerts(app, now)


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"


def returned(app: App, now: datetime, last_cycle: datetime) -> None:
    """After an outage (no cycle for longer than alert_after_minutes), say how long."""
    away = now - last_cycle
    # an hourly `run --once` from cron (or the demo's simulated hours) is no outage
    if away <= max(timedelta(minutes=app.config.alert_after_minutes), AWAY_AT_LEAST):
        return
    problem = (f"mailflow was away for {_duration(away)} (last cycle {to_db(last_cycle)}); "
               "steps that fell due meanwhile are sent if still timely, else recorded as "
               "missed")
    log.warning("%s", problem)
    with app.store.atomic():
        queued = _queue_alert(app, now, "back", away_seconds=str(away.total_seconds()),
                              since=to_db(last_cycle) or "")
    if queued:
        _send_alerts(app, now)


def signin_cap(app: App, now: datetime, problem: str) -> None:
    """The web view's sign-in links reached their hourly cap over the whole tracker: the
    admin is told once an hour."""
    with app.store.atomic():
        stamp = app.store.meta("signin_cap_alerted")
        if stamp is not None and now - datetime.fromisoformat(stamp) < timedelta(hours=1):
            return
        app.store.set_meta("signin_cap_alerted", now.isoformat())
        queued = _queue_alert(app, now, "signin-cap", problem=problem)
    log.error("ALERT: %s", problem)
    if queued:
        _send_alerts(app, now)
