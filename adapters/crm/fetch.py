"""One page from a CRM's API: the request, its retries and waits, and what its answer means.

:meth:`Fetcher.fetch` sends a :class:`PageRequest` and returns the parsed JSON answer, or
raises :class:`ReadFailure` saying in a user's words what went wrong. What is retried:

* ``429``, and the vendor's own throttle answers a mapping declares (Salesforce's ``403
  REQUEST_LIMIT_EXCEEDED``): wait as ``Retry-After`` says (seconds or an HTTP date, read by
  the tool's one parser), else as the declared reset header says, else the rule's wait;
* a ``5xx``, a timeout, a refused or dropped connection (a body cut short by a closed
  connection is one): exponential backoff with jitter;
* a ``401`` once, when the credentials can be renewed (an OAuth token).

Everything else is final: an HTML page or a body that is not JSON (a login page, a proxy,
a truncated answer), ``401``/``403``, any other ``4xx``, too many tries, a wait longer
than ``limits.max_wait``. Sleep, wall clock and randomness are injected, so tests wait
for nothing. A declared "requests remaining" header at 0 makes the next request wait for
the declared reset.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from adapters.crm.redact import Redactor
from adapters.crm.schema import LimitSettings, Throttle
from connector.delays import parse_delay

log = logging.getLogger("adapters.crm")

#: The longest backoff between two tries after a 5xx or a lost connection, in seconds.
MAX_BACKOFF = 30.0
_FIRST_BACKOFF = 0.5
_EXCERPT_CHARS = 160


@dataclass(frozen=True)
class PageRequest:
    """A request for one page: ``url`` without the ``params``, which are sent in its query."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    json_body: Any = None
    #: Form fields (a token request's), sent in the body.
    form: tuple[tuple[str, str], ...] = ()

    def with_param(self, name: str, value: str) -> PageRequest:
        """This request with the query parameter ``name`` set to ``value`` (replacing it)."""
        params = tuple((k, v) for k, v in self.params if k != name)
        return PageRequest(self.method, self.url, (*params, (name, value)), self.json_body)

    def without_param(self, name: str) -> PageRequest:
        """This request without the query parameter ``name``."""
        params = tuple((k, v) for k, v in self.params if k != name)
        return PageRequest(self.method, self.url, params, self.json_body)

    def shown(self, redactor: Redactor) -> str:
        """``GET https://host/path?query`` with every secret removed, for a message."""
        url = httpx.URL(self.url).copy_merge_params(dict(self.params)) if self.params else self.url
        return f"{self.method} {redactor.url(str(url))}"


@dataclass(frozen=True)
class PageAnswer:
    """A successful answer: its parsed JSON body (``None`` for 204 No Content), headers,
    final URL and ``Link`` rels."""

    body: Any
    headers: Mapping[str, str]
    url: str
    links: Mapping[str, str] = field(default_factory=dict)


class ReadFailure(Exception):
    """Why a page could not be read, in a user's words (no secret in it).

    ``credentials`` says the credentials are what to check; ``status`` is the HTTP status
    when there was an answer.
    """

    def __init__(
        self,
        problem: str,
        *,
        status: int | None = None,
        credentials: bool = False,
        request: PageRequest | None = None,
    ):
        self.problem = problem
        self.status = status
        self.credentials = credentials
        #: The request that failed, when it is not the page's own (a token request).
        self.request = request
        super().__init__(problem)


class Credentials(Protocol):
    """What authenticates a request (:mod:`adapters.crm.auth`)."""

    def apply(self, request: httpx.Request) -> None:
        """Add the credentials to ``request``."""

    def renew(self) -> bool:
        """Get fresh credentials after a 401; False when there is nothing to renew."""


