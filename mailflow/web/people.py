"""The admin's page of one person's data: what is held about an address, the "forget me"
requests waiting, and the erasure (the same `app.privacy` as `mailflow person` and
`mailflow forget`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mailflow.app import privacy
from mailflow.core.addressing import is_plain_address
from mailflow.core.wording import EMAILS, event_name, status_name, step_name
from mailflow.errors import MailflowError

if TYPE_CHECKING:
    from mailflow.web.app import Site

# what each table is, for people (no code name reaches the page)
HELD = {"referrals": "Referrals", "events": "History of the referrals",
        "undo": "Kept states (for undo)", "outbox": "Emails to or about them",
        "messages": "Messages received from them", "contacts": "Contact record",
        "opt_outs": "Stops", "pauses": "Out-of-office pauses", "partners": "Partner directory",
        "partner_emails": "Partner addresses", "partner_changes": "Changes to the partners",
        "signins": "Sign-in links", "web_sessions": "Web sessions",
        "forget_requests": "Asked to be forgotten", "meta": "Clocks"}


def _admin_only(site: Site, request: Request) -> str:
    who = site._signed_in(request)
    if not site._admin(who):
        raise HTTPException(404)
    return who


# how a column is named on the page (others: their name in plain words)
LABELS = {"referral_id": "referral", "at": "when", "actor": "by", "created_at": "created",
          "seen_at": "seen", "due_at": "due", "sent_at": "sent", "message_id": "Message-ID",
          "asked_at": "asked", "undeliverable": "bounced", "by": "stopped by",
          "added_by": "added by", "payload": "content", "kind": "what", "step": "email",
          "used_at": "used", "folder": "folder", "place": "place in the folder",
          "answers_at": "answers a reply of"}
HIDDEN = frozenset({"id", "uidvalidity", "uid", "nonce", "csrf", "admin", "attempts"})


TIMES = frozenset({"at", "created_at", "seen_at", "due_at", "sent_at", "asked_at", "used_at",
                   "until", "closed_at", "contacted_at", "snoozed_until", "plan_from",
                   "expired_at", "answers_at"})


_STEP_CODES = re.compile(r"\b(" + "|".join(
    re.escape(c) for c in sorted(EMAILS, key=len, reverse=True) if "_" in c or "-" in c)
    + r")\b")


def _value(table: str, column: str, value: Any, when: Callable[[object], str]) -> str:
    if column in TIMES:
        return when(value)
    if column == "referral_id":
        return f"R-{value}" if value else "none"
    if column == "step":
        return step_name(str(value))
    if column == "kind" and table == "events":
        return event_name(str(value))
    if column == "kind" and table == "outbox":
        return ""  # the email's name says it
    if column == "status" and table == "referrals":
        return status_name(str(value))
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    # "partner_nudge to bob@…", as the history records a sent email: in plain words
    return _STEP_CODES.sub(lambda m: step_name(m.group(0)), str(value))


def _rows(table: str, rows: list[dict[str, Any]], when: Callable[[object], str]) -> list[str]:
    """Each row as one line of plain words."""
    lines = []
    for row in rows:
        cells = []
        for column, value in row.items():
            if column in HIDDEN or value in (None, "", [], {}):
                continue
            shown = _value(table, column, value, when)
            if shown:
                cells.append(f"{LABELS.get(column, column.replace('_', ' '))}: {shown}")
        lines.append("; ".join(cells)[:300])
    return lines


async def people_page(site: Site, request: Request) -> Response:
    """GET /people?email=…: everything held about that address."""
    _admin_only(site, request)
    email = request.query_params.get("email", "").strip().lower()[:254]
    report = None
    problem = ""
    if email and not is_plain_address(email):
        problem, email = "That is not an email address.", ""
    elif email:
        data = privacy.person(site.app, email).as_dict()
        referrals = [{**r, "status": status_name(r["status"] or ""),
                      "roles": [role.replace("_", " ") for role in r["roles"]]}
                     for r in data["referrals"]]
        report = {"email": email, "names": data["names"], "referrals": referrals,
                  "held": [{"what": HELD.get(t, t), "rows": _rows(t, r, site._stored_time)}
                           for t, r in data["held"].items() if t != "referrals"]}
    waiting = [{"email": r["email"], "asked": site._stored_time(r["asked_at"]),
                "referral": f"R-{r['referral_id']}" if r["referral_id"] else ""}
               for r in site.app.store.forget_requests()]
    return site._page(request, "people", "People's data", email=email, report=report,
                      waiting=waiting, message=problem, error=bool(problem),
                      days=site.app.config.privacy.forget_after_days)


async def forget_person(site: Site, request: Request) -> Response:
    """POST /people/forget: erase one person's data at once. The address is typed twice
    (or comes from their own request): a destructive action is never one stray click."""
    _admin_only(site, request)
    form = await site._form(request)
    email = form.get("email", "").strip().lower()
    if not is_plain_address(email) or form.get("confirm", "").strip().lower() != email:
        return site._back(request, "/people", "Type the address again to confirm the "
                          "erasure; nothing was erased.", error=True)
    try:
        report = privacy.forget(site.app, email, site.now())
    except MailflowError as exc:
        return site._back(request, "/people", f"Nothing was erased: {exc}", error=True)
    # the flash is stored with the session: it names the pseudonym, never the address
    return site._back(request, "/people",
                      f"Erased: the person is now {report.pseudonym} on their referrals; "
                      f"{sum(report.rows.values())} records changed or deleted, "
                      f"{sum(report.messages.values())} messages expunged.")
