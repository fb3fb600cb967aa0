"""Web sessions kept on the server: the cookie carries a random token, the store its hash.

Signing out deletes the row, so an old cookie is worth nothing. A session ends after
`IDLE` without a request, `LIFETIME` after sign-in, and at the next request of someone
who may no longer sign in (removed from `referrers`) or whose admin role changed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mailflow.adapters.store import Store, WebSession
from mailflow.config import Config
from mailflow.web.auth import is_admin, may_sign_in

IDLE = timedelta(hours=2)
LIFETIME = timedelta(hours=8)
TOUCH_EVERY = timedelta(minutes=1)  # seen_at is written at most this often


def session_id(token: str) -> str:
    """What the store keeps of a cookie's token: a stolen database signs nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Flash:
    """What the next page says after an action, and the undo it offers (form fields)."""

    text: str
    error: bool = False
    undo: dict[str, str] | None = None

    def dumps(self) -> str:
        return json.dumps({"text": self.text, "error": self.error, "undo": self.undo})

    @staticmethod
    def loads(text: str | None) -> Flash | None:
        try:
            data: Any = json.loads(text or "null")
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        undo = data.get("undo")
        return Flash(str(data.get("text", "")), bool(data.get("error")),
                     {str(k): str(v) for k, v in undo.items()} if isinstance(undo, dict)
                     else None)


class Sessions:
    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config

    def start(self, email: str, now: datetime) -> str:
        """A new session for `email`; returns the token for the cookie."""
        token = secrets.token_urlsafe(32)
        with self.store.atomic():
            self.store.end_sessions_before(now - LIFETIME, now - IDLE)
            self.store.add_session(WebSession(session_id(token), email,
                                              is_admin(self.config, email),
                                              secrets.token_urlsafe(24), now, now))
        return token

    def is_live(self, session: WebSession, now: datetime) -> bool:
        """Within its lifetime, not idle too long, and its address may still sign in as
        what it signed in as."""
        return (now - session.created_at < LIFETIME and now - session.seen_at < IDLE
                and may_sign_in(self.config, session.email)
                and session.admin == is_admin(self.config, session.email))

    def current(self, token: str, now: datetime) -> WebSession | None:
        """The live session of a cookie's token, or None (and an ended one is deleted)."""
        if not token or len(token) > 100:
            return None
        session = self.store.session(session_id(token))
        if session is None:
            return None
        if not self.is_live(session, now):
            with self.store.atomic():
                self.store.end_sessions([session.id])
            return None
        if now - session.seen_at >= TOUCH_EVERY:
            with self.store.atomic():
                self.store.touch_session(session.id, now)
        return session

    def end(self, session: WebSession) -> None:
        self.end_by_id(session.id)

    def end_by_id(self, session_id: str) -> bool:
        """Sign a session out (the admin's page); False when it had already ended."""
        with self.store.atomic():
            return self.store.end_sessions([session_id]) > 0

    def flash(self, session: WebSession, flash: Flash | None) -> None:
        with self.store.atomic():
            self.store.set_flash(session.id, flash.dumps() if flash else None)

    def take_flash(self, session: WebSession) -> Flash | None:
        """The message left for this page, once."""
        if session.flash is None:
            return None
        self.flash(session, None)
        return Flash.loads(session.flash)
