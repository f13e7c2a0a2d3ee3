"""Paginators: from one page's request and answer, the next page's request (or the end).

One class per ``paginator.type`` of a CRM mapping. A paginator that would go round in a
loop (a cursor or next URL it was given before) raises :class:`PaginationError` instead:
reading on would never end, and stopping quietly would make a partial read look whole.
A next URL is followed only on the server the read began on, so the credentials are never
sent elsewhere.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import urlsplit

import httpx

from adapters.crm.fetch import PageAnswer, PageRequest
from adapters.crm.schema import (
    CursorPaginator,
    HeaderLinkPaginator,
    JsonLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
    SinglePage,
)
from adapters.crm.select import MISSING, parse_path, select_one

_SHOWN_CHARS = 60


class PaginationError(Exception):
    """The pages cannot be followed (a repeat, a link to another server); says why."""


class Pages(ABC):
    """Walks the pages of one read."""

    def start(self, request: PageRequest) -> PageRequest:
        """The first page's request."""
        return request

    @abstractmethod
    def next(
        self, request: PageRequest, answer: PageAnswer, records: list[Any]
    ) -> PageRequest | None:
        """The next page's request after ``answer`` (which held ``records``), or ``None``."""


class SinglePages(Pages):
    """Everything comes in one answer."""

    def next(
        self, request: PageRequest, answer: PageAnswer, records: list[Any]
    ) -> PageRequest | None:
        return None


class _Seen:
    """Cursors or URLs met so far, to refuse a repeat."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.seen: dict[str, int] = {}

    def check(self, value: str, page: int) -> None:
        if value in self.seen:
            raise PaginationError(
                f"the {self.what} {_short(value)} repeats (page {self.seen[value]} gave it "
                "too): the CRM would be read in a loop"
            )
        self.seen[value] = page


class CursorPages(Pages):
    """The cursor at ``cursor_path`` sent as ``cursor_param`` (or in the JSON body)."""

    def __init__(self, settings: CursorPaginator) -> None:
        self.settings = settings
        self.path = parse_path(settings.cursor_path)
        self.seen = _Seen(f"cursor at {settings.cursor_path}")
        self.page = 0

    def next(
        self, request: PageRequest, answer: PageAnswer, records: list[Any]
    ) -> PageRequest | None:
        self.page += 1
        cursor = select_one(answer.body, self.path)
        if cursor is MISSING or cursor is None or cursor == "" or isinstance(cursor, (dict, list)):
            return None
        text = str(cursor)
        self.seen.check(text, self.page)
        if self.settings.cursor_param is not None:
            return request.with_param(self.settings.cursor_param, text)
        body = dict(request.json_body or {})
        body[str(self.settings.cursor_body_path)] = cursor
        return PageRequest(request.method, request.url, request.params, body)


class _LinkPages(Pages):
    """Follows next URLs, on the first page's server only."""

    def __init__(self) -> None:
        self.seen = _Seen("next page URL")
        self.page = 0
        self.origin: tuple[str, str, int | None] | None = None

    def _follow(self, request: PageRequest, answer: PageAnswer, link: Any) -> PageRequest | None:
        self.page += 1
        if self.origin is None:
            self.origin = _origin(request.url)
        if not isinstance(link, str) or not link.strip():
            return None
        try:
            url = str(httpx.URL(answer.url).join(link.strip()))
        except (httpx.InvalidURL, ValueError):
            raise PaginationError(
                f"the next page's URL {_short(link)} is not a valid URL"
            ) from None
        if _origin(url) != self.origin:
            parts = urlsplit(url)
            raise PaginationError(
                f"the next page's URL is on another server ({parts.scheme}://{parts.hostname}); "
                "it is not followed with the CRM's credentials"
            )
        self.seen.check(url, self.page)
        # The URL carries its own query (filters, select, the page's token).
        return PageRequest(request.method, url, (), request.json_body)


class JsonLinkPages(_LinkPages):
    """The next URL at ``next_url_path`` (``nextRecordsUrl``, ``@odata.nextLink``)."""

    def __init__(self, settings: JsonLinkPaginator) -> None:
        super().__init__()
        self.path = parse_path(settings.next_url_path)

    def next(
        self, request: PageRequest, answer: PageAnswer, records: list[Any]
    ) -> PageRequest | None:
        return self._follow(request, answer, select_one(answer.body, self.path))


