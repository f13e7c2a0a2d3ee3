"""The CRM source against in-memory servers (httpx.MockTransport): paging, credentials,
retries and throttling, and the one-line errors of a read that cannot be completed."""

from __future__ import annotations

import email.utils
import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import ReadProgress
from adapters.crm.schema import parse_crm_mapping
from adapters.crm.source import CrmSource
from connector.errors import ConfigError, IncompleteRead

TOKEN = "tok-Secret-9f8e7d"
BASE = "https://crm.example.test"

MAPPING = """\
client:
  auth: {type: bearer, token: "${CRM_TOKEN}"}
endpoint:
  path: /v1/people
  params: {limit: 2}
  data_selector: data
paginator: {type: cursor, cursor_path: meta.next, cursor_param: cursor}
fields:
  key: id
  name: ["{first} {last}", "{company}"]
  phones:
    - {path: phone, label: work}
    - {path: "phones[*]", value: value, label_path: label, preferred_path: primary}
"""

PEOPLE = [
    {"id": 1, "first": "Amelia", "last": "Hartley", "phone": "0113 496 0101"},
    {"id": 2, "first": "Chidi", "last": "Okafor", "phones": [
        {"value": "07700 900102", "label": "mobile", "primary": False},
        {"value": "020 7946 0102", "label": "work", "primary": True}]},
    {"id": 3, "first": None, "last": None, "company": "Harrow & Pike", "phone": 1614960103},
    {"id": 4, "first": "Emily", "last": "Dawson"},
    {"id": 5, "first": "Rajesh", "last": "Patel", "phone": "0121 496 0105"},
]  # fmt: skip

Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps(list[float]):
    """A sleep that records its waits and never waits."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def source(
    handler: Handler,
    mapping: str = MAPPING,
    *,
    environ: dict[str, str] | None = None,
    sleep: Sleeps | None = None,
    clock: Callable[[], float] | None = None,
    **options: Any,
) -> CrmSource:
    return CrmSource(
        BASE,
        mapping=parse_crm_mapping(mapping, name="testcrm", origin="testcrm.yaml"),
        environ={"CRM_TOKEN": TOKEN} if environ is None else environ,
        transport=httpx.MockTransport(handler),
        sleep=sleep if sleep is not None else Sleeps(),
        wall=lambda: 1_700_000_000.0,
        clock=clock or (lambda: 0.0),
        rng=random.Random(7),
        **options,
    )


def cursor_pages(request: httpx.Request) -> httpx.Response:
    """PEOPLE two at a time, the next cursor at meta.next."""
    start = int(request.url.params.get("cursor", "0"))
    chunk = PEOPLE[start : start + 2]
    meta = {"next": str(start + 2)} if start + 2 < len(PEOPLE) else {}
    return httpx.Response(200, json={"data": chunk, "meta": meta})


def read_all(crm: CrmSource) -> list[Any]:
    return list(crm.records())


# -- records -------------------------------------------------------------------------------


def test_every_page_is_read_into_records_with_names_and_numbers() -> None:
    crm = source(cursor_pages)
    records = read_all(crm)
    assert [(r.key, r.name) for r in records] == [
        ("1", "Amelia Hartley"), ("2", "Chidi Okafor"), ("3", "Harrow & Pike"),
        ("4", "Emily Dawson"), ("5", "Rajesh Patel"),
    ]  # fmt: skip
    # The primary of a list of phone objects comes first; a number sent as JSON number reads.
    assert [(p.value, p.label) for p in records[1].phones] == [
        ("020 7946 0102", "work"), ("07700 900102", "mobile"),
    ]  # fmt: skip
    assert [p.value for p in records[2].phones] == ["1614960103"]
    assert records[3].problems == ("no phone number",)
    assert records[0].location == "testcrm:1" and records[0].key_kind == "source_id"
    assert crm.pages == 3 and crm.complete


def test_the_token_and_params_go_with_every_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return cursor_pages(request)

    read_all(source(handler))
    assert [r.url.params.get("cursor") for r in seen] == [None, "2", "4"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in seen)
    assert all(r.url.params["limit"] == "2" and r.url.path == "/v1/people" for r in seen)


def test_progress_is_reported_after_each_page() -> None:
    seen: list[ReadProgress] = []
    read_all(source(cursor_pages, progress=seen.append))
    assert [(p.pages, p.records) for p in seen] == [(1, 2), (2, 4), (3, 5)]


def test_a_caller_that_stops_early_stops_the_reading() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return cursor_pages(request)

    records = source(handler).records()
    assert [next(records).key for _ in range(2)] == ["1", "2"]
    records.close()
    assert len(seen) == 1


# -- paginators ----------------------------------------------------------------------------


def paged(style: str) -> tuple[str, Handler]:
    """A mapping paginator section and a handler serving PEOPLE in that style."""

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        headers: dict[str, str] = {}
        if style == "json_link" or style == "header_link":
            start = int(params.get("from", "0"))
        elif style == "page_number":
            start = (int(params["page"]) - 1) * 2
        else:
            assert params["limit"] == "2"
            start = int(params["offset"])
        chunk = PEOPLE[start : start + 2]
        body: dict[str, Any] = {"data": chunk}
        more = start + 2 < len(PEOPLE)
        if style == "json_link" and more:
            body["links"] = {"next": f"/v1/people?from={start + 2}&limit=2"}
        elif style == "header_link" and more:
            headers["link"] = (
                f'<{BASE}/v1/people?from={start + 2}>; rel="next", <{BASE}/x>; rel="last"'
            )
        elif style == "page_number":
            body["info"] = {"more_records": more}
        elif style == "offset":
            body["total"] = len(PEOPLE)
        return httpx.Response(200, json=body, headers=headers)

    sections = {
        "json_link": "{type: json_link, next_url_path: links.next}",
        "header_link": "{type: header_link}",
        "page_number": "{type: page_number, more_path: info.more_records}",
        "offset": "{type: offset, limit: 2, total_path: total}",
    }
    text = MAPPING.replace(
        "paginator: {type: cursor, cursor_path: meta.next, cursor_param: cursor}",
        f"paginator: {sections[style]}",
    ).replace("params: {limit: 2}", "params: {}" if style == "offset" else "params: {limit: 2}")
    return text, handler


@pytest.mark.parametrize("style", ["json_link", "header_link", "page_number", "offset"])
def test_each_paginator_reads_every_page(style: str) -> None:
    mapping, handler = paged(style)
    crm = source(handler, mapping)
    assert [r.key for r in read_all(crm)] == ["1", "2", "3", "4", "5"]
    assert crm.pages == 3


def test_offset_without_a_total_stops_on_a_short_page() -> None:
    mapping, handler = paged("offset")
    crm = source(handler, mapping.replace(", total_path: total", ""))
    assert len(read_all(crm)) == 5 and crm.pages == 3


def test_page_number_stops_on_an_empty_page_without_a_flag() -> None:
    mapping, handler = paged("page_number")
    crm = source(handler, mapping.replace(", more_path: info.more_records", ""))
    assert len(read_all(crm)) == 5 and crm.pages == 4


def test_a_repeating_cursor_is_an_error_not_a_loop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": PEOPLE[:2], "meta": {"next": "AAA"}})

    with pytest.raises(IncompleteRead) as caught:
        read_all(source(handler))
    assert str(caught.value) == (
        f"testcrm: page 2: GET {BASE}/v1/people?limit=2&cursor=AAA: the cursor at meta.next "
        "'AAA' repeats (page 1 gave it too): the CRM would be read in a loop "
        "(4 records read before it are not used)"
    )


def test_a_repeating_next_url_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": PEOPLE[:1], "links": {"next": "/v1/people?p=2"}})

    mapping, _ = paged("json_link")
    with pytest.raises(IncompleteRead, match=r"page 2: .*next page URL .* repeats"):
        read_all(source(handler, mapping))


def test_a_next_url_on_another_server_is_not_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"data": PEOPLE[:1],
                                         "links": {"next": "https://evil.test/steal"}})  # fmt: skip

    mapping, _ = paged("json_link")
    with pytest.raises(IncompleteRead, match=r"another server \(https://evil.test\)"):
        read_all(source(handler, mapping))
    assert len(seen) == 1


def test_a_next_url_naming_the_default_port_is_the_same_server() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("from", "0"))
        body: dict[str, Any] = {"data": PEOPLE[start : start + 2]}
        if start + 2 < len(PEOPLE):
            body["links"] = {"next": f"https://CRM.example.test:443/v1/people?from={start + 2}"}
        return httpx.Response(200, json=body)

    mapping, _ = paged("json_link")
    assert len(read_all(source(handler, mapping))) == 5


def test_a_next_url_that_is_not_a_url_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": PEOPLE[:1], "links": {"next": "http://[::1"}})

    mapping, _ = paged("json_link")
    with pytest.raises(IncompleteRead, match=r"page 1: .*'http://\[::1' is not a valid URL"):
        read_all(source(handler, mapping))


def test_max_pages_is_an_error_not_a_silent_stop() -> None:
    crm = source(cursor_pages, MAPPING + "max_pages: 2\n")
    with pytest.raises(IncompleteRead, match=r"page 3: .*max_pages \(2\) pages were read"):
        read_all(crm)


def test_a_missing_data_selector_is_an_error_naming_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": PEOPLE})

    with pytest.raises(IncompleteRead, match=r"page 1: .*the answer has no 'data': check the "):
        read_all(source(handler))


def test_a_null_data_is_an_empty_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": None})

    assert read_all(source(handler)) == []


# -- answers that cannot be used ------------------------------------------------------------


def answering(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving ``responses`` in turn to the first page, then normal pages."""
    queue = list(responses)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("cursor") == "2" and queue:
            answer = queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return cursor_pages(request)

    return handler, seen


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (httpx.Response(200, text="<!DOCTYPE html><html>Log in</html>",
                        headers={"content-type": "text/html"}),
         "the answer is an HTML page, not JSON"),
        (httpx.Response(200, text='{"data": [{"id": 3, "first": "Ha'),
         "the answer stops after 32 bytes, part-way through its JSON"),
        (httpx.Response(200, text="not json at all"), "the answer is not valid JSON"),
        (httpx.Response(200, text=""), "the answer is empty, not JSON"),
        (httpx.Response(401, json={"message": "bad token"}),
         "401 Unauthorized: the credentials were refused; check CRM_TOKEN"),
        (httpx.Response(403, json={"message": "scope missing"}),
         "the CRM refused access, 403 Forbidden (scope missing): the credentials lack a "
         "permission or scope; check CRM_TOKEN"),
        (httpx.Response(404, json={}), "the CRM answered 404 Not Found: check the URL"),
        (httpx.Response(400, json={"message": "bad property"}),
         "the CRM answered 400 Bad Request (bad property)"),
    ],
)  # fmt: skip
def test_an_unusable_answer_is_one_line_naming_the_page_and_request(
    answer: httpx.Response, problem: str
) -> None:
    handler, _ = answering(answer)
    with pytest.raises(IncompleteRead) as caught:
        read_all(source(handler))
    error = caught.value
    text = str(error)
    assert text.startswith(f"testcrm: page 2: GET {BASE}/v1/people?limit=2&cursor=2: {problem}")
    assert text.endswith("(2 records read before it are not used)")
    assert "\n" not in text and TOKEN not in text
    assert (error.source, error.page, error.records) == ("testcrm", 2, 2)


