"""The client against ``httpx.MockTransport``: the odd answers a real server gives."""

from __future__ import annotations

import codecs
import email.utils
import json
from collections.abc import Callable

import httpx
import pytest
from fake_time import EPOCH, FakeTime
from hypothesis import given
from hypothesis import strategies as st

from connector.api.client import LIST_CONTACTS, RetryPolicy, SipaltoClient
from connector.api.pacing import Pacer
from connector.api.responses import contacts_from, contacts_of
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
    Unauthorized,
    Unavailable,
)

Handler = Callable[[httpx.Request], httpx.Response]
LOGIN_OK = httpx.Response(200, json={"access_token": "tok-1", "expires_in": 86400})
CONTACTS = {"success": True, "response": [{"id": 5, "name": "A", "phone1": "1", "phone2": None}]}


class Recorder:
    """A handler that answers from a script and records what it was sent."""

    def __init__(self, *answers: httpx.Response | Exception, login: httpx.Response = LOGIN_OK):
        self.answers = list(answers)
        self.login = login
        self.requests: list[httpx.Request] = []
        self.logins = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login":
            self.logins += 1
            return self.login
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_client(handler: Handler, time: FakeTime | None = None, **kwargs) -> SipaltoClient:
    """A client whose backoff and pacer wait on ``time`` (a fresh fake clock by default)."""
    time = time or FakeTime()
    return SipaltoClient(
        "http://sipalto.test",
        "demo",
        "s3cret-pw",
        transport=httpx.MockTransport(handler),
        retry=kwargs.pop("retry", RetryPolicy(attempts=3)),
        sleep=time.sleep,
        pacer=Pacer(clock=time.clock, sleep=time.sleep, wall=time.wall),
        **kwargs,
    )


def test_html_error_page_is_a_clear_bad_response() -> None:
    page = httpx.Response(200, text="<html><body>Bad Gateway</body></html>",
                          headers={"content-type": "text/html"})  # fmt: skip
    with pytest.raises(BadResponse, match="expected JSON, got text/html"):
        make_client(Recorder(page)).list_contacts()


def test_success_false_with_http_200_is_an_error() -> None:
    refused = httpx.Response(200, json={"success": False, "response": "Invalid phone"})
    with pytest.raises(Rejected, match="Invalid phone"):
        make_client(Recorder(refused)).add_contact("A", "x")


def test_429_waits_retry_after_then_succeeds() -> None:
    throttled = httpx.Response(429, headers={"Retry-After": "7"}, json={"success": False})
    time = FakeTime()
    client = make_client(Recorder(throttled, httpx.Response(200, json=CONTACTS)), time)
    assert [c.id for c in client.list_contacts()] == ["5"]
    assert time.slept == [7]
    assert client.pacer.throttled == 1


def test_429_beyond_the_wait_budget_is_rate_limited_with_retry_after() -> None:
    throttled = httpx.Response(429, headers={"Retry-After": "3"})
    time = FakeTime()
    client = make_client(Recorder(throttled), time, retry=RetryPolicy(throttle_waits=2))
    with pytest.raises(RateLimited) as info:
        client.list_contacts()
    assert info.value.retry_after == 3
    assert time.slept == [3, 3]


@pytest.mark.parametrize(
    ("header", "retry_after"),
    [
        ({"Retry-After": "4"}, 4),
        ({"Retry-After": email.utils.formatdate(EPOCH + 4, usegmt=True)}, 4),
        ({"Retry-After": f"{EPOCH + 4:.0f}"}, 4),
        ({}, None),
    ],
)
def test_rate_limited_says_the_wait_the_pacer_read(header, retry_after) -> None:
    client = make_client(Recorder(httpx.Response(429, headers=header)),
                         retry=RetryPolicy(throttle_waits=0))  # fmt: skip
    with pytest.raises(RateLimited) as info:
        client.list_contacts()
    assert info.value.retry_after == retry_after


def test_a_retry_after_longer_than_the_policy_allows_is_not_waited_for() -> None:
    time = FakeTime()
    client = make_client(Recorder(httpx.Response(429, headers={"Retry-After": "3600"})), time)
    with pytest.raises(RateLimited) as info:
        client.list_contacts()
    assert info.value.retry_after == 3600
    assert time.slept == []


