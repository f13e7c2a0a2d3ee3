"""What every fake CRM shares: fault knobs, the request log, access tokens, bad answers.

A vendor module subclasses :class:`FakeCRM`, builds its records from
:func:`fakecrm.people.make_people`, serves its documented endpoints, and answers in its
own words (error bodies, rate-limit answers). This module holds only what is the same
for all five: which page a fault fires on (each fires once, so a client that retries sees
the page served on its second try), an HTML page where JSON was expected, a JSON body cut
in half, access tokens that stop working after N requests, and a log of every request
with secrets masked.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakecrm.people import KINDS, Person, make_people

#: Query and form fields whose values never reach the log.
SECRET_FIELDS = frozenset(
    {"api_token", "refresh_token", "client_secret", "access_token", "code", "password"}
)
#: Request headers worth asserting on; secrets among them are masked.
LOGGED_HEADERS = (
    "authorization",
    "x-api-token",
    "prefer",
    "sforce-query-options",
    "accept",
    "content-type",
    "odata-version",
    "odata-maxversion",
)
MASK = "***"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass(frozen=True)
class Faults:
    """Misbehaviour to switch on. Page numbers count from 1 along the page chain.

    Each page fault fires once: the first request for that page gets the bad answer and
    a repeat of the same request is served normally.
    """

    #: Answer the vendor's "slow down" (429, or Salesforce's 403 REQUEST_LIMIT_EXCEEDED).
    rate_limit_on_page: int | None = None
    #: Answer a 500 with the vendor's error body.
    server_error_on_page: int | None = None
    #: Answer 200 with a ``text/html`` sign-in page instead of JSON.
    html_on_page: int | None = None
    #: Answer 200 with the page's JSON cut in half.
    truncated_on_page: int | None = None
    #: Serve the page but point "next" back at the page itself (cursor/link repeats).
    repeat_cursor_on_page: int | None = None
    #: Each access token serves this many data requests, then gets the vendor's 401.
    token_expires_after: int | None = None
    #: ``Retry-After`` sent with a 429 (``None``: no header); Salesforce's 403 sends none.
    retry_after: str | None = "1"


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake saw it, secrets masked."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]
    form: tuple[tuple[str, str], ...]
    status: int
    page: int | None
    fault: str | None
    #: Which issued access token was presented (1 = the first), ``None`` if none was valid.
    token: int | None

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        return next((value for key, value in self.query if key == name), None)


@dataclass(frozen=True)
class Expected:
    """What a sensible reader makes of one vendor record."""

    key: str
    name: str
    phones: tuple[str, ...]


@dataclass
class Context:
    """What a handler learnt about a request, for the log."""

    page: int | None = None
    fault: str | None = None
    token: int | None = None
    form: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request, Context], Awaitable[Response]]

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>Your session has ended. Please sign in again.</p>
<form method="post" action="/login"><input name="username"><input name="password"
type="password"><button>Sign in</button></form></body></html>
"""


