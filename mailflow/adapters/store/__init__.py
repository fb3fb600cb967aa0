"""SQLite through sqlite-utils: one facade over a module per table group.

`base` holds the connection and its transactions; `referrals`, `messages`, `contacts`,
`outbox` and `web` each hold the reads and writes of their tables; `people` reads what
every table holds about one person; `reports` what the digest reads; `ledger` the
ledger's sums; `rows` the typed rows; `lean_import` loads sqlite-utils without numpy.
"""

from __future__ import annotations

from mailflow.adapters.store import lean_import  # noqa: F401  # first: sqlite-utils alone
from mailflow.adapters.store.base import StoreBase, from_db, to_db
from mailflow.adapters.store.contacts import ContactTables
from mailflow.adapters.store.ledger import LedgerTables
from mailflow.adapters.store.messages import MessageTables
from mailflow.adapters.store.outbox import OutboxTable
from mailflow.adapters.store.people import PERSONAL_COLUMNS, PeopleTables
from mailflow.adapters.store.referrals import ReferralTables
from mailflow.adapters.store.reports import ReportTables
from mailflow.adapters.store.rows import (
    NewStep,
    OutboxRow,
    PartnerChange,
    PartnerRecord,
    WebSession,
    said_stop,
)
from mailflow.adapters.store.web import WebTables

__all__ = ["PERSONAL_COLUMNS", "NewStep", "OutboxRow", "PartnerChange", "PartnerRecord",
           "Store", "StoreBase", "WebSession", "from_db", "said_stop", "to_db"]


class Store(ReferralTables, MessageTables, ContactTables, OutboxTable, WebTables,
            PeopleTables, ReportTables, LedgerTables):
    """The one database; every write for one message goes through one `atomic()` block."""