def test_a_redirect_is_reported_not_followed_with_the_credentials() -> None:
    handler, seen = answering(
        httpx.Response(302, headers={"location": "https://login.example.test/?next=x"})
    )
    with pytest.raises(IncompleteRead) as caught:
        read_all(source(handler))
    assert "the CRM answered 302 Found, redirecting to https://login.example.test/?next=x" in str(
        caught.value
    )
    assert all(request.url.host == "crm.example.test" for request in seen)


def test_5xx_and_lost_connections_are_retried_with_growing_waits() -> None:
    request = httpx.Request("GET", BASE)
    handler, seen = answering(
        httpx.Response(502, text="bad gateway"),
        httpx.ConnectError("refused", request=request),
        httpx.ReadTimeout("slow", request=request),
        httpx.RemoteProtocolError("closed early", request=request),
    )
    sleeps = Sleeps()
    assert len(read_all(source(handler, sleep=sleeps))) == 5
    assert len(seen) == 3 + 4
    assert len(sleeps) == 4
    # Exponential backoff with jitter: each wait in [half, whole] of 0.5, 1, 2, 4 seconds.
    for n, wait in enumerate(sleeps):
        assert 0.25 * 2**n <= wait <= 0.5 * 2**n


def test_a_5xx_that_lasts_fails_after_the_retries() -> None:
    handler, seen = answering(*[httpx.Response(503, text="")] * 10)
    with pytest.raises(
        IncompleteRead, match=r"page 2: .*503 Service Unavailable \(gave up after 6 tries\)"
    ):
        read_all(source(handler))
    assert len(seen) == 1 + 6


