"""`mailflow web`: each referrer's own referrals, partners and ledger, signed in by email.

Starlette serves server-rendered pages (Jinja2, autoescaped, no JavaScript). Every
change is a POST with a CSRF token that goes to `core.decisions.on_operator`, or to
the partner directory's own functions, and is applied by `app.executor`, the same
path as the command line and the email replies. Endpoints are `async` so that every
database call runs on the event loop's one thread (SQLite connections are per thread).
"""

from __future__ import annotations

import contextlib
import hmac
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from functools import partial
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mailflow.adapters import clock
from mailflow.adapters.pages import Pages
from mailflow.adapters.store import OutboxRow, WebSession
from mailflow.app import alerts, directory, operator
from mailflow.app.ledger_view import partner_rows
from mailflow.app.money import value_text
from mailflow.app.operator import Action
from mailflow.app.planning import country_of
from mailflow.app.readers import party_languages
from mailflow.app.wiring import App
from mailflow.config import partner_entry
from mailflow.core.addressing import is_plain_address
from mailflow.core.firm import referrer_rows
from mailflow.core.languages import NAMES, locale_for
from mailflow.core.model import Outcome, Referral, Status
from mailflow.core.stale import is_stale
from mailflow.core.wording import explain_email, step_name
from mailflow.errors import ConfigError, UsageError
from mailflow.resources import templates_dir
from mailflow.web import people as people_view
from mailflow.web.auth import (
    SigninRequest,
    SigninSender,
    link_email,
    mailbox_of,
    use_link,
)
from mailflow.web.ledger_view import (
    PERIODS,
    charted,
    ledger_charts,
    period_start,
    referrals_per_month,
)
from mailflow.web.outbox_view import outbox_subject
from mailflow.web.sessions import LIFETIME, Flash, Sessions

PAGE_SIZE = 50
SESSION_COOKIE = "mailflow_session"  # a random token; the session itself is on the server
AUTH_COOKIE = "mailflow_auth"  # binds an emailed link's button to the browser that opened it
KNOWN_COOKIE = "mailflow_known"  # the addresses this browser signed in before (signed)
KNOWN_FOR = 365 * 24 * 3600
CLEARABLE = ("language", "timezone", "country", "catch_up_days")
FIELD_LIMITS = {"name": 200, "niche": 200, "notes": 2000, "language": 8, "timezone": 64,
                "country": 8, "catch_up_days": 5}
_SAFE_PATH = re.compile(r"/[A-Za-z0-9_\-/]*")