class FakeCRM:
    """Base of the vendor fakes: subclasses define :meth:`routes` and the vendor answers."""

    vendor: ClassVar[str] = "crm"
    #: Phone kinds the vendor's contact can hold (see :mod:`fakecrm.people`).
    phone_kinds: ClassVar[tuple[str, ...]] = KINDS
    token_prefix: ClassVar[str] = "tok"
    login_title: ClassVar[str] = "Sign in"

    def __init__(self, contacts: int = 25, *, seed: int = 1, faults: Faults | None = None):
        self.seed = seed
        self.faults = faults or Faults()
        self.people: list[Person] = make_people(contacts, seed, self.phone_kinds)
        self.log: list[LoggedRequest] = []
        self._rng = random.Random(seed)
        self._fired: set[str] = set()
        self._tokens: dict[str, int] = {}
        self._uses: dict[str, int] = {}
        self._ids = itertools.count(1)
        catch_all = Route("/{rest:path}", self.logged(self._not_found), methods=ALL_METHODS)
        self.app = Starlette(routes=[*self.routes(), catch_all])

    def routes(self) -> list[BaseRoute]:
        """The vendor's endpoints."""
        raise NotImplementedError

    async def _not_found(self, request: Request, ctx: Context) -> Response:
        return self.not_found()

    def not_found(self) -> Response:
        """The vendor's answer to a path it does not serve."""
        return JSONResponse({"message": "Not Found"}, 404)

    def expected(self) -> list[Expected]:
        """Per record, in serving order: its key, the name to show, its phones in order."""
        raise NotImplementedError

    # -- access tokens ---------------------------------------------------------------

    def issue_token(self) -> str:
        """Mint a new valid access token (deterministic for a seed)."""
        ordinal = len(self._tokens) + 1
        digest = hashlib.sha256(f"{self.vendor}:{self.seed}:{ordinal}".encode()).hexdigest()
        token = f"{self.token_prefix}{ordinal}.{digest[:32]}"
        self._tokens[token] = ordinal
        return token

    @property
    def tokens_issued(self) -> int:
        """How many access tokens exist (pre-issued plus minted by the token endpoint)."""
        return len(self._tokens)

    def check_token(self, token: str | None, ctx: Context) -> str:
        """``"ok"``, ``"missing"``, ``"invalid"`` or ``"expired"``; an ``"ok"`` counts a use."""
        if not token:
            return "missing"
        ordinal = self._tokens.get(token)
        if ordinal is None:
            return "invalid"
        ctx.token = ordinal
        uses = self._uses.get(token, 0) + 1
        self._uses[token] = uses
        limit = self.faults.token_expires_after
        if limit is not None and uses > limit:
            ctx.fault = "token_expired"
            return "expired"
        return "ok"

    # -- faults ----------------------------------------------------------------------

    def _fire(self, kind: str, page: int) -> bool:
        if getattr(self.faults, f"{kind}_on_page") != page or kind in self._fired:
            return False
        self._fired.add(kind)
        return True

    def page_fault(self, page: int, ctx: Context) -> Response | None:
        """The bad answer configured for ``page``, once; ``None`` to serve it."""
        ctx.page = page
        answers: dict[str, Callable[[], Response]] = {
            "rate_limit": self.rate_limited,
            "server_error": self.server_error,
            "html": self.html_page,
        }
        for kind, answer in answers.items():
            if self._fire(kind, page):
                ctx.fault = kind
                return answer()
        return None

    def repeats_cursor(self, page: int, ctx: Context) -> bool:
        """Whether this page's "next" should point back at the page itself."""
        if self._fire("repeat_cursor", page):
            ctx.fault = "repeat_cursor"
            return True
        return False

    def finish(self, page: int, ctx: Context, response: Response) -> Response:
        """Cut the page's body in half if that fault is due; otherwise pass it through."""
        if not self._fire("truncated", page):
            return response
        ctx.fault = "truncated"
        body = bytes(response.body)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(body[: len(body) // 2], response.status_code, headers=headers)

    def rate_limited(self) -> Response:
        """The vendor's "too many requests" answer."""
        raise NotImplementedError

    def server_error(self) -> Response:
        """The vendor's 500 answer."""
        raise NotImplementedError

    def html_page(self) -> Response:
        """A sign-in page served with 200, as a proxy or expired SSO session does."""
        return HTMLResponse(LOGIN_PAGE.format(title=self.login_title))

    def retry_after(self) -> dict[str, str]:
        """The ``Retry-After`` header the faults ask for, if any."""
        value = self.faults.retry_after
        return {} if value is None else {"Retry-After": value}

    def request_id(self) -> str:
        """A deterministic id for error bodies (correlationId and the like)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # -- logging ---------------------------------------------------------------------

    def logged(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler so every request lands in :attr:`log`."""

        async def endpoint(request: Request) -> Response:
            ctx = Context()
            if request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                ctx.form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
            response = await handler(request, ctx)
            self.log.append(
                LoggedRequest(
                    method=request.method,
                    path=request.url.path,
                    query=_mask_pairs(request.query_params.multi_items()),
                    headers={
                        name: _mask_header(name, request.headers[name])
                        for name in LOGGED_HEADERS
                        if name in request.headers
                    },
                    form=_mask_pairs(ctx.form),
                    status=response.status_code,
                    page=ctx.page,
                    fault=ctx.fault,
                    token=ctx.token,
                )
            )
            return response

        return endpoint

    def data_requests(self) -> list[LoggedRequest]:
        """The logged requests that carried a page number (token calls excluded)."""
        return [entry for entry in self.log if entry.page is not None]


def _mask_pairs(pairs: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((key, MASK if key in SECRET_FIELDS else value) for key, value in pairs)


def _mask_header(name: str, value: str) -> str:
    if name == "x-api-token":
        return MASK
    if name == "authorization":
        scheme, _, credentials = value.partition(" ")
        return f"{scheme} {MASK}" if credentials else MASK
    return value


def bearer(request: Request, scheme: str = "Bearer") -> str | None:
    """The credentials of an ``Authorization: <scheme> <credentials>`` header, if any."""
    given, _, credentials = request.headers.get("authorization", "").partition(" ")
    if given.lower() != scheme.lower() or not credentials.strip():
        return None
    return credentials.strip()


def request_fields(request: Request, ctx: Context) -> dict[str, str]:
    """Token-endpoint fields: form body first, then the query string (Zoho documents the
    query string, the others the body)."""
    fields = dict(request.query_params.items())
    fields.update(dict(ctx.form))
    return fields
