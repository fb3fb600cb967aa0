"""An email about no referral (a digest, an alert, a sign-in link): rendered by its caller,
queued under a Message-ID fixed now, and sent through the one dispatcher."""

from __future__ import annotations

import json
from datetime import datetime

from mailflow.app.dispatch import DispatchReport
from mailflow.app.wiring import App
from mailflow.core.message_ids import mint


def queue_email(app: App, kind: str, recipient: str, now: datetime, what: str,
                content: dict[str, str]) -> int | None:
    """Queue it, in the caller's transaction: `content` is its subject, text (and html);
    `what` names it in its Message-ID. The new row's id (None: queued already)."""
    message_id = mint(what, app.store.installation_id(), app.config.tracker)
    return app.store.add_outbox(None, kind, recipient, now, kind=kind,
                                payload=json.dumps(content), message_id=message_id)


def send_now(app: App, now: datetime, kind: str) -> DispatchReport:
    """Send what is queued of `kind` at once, any hour (an alert, a sign-in link)."""
    return app.dispatcher().send_due(now, kinds=frozenset({kind}))
