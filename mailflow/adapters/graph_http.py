"""Microsoft Graph over HTTPS (requests): throttling and 5xx retried, a 401 refreshed once.

Shared by the Graph mailbox and the Graph sender. Graph's own refusals become GraphError,
whose `line` says in words what is wrong (permission missing, mailbox not found);
connection failures become `failure` (MailboxError or SendError, the caller's kind).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from mailflow.adapters.ms_identity import connection_problem, http_session
from mailflow.errors import MailflowError, SignInError

log = logging.getLogger("mailflow.graph")

RETRIED = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 6  # the first try and five retries
# seconds: a longer Retry-After is cut to this, so that a request gives up within 5 minutes
# (well within the service's watchdog) and the next cycle tries again
MOST_WAIT = 60.0
TokenSource = Callable[[bool], str]  # refresh -> an access token


class GraphError(Exception):
    """Graph answered with an error: its status, its code and its own message."""

    def __init__(self, status: int, code: str, message: str, what: str) -> None:
        super().__init__(status, code, message, what)
        self.status, self.code, self.message, self.what = status, code, message, what

    def __str__(self) -> str:
        return self.line

    @property
    def line(self) -> str:
        if self.status == 403 or self.code == "ErrorAccessDenied":
            return (f"permission missing: Graph refused to {self.what} ({self.code}: "
                    f"{self.message}); the app needs Mail.ReadWrite and Mail.Send with admin "
                    "consent (and, app-only, an access policy that includes this mailbox)")
        if self.code in ("ErrorInvalidUser", "MailboxNotEnabledForRESTAPI",
                         "MailboxNotFound", "ErrorNonExistentMailbox") or (
                self.status == 404 and self.code == "ResourceNotFound"):
            return (f"mailbox not found: Graph could not {self.what} ({self.code}: "
                    f"{self.message}); check microsoft.mailbox and that the mailbox "
                    "exists in Exchange Online")
        return f"Graph could not {self.what}: {self.status} {self.code}: {self.message}"


def _error(response: requests.Response, what: str) -> GraphError:
    try:
        body = response.json().get("error", {})
        code, message = str(body.get("code", "")), str(body.get("message", ""))
    except (ValueError, AttributeError):
        code, message = "", response.text[:200]
    return GraphError(response.status_code, code or response.reason or "error",
                      " ".join(message.split())[:300], what)


def _retry_after(response: requests.Response, attempt: int) -> float:
    given = response.headers.get("Retry-After", "")
    try:
        return min(MOST_WAIT, max(0.0, float(given)))
    except ValueError:
        return min(MOST_WAIT, 2.0 ** attempt)


class GraphClient:
    """One mailbox's Graph API: `base` is the API root (…/v1.0), `user` is `/me` or
    `/users/ADDRESS`."""

    def __init__(self, base: str, user: str, token: TokenSource, *,
                 failure: type[MailflowError], ca_file: Path | None = None,
                 timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = base.rstrip("/")
        self.user = user
        self.root = f"{self.base}{user}"
        self._token = token
        self.failure = failure
        self.sleep = sleep
        self.session = http_session(ca_file, timeout)

    @property
    def current_token(self) -> str:
        """Asked before each request: MSAL answers from its cache until the token is near
        its end, then refreshes it, so a long-running daemon never sends a stale one."""
        return self._token(False)

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.root}{path}"

    def request(self, method: str, path: str, what: str, *, json: Any = None,
                data: bytes | None = None, headers: dict[str, str] | None = None,
                stream: bool = False, missing_ok: bool = False) -> requests.Response | None:
        """The response to a successful request (None: 404 and `missing_ok`). 429 and 5xx
        are retried after Retry-After (or a doubling backoff); a 401 fetches a fresh token
        once; any other error is a GraphError."""
        refreshed = False
        attempt = 0
        token = self.current_token
        while True:
            try:
                response = self.session.request(
                    method, self.url(path), json=json, data=data, stream=stream,
                    headers={"Authorization": f"Bearer {token}", **(headers or {})})
            except requests.RequestException as exc:
                raise self.failure(f"cannot reach Microsoft Graph at {self.base}: "
                                   f"{connection_problem(exc)}") from exc
            status = response.status_code
            if status < 400:
                return response
            if status == 401 and not refreshed:
                refreshed = True
                response.close()
                log.info("Graph refused the access token; refreshing it once")
                token = self._token(True)
                continue
            if status == 401:
                error = _error(response, what)
                raise SignInError(f"Graph refuses the signed-in token ({error.code}: "
                                  f"{error.message}); run `mailflow login` again")
            if status in RETRIED and attempt + 1 < ATTEMPTS:
                wait = _retry_after(response, attempt)
                log.warning("Graph answered %s to %s; trying again in %.0f s", status,
                            what, wait)
                response.close()
                self.sleep(wait)
                attempt += 1
                continue
            if status == 404 and missing_ok:
                response.close()
                return None
            raise _error(response, what)

    def json(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, what, **kwargs)
        assert response is not None
        body = response.json() if response.content else {}
        return body if isinstance(body, dict) else {}

    def close(self) -> None:
        self.session.close()
