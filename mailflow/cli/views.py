"""Referrals, events and the outbox as JSON-ready dicts and readable lines."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from mailflow.adapters.store import OutboxRow, Store
from mailflow.core.formatting import iso
from mailflow.core.model import Referral
from mailflow.core.wording import event_name, step_name


def referral_dict(referral: Referral, zone: ZoneInfo, store: Store | None = None,
                  with_events: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": referral.tag,
        "status": str(referral.status),
        "outcome": str(referral.outcome) if referral.outcome else None,
        "direction": referral.direction,
        "referrer": referral.referrer,
        "client": referral.client,
        "partner": referral.partner,
        "subject": referral.subject,
        "created_at": iso(referral.created_at, zone),
        "contacted_at": iso(referral.contacted_at, zone),
        "closed_at": iso(referral.closed_at, zone),
        "value": referral.value,
    }
    if referral.candidates:
        data["candidates"] = list(referral.candidates)
    if with_events and store is not None:
        data["context"] = referral.context
        data["rating"] = referral.rating
        data["events"] = [{"at": iso(e.at, zone), "kind": e.kind, "actor": e.actor,
                           "detail": e.detail} for _, e in store.events(referral.id)]
        data["outbox"] = [outbox_dict(r, zone) for r in store.outbox_rows(referral.id)]
    return data


def outbox_dict(row: OutboxRow, zone: ZoneInfo) -> dict[str, Any]:
    return {"referral": f"R-{row.referral_id}" if row.referral_id else None,
            "kind": row.kind, "step": row.step, "recipient": row.recipient,
            "due_at": iso(row.due_at, zone), "status": row.status,
            "sent_at": iso(row.sent_at, zone), "detail": row.detail,
            "message_id": row.message_id}


def referral_line(referral: Referral, zone: ZoneInfo) -> str:
    created = referral.created_at.astimezone(zone).strftime("%Y-%m-%d")
    state = str(referral.status) + (f"/{referral.outcome}" if referral.outcome else "")
    people = f"{referral.client or '?'} -> {referral.partner or '?'}"
    return f"{referral.tag:<6} {state:<16} {created}  {people}  {referral.subject}"


def show_text(data: dict[str, Any]) -> str:
    lines = [f"{data['id']}: {data['subject']}"]
    for key in ("status", "outcome", "direction", "referrer", "client", "partner",
                "created_at", "contacted_at", "closed_at", "rating"):
        if data.get(key) is not None:
            lines.append(f"  {key:<13} {data[key]}")
    if data.get("candidates"):
        lines.append(f"  {'candidates':<13} {', '.join(data['candidates'])}")
    if data.get("context"):
        lines.append("  context       " + data["context"].strip().replace("\n", "\n" + " " * 16))
    if data.get("languages"):
        lines.append("  languages:")
        for email, got in data["languages"].items():
            lines.append(f"    {email}  {got['language']} ({got['why']})")
    lines.append("  events:")
    for event in data.get("events", []):
        lines.append(f"    {event['at']}  {event_name(event['kind']):<14} {event['actor']}  "
                     f"{event['detail']}".rstrip())
    pending = [r for r in data.get("outbox", []) if r["status"] == "pending"]
    if pending:
        lines.append("  pending:")
        for row in pending:
            lines.append(f"    {row['due_at']}  {step_name(row['step']):<18} to {row['recipient']}")
    return "\n".join(lines)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Rows as aligned columns under a header line (the last column is not padded)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    def line(cells: list[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths, strict=False)]
        return "  ".join([*padded, cells[-1]]).rstrip()
    return "\n".join([line(headers), *(line(r) for r in rows)])


def _number(value: Any, spec: str = "g") -> str:
    return "-" if value is None else format(value, spec)


def partners_table(rows: list[dict[str, Any]]) -> str:
    """The directory with the ledger: given, received, won, lost, done, contact, rating;
    then what each partner said makes a good referral for them."""
    said = [f"  {r['email']}: " + "; ".join(f"{k}: {r[k]}" for k in ("ideal", "not") if r[k])
            + f" ({r['profile_at'][:10]})" for r in rows if r.get("ideal") or r.get("not")]
    listing = table(
        ["PARTNER", "NAME", "NICHE", "GIVEN", "RECEIVED", "WON", "LOST", "DONE",
         "CONTACT (H)", "RATING", "FLAGS"],
        [[r["email"], r["name"], r["niche"], str(r["given"]), str(r["received"]), str(r["won"]),
          str(r["lost"]), str(r["done"]), _number(r["median_hours_to_contact"], ".0f"),
          _number(r["average_rating"], ".1f"), " ".join(r["flags"])] for r in rows])
    return "\n".join([listing, *(["", "what partners said makes a good referral:", *said]
                                 if said else [])])


def referrals_table(referrals: list[Referral], zone: ZoneInfo) -> str:
    return table(["REF", "STATUS", "CREATED", "CLIENT", "PARTNER", "SUBJECT"], [
        [r.tag, str(r.status) + (f"/{r.outcome}" if r.outcome else ""),
         r.created_at.astimezone(zone).strftime("%Y-%m-%d"), r.client or "?", r.partner or "?",
         r.subject] for r in referrals])


def outbox_table(rows: list[dict[str, Any]], with_status: bool = False) -> str:
    def when(value: str) -> str:
        return value[:16].replace("T", " ")
    if with_status:
        return table(["DUE", "REF", "EMAIL", "TO", "STATUS", "WHY"], [
            [when(r["due_at"]), r["referral"], step_name(r["step"]), r["recipient"], r["status"],
             r["detail"]] for r in rows])
    return table(["DUE", "REF", "EMAIL", "TO"], [
        [when(r["due_at"]), r["referral"], step_name(r["step"]), r["recipient"]] for r in rows])


# what each table is, for people reading `mailflow person` and `mailflow forget`
HELD = {"referrals": "referrals", "events": "history events", "undo": "undo snapshots",
        "outbox": "emails (sent or planned)", "messages": "messages received",
        "contacts": "contact record", "opt_outs": "stops", "pauses": "out-of-office pauses",
        "partners": "partner directory", "partner_emails": "partner addresses",
        "partner_changes": "changes to the partners", "signins": "web sign-in links",
        "web_sessions": "web sessions", "forget_requests": '"forget me" requests',
        "meta": "clocks and settings"}


def person_text(data: dict[str, Any]) -> str:
    """`mailflow person` as text: the referrals and roles, then each kind of record."""
    held = data["held"]
    if not held:
        return f"nothing held about {data['email']}"
    lines = [data["email"] + (f" ({', '.join(data['names'])})" if data["names"] else "")]
    if data["referrals"]:
        lines.append("referrals:")
        lines += [f"  {r['id']:<6} {'/'.join(r['roles']):<10} {r['status'] or ''}"
                  f"{'/' + r['outcome'] if r['outcome'] else ''}  {r['subject'] or ''}"
                  for r in data["referrals"]]
    for table, rows in held.items():
        if table == "referrals":
            continue
        lines.append(f"{HELD.get(table, table)}: {len(rows)}")
        for row in rows[:50]:
            shown = ", ".join(f"{k}={json.dumps(v) if isinstance(v, dict | list) else v}"
                              for k, v in row.items() if v not in (None, "", [], {})
                              and k != "id")
            lines.append(f"  {shown[:160]}")
        if len(rows) > 50:
            lines.append(f"  … and {len(rows) - 50} more (--json lists them all)")
    return "\n".join(lines)


def erasure_text(data: dict[str, Any]) -> str:
    """What `mailflow forget` did, or (a dry run) would do."""
    rows = ", ".join(f"{n} {HELD.get(t, t)}" for t, n in data["rows"].items()) or "no rows"
    mail = ", ".join(f"{n} in {f}" for f, n in data["messages"].items()) or "none"
    warning = (f"\n{data['email']} is a partner in the config file: remove it there, or a "
               "change to the partners writes it back" if data.get("in_config") else "")
    if data["dry_run"]:
        lines = [f"would forget {data['email']} (as {data['pseudonym']}):",
                 f"  database: {rows}", f"  messages to expunge: {mail}"]
        if data["mailbox_problem"]:
            lines.append(f"  (the mailbox could not be searched: {data['mailbox_problem']})")
        lines.append("nothing was changed; add --yes to erase")
        return "\n".join(lines) + warning
    return (f"forgot {data['email']}: now {data['pseudonym']} on its referrals; "
            f"database: {rows}; messages expunged: {mail}" + warning)
