"""The Microsoft identity platform through MSAL: `mailflow login` and the tokens after it.

Delegated (a person signs the tracker mailbox in once with a device code; MSAL then
refreshes silently) or app-only (client credentials with a certificate). The token cache
is a file next to the database, owner-only and replaced atomically. Every failure is a
SignInError in one line; `explain` reads the AADSTS code Microsoft puts first in
`error_description`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msal
import requests

from mailflow.errors import SignInError

log = logging.getLogger("mailflow.microsoft")

OUTLOOK = "https://outlook.office.com"
IMAP_SCOPE = f"{OUTLOOK}/IMAP.AccessAsUser.All"
SMTP_SCOPE = f"{OUTLOOK}/SMTP.Send"
APP_ONLY_OUTLOOK = "https://outlook.office365.com/.default"
GRAPH_SCOPES = ("Mail.ReadWrite", "Mail.Send")
# what the first AADSTS code of a refusal means, in words that say what to do
AADSTS = {
    "65001": "consent missing: an administrator must grant the app's permissions "
             "(Entra admin center, App registrations, API permissions, Grant admin consent)",
    "50076": "the tenant requires multi-factor sign-in: run `mailflow login` again",
    "50079": "the tenant requires multi-factor sign-in: run `mailflow login` again",
    "700082": "the sign-in has lapsed (refresh token expired after inactivity): "
              "run `mailflow login` again",
    "70043": "the sign-in has lapsed (refresh token expired under a Conditional Access "
             "policy): run `mailflow login` again",
    "50173": "the sign-in was revoked (password changed or sessions revoked): "
             "run `mailflow login` again",
    "700016": "client_id is not an app registered in this tenant (check microsoft.client_id "
              "and microsoft.tenant)",
    "90002": "tenant not found (check microsoft.tenant)",
    "7000215": "the app's client secret or certificate was refused",
    "700027": "the app's certificate was refused (upload it to the app registration)",
}


def explain(result: dict[str, Any]) -> str:
    """One line from an MSAL error result: what is wrong and what to do."""
    error = str(result.get("error", "error"))
    description = str(result.get("error_description", ""))
    code = re.match(r"\s*AADSTS(\d+)", description)
    if code and code.group(1) in AADSTS:
        return f"{AADSTS[code.group(1)]} (AADSTS{code.group(1)})"
    first = description.splitlines()[0].strip() if description.strip() else ""
    if error == "invalid_grant":
        return ("the sign-in has lapsed or was revoked: run `mailflow login` again"
                + (f" ({first})" if first else ""))
    if error == "expired_token":
        return "the code was not entered in time: run `mailflow login` again"
    if error in ("authorization_declined", "access_denied"):
        return "the sign-in was declined: run `mailflow login` again and accept"
    return f"{error}: {first}" if first else error


def token_cache_path(database: Path) -> Path:
    """The token cache lives next to the database (and is as private as it)."""
    return database.with_name(database.name + ".microsoft-token.json")


def write_private(path: Path, text: str) -> None:
    """`text` into `path`, owner-only (0600) from its first byte, replacing it atomically."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@dataclass(frozen=True)
class SignInSettings:
    """What signing in needs (from the `microsoft:` section): plain data."""

    tenant: str
    client_id: str
    authority: str
    cache: Path
    ca_file: Path | None = None
    certificate: Path | None = None
    certificate_key: Path | None = field(default=None, repr=False)
    timeout: float = 30.0

    @property
    def app_only(self) -> bool:
        return self.certificate is not None


def _certificate_credential(certificate: Path, key: Path) -> dict[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    try:
        pem = certificate.read_bytes()
        private_key = key.read_text(encoding="utf-8")
    except OSError as exc:
        raise SignInError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    try:
        thumbprint = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA1()).hex()
    except ValueError as exc:
        raise SignInError(f"{certificate} is not a PEM certificate") from exc
    return {"private_key": private_key, "thumbprint": thumbprint}