def test_a_429_without_retry_after_waits_a_second() -> None:
    time = FakeTime()
    recorder = Recorder(httpx.Response(429), httpx.Response(200, json=CONTACTS))
    assert len(make_client(recorder, time).list_contacts()) == 1
    assert time.slept == [1]


def test_401_logs_in_again_once_and_repeats_the_request() -> None:
    recorder = Recorder(httpx.Response(401, json={"message": "Unauthenticated."}),
                        httpx.Response(200, json=CONTACTS))  # fmt: skip
    client = make_client(recorder)
    assert len(client.list_contacts()) == 1
    assert recorder.logins == 2
    assert recorder.requests[-1].headers["authorization"] == "Bearer tok-1"


def test_a_second_401_after_relogin_is_unauthorized() -> None:
    client = make_client(Recorder(httpx.Response(401, json={"message": "Unauthenticated."})))
    with pytest.raises(Unauthorized):
        client.list_contacts()


def test_reads_retry_5xx_with_backoff() -> None:
    time = FakeTime()
    recorder = Recorder(
        httpx.Response(503), httpx.Response(500), httpx.Response(200, json=CONTACTS)
    )
    assert len(make_client(recorder, time).list_contacts()) == 1
    assert len(recorder.requests) == 3
    assert len(time.slept) == 2


def test_reads_give_up_after_the_attempt_budget() -> None:
    with pytest.raises(Unavailable):
        make_client(Recorder(httpx.Response(503))).list_contacts()


@pytest.mark.parametrize(
    "answer", [httpx.Response(500), httpx.Response(503), httpx.ReadTimeout("slow")]
)
def test_a_write_is_never_repeated_after_it_may_have_arrived(answer) -> None:
    recorder = Recorder(answer)
    with pytest.raises(OutcomeUnknown) as info:
        make_client(recorder).add_contact("A", "01632960000")
    assert len(recorder.requests) == 1
    assert isinstance(info.value.cause, (ServerError, Unavailable, NetworkError))


def test_a_write_that_never_connected_is_request_not_sent_after_retries() -> None:
    recorder = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(RequestNotSent):
        make_client(recorder).delete_contact("5")
    assert len(recorder.requests) == 3


def test_a_write_answered_with_a_proxy_page_is_outcome_unknown() -> None:
    page = httpx.Response(200, text="<html>gateway</html>", headers={"content-type": "text/html"})
    with pytest.raises(OutcomeUnknown):
        make_client(Recorder(page)).add_contact("A", "1")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequest),
        (401, Unauthorized),  # still refused after logging in again
        (403, Forbidden),
        (404, NotFound),
        (405, MethodNotAllowed),
        (406, NotAcceptable),
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, Unavailable),
        (418, ApiError),
    ],
)
def test_each_documented_error_code_raises_its_own_error(status, error) -> None:
    answer = httpx.Response(status, json={"success": False, "message": "refused"})
    client = make_client(Recorder(answer), retry=RetryPolicy(attempts=1, throttle_waits=0))
    with pytest.raises(error, match=f"HTTP {status} .*: refused") as info:
        client.list_contacts()
    assert type(info.value) is error
    assert (info.value.status, info.value.endpoint) == (status, "/phone-books/get-global-contacts")


def test_update_always_sends_name_and_all_three_phones() -> None:
    recorder = Recorder(httpx.Response(200, json={"success": True, "response": "OK"}))
    make_client(recorder).update_contact("33333", "Julia Smith", "07852902011")
    body = recorder.requests[0].content.decode()
    assert body == "name=Julia+Smith&phone1=07852902011&phone2=&phone3="
    assert recorder.requests[0].url.path == "/phone-books/update-global-contact/33333"


def test_contacts_sent_as_a_keyed_object_and_with_numbers_are_read() -> None:
    keyed = {"success": True, "response": {"7": {"id": 7, "name": "B", "phone1": 1632960000}}}
    contact = make_client(Recorder(httpx.Response(200, json=keyed))).list_contacts()[0]
    assert (contact.id, contact.phone1, contact.phone2) == ("7", "1632960000", "")


