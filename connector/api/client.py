"""The Sipalto API client: every documented endpoint, typed results, one error tree.

Safety rules this module keeps (see ``connector.errors`` for the classes):

* Reads (contact list, call history, recordings, transcripts) and login are safe to
  repeat: 5xx answers and dropped connections are retried with exponential backoff
  and full jitter.
* Writes (add, update, delete) are never repeated once they may have reached the
  server. A connection that was never made raises :class:`RequestNotSent` (after the
  client's own retries); a 5xx, a timeout after sending or a lost answer raises
  :class:`OutcomeUnknown` and the caller (the apply engine) verifies by reading.
* A 429 was refused, not processed, so any request may wait (``Retry-After``) and go
  again. A 401 is answered by logging in again and repeating the request, as often as
  a fresh login succeeds: tokens expire at the server's pace, not ours. Only a refused
  login, or a token refused again a moment after it was issued, is fatal.
* The token is taken *after* the pacer lets a request go, so it cannot expire while the
  request waits its turn.
* The password and the token live only in this object's private attributes: they are
  never logged, never in a repr, never in an exception message.

Sending, retrying and re-login are here; reading an answer (JSON checks, statuses as
errors, typed results) is in :mod:`connector.api.responses`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from connector import __version__
from connector.api.pacing import Pacer
from connector.api.responses import (
    audio_from,
    calls_from,
    checked_body,
    contacts_of,
    segments_from,
    status_error,
)
from connector.api.times import API_ZONE, range_text
from connector.errors import (
    BadRequest,
    BadResponse,
    NetworkError,
    OutcomeUnknown,
    Rejected,
    RequestNotSent,
    SipaltoSyncError,
    Unauthorized,
)
from connector.model import Call, Contact, TranscriptSegment

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://app-api.sipalto.com"

LOGIN = "/auth/login"
LIST_CONTACTS = "/phone-books/get-global-contacts"
ADD_CONTACT = "/phone-books/add-global-contact"
UPDATE_CONTACT = "/phone-books/update-global-contact/{id}"
DELETE_CONTACT = "/phone-books/delete-global-contact/{id}"
ANSWERED_CALLS = "/call-history/get-answered-calls"
CALL_RECORDING = "/call-history/get-call-recording"
CALL_TRANSCRIPTION = "/call-history/get-call-transcription"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before giving up.

    ``attempts`` bounds tries of a safe request on 5xx/network errors; ``throttle_waits``
    bounds how many 429s one request may wait out; backoff is exponential from
    ``backoff`` seconds, capped at ``max_backoff``, with full jitter.

    A 401 is met with a new login. It is fatal only when the request was already refused
    once and its new token was less than ``fresh_token`` seconds old when sent (the
    server refuses tokens it just issued: a permission problem, not an expiry), or after
    ``relogins`` logins for one request.
    """

    attempts: int = 5
    throttle_waits: int = 20
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 300.0
    fresh_token: float = 1.0
    relogins: int = 10


