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
  again; a 401 is answered by logging in once more and repeating the request.
* The password and the token live only in this object's private attributes: they are
  never logged, never in a repr, never in an exception message.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from connector import __version__
from connector.api.pacing import Pacer
from connector.errors import (
    ApiError,
    BadRequest,
    BadResponse,
    Forbidden,
    MethodNotAllowed,
    NetworkError,
    NotAcceptable,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    RequestNotSent,
    ServerError,
    SipaltoSyncError,
    Unauthorized,
    Unavailable,
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

#: The format the API uses for call-history ranges (``YYYY-MM-DD HH:ii``).
RANGE_FORMAT = "%Y-%m-%d %H:%M"

#: The longest range one call-history request may cover, in days. The API documentation
#: names no limit; a month per request is the cautious guess for the real service, and
#: the sandbox refuses longer ranges so that the splitting is exercised.
MAX_RANGE_DAYS = 31

_STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    406: NotAcceptable,
    429: RateLimited,
    503: Unavailable,
}

_STATUS_TEXT = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden (permission denied)",
    404: "not found",
    405: "method not allowed",
    406: "not acceptable (wrong format)",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before giving up.

    ``attempts`` bounds tries of a safe request on 5xx/network errors; ``throttle_waits``
    bounds how many 429s one request may wait out; backoff is exponential from
    ``backoff`` seconds, capped at ``max_backoff``, with full jitter.
    """

    attempts: int = 5
    throttle_waits: int = 20
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 300.0


class SipaltoClient:
    """A thread-safe client for the Sipalto API.

    >>> with SipaltoClient("http://127.0.0.1:8765", "demo", "demo") as api:  # doctest: +SKIP
    ...     contacts = api.list_contacts()

    ``transport`` (an ``httpx`` transport, e.g. ``httpx.MockTransport``), ``sleep``
    and ``rng`` are injectable for tests; ``pacer`` may be shared across clients that
    act for the same user.
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
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        max_connections: int = 10,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.__password = password
        self.__token: str | None = None
        self._token_lock = threading.Lock()
        self.retry = retry or RetryPolicy()
        self.pacer = pacer or Pacer()
        self._sleep = sleep
        self._rng = rng or random.Random()
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": f"sipalto-sync/{__version__}"},
            limits=httpx.Limits(max_connections=max_connections),
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
        log.debug("logged in as %s", self.username)

    def _current_token(self) -> str:
        with self._token_lock:
            if self.__token is None:
                self._login_locked()
            assert self.__token is not None
            return self.__token

    def _refresh_token(self, stale: str) -> None:
        """Log in again, unless another thread already replaced the stale token."""
        with self._token_lock:
            if self.__token == stale or self.__token is None:
                log.info("access token refused (expired?); logging in again")
                self.__token = None
                self._login_locked()

    # -- phonebook -----------------------------------------------------------------

    def list_contacts(self) -> list[Contact]:
        """All global contacts, as the server holds them."""
        body = self._call("GET", LIST_CONTACTS, safe=True)
        items = _response(body, LIST_CONTACTS)
        if isinstance(items, dict):  # PHP sends a keyed array as an object
            items = list(items.values())
        if not isinstance(items, list):
            raise BadResponse("contact list is not a list", status=200, endpoint=LIST_CONTACTS)
        contacts = []
        for item in items:
            if not isinstance(item, dict) or "id" not in item:
                raise BadResponse(
                    f"contact list holds an entry without an id: {str(item)[:80]}",
                    status=200,
                    endpoint=LIST_CONTACTS,
                )
            contacts.append(Contact.from_dict(item))
        return contacts

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
        self, phone_number: str, start: datetime | str, end: datetime | str
    ) -> list[Call]:
        """Answered calls of ``phone_number`` between ``start`` and ``end``, by time.

        The API answers with an object keyed by call id (or ``[]`` when empty).
        """
        form = {"start": _range_text(start), "end": _range_text(end), "phone_number": phone_number}
        body = self._call("POST", ANSWERED_CALLS, data=form, safe=True)
        payload = _response(body, ANSWERED_CALLS)
        if isinstance(payload, dict):
            entries: Iterable[Any] = payload.values()
        elif isinstance(payload, list):
            entries = payload
        elif payload is None:
            entries = []
        else:
            raise BadResponse("answered calls is not a list", status=200, endpoint=ANSWERED_CALLS)
        calls = [_call_from(entry) for entry in entries]
        return sorted(calls, key=lambda call: (call.date, call.call_id))

    def call_recording(self, call_id: str) -> bytes:
        """The call's recording as WAV bytes (checked to really be audio)."""
        response = self._send("POST", CALL_RECORDING, data={"call_id": call_id}, safe=True)
        content = response.content
        if content[:4] == b"RIFF" and content[8:12] == b"WAVE":
            return content
        body = _json_body(response, CALL_RECORDING)  # raises on non-JSON
        _response(body, CALL_RECORDING)  # raises on "success": false
        raise BadResponse(
            f"recording of {call_id} is not WAV audio "
            f"(content-type {response.headers.get('content-type', '?')})",
            status=response.status_code,
            endpoint=CALL_RECORDING,
        )

    def call_transcription(self, call_id: str) -> list[TranscriptSegment]:
        """The call's transcript segments, as the server sends them (summary included)."""
        body = self._call("POST", CALL_TRANSCRIPTION, data={"call_id": call_id}, safe=True)
        payload = _response(body, CALL_TRANSCRIPTION)
        if isinstance(payload, dict):
            payload = list(payload.values())
        if not isinstance(payload, list):
            raise BadResponse(
                "transcription is not a list", status=200, endpoint=CALL_TRANSCRIPTION
            )
        return [_segment_from(entry, call_id) for entry in payload]

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
            return _checked_body(response, method, path)
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
        relogged = False
        while True:
            token = self._current_token() if auth else None
            headers = {"Authorization": f"Bearer {token}"} if token else None
            self.pacer.acquire()
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
            if status == 401 and auth and not relogged:
                relogged = True
                assert token is not None
                self._refresh_token(token)
                continue
            if status == 429:
                throttled += 1
                too_long = (retry_after or 0.0) > self.retry.max_retry_after
                if throttled > self.retry.throttle_waits or too_long:
                    raise _status_error(response, method, path, retry_after=retry_after)
                log.info("throttled (429) on %s %s; waiting %.1fs", method, path, retry_after or 1)
                # The pacer already holds every thread until the pause ends.
                continue
            refusal = _status_error(response, method, path)
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


