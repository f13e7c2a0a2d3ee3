"""The CRM source: a CRM's contacts, read page by page from its REST API, as SourceRecords.

:class:`CrmSource` follows :class:`adapters.base.Source` with ``path`` the URL given on
the command line (or in a sync job). Its mapping (:mod:`adapters.crm.schema`) is checked
and its environment read in the constructor, before any request, so a mistake or a
missing variable is reported first. :meth:`CrmSource.records` then reads the pages
lazily: a caller that stops early (``--limit``) stops the reading too.

A read that fails on any page raises :class:`~connector.errors.IncompleteRead`, one line
naming the CRM, the page, the request (secrets removed) and what to check; the records
already yielded are not a source, and callers must drop them (``tuple(records())`` does).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from adapters.base import ReadProgress, build_record
from adapters.crm.auth import credentials_for
from adapters.crm.fetch import Fetcher, PageAnswer, PageRequest, ReadFailure
from adapters.crm.paginate import PaginationError, pages_for
from adapters.crm.redact import RedactingFilter
from adapters.crm.schema import (
    CrmMapping,
    FieldSettings,
    IncrementalSettings,
    PhoneField,
    ResolvedMapping,
    load_crm_mapping,
)
from adapters.crm.select import MISSING, parse_path, select, select_one
from adapters.crm.select import Path as JsonPath
from adapters.locations import URL_SCHEMES
from adapters.mapping import BoundTemplate, bind_template, crm_preset_names
from connector.errors import ConfigError, IncompleteRead
from connector.model import KEY_POSITION, KEY_SOURCE_ID, RawPhone, SourceRecord


class CrmSource:
    """Contacts read from a CRM's REST API as a CRM mapping says.

    ``environ`` gives the variables the mapping names (default: the process's);
    ``transport``, ``sleep``, ``wall`` (Unix time), ``clock`` (monotonic) and ``rng`` are
    for tests. ``since`` reads only records changed since that value, when the mapping
    has an ``incremental`` section; :attr:`high_water` is then the latest change read.
    ``progress`` is called after each page.
    """

    format_name: ClassVar[str] = "crm"

    def __init__(
        self,
        path: str | Path,
        *,
        mapping: str | Path | CrmMapping | None = None,
        encoding: str | None = None,
        sheet: str | int | None = None,
        header_row: int | None = None,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        since: str | None = None,
        progress: Callable[[ReadProgress], None] | None = None,
    ) -> None:
        for option, value in (("--encoding", encoding), ("--sheet", sheet),
                              ("--header-row", header_row)):  # fmt: skip
            if value is not None:
                raise ConfigError(f"{option} is for files; a CRM source has no {option[2:]}")
        self.url = str(path)
        _check_url(self.url)
        if mapping is None:
            raise ConfigError(_needs_a_mapping(self.url))
        self.resolved: ResolvedMapping = load_crm_mapping(mapping).resolve(environ)
        self.settings = self.resolved.settings
        self.redactor = self.resolved.redactor
        self.name = self.resolved.name
        self.since = since
        self.progress = progress
        self._transport = transport
        self._sleep, self._wall, self._clock = sleep, wall, clock
        self._rng = rng
        self._fields = _CompiledFields(self.settings.fields)
        self._incremental_path = (
            parse_path(self.settings.incremental.cursor_path) if self.settings.incremental else None
        )
        self._first = self._first_request()
        #: The latest value of the incremental cursor among the records read, or None.
        self.high_water: str | None = None
        #: Pages and records read so far; ``complete`` once the last page was read.
        self.pages = 0
        self.records_read = 0
        self.complete = False
        # A read that fails part way raises (IncompleteRead): never a partial source.
        self.cut_short: str | None = None
        self.messages: list[str] = [
            f"{self.name}: reading {self._first.shown(self.redactor)}"
            + (f" (changed since {since})" if since and self.settings.incremental else "")
        ]

    @property
    def path(self) -> str:
        """The URL the source was opened with."""
        return self.url

    @property
    def incremental(self) -> IncrementalSettings | None:
        """The mapping's ``incremental`` settings (None: every read is a full read); the
        caller keeps :attr:`high_water` between runs and passes it back as ``since``, and
        reads in full every ``full_every`` (:func:`~adapters.crm.schema.duration_seconds`)."""
        return self.settings.incremental

    @property
    def credential_variables(self) -> list[str]:
        """The environment variables the mapping's credentials come from."""
        return self.resolved.mapping.variables()

    def records(self) -> Iterator[SourceRecord]:
        """Every record of every page, in the CRM's order; see the module docstring."""
        settings = self.settings
        httpx_log = logging.getLogger("httpx")
        hide = RedactingFilter(self.redactor)
        httpx_log.addFilter(hide)
        started = self._clock()
        try:
            with httpx.Client(
                headers=dict(settings.client.headers),
                timeout=settings.limits.timeout,
                transport=self._transport,
                # A redirect is reported, not followed: it could take an api key header to
                # another server (httpx drops only Authorization on the way).
                follow_redirects=False,
            ) as client:
                fetcher = Fetcher(client, settings.limits, self.redactor, sleep=self._sleep,
                                  wall=self._wall, rng=self._rng)  # fmt: skip
                credentials = credentials_for(settings.client.auth, fetcher, clock=self._clock)
                pages = pages_for(settings.paginator)
                following: PageRequest | None = pages.start(self._first)
                while following is not None:
                    request = following
                    if self.pages >= settings.max_pages:
                        raise self._failure(
                            request,
                            f"max_pages ({settings.max_pages:,}) pages were read and the CRM "
                            "still has more: raise max_pages in the mapping if that is right",
                        )
                    answer = self._fetch(fetcher, request, credentials)
                    items = self._items(request, answer)
                    self.pages += 1
                    for item in items:
                        self.records_read += 1
                        yield self._record(item)
                    if self.progress is not None:
                        self.progress(ReadProgress(self.name, self.pages, self.records_read,
                                                   self._clock() - started))  # fmt: skip
                    try:
                        following = pages.next(request, answer, items)
                    except PaginationError as exc:
                        raise self._failure(request, str(exc), page=self.pages) from None
            self.complete = True
        finally:
            httpx_log.removeFilter(hide)

    # -- requests ---------------------------------------------------------------------------

    def _first_request(self) -> PageRequest:
        settings = self.settings
        base = settings.client.base_url or self.url
        endpoint = settings.endpoint
        if urlsplit(endpoint.path).scheme:
            url = endpoint.path
        elif endpoint.path:
            url = base.rstrip("/") + "/" + endpoint.path.lstrip("/")
        else:
            url = base
        params = dict(endpoint.params)
        incremental = settings.incremental
        if self.since and incremental is not None:
            if incremental.param is not None:
                params[incremental.param] = self.since
            elif incremental.filter_param is not None and incremental.filter is not None:
                params[incremental.filter_param] = incremental.filter.replace("{since}", self.since)
        return PageRequest(endpoint.method, url, tuple(params.items()), endpoint.json_body)

    def _fetch(self, fetcher: Fetcher, request: PageRequest, credentials: Any) -> PageAnswer:
        try:
            return fetcher.fetch(request, credentials)
        except ReadFailure as exc:
            raise self._failure(exc.request or request, exc.problem, status=exc.status,
                                credentials=exc.credentials) from None  # fmt: skip

    def _items(self, request: PageRequest, answer: PageAnswer) -> list[Any]:
        if answer.body is None:
            return []  # 204 No Content
        selector = parse_path(self.settings.endpoint.data_selector)
        found = select(answer.body, selector)
        if selector.fans_out:
            return found
        if not found:
            raise self._failure(
                request,
                f"the answer has no {self.settings.endpoint.data_selector!r}: check the "
                "mapping's endpoint.data_selector",
            )
        records = found[0]
        if records is None:
            return []  # some APIs say "no records" with null
        if not isinstance(records, list):
            raise self._failure(
                request,
                f"{self.settings.endpoint.data_selector!r} in the answer is not a list of "
                "records: check the mapping's endpoint.data_selector",
            )
        return records

    def _failure(
        self,
        request: PageRequest,
        problem: str,
        *,
        page: int | None = None,
        status: int | None = None,
        credentials: bool = False,
    ) -> IncompleteRead:
        page = page if page is not None else self.pages + 1
        shown = request.shown(self.redactor)
        text = f"{self.name}: page {page}: {shown}: {problem}"
        variables = self.credential_variables
        if credentials and variables:
            text += f"; check {', '.join(variables)}"
        if self.records_read:
            text += f" ({self.records_read:,} records read before it are not used)"
        return IncompleteRead(self.redactor(text), source=self.name, page=page, request=shown,
                              status=status, records=self.records_read)  # fmt: skip

    # -- records ----------------------------------------------------------------------------

    def _record(self, item: Any) -> SourceRecord:
        fields = self._fields
        values = [_text(select_one(item, path)) for path in fields.paths]
        key = fields.key.render(values, tidy=False) if fields.key else ""
        name = ""
        for template in fields.names:
            name = template.render(values)
            if name:
                break
        if self._incremental_path is not None:
            changed = _text(select_one(item, self._incremental_path))
            if changed and (self.high_water is None or changed > self.high_water):
                self.high_water = changed
        return build_record(
            key=key or str(self.records_read),
            location=f"{self.name}:{self.records_read}",
            name=name,
            phones=fields.phones_of(item),
            key_kind=KEY_SOURCE_ID if key else KEY_POSITION,
        )


class _CompiledFields:
    """A mapping's ``fields`` with every path parsed once, for every record."""

    def __init__(self, settings: FieldSettings) -> None:
        self.paths: list[JsonPath] = []
        index: dict[str, int] = {}

        def find(text: str) -> int:
            if text not in index:
                index[text] = len(self.paths)
                self.paths.append(parse_path(text))
            return index[text]

        missing: list[str] = []
        self.key: BoundTemplate | None = (
            bind_template(settings.key, find, missing) if settings.key else None
        )
        self.names = [t for t in (bind_template(n, find, missing) for n in settings.name) if t]
        self.phones = [_CompiledPhone(phone) for phone in settings.phones]

    def phones_of(self, item: Any) -> list[RawPhone]:
        return [phone for field in self.phones for phone in field.read(item)]


class _CompiledPhone:
    def __init__(self, settings: PhoneField) -> None:
        self.settings = settings
        self.path = parse_path(settings.path)
        self.value = parse_path(settings.value) if settings.value else None
        self.label_path = parse_path(settings.label_path) if settings.label_path else None
        self.preferred_path = (
            parse_path(settings.preferred_path) if settings.preferred_path else None
        )
        keys = [step for step in self.path.steps if isinstance(step, str)]
        self.default_label = (
            settings.label if settings.label is not None else (keys[-1] if keys else "")
        )

    def read(self, item: Any) -> list[RawPhone]:
        phones = []
        for found in select(item, self.path):
            number = _text(select_one(found, self.value) if self.value else found)
            if not number:
                continue
            label = self.default_label
            if self.label_path is not None:
                label = _text(select_one(found, self.label_path)) or label
            preferred = self.settings.preferred
            if self.preferred_path is not None:
                preferred = preferred or _truthy(select_one(found, self.preferred_path))
            phones.append(RawPhone(number, label, preferred))
        return phones


def _text(value: Any) -> str:
    """A JSON value as text: strings as they are, numbers as written; nothing else."""
    if value is MISSING or value is None or isinstance(value, (bool, dict, list)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, (str, int, float)) else ""


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1"))


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in URL_SCHEMES or not parts.hostname:
        raise ConfigError(f"{url!r} is not a web address a CRM can be read from")
    if parts.username or parts.password:
        raise ConfigError(
            "a CRM URL must not hold a user name or password: the mapping's client.auth "
            "takes them from environment variables"
        )


def _needs_a_mapping(url: str) -> str:
    host = urlsplit(url).hostname or url
    return (
        f"{host} is a web address: reading a CRM needs --mapping with a CRM preset "
        f"({', '.join(crm_preset_names())}) or a CRM mapping file"
    )
