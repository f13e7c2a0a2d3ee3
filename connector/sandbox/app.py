"""A local emulator of the documented Sipalto API, for demos, trials and tests.

It follows ``sipalto-api.txt`` including its quirks: form-encoded bodies, string ids,
add answering ``"OK"`` with no id, delete as a GET (a POST is 405), answered calls as
an object keyed by call id, a login answer whose ``expires_in`` says a day whatever the
real token lifetime is. On top of that it can misbehave on purpose, the way a real
service does: latency, a per-user rate limit with ``429``/``Retry-After``/``X-RateLimit-*``,
random 500/503 answers, answers lost *after* a write was carried out, and short-lived
tokens.

Run it with ``sipalto-sync sandbox``; in tests use :class:`SandboxServer` (a real
uvicorn server on a loopback port, in a background thread).
"""

from __future__ import annotations

import asyncio
import base64
import importlib.resources
import io
import json
import math
import random
import secrets
import socket
import struct
import threading
import time
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector.errors import ConfigError
from connector.files import atomic_write

#: The contacts shown in the API documentation's example answer.
DOC_CONTACTS = [
    {
        "id": "11111",
        "name": "Domino's Pizza",
        "phone1": "01491833000",
        "phone2": "07591524881",
        "phone3": "07591524882",
    },
    {"id": "22222", "name": "McDonald's", "phone1": "01491835522", "phone2": "", "phone3": ""},
]

#: The answered calls shown in the API documentation, for number 1009 on 2025-10-08.
DOC_CALLS = [
    (
        "SIPALTO-THE-ANL-ND2-1759926851.58197",
        "07086202666",
        "1009",
        "IN",
        "2025-10-08 13:34:11",
        41,
    ),
    (
        "SIPALTO-THE-ANL-ND2-1759927614.60572",
        "1009",
        "07086202666",
        "OUT",
        "2025-10-08 13:46:54",
        10,
    ),
    ("SIPALTO-THE-ANL-ND2-1759927635.60659", "1009", "1007", "LOCAL", "2025-10-08 13:47:15", 14),
]

#: The longest call-history range one request may ask for, in days.
MAX_RANGE_DAYS = 31

EXTENSIONS = [f"10{n:02d}" for n in range(1, 13)]

_DIALOGUES = [
    [
        "Hello, how can I help you?",
        "Hi, I'm calling about my order from last week.",
        "Of course, can I take the order number?",
        "It's four five two one.",
        "Thanks, I can see it has been dispatched today.",
        "Brilliant, thank you.",
        "Thanks. Bye.",
        "Bye.",
    ],
    [
        "Good morning, accounts.",
        "Morning, I wanted to check an invoice.",
        "Sure, which one is it?",
        "The one dated the third, it looks like it was charged twice.",
        "Let me have a look. Yes, I'll refund the second payment.",
        "Great, thanks for sorting that.",
    ],
    [
        "Hello?",
        "Hello, is that the front desk?",
        "It is, yes.",
        "Could you put me through to Sarah, please?",
        "One moment.",
    ],
]


def default_seed() -> list[dict[str, str]]:
    """The docs' example contacts plus the realistic phonebook in ``sample_data/``."""
    contacts = [dict(c) for c in DOC_CONTACTS]
    try:
        resource = importlib.resources.files("connector.sample_data") / "phonebook.json"
        extra = json.loads(resource.read_text(encoding="utf-8"))
    except (FileNotFoundError, ModuleNotFoundError):
        extra = []
    contacts.extend(_clean_contact(c) for c in extra)
    return contacts