def test_a_429_waits_as_retry_after_says_in_seconds_or_as_a_date() -> None:
    date = email.utils.formatdate(1_700_000_000 + 42, usegmt=True)
    handler, _ = answering(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": date}),
    )
    sleeps = Sleeps()
    assert len(read_all(source(handler, sleep=sleeps))) == 5
    assert sleeps == [7.0, 42.0]


def test_a_429_asking_too_long_a_wait_is_an_error() -> None:
    handler, _ = answering(httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(IncompleteRead, match=r"asks to wait 3600 s, longer than limits.max_wait"):
        read_all(source(handler))


def test_a_vendor_throttle_answer_declared_in_the_mapping_waits_and_retries() -> None:
    limit = httpx.Response(403, json=[{"message": "TotalRequests Limit exceeded.",
                                       "errorCode": "REQUEST_LIMIT_EXCEEDED"}])  # fmt: skip
    mapping = MAPPING + (
        "limits:\n  throttle:\n"
        "    - {status: 403, body_contains: REQUEST_LIMIT_EXCEEDED, wait: 20}\n"
    )
    handler, _ = answering(limit)
    sleeps = Sleeps()
    assert len(read_all(source(handler, mapping, sleep=sleeps))) == 5
    assert sleeps == [20.0]
    # A limit that does not clear fails after the retries, with the vendor's message.
    handler, _ = answering(*[limit] * 9)
    with pytest.raises(IncompleteRead) as caught:
        read_all(source(handler, mapping))
    assert (
        "the CRM is throttling requests (403 Forbidden: TotalRequests Limit exceeded.) "
        "(gave up after 6 tries)"
    ) in str(caught.value)
    # Without the declaration it is a refusal, with the vendor's message.
    handler, _ = answering(limit)
    with pytest.raises(IncompleteRead, match=r"403 Forbidden \(TotalRequests Limit exceeded.\)"):
        read_all(source(handler))


def test_declared_rate_headers_make_the_next_request_wait() -> None:
    mapping = MAPPING + (
        "limits:\n  remaining_header: X-Left\n  reset_header: X-Window-Ms\n"
        "  reset_unit: milliseconds\n"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        answer = cursor_pages(request)
        left = "0" if request.url.params.get("cursor") == "2" else "5"
        answer.headers.update({"X-Left": left, "X-Window-Ms": "1500"})
        return answer

    sleeps = Sleeps()
    assert len(read_all(source(handler, mapping, sleep=sleeps))) == 5
    assert sleeps == [1.5]


# -- credentials ----------------------------------------------------------------------------


def with_auth(auth: str) -> str:
    return MAPPING.replace('auth: {type: bearer, token: "${CRM_TOKEN}"}', f"auth: {auth}")


def test_api_key_in_a_header_or_the_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return cursor_pages(request)

    read_all(
        source(handler, with_auth('{type: api_key, name: x-api-token, api_key: "${CRM_TOKEN}"}'))
    )
    assert {r.headers["x-api-token"] for r in seen} == {TOKEN}
    seen.clear()
    query = '{type: api_key, name: api_token, api_key: "${CRM_TOKEN}", location: query}'
    read_all(source(handler, with_auth(query)))
    assert {r.url.params["api_token"] for r in seen} == {TOKEN}


def test_a_query_api_key_never_shows_in_an_error() -> None:
    query = '{type: api_key, name: api_token, api_key: "${CRM_TOKEN}", location: query}'
    handler, _ = answering(httpx.Response(500, text=f"failed for api_token={TOKEN}"))
    with pytest.raises(IncompleteRead) as caught:
        read_all(source(handler, with_auth(query) + "limits: {retries: 0}\n"))
    assert TOKEN not in str(caught.value)
    assert "cursor=2: the CRM answered 500" in str(caught.value)


def test_http_basic() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return cursor_pages(request)

    auth = '{type: http_basic, username: api, password: "${CRM_TOKEN}"}'
    read_all(source(handler, with_auth(auth)))
    assert seen[0].headers["authorization"] == httpx.BasicAuth("api", TOKEN)._auth_header


OAUTH = (
    '{type: oauth2_refresh_token, token_url: "https://accounts.example.test/oauth/v2/token", '
    'client_id: "${CLIENT_ID}", client_secret: "${CLIENT_SECRET}", '
    'refresh_token: "${REFRESH}", scheme: Zoho-oauthtoken, send_as: query}'
)
OAUTH_ENV = {
    "CLIENT_ID": "1000.ABC",
    "CLIENT_SECRET": "cs-Secret-77",
    "REFRESH": "1000.rt-Secret-55",
}


class TokenServer:
    """An OAuth token endpoint in front of cursor_pages; tokens live ``ttl`` seconds."""

    def __init__(self, ttl: int = 3600, refuse_first: bool = False) -> None:
        self.ttl = ttl
        self.issued: list[str] = []
        self.token_requests: list[httpx.Request] = []
        self.refuse_next = refuse_first

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/v2/token":
            self.token_requests.append(request)
            self.issued.append(f"at-{len(self.issued) + 1}-Secret")
            return httpx.Response(200, json={"access_token": self.issued[-1],
                                             "expires_in": self.ttl})  # fmt: skip
        if request.headers.get("authorization") != f"Zoho-oauthtoken {self.issued[-1]}":
            return httpx.Response(401, json={"code": "INVALID_TOKEN"})
        if self.refuse_next and request.url.params.get("cursor") == "2":
            self.refuse_next = False
            return httpx.Response(401, json={"code": "INVALID_TOKEN"})
        return cursor_pages(request)


def test_an_oauth_token_is_fetched_once_and_reused() -> None:
    server = TokenServer()
    assert len(read_all(source(server, with_auth(OAUTH), environ=OAUTH_ENV))) == 5
    assert len(server.token_requests) == 1
    params = server.token_requests[0].url.params
    assert params["grant_type"] == "refresh_token"
    assert params["refresh_token"] == OAUTH_ENV["REFRESH"]
    assert params["client_secret"] == OAUTH_ENV["CLIENT_SECRET"]


def test_an_oauth_token_is_renewed_on_expiry() -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 1000  # each look at the clock is 1000 s later
        return now[0]

    server = TokenServer(ttl=1500)
    assert len(read_all(source(server, with_auth(OAUTH), environ=OAUTH_ENV, clock=clock))) == 5
    assert len(server.token_requests) >= 2


def test_an_oauth_token_is_renewed_once_on_a_401() -> None:
    server = TokenServer(refuse_first=True)
    assert len(read_all(source(server, with_auth(OAUTH), environ=OAUTH_ENV))) == 5
    assert len(server.token_requests) == 2


def test_client_credentials_send_a_form_with_scopes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            seen.append(request)
            return httpx.Response(200, json={"access_token": "at-Secret-cc", "expires_in": 3599})
        assert request.headers["authorization"] == "Bearer at-Secret-cc"
        return cursor_pages(request)

    auth = (
        '{type: oauth2_client_credentials, token_url: "https://login.example.test/t/token", '
        'client_id: app, client_secret: "${CRM_TOKEN}", scopes: ["https://org.example.test/.default"]}'
    )
    read_all(source(handler, with_auth(auth)))
    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "app",
        "client_secret": TOKEN,
        "scope": "https://org.example.test/.default",
    }


def test_a_refused_token_request_names_the_variables() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "invalid_client"})

    with pytest.raises(IncompleteRead) as caught:
        read_all(source(handler, with_auth(OAUTH), environ=OAUTH_ENV))
    text = str(caught.value)
    assert text == (
        "testcrm: page 1: POST https://accounts.example.test/oauth/v2/token?grant_type="
        "refresh_token&refresh_token=***&client_id=1000.ABC&client_secret=***: the token "
        "request failed: the CRM answered 400 Bad Request (invalid_client); "
        "check CLIENT_ID, CLIENT_SECRET, REFRESH"
    )
    assert not any(secret in text for secret in OAUTH_ENV.values() if "Secret" in secret)