class HeaderLinkPages(_LinkPages):
    """The next URL in the ``Link`` header."""

    def __init__(self, settings: HeaderLinkPaginator) -> None:
        super().__init__()
        self.rel = settings.links_next_key

    def next(
        self, request: PageRequest, answer: PageAnswer, records: list[Any]
    ) -> PageRequest | None:
        return self._follow(request, answer, answer.links.get(self.rel))


class PageNumberPages(Pages):
    """Page 1, 2, 3...: stops on an empty page, a false ``more_path`` or ``total_path``.

    With ``token_path``, a next-page token an answer gives is sent as ``token_param``
    instead of the next number (Zoho answers page numbers for its first 2,000 records
    only, and a token for every page), and never repeats."""

    def __init__(self, settings: PageNumberPaginator) -> None:
        self.settings = settings
        self.more = parse_path(settings.more_path) if settings.more_path else None
        self.total = parse_path(settings.total_path) if settings.total_path else None
        self.token = parse_path(settings.token_path) if settings.token_path else None
        self.seen = _Seen(f"page token at {settings.token_path}")
        self.number = settings.base_page

    def start(self, request: PageRequest) -> PageRequest:
        return request.with_param(self.settings.page_param, str(self.number))

    def next(
        self, request: PageRequest, answer: PageAnswer, records: list[Any]
    ) -> PageRequest | None:
        if not records:
            return None
        if self.more is not None and not _flag(select_one(answer.body, self.more)):
            return None
        if self.total is not None:
            total = _whole(select_one(answer.body, self.total))
            if total is not None and self.number - self.settings.base_page + 1 >= total:
                return None
        self.number += 1
        token = select_one(answer.body, self.token) if self.token is not None else None
        if isinstance(token, (str, int)) and not isinstance(token, bool) and str(token):
            assert self.settings.token_param is not None  # the schema wants both
            self.seen.check(str(token), self.number - 1)
            by_token = request.without_param(self.settings.page_param)
            return by_token.with_param(self.settings.token_param, str(token))
        return request.with_param(self.settings.page_param, str(self.number))


class OffsetPages(Pages):
    """``offset``/``limit``: stops on a page shorter than the limit, or at ``total_path``."""

    def __init__(self, settings: OffsetPaginator) -> None:
        self.settings = settings
        self.total = parse_path(settings.total_path) if settings.total_path else None
        self.offset = 0

    def start(self, request: PageRequest) -> PageRequest:
        first = request.with_param(self.settings.limit_param, str(self.settings.limit))
        return first.with_param(self.settings.offset_param, "0")

    def next(
        self, request: PageRequest, answer: PageAnswer, records: list[Any]
    ) -> PageRequest | None:
        self.offset += len(records)
        if not records:
            return None
        total = _whole(select_one(answer.body, self.total)) if self.total is not None else None
        if total is not None:
            if self.offset >= total:
                return None
        elif len(records) < self.settings.limit:
            return None
        return request.with_param(self.settings.offset_param, str(self.offset))


def pages_for(settings: Paginator) -> Pages:
    """The paginator a mapping's ``paginator`` describes."""
    if isinstance(settings, CursorPaginator):
        return CursorPages(settings)
    if isinstance(settings, JsonLinkPaginator):
        return JsonLinkPages(settings)
    if isinstance(settings, HeaderLinkPaginator):
        return HeaderLinkPages(settings)
    if isinstance(settings, PageNumberPaginator):
        return PageNumberPages(settings)
    if isinstance(settings, OffsetPaginator):
        return OffsetPages(settings)
    assert isinstance(settings, SinglePage)
    return SinglePages()


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port, the port ``None`` when it is the scheme's own
    (``https://a.test`` and ``https://a.test:443`` are one server)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise PaginationError(f"the next page's URL {_short(url)} is not a valid URL") from None
    return parsed.scheme, parsed.host.lower(), parsed.port


def _flag(value: Any) -> bool:
    """A "more pages" flag: true, or the text true (some APIs quote their booleans)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _short(value: str) -> str:
    return repr(value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…")
