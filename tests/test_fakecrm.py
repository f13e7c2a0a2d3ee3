"""Self-tests of the fake CRMs (tests/fakecrm), with plain httpx over loopback.

Each vendor gets a small driver that speaks its documented protocol (auth, first page,
next page, where the records are); the tests then check every fake the same way: auth is
refused without a token, the pages chain to the end and hand out every contact once,
each fault knob fires once on the page it names, tokens expire and renew, page-size
limits hold, and the log never holds a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
import pytest
from fakecrm.base import Expected, Faults
from fakecrm.fixtures import (  # noqa: F401  (fixtures, reached by name)
    Served,
    dynamics,
    fake_crm,
    hubspot,
    pipedrive,
    salesforce,
    zoho,
)
from fakecrm.people import make_people

PAGE = 5
CONTACTS = 23  # five pages of five, the last short


class Driver:
    """How a client talks to one vendor; subclasses fill in the protocol."""

    fixture = ""
    oauth = False

    def headers(self, served: Served[Any], client: httpx.Client) -> dict[str, str]:
        raise NotImplementedError

    def first(self, served: Served[Any], client: httpx.Client) -> httpx.Response:
        raise NotImplementedError

    def next(
        self, served: Served[Any], client: httpx.Client, response: httpx.Response
    ) -> httpx.Response | None:
        raise NotImplementedError

    def rows(self, response: httpx.Response) -> list[dict[str, Any]]:
        raise NotImplementedError

    def shown(self, row: dict[str, Any]) -> Expected:
        raise NotImplementedError

    def refused(self, response: httpx.Response) -> bool:
        """Whether ``response`` is the vendor's answer to missing or bad credentials."""
        raise NotImplementedError

    def slowed(self, response: httpx.Response) -> bool:
        """Whether ``response`` is the vendor's "too many requests" answer."""
        return response.status_code == 429 and response.headers.get("retry-after") == "1"


class HubSpotDriver(Driver):
    fixture = "hubspot"
    path = "/crm/v3/objects/contacts"
    params: ClassVar[dict[str, str]] = {
        "limit": str(PAGE),
        "properties": "firstname,lastname,company,phone,mobilephone",
    }

    def headers(self, served: Served[Any], client: httpx.Client) -> dict[str, str]:
        return {"Authorization": f"Bearer {served.fake.token}"}

    def first(self, served: Served[Any], client: httpx.Client) -> httpx.Response:
        return client.get(served.url + self.path, params=self.params)

    def next(
        self, served: Served[Any], client: httpx.Client, response: httpx.Response
    ) -> httpx.Response | None:
        after = response.json().get("paging", {}).get("next", {}).get("after")
        if after is None:
            return None
        return client.get(served.url + self.path, params={**self.params, "after": after})

    def rows(self, response: httpx.Response) -> list[dict[str, Any]]:
        return response.json()["results"]

    def shown(self, row: dict[str, Any]) -> Expected:
        props = row["properties"]
        name = " ".join(p for p in (props["firstname"], props["lastname"]) if p)
        phones = tuple(props[k] for k in ("phone", "mobilephone") if props[k])
        return Expected(row["id"], name or props["company"], phones)

    def refused(self, response: httpx.Response) -> bool:
        body = response.json()
        return response.status_code == 401 and body["category"].endswith("_AUTHENTICATION")

    def slowed(self, response: httpx.Response) -> bool:
        body = response.json()
        return super().slowed(response) and body["policyName"] == "SECONDLY"


class PipedriveDriver(Driver):
    fixture = "pipedrive"
    path = "/api/v2/persons"

    def headers(self, served: Served[Any], client: httpx.Client) -> dict[str, str]:
        return {"x-api-token": served.fake.token}

    def first(self, served: Served[Any], client: httpx.Client) -> httpx.Response:
        return client.get(served.url + self.path, params={"limit": PAGE})

    def next(
        self, served: Served[Any], client: httpx.Client, response: httpx.Response
    ) -> httpx.Response | None:
        cursor = response.json()["additional_data"]["next_cursor"]
        if cursor is None:
            return None
        return client.get(served.url + self.path, params={"limit": PAGE, "cursor": cursor})

    def rows(self, response: httpx.Response) -> list[dict[str, Any]]:
        return response.json()["data"]

    def shown(self, row: dict[str, Any]) -> Expected:
        return Expected(str(row["id"]), row["name"], tuple(p["value"] for p in row["phones"]))

    def refused(self, response: httpx.Response) -> bool:
        body = response.json()
        return response.status_code == 401 and body == {
            "success": False,
            "error": "unauthorized access",
            "errorCode": 401,
            "error_info": body["error_info"],
        }

    def slowed(self, response: httpx.Response) -> bool:
        return super().slowed(response) and response.headers["x-ratelimit-remaining"] == "0"


