"""An IMAP folder through imapclient: incremental by UID, batched, text parts only when large.

Returns plain values (ints, bytes, str), never imapclient objects. Never deletes:
handled mail is moved (MOVE, or COPY + \\Deleted + UID EXPUNGE with UIDPLUS), and only
`expunge_mentioning`, for `mailflow forget`, removes messages.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from mailflow.adapters.mailbox import (
    KEEP_COPY,
    PUSH,
    RESUMABLE,
    Batch,
    FetchedMessage,
    runs_of,
)
from mailflow.adapters.tls import client_context, tls_problem
from mailflow.errors import MailboxError

log = logging.getLogger("mailflow.imap")
WHOLE_MESSAGE_LIMIT = 256 * 1024
BOUNDARY = "mailflow-text-parts-only"
# what is fetched of a large message: parsing reads the first text and HTML part, and
# at most core.budget's TEXT_BUDGET and HTML_BUDGET characters of them
TEXT_PARTS_FETCHED = 10
TEXT_PART_BYTES = 512 * 1024
HEADER_BYTES = 256 * 1024  # of the message's headers, and of each part's
# large messages in one batch: each can bring up to ~8 MB of those parts, and a batch of
# 200 small ones at most 200 x WHOLE_MESSAGE_LIMIT (51 MB), so a batch stays near 115 MB
LARGE_PER_BATCH = 8


def _partial(data: dict[bytes, Any], section: str) -> bytes:
    """A section fetched with <0.N>: the server names it with its origin, `BODY[1]<0>`."""
    value = data.get(f"BODY[{section}]<0>".encode(), data.get(f"BODY[{section}]".encode()))
    return bytes(value or b"")


def _text_parts(structure: Any, prefix: str = "") -> list[str]:
    """Section numbers of the text/plain and text/html parts in a BODYSTRUCTURE."""
    if structure is None:
        return []
    if getattr(structure, "is_multipart", False):
        found: list[str] = []
        for index, part in enumerate(structure[0], start=1):
            found += _text_parts(part, f"{prefix}{index}.")
        return found
    kind = structure[0].decode().lower() if isinstance(structure[0], bytes) else ""
    subtype = structure[1].decode().lower() if isinstance(structure[1], bytes) else ""
    disposition = structure[8] if len(structure) > 8 else None
    attached = (isinstance(disposition, tuple) and disposition
                and isinstance(disposition[0], bytes)
                and disposition[0].lower() == b"attachment")
    if kind == "text" and subtype in ("plain", "html") and not attached:
        return [prefix.rstrip(".") or "1"]
    return []


def _without_content_headers(header: bytes) -> bytes:
    """The header block less Content-Type and Content-Transfer-Encoding (with continuations)."""
    kept: list[bytes] = []
    skipping = False
    for line in header.rstrip(b"\r\n").split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        skipping = name in (b"content-type", b"content-transfer-encoding")
        if not skipping:
            kept.append(line)
    return b"\r\n".join(kept) + b"\r\n"


def reassemble(header: bytes, parts: list[tuple[bytes, bytes]]) -> bytes:
    """A valid message from the top headers and the (MIME header, body) of the text parts."""
    out = [_without_content_headers(header),
           f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"\r\n\r\n'.encode()]
    for mime, body in parts:
        out.append(f"--{BOUNDARY}\r\n".encode())
        out.append(mime.rstrip(b"\r\n") + b"\r\n\r\n" if mime.strip() else b"\r\n")
        out.append(body.rstrip(b"\r\n") + b"\r\n")
    out.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(out)


@dataclass(frozen=True)
class ImapAccess:
    """How to log in to the mailbox again, from another process."""

    host: str
    port: int
    tls: str
    username: str
    password: str = field(repr=False)
    folder: str
    verify_certificates: bool = True
    ca_file: Path | None = None
    timeout: float = 30.0
    oauth2_token: str | None = field(default=None, repr=False)

    def open(self) -> ImapMailbox:
        return ImapMailbox.connect(self.host, self.port, self.tls, self.username,
                                   self.password, self.folder,
                                   verify_certificates=self.verify_certificates,
                                   ca_file=self.ca_file, timeout=self.timeout,
                                   oauth2_token=self.oauth2_token)


# the connections ImapBatch.fetch opened in this process, one per account and folder,
# and the logins it was refused (not tried again: a server delays every refusal)
_opened: dict[ImapAccess, ImapMailbox] = {}
_refused: dict[ImapAccess, MailboxError] = {}


@dataclass(frozen=True)
class ImapBatch:
    """UIDs of one folder, valid while the folder's UIDVALIDITY is `uidvalidity`."""

    access: ImapAccess | None  # None: a mailbox made from a client, not by `connect`
    uidvalidity: int
    uids: tuple[int, ...]
    large: tuple[int, ...] = ()  # of `uids`, those above WHOLE_MESSAGE_LIMIT bytes

    def fetch(self) -> list[FetchedMessage]:
        if self.access is None:
            raise MailboxError("no login to fetch with from another connection")
        if self.access in _refused:
            raise _refused[self.access]
        box = _opened.get(self.access)
        if box is None:
            try:
                box = _opened[self.access] = self.access.open()
            except MailboxError as exc:
                _refused[self.access] = exc
                raise
        try:
            if box.uidvalidity() != self.uidvalidity:
                raise MailboxError(f"UIDVALIDITY is {box.uidvalidity()} on this connection, "
                                   f"not {self.uidvalidity}")
            return box.fetch_batch(self)
        except Exception:  # a broken connection is not kept for the next batch
            del _opened[self.access]
            box.close()
            raise


