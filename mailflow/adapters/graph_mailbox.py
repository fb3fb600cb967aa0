"""A Microsoft 365 mail folder through Microsoft Graph: delta query, MIME, move.

The cursor is the folder's delta link: a round of the delta query lists what changed
since it (ids only, page after page), and the new messages are fetched as MIME
(`/messages/{id}/$value`) into the same parser as IMAP's. The round's delta link is the
cursor of its last message, so it is stored only once the whole round is handled and
moved; a crash before that re-reads the round, and the store's Message-IDs make that
harmless. Handled mail is moved to folders created when missing. Never deletes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailflow.adapters.graph_http import GraphClient, GraphError
from mailflow.adapters.mailbox import RESUMABLE, Batch, FetchedMessage
from mailflow.errors import MailboxError

log = logging.getLogger("mailflow.graph")

READ_AT_MOST = 16 * 1024 * 1024  # of one message's MIME (as a Maildir source reads)
WELL_KNOWN = frozenset({"inbox", "archive", "junkemail", "deleteditems", "sentitems",
                        "drafts", "outbox", "clutter", "conversationhistory"})


@dataclass(frozen=True)
class GraphAccess:
    """How another process fetches messages: the API, the mailbox and a current token."""

    base: str
    user: str
    token: str = field(repr=False)
    ca_file: Path | None = None
    timeout: float = 30.0

    def client(self) -> GraphClient:
        def token(refresh: bool) -> str:
            if refresh:  # only the process that holds the sign-in can refresh
                raise MailboxError("the access token was refused in the parsing process")
            return self.token
        return GraphClient(self.base, self.user, token, failure=MailboxError,
                           ca_file=self.ca_file, timeout=self.timeout)


@dataclass(frozen=True)
class GraphBatch:
    """Message ids of one folder; `cursor` goes with the last of them."""

    access: GraphAccess | None
    ids: tuple[str, ...]
    cursor: str = ""

    def fetch(self) -> list[FetchedMessage]:
        if self.access is None:
            raise MailboxError("no token to fetch with from another process")
        client = self.access.client()
        try:
            return fetch_messages(client, self.ids, self.cursor)
        finally:
            client.close()


def fetch_messages(client: GraphClient, ids: Sequence[str], cursor: str) -> list[FetchedMessage]:
    """Each message's MIME; those gone meanwhile (moved by another reader) are left out."""
    fetched: list[FetchedMessage] = []
    for index, key in enumerate(ids):
        try:
            response = client.request("GET", f"/messages/{key}/$value", "read a message",
                                      stream=True, missing_ok=True)
        except GraphError as exc:
            raise MailboxError(exc.line) from exc
        if response is None:
            continue
        with response:
            chunks: list[bytes] = []
            held = 0
            for chunk in response.iter_content(64 * 1024):
                chunks.append(chunk)
                held += len(chunk)
                if held > READ_AT_MOST:
                    break
        raw = b"".join(chunks)
        fetched.append(FetchedMessage(key, raw[:READ_AT_MOST],
                                      cursor if index == len(ids) - 1 else "",
                                      parts_omitted=len(raw) > READ_AT_MOST))
    return fetched


def _quoted(name: str) -> str:
    return name.replace("'", "''")