ZOHO_FIELDS = "First_Name,Last_Name,Account_Name,Phone,Mobile,Home_Phone,Other_Phone"


class ZohoDriver(Driver):
    fixture = "zoho"
    oauth = True
    path = "/crm/v7/Contacts"

    def headers(self, served: Served[Any], client: httpx.Client) -> dict[str, str]:
        fake = served.fake
        answer = client.post(
            served.url + "/oauth/v2/token",
            params={
                "refresh_token": fake.refresh_token,
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
                "grant_type": "refresh_token",
            },
        ).json()
        assert answer["api_domain"] == served.url
        return {"Authorization": f"Zoho-oauthtoken {answer['access_token']}"}

    def _get(self, served: Served[Any], client: httpx.Client, page: int) -> httpx.Response:
        params = {"fields": ZOHO_FIELDS, "per_page": PAGE, "page": page}
        return client.get(served.url + self.path, params=params)

    def first(self, served: Served[Any], client: httpx.Client) -> httpx.Response:
        return self._get(served, client, 1)

    def next(
        self, served: Served[Any], client: httpx.Client, response: httpx.Response
    ) -> httpx.Response | None:
        info = response.json()["info"]
        if not info["more_records"]:
            return None
        if info["next_page_token"] and served.fake.faults.repeat_cursor_on_page is not None:
            params = {
                "fields": ZOHO_FIELDS,
                "per_page": PAGE,
                "page_token": info["next_page_token"],
            }
            return client.get(served.url + self.path, params=params)
        return self._get(served, client, info["page"] + 1)

    def rows(self, response: httpx.Response) -> list[dict[str, Any]]:
        return response.json()["data"]

    def shown(self, row: dict[str, Any]) -> Expected:
        name = " ".join(p for p in (row["First_Name"], row["Last_Name"]) if p)
        phones = tuple(row[f] for f in ZOHO_FIELDS.split(",")[3:] if row[f])
        return Expected(row["id"], name, phones)

    def refused(self, response: httpx.Response) -> bool:
        body = response.json()
        return (
            response.status_code == 401
            and body["status"] == "error"
            and body["code"] in ("AUTHENTICATION_FAILURE", "INVALID_TOKEN")
        )


SOQL = "SELECT Id, Name, Phone, MobilePhone, HomePhone, OtherPhone, Account.Name FROM Contact"


