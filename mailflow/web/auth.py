"""Sign-in by email for the web view: one-time links, rate limits, who may sign in.

A sign-in request only hands the address to `SigninSender`, a thread with its own store,
and the page answers at once: the request never waits on SMTP, and it does the same
work and takes the same time whoever asks, so neither the answer, its timing nor an
SMTP outage tells who may sign in.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from mailflow.app.outgoing import queue_email, send_now
from mailflow.app.readers import firm_reader
from mailflow.app.wiring import App, build_app
from mailflow.config import Config
from mailflow.core.addressing import is_plain_address, is_referrer, split_address

log = logging.getLogger("mailflow.web.auth")

LINK_MINUTES = 15
# A browser that signed an address in before (a signed cookie) is "known" for it: only the
# first limit holds for it, so strangers can spend none of its budget.
PER_ADDRESS_AND_CLIENT = 3  # links per address asked from one client per hour
PER_CLIENT = 10  # requests per client per hour, whatever the address
PER_ADDRESS = 10  # links per address per hour, whoever asks
TRACKER_HOURLY = 60  # links per hour to anyone; the admin is told when it is reached
HOUR = timedelta(hours=1)
MAX_TRACKED = 10_000  # keys a rate limit remembers before it forgets the quiet ones
MAX_WAITING = 1_000  # requests waiting for the sender thread; more are dropped


def mailbox_of(email: str) -> str:
    """The mailbox an address reaches: lower case, without a plus-tag (`a+1@x` is `a@x`)."""
    base, domain, _ = split_address(email.strip())
    return f"{base}@{domain}" if domain else email.strip().lower()


def may_sign_in(config: Config, email: str) -> bool:
    """One well-formed address of an allowed referrer (the `referrers` patterns) or the
    admin: `x y@evil@firm.example` matches the pattern's domain but is no address."""
    return is_plain_address(email) and (is_referrer(email, config.referrers)
                                        or is_admin(config, email))


def is_admin(config: Config, email: str) -> bool:
    return bool(config.admin) and email == (config.admin or "").lower()


def _serializer(app: App) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.secret, salt="mailflow-signin")


def issue_link(app: App, email: str, now: datetime, base_url: str) -> str:
    """A signed single-use link for `email`, recorded so it can be used once; it replaces
    the address's older links (one that a stranger had sent no longer works)."""
    nonce = secrets.token_urlsafe(16)
    with app.store.atomic():
        app.store.replace_signins(email, now)
        app.store.add_signin(nonce, email, now)
    token = _serializer(app).dumps({"n": nonce})
    return f"{base_url.rstrip('/')}/auth?t={token}"


def _nonce(app: App, token: str) -> str | None:
    try:
        data = _serializer(app).loads(token)  # the age is checked against the store's record
    except BadSignature:
        return None
    nonce = data.get("n") if isinstance(data, dict) else None
    return nonce if isinstance(nonce, str) else None


def link_email(app: App, token: str, now: datetime) -> str | None:
    """Whom a link would sign in, without using it up (the page with the button says it)."""
    nonce = _nonce(app, token)
    if nonce is None:
        return None
    return app.store.signin_email(nonce, now - timedelta(minutes=LINK_MINUTES))


def use_link(app: App, token: str, now: datetime) -> str | None:
    """The address a valid, unexpired, unused link signs in; None otherwise."""
    nonce = _nonce(app, token)
    if nonce is None:
        return None
    with app.store.atomic():
        return app.store.use_signin(nonce, now, now - timedelta(minutes=LINK_MINUTES))


def queue_link_email(app: App, email: str, link: str, now: datetime) -> None:
    """The link goes out through the one outbox (its sender sends it)."""
    reader = firm_reader(app.config, email, app.store.contact(email))
    rendered = app.renderer.render("signin", {"link": link, "minutes": LINK_MINUTES},
                                   app.renderer.language_of("signin", reader.language.code))
    with app.store.atomic():
        queue_email(app, "signin", email, now, f"signin.{secrets.token_hex(8)}",
                    {"subject": rendered.subject, "text": rendered.text,
                     "language": rendered.language})


