"""A local Microsoft 365 over TLS with a test CA: the identity platform's routes
(identity_server.py) and Microsoft Graph's mail endpoints, built from Microsoft's
documentation with its response shapes as fixtures.

Graph v1.0 mail: `mailFolders` (well-known names, `$filter=displayName eq`,
`childFolders`, create), `messages/delta` rounds in pages (`@odata.nextLink`, then
`@odata.deltaLink`; `@removed` rows for messages moved away; 410 for an unknown token),
`/messages/{id}/$value`, `/messages/{id}/move` (201, a new id), `sendMail` with a base64
MIME body (202), and the error shape `{"error": {"code", "message"}}` with 401
InvalidAuthenticationToken, 403 ErrorAccessDenied, 404 ErrorInvalidUser /
ErrorItemNotFound and 429 with Retry-After (learn.microsoft.com: graph/api/message-delta,
user-sendmail, message-move, mailfolder-post-childfolders, graph/throttling, graph/errors).

Scripted faults (`throttle`, `fail_moves`, `lapse`, …) are set on the server by tests.
"""

from __future__ import annotations

import base64
import datetime
import email
import itertools
import json
import re
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.integration.identity_server import (
    CLIENT_ID,
    TENANT,
    USER,
    IdentityRoutes,
)
from tests.integration.tls_ca import LocalCA, make_ca, make_client_certificate

__all__ = ["CLIENT_ID", "TENANT", "USER", "make_client_certificate"]
WELL_KNOWN = ("inbox", "sentitems", "drafts", "deleteditems", "archive", "junkemail")




@dataclass
class Folder:
    id: str
    name: str
    parent: str | None
    messages: dict[str, bytes] = field(default_factory=dict)  # id -> MIME, arrival order
    received: dict[str, str] = field(default_factory=dict)
    log: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, added|removed, id)


@dataclass
class GraphState:
    """What the tenant holds and how it misbehaves; tests change it directly."""

    folders: dict[str, Folder] = field(default_factory=dict)
    sent: list[bytes] = field(default_factory=list)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    device_answers: list[str] = field(default_factory=list)  # errors before success
    grants: list[str] = field(default_factory=list)  # grant_type of each /token request
    requests: list[str] = field(default_factory=list)  # "METHOD path" of Graph requests
    lapsed: bool = False  # refresh tokens answer invalid_grant (AADSTS700082)
    consent_missing: bool = False  # tokens answer invalid_grant (AADSTS65001)
    denied: bool = False  # Graph answers 403 ErrorAccessDenied
    wrong_audience: bool = False  # Graph answers 401 to every token, even a fresh one
    throttle: dict[str, int] = field(default_factory=dict)  # request kind -> 429s to give
    retry_after: str = "0"
    fail_moves: int = 0  # moves answered 503 (retried), this many
    refuse_recipient: str = "nobody@invalid.example"
    fixed_access_token: str | None = None  # hand out this access token (for Dovecot)
    scopes_asked: list[str] = field(default_factory=list)
    users: tuple[str, ...] = (USER,)
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.RLock = field(default_factory=threading.RLock)

    def folder(self, name: str, parent: str | None = None) -> Folder:
        made = Folder(f"folder-{next(self.ids)}", name, parent)
        self.folders[made.id] = made
        return made

    def well_known(self, name: str) -> Folder:
        for folder in self.folders.values():
            if folder.parent is None and folder.name.lower() == {
                    "inbox": "inbox", "sentitems": "sent items"}.get(name, name):
                return folder
        raise KeyError(name)

    def deliver(self, raw: bytes, folder: str = "inbox") -> str:
        with self.lock:
            box = self.well_known(folder)
            key = f"AAMkAD{next(self.ids):06d}="
            box.messages[key] = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            arrived = datetime.datetime(2026, 11, 23, 9, tzinfo=datetime.UTC) + \
                datetime.timedelta(seconds=int(key[6:12]))
            box.received[key] = arrived.strftime("%Y-%m-%dT%H:%M:%SZ")
            box.log.append((next(self.seq), "added", key))
            return key

    def named(self, path: str) -> Folder | None:
        parent: str | None = None
        found: Folder | None = None
        for part in path.split("/"):
            found = next((f for f in self.folders.values()
                          if f.parent == parent and f.name == part), None)
            if found is None:
                return None
            parent = found.id
        return found

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def lapse(self) -> None:
        """The refresh token lapses (90 days unused, or revoked) and access tokens expire."""
        self.lapsed = True
        self.access_tokens.clear()