class SalesforceDriver(Driver):
    fixture = "salesforce"
    oauth = True

    def headers(self, served: Served[Any], client: httpx.Client) -> dict[str, str]:
        fake = served.fake
        data = {
            "grant_type": "client_credentials",
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
        }
        answer = client.post(served.url + "/services/oauth2/token", data=data).json()
        assert answer["instance_url"] == served.url
        return {"Authorization": f"Bearer {answer['access_token']}"}

    def first(self, served: Served[Any], client: httpx.Client) -> httpx.Response:
        return client.get(served.url + "/services/data/v60.0/query", params={"q": SOQL})

    def next(
        self, served: Served[Any], client: httpx.Client, response: httpx.Response
    ) -> httpx.Response | None:
        body = response.json()
        return None if body["done"] else client.get(served.url + body["nextRecordsUrl"])

    def rows(self, response: httpx.Response) -> list[dict[str, Any]]:
        return response.json()["records"]

    def shown(self, row: dict[str, Any]) -> Expected:
        fields = ("Phone", "MobilePhone", "HomePhone", "OtherPhone")
        name = row["Name"] or (row["Account"] or {}).get("Name")
        return Expected(row["Id"], name, tuple(row[f] for f in fields if row[f]))

    def refused(self, response: httpx.Response) -> bool:
        return response.status_code == 401 and response.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]

    def slowed(self, response: httpx.Response) -> bool:
        body = response.json()
        return (
            response.status_code == 403
            and body[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
            and "retry-after" not in response.headers
        )


DATAVERSE_SELECT = "fullname,telephone1,telephone2,telephone3,mobilephone"


class DynamicsDriver(Driver):
    fixture = "dynamics"
    oauth = True

    def headers(self, served: Served[Any], client: httpx.Client) -> dict[str, str]:
        fake = served.fake
        data = {
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "grant_type": "client_credentials",
            "scope": f"{served.url}/.default",
        }
        answer = client.post(f"{served.url}/{fake.tenant}/oauth2/v2.0/token", data=data).json()
        return {
            "Authorization": f"Bearer {answer['access_token']}",
            "Prefer": f"odata.maxpagesize={PAGE}",
            "OData-Version": "4.0",
        }

    def first(self, served: Served[Any], client: httpx.Client) -> httpx.Response:
        return client.get(served.url + "/api/data/v9.2/contacts?$select=" + DATAVERSE_SELECT)

    def next(
        self, served: Served[Any], client: httpx.Client, response: httpx.Response
    ) -> httpx.Response | None:
        link = response.json().get("@odata.nextLink")
        return None if link is None else client.get(link)

    def rows(self, response: httpx.Response) -> list[dict[str, Any]]:
        return response.json()["value"]

    def shown(self, row: dict[str, Any]) -> Expected:
        phones = tuple(row[c] for c in DATAVERSE_SELECT.split(",")[1:] if row[c])
        return Expected(row["contactid"], row["fullname"], phones)

    def refused(self, response: httpx.Response) -> bool:
        challenge = response.headers.get("www-authenticate", "")
        return response.status_code == 401 and challenge.startswith("Bearer authorization_uri=")


DRIVERS = [HubSpotDriver(), PipedriveDriver(), ZohoDriver(), SalesforceDriver(), DynamicsDriver()]
by_vendor = pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.fixture)


def serve(request: pytest.FixtureRequest, driver: Driver, **options: Any) -> Served[Any]:
    start: Callable[..., Served[Any]] = request.getfixturevalue(driver.fixture)
    options.setdefault("contacts", CONTACTS)
    if driver.fixture == "salesforce":
        options.setdefault("batch_size", PAGE)
    return start(**options)


@contextmanager
def connect(served: Served[Any], driver: Driver) -> Iterator[httpx.Client]:
    """A client holding the vendor's credentials (fetched from its token endpoint)."""
    with httpx.Client(timeout=10) as client:
        client.headers.update(driver.headers(served, client))
        yield client


def start(request: pytest.FixtureRequest, vendor: str, *args: Any, **options: Any) -> Any:
    """Serve one vendor's fake through its fixture."""
    return request.getfixturevalue(vendor)(*args, **options)


def read_all(served: Served[Any], driver: Driver, client: httpx.Client) -> list[httpx.Response]:
    pages = []
    response: httpx.Response | None = driver.first(served, client)
    while response is not None:
        assert response.status_code == 200, response.text
        pages.append(response)
        response = driver.next(served, client, response)
    return pages


@by_vendor
def test_a_request_without_credentials_is_refused_in_the_vendors_words(
    request: pytest.FixtureRequest, driver: Driver
) -> None:
    served = serve(request, driver)
    with httpx.Client(timeout=10) as anonymous:
        assert driver.refused(driver.first(served, anonymous))
        anonymous.headers["Authorization"] = "Bearer not-a-token"
        anonymous.headers["x-api-token"] = "not-a-token"
        assert driver.refused(driver.first(served, anonymous))
    assert all(entry.page is None for entry in served.fake.log)


@by_vendor
def test_the_pages_chain_to_the_end_and_hand_out_every_contact_once(
    request: pytest.FixtureRequest, driver: Driver
) -> None:
    served = serve(request, driver)
    with connect(served, driver) as client:
        pages = read_all(served, driver, client)
    assert len(pages) == 5
    shown = [driver.shown(row) for page in pages for row in driver.rows(page)]
    assert shown == served.fake.expected()
    assert len({contact.key for contact in shown}) == CONTACTS
    assert [entry.page for entry in served.fake.data_requests()] == [1, 2, 3, 4, 5]