class GraphMailbox:
    capabilities: frozenset[str] = frozenset({RESUMABLE})

    def __init__(self, client: GraphClient, folder: str, ca_file: Path | None = None,
                 timeout: float = 30.0) -> None:
        self.client = client
        self.folder = folder
        self.ca_file, self.timeout = ca_file, timeout
        self._folder_ids: dict[str, str] = {}
        # a round that found nothing new: its delta link, for the next round from the same
        # cursor (ingest stores a cursor only with a message)
        self._later: dict[str, str] = {}
        self._lock = threading.RLock()  # ingest moves in a thread while it fetches

    @classmethod
    def open(cls, client: GraphClient, folder: str, ca_file: Path | None = None,
             timeout: float = 30.0) -> GraphMailbox:
        """A mailbox whose folder exists: signing in and reaching it are checked here."""
        box = cls(client, folder, ca_file, timeout)
        try:
            box.folder_id(folder, create=False)
        except BaseException:
            box.close()
            raise
        return box

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        try:
            with self._lock:
                return self.client.json(method, path, what, **kwargs)
        except GraphError as exc:
            raise MailboxError(exc.line) from exc

    def folder_id(self, name: str, create: bool = True) -> str:
        """The id of a folder by its path (`mailflow/processed`) or well-known name
        (`inbox`); missing ones are created when `create`, else a MailboxError."""
        if name in self._folder_ids:
            return self._folder_ids[name]
        if name.lower() in WELL_KNOWN:
            found = self._call("GET", f"/mailFolders/{name.lower()}?$select=id",
                               f"open the folder {name}")
            self._folder_ids[name] = str(found["id"])
            return self._folder_ids[name]
        parent: str | None = None
        for part in [p for p in name.split("/") if p]:
            where = f"/mailFolders/{parent}/childFolders" if parent else "/mailFolders"
            listed = self._call("GET", f"{where}?$filter=displayName eq '{_quoted(part)}'"
                                       "&$select=id,displayName", f"list the folders in {name}")
            matches = [f for f in listed.get("value", [])
                       if str(f.get("displayName", "")).lower() == part.lower()]
            if matches:
                parent = str(matches[0]["id"])
                continue
            if not create:
                whose = ("the signed-in mailbox" if self.client.user == "/me"
                         else f"the mailbox {self.client.user.removeprefix('/users/')}")
                raise MailboxError(f"folder {name} does not exist in {whose}; create it "
                                   "or set microsoft.folder")
            made = self._call("POST", where, f"create the folder {name}",
                              json={"displayName": part})
            log.info("created the folder %s", name)
            parent = str(made["id"])
        assert parent is not None, "an empty folder name"
        self._folder_ids[name] = parent
        return parent

    def _round(self, cursor: str | None, batch_size: int) -> tuple[list[str], str]:
        """The ids of the messages added since `cursor` (all of them without one), oldest
        first, and the delta link after them."""
        start = self._later.get(cursor or "", cursor)
        if start and not start.startswith(self.client.base):
            start = None  # another server's (or an IMAP) cursor: start afresh
        url = start or (f"/mailFolders/{self.folder_id(self.folder, create=False)}"
                        "/messages/delta?$select=id,receivedDateTime")
        found: dict[str, str] = {}
        pages = 0
        while True:
            try:
                with self._lock:
                    page = self.client.json("GET", url, "read the folder's changes",
                                            headers={"Prefer":
                                                     f"odata.maxpagesize={batch_size}"})
            except GraphError as exc:
                if start and url == start and exc.status in (400, 404, 410):
                    log.warning("the stored delta link is no longer valid (%s %s); "
                                "reading the folder afresh", exc.status, exc.code)
                    self._later.pop(cursor or "", None)
                    return self._round(None, batch_size)
                raise MailboxError(exc.line) from exc
            pages += 1
            for item in page.get("value", []):
                if "@removed" in item or "id" not in item:
                    continue  # moved away (by us) or deleted
                found[str(item["id"])] = str(item.get("receivedDateTime", ""))
            if "@odata.nextLink" in page:
                url = str(page["@odata.nextLink"])
                continue
            delta = str(page.get("@odata.deltaLink", ""))
            log.debug("delta round: %s pages, %s messages", pages, len(found))
            if not found and delta:
                self._later[cursor or ""] = delta
            return sorted(found, key=lambda key: (found[key], key)), delta

    def batches(self, cursor: str | None, batch_size: int) -> Iterator[Batch]:
        ids, delta = self._round(cursor, batch_size)
        access = GraphAccess(self.client.base, self.client.user, self.client.current_token,
                             self.ca_file, self.timeout)
        for start in range(0, len(ids), batch_size):
            run = tuple(ids[start:start + batch_size])
            last = start + batch_size >= len(ids)
            yield GraphBatch(access, run, delta if last else "")

    def fetch_batch(self, batch: Batch) -> list[FetchedMessage]:
        assert isinstance(batch, GraphBatch)
        with self._lock:
            return fetch_messages(self.client, batch.ids, batch.cursor)

    def fetch_new(self, cursor: str | None,
                  batch_size: int) -> Iterator[list[FetchedMessage]]:
        return (self.fetch_batch(batch) for batch in self.batches(cursor, batch_size))

    def move(self, keys: Sequence[str], destination: str) -> None:
        if not keys:
            return
        target = self.folder_id(destination)
        for key in keys:
            try:
                with self._lock:
                    self.client.request("POST", f"/messages/{key}/move",
                                        f"move a message to {destination}",
                                        json={"destinationId": target}, missing_ok=True)
            except GraphError as exc:
                raise MailboxError(exc.line) from exc

    def append(self, folder: str, raw: bytes) -> None:
        raise NotImplementedError("Graph keeps the sent copy itself (Sent Items)")

    def expunge_mentioning(self, folder: str, needles: Sequence[str],
                           matches: Callable[[bytes], bool], dry_run: bool = False) -> int:
        """Every message of `folder` is read and confirmed by `matches` (Graph's $search is
        a word index that misses parts of addresses; an erasure is rare and thorough),
        then removed with permanentDelete, past Deleted Items."""
        if not [n for n in needles if n]:
            return 0
        try:
            where = self.folder_id(folder, create=False)
        except MailboxError:
            return 0  # no such folder: nothing in it
        ids: list[str] = []
        url = f"/mailFolders/{where}/messages?$select=id&$top=100"
        while url:
            page = self._call("GET", url, f"list the messages in {folder}")
            ids += [str(item["id"]) for item in page.get("value", []) if "id" in item]
            url = str(page.get("@odata.nextLink", ""))
        with self._lock:
            found = [m.key for m in fetch_messages(self.client, ids, "") if matches(m.raw)]
        if not dry_run:
            for key in found:
                try:
                    with self._lock:
                        self.client.request("POST", f"/messages/{key}/permanentDelete",
                                            "erase a message", missing_ok=True)
                except GraphError as exc:
                    raise MailboxError(exc.line) from exc
        return len(found)

    def push_ready(self) -> bool:
        return False

    def idle_wait(self, timeout_seconds: float) -> bool:
        raise NotImplementedError("a Graph folder is polled (its delta link)")

    def close(self) -> None:
        self.client.close()