def _range_text(value: datetime | str) -> str:
    return value.strftime(RANGE_FORMAT) if isinstance(value, datetime) else value


def _network_error(exc: httpx.TransportError, method: str, path: str) -> NetworkError:
    # Connect failures and pool waits happen before a byte of the request is sent.
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return RequestNotSent(f"cannot reach the Sipalto server ({type(exc).__name__}: {exc})")
    return NetworkError(f"{method} {path}: {type(exc).__name__}: {exc or 'connection lost'}")


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200]


def _json_body(response: httpx.Response, endpoint: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        kind = response.headers.get("content-type", "unknown content type")
        raise BadResponse(
            f"{endpoint}: expected JSON, got {kind} (HTTP {response.status_code}): "
            f"{_excerpt(response)[:80]!r}",
            status=response.status_code,
            endpoint=endpoint,
            detail=_excerpt(response),
        ) from exc


def _message_of(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("message", "error", "response", "errors"):
            value = body.get(key)
            if value:
                return value if isinstance(value, str) else json.dumps(value)[:200]
    return None


def _checked_body(response: httpx.Response, method: str, path: str) -> Any:
    body = _json_body(response, path)
    if isinstance(body, dict) and body.get("success") is False:
        reason = _message_of({k: v for k, v in body.items() if k != "success"}) or "no reason"
        raise Rejected(
            f"{method} {path}: the server refused it: {reason}",
            status=response.status_code,
            method=method,
            endpoint=path,
            detail=reason,
        )
    return body


def _status_error(
    response: httpx.Response, method: str, path: str, *, retry_after: float | None = None
) -> ApiError:
    """The error for a refusal; a 429's ``retry_after`` is the delay the pacer read."""
    status = response.status_code
    cls = _STATUS_ERRORS.get(status, ServerError if status >= 500 else ApiError)
    try:
        reason = _message_of(response.json())
    except (json.JSONDecodeError, UnicodeDecodeError):
        reason = None
    text = _STATUS_TEXT.get(status, response.reason_phrase.lower() or "error")
    message = f"{method} {path}: HTTP {status} {text}" + (f": {reason}" if reason else "")
    kwargs: dict[str, Any] = dict(
        status=status, method=method, endpoint=path, detail=reason or _excerpt(response)
    )
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)


def _response(body: Any, endpoint: str) -> Any:
    if not isinstance(body, dict) or "response" not in body:
        raise BadResponse(
            f"{endpoint}: answer has no 'response' field", status=200, endpoint=endpoint
        )
    return body["response"]


def _call_from(entry: Any) -> Call:
    try:
        return Call(
            call_id=str(entry["call_id"]),
            caller=str(entry.get("caller") or ""),
            callee=str(entry.get("callee") or ""),
            direction=str(entry.get("direction") or ""),
            disposition=str(entry.get("disposition") or ""),
            date=datetime.strptime(str(entry["date"]), "%Y-%m-%d %H:%M:%S"),
            duration=int(float(entry.get("duration") or 0)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadResponse(
            f"unreadable call entry: {str(entry)[:120]}", status=200, endpoint=ANSWERED_CALLS
        ) from exc


def _segment_from(entry: Any, call_id: str) -> TranscriptSegment:
    try:
        return TranscriptSegment(
            call_id=str(entry.get("uniqueid") or call_id),
            speaker=str(entry.get("speaker") or ""),
            start_ms=float(entry["start"]),
            end_ms=float(entry["end"]),
            text=str(entry.get("text") or "").strip(),
            reid=str(entry.get("reid") or ""),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadResponse(
            f"unreadable transcript segment: {str(entry)[:120]}",
            status=200,
            endpoint=CALL_TRANSCRIPTION,
        ) from exc


__all__ = ["DEFAULT_BASE_URL", "RetryPolicy", "SipaltoClient", "SipaltoSyncError"]