@dataclass
class RateLimit:
    """At most `limit` events per key within `window`, in memory (one process), for the
    `MAX_TRACKED` keys seen last: the quietest key is forgotten first, in constant time."""

    limit: int
    window: timedelta
    _seen: OrderedDict[str, deque[datetime]] = field(default_factory=OrderedDict)

    def allow(self, key: str, now: datetime) -> bool:
        times = self._seen.pop(key, None) or deque()
        self._seen[key] = times  # now the most recent
        if len(self._seen) > MAX_TRACKED:
            self._seen.popitem(last=False)
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


def client_key(host: str) -> str:
    """Who asks: the client's address, an IPv6 one by its /64 (one household or host)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass(frozen=True)
class SigninRequest:
    email: str
    client: str
    known_browser: bool  # this browser signed this address in before (a signed cookie)
    at: datetime


@dataclass
class SigninLimits:
    """Budgets a stranger cannot spend for the person: a client's own requests (counted
    whoever they ask for), an address per client, an address overall and the tracker's
    hourly cap; a browser the address signed in from before is held to the second only."""

    by_client: RateLimit = field(default_factory=lambda: RateLimit(PER_CLIENT, HOUR))
    by_address_and_client: RateLimit = field(
        default_factory=lambda: RateLimit(PER_ADDRESS_AND_CLIENT, HOUR))
    by_address: RateLimit = field(default_factory=lambda: RateLimit(PER_ADDRESS, HOUR))

    def allow_client(self, request: SigninRequest) -> bool:
        return request.known_browser or self.by_client.allow(client_key(request.client),
                                                             request.at)

    def allow_address(self, request: SigninRequest, address: str) -> bool:
        return (self.by_address_and_client.allow(f"{address} {client_key(request.client)}",
                                                 request.at)
                and (request.known_browser or self.by_address.allow(address, request.at)))


class SigninSender:
    """Issues and sends sign-in links off the request: a thread with a store of its own.

    The queue is bounded; the thread also retries unsent links every minute.
    """

    def __init__(self, config: Config, public_url: str,
                 alert: Callable[[App, datetime, str], None] | None = None) -> None:
        self.config = config
        self.public_url = public_url
        self.limits = SigninLimits()
        self.requests: queue.Queue[SigninRequest | None] = queue.Queue(MAX_WAITING)
        self._alert = alert
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, request: SigninRequest) -> None:
        """Hand a request over (dropped when the queue is full: a flood answers itself)."""
        self._start()
        try:
            self.requests.put_nowait(request)
        except queue.Full:
            log.warning("sign-in requests are arriving faster than they can be handled; "
                        "one was dropped")

    def wait_idle(self) -> None:
        """Until every request handed over so far is handled (for tests and shutdown)."""
        self.requests.join()

    def stop(self) -> None:
        if self._thread is not None:
            self.requests.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mailflow-signin",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        app = build_app(self.config)
        try:
            while True:
                try:
                    request = self.requests.get(timeout=60)
                except queue.Empty:
                    self._send(app, None)
                    continue
                try:
                    if request is None:
                        return
                    self._handle(app, request)
                except Exception:  # one request must not stop the sender
                    log.exception("a sign-in request failed")
                finally:
                    self.requests.task_done()
        finally:
            app.close()

    def _handle(self, app: App, request: SigninRequest) -> None:
        address = mailbox_of(request.email)
        # the client's budget first, whoever it asks for: what it spent says nothing
        if not self.limits.allow_client(request):
            return
        if not may_sign_in(self.config, address) or not self.limits.allow_address(request,
                                                                                   address):
            return
        if (not request.known_browser
                and app.store.signins_issued_since(request.at - HOUR) >= TRACKER_HOURLY):
            self._cap_reached(app, request.at)
            return
        link = issue_link(app, address, request.at, self.public_url)
        queue_link_email(app, address, link, request.at)
        self._send(app, request.at)

    def _send(self, app: App, now: datetime | None) -> None:
        from mailflow.adapters import clock
        try:
            send_now(app, now or clock.now(), "signin")
        except Exception as exc:  # the link stays queued and is tried again in a minute
            log.error("could not send a sign-in link yet: %s", exc)

    def _cap_reached(self, app: App, now: datetime) -> None:
        if self._alert is not None:
            self._alert(app, now, f"more than {TRACKER_HOURLY} sign-in links were asked for "
                        "within an hour; further requests are ignored for the hour")