def _initial(state: GraphState) -> None:
    for name in ("Inbox", "Sent Items", "Drafts", "Deleted Items"):
        state.folder(name)


class Handler(IdentityRoutes, BaseHTTPRequestHandler):
    server: GraphServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    # -- plumbing
    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
              raw: bytes | None = None, content_type: str = "application/json") -> None:
        payload = raw if raw is not None else (json.dumps(body).encode()
                                               if body is not None else b"")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _graph_error(self, status: int, code: str, message: str,
                     headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"code": code, "message": message, "innerError": {
            "date": "2026-11-23T09:00:00", "request-id": "94fb3b52-452a-4535-a601-69e0a90e3aa2",
            "client-request-id": "94fb3b52-452a-4535-a601-69e0a90e3aa2"}}}, headers)

    @property
    def base(self) -> str:
        return self.server.url

    def do_GET(self) -> None:
        self._dispatch("GET", b"")

    def do_POST(self) -> None:
        self._dispatch("POST", self._body())

    def _dispatch(self, method: str, body: bytes) -> None:
        path = urlsplit(self.path).path
        try:
            if path.startswith("/v1.0/"):
                self._graph(method, body)
            else:
                self._identity(method, path, body)
        except BrokenPipeError:
            return

    # -- the identity platform
    # -- Microsoft Graph
    def _graph(self, method: str, body: bytes) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path = unquote(parts.path).removeprefix("/v1.0")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with state.lock:
            state.requests.append(f"{method} {path}")
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in state.access_tokens or state.wrong_audience:
            self._graph_error(401, "InvalidAuthenticationToken",
                              "Access token has expired or is not yet valid.")
            return
        kind = self._kind(method, path, query)
        with state.lock:
            throttled = state.throttle.get(kind, 0)
            if throttled:
                state.throttle[kind] = throttled - 1
        if throttled:
            self._graph_error(429, "ApplicationThrottled", "Application is over its "
                              "MailboxConcurrency limit.", {"Retry-After": state.retry_after})
            return
        match = re.match(r"^/(me|users/([^/]+))(/.*)$", path)
        if match is None:
            self._graph_error(400, "BadRequest", "Unsupported segment type.")
            return
        user = match.group(2)
        if user is not None and user.lower() not in state.users:
            self._graph_error(404, "ErrorInvalidUser", f"The requested user '{user}' is "
                              "invalid.")
            return
        if state.denied:
            self._graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials "
                              "and try again.")
            return
        with state.lock:
            self._mail(method, match.group(3), query, body)

    @staticmethod
    def _kind(method: str, path: str, query: dict[str, str]) -> str:
        if path.endswith("/messages/delta"):
            return "delta-next" if "$skiptoken" in query else "delta"
        for kind in ("$value", "move", "sendMail"):
            if path.endswith(f"/{kind}"):
                return kind
        return f"{method} folders"

    def _folder(self, ref: str) -> Folder | None:
        state = self.server.state
        if ref.lower() in WELL_KNOWN:
            try:
                return state.well_known(ref.lower())
            except KeyError:
                return None
        return state.folders.get(ref)

    def _folder_json(self, folder: Folder) -> dict[str, Any]:
        state = self.server.state
        return {"id": folder.id, "displayName": folder.name, "parentFolderId": folder.parent,
                "childFolderCount": sum(1 for f in state.folders.values()
                                        if f.parent == folder.id),
                "unreadItemCount": 0, "totalItemCount": len(folder.messages),
                "isHidden": False}

    def _mail(self, method: str, rest: str, query: dict[str, str], body: bytes) -> None:
        state = self.server.state
        rest = re.sub(r"mailFolders\('([^']*)'\)", r"mailFolders/\1", rest)  # OData key form
        match = re.match(r"^/mailFolders(?:/([^/]+))?(?:/(childFolders|messages/delta))?$",
                         rest)
        if match:
            self._folders(method, match.group(1), match.group(2), query, body)
            return
        listing = re.match(r"^/mailFolders/([^/]+)/messages$", rest)
        if listing and method == "GET":  # a folder's messages, 'top' at a time
            folder = self._folder(listing.group(1))
            if folder is None:
                self._graph_error(404, "ErrorItemNotFound", "The specified object was not "
                                  "found in the store.")
                return
            keys, top = sorted(folder.messages), int(query.get("$top", "10"))
            skip = int(query.get("$skip", "0"))
            page: dict[str, Any] = {"value": [{"id": k} for k in keys[skip:skip + top]]}
            if skip + top < len(keys):
                page["@odata.nextLink"] = (f"{self.base}/v1.0/me/mailFolders/{folder.id}"
                                           f"/messages?$select=id&$top={top}&$skip={skip + top}")
            self._send(200, page)
            return
        match = re.match(r"^/messages/([^/]+)/(\$value|move|permanentDelete)$", rest)
        if match:
            key, action = match.groups()
            source = next((f for f in state.folders.values() if key in f.messages), None)
            if source is None:
                self._graph_error(404, "ErrorItemNotFound", "The specified object was not "
                                  "found in the store.")
                return
            if action == "$value":
                self._send(200, raw=source.messages[key], content_type="text/plain")
                return
            if action == "permanentDelete":
                source.messages.pop(key)
                source.received.pop(key, None)
                source.log.append((next(state.seq), "removed", key))
                self._send(204)
                return
            if state.fail_moves:
                state.fail_moves -= 1
                self._graph_error(503, "ServiceUnavailable", "The service is temporarily "
                                  "unavailable.", {"Retry-After": "0"})
                return
            target = self._folder(json.loads(body or b"{}").get("destinationId", ""))
            if target is None:
                self._graph_error(400, "ErrorInvalidIdMalformed", "Id is malformed.")
                return
            raw = source.messages.pop(key)
            source.received.pop(key, None)
            source.log.append((next(state.seq), "removed", key))
            moved = f"AAMkAD{next(state.ids):06d}="
            target.messages[moved] = raw
            target.log.append((next(state.seq), "added", moved))
            self._send(201, {"id": moved, "parentFolderId": target.id})
            return
        if rest == "/sendMail" and method == "POST":
            self._send_mail(body)
            return
        self._graph_error(400, "BadRequest", f"Resource not found for the segment '{rest}'.")

    def _send_mail(self, body: bytes) -> None:
        state = self.server.state
        if self.headers.get("Content-Type", "").split(";")[0] != "text/plain":
            self._graph_error(400, "ErrorInvalidRequest", "MIME content must be text/plain.")
            return
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError:
            self._graph_error(400, "ErrorMimeContentInvalidBase64String",
                              "Invalid base64 string for MIME content.")
            return
        message = email.message_from_bytes(raw)
        if state.refuse_recipient in str(message.get("To", "")):
            self._graph_error(400, "ErrorInvalidRecipients", "At least one recipient is not "
                              "valid., Recipient '" + state.refuse_recipient + "' is not "
                              "resolved. All recipients must be resolved before a message can "
                              "be submitted.")
            return
        state.sent.append(raw)
        state.well_known("sentitems").messages[f"AAMkAD{next(state.ids):06d}="] = raw
        self._send(202)

    def _folders(self, method: str, ref: str | None, sub: str | None, query: dict[str, str],
                 body: bytes) -> None:
        state = self.server.state
        folder = self._folder(ref) if ref else None
        if ref and folder is None:
            self._graph_error(404, "ErrorItemNotFound", "The specified object was not found "
                              "in the store.")
            return
        if sub == "messages/delta":
            assert folder is not None
            self._delta(folder, query)
            return
        parent = folder.id if folder is not None else None
        if folder is not None and sub is None:
            self._send(200, self._folder_json(folder))
            return
        if method == "POST":
            name = json.loads(body or b"{}").get("displayName", "")
            if any(f.parent == parent and f.name == name for f in state.folders.values()):
                self._graph_error(409, "ErrorFolderExists", "A folder with the specified "
                                  "name already exists.")
                return
            self._send(201, self._folder_json(state.folder(name, parent)))
            return
        wanted = re.match(r"^displayName eq '(.*)'$", query.get("$filter", ""))
        listed = [f for f in state.folders.values() if f.parent == parent and (
            wanted is None or f.name == wanted.group(1).replace("''", "'"))]
        self._send(200, {"@odata.context": f"{self.base}/v1.0/$metadata#users('{USER}')/"
                         "mailFolders", "value": [self._folder_json(f) for f in listed]})

    def _delta(self, folder: Folder, query: dict[str, str]) -> None:
        """A round: changes after `$deltatoken` (all messages without one) in pages of the
        Prefer: odata.maxpagesize (10 by default)."""
        size = 10
        prefer = re.search(r"odata\.maxpagesize=(\d+)", self.headers.get("Prefer", ""))
        if prefer:
            size = int(prefer.group(1))
        link = f"{self.base}/v1.0/me/mailFolders('{folder.id}')/messages/delta"
        if "$skiptoken" in query:
            since, offset = (int(x) for x in query["$skiptoken"].split("-"))
        elif "$deltatoken" in query:
            try:
                since, offset = int(query["$deltatoken"]), 0
            except ValueError:  # a token this server never gave (or one long expired)
                self._graph_error(410, "SyncStateNotFound", "The sync state generation is "
                                  "invalid.")
                return
        else:
            since, offset = 0, 0
        rows = self._changes(folder, since)
        page = rows[offset:offset + size]
        answer: dict[str, Any] = {"@odata.context": f"{self.base}/v1.0/$metadata#"
                                  "Collection(message)", "value": page}
        if offset + size < len(rows):
            answer["@odata.nextLink"] = f"{link}?$skiptoken={since}-{offset + size}"
        else:
            last = max([seq for seq, _, _ in folder.log] + [since])
            answer["@odata.deltaLink"] = f"{link}?$deltatoken={last}"
        self._send(200, answer)

    @staticmethod
    def _changes(folder: Folder, since: int) -> list[dict[str, Any]]:
        if since == 0:
            return [{"@odata.type": "#microsoft.graph.message",
                     "@odata.etag": 'W/"CQAAABYAAAARn2vdzPIuTpK6kWB0j6wRAAAbl"',
                     "id": key, "receivedDateTime": folder.received.get(key, "")}
                    for key in folder.messages]
        latest: dict[str, str] = {}
        for seq, what, key in folder.log:
            if seq > since:
                latest[key] = what
        return [{"id": key, "@removed": {"reason": "deleted"}} if what == "removed"
                else {"@odata.type": "#microsoft.graph.message", "id": key,
                      "receivedDateTime": folder.received.get(key, "")}
                for key, what in latest.items()]


class GraphServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, ca: LocalCA) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(ca.cert_file, ca.key_file)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.ca = ca
        self.state = GraphState()
        _initial(self.state)
        self.url = f"https://127.0.0.1:{self.server_address[1]}"

    def reset(self) -> None:
        self.state = GraphState()
        _initial(self.state)


@contextmanager
def running_graph(root: Path) -> Iterator[GraphServer]:
    server = GraphServer(make_ca(root))
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="graph-server")
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