class SipaltoClient:
    """A thread-safe client for the Sipalto API.

    >>> with SipaltoClient("http://127.0.0.1:8765", "demo", "demo") as api:  # doctest: +SKIP
    ...     contacts = api.list_contacts()

    ``transport`` (an ``httpx`` transport, e.g. ``httpx.MockTransport``), ``clock``
    (monotonic seconds: how old a token is), ``sleep`` and ``rng`` are injectable for
    tests; ``pacer`` may be shared across clients that act for the same user.
    ``max_connections`` sizes the connection pool: give it the number of threads that
    send at once, or they wait in the pool after the pacer let them go.

    ``logins`` and ``retried`` count, for reports, the logins made and the requests this
    client sent again (after a 5xx or a lost connection on a read, a 429 or a 401).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        username: str = "",
        password: str = "",
        *,
        timeout: float | httpx.Timeout = 30.0,
        connect_timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        max_connections: int = 10,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.__password = password
        self.__token: str | None = None
        self._token_issued = 0.0
        self._token_lock = threading.Lock()
        self.retry = retry or RetryPolicy()
        self.pacer = pacer or Pacer()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._count_lock = threading.Lock()
        self.logins = 0
        self.retried = 0
        max_connections = max(1, max_connections)
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": f"sipalto-sync/{__version__}"},
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"SipaltoClient(base_url={self.base_url!r}, username={self.username!r})"

    def __enter__(self) -> SipaltoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- authentication -------------------------------------------------------------

    def login(self) -> None:
        """Log in and keep the bearer token (done on demand; call it to check credentials)."""
        with self._token_lock:
            self._login_locked()

    def _login_locked(self) -> None:
        if not self.username or not self.__password:
            raise Unauthorized(
                "no Sipalto credentials: set SIPALTO_USERNAME and SIPALTO_PASSWORD "
                "or pass --username/--password",
                endpoint=LOGIN,
            )
        form = {"username": self.username, "password": self.__password}
        try:
            body = self._call("POST", LOGIN, data=form, safe=True, auth=False)
        except Unauthorized as exc:
            raise Unauthorized(
                f"login refused for user {self.username!r}: check the username and password",
                status=exc.status,
                method="POST",
                endpoint=LOGIN,
            ) from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise BadResponse("login answered without an access_token", status=200, endpoint=LOGIN)
        self.__token = token
        self._token_issued = self._clock()
        self.logins += 1  # under the token lock: one login at a time
        log.debug("logged in as %s", self.username)

    def _current_token(self) -> tuple[str, float]:
        """The token to send now and when it was issued (logging in if there is none)."""
        with self._token_lock:
            if self.__token is None:
                self._login_locked()
            assert self.__token is not None
            return self.__token, self._token_issued

    def _drop_token(self, refused: str) -> None:
        """Forget a refused token (unless another thread already replaced it).

        The next attempt logs in once the pacer lets it go, so the new token is not
        left to age in the pacer's queue either.
        """
        with self._token_lock:
            if self.__token == refused:
                log.info("access token refused (expired?); logging in again")
                self.__token = None

    # -- phonebook -----------------------------------------------------------------

    def list_contacts(self) -> list[Contact]:
        """All global contacts, as the server holds them."""
        response = self._send("GET", LIST_CONTACTS, safe=True)
        return contacts_of(response, "GET", LIST_CONTACTS)

    def add_contact(self, name: str, phone1: str, phone2: str = "", phone3: str = "") -> None:
        """Add a contact. The API answers ``"OK"`` with no id: read the list to learn it.

        Raises :class:`OutcomeUnknown` when the add may have happened without an answer.
        """
        form = {"name": name, "phone1": phone1, "phone2": phone2, "phone3": phone3}
        self._call("POST", ADD_CONTACT, data=form, safe=False)

    def update_contact(
        self, contact_id: str, name: str, phone1: str, phone2: str = "", phone3: str = ""
    ) -> None:
        """Replace a contact's name and all three phones (an omitted field may be cleared)."""
        form = {"name": name, "phone1": phone1, "phone2": phone2, "phone3": phone3}
        self._call("POST", UPDATE_CONTACT.format(id=_id(contact_id)), data=form, safe=False)

    def delete_contact(self, contact_id: str) -> None:
        """Delete a contact (the API's delete is a GET)."""
        self._call("GET", DELETE_CONTACT.format(id=_id(contact_id)), safe=False)

    # -- call history --------------------------------------------------------------

    def answered_calls(
        self,
        phone_number: str,
        start: datetime | str,
        end: datetime | str,
        *,
        zone: ZoneInfo = API_ZONE,
    ) -> list[Call]:
        """Answered calls of ``phone_number`` between ``start`` and ``end``, by time.

        The API's times are wall times of the PBX's time zone, ``zone``
        (:mod:`connector.api.times`): aware ``start`` and ``end`` are converted to it, naive
        ones are taken to be on its clock, text is sent as is (``YYYY-MM-DD HH:MM``). The
        calls come back with aware times on that clock. The API answers with an object
        keyed by call id (or ``[]`` when empty); the number is sent as given.
        """
        form = {
            "start": _range_text(start, zone),
            "end": _range_text(end, zone),
            "phone_number": phone_number,
        }
        body = self._call("POST", ANSWERED_CALLS, data=form, safe=True)
        return calls_from(body, ANSWERED_CALLS, zone)

    def call_recording(self, call_id: str) -> bytes:
        """The call's recording as WAV bytes (checked to really be audio)."""
        response = self._send("POST", CALL_RECORDING, data={"call_id": call_id}, safe=True)
        return audio_from(response, call_id, CALL_RECORDING)

    def call_transcription(self, call_id: str) -> list[TranscriptSegment]:
        """The call's transcript segments, as the server sends them (summary included)."""
        body = self._call("POST", CALL_TRANSCRIPTION, data={"call_id": call_id}, safe=True)
        return segments_from(body, call_id, CALL_TRANSCRIPTION)

    # -- plumbing ------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        data: dict[str, str] | None = None,
        safe: bool,
        auth: bool = True,
    ) -> Any:
        """Send a request and return its JSON body, errors mapped; writes never repeated."""
        response = self._send(method, path, data=data, safe=safe, auth=auth)
        try:
            return checked_body(response, method, path)
        except (BadResponse, Rejected) as exc:
            if safe or isinstance(exc, Rejected):
                raise
            # A 200 that is not the API's JSON (a proxy page) says nothing about the write.
            raise OutcomeUnknown(f"{method} {path}: {exc}", cause=exc) from exc

    def _send(
        self,
        method: str,
        path: str,
        *,
        data: dict[str, str] | None = None,
        safe: bool,
        auth: bool = True,
    ) -> httpx.Response:
        """Send with pacing, re-login, 429 waits and (for safe requests) retries.

        Returns a 2xx response; raises the mapped error otherwise.
        """
        failures = 0
        throttled = 0
        refused = 0
        again = False
        while True:
            if again:
                with self._count_lock:
                    self.retried += 1
            again = True
            # The token is read once the pacer lets the request go: a token taken before
            # the wait can expire during it.
            self.pacer.acquire()
            token, issued = self._current_token() if auth else (None, 0.0)
            headers = {"Authorization": f"Bearer {token}"} if token else None
            sent_at = self._clock()
            try:
                response = self._http.request(method, path, data=data, headers=headers)
            except httpx.TransportError as exc:
                error = _network_error(exc, method, path)
                if not safe and not isinstance(error, RequestNotSent):
                    raise OutcomeUnknown(
                        f"{method} {path}: no answer ({error}); it may or may not have been done",
                        cause=error,
                    ) from exc
                failures += 1
                if failures >= self.retry.attempts:
                    raise error from exc
                self._backoff(failures, f"{error}")
                continue

            retry_after = self.pacer.observe(response.status_code, response.headers)
            status = response.status_code
            if 200 <= status < 300:
                return response
            if status == 401 and auth:
                assert token is not None
                refused += 1
                self._check_refusal(response, method, path, refused, sent_at - issued)
                self._drop_token(token)
                continue
            if status == 429:
                throttled += 1
                too_long = (retry_after or 0.0) > self.retry.max_retry_after
                if throttled > self.retry.throttle_waits or too_long:
                    raise status_error(response, method, path, retry_after=retry_after)
                log.info("throttled (429) on %s %s; waiting %.1fs", method, path, retry_after or 1)
                # The pacer already holds every thread until the pause ends.
                continue
            refusal = status_error(response, method, path)
            if status >= 500:
                if not safe:
                    raise OutcomeUnknown(
                        f"{method} {path}: {refusal}; it may or may not have been done",
                        cause=refusal,
                    )
                failures += 1
                if failures < self.retry.attempts:
                    self._backoff(failures, str(refusal))
                    continue
            raise refusal

    def _check_refusal(
        self, response: httpx.Response, method: str, path: str, refused: int, age: float
    ) -> None:
        """Raise when a 401 is not an expired token: a new login would not help."""
        fresh = refused > 1 and age < self.retry.fresh_token
        if not fresh and refused <= self.retry.relogins:
            return
        refusal = status_error(response, method, path)
        why = (
            f"a token issued {age:.1f}s before was refused right after logging in again"
            if fresh
            else f"still refused after logging in {self.retry.relogins} times"
        )
        raise Unauthorized(
            f"{refusal} ({why}): check that user {self.username!r} may use the API",
            status=401,
            method=method,
            endpoint=path,
        )

    def _backoff(self, failures: int, why: str) -> None:
        ceiling = min(self.retry.max_backoff, self.retry.backoff * 2 ** (failures - 1))
        delay = self._rng.uniform(0, ceiling)
        log.info("%s; retrying in %.2fs (attempt %d)", why, delay, failures + 1)
        self._sleep(delay)


def _id(contact_id: str) -> str:
    text = str(contact_id).strip()
    if not text or "/" in text:
        raise BadRequest(f"invalid contact id {contact_id!r}")
    return text


def _range_text(value: datetime | str, zone: ZoneInfo) -> str:
    return range_text(value, zone) if isinstance(value, datetime) else value


def _network_error(exc: httpx.TransportError, method: str, path: str) -> NetworkError:
    # Connect failures and pool waits happen before a byte of the request is sent.
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return RequestNotSent(f"cannot reach the Sipalto server ({type(exc).__name__}: {exc})")
    return NetworkError(f"{method} {path}: {type(exc).__name__}: {exc or 'connection lost'}")


__all__ = ["DEFAULT_BASE_URL", "RetryPolicy", "SipaltoClient", "SipaltoSyncError"]