# -- before any request ---------------------------------------------------------------------


def never(request: httpx.Request) -> httpx.Response:
    raise AssertionError("no request may be sent")


def test_a_missing_variable_is_one_error_before_any_request() -> None:
    with pytest.raises(ConfigError) as caught:
        source(never, environ={})
    assert str(caught.value) == (
        "testcrm.yaml:2: client.auth.token: environment variable CRM_TOKEN is not set "
        "(or write ${CRM_TOKEN:-default})"
    )


def test_file_options_are_refused_for_a_crm() -> None:
    with pytest.raises(ConfigError, match="--sheet is for files"):
        source(never, sheet="Contacts")


def test_a_url_with_credentials_in_it_is_refused() -> None:
    with pytest.raises(ConfigError, match="must not hold a user name or password"):
        CrmSource("https://user:pw@crm.example.test", mapping=parse_crm_mapping(
            MAPPING, name="t", origin="t.yaml"), environ={"CRM_TOKEN": "x"})  # fmt: skip


def test_incremental_sends_since_and_keeps_the_high_water_mark() -> None:
    mapping = MAPPING + "incremental: {param: updated_since, cursor_path: updated}\n"
    seen: list[httpx.Request] = []
    stamps = ["2024-05-01T10:00:00Z", "2024-06-02T08:00:00Z", "2024-05-20T00:00:00Z"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        people = [dict(p, updated=stamp) for p, stamp in zip(PEOPLE, stamps, strict=False)]
        return httpx.Response(200, json={"data": people, "meta": {}})

    crm = source(handler, mapping, since="2024-04-30T00:00:00Z")
    read_all(crm)
    assert seen[0].url.params["updated_since"] == "2024-04-30T00:00:00Z"
    assert crm.high_water == "2024-06-02T08:00:00Z"
    crm = source(handler, mapping)
    read_all(crm)
    assert "updated_since" not in seen[-1].url.params


def test_an_incremental_filter_replaces_a_parameter() -> None:
    mapping = MAPPING.replace(
        "params: {limit: 2}", "params: {limit: 2, q: SELECT Id FROM Contact}"
    ) + (
        "incremental:\n  filter: SELECT Id FROM Contact WHERE SystemModstamp > {since}\n"
        "  filter_param: q\n  cursor_path: SystemModstamp\n"
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [], "meta": {}})

    read_all(source(handler, mapping, since="2024-01-01T00:00:00Z"))
    assert seen[0].url.params["q"] == (
        "SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-01T00:00:00Z"
    )