def test_a_contact_list_as_documented_is_read_as_written() -> None:
    answer = {"success": True, "response": [
        {"id": "11111", "name": "Domino's Pizza", "phone1": "01491833000",
         "phone2": "07591524881", "phone3": "07591524882"},
        {"id": "22222", "name": "Zoë \"Z\" Ó'Brien", "phone1": "+44 1491 835522",
         "phone2": "", "note": "a field the API may add"},
    ]}  # fmt: skip
    contacts = make_client(Recorder(httpx.Response(200, json=answer))).list_contacts()
    assert [c.to_dict() for c in contacts] == [
        answer["response"][0],
        {"id": "22222", "name": 'Zoë "Z" Ó\'Brien', "phone1": "+44 1491 835522",
         "phone2": "", "phone3": ""},
    ]  # fmt: skip


def test_a_contact_list_with_a_byte_order_mark_is_read() -> None:
    content = codecs.BOM_UTF8 + json.dumps(CONTACTS).encode()
    [contact] = make_client(Recorder(httpx.Response(200, content=content))).list_contacts()
    assert (contact.id, contact.name, contact.phone2) == ("5", "A", "")


_VALUES = st.one_of(st.text(max_size=5), st.integers(), st.none(), st.booleans(), st.floats())
_ENTRIES = st.lists(
    st.dictionaries(st.sampled_from(["id", "name", "phone1", "phone2", "phone3", "x"]), _VALUES),
    max_size=4,
)


@given(
    entries=st.one_of(_ENTRIES, st.dictionaries(st.text(max_size=3), _ENTRIES, max_size=2)),
    success=st.sampled_from([True, False, None, "yes"]),
)
def test_a_contact_list_is_read_as_the_tolerant_reader_reads_it(entries, success) -> None:
    # Answers as documented are decoded straight into contacts; whatever the answer, the
    # contacts (or the error) are those the field-by-field reader gives.
    body = {"response": entries} if success is None else {"success": success, "response": entries}
    response = httpx.Response(200, content=json.dumps(body).encode())
    try:
        expected: object = contacts_from(json.loads(response.content), LIST_CONTACTS)
    except BadResponse as exc:
        expected = str(exc)
    if success is False:
        with pytest.raises(Rejected):
            contacts_of(response, "GET", LIST_CONTACTS)
        return
    try:
        read: object = contacts_of(response, "GET", LIST_CONTACTS)
    except BadResponse as exc:
        read = str(exc)
    assert read == expected


def test_answered_calls_keyed_by_call_id_are_a_sorted_list() -> None:
    calls = {
        "b": {"call_id": "b", "caller": "1", "callee": "2", "direction": "IN",
              "disposition": "ANSWERED", "date": "2025-10-08 13:46:54", "duration": "10"},
        "a": {"call_id": "a", "caller": "1", "callee": "2", "direction": "OUT",
              "disposition": "ANSWERED", "date": "2025-10-08 13:34:11", "duration": "41"},
    }  # fmt: skip
    answer = httpx.Response(200, json={"success": True, "response": calls})
    found = make_client(Recorder(answer)).answered_calls(
        "1009", "2025-10-08 00:00", "2025-10-08 23:59"
    )
    assert [c.call_id for c in found] == ["a", "b"]


def test_recording_that_is_not_audio_is_refused() -> None:
    answer = httpx.Response(200, json={"success": True, "response": "OK"})
    with pytest.raises(BadResponse, match="not WAV audio"):
        make_client(Recorder(answer)).call_recording("x")


def test_password_and_token_never_show_in_repr_or_errors() -> None:
    client = make_client(Recorder(httpx.Response(500, text="boom")))
    with pytest.raises(ServerError) as info:
        client.list_contacts()
    for text in (repr(client), str(info.value), repr(info.value), str(vars(info.value))):
        assert "s3cret-pw" not in text
        assert "tok-1" not in text


def test_login_refusal_names_the_user_but_not_the_password() -> None:
    client = make_client(
        Recorder(login=httpx.Response(401, json={"message": "Invalid credentials"}))
    )
    with pytest.raises(Unauthorized) as info:
        client.list_contacts()
    assert "demo" in str(info.value)
    assert "s3cret-pw" not in str(info.value)