class ImapMailbox:
    capabilities: frozenset[str] = frozenset({RESUMABLE, PUSH, KEEP_COPY})

    def __init__(self, client: IMAPClient, folder: str, host: str) -> None:
        self.client = client
        self.folder = folder
        self.host = host
        # ingest reads the next batch in a thread while this one is handled; a move (or an
        # append) waits for that fetch: one command at a time on the connection
        self._lock = threading.RLock()
        self._uidvalidity = 0
        self._delimiter: str | None = None
        self.access: ImapAccess | None = None  # set by `connect`: batches fetch elsewhere
        self.select()

    @classmethod
    def connect(cls, host: str, port: int, tls: str, username: str, password: str,
                folder: str, *, verify_certificates: bool = True, ca_file: Path | None = None,
                timeout: float = 30.0, oauth2_token: str | None = None) -> ImapMailbox:
        # loading the CA certificates costs ~20 ms, and each parsing process connects too
        context = client_context(verify_certificates, ca_file) if tls != "none" else None
        where = f"{host}:{port}"
        try:
            client = IMAPClient(host, port=port, ssl=tls == "ssl", ssl_context=context,
                                timeout=timeout)
        except socket.gaierror as exc:
            raise MailboxError(f"unknown host {host}") from exc
        except ConnectionRefusedError as exc:
            raise MailboxError(f"cannot connect to {where}: connection refused") from exc
        except ssl.SSLError as exc:
            raise MailboxError(f"TLS failed with {where}: "
                               f"{tls_problem(exc)}") from exc
        except OSError as exc:
            raise MailboxError(f"cannot connect to {where}: {exc}") from exc
        _quiet_unless_logged(client)
        try:
            if tls == "starttls":
                client.starttls(context)
            if oauth2_token is not None:
                client.oauth2_login(username, oauth2_token)
            else:
                client.login(username, password)
        except LoginError as exc:
            _quietly_close(client)
            wrong = ("the access token was refused (expired or for another account?)"
                     if oauth2_token is not None else "wrong username or password")
            raise MailboxError(f"IMAP login failed for {username} at {host}: {wrong}") from exc
        except ssl.SSLError as exc:
            _quietly_close(client)
            raise MailboxError(f"TLS failed with {where}: "
                               f"{tls_problem(exc)}") from exc
        except (IMAPClientError, OSError) as exc:
            _quietly_close(client)
            if tls == "starttls":
                raise MailboxError(f"TLS failed with {where}: STARTTLS refused ({exc}); "
                                   "refusing to log in without encryption") from exc
            raise MailboxError(f"IMAP error at {where}: {exc}") from exc
        try:
            mailbox = cls(client, folder, host)
        except MailboxError:
            _quietly_close(client)
            raise
        mailbox.access = ImapAccess(host, port, tls, username, password, folder,
                                    verify_certificates, ca_file, timeout, oauth2_token)
        return mailbox

    def select(self) -> None:
        try:
            if not self.client.folder_exists(self.server_name(self.folder)):
                names = [f[2] for f in self.client.list_folders()]
                raise MailboxError(
                    f"folder {self.folder} does not exist on {self.host}; set imap.folder to "
                    f"one of: {', '.join(str(n) for n in names[:12])}")
            info = self.client.select_folder(self.server_name(self.folder))
        except IMAPClientError as exc:
            raise MailboxError(f"cannot open folder {self.folder}: {exc}") from exc
        self._uidvalidity = int(info.get(b"UIDVALIDITY", 0))

    def uidvalidity(self) -> int:
        return self._uidvalidity

    def batches(self, cursor: str | None, batch_size: int) -> Iterator[Batch]:
        """After a cursor `<UIDVALIDITY>:<UID>`; a changed UIDVALIDITY means UIDs started
        over, so the folder is read again from the start."""
        last_uid = 0
        if cursor:
            validity, _, uid = cursor.partition(":")
            if validity == str(self._uidvalidity) and uid.isdigit():
                last_uid = int(uid)
            else:
                log.warning("%s: UIDVALIDITY changed (cursor %s, now %s); rescanning, "
                            "Message-IDs prevent duplicates", self.folder, cursor,
                            self._uidvalidity)
        yield from self.batches_after(last_uid, batch_size)

    def batches_after(self, last_uid: int, batch_size: int) -> Iterator[ImapBatch]:
        above = ["UID", f"{last_uid + 1}:*"]
        try:
            with self._lock:
                found = self.client.search(above)
                # the large ones get only their text parts: asked of the server once, not
                # an RFC822.SIZE fetch per batch (a round trip, and a third of fetch time)
                large = set(self.client.search([*above, "LARGER", str(WHOLE_MESSAGE_LIMIT)]))
        except IMAPClientError as exc:
            raise MailboxError(f"IMAP search failed: {exc}") from exc
        # "n:*" always matches the highest UID, even when it is not above the cursor
        uids = sorted(int(u) for u in found if int(u) > last_uid)
        for chunk in runs_of(uids, batch_size, lambda uid: uid in large, LARGE_PER_BATCH):
            yield ImapBatch(self.access, self._uidvalidity, tuple(chunk),
                            tuple(u for u in chunk if u in large))

    def fetch_batch(self, batch: Batch) -> list[FetchedMessage]:
        assert isinstance(batch, ImapBatch), batch
        with self._lock:
            return self._fetch_batch(list(batch.uids), set(batch.large))

    def fetch_new(self, cursor: str | None,
                  batch_size: int) -> Iterator[list[FetchedMessage]]:
        return (self.fetch_batch(batch) for batch in self.batches(cursor, batch_size))

    def fetch_after(self, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]:
        return (self.fetch_batch(batch) for batch in self.batches_after(last_uid, batch_size))

    def _fetch_batch(self, uids: list[int], large: set[int]) -> list[FetchedMessage]:
        try:
            small = [u for u in uids if u not in large]
            whole = self.client.fetch(small, ["BODY.PEEK[]"]) if small else {}
            shapes = self._shapes(sorted(large)) if large else {}
            out = []
            for uid in uids:  # one missing from both was expunged by someone else meanwhile
                if uid in whole:
                    out.append(FetchedMessage(str(uid), bytes(whole[uid][b"BODY[]"]),
                                              self._cursor(uid)))
                elif uid in shapes:
                    out.append(self._fetch_large(uid, shapes[uid].get(b"BODYSTRUCTURE")))
            return out
        except IMAPClientError as exc:
            raise MailboxError(f"IMAP fetch failed: {exc}") from exc

    # One large message the server or imapclient cannot give us part by part (a structure
    # that will not parse, a refused command) must not fail its batch, and the cycle with
    # it, every time: it is read by its headers alone. A lost connection still fails.
    def _shapes(self, uids: list[int]) -> dict[int, dict[bytes, Any]]:
        try:
            return dict(self.client.fetch(uids, ["BODYSTRUCTURE"]))
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:
            log.warning("BODYSTRUCTURE of UIDs %s failed (%s); asking one by one", uids, exc)
        shapes: dict[int, dict[bytes, Any]] = {}
        for uid in uids:
            try:
                shapes.update(self.client.fetch([uid], ["BODYSTRUCTURE"]))
            except IMAPClientAbortError:
                raise
            except IMAPClientError:
                shapes[uid] = {}  # no structure: no text parts, the headers only
        return shapes

    def _fetch_large(self, uid: int, structure: Any) -> FetchedMessage:
        try:
            return self._fetch_text_parts(uid, structure)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:
            log.warning("UID %s: its text parts could not be fetched (%s); reading its "
                        "headers only", uid, exc)
        data = self.client.fetch([uid], [f"BODY.PEEK[HEADER]<0.{HEADER_BYTES}>"]).get(uid, {})
        return FetchedMessage(str(uid), _partial(data, "HEADER") + b"\r\n", self._cursor(uid),
                              parts_omitted=True)

    def _fetch_text_parts(self, uid: int, structure: Any) -> FetchedMessage:
        """The headers and the first text parts of a large message, each cut to a bound:
        5,000 text parts once made a FETCH line Dovecot refused, and the whole cycle
        with it, every time; one text part can be as large as the message."""
        sections = _text_parts(structure)[:TEXT_PARTS_FETCHED]
        items = [f"BODY.PEEK[HEADER]<0.{HEADER_BYTES}>"]
        for section in sections:
            items += [f"BODY.PEEK[{section}.MIME]<0.{HEADER_BYTES}>",
                      f"BODY.PEEK[{section}]<0.{TEXT_PART_BYTES}>"]
        data = self.client.fetch([uid], items).get(uid, {})
        header = _partial(data, "HEADER")
        parts = [(_partial(data, f"{s}.MIME"), _partial(data, s)) for s in sections]
        return FetchedMessage(str(uid), reassemble(header, parts), self._cursor(uid),
                              parts_omitted=True)

    def _cursor(self, uid: int) -> str:
        return f"{self._uidvalidity}:{uid}"

    def server_name(self, name: str) -> str:
        """`a/b` in the config becomes `a.b` on servers whose hierarchy delimiter is a dot."""
        if self._delimiter is None:
            listed = self.client.list_folders(directory="", pattern="")
            raw = listed[0][1] if listed else b"/"
            self._delimiter = raw.decode() if isinstance(raw, bytes) else str(raw or "/")
        return name.replace("/", self._delimiter) if self._delimiter else name

    def _ensure_folder(self, name: str) -> str:
        name = self.server_name(name)
        if not self.client.folder_exists(name):
            self.client.create_folder(name)
        return name

    def move(self, keys: Sequence[str], destination: str) -> None:
        if not keys:
            return
        with self._lock:
            try:
                destination = self._ensure_folder(destination)
                for uids in uid_sets([int(k) for k in keys]):
                    self._move(uids, destination)
                # imaplib keeps every untagged answer until the next SELECT: one EXPUNGE per
                # moved message, for as long as the daemon runs
                for answer in ("EXPUNGE", "VANISHED", "COPYUID"):
                    self.client._imap.untagged_responses.pop(answer, None)
            except IMAPClientError as exc:
                raise MailboxError(f"cannot move messages to {destination}: {exc}") from exc

    def _move(self, uids: str, destination: str) -> None:
        if self.client.has_capability("MOVE"):
            self.client.move(uids, destination)
        elif self.client.has_capability("UIDPLUS"):
            self.client.copy(uids, destination)
            self.client.add_flags(uids, [b"\\Deleted"])
            self.client.uid_expunge(uids)
        else:
            # without UIDPLUS an EXPUNGE could remove others' deleted mail: copy only
            self.client.copy(uids, destination)
            self.client.add_flags(uids, [b"\\Seen"])

    def append(self, folder: str, raw: bytes, flags: Sequence[bytes] = (b"\\Seen",)) -> None:
        try:
            with self._lock:
                self.client.append(self._ensure_folder(folder), raw, flags=tuple(flags))
        except IMAPClientError as exc:
            raise MailboxError(f"cannot append to {folder}: {exc}") from exc

    def expunge_mentioning(self, folder: str, needles: Sequence[str],
                           matches: Callable[[bytes], bool], dry_run: bool = False) -> int:
        """SEARCH TEXT (headers and body, decoded by the server) for each needle in
        `folder`; each message found is fetched and kept only when `matches` confirms it
        (the server matches substrings); then STORE \\Deleted and UID EXPUNGE of those
        UIDs alone (a plain EXPUNGE, without UIDPLUS, could take others' deleted mail
        with it: then they are only flagged). The folder read from is selected again
        after."""
        wanted = [n for n in needles if n]
        if not wanted:
            return 0
        with self._lock:
            name = self.server_name(folder)
            try:
                if not self.client.folder_exists(name):
                    return 0
                self.client.select_folder(name, readonly=dry_run)
                try:
                    uids: set[int] = set()
                    for needle in wanted:
                        charset = None if needle.isascii() else "UTF-8"
                        uids.update(int(u) for u in self.client.search(
                            ["TEXT", needle], charset=charset))
                    found = sorted(uids)
                    for start in range(0, len(found), 200):  # a bounded FETCH line
                        chunk = found[start:start + 200]
                        for uid, data in self.client.fetch(chunk, ["BODY.PEEK[]"]).items():
                            if not matches(bytes(data.get(b"BODY[]", b""))):
                                uids.discard(int(uid))
                    if uids and not dry_run:
                        found = sorted(uids)
                        self.client.add_flags(found, [b"\\Deleted"])
                        if self.client.has_capability("UIDPLUS"):
                            self.client.uid_expunge(found)
                        else:
                            log.warning("%s: no UIDPLUS: %s messages flagged \\Deleted, "
                                        "not expunged", folder, len(found))
                        for answer in ("EXPUNGE", "VANISHED", "FETCH"):
                            self.client._imap.untagged_responses.pop(answer, None)
                    return len(uids)
                finally:
                    self.select()
            except IMAPClientError as exc:
                raise MailboxError(f"cannot erase messages in {folder}: {exc}") from exc

    def folder_exists(self, name: str) -> bool:
        return bool(self.client.folder_exists(self.server_name(name)))

    def push_ready(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    def idle_wait(self, timeout_seconds: float) -> bool:
        """Wait in IDLE up to `timeout_seconds`; True when the server signalled new mail."""
        deadline = time.monotonic() + timeout_seconds
        try:
            self.client.idle()
            try:
                while (left := deadline - time.monotonic()) > 0:
                    responses = self.client.idle_check(timeout=left)
                    # keep-alives ("OK Still here") are not news
                    if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                        return True
            finally:
                self.client.idle_done()
        except (IMAPClientError, OSError) as exc:
            raise MailboxError(f"IDLE failed: {exc}") from exc
        return False

    def close(self) -> None:
        _quietly_close(self.client)


def uid_sets(uids: Sequence[int], longest: int = 4000) -> list[str]:
    """`uids` as IMAP sequence sets (`1:200,205`), each short enough for one command line
    (servers cap a line near 8 KB; Dovecot at 64 KB)."""
    runs: list[list[int]] = []
    for uid in sorted(set(uids)):
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    sets: list[str] = []
    for first, last in runs:
        run = f"{first}:{last}" if last > first else str(first)
        if sets and len(sets[-1]) + len(run) < longest:
            sets[-1] += "," + run
        else:
            sets.append(run)
    return sets


def _quiet_unless_logged(client: IMAPClient) -> None:
    """imapclient sets imaplib's debug level to 5 and hands each line to the
    "imapclient.imaplib" logger, so imaplib formats every line, every pattern it matches and
    the repr of every message fetched, then the logger drops them: over a quarter of a
    fetch's CPU. Off unless that logger would show them (mailflow at DEBUG)."""
    if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        client._imap.debug = 0


def _quietly_close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # already broken: there is nothing left to close politely
        try:
            client.shutdown()
        except Exception:
            log.debug("IMAP shutdown failed", exc_info=True)
