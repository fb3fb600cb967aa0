"""`mailflow web`: each referrer's own referrals, partners and ledger, signed in by email.

Starlette serves server-rendered pages (Jinja2, autoescaped, no JavaScript). Every
change is a POST with a CSRF token that goes to `core.decisions.on_operator`, or to
the partner directory's own functions, and is applied by `app.executor`, the same
path as the command line and the email replies. Endpoints are `async` so that every
database call runs on the event loop's one thread (SQLite connections are per thread).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mailflow.adapters import clock
from mailflow.adapters.pages import Pages
from mailflow.adapters.store import OutboxRow
from mailflow.app import directory
from mailflow.app.digests import partner_rows
from mailflow.app.executor import apply_effects
from mailflow.app.planning import reconcile
from mailflow.app.wiring import App
from mailflow.config import partner_entry
from mailflow.core.decisions import on_operator
from mailflow.core.firm import referrer_rows
from mailflow.core.model import Outcome, Referral, Status
from mailflow.core.stale import is_stale
from mailflow.core.wording import explain_email
from mailflow.errors import ConfigError, UsageError
from mailflow.resources import templates_dir
from mailflow.web.auth import (
    LIMIT_WINDOW,
    PER_ADDRESS,
    PER_CLIENT,
    RateLimit,
    issue_link,
    may_sign_in,
    queue_link_email,
    use_link,
)
from mailflow.web.ledger_view import PERIODS, in_period, ledger_charts, period_start
from mailflow.web.outbox_view import outbox_subject

PAGE_SIZE = 50
SESSION_HOURS = 8


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
        self.by_address = RateLimit(PER_ADDRESS, LIMIT_WINDOW)
        self.by_client = RateLimit(PER_CLIENT, LIMIT_WINDOW)

    # -- helpers ---------------------------------------------------------------
    def _who(self, request: Request) -> str | None:
        who = request.session.get("who")
        until = request.session.get("until", "")
        if not isinstance(who, str) or not until or self.now().isoformat() > until:
            return None
        return who

    def _admin(self, who: str | None) -> bool:
        return who is not None and who == (self.app.config.admin or "").lower()

    def _signed_in(self, request: Request) -> str:
        who = self._who(request)
        if who is None:
            raise HTTPException(303, headers={"Location": "/signin"})
        return who

    def _page(self, request: Request, name: str, title: str, code: int = 200,
              **context: Any) -> HTMLResponse:
        who = self._who(request)
        body = self.pages.render(name, {"title": title, "who": who, "admin": self._admin(who),
                                        "csrf": request.session.get("csrf", ""),
                                        "message": request.query_params.get("m", ""),
                                        "error": request.query_params.get("e") == "1",
                                        **context})
        return HTMLResponse(body, status_code=code)

    async def _form(self, request: Request) -> dict[str, str]:
        """The POSTed form, refused unless it carries this session's CSRF token."""
        form = await request.form()
        token = str(form.get("csrf", ""))
        expected = str(request.session.get("csrf", ""))
        if not expected or not hmac.compare_digest(token, expected):
            raise HTTPException(403, "this form has expired; reload the page and try again")
        return {k: str(v) for k, v in form.items()}

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
        form = await request.form()
        email = str(form.get("email", "")).strip().lower()[:254]
        now = self.now()
        client = request.client.host if request.client else "?"
        # the same answer whoever asks: the form reveals nothing about who may sign in
        if (self.by_client.allow(client, now) and self.by_address.allow(email, now)
                and may_sign_in(self.app, email)):
            queue_link_email(self.app, email, issue_link(self.app, email, now, self.public_url),
                             now)
        return self._page(request, "signin", "Check your inbox", sent=True, email=email)

    async def auth_form(self, request: Request) -> Response:
        """The emailed link shows a button and uses nothing up: mail scanners (safe-links
        services) fetch links before the person clicks them."""
        nonce = secrets.token_urlsafe(24)
        request.session["auth"] = nonce  # only this browser can press the button
        return self._page(request, "auth", "Sign in", nonce=nonce,
                          token=request.query_params.get("t", "")[:2000])

    async def auth(self, request: Request) -> Response:
        form = await request.form()
        expected = str(request.session.get("auth", ""))
        if not expected or not hmac.compare_digest(str(form.get("auth", "")), expected):
            raise HTTPException(403, "open the link from your email again")
        email = use_link(self.app, str(form.get("t", "")), self.now())
        if email is None:
            return self._page(request, "error", "This sign-in link has expired or was used",
                              code=400)
        request.session.clear()
        request.session.update({
            "who": email, "csrf": secrets.token_urlsafe(24),
            "until": (self.now() + timedelta(hours=SESSION_HOURS)).isoformat()})
        return RedirectResponse("/referrals", status_code=303)

    async def signout(self, request: Request) -> Response:
        await self._form(request)
        request.session.clear()
        return RedirectResponse("/signin", status_code=303)

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
        parties = [{"role": role, "email": email, "name": referral.names.get(email or "", "")}
                   for role, email in (("referrer", referral.referrer),
                                       ("client", referral.client),
                                       ("partner", referral.partner))]
        people = [p for p in dict.fromkeys((*referral.candidates, referral.partner,
                                            referral.client))
                  if p and p != referral.referrer]
        events = [{"at": self._local(e.at), "kind": e.kind, "actor": e.actor,
                   "detail": e.detail} for _, e in store.events(referral.id)]
        emails = [{"due_at": self._local(o.due_at), "step": o.step, "recipient": o.recipient,
                   "status": o.status, "detail": o.detail, "why": self._why(o)}
                  for o in store.outbox_rows(referral.id)]
        view = {"id": referral.id, "status": str(referral.status).replace("_", " "),
                "outcome": str(referral.outcome) if referral.outcome else "",
                "context": referral.context, "client": referral.client,
                "partner": referral.partner,
                "snoozed_until": self._local(referral.snoozed_until)}
        return self._page(request, "referral", f"{referral.tag}: {referral.subject}",
                          r=view, parties=parties, people=people, events=events,
                          emails=emails, closed=referral.status is Status.CLOSED)

    async def act(self, request: Request) -> Response:
        who = self._signed_in(request)
        form = await self._form(request)
        referral = self._visible(who, _int(request.path_params["rid"]))
        now = self.now()
        try:
            effects = on_operator(
                referral, form.get("action", ""), now, actor=f"{who} (via web)",
                outcome=_outcome(form.get("outcome")), days=_days(form.get("days")),
                partner=form.get("partner") or None, address=form.get("address") or None)
        except ValueError as exc:
            return _back(f"/referrals/{referral.id}", str(exc), error=True)
        store = self.app.store
        with store.atomic():
            for referral_id in apply_effects(store, effects, now):
                reconcile(store, referral_id, self.app.config, self.app.calendar, now)
                store.unmark_for_planning(referral_id)
        return _back(f"/referrals/{referral.id}", "Done.")

    # -- partners, ledger, outbox, status --------------------------------------
    async def partners(self, request: Request) -> Response:
        who = self._signed_in(request)
        rows = partner_rows(self.app, self.now(), None if self._admin(who) else who)
        known = {e for r in self.app.store.partner_records() for e in r.emails}
        for row in rows:
            row["known"] = row["email"] in known
        return self._page(request, "partners", "Partners", partners=rows)

    async def change_partner(self, request: Request) -> Response:
        self._signed_in(request)
        form = await self._form(request)
        source = f"{self.app.config.path} (the config file)"
        op, email = form.get("op", ""), form.get("email", "").strip().lower()
        changes = {k: form.get(k) or None for k in ("name", "niche", "notes")}
        try:
            if op == "add":
                directory.add(self.app.store, partner_entry({"email": email, **changes}),
                              source)
            elif op == "edit":
                directory.edit(self.app.store, (email,), changes, source)
            elif op == "remove":
                directory.remove(self.app.store, email, source)
            else:
                raise UsageError(f"unknown change {op!r}")
        except (UsageError, ConfigError) as exc:
            return _back("/partners", str(exc).removeprefix(f"{self.app.config.path}: "),
                         error=True)
        return _back("/partners", f"{op}: {email}")

    async def ledger(self, request: Request) -> Response:
        who = self._signed_in(request)
        mine = None if self._admin(who) else who
        period = request.query_params.get("period", "all")
        period = period if period in PERIODS else "all"
        zone = self.app.config.timezone
        start = period_start(period, self.now(), zone)
        # read once for every chart
        referrals = in_period(self.app.store.referral_summaries(mine), start)
        rows = [r for r in partner_rows(self.app, self.now(), mine, referrals)
                if r["given"] or r["received"]]
        charts: dict[str, Any] = ledger_charts(rows, referrals, zone)
        return self._page(request, "ledger", "Ledger", rows=rows, period=period,
                          periods=PERIODS, since=self._local(start)[:15], **charts)

    async def outbox(self, request: Request) -> Response:
        who = self._signed_in(request)
        rows = self.app.store.pending_of(None if self._admin(who) else who)
        emails = [{"due_at": self._local(o.due_at), "referral_id": o.referral_id,
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
        titles = {404: "Not found", 403: "Refused", 405: "Not allowed"}
        message = exc.detail if exc.status_code == 403 else ""
        return self._page(request, "error", titles.get(exc.status_code, "Error"),
                          code=exc.status_code, message=message, error=True)


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


def _back(path: str, message: str, error: bool = False) -> RedirectResponse:
    from urllib.parse import quote
    return RedirectResponse(f"{path}?m={quote(message[:300])}{'&e=1' if error else ''}",
                            status_code=303)


class ServerTiming:
    """Adds `Server-Timing: app;dur=<ms>`: the time spent inside the site, for operators
    and for bench/web.py (pure ASGI, so streaming is untouched)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
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
        Route("/status", site.status), Route("/firm", site.firm),
        Mount("/static", StaticFiles(directory=templates_dir() / "web" / "static"), name="static"),
    ]
    middleware = [Middleware(ServerTiming), Middleware(SessionMiddleware, secret_key=app.secret,
                             session_cookie="mailflow_session", max_age=SESSION_HOURS * 3600,
                             same_site="lax", https_only=https)]
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={HTTPException: site.not_found})