class Site:
    """The pages of one mailflow: a store, a clock, and who is signed in."""

    def __init__(self, app: App, now: Callable[[], datetime], https: bool,
                 public_url: str) -> None:
        self.app = app
        self.now = now
        self.https = https
        # sign-in links point here, never at the request's Host header: a stranger could
        # otherwise ask for a victim's link pointing at a host of their own
        self.public_url = public_url.rstrip("/")
        self.pages = Pages()
        self.sessions = Sessions(app.store, app.config)
        self.signins = SigninSender(app.config, self.public_url, alerts.signin_cap)
        self.signer = URLSafeTimedSerializer(app.secret, salt="mailflow-web-cookies")

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        yield
        self.signins.stop()

    # -- helpers ---------------------------------------------------------------
    def _session(self, request: Request) -> WebSession | None:
        """This request's live session (looked up once per request)."""
        if not hasattr(request.state, "session"):
            request.state.session = self.sessions.current(
                request.cookies.get(SESSION_COOKIE, ""), self.now())
        session: WebSession | None = request.state.session
        return session

    def _who(self, request: Request) -> str | None:
        session = self._session(request)
        return session.email if session else None

    def _admin(self, who: str | None) -> bool:
        return who is not None and who == (self.app.config.admin or "").lower()

    def _signed_in(self, request: Request) -> str:
        who = self._who(request)
        if who is None:
            raise HTTPException(303, headers={"Location": "/signin"})
        return who

    def _page(self, request: Request, name: str, title: str, code: int = 200,
              message: str = "", error: bool = False, **context: Any) -> HTMLResponse:
        session = self._session(request)
        flash = self.sessions.take_flash(session) if session else None
        who = session.email if session else None
        body = self.pages.render(name, {
            "title": title, "who": who, "admin": self._admin(who),
            "csrf": session.csrf if session else "",
            "message": flash.text if flash else message,
            "error": flash.error if flash else error,
            "undo": flash.undo if flash else None, **context})
        return HTMLResponse(body, status_code=code)

    def _back(self, request: Request, path: str, text: str, error: bool = False,
              undo: dict[str, str] | None = None) -> RedirectResponse:
        """To `path` (relative), with `text` said there once: from the session, never from
        the query string, where anyone could write a sentence onto our page."""
        session = self._session(request)
        if session is not None:
            self.sessions.flash(session, Flash(text[:300], error, undo))
        return RedirectResponse(path, status_code=303)

    async def _form(self, request: Request) -> dict[str, str]:
        """The POSTed form, refused unless it carries this session's CSRF token."""
        form = await request.form()
        token = str(form.get("csrf", ""))
        session = self._session(request)
        expected = session.csrf if session else ""
        if not expected or not hmac.compare_digest(token, expected):
            raise HTTPException(403, "this form has expired; reload the page and try again")
        return {k: str(v) for k, v in form.items()}

    def _cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                            secure=self.https, path="/")

    def _known(self, request: Request) -> list[str]:
        """The addresses this browser signed in before (a signed cookie of ours)."""
        try:
            known = self.signer.loads(request.cookies.get(KNOWN_COOKIE, ""), max_age=KNOWN_FOR)
        except BadSignature:
            return []
        return [str(k) for k in known][:5] if isinstance(known, list) else []

    def _visible(self, who: str, referral_id: int) -> Referral:
        referral = self.app.store.find_referral(referral_id)
        if referral is None or not (self._admin(who) or referral.referrer == who):
            raise HTTPException(404)
        return referral

    def _local(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return moment.astimezone(self.app.config.timezone).strftime("%a %d %b %Y %H:%M")

    def _why(self, row: OutboxRow) -> str:
        return explain_email(row.kind, row.step, self.app.config.workflow.steps)

    # -- sign-in ---------------------------------------------------------------
    async def signin_form(self, request: Request) -> Response:
        return self._page(request, "signin", "Sign in", sent=False)

    async def signin(self, request: Request) -> Response:
        """The same work and the same answer whoever asks: the address goes to the sender
        thread, which alone looks at who may sign in, and at the limits."""
        form = await request.form()
        email = str(form.get("email", "")).strip()[:254]
        client = request.client.host if request.client else "?"
        self.signins.submit(SigninRequest(email, client, mailbox_of(email) in self._known(
            request), self.now()))
        # the page repeats an address, never a sentence someone else made us post
        return self._page(request, "signin", "Check your inbox", sent=True,
                          email=email if is_plain_address(email) else "that address")

    async def auth_form(self, request: Request) -> Response:
        """The emailed link shows a button and uses nothing up: mail scanners (safe-links
        services) fetch links before the person clicks them."""
        token = request.query_params.get("t", "")[:2000]
        email = link_email(self.app, token, self.now())
        if email is None:
            return self._page(request, "error", "This sign-in link has expired or was used",
                              code=400, message="Ask for a new one on the sign-in page.")
        nonce = secrets.token_urlsafe(24)
        response = self._page(request, "auth", "Sign in", nonce=nonce, token=token,
                              email=email)
        # only this browser can press the button
        self._cookie(response, AUTH_COOKIE, self.signer.dumps(nonce), 3600)
        return response

    async def auth(self, request: Request) -> Response:
        form = await request.form()
        try:
            expected = str(self.signer.loads(request.cookies.get(AUTH_COOKIE, ""),
                                             max_age=3600))
        except BadSignature:
            expected = ""
        if not expected or not hmac.compare_digest(str(form.get("auth", "")), expected):
            raise HTTPException(403, "open the link from your email again")
        now = self.now()
        email = use_link(self.app, str(form.get("t", "")), now)
        if email is None:
            return self._page(request, "error", "This sign-in link has expired or was used",
                              code=400)
        old = self._session(request)
        if old is not None:  # a new id at every sign-in: a planted cookie is worth nothing
            self.sessions.end(old)
        token = self.sessions.start(email, now)
        response = RedirectResponse("/referrals", status_code=303)
        self._cookie(response, SESSION_COOKIE, token, int(LIFETIME.total_seconds()))
        response.delete_cookie(AUTH_COOKIE, path="/")
        known = [email, *(k for k in self._known(request) if k != email)][:5]
        self._cookie(response, KNOWN_COOKIE, self.signer.dumps(known), KNOWN_FOR)
        return response

    async def signout(self, request: Request) -> Response:
        session = self._session(request)
        if session is not None:  # an ended session has nothing to sign out of
            await self._form(request)
            self.sessions.end(session)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/referrals" if self._who(request) else "/signin",
                                status_code=303)

    # -- referrals -------------------------------------------------------------
    async def referrals(self, request: Request) -> Response:
        who = self._signed_in(request)
        status = request.query_params.get("status", "")
        status = status if status in {s.value for s in Status} else ""
        search = request.query_params.get("q", "").strip()[:100]
        page = max(1, _number(request.query_params.get("page", "1")) or 1)
        found, total = self.app.store.referrals_page(
            None if self._admin(who) else who, status or None, search,
            (page - 1) * PAGE_SIZE, PAGE_SIZE)
        now = self.now()
        rows = [{"id": r.id, "tag": r.tag, "status": str(r.status),
                 "outcome": str(r.outcome) if r.outcome else "",
                 "created": self._local(r.created_at)[:15], "client": r.client,
                 "partner": r.partner, "subject": r.subject,
                 "snoozed_until": self._local(r.snoozed_until) if r.snoozed_until
                 and r.snoozed_until > now else "",
                 "stale": is_stale(r, now)} for r in found]
        return self._page(request, "referrals", "Referrals", referrals=rows, total=total,
                          status=status, q=search, page=page,
                          more=page * PAGE_SIZE < total, statuses=[s.value for s in Status])

    async def referral(self, request: Request) -> Response:
        who = self._signed_in(request)
        referral = self._visible(who, _int(request.path_params["rid"]))
        store = self.app.store
        stops = store.stops_on(referral.id, [e for e in (referral.client, referral.partner)
                                             if e])
        languages = party_languages(self.app, referral)
        parties = [{"role": role, "email": email, "name": referral.names.get(email or "", ""),
                    "stopped": email in stops, "stopped_by": stops.get(email or ""),
                    "language": languages.get(email or "")}
                   for role, email in (("referrer", referral.referrer),
                                       ("client", referral.client),
                                       ("partner", referral.partner))]
        people = [p for p in dict.fromkeys((*referral.candidates, referral.partner,
                                            referral.client))
                  if p and p != referral.referrer]
        events = [{"at": self._local(e.at), "kind": e.kind, "actor": e.actor,
                   "detail": e.detail} for _, e in store.events(referral.id)]
        rows = sorted(store.outbox_rows(referral.id), key=lambda o: (o.sent_at or o.due_at, o.id))
        emails = [{"due_at": self._local(o.sent_at or o.due_at), "step": o.step,
                   "recipient": o.recipient, "status": o.status, "detail": o.detail,
                   "why": self._why(o)} for o in rows]
        view = {"id": referral.id, "status": str(referral.status),
                "outcome": str(referral.outcome) if referral.outcome else "",
                "context": referral.context, "client": referral.client,
                "partner": referral.partner,
                "needs_partner": referral.status is Status.NEEDS_PARTNER,
                "awaiting_consent": referral.status is Status.AWAITING_CONSENT,
                "snoozed_until": (self._local(referral.snoozed_until)
                                  if referral.snoozed_until and referral.snoozed_until
                                  > self.now() else "")}
        return self._page(request, "referral", f"{referral.tag}: {referral.subject}",
                          r=view, parties=parties, people=people, events=events,
                          emails=emails, closed=referral.status is Status.CLOSED,
                          languages=NAMES)

    async def act(self, request: Request) -> Response:
        who = self._signed_in(request)
        form = await self._form(request)
        referral = self._visible(who, _int(request.path_params["rid"]))
        here = f"/referrals/{referral.id}"
        now = self.now()
        store = self.app.store
        action = Action(form.get("action", ""), outcome=_outcome(form.get("outcome")),
                        days=_days(form.get("days")), partner=form.get("partner") or None,
                        address=form.get("address") or None,
                        undo_id=_number(form.get("undo_id", "")))
        before = {o.id for o in store.outbox_rows(referral.id) if o.status == "pending"}
        try:
            updated = operator.act(self.app, referral, action, now, f"{who} (via web)")
        except ValueError as exc:
            return self._back(request, here, str(exc), error=True)
        queued = [o for o in store.outbox_rows(referral.id)
                  if o.status == "pending" and o.id not in before]
        text, undo = _said(action.name, updated, action.address, queued)
        if undo is not None and undo.get("action") == "undo":
            change = operator.last_change(self.app, updated, now, f"{who} (via web)")
            undo = {**undo, "undo_id": str(change)} if change is not None else None
        return self._back(request, here, text,
                          undo={"to": f"{here}/action", **undo} if undo else None)

    # -- partners, ledger, outbox, status --------------------------------------
    async def partners(self, request: Request) -> Response:
        who = self._signed_in(request)
        rows = partner_rows(self.app, self.now(), None if self._admin(who) else who)
        records = {e: r for r in self.app.store.partner_records() for e in r.emails}
        editor = self._editor(who)
        for row in rows:
            record = records.get(row["email"])
            row["known"] = record is not None
            row["added_by"] = record.added_by if record else None
            row["changeable"] = (record is not None and record.source != "config"
                                 and editor.may_change(record))
            row["value_text"] = value_text(row["value_given"], row["value_received"],
                                           self.app.config, locale_for("en", country_of(
                                               self.app.config)))
        editing = request.query_params.get("edit", "").strip().lower()
        current = next((r for r in rows if r["email"] == editing and r["changeable"]), None)
        return self._page(request, "partners", "Partners", partners=rows, editing=current,
                          languages=NAMES)

    def _editor(self, who: str) -> directory.Editor:
        return directory.Editor(f"{who} (via web)", "web", "the config file", who,
                                self._admin(who))

    async def change_partner(self, request: Request) -> Response:
        who = self._signed_in(request)
        form = await self._form(request)
        op, email = form.get("op", ""), form.get("email", "").strip().lower()
        changes = {k: form.get(k, "").strip() or None for k in FIELD_LIMITS}
        for key in CLEARABLE:  # an empty choice here means "not set", not "unchanged"
            changes[key] = changes[key] or ""
        store, now, editor = self.app.store, self.now(), self._editor(who)
        undo = None
        try:
            if not is_plain_address(email):
                raise UsageError(f"{email[:80]!r} is not an email address")
            for key, value in changes.items():
                if value is not None and len(value) > FIELD_LIMITS[key]:
                    raise UsageError(f"the {key} is too long (at most {FIELD_LIMITS[key]} "
                                     "characters)")
            if op == "add":
                directory.add(store, partner_entry({"email": email, **changes}), editor, now)
                said = f"Added {email} to the partners."
            elif op == "edit":
                directory.edit(store, (email,), changes, editor, now)
                said = f"Saved {email}."
            elif op == "remove":
                _, change = directory.remove(store, email, editor, now)
                said = f"Removed {email} from the partners."
                undo = {"to": "/partners", "op": "restore", "email": email,
                        "change": str(change)}
            elif op == "restore":
                back = directory.restore(store, _number(form.get("change", "")) or 0, editor,
                                         now)
                said = f"{back} is a partner again, as it was."
            else:
                raise UsageError(f"unknown change {op[:20]!r}")
        except (UsageError, ConfigError) as exc:
            # never a server path on a page
            text = str(exc).replace(str(self.app.config.path), "the config file")
            return self._back(request, "/partners", text, error=True)
        return self._back(request, "/partners", said, undo=undo)

    async def cancel_email(self, request: Request) -> Response:
        """Cancel a planned email (or, with `undo`, plan it again), recorded on its referral."""
        who = self._signed_in(request)
        form = await self._form(request)
        row = self.app.store.outbox_row(_int(request.path_params["oid"]))
        if row is None or not row.referral_id:
            raise HTTPException(404)
        self._visible(who, row.referral_id)
        undo = form.get("undo") == "1"
        try:
            operator.withdraw(self.app, row, self.now(), f"{who} (via web)", undo=undo)
        except ValueError as exc:
            return self._back(request, "/outbox", str(exc), error=True)
        what = f"the {step_name(row.step)} to {row.recipient} (R-{row.referral_id})"
        if undo:
            return self._back(request, "/outbox", f"Planned again: {what}.")
        return self._back(request, "/outbox", f"Cancelled {what}; it will not be sent.",
                          undo={"to": f"/outbox/{row.id}/cancel", "undo": "1"})

    async def sessions_page(self, request: Request) -> Response:
        who = self._signed_in(request)
        if not self._admin(who):
            raise HTTPException(404)
        zone = self.app.config.timezone
        rows = [{"id": s.id, "email": s.email, "admin": s.admin,
                 "started": self._local(s.created_at), "seen": self._local(s.seen_at)}
                for s in self.app.store.sessions() if self.sessions.is_live(s, self.now())]
        changes = [{"at": c.at.astimezone(zone).strftime("%a %d %b %Y %H:%M"),
                    "actor": c.actor, "change": c.change, "email": c.email,
                    "detail": c.detail} for c in self.app.store.partner_changes()]
        return self._page(request, "sessions", "Sessions and changes", sessions=rows,
                          changes=changes)

    async def end_session(self, request: Request) -> Response:
        who = self._signed_in(request)
        form = await self._form(request)
        if not self._admin(who):
            raise HTTPException(404)
        ended = self.sessions.end_by_id(form.get("id", ""))
        return self._back(request, "/sessions", "Signed out." if ended else
                          "That session had already ended.")

    async def ledger(self, request: Request) -> Response:
        who = self._signed_in(request)
        mine = None if self._admin(who) else who
        period = request.query_params.get("period", "all")
        period = period if period in PERIODS else "all"
        zone = self.app.config.timezone
        start = period_start(period, self.now(), zone)
        rows = [r for r in partner_rows(self.app, self.now(), mine, since=start)
                if r["given"] or r["received"]]
        drawn = charted(rows)
        charts: dict[str, Any] = ledger_charts(drawn, rows, referrals_per_month(
            self.app.store, mine, start, zone))
        return self._page(request, "ledger", "Ledger", rows=rows, period=period,
                          periods=PERIODS, charted=len(drawn),
                          since=self._local(start)[:15], **charts)

    async def outbox(self, request: Request) -> Response:
        who = self._signed_in(request)
        rows = self.app.store.pending_of(None if self._admin(who) else who)
        emails = [{"id": o.id, "due_at": self._local(o.due_at), "referral_id": o.referral_id,
                   "referral": f"R-{o.referral_id}" if o.referral_id else "",
                   "step": o.step, "recipient": o.recipient, "why": self._why(o),
                   **outbox_subject(o)} for o in rows]
        return self._page(request, "outbox", "Outbox", emails=emails,
                          zone=str(self.app.config.timezone))

    async def status(self, request: Request) -> Response:
        who = self._signed_in(request)
        if not self._admin(who):
            raise HTTPException(404)
        store = self.app.store
        summary = {"last_poll": self._stored_time(store.meta("last_poll")),
                   "last_send": self._stored_time(store.meta("last_send")),
                   "pending": store.counts()["pending"], "failed": store.failed_count(),
                   "incident": store.meta("incident")}
        failing = [{"referral": f"R-{o.referral_id}" if o.referral_id else "",
                    "referral_id": o.referral_id, "step": o.step, "recipient": o.recipient,
                    "detail": o.detail} for o in store.failed_rows()]
        quarantine = [{**q, "seen_at": self._stored_time(q.get("seen_at"))}
                      for q in store.quarantined(50)]
        return self._page(request, "status", "Status", s=summary, failing=failing,
                          quarantine=quarantine)

    def _stored_time(self, value: object) -> str:
        """A time as the store keeps it (ISO text), in the firm's time zone."""
        if not isinstance(value, str) or not value:
            return ""
        try:
            return self._local(datetime.fromisoformat(value))
        except ValueError:
            return value

    async def firm(self, request: Request) -> Response:
        """Each referrer side by side, for the admin: who gives, who reciprocates."""
        who = self._signed_in(request)
        if not self._admin(who):
            raise HTTPException(404)
        rows = referrer_rows(self.app.store.referrals(), self.now())
        return self._page(request, "firm", "The firm", rows=rows)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 303:
            return RedirectResponse(exc.headers["Location"] if exc.headers else "/",
                                    status_code=303)
        path = request.url.path
        if (exc.status_code == 404 and request.method == "GET" and path.endswith("/")
                and _SAFE_PATH.fullmatch(path.rstrip("/")) and not path.startswith("//")):
            # relative, never built from the Host header
            return RedirectResponse(path.rstrip("/"), status_code=307)
        titles = {404: "Not found", 403: "Refused", 405: "Not allowed"}
        message = exc.detail if exc.status_code == 403 else ""
        return self._page(request, "error", titles.get(exc.status_code, "Error"),
                          code=exc.status_code, message=message, error=True)