def test_json_body_of_a_post_search_carries_the_cursor() -> None:
    mapping = MAPPING.replace(
        "  params: {limit: 2}\n", "  method: POST\n  json: {limit: 2}\n"
    ).replace("cursor_param: cursor", "cursor_body_path: after")
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        start = int(body.get("after", 0))
        more = {"next": str(start + 2)} if start + 2 < len(PEOPLE) else {}
        return httpx.Response(200, json={"data": PEOPLE[start : start + 2], "meta": more})

    assert len(read_all(source(handler, mapping))) == 5
    assert bodies == [{"limit": 2}, {"limit": 2, "after": "2"}, {"limit": 2, "after": "4"}]


# -- whatever a server answers: records, or one IncompleteRead ------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["data", "meta", "next", "links", "id", "first", "phone", "phones",
                         "value", "total", "info", "more_records"]), kids, max_size=4),
    max_leaves=20,
)  # fmt: skip
ANSWERS = st.tuples(
    st.sampled_from([200, 200, 200, 204, 301, 400, 401, 403, 404, 429, 500, 503]),
    JSON,
    st.dictionaries(
        st.sampled_from(["Retry-After", "Link", "Location", "Content-Type"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
        max_size=2,
    ),
)


@settings(max_examples=150)
@given(
    st.sampled_from(["cursor", "json_link", "header_link", "page_number", "offset"]),
    st.lists(ANSWERS, min_size=1, max_size=6),
)
def test_any_answers_give_records_or_one_incomplete_read(
    style: str, answers: list[tuple[int, Any, dict[str, str]]]
) -> None:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        status, body, headers = queue.pop(0) if queue else (200, {"data": []}, {})
        return httpx.Response(status, json=body, headers=headers)

    mapping = MAPPING if style == "cursor" else paged(style)[0]
    try:
        records = read_all(source(handler, mapping + "max_pages: 8\n"))
    except IncompleteRead as error:
        assert "\n" not in str(error) and TOKEN not in str(error)
        assert str(error).startswith("testcrm: page ")
    else:
        assert all(record.location.startswith("testcrm:") for record in records)
