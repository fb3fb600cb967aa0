"""What the outbox page shows of a queued email without rendering it: a subject and a preview."""

from __future__ import annotations

import json

from mailflow.adapters.store import OutboxRow
from mailflow.core.wording import step_name

PREVIEW = 140
# what was rendered when queued and may be shown; a sign-in email's text is its link
PREVIEWED = frozenset({"digest", "alert"})


def outbox_subject(row: OutboxRow) -> dict[str, str]:
    """The subject from the payload when it was rendered at queueing, else the step's name."""
    content: object = {}
    if row.payload:
        try:
            content = json.loads(row.payload)
        except ValueError:
            content = {}
    found = content if isinstance(content, dict) else {}
    subject = found.get("subject")
    text = found.get("text") if row.kind in PREVIEWED else None
    preview = " ".join(text.split()) if isinstance(text, str) else ""
    return {"subject": subject if isinstance(subject, str) and subject
            else step_name(row.step).capitalize(),
            "preview": preview[:PREVIEW] + ("…" if len(preview) > PREVIEW else "")}
