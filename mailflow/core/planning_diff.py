"""The planning diff: from the wanted plan and a referral's current rows, what to add, cancel,
move and revive. Pure; `app.planning.reconcile` reads the rows and applies the diff."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mailflow.core.workflow import PlannedStep


class StepRow(Protocol):
    """The fields of a referral's outbox row the diff reads."""

    @property
    def id(self) -> int: ...
    @property
    def step(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class Addition:
    step: str
    recipient: str
    due_at: datetime
    status: str  # pending, or skipped when it was due too long before it was planned
    why: str | None = None


@dataclass
class PlanDiff:
    add: list[Addition] = field(default_factory=list)
    cancel: list[int] = field(default_factory=list)  # row ids: no longer due
    move: list[tuple[int, datetime]] = field(default_factory=list)
    revive: list[tuple[int, datetime]] = field(default_factory=list)
    # partners whose other open referrals re-plan: a once-per-partner step was cancelled
    # here, and they planned none since this one had it
    replan_partners: list[str] = field(default_factory=list)


def plan_diff(wanted: Sequence[PlannedStep], rows: Sequence[StepRow],
              once_per_partner: Collection[str], now: datetime, too_old: datetime,
              too_old_days: int) -> PlanDiff:
    """What changes the rows into the plan; `too_old`: a new step due before it is skipped."""
    by_key = {(p.step, p.recipient): p for p in wanted}
    existing = {(r.step, r.recipient): r for r in rows}
    diff = PlanDiff()
    for key, row in existing.items():
        if row.status != "pending":
            if row.status == "cancelled" and key in by_key:
                diff.revive.append((row.id, by_key[key].due_at))
            continue
        if key not in by_key:
            diff.cancel.append(row.id)
            if row.step in once_per_partner:  # (also when this one's partner changed)
                diff.replan_partners.append(row.recipient)
        else:
            target = _moved(row.due_at, by_key[key].due_at, now)
            if target != row.due_at:
                diff.move.append((row.id, target))
    why = f"due more than {too_old_days} days before it was planned"
    for key, step in by_key.items():
        if key not in existing:
            old = step.due_at < too_old
            diff.add.append(Addition(step.step, step.recipient, step.due_at,
                                     "skipped" if old else "pending", why if old else None))
    return diff


def _moved(current: datetime, wanted: datetime, now: datetime) -> datetime:
    """A pending step is never moved back into the past: one the daily cap deferred keeps
    its deferral, since its grace counts from when it could first be sent."""
    if wanted < current and wanted < now:
        return min(current, now)
    return wanted
