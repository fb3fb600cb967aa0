"""The Microsoft identity platform's documented shapes, as routes of the local server
(tests/integration/graph_server.py): OpenID configuration, the device authorization grant,
refresh, client credentials, and errors with their AADSTS codes (learn.microsoft.com:
entra/identity-platform/v2-oauth2-device-code, v2-oauth2-auth-code-flow,
v2-oauth2-client-creds-grant-flow, reference-error-codes)."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any
from urllib.parse import parse_qs

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
USER = "referrals@firm.example"
UID, UTID = "00000000-0000-0000-66f3-3332eca7ea81", "9188040d-6c67-4c5b-b112-36a304b66dad"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class IdentityRoutes:
    """Mixed into the server's request handler, which gives `_send`, `base` and
    `server.state` (graph_server.GraphState)."""

    server: Any
    base: str

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
              raw: bytes | None = None, content_type: str = "application/json") -> None:
        raise NotImplementedError

    def _identity(self, method: str, path: str, body: bytes) -> None:
        state = self.server.state
        # as Entra does, the configuration of a tenant named by its domain gives endpoints
        # under the tenant's ID (MSAL keys its cache by that ID)
        tenant = f"{self.base}/{UTID}"
        if path in (f"/{TENANT}/v2.0/.well-known/openid-configuration",
                    f"/{UTID}/v2.0/.well-known/openid-configuration"):
            self._send(200, {
                "token_endpoint": f"{tenant}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "private_key_jwt",
                                                          "client_secret_basic"],
                "jwks_uri": f"{tenant}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token",
                                             "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{self.base}/{UTID}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{self.base}/oidc/userinfo",
                "authorization_endpoint": f"{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{tenant}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{tenant}/oauth2/v2.0/logout",
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "name", "oid", "tid",
                                     "preferred_username"],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
            })
            return
        if path.startswith("/") and "/v2.0/.well-known/" in path:
            # an unknown tenant (reference-error-codes: AADSTS90002)
            self._send(400, {"error": "invalid_tenant", "error_description":
                             "AADSTS90002: Tenant 'x' not found. Check to make sure you have "
                             "the correct tenant ID and are signing into the correct cloud.",
                             "error_codes": [90002]})
            return
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if method == "POST" and path == f"/{UTID}/oauth2/v2.0/devicecode":
            state.scopes_asked.append(form.get("scope", ""))
            self._send(200, {
                "user_code": "FGQ9ZH7AK",
                "device_code": "DAQABAAEAAAD--DLA3VO7QrddgJg7WevrQvEQVbZEXAMPLE",
                "verification_uri": "https://microsoft.com/devicelogin",
                "expires_in": 900,
                "interval": 0,  # the documented 5, shortened for the tests
                "message": "To sign in, use a web browser to open the page "
                           "https://microsoft.com/devicelogin and enter the code FGQ9ZH7AK "
                           "to authenticate.",
            })
            return
        if method == "POST" and path == f"/{UTID}/oauth2/v2.0/token":
            self._token(form)
            return
        self._send(404, {"error": "not_found"})

    def _token_error(self, error: str, description: str, code: int) -> None:
        self._send(400, {"error": error, "error_description": f"AADSTS{code}: {description}"
                         "\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: "
                         "aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2026-11-23 "
                         "09:00:00Z", "error_codes": [code], "timestamp": "2026-11-23 09:00:00Z",
                         "trace_id": "0000aaaa-11bb-cccc-dd22-eeeeee333333",
                         "correlation_id": "aaaa0000-bb11-2222-33cc-444444dddddd"})

    def _token(self, form: dict[str, str]) -> None:
        state = self.server.state
        grant = form.get("grant_type", "")
        with state.lock:
            state.grants.append(grant.rsplit(":", 1)[-1])
        if form.get("client_id") != CLIENT_ID:
            self._token_error("unauthorized_client", f"Application with identifier "
                              f"'{form.get('client_id')}' was not found in the directory "
                              f"'{TENANT}'.", 700016)
            return
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            with state.lock:
                answer = state.device_answers.pop(0) if state.device_answers else ""
            if answer == "authorization_pending":
                self._token_error("authorization_pending", "The user hasn't finished "
                                  "authenticating, but hasn't canceled the flow.", 70016)
                return
            if answer == "expired_token":
                self._token_error("expired_token", "The device code has expired.", 70020)
                return
        elif grant == "refresh_token":
            if state.lapsed or form.get("refresh_token") not in state.refresh_tokens:
                self._token_error("invalid_grant", "The refresh token has expired due to "
                                  "inactivity. The token was issued on 2026-08-01T09:00:00Z "
                                  "and was inactive for 90.00:00:00.", 700082)
                return
        elif grant == "client_credentials":
            if form.get("client_assertion_type") != \
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" or \
                    form.get("client_assertion", "").count(".") != 2:
                self._token_error("invalid_client", "The client assertion is missing.",
                                  7000215)
                return
        else:
            self._token_error("unsupported_grant_type", f"grant {grant}", 70003)
            return
        if state.consent_missing:
            self._token_error("invalid_grant", "The user or administrator has not consented "
                              f"to use the application with ID '{CLIENT_ID}' named "
                              "'mailflow'. Send an interactive authorization request for this "
                              "user and resource.", 65001)
            return
        self._send(200, self._tokens(form, grant == "client_credentials"))

    def _tokens(self, form: dict[str, str], app_only: bool) -> dict[str, Any]:
        state = self.server.state
        with state.lock:
            n = next(state.ids)
            access = state.fixed_access_token or f"eyJ0eXAiOiJKV1Qi.access-{n}"
            refresh = f"0.AAAA-refresh-{n}"
            state.access_tokens.add(access)
            state.refresh_tokens.add(refresh)
        # the scopes granted: those asked for (the device code grant names them when the
        # code is asked for, not again)
        scope = form.get("scope") or (state.scopes_asked[-1] if state.scopes_asked else "")
        answer: dict[str, Any] = {"token_type": "Bearer", "scope": scope, "expires_in": 3599,
                                  "ext_expires_in": 3599, "access_token": access}
        if app_only:
            return answer
        now = int(datetime.datetime.now(datetime.UTC).timestamp())
        claims = {"aud": CLIENT_ID, "iss": f"{self.base}/{UTID}/v2.0", "iat": now,
                  "nbf": now, "exp": now + 3600, "name": "Referrals",
                  "oid": UID, "preferred_username": USER,
                  "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
                  "tid": UTID, "ver": "2.0"}
        id_token = ".".join([_b64url(b'{"alg":"none","typ":"JWT"}'),
                             _b64url(json.dumps(claims).encode()), ""])
        return {**answer, "refresh_token": refresh, "id_token": id_token,
                "client_info": _b64url(json.dumps({"uid": UID, "utid": UTID}).encode())}