def _said(action: str, referral: Referral, address: str | None,
          queued: list[OutboxRow]) -> tuple[str, dict[str, str] | None]:
    """What the page says after an action, and the undo it offers."""
    undo: dict[str, str] | None = {"action": "undo"}
    if action == "close":
        text = f"{referral.tag} is closed ({referral.outcome})."
    elif action == "reopen":
        text = f"{referral.tag} is open again."
    elif action == "snooze":
        until = referral.snoozed_until
        text = f"{referral.tag} is snoozed until {until:%d %b %Y}." if until else "Snoozed."
    elif action in ("partner", "swap"):
        text = f"The partner is now {referral.partner}, the client {referral.client or '-'}."
    elif action == "stop":
        text = f"No more mail to {address} about {referral.tag}."
        undo = {"action": "resume", "address": address or ""}
    elif action == "resume":
        text, undo = f"{address} gets mail about {referral.tag} again.", None
    else:
        text, undo = "Undone: the referral is as it was before your change.", None
    if queued:
        text += " Queued: " + ", ".join(f"{step_name(o.step)} to {o.recipient}"
                                        for o in queued) + "."
    return text, undo


def _number(value: str) -> int | None:
    """A small positive number from a URL, or None: a 30-digit one would overflow SQLite."""
    return int(value) if value.isdigit() and len(value) <= 9 else None


