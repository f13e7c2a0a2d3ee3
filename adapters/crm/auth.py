"""Credentials on each request: bearer, HTTP basic, api key, and the two OAuth 2 grants.

Static credentials are added as they are. An OAuth access token is fetched on the first
request, kept in memory only (never written anywhere), and fetched again when it is about
to expire or once when the CRM answers 401. The token request goes through the same
:class:`~adapters.crm.fetch.Fetcher` as the pages, so it is retried and throttled alike,
and its failures read the same way.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import httpx

from adapters.crm.fetch import Fetcher, PageRequest, ReadFailure
from adapters.crm.schema import (
    ApiKeyAuth,
    Auth,
    BasicAuth,
    BearerAuth,
    ClientCredentialsAuth,
    RefreshTokenAuth,
)

# A token this close to its expiry is renewed first: the request must not outlive it.
_EXPIRY_MARGIN = 60.0
# When the token answer gives no lifetime: an hour, as most providers' tokens last.
_DEFAULT_LIFETIME = 3600.0


class StaticCredentials:
    """Headers and query parameters that never change (bearer, basic, api key)."""

    def __init__(
        self, headers: dict[str, str] | None = None, params: dict[str, str] | None = None
    ) -> None:
        self.headers = headers or {}
        self.params = params or {}

    def apply(self, request: httpx.Request) -> None:
        """Add the headers, and the parameters to the URL's query."""
        request.headers.update(self.headers)
        if self.params:
            request.url = request.url.copy_merge_params(self.params)

    def renew(self) -> bool:
        """Nothing to renew: a refused static credential stays refused."""
        return False


class OAuthCredentials:
    """An OAuth 2 access token from a client-credentials or refresh-token grant."""

    def __init__(
        self,
        settings: ClientCredentialsAuth | RefreshTokenAuth,
        fetcher: Fetcher,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.clock = clock
        self.fetches = 0
        self._token: str | None = None
        self._expires = 0.0

    def apply(self, request: httpx.Request) -> None:
        """Add ``Authorization: SCHEME TOKEN``, fetching the token if it is missing or old."""
        if self._token is None or self.clock() >= self._expires - _EXPIRY_MARGIN:
            self._fetch()
        request.headers["Authorization"] = f"{self.settings.scheme} {self._token}"

    def renew(self) -> bool:
        """Drop the token after a 401, so the next request fetches a new one."""
        self._token = None
        return True

    def _fetch(self) -> None:
        self.fetches += 1
        request = self._token_request()
        try:
            answer = self.fetcher.fetch(request)
        except ReadFailure as exc:
            raise ReadFailure(f"the token request failed: {exc.problem}", status=exc.status,
                              credentials=True, request=request) from None  # fmt: skip
        body = answer.body
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            error = body.get("error") if isinstance(body, dict) else None
            said = f" ({error})" if isinstance(error, str) else ""
            raise ReadFailure(f"the token server gave no access token{said}",
                              credentials=True, request=request)  # fmt: skip
        lifetime = body.get("expires_in")
        if isinstance(lifetime, str) and lifetime.isdigit():
            lifetime = int(lifetime)
        if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = _DEFAULT_LIFETIME
        # The new token is a secret too, from the moment it is known.
        self.fetcher.redactor.add(token)
        self._token = token
        self._expires = self.clock() + float(lifetime)

    def _token_request(self) -> PageRequest:
        settings = self.settings
        fields = [("client_id", settings.client_id), ("client_secret", settings.client_secret)]
        if isinstance(settings, RefreshTokenAuth):
            fields = [("grant_type", "refresh_token"),
                      ("refresh_token", settings.refresh_token), *fields]  # fmt: skip
        else:
            fields = [("grant_type", "client_credentials"), *fields]
        if settings.scopes:
            fields.append(("scope", " ".join(settings.scopes)))
        if settings.send_as == "query":
            return PageRequest("POST", settings.token_url, params=tuple(fields))
        return PageRequest("POST", settings.token_url, form=tuple(fields))


def credentials_for(
    auth: Auth | None, fetcher: Fetcher, *, clock: Callable[[], float] = time.monotonic
) -> StaticCredentials | OAuthCredentials:
    """The credentials a mapping's ``client.auth`` describes (none: nothing is added)."""
    if auth is None:
        return StaticCredentials()
    if isinstance(auth, BearerAuth):
        return StaticCredentials({"Authorization": f"{auth.scheme} {auth.token}"})
    if isinstance(auth, BasicAuth):
        pair = f"{auth.username}:{auth.password}".encode()
        fetcher.redactor.add(base64.b64encode(pair).decode("ascii"))
        return StaticCredentials({"Authorization": "Basic " + base64.b64encode(pair).decode()})
    if isinstance(auth, ApiKeyAuth):
        if auth.location == "query":
            return StaticCredentials(params={auth.name: auth.api_key})
        return StaticCredentials({auth.name: auth.api_key})
    return OAuthCredentials(auth, fetcher, clock=clock)
