"""A local emulator of the documented Sipalto API, for demos, trials and tests.

It follows ``sipalto-api.txt`` including its quirks: form-encoded bodies, string ids,
add answering ``"OK"`` with no id, delete as a GET (a POST is 405), answered calls as
an object keyed by call id, a login answer whose ``expires_in`` says a day whatever the
real token lifetime is. On top of that it can misbehave on purpose, the way a real
service does: latency and latency spikes, a per-user rate limit with ``429``/``Retry-After``/
``X-RateLimit-*`` (announced as different servers do, see :mod:`connector.sandbox.limits`),
random 500/503 answers, answers lost *after* a write was carried out, short-lived
tokens, writes carried out long after the client gave up on them, and connections
closed without an answer.

This module holds the endpoints (:class:`Sandbox`, an ASGI application); the data lives
in :mod:`connector.sandbox.state`, the call history in :mod:`connector.sandbox.calls`.
Run it with ``sipalto-sync sandbox``; in tests use
:class:`~connector.sandbox.server.SandboxServer` (a real uvicorn server on a loopback
port, in a background thread).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TextIO

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector.sandbox.calls import CallHistory, make_wav
from connector.sandbox.limits import RateLimiter
from connector.sandbox.state import Faults, SandboxState, default_seed


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"success": False, "message": message}, status, headers=headers)


def _ok(payload: Any) -> JSONResponse:
    return JSONResponse({"success": True, "response": payload})


def _fake_jwt(username: str, issued: float, ttl: float) -> str:
    def part(obj: dict[str, Any]) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part({"typ": "JWT", "alg": "HS256"})
    claims = part(
        {
            "iss": "http://sandbox/auth/login",
            "iat": int(issued),
            "exp": int(issued + ttl),
            "jti": secrets.token_urlsafe(12),
            "sub": username,
        }
    )
    return f"{header}.{claims}.{secrets.token_urlsafe(32)}"


_RANGE_END = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def _range_end(text: str) -> datetime:
    """A range end exactly as documented, ``YYYY-MM-DD HH:ii`` (a year of four digits)."""
    if not _RANGE_END.fullmatch(text.strip()):
        raise ValueError(text)
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")


class ConnectionDropped(Exception):
    """The sandbox hung up on purpose (``Faults.drop_rate``); not an error of the server."""


def _not_a_drop(record: logging.LogRecord) -> bool:
    # uvicorn logs an app that ends without answering as a crash; a drop is on purpose.
    return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


class _Dropped(Response):
    """No answer at all: the connection is closed with nothing sent."""

    def __init__(self) -> None:
        super().__init__()
        self.status_code = 0  # what the request log shows for "no answer"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # ASGI has no way to hang up without answering. A response start the server
        # cannot encode (a line break in a header) makes uvicorn close the connection at
        # once with nothing written: what the client of a crashed server sees.
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"x-sandbox", b"hang up\r\n")],
                }
            )
        except Exception as exc:
            raise ConnectionDropped from exc
        raise ConnectionDropped


class _Answer(Exception):
    """Raised inside a handler to answer at once (an error, mostly)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


Handler = Callable[["Sandbox", Request, str], Awaitable[Response]]


def _endpoint(*, auth: bool = True, write: bool = False) -> Callable[[Handler], Any]:
    """Wrap a handler in what every request goes through, in the real service's order:
    latency, format check, authentication, the per-user rate limit, random faults, then
    (for writes) the permission check, and after a write the chance its answer is lost.
    Every answer is logged and carries the rate-limit headers.
    """

    def wrap(handler: Handler) -> Callable[[Sandbox, Request], Awaitable[Response]]:
        async def run(self: Sandbox, request: Request) -> Response:
            headers: dict[str, str] = {}
            try:
                user, headers = await self._prelude(request, auth=auth)
                if write and user in self.state.read_only_users:
                    raise _Answer(_error(403, "Permission Denied"))
                drop = self._chance(self.faults.drop_rate)
                # A write is dropped half the time after it was carried out.
                dropped_after = drop and write and self.rng.random() < 0.5
                if drop and not dropped_after:
                    raise _Answer(_Dropped())
                response = await self._carry_out(handler, request, user, write=write)
                if dropped_after:
                    response = _Dropped()
                elif write and response.status_code == 200 and self._lost():
                    response = _error(500, "Internal Server Error")
            except _Answer as answer:
                response = answer.response
            response.headers.update(headers)
            self._record(request, response.status_code)
            return response

        return run

    return wrap


