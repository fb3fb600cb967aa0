"""How a moment is written for people and programs: one rule for the app, the CLI and the web."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO-8601 to the second, with the offset of `zone` (None stays None)."""
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else None
