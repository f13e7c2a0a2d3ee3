"""What the Sipalto API's answers mean: JSON checks, HTTP statuses as errors, typed results.

Every function here reads an answer the client already has; none sends anything. The
API's quirks are read here once: PHP's keyed arrays sent as objects, ``"success": false``
with HTTP 200, numbers where strings are documented, ``[]`` for an empty call list.
``endpoint`` only names the request in error messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec

from connector.api.times import API_ZONE, call_time, instant
from connector.errors import (
    ApiError,
    BadRequest,
    BadResponse,
    Forbidden,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    RateLimited,
    Rejected,
    ServerError,
    Unauthorized,
    Unavailable,
)
from connector.model import Call, Contact, TranscriptSegment

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


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200]


def json_body(response: httpx.Response, endpoint: str) -> Any:
    """The answer's JSON; anything else (an HTML page, garbage) is :class:`BadResponse`.

    ``msgspec`` reads strict UTF-8 JSON, faster than the standard library; what it does not
    read (a byte-order mark, UTF-16, ``NaN``, an escaped lone surrogate) is read by the
    standard library as it always was, and only what neither reads is refused.
    """
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        pass
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


def checked_body(response: httpx.Response, method: str, path: str) -> Any:
    """The JSON body of a 2xx answer; a ``"success": false`` body is :class:`Rejected`."""
    body = json_body(response, path)
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


def status_error(
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


def _payload(body: Any, endpoint: str) -> Any:
    if not isinstance(body, dict) or "response" not in body:
        raise BadResponse(
            f"{endpoint}: answer has no 'response' field", status=200, endpoint=endpoint
        )
    return body["response"]


class _DocumentedContactList(msgspec.Struct):
    """A contact-list answer exactly as the API documents it: a list of contacts whose
    five fields are all text (``phone2`` and ``phone3`` may be left out)."""

    response: list[Contact]
    success: bool = True


_decode_documented = msgspec.json.Decoder(_DocumentedContactList).decode


def contacts_of(response: httpx.Response, method: str, path: str) -> list[Contact]:
    """The contacts of a contact-list answer.

    An answer as the API documents it is decoded straight into :class:`Contact` values, in
    C: a 100,000-contact phonebook is read in a fifth of the time it takes to decode the
    JSON and then build each contact. Any other answer (numbers or nulls for text, a PHP
    keyed array, ``"success": false``, not JSON at all) is read, or refused, as
    :func:`checked_body` and :func:`contacts_from` say.
    """
    try:
        answer = _decode_documented(response.content)
    except msgspec.DecodeError:  # also the answers that are JSON, but not as documented
        answer = None
    if answer is not None and answer.success:
        return answer.response
    return contacts_from(checked_body(response, method, path), path)


def contacts_from(body: Any, endpoint: str) -> list[Contact]:
    """The contacts of a contact-list answer (a list, or a PHP keyed array as an object)."""
    items = _payload(body, endpoint)
    if isinstance(items, dict):  # PHP sends a keyed array as an object
        items = list(items.values())
    if not isinstance(items, list):
        raise BadResponse("contact list is not a list", status=200, endpoint=endpoint)
    contacts = []
    for item in items:
        if not isinstance(item, dict) or "id" not in item:
            raise BadResponse(
                f"contact list holds an entry without an id: {str(item)[:80]}",
                status=200,
                endpoint=endpoint,
            )
        contacts.append(Contact.from_dict(item))
    return contacts


def calls_from(body: Any, endpoint: str, zone: ZoneInfo = API_ZONE) -> list[Call]:
    """The calls of an answered-calls answer, by time, their times on ``zone``'s clock.

    The API answers with an object keyed by call id, or ``[]`` when there are none.
    """
    payload = _payload(body, endpoint)
    if isinstance(payload, dict):
        entries: Iterable[Any] = payload.values()
    elif isinstance(payload, list):
        entries = payload
    elif payload is None:
        entries = []
    else:
        raise BadResponse("answered calls is not a list", status=200, endpoint=endpoint)
    calls = [_call_from(entry, endpoint, zone) for entry in entries]
    return sorted(calls, key=lambda call: (instant(call.date), call.call_id))


def audio_from(response: httpx.Response, call_id: str, endpoint: str) -> bytes:
    """The WAV bytes of a recording answer; a JSON refusal or anything else is an error."""
    content = response.content
    if content[:4] == b"RIFF" and content[8:12] == b"WAVE":
        return content
    body = json_body(response, endpoint)  # raises on non-JSON
    _payload(body, endpoint)  # raises on a body without a response
    raise BadResponse(
        f"recording of {call_id} is not WAV audio "
        f"(content-type {response.headers.get('content-type', '?')})",
        status=response.status_code,
        endpoint=endpoint,
    )


def segments_from(body: Any, call_id: str, endpoint: str) -> list[TranscriptSegment]:
    """The segments of a transcription answer, in the order sent (summary included)."""
    payload = _payload(body, endpoint)
    if isinstance(payload, dict):
        payload = list(payload.values())
    if not isinstance(payload, list):
        raise BadResponse("transcription is not a list", status=200, endpoint=endpoint)
    return [_segment_from(entry, call_id, endpoint) for entry in payload]


def _call_from(entry: Any, endpoint: str, zone: ZoneInfo) -> Call:
    try:
        call_id = str(entry["call_id"])
        return Call(
            call_id=call_id,
            caller=str(entry.get("caller") or ""),
            callee=str(entry.get("callee") or ""),
            direction=str(entry.get("direction") or ""),
            disposition=str(entry.get("disposition") or ""),
            date=call_time(str(entry["date"]), zone, call_id=call_id),
            duration=int(float(entry.get("duration") or 0)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadResponse(
            f"unreadable call entry: {str(entry)[:120]}", status=200, endpoint=endpoint
        ) from exc


def _segment_from(entry: Any, call_id: str, endpoint: str) -> TranscriptSegment:
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
            endpoint=endpoint,
        ) from exc