class Fetcher:
    """Sends page requests with retries and throttling; see the module docstring."""

    def __init__(
        self,
        client: httpx.Client,
        limits: LimitSettings,
        redactor: Redactor,
        *,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.limits = limits
        self.redactor = redactor
        self.sleep = sleep
        self.wall = wall
        self.rng = rng or random.Random()
        self.requests = 0
        self._wait_before_next = 0.0

    def fetch(self, request: PageRequest, credentials: Credentials | None = None) -> PageAnswer:
        """The JSON answer to ``request``; :class:`ReadFailure` when there is none to use."""
        renewed = False
        tries = 0
        while True:
            problem = self._try(request, credentials)
            if isinstance(problem, PageAnswer):
                return problem
            kind, text, wait = problem
            if kind == "renew" and credentials is not None and not renewed and credentials.renew():
                renewed = True
                continue
            if kind == "renew":
                raise ReadFailure(text, status=401, credentials=True)
            if tries >= self.limits.retries:
                tried = f"{tries + 1} tries" if tries else "1 try"
                raise ReadFailure(f"{text} (gave up after {tried})")
            if wait is None:
                wait = self._backoff(tries)
            elif wait > self.limits.max_wait:
                raise ReadFailure(
                    f"{text}, and asks to wait {wait:.0f} s, longer than limits.max_wait "
                    f"({self.limits.max_wait:.0f} s); try again later"
                )
            log.info("%s; trying again in %.1f s", self.redactor(text), wait)
            self.sleep(wait)
            tries += 1

    # -- one try ---------------------------------------------------------------------------

    def _try(
        self, request: PageRequest, credentials: Credentials | None
    ) -> PageAnswer | tuple[str, str, float | None]:
        """The answer, or ``(kind, problem, wait)`` for a try to repeat; raises for a final
        failure. ``kind`` is ``renew`` (a 401) or ``retry``."""
        if self._wait_before_next > 0:
            log.info("the rate limit's window is spent; waiting %.1f s", self._wait_before_next)
            self.sleep(self._wait_before_next)
            self._wait_before_next = 0.0
        try:
            http_request = self._build(request)
        except httpx.InvalidURL as exc:
            raise ReadFailure(f"the URL is not valid ({exc})") from None
        if credentials is not None:
            credentials.apply(http_request)
        self.requests += 1
        try:
            response = self.client.send(http_request)
        except httpx.TimeoutException:
            return "retry", f"no answer within {self.limits.timeout:g} s", None
        except httpx.TransportError as exc:
            return "retry", f"the connection failed ({_transport_problem(exc)})", None
        status = response.status_code
        if 200 <= status < 300:
            self._note_remaining(response)
            return PageAnswer(_json_body(response), response.headers, str(response.url),
                              _links(response))  # fmt: skip
        if status == 401:
            return "renew", _status_text(response) + ": the credentials were refused", None
        throttled = self._throttle_wait(response)
        if throttled is not None:
            detail = _error_detail(response, self.redactor)
            said = f"{_status_text(response)}{f': {detail}' if detail else ''}"
            return "retry", f"the CRM is throttling requests ({said})", throttled
        if status >= 500:
            return "retry", f"the CRM answered {_status_text(response)}", None
        raise _final_failure(response, self.redactor)

    def _build(self, request: PageRequest) -> httpx.Request:
        kwargs: dict[str, Any] = {}
        if request.json_body is not None:
            kwargs["json"] = request.json_body
        if request.form:
            kwargs["data"] = dict(request.form)
        return self.client.build_request(
            request.method, request.url, params=list(request.params) or None, **kwargs
        )

    def _backoff(self, tries: int) -> float:
        # Full jitter on half the delay: clients that failed together do not return together.
        delay = min(MAX_BACKOFF, _FIRST_BACKOFF * 2**tries)
        return delay * (0.5 + self.rng.random() / 2)

    # -- limits ----------------------------------------------------------------------------

    def _throttle_wait(self, response: httpx.Response) -> float | None:
        """How long to wait before trying again after a throttle answer, or ``None`` when
        ``response`` is not one. A throttle answer without any hint waits by backoff (0)."""
        rule = _matching_rule(response, self.limits.throttle)
        if response.status_code != 429 and rule is None:
            return None
        told = parse_delay(response.headers.get("retry-after"), self.wall())
        if told is None:
            told = self._reset_delay(response)
        if told is None and rule is not None:
            told = rule.wait
        return told if told is not None else self._backoff(0)

    def _reset_delay(self, response: httpx.Response) -> float | None:
        name = self.limits.reset_header
        value = response.headers.get(name) if name else None
        if value is None:
            return None
        if self.limits.reset_unit == "milliseconds":
            try:
                return max(0.0, float(value) / 1000)
            except ValueError:
                return None
        return parse_delay(value, self.wall())

    def _note_remaining(self, response: httpx.Response) -> None:
        name = self.limits.remaining_header
        value = response.headers.get(name) if name else None
        if value is None:
            return
        try:
            remaining = float(value)
        except ValueError:
            return
        if remaining <= 0:
            wait = self._reset_delay(response)
            self._wait_before_next = min(
                wait if wait is not None else _FIRST_BACKOFF, self.limits.max_wait
            )


def _matching_rule(response: httpx.Response, rules: list[Throttle]) -> Throttle | None:
    for rule in rules:
        if rule.status != response.status_code:
            continue
        if rule.body_contains is None or rule.body_contains in response.text:
            return rule
    return None


def _status_text(response: httpx.Response) -> str:
    reason = response.reason_phrase or httpx.codes.get_reason_phrase(response.status_code)
    return f"{response.status_code} {reason}".strip()


def _final_failure(response: httpx.Response, redactor: Redactor) -> ReadFailure:
    status = response.status_code
    detail = _error_detail(response, redactor)
    said = f"{_status_text(response)}{f' ({detail})' if detail else ''}"
    if status == 403:
        return ReadFailure(
            f"the CRM refused access, {said}: the credentials lack a permission or scope",
            status=status,
            credentials=True,
        )
    if status == 404:
        return ReadFailure(
            f"the CRM answered {said}: check the URL and the mapping's endpoint.path",
            status=status,
        )
    if 300 <= status < 400:
        target = redactor.url(response.headers.get("location", ""))
        return ReadFailure(f"the CRM answered {said}, redirecting to {target}", status=status)
    return ReadFailure(f"the CRM answered {said}", status=status)


def _error_detail(response: httpx.Response, redactor: Redactor) -> str:
    """A short, one-line, secret-free excerpt of an error answer's message."""
    try:
        body = response.json()
    except ValueError:
        body = None
    text = ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]  # Salesforce answers a list of errors
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "errorCode", "code"):
            if isinstance(body.get(key), str):
                text = body[key]
                break
    elif not _looks_html(response):
        text = response.text
    text = " ".join(redactor(text).split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"


def _looks_html(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").lower()
    return "html" in kind or response.content.lstrip()[:1] == b"<"


def _json_body(response: httpx.Response) -> Any:
    if response.status_code == 204:
        return None  # No Content: Zoho's answer for a page with no records
    if _looks_html(response):
        raise ReadFailure(
            "the answer is an HTML page, not JSON (a login page, a proxy's page or the "
            "CRM's website: is the URL the CRM's API address?)",
            status=response.status_code,
        )
    content = response.content
    if not content.strip():
        raise ReadFailure("the answer is empty, not JSON", status=response.status_code)
    try:
        return json.loads(content)
    except UnicodeDecodeError:
        raise ReadFailure(
            "the answer is not text (not JSON)", status=response.status_code
        ) from None
    except json.JSONDecodeError as exc:
        stripped = content.strip()
        if stripped[:1] in (b"{", b"[") and stripped[-1:] not in (b"}", b"]"):
            problem = f"the answer stops after {len(content):,} bytes, part-way through its JSON"
        else:
            problem = f"the answer is not valid JSON ({exc.msg} at character {exc.pos + 1})"
        raise ReadFailure(problem, status=response.status_code) from None


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: link["url"] for rel, link in response.links.items() if rel and link.get("url")}


def _transport_problem(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection before the answer was complete"
    if isinstance(exc, httpx.ReadError):
        return "the connection dropped while reading the answer"
    return type(exc).__name__
