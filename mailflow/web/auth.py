"""Sign-in by email for the web view: one-time links, rate limits, who may sign in."""

from __future__ import annotations

import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from mailflow.app.wiring import App
from mailflow.core.addressing import is_plain_address, is_referrer, split_address

LINK_MINUTES = 15
PER_ADDRESS = 3  # sign-in emails per address per LIMIT_WINDOW
PER_CLIENT = 10  # sign-in requests per client address per LIMIT_WINDOW
LIMIT_WINDOW = timedelta(minutes=15)
MAX_TRACKED = 10_000  # keys a rate limit remembers before it forgets the quiet ones


def may_sign_in(app: App, email: str) -> bool:
    """One well-formed address of an allowed referrer (the `referrers` patterns) or the
    admin: `x y@evil@firm.example` matches the pattern's domain but is no address."""
    return is_plain_address(email) and (is_referrer(email, app.config.referrers)
                            or email == (app.config.admin or "").lower())


def _serializer(app: App) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.secret, salt="mailflow-signin")


def issue_link(app: App, email: str, now: datetime, base_url: str) -> str:
    """A signed single-use link for `email`, recorded so it can be used once."""
    nonce = secrets.token_urlsafe(16)
    with app.store.atomic():
        app.store.add_signin(nonce, email, now)
    token = _serializer(app).dumps({"n": nonce})
    return f"{base_url.rstrip('/')}/auth?t={token}"


def use_link(app: App, token: str, now: datetime) -> str | None:
    """The address a valid, unexpired, unused link signs in; None otherwise."""
    try:
        data = _serializer(app).loads(token)  # the age is checked against the store's record
    except BadSignature:
        return None
    nonce = data.get("n") if isinstance(data, dict) else None
    if not isinstance(nonce, str):
        return None
    with app.store.atomic():
        return app.store.use_signin(nonce, now, now - timedelta(minutes=LINK_MINUTES))


def queue_link_email(app: App, email: str, link: str, now: datetime) -> None:
    """The link goes out through the one outbox, and is tried at once."""
    rendered = app.renderer.render("signin", {"link": link, "minutes": LINK_MINUTES})
    message_id = (f"signin.{secrets.token_hex(8)}.{app.store.installation_id()}"
                  f"@mailflow.{split_address(app.config.tracker)[1]}")
    with app.store.atomic():
        app.store.add_outbox(None, "signin", email, now, kind="signin",
                             payload=json.dumps({"subject": rendered.subject,
                                                 "text": rendered.text}),
                             message_id=message_id)
    app.dispatcher().send_due(now, kinds=frozenset({"signin"}))


@dataclass
class RateLimit:
    """At most `limit` events per key within `window` (kept in memory: one process)."""

    limit: int
    window: timedelta
    _seen: dict[str, deque[datetime]] = field(default_factory=dict)

    def allow(self, key: str, now: datetime) -> bool:
        if len(self._seen) >= MAX_TRACKED:  # many senders: memory stays bounded
            self._seen = {k: t for k, t in self._seen.items() if now - t[-1] <= self.window}
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True