def _int(value: str) -> int:
    number = _number(value)
    if number is None:
        raise HTTPException(404)
    return number


def _outcome(value: str | None) -> Outcome | None:
    return Outcome(value) if value in {o.value for o in Outcome} else None


def _days(value: str | None) -> int | None:
    return _number(value) if value else None




class ServerTiming:
    """Adds `Server-Timing: app;dur=<ms>`: the time spent inside the site, for operators
    and for bench/web.py (pure ASGI, so streaming is untouched). Not on sign-in, where a
    time would tell who may sign in."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in ("/signin", "/auth"):
            await self.inner(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Any) -> None:
            if message["type"] == "http.response.start":
                spent = (time.perf_counter() - started) * 1000
                message.setdefault("headers", []).append(
                    (b"server-timing", f"app;dur={spent:.2f}".encode()))
            await send(message)

        await self.inner(scope, receive, timed)


SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Every answer: no framing, no sniffing, no inline script, no referrer outside; and
    nothing but the stylesheet kept in a cache (pages show a person's referrals)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        cacheable = str(scope["path"]).startswith("/static/")

        async def guarded(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.extend(SECURITY_HEADERS)
                if not cacheable:
                    headers.append((b"cache-control", b"no-store"))
            await send(message)

        await self.inner(scope, receive, guarded)


MAX_FORM_BYTES = 64 * 1024  # the largest form: a partner's notes, well below this


class FormGuard:
    """A POST is a small urlencoded form sent by one of our own pages: refused when the
    browser says another site sent it (Sec-Fetch-Site: cross-site), when it is another
    kind of body, or larger than any of our forms (parsing would cost the server)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.inner(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        length = headers.get("content-length", "")
        refusal = None
        if headers.get("sec-fetch-site") == "cross-site":
            refusal = 403, b"Refused: this form was sent from another site."
        elif not headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            refusal = 415, b"Refused: not a form of this site."
        elif not length.isdigit() or int(length) > MAX_FORM_BYTES:
            refusal = 413, b"Refused: too large for a form of this site."
        if refusal is None:
            await self.inner(scope, receive, send)
            return
        code, text = refusal
        await Response(text, status_code=code, media_type="text/plain")(scope, receive, send)


def create_app(app: App, now: Callable[[], datetime] = clock.now, https: bool = False,
               public_url: str = "http://127.0.0.1:8025") -> Starlette:
    """`public_url`: the address people open, as sign-in links give it."""
    site = Site(app, now, https, public_url)
    routes = [
        Route("/", site.home), Route("/signin", site.signin_form, methods=["GET"]),
        Route("/signin", site.signin, methods=["POST"]),
        Route("/auth", site.auth_form, methods=["GET"]),
        Route("/auth", site.auth, methods=["POST"]),
        Route("/signout", site.signout, methods=["POST"]),
        Route("/referrals", site.referrals),
        Route("/referrals/{rid}", site.referral),
        Route("/referrals/{rid}/action", site.act, methods=["POST"]),
        Route("/partners", site.partners, methods=["GET"]),
        Route("/partners", site.change_partner, methods=["POST"]),
        Route("/ledger", site.ledger), Route("/outbox", site.outbox),
        Route("/outbox/{oid}/cancel", site.cancel_email, methods=["POST"]),
        Route("/status", site.status), Route("/firm", site.firm),
        Route("/sessions", site.sessions_page, methods=["GET"]),
        Route("/sessions", site.end_session, methods=["POST"]),
        Route("/people", partial(people_view.people_page, site), methods=["GET"]),
        Route("/people/forget", partial(people_view.forget_person, site), methods=["POST"]),
        Mount("/static", StaticFiles(directory=templates_dir() / "web" / "static"), name="static"),
    ]
    middleware = [Middleware(SecurityHeaders), Middleware(FormGuard),
                  Middleware(ServerTiming)]
    web = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: site.not_found},
                    lifespan=site.lifespan)
    web.router.redirect_slashes = False  # Starlette's builds its Location from the Host header
    web.state.site = site
    return web