class Sandbox:
    """The ASGI application emulating the Sipalto API over a :class:`SandboxState`.

    ``clock`` (monotonic: token lifetimes and rate windows) and ``wall`` (the Unix time
    a rate-limit reset is given in) are injectable, and ``sleep`` waits out the latency
    (tests inject all three to run the sandbox on a fake clock); ``request_log``, an open
    text file, gets one JSON line per answered request (``at``, ``method``, ``path``,
    ``status``).
    """

    def __init__(
        self,
        state: SandboxState | None = None,
        faults: Faults | None = None,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_range_days: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall: Callable[[], float] = time.time,
        request_log: TextIO | None = None,
    ) -> None:
        self.state = state or SandboxState.from_contacts(default_seed())
        self.faults = faults or Faults()
        self.rng = rng or random.Random()
        self.clock = clock
        # The API documentation names no longest call-history range; a limit is only
        # there to rehearse a server that has one.
        self.max_range_days = max_range_days
        self.sleep = sleep
        self.wall = wall
        self.request_log = request_log
        self.calls = CallHistory(self.state)
        rate = self.faults.rate()
        self.limiter = RateLimiter(rate) if rate is not None else None
        # Slow writes still to be carried out (kept so they are not garbage-collected).
        self._late_writes: set[asyncio.Future[Response]] = set()
        #: How many writes were made slow (``Faults.slow_write_rate``); tests read it.
        self.slow_writes = 0
        uvicorn_errors = logging.getLogger("uvicorn.error")
        if _not_a_drop not in uvicorn_errors.filters:
            uvicorn_errors.addFilter(_not_a_drop)

        def route(path: str, handler: Callable[..., Any], method: str) -> Route:
            async def endpoint(request: Request) -> Response:
                return await handler(self, request)

            return Route(path, endpoint, methods=[method])

        routes = [
            route("/auth/login", Sandbox.login, "POST"),
            route("/phone-books/get-global-contacts", Sandbox.list_contacts, "GET"),
            route("/phone-books/add-global-contact", Sandbox.add_contact, "POST"),
            route("/phone-books/update-global-contact/{id}", Sandbox.update_contact, "POST"),
            route("/phone-books/delete-global-contact/{id}", Sandbox.delete_contact, "GET"),
            route("/call-history/get-answered-calls", Sandbox.answered_calls, "POST"),
            route("/call-history/get-call-recording", Sandbox.call_recording, "POST"),
            route("/call-history/get-call-transcription", Sandbox.transcription, "POST"),
        ]
        self.app = Starlette(
            routes=routes, exception_handlers={HTTPException: self._http_exception}
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        messages = {404: "Not Found", 405: "Method Not Allowed"}
        return _error(status, messages.get(status, str(getattr(exc, "detail", "Error"))))

    # -- shared request handling ---------------------------------------------------

    async def _prelude(self, request: Request, *, auth: bool) -> tuple[str, dict[str, str]]:
        """Latency, format, authentication, rate limit and random faults.

        Returns the user and the headers the answer carries; raises :class:`_Answer`.
        """
        delay = self.faults.latency
        if self.faults.latency_spike_rate and self.rng.random() < self.faults.latency_spike_rate:
            delay += self.faults.latency_spike
        if delay:
            await self.sleep(delay)
        content_type = request.headers.get("content-type", "")
        if request.method == "POST" and content_type.startswith("application/json"):
            raise _Answer(_error(406, "Wrong format: send form fields, not JSON"))
        if auth:
            user = self._authenticate(request)
            if user is None:
                raise _Answer(_error(401, "Unauthenticated."))
        else:
            # Login counts against the user it names: the limit is per user, not per token.
            user = str((await request.form()).get("username") or "")
        headers: dict[str, str] = {}
        if self.limiter is not None:
            client = request.client.host if request.client else "?"
            headers = self._rate_limit(user or client)
        if self.faults.fail_rate and self.rng.random() < self.faults.fail_rate:
            # The request was counted: its error carries the rate-limit headers too.
            if self.rng.random() < 0.5:
                raise _Answer(_error(500, "Internal Server Error", headers))
            raise _Answer(_error(503, "Service Unavailable", headers))
        return user, headers

    def _authenticate(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        with self.state.lock:
            entry = self.state.tokens.get(token.strip())
        if entry is None:
            return None
        user, expires = entry
        return user if self.clock() < expires else None

    def _rate_limit(self, key: str) -> dict[str, str]:
        """Count a request against ``key``'s limit; raise a 429 when it is spent."""
        assert self.limiter is not None
        verdict = self.limiter.hit(key, self.clock(), self.wall())
        if not verdict.allowed:
            raise _Answer(_error(429, "Too Many Requests", verdict.headers))
        return verdict.headers

    def _record(self, request: Request, status: int) -> None:
        """Remember an answered request (tests read it); log it as a JSON line if asked."""
        with self.state.lock:
            self.state.requests.append((request.method, request.url.path, status))
            if self.request_log is not None:
                entry = {
                    "at": round(self.wall(), 4),
                    "method": request.method,
                    "path": request.url.path,
                    "status": status,
                }
                self.request_log.write(json.dumps(entry) + "\n")
                self.request_log.flush()

    def _lost(self) -> bool:
        return bool(self.faults.lose_rate) and self.rng.random() < self.faults.lose_rate

    def _chance(self, rate: float) -> bool:
        return bool(rate) and self.rng.random() < rate

    async def _carry_out(
        self, handler: Handler, request: Request, user: str, *, write: bool
    ) -> Response:
        """Run the handler, at once or (a slow write) ``slow_write_delay`` seconds later.

        A slow write is carried out whatever the client does meanwhile: it runs in a task
        of its own, so a client that gives up (and a request that is cancelled) cannot
        stop it, as a real server finishes a write it has started.
        """
        if not (write and self._chance(self.faults.slow_write_rate)):
            return await handler(self, request, user)
        await request.form()  # read the body now, while the client is still there
        self.slow_writes += 1

        async def late() -> Response:
            await asyncio.sleep(self.faults.slow_write_delay)
            return await handler(self, request, user)

        task = asyncio.ensure_future(late())
        self._late_writes.add(task)
        task.add_done_callback(self._late_writes.discard)
        return await asyncio.shield(task)

    @staticmethod
    async def _fields(request: Request, required: tuple[str, ...], *names: str) -> dict[str, str]:
        """The form's fields (``""`` when absent); a 400 when a required one is empty."""
        form = await request.form()
        fields = {k: str(form.get(k) or "") for k in (*required, *names)}
        missing = [k for k in required if not fields[k].strip()]
        if missing:
            raise _Answer(_error(400, f"The {' and '.join(missing)} field is required."))
        return fields

    async def _call_of(self, request: Request) -> dict[str, str]:
        call_id = (await self._fields(request, ("call_id",)))["call_id"].strip()
        call = self.calls.find(call_id)
        if call is None:
            raise _Answer(_error(404, f"Call {call_id} not found"))
        return call

    # -- endpoints -----------------------------------------------------------------

    @_endpoint(auth=False)
    async def login(self, request: Request, user: str) -> Response:
        fields = await self._fields(request, ("username", "password"))
        if self.state.users.get(fields["username"]) != fields["password"]:
            return _error(401, "Invalid credentials")
        issued = time.time()
        token = _fake_jwt(user, issued, self.faults.token_ttl)
        with self.state.lock:
            self.state.tokens[token] = (user, self.clock() + self.faults.token_ttl)
        body = {
            "access_token": token,
            "token_type": "bearer",
            "user": {
                "id": 670,
                "username": user,
                "password": "xxxxxxxxxxx",
                "updated_at": "2022-04-20T11:41:37.000000Z",
                "created_at": "2022-04-20T11:41:37.000000Z",
                "user_group": 2,
                "te_code": user,
            },
            "node": "sandbox.local",
            # The real API says a day here whatever the token's real lifetime is.
            "expires_in": 86400,
        }
        return JSONResponse(body)

    @_endpoint()
    async def list_contacts(self, request: Request, user: str) -> Response:
        return _ok(self.state.snapshot())

    @_endpoint(write=True)
    async def add_contact(self, request: Request, user: str) -> Response:
        fields = await self._fields(request, ("name", "phone1"), "phone2", "phone3")
        with self.state.lock:
            new_id = str(self.state.next_id)
            self.state.next_id += 1
            self.state.contacts[new_id] = {"id": new_id, **fields}
            self.state._save()
        return _ok("OK")

    @_endpoint(write=True)
    async def update_contact(self, request: Request, user: str) -> Response:
        contact_id = request.path_params["id"]
        fields = await self._fields(request, ("name", "phone1"), "phone2", "phone3")
        with self.state.lock:
            found = contact_id in self.state.contacts
            if found:
                self.state.contacts[contact_id] = {"id": contact_id, **fields}
                self.state._save()
        return _ok("OK") if found else _error(404, f"Contact {contact_id} not found")

    @_endpoint(write=True)
    async def delete_contact(self, request: Request, user: str) -> Response:
        contact_id = request.path_params["id"]
        with self.state.lock:
            found = self.state.contacts.pop(contact_id, None) is not None
            if found:
                self.state._save()
        return _ok("OK") if found else _error(404, f"Contact {contact_id} not found")

    @_endpoint()
    async def answered_calls(self, request: Request, user: str) -> Response:
        fields = await self._fields(request, ("start", "end", "phone_number"))
        try:
            start, end = (_range_end(fields[key]) for key in ("start", "end"))
        except ValueError:
            return _error(400, "Dates must be given as YYYY-MM-DD HH:ii")
        if end < start:
            return _error(400, "end is before start")
        limit = self.max_range_days
        if limit is not None and end - start > timedelta(days=limit):
            return _error(400, f"Date range too long: at most {limit} days per request")
        last = end + timedelta(seconds=59)  # the end minute is inclusive
        # Wall times compared as wall times, as a PHP service storing them as text does.
        calls = [
            call
            for call in self.calls.for_number(
                fields["phone_number"].strip(), start.date(), end.date()
            )
            if start <= datetime.strptime(call["date"], "%Y-%m-%d %H:%M:%S") <= last
        ]
        # PHP answers an empty keyed array as [] and a full one as an object.
        return _ok({c["call_id"]: c for c in calls} if calls else [])

    @_endpoint()
    async def call_recording(self, request: Request, user: str) -> Response:
        call = await self._call_of(request)
        seconds = min(3.0, max(0.5, int(call["duration"]) / 20))
        return Response(make_wav(seconds, seed=call["call_id"]), media_type="audio/wav")

    @_endpoint()
    async def transcription(self, request: Request, user: str) -> Response:
        segments = self.calls.transcript(await self._call_of(request))
        if not segments:
            # The real service answers 200 with success false when nothing was transcribed.
            return JSONResponse({"success": False, "response": "No transcription for this call"})
        return _ok(segments)