def load_seed(path: str | Path) -> list[dict[str, str]]:
    """Read a seed file: a JSON list of ``{id, name, phone1, phone2, phone3}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the seed file: {exc}") from exc
    if isinstance(data, dict) and "response" in data:  # a saved API answer works too
        data = data["response"]
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise ConfigError(f"{path}: a seed file is a JSON list of contacts")
    return [_clean_contact(c) for c in data]


def _clean_contact(data: dict[str, Any]) -> dict[str, str]:
    def text(key: str) -> str:
        value = data.get(key)
        return "" if value is None else str(value)

    return {k: text(k) for k in ("id", "name", "phone1", "phone2", "phone3")}


def parse_rate(text: str) -> tuple[int, float]:
    """``"25"``, ``"25/s"``, ``"25/1"``, ``"100/60"`` -> (requests, window seconds)."""
    count, _, window = text.strip().partition("/")
    try:
        requests = int(count)
        seconds = 1.0 if window.strip() in ("", "s") else float(window.rstrip("s"))
    except ValueError:
        raise ConfigError(f"rate limit {text!r}: write N or N/S, e.g. 25/1") from None
    if requests < 1 or seconds <= 0:
        raise ConfigError(f"rate limit {text!r}: both numbers must be positive")
    return requests, seconds


@dataclass
class Faults:
    """How the sandbox misbehaves. All default to a well-behaved server."""

    latency: float = 0.0
    rate_limit: tuple[int, float] | None = None
    fail_rate: float = 0.0
    lose_rate: float = 0.0
    token_ttl: float = 3600.0


@dataclass
class _Window:
    start: float
    used: int = 0


@dataclass
class SandboxState:
    """The emulated server's data. Thread-safe; persisted to ``state_path`` if given."""

    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=lambda: {"demo": "demo"})
    read_only_users: set[str] = field(default_factory=set)
    state_path: Path | None = None
    next_id: int = 30001

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[str, tuple[str, float]] = {}
        self.windows: dict[str, _Window] = {}
        #: Every request seen, as (method, path, status); tests read it.
        self.requests: list[tuple[str, str, int]] = []

    @classmethod
    def from_contacts(cls, contacts: list[dict[str, str]], **kwargs: Any) -> SandboxState:
        """A state holding ``contacts``; new ids continue after the highest numeric id."""
        state = cls(**kwargs)
        state.replace_contacts(contacts)
        return state

    def replace_contacts(self, contacts: list[dict[str, str]]) -> None:
        """Replace the whole phonebook (tests use it to set a scene)."""
        with self.lock:
            self.contacts = {c["id"]: _clean_contact(c) for c in contacts}
            numeric = [int(i) for i in self.contacts if i.isdigit()]
            self.next_id = max([self.next_id - 1, *numeric]) + 1 if numeric else self.next_id
            self._save()

    def snapshot(self) -> list[dict[str, str]]:
        """The phonebook as a list, in id order (numeric ids numerically)."""
        with self.lock:
            return sorted(
                (dict(c) for c in self.contacts.values()),
                key=lambda c: (len(c["id"]), c["id"]),
            )

    def _save(self) -> None:
        if self.state_path is None:
            return
        # A crash never leaves half a phonebook behind.
        atomic_write(
            self.state_path, json.dumps(list(self.contacts.values()), indent=1, ensure_ascii=False)
        )


def build_state(
    *,
    seed: str | Path | None = None,
    state_path: str | Path | None = None,
    users: tuple[str, ...] | list[str] = (),
) -> SandboxState:
    """A sandbox state from the command line's choices.

    An existing ``state_path`` wins over the seed (it is the phonebook as last left);
    ``users`` are ``NAME:PASSWORD`` pairs (default ``demo:demo``).
    """
    accounts: dict[str, str] = {}
    for pair in users:
        name, sep, password = pair.partition(":")
        if not sep or not name or not password:
            raise ConfigError(f"--user {pair!r}: write NAME:PASSWORD")
        accounts[name] = password
    path = Path(state_path) if state_path is not None else None
    if path is not None and path.exists():
        contacts = load_seed(path)
    elif seed is not None:
        contacts = load_seed(seed)
    else:
        contacts = default_seed()
    return SandboxState.from_contacts(contacts, users=accounts or {"demo": "demo"}, state_path=path)


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
                response = await handler(self, request, user)
                if write and response.status_code == 200 and self._lost():
                    response = _error(500, "Internal Server Error")
            except _Answer as answer:
                response = answer.response
            response.headers.update(headers)
            with self.state.lock:
                self.state.requests.append((request.method, request.url.path, response.status_code))
            return response

        return run

    return wrap


