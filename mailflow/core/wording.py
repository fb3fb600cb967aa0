"""The plain words people read for steps, statuses and events (pure): one table for all.

The web view, the command line's tables and the demo show these; the codes stay in the
database and in `--json` output, which scripts rely on. A code with no entry reads as
itself with its underscores and hyphens turned into spaces, never as a bare code.
"""

from __future__ import annotations

from collections.abc import Iterable

from mailflow.core.workflow import StepConfig

# code: (name, what the email does)
EMAILS: dict[str, tuple[str, str]] = {
    "acknowledgement": ("acknowledgement", "tells the referrer the intro is recorded"),
    "partner_question": ("partner question", "asks the referrer which one is the partner"),
    "partner_brief": ("partner brief", "how this works, to the partner on a first referral"),
    "partner_nudge": ("partner nudge", "reminds the partner to get in touch"),
    "escalation": ("escalation", "tells the referrer there is no contact yet"),
    "partner_checkin": ("partner check-in", "asks the partner how it is going"),
    "client_checkin": ("client check-in", "asks the client how it is going"),
    "feedback_request": ("feedback request", "asks the partner how it turned out"),
    "thank_partner": ("partner thank-you", "thanks the partner"),
    "thank_client": ("client thank-you", "thanks the client"),
    "outcome_report": ("outcome report", "tells the referrer how it turned out"),
    # a referral a partner sent to the firm
    "received_reminder": ("received reminder",
                          "reminds the firm's person to contact the partner's client"),
    "received_contacted": ("contact made", "tells the introducing partner they have spoken"),
    "thank_introducer": ("thank the introducer",
                         "prompts the firm's person to thank the partner"),
    "received_outcome": ("outcome to the introducer",
                         "tells the introducing partner how it turned out"),
    # an intro that asks the client first
    "consent_reminder": ("consent reminder", "asks the client again whether the partner "
                         "may reach out"),
    "consent_silent": ("no answer from the client", "tells the referrer the client has "
                       "not answered"),
    "introduction": ("introduction", "introduces the client to the partner after their yes"),
    # notices: answers to what someone just did
    "confirm": ("confirmation", "confirms a reply"),
    "relay": ("news passed on", "passes a party's news on to the referrer"),
    "which": ("which referral?", "asks which referral a reply is about"),
    "help": ("reply words", "lists the reply words"),
    "bounce": ("bounce notice", "tells the referrer an address bounced"),
    "refused": ("not acted on", "says why a reply changed nothing"),
    "unproven": ("reply not acted on", "asks for the reply from the email mailflow sent"),
    "send-failed": ("email not sent", "tells the referrer an email could not be sent"),
    "history": ("old intros found", "lists old intros found on a first run"),
    "declined": ("client declined", "tells the referrer the client said no"),
    "unwanted": ("not what the partner wants",
                 "tells the referrer the partner would rather not get such referrals"),
    # emails that belong to no referral
    "digest": ("weekly digest", "the referrer's weekly summary"),
    "alert": ("alert", "tells the admin something needs a look"),
    "signin": ("sign-in link", "a link to sign in to the web view"),
    "combined": ("combined email", "several emails to one person, sent as one"),
}

STATUSES = {"needs_partner": "needs a partner", "awaiting_consent": "waiting for the client",
            "open": "open", "contacted": "contacted", "closed": "closed"}

OUTCOMES = {"done": "done", "won": "won", "lost": "lost or no fit"}

EMAIL_STATUSES = {"pending": "planned", "sent": "sent", "failed": "failed",
                  "skipped": "skipped", "missed": "missed (too late to send)",
                  "superseded": "replaced by a later email", "cancelled": "cancelled",
                  "withdrawn": "cancelled by hand"}

EVENTS = {
    "intake": "intro recorded", "contact-seen": "contact seen",
    "contacted": "contact reported", "closed": "closed", "reopened": "reopened",
    "snoozed": "snoozed", "stopped": "stopped mail", "opted_out": "stopped mail",
    "resumed": "mail resumed", "withdrawn": "email cancelled by hand",
    "unwithdrawn": "email planned again",
    "rating": "rating", "need": "new need", "note": "note", "reply": "reply",
    "refused": "not acted on", "undo": "undo asked", "undone": "undone",
    "follow-up": "followed up", "partner-chosen": "partner chosen", "bounce": "bounced",
    "unbounced": "bounce cleared", "out-of-office": "out of office",
    "robot": "automatic reply", "sent": "email sent", "send-failed": "email not sent",
    "skipped": "email skipped", "missed": "email missed",
    "superseded": "email replaced", "cancelled": "email cancelled",
    "forget-asked": "asked to be forgotten", "value": "value recorded",
    "language": "language set", "profile": "profile updated",
    "consent-asked": "client asked first", "consent": "client answered",
}

# what `unless` and `since` in a step's config read as
CONDITIONS = {"contacted": "contact was seen", "closed": "it was closed",
              "opted_out": "they stopped mail", "briefed": "the partner was already briefed"}
SINCE = {"intake": "the intro", "contacted": "contact", "closed": "closing"}


def _plain(code: str) -> str:
    return code.replace("_", " ").replace("-", " ")


def step_name(code: str) -> str:
    """The name of a step, notice or other email: "feedback request"."""
    return EMAILS[code][0] if code in EMAILS else _plain(code)


def step_purpose(code: str) -> str:
    """What the email does: "asks the partner how it turned out"."""
    return EMAILS[code][1] if code in EMAILS else _plain(code)


def status_name(code: str) -> str:
    return STATUSES.get(code, _plain(code))


def outcome_name(code: str) -> str:
    return OUTCOMES.get(code, _plain(code))


def email_status_name(code: str) -> str:
    return EMAIL_STATUSES.get(code, _plain(code))


def event_name(code: str) -> str:
    return EVENTS.get(code, _plain(code))


def amount(number: float, unit: str) -> str:
    """ "1 business day", "3 business days", "1.5 days": the unit agrees with the number."""
    singular = unit.removesuffix("s") if number == 1 else unit
    return f"{number:g} {singular}"


def _either(conditions: Iterable[str]) -> str:
    words = [CONDITIONS.get(c, _plain(c)) for c in conditions]
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else "".join(words)


def explain_step(step: StepConfig) -> str:
    """When a step goes: "1 business day after the intro, unless contact was seen"."""
    since = SINCE.get(step.since, _plain(step.since))
    when = (f"right after {since}" if step.after_amount == 0
            else f"{amount(step.after_amount, step.after_unit)} after {since}")
    return when + (f", unless {_either(step.unless)}" if step.unless else "")


def explain_email(kind: str, step: str, steps: Iterable[StepConfig]) -> str:
    """Why an outbox row exists: its step's timing, or what a notice or digest is for."""
    if kind == "step":
        config = next((s for s in steps if s.name == step), None)
        return explain_step(config) if config else f"an answer to the intro: {step_purpose(step)}"
    if kind == "notice":
        return f"an answer: {step_purpose(step)}"
    return step_purpose(kind)