class Identity:
    """Tokens for one app registration and one cache; thread-safe (ingest moves in a thread)."""

    def __init__(self, settings: SignInSettings) -> None:
        self.settings = settings
        self.cache = msal.SerializableTokenCache()
        self._app: msal.ClientApplication | None = None
        self._lock = threading.RLock()

    def _load(self) -> None:
        try:
            self.cache.deserialize(self.settings.cache.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            raise SignInError(f"cannot read the sign-in cache {self.settings.cache}: {exc}; "
                              "run `mailflow login` again") from exc

    def _save(self) -> None:
        if not self.cache.has_state_changed:
            return
        try:
            write_private(self.settings.cache, self.cache.serialize())
        except OSError as exc:
            raise SignInError(f"cannot keep the sign-in in {self.settings.cache}: "
                              f"{exc.strerror}") from exc

    def app(self) -> msal.ClientApplication:
        """MSAL's application; building it reads the tenant's OpenID configuration."""
        with self._lock:
            if self._app is not None:
                return self._app
            settings = self.settings
            self._load()
            common: dict[str, Any] = {
                "authority": f"{settings.authority}/{settings.tenant}",
                "token_cache": self.cache,
                "http_client": http_session(settings.ca_file, settings.timeout),
            }
            if not settings.authority.startswith("https://login.microsoftonline."):
                common["instance_discovery"] = False  # a national cloud or a test server
            try:
                if settings.certificate is not None and settings.certificate_key is not None:
                    self._app = msal.ConfidentialClientApplication(
                        settings.client_id, client_credential=_certificate_credential(
                            settings.certificate, settings.certificate_key), **common)
                else:
                    self._app = msal.PublicClientApplication(settings.client_id, **common)
            except SignInError:
                raise
            except ValueError as exc:
                raise SignInError(f"cannot use the tenant {settings.tenant} at "
                                  f"{settings.authority}: check microsoft.tenant "
                                  f"({str(exc).split('. ')[0]})") from exc
            except requests.RequestException as exc:
                raise SignInError(f"cannot reach {settings.authority}: "
                                  f"{connection_problem(exc)}") from exc
            return self._app

    def login(self, scopes: Sequence[str], show: Callable[[str], None]) -> str:
        """The device-code flow: `show` tells the person the code and the address, then
        this waits until they have signed in. Returns the account signed in."""
        if self.settings.app_only:
            self.token(scopes)
            return f"app {self.settings.client_id} (certificate)"
        app = self.app()
        assert isinstance(app, msal.PublicClientApplication)
        try:
            flow = app.initiate_device_flow(scopes=list(scopes))
            if "user_code" not in flow:
                raise SignInError(f"the sign-in could not start: {explain(flow)}")
            show(str(flow.get("message") or f"To sign in, open {flow['verification_uri']} "
                                                f"and enter the code {flow['user_code']}"))
            result = app.acquire_token_by_device_flow(flow)
        except requests.RequestException as exc:
            raise SignInError(f"cannot reach {self.settings.authority}: "
                              f"{connection_problem(exc)}") from exc
        if "access_token" not in result:
            raise SignInError(f"sign-in failed: {explain(result)}")
        with self._lock:
            self._save()
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or claims.get("upn") or "the account")

    def token(self, scopes: Sequence[str], refresh: bool = False) -> str:
        """An access token for `scopes`, from the cache or refreshed silently (`refresh`:
        the one the server refused is not used again)."""
        with self._lock:
            app = self.app()
            try:
                if isinstance(app, msal.ConfidentialClientApplication) and \
                        self.settings.app_only:
                    result = app.acquire_token_for_client(scopes=list(scopes))
                else:
                    accounts = app.get_accounts()
                    if not accounts:
                        raise SignInError("not signed in to Microsoft 365: run `mailflow "
                                          "login` (the sign-in is kept in "
                                          f"{self.settings.cache})")
                    result = app.acquire_token_silent_with_error(
                        list(scopes), accounts[0], force_refresh=refresh) or {
                            "error": "invalid_grant",
                            "error_description": "no token could be refreshed"}
            except requests.RequestException as exc:
                raise SignInError(f"cannot reach {self.settings.authority}: "
                                  f"{connection_problem(exc)}") from exc
            finally:
                self._save()
            if "access_token" not in result:
                raise SignInError(explain(result))
            return str(result["access_token"])

    def tokens(self, scopes: Sequence[str]) -> Callable[[bool], str]:
        """`token` for these scopes, as a function of `refresh`."""
        def token(refresh: bool) -> str:
            return self.token(scopes, refresh)
        return token


def http_session(ca_file: Path | None, timeout: float) -> requests.Session:
    """A requests session with a timeout on every request, trusting `ca_file` as well as
    the system's CAs when given (passed with each request: requests lets REQUESTS_CA_BUNDLE
    override a session's own `verify`)."""
    session = requests.Session()
    request = session.request

    def bounded(*args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", timeout)
        if ca_file is not None:
            kwargs.setdefault("verify", str(ca_file))
        return request(*args, **kwargs)

    session.request = bounded  # type: ignore[method-assign]
    return session


def connection_problem(exc: requests.RequestException) -> str:
    """'certificate verify failed', 'connection refused', 'timed out': the first cause."""
    if isinstance(exc, requests.exceptions.SSLError):
        text = str(exc)
        reason = re.search(r"certificate verify failed: ([^(')\]]+)", text)
        return ("TLS failed: certificate verify failed"
                + (f": {reason.group(1).strip()}" if reason else ""))
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "Connection refused" in text:
            return "connection refused"
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "unknown host"
        return "connection failed"
    return type(exc).__name__