@by_vendor
@pytest.mark.parametrize("kind", ["rate_limit", "server_error", "html", "truncated"])
def test_a_page_fault_fires_once_and_the_page_is_served_when_asked_again(
    request: pytest.FixtureRequest, driver: Driver, kind: str
) -> None:
    served = serve(request, driver, faults=Faults(**{f"{kind}_on_page": 2}))
    with connect(served, driver) as client:
        first = driver.first(served, client)
        bad = driver.next(served, client, first)
        good = driver.next(served, client, first)
        assert bad is not None and good is not None
        rest = read_all_from(served, driver, client, good)
    if kind == "rate_limit":
        assert driver.slowed(bad)
    elif kind == "server_error":
        assert bad.status_code == 500 and bad.json()
    elif kind == "html":
        assert bad.status_code == 200 and bad.headers["content-type"].startswith("text/html")
        assert "<html" in bad.text
    else:
        assert bad.status_code == 200 and bad.headers["content-type"].startswith("application/json")
        with pytest.raises(json.JSONDecodeError):
            json.loads(bad.text)
    assert good.status_code == 200 and len(driver.rows(good)) == PAGE
    assert len(rest) == 4  # pages 2 to 5, once each after the fault
    faults = [(e.page, e.fault) for e in served.fake.data_requests() if e.fault]
    assert faults == [(2, kind)]


def read_all_from(
    served: Served[Any], driver: Driver, client: httpx.Client, response: httpx.Response
) -> list[httpx.Response]:
    pages = [response]
    following = driver.next(served, client, response)
    while following is not None:
        assert following.status_code == 200
        pages.append(following)
        following = driver.next(served, client, following)
    return pages


@by_vendor
def test_a_repeating_cursor_points_page_two_back_at_itself_once(
    request: pytest.FixtureRequest, driver: Driver
) -> None:
    served = serve(request, driver, faults=Faults(repeat_cursor_on_page=2))
    with connect(served, driver) as client:
        second = driver.next(served, client, driver.first(served, client))
        assert second is not None
        again = driver.next(served, client, second)
        assert again is not None
    assert driver.rows(again) == driver.rows(second)
    pages = [entry.page for entry in served.fake.data_requests()]
    assert pages == [1, 2, 2]
    assert [e.fault for e in served.fake.data_requests()] == [None, "repeat_cursor", None]


@by_vendor
def test_an_access_token_stops_working_after_n_requests(
    request: pytest.FixtureRequest, driver: Driver
) -> None:
    served = serve(request, driver, faults=Faults(token_expires_after=2))
    with connect(served, driver) as client:
        first = driver.first(served, client)
        second = driver.next(served, client, first)
        assert second is not None
        expired = driver.next(served, client, second)
        assert first.status_code == second.status_code == 200
        assert expired is not None and driver.refused(expired)
        if driver.oauth:  # a fresh token from the token endpoint is accepted
            client.headers.update(driver.headers(served, client))
            renewed = driver.next(served, client, second)
            assert renewed is not None and renewed.status_code == 200
            assert served.fake.log[-1].token == served.fake.tokens_issued
        else:  # a static token stays refused
            again = driver.next(served, client, second)
            assert again is not None and driver.refused(again)


@by_vendor
def test_the_log_masks_every_secret(request: pytest.FixtureRequest, driver: Driver) -> None:
    served = serve(request, driver, faults=Faults(token_expires_after=1))
    with connect(served, driver) as client:
        driver.first(served, client)
        driver.headers(served, client)
    secrets = [value for key, value in served.settings.items() if key in SECRET_KEYS]
    secrets += list(served.fake._tokens)
    text = repr(served.fake.log)
    assert secrets and not [secret for secret in secrets if secret in text]
    assert "***" in text


SECRET_KEYS = {"token", "client_secret", "refresh_token"}


def test_hubspot_refuses_a_limit_above_100_and_parameters_outside_its_docs(
    request: pytest.FixtureRequest,
) -> None:
    served = start(request, "hubspot", 3)
    headers = {"Authorization": f"Bearer {served.fake.token}"}
    url = served.url + "/crm/v3/objects/contacts"
    too_big = httpx.get(url, params={"limit": 101}, headers=headers)
    assert too_big.status_code == 400 and too_big.json()["category"] == "VALIDATION_ERROR"
    odd = httpx.get(url, params={"page": 2}, headers=headers)
    assert odd.status_code == 400 and "page" in odd.json()["message"]
    default = httpx.get(url, headers=headers).json()["results"][0]["properties"]
    assert set(default) == {"firstname", "lastname", "email", *ALWAYS_HUBSPOT}


ALWAYS_HUBSPOT = {"createdate", "hs_object_id", "lastmodifieddate"}