class Sandbox:
    """The ASGI application emulating the Sipalto API over a :class:`SandboxState`."""

    def __init__(
        self,
        state: SandboxState | None = None,
        faults: Faults | None = None,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = state or SandboxState.from_contacts(default_seed())
        self.faults = faults or Faults()
        self.rng = rng or random.Random()
        self.clock = clock
        self.calls = CallHistory(self.state)

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
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
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
        if self.faults.rate_limit is not None:
            client = request.client.host if request.client else "?"
            headers = self._rate_limit(user or client)
        if self.faults.fail_rate and self.rng.random() < self.faults.fail_rate:
            if self.rng.random() < 0.5:
                raise _Answer(_error(500, "Internal Server Error"))
            raise _Answer(_error(503, "Service Unavailable"))
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
        """Count a request in ``key``'s fixed window; raise a 429 when it is spent."""
        assert self.faults.rate_limit is not None
        limit, window = self.faults.rate_limit
        now = self.clock()
        with self.state.lock:
            current = self.state.windows.get(key)
            if current is None or now - current.start >= window:
                current = self.state.windows[key] = _Window(start=now)
            reset = max(0.0, current.start + window - now)
            spent = current.used >= limit
            if not spent:
                current.used += 1
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit - current.used),
            "X-RateLimit-Reset": f"{reset:.3f}",
        }
        if spent:
            retry = {"Retry-After": str(max(1, math.ceil(reset)))}
            raise _Answer(_error(429, "Too Many Requests", {**headers, **retry}))
        return headers

    def _lost(self) -> bool:
        return bool(self.faults.lose_rate) and self.rng.random() < self.faults.lose_rate

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
            start = datetime.strptime(fields["start"].strip(), "%Y-%m-%d %H:%M")
            end = datetime.strptime(fields["end"].strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            return _error(400, "Dates must be given as YYYY-MM-DD HH:ii")
        if end < start:
            return _error(400, "end is before start")
        if end - start > timedelta(days=MAX_RANGE_DAYS):
            return _error(400, f"Date range too long: at most {MAX_RANGE_DAYS} days per request")
        last = end + timedelta(seconds=59)  # the end minute is inclusive
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


class CallHistory:
    """Deterministic, realistic answered calls for the extensions ``1001``-``1012``.

    Calls are generated per (extension, day) from a seeded generator, so any range
    answers the same every time without storing anything; the external parties are
    numbers from the phonebook (so names resolve) and a few unknown callers.
    """

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._by_id: dict[str, dict[str, str]] = {}
        for call_id, caller, callee, direction, when, seconds in DOC_CALLS:
            self._by_id[call_id] = _call_entry(call_id, caller, callee, direction, when, seconds)
        self._documented = list(self._by_id.values())
        # Fixed at start, so a call id found today is found again after phonebook edits.
        self._parties = self._externals()

    def _externals(self) -> list[str]:
        numbers = sorted(
            {
                c[k]
                for c in self.state.snapshot()
                for k in ("phone1", "phone2", "phone3")
                if len(c[k]) >= 10
            }
        )
        return [*numbers, "07700900461", "01632960999", "+353212345678"]

    def _day(self, extension: str, day: date) -> list[dict[str, str]]:
        if extension not in EXTENSIONS:
            return []
        rng = random.Random(f"{extension}:{day.isoformat()}")
        externals = self._parties
        calls = []
        count = rng.randint(0, 2) if day.weekday() >= 5 else rng.randint(2, 7)
        for _ in range(count):
            moment = datetime.combine(day, datetime.min.time()) + timedelta(
                seconds=rng.randint(8 * 3600, 18 * 3600)
            )
            kind = rng.choice(["IN", "IN", "OUT", "LOCAL"])
            other = rng.choice(externals) if kind != "LOCAL" else rng.choice(EXTENSIONS)
            caller, callee = (other, extension) if kind == "IN" else (extension, other)
            node = rng.choice(["THE-ANL-ND2", "THE-ANL-ND1"])
            stamp = int(moment.replace(tzinfo=timezone.utc).timestamp())
            call_id = f"SIPALTO-{node}-{stamp}.{rng.randint(10000, 99999)}"
            entry = _call_entry(
                call_id,
                caller,
                callee,
                kind,
                moment.strftime("%Y-%m-%d %H:%M:%S"),
                min(1800, max(3, int(rng.lognormvariate(4.0, 1.1)))),
            )
            calls.append(entry)
        return calls

    def for_number(self, number: str, first: date, last: date) -> list[dict[str, str]]:
        """Answered calls involving ``number`` between two days, inclusive.

        The same answer whatever was asked before: an outside number's calls are found
        by generating every extension's days in the range.
        """
        calls = [c for c in self._documented if number in (c["caller"], c["callee"])]
        extensions = [number] if number in EXTENSIONS else EXTENSIONS
        day = first
        while day <= last:
            for extension in extensions:
                for call in self._day(extension, day):
                    self._by_id.setdefault(call["call_id"], call)
                    if number in (call["caller"], call["callee"]):
                        calls.append(call)
            day += timedelta(days=1)
        unique = {c["call_id"]: c for c in calls}
        return sorted(unique.values(), key=lambda c: (c["date"], c["call_id"]))

    def find(self, call_id: str) -> dict[str, str] | None:
        """A call by id: one of the docs' calls or one generated earlier or decodable."""
        if call_id in self._by_id:
            return self._by_id[call_id]
        # A generated id carries its timestamp: regenerate that day for every extension.
        try:
            stamp = int(call_id.rsplit("-", 1)[-1].split(".")[0])
        except ValueError:
            return None
        day = datetime.fromtimestamp(stamp, timezone.utc).date()
        for extension in EXTENSIONS:
            self.for_number(extension, day, day)
        return self._by_id.get(call_id)

    def transcript(self, call: dict[str, str]) -> list[dict[str, str]]:
        """The transcript as the API sends it: a combined summary first, then segments."""
        rng = random.Random(call["call_id"])
        # Calls of a few seconds (a wrong number, a hang-up) have nothing transcribed.
        if int(call["duration"]) < 10:
            return []
        lines = rng.choice(_DIALOGUES)
        uniqueid = call["call_id"]
        reid = str(rng.randint(20000000, 29999999))
        segments = []
        # Speech fills most of the call: share its length out by how long each line is.
        call_ms = int(call["duration"]) * 1000
        clock = rng.uniform(0.02, 0.08) * call_ms
        speaking = 0.8 * call_ms - clock
        weights = [len(text) + rng.uniform(5, 25) for text in lines]
        for index, text in enumerate(lines):
            share = speaking * weights[index] / sum(weights)
            length = 0.8 * share
            speaker = "1" if index % 2 == 0 else "0"
            segments.append(
                {
                    "uniqueid": uniqueid,
                    "speaker": speaker,
                    "start": f"{clock:.2f}",
                    "end": f"{clock + length:.2f}",
                    "text": (" " if rng.random() < 0.4 else "") + text,
                    "reid": reid,
                }
            )
            clock += share
        summary = {
            "uniqueid": uniqueid,
            "speaker": segments[0]["speaker"],
            "start": segments[0]["start"],
            "end": segments[-1]["end"],
            "text": ". ".join(s["text"].strip().rstrip(".") for s in segments) + ".",
            "reid": str(int(reid) - 66),
        }
        # Segments are not always sent in time order; the summary always comes first.
        body = segments[:]
        if len(body) > 3 and rng.random() < 0.5:
            body[1], body[2] = body[2], body[1]
        return [summary, *body]


def _call_entry(
    call_id: str, caller: str, callee: str, direction: str, when: str, seconds: int
) -> dict[str, str]:
    return {
        "call_id": call_id,
        "caller": caller,
        "callee": callee,
        "direction": direction,
        "disposition": "ANSWERED",
        "date": when,
        "duration": str(seconds),
    }


def make_wav(seconds: float = 1.0, *, seed: str = "", rate: int = 8000) -> bytes:
    """A small valid mono 16-bit PCM WAV: a soft two-tone hum, like a quiet line."""
    rng = random.Random(seed)
    low, high = rng.choice([(350, 440), (400, 450), (480, 620)])
    frames = bytearray()
    for n in range(int(seconds * rate)):
        t = n / rate
        sample = 0.15 * math.sin(2 * math.pi * low * t) + 0.15 * math.sin(2 * math.pi * high * t)
        frames += struct.pack("<h", int(sample * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


class SandboxServer:
    """Run a :class:`Sandbox` under uvicorn on a loopback port in a background thread.

    >>> with SandboxServer() as server:  # doctest: +SKIP
    ...     print(server.url)
    """

    def __init__(self, sandbox: Sandbox | None = None, *, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self.sandbox = sandbox or Sandbox()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            self.sandbox,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="sipalto-sandbox", daemon=True)

    @property
    def url(self) -> str:
        """The base URL to give a client."""
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> SandboxState:
        """The emulated server's data."""
        return self.sandbox.state

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> SandboxServer:
        """Start serving; returns when the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C raises ``KeyboardInterrupt`` here)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
