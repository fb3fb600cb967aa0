"""A trace on every store's SQLite connection: the writes made outside `Store.atomic`.

A write (INSERT, UPDATE, DELETE, REPLACE) is inside `Store.atomic` when the connection is
in a transaction that a BEGIN IMMEDIATE began. Anything else is a write of its own: an
autocommit, or a transaction sqlite-utils began by itself (a deferred BEGIN). Migrations
run while the store opens, before the trace is installed.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailflow.adapters.store import Store

WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})
ROOT = Path(__file__).resolve().parents[2]


def _words(sql: str) -> list[str]:
    return sql.lstrip().upper().split(None, 2)


def _caller() -> str:
    """The innermost mailflow frames outside the store: who asked for the write."""
    frames = [f for f in traceback.extract_stack()
              if "/mailflow/" in f.filename and "/adapters/store/" not in f.filename]
    return " < ".join(f"{Path(f.filename).relative_to(ROOT)}:{f.lineno} {f.name}"
                      for f in reversed(frames[-3:]))


class AutocommitWrites:
    """Installed on every store opened while it is active; `found` lists each write made
    outside `Store.atomic`, with its statement and its callers; `writes` counts them all."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.writes = 0

    def watch(self, store: Store) -> None:
        conn = store.db.conn
        ours = False  # the open transaction was begun by Store.atomic

        def trace(sql: str) -> None:
            nonlocal ours
            words = _words(sql)
            first = words[0] if words else ""
            if first == "BEGIN":
                ours = words[1:2] == ["IMMEDIATE"]
            elif first in ("COMMIT", "END") or (first == "ROLLBACK" and "TO" not in words):
                ours = False
            elif first in WRITES:
                self.writes += 1
                if not (ours and conn.in_transaction):
                    self.found.append(f"{' '.join(sql.split())[:70]}  [{_caller()}]")

        conn.set_trace_callback(trace)

    def report(self) -> str:
        return "writes outside Store.atomic:\n" + "\n".join(dict.fromkeys(self.found))


@pytest.fixture
def autocommit_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[AutocommitWrites]:
    """Every store opened during the test is traced (the CLI and the web open their own)."""
    watcher = AutocommitWrites()
    opened = Store.__init__

    def traced(self: Store, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        watcher.watch(self)

    monkeypatch.setattr(Store, "__init__", traced)
    yield watcher