def test_hubspot_returns_null_for_a_requested_property_a_contact_lacks(
    request: pytest.FixtureRequest,
) -> None:
    served = start(request, "hubspot", 3)
    answer = httpx.get(
        served.url + "/crm/v3/objects/contacts",
        params={"properties": "firstname,lastname,company,phone,mobilephone,nosuchthing"},
        headers={"Authorization": f"Bearer {served.fake.token}"},
    ).json()
    company_only = answer["results"][2]["properties"]
    assert company_only["firstname"] is None and company_only["phone"] is None
    assert company_only["company"] == "Brightwater Plumbing Ltd"
    assert "nosuchthing" not in company_only
    assert "paging" not in answer


def test_pipedrive_allows_500_a_page_and_refuses_501(request: pytest.FixtureRequest) -> None:
    served = start(request, "pipedrive", 3)
    headers = {"x-api-token": served.fake.token}
    url = served.url + "/api/v2/persons"
    assert httpx.get(url, params={"limit": 500}, headers=headers).status_code == 200
    refused = httpx.get(url, params={"limit": 501}, headers=headers)
    assert refused.status_code == 400 and refused.json()["success"] is False
    by_query = httpx.get(url, params={"api_token": served.fake.token})
    assert by_query.status_code == 200 and len(by_query.json()["data"]) == 3


def test_zoho_limits_per_page_to_200_and_page_numbers_to_the_first_2000(
    request: pytest.FixtureRequest,
) -> None:
    served = start(request, "zoho", 3)
    client = httpx.Client(timeout=10)
    client.headers.update(ZohoDriver().headers(served, client))
    url = served.url + "/crm/v7/Contacts"
    too_big = client.get(url, params={"fields": "Last_Name", "per_page": 201})
    assert too_big.status_code == 400 and too_big.json()["code"] == "INVALID_DATA"
    deep = client.get(url, params={"fields": "Last_Name", "per_page": 200, "page": 11})
    assert deep.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    assert client.get(url).json()["code"] == "REQUIRED_PARAM_MISSING"
    past_the_end = client.get(url, params={"fields": "Last_Name", "page": 2})
    assert past_the_end.status_code == 204 and past_the_end.content == b""
    bearer = client.get(url, params={"fields": "Last_Name"}, headers={"Authorization": "Bearer x"})
    assert bearer.json()["code"] == "AUTHENTICATION_FAILURE"


def test_zoho_token_endpoint_answers_failures_with_200_and_an_error(
    request: pytest.FixtureRequest,
) -> None:
    served = start(request, "zoho", 1)
    fake = served.fake
    good = {
        "refresh_token": fake.refresh_token,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "grant_type": "refresh_token",
    }
    url = served.url + "/oauth/v2/token"
    for change, error in [
        ({"refresh_token": "1000.nope"}, "invalid_code"),
        ({"client_id": "1000.NOPE"}, "invalid_client"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ]:
        answer = httpx.post(url, data={**good, **change})
        assert (answer.status_code, answer.json()) == (200, {"error": error})
    assert fake.tokens_issued == 0
    assert httpx.post(url, data=good).json()["token_type"] == "Bearer"


def test_salesforce_batches_honour_the_query_options_header_within_200_to_2000(
    request: pytest.FixtureRequest,
) -> None:
    served = start(request, "salesforce", 450)
    headers = {"Authorization": f"Bearer {served.fake.token}"}
    url = served.url + "/services/data/v60.0/query"
    small = httpx.get(
        url, params={"q": SOQL}, headers={**headers, "Sforce-Query-Options": "batchSize=50"}
    )
    body = small.json()
    assert (len(body["records"]), body["totalSize"], body["done"]) == (200, 450, False)
    assert body["nextRecordsUrl"].endswith("-200")
    whole = httpx.get(url, params={"q": SOQL}, headers=headers).json()
    assert (len(whole["records"]), whole["done"]) == (450, True)
    assert "nextRecordsUrl" not in whole
    limited = httpx.get(url, params={"q": SOQL + " LIMIT 7"}, headers=headers).json()
    assert (limited["totalSize"], len(limited["records"])) == (7, 7)


def test_salesforce_names_a_wrong_field_or_object_and_refuses_the_locator_with_params(
    request: pytest.FixtureRequest,
) -> None:
    served = start(request, "salesforce", 4, batch_size=2)
    headers = {"Authorization": f"Bearer {served.fake.token}"}
    url = served.url + "/services/data/v60.0/query"
    wrong = httpx.get(url, params={"q": "SELECT Id, Fax2 FROM Contact"}, headers=headers)
    assert wrong.status_code == 400 and wrong.json()[0]["errorCode"] == "INVALID_FIELD"
    lead = httpx.get(url, params={"q": "SELECT Id FROM Lead"}, headers=headers)
    assert lead.json()[0]["errorCode"] == "INVALID_TYPE"
    first = httpx.get(url, params={"q": "select id, name from contact"}, headers=headers).json()
    assert set(first["records"][0]) == {"attributes", "Id", "Name"}
    more = httpx.get(served.url + first["nextRecordsUrl"], params={"q": "x"}, headers=headers)
    assert more.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert httpx.get(served.url + "/services/data/v99.0/query", headers=headers).status_code == 404


def test_dynamics_page_size_is_a_preference_that_5000_caps(request: pytest.FixtureRequest) -> None:
    served = start(request, "dynamics", 7)
    client = httpx.Client(timeout=10)
    client.headers.update(DynamicsDriver().headers(served, client))
    url = served.url + "/api/data/v9.2/contacts?$select=fullname"
    capped = client.get(url, headers={"Prefer": "odata.maxpagesize=6000"})
    assert "preference-applied" not in capped.headers
    assert len(capped.json()["value"]) == 7 and "@odata.nextLink" not in capped.json()
    small = client.get(url, headers={"Prefer": "odata.include-annotations=*,odata.maxpagesize=3"})
    assert small.headers["preference-applied"] == "odata.maxpagesize=3"
    row = small.json()["value"][0]
    assert list(row) == ["@odata.etag", "fullname", "contactid"]
    assert small.json()["@odata.context"].endswith("$metadata#contacts(fullname)")
    wrong = client.get(served.url + "/api/data/v9.2/contacts?$select=fullname,phone")
    assert wrong.json()["error"]["code"] == "0x80060888"
    assert client.get(url + "&$skip=3").status_code == 400


def test_dynamics_token_endpoint_checks_tenant_secret_and_scope(
    request: pytest.FixtureRequest,
) -> None:
    served = start(request, "dynamics", 1)
    fake = served.fake
    good = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "grant_type": "client_credentials",
        "scope": f"{served.url}/.default",
    }
    url = f"{served.url}/{fake.tenant}/oauth2/v2.0/token"
    cases = [
        (url, {"client_secret": "wrong"}, 401, "invalid_client"),
        (url, {"scope": served.url}, 400, "invalid_scope"),
        (url, {"scope": "https://other.crm.dynamics.com/.default"}, 400, "invalid_resource"),
        (url.replace(fake.tenant, "common-x"), {}, 400, "invalid_request"),
    ]
    for target, change, status, error in cases:
        answer = httpx.post(target, data={**good, **change})
        assert (answer.status_code, answer.json()["error"]) == (status, error)
        assert answer.json()["error_description"].startswith("AADSTS")
    token = httpx.post(url, data=good).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3599
    assert served.settings["scope"] == good["scope"]


DRAMA = re.compile(r"(?:020 ?7946 ?0\d{3}|07700 ?900\d{3})")


def _national(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return "0" + digits[2:] if digits.startswith("44") else digits


def test_the_book_is_deterministic_and_uses_only_drama_numbers() -> None:
    book = make_people(300, seed=11)
    assert book == make_people(300, seed=11) and book != make_people(300, seed=12)
    numbers = [phone.value for person in book for phone in person.phones]
    assert numbers and all(DRAMA.fullmatch(_national(n)) for n in numbers)
    assert {"+44 20 7946 0123", "07700 900456", "(020) 7946-0999", "+447700900789"} <= set(numbers)
    names = {person.full_name for person in book}
    assert {"Zoë Whitfield", "Siobhán O'Connor"} <= names
    assert any(p.full_name is None and p.company for p in book)
    assert any(not p.phones for p in book) and any(len(p.phones) >= 3 for p in book)


def test_a_vendor_with_two_phone_fields_still_gets_the_several_numbers_person() -> None:
    book = make_people(5, seed=1, kinds=("work", "mobile"))
    assert [len(p.phones) for p in book] == [2, 1, 1, 0, 2]
    assert all(phone.kind in ("work", "mobile") for p in book for phone in p.phones)
