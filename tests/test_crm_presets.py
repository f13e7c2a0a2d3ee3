"""The shipped CRM presets: each validates, says how to get its credentials, is listed and
shown, and reads every page of an answer shaped as its vendor documents it."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.crm.schema import CrmMappingFile, list_crm_presets, load_crm_mapping
from adapters.crm.source import CrmSource
from adapters.mapping import crm_preset_names, file_preset_names, load_mapping, preset_text
from connector.errors import ConfigError, IncompleteRead
from connector.schema import parse_config

PRESETS = ["dynamics", "hubspot", "pipedrive", "salesforce", "zoho"]
Handler = Callable[[httpx.Request], httpx.Response]


def test_the_crm_presets_are_the_five_named() -> None:
    assert crm_preset_names() == PRESETS
    assert not set(PRESETS) & set(file_preset_names())


@pytest.mark.parametrize("name", PRESETS)
def test_each_preset_validates_and_names_its_variables_in_its_description(name: str) -> None:
    settings = parse_config(preset_text(name), CrmMappingFile, origin=name)
    mapping = load_crm_mapping(name)
    assert mapping.variables(), "a preset reads its credentials from the environment"
    for variable in mapping.variables():
        assert variable in (settings.description or "")
    assert "URL:" in (settings.description or "")


@pytest.mark.parametrize("name", PRESETS)
def test_a_crm_preset_is_refused_for_a_file(name: str) -> None:
    with pytest.raises(ConfigError, match=f"preset {name} is a CRM mapping"):
        load_mapping(name)


def test_list_crm_presets_describes_each() -> None:
    assert [name for name, _ in list_crm_presets()] == PRESETS
    assert all(text for _, text in list_crm_presets())


def test_mappings_show_prints_a_crm_preset(run_cli) -> None:
    result = run_cli("mappings", "show", "hubspot")
    assert result.exit_code == 0
    assert result.stdout == preset_text("hubspot")
    assert "${HUBSPOT_TOKEN}" in result.stdout


# -- each preset against its vendor's documented answers -------------------------------------


def read(name: str, url: str, handler: Handler, environ: dict[str, str]) -> CrmSource:
    crm = CrmSource(
        url,
        mapping=name,
        environ=environ,
        transport=httpx.MockTransport(handler),
        sleep=lambda _: None,
        rng=random.Random(1),
    )
    crm.read = list(crm.records())  # type: ignore[attr-defined]
    return crm


def names_and_numbers(crm: CrmSource) -> list[tuple[str, str, list[str]]]:
    return [(r.key, r.name, [p.value for p in r.phones]) for r in crm.read]  # type: ignore[attr-defined]


def test_hubspot() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.headers["authorization"] == "Bearer pat-eu1-secret"
        assert request.url.path == "/crm/v3/objects/contacts"
        params = request.url.params
        assert params["properties"] == "firstname,lastname,company,phone,mobilephone"
        if "after" not in params:
            return httpx.Response(
                200,
                json={
                    "results": [
                        {
                            "id": "51",
                            "properties": {
                                "firstname": "Amelia",
                                "lastname": "Hartley",
                                "company": None,
                                "phone": "0113 496 0101",
                                "mobilephone": None,
                            },
                        }
                    ],
                    "paging": {
                        "next": {"after": "52", "link": "https://api.hubapi.com/x?after=52"}
                    },
                },
            )
        assert params["after"] == "52"
        return httpx.Response(
            200,
            json={
                "results": [
                    {
                        "id": "52",
                        "properties": {
                            "firstname": None,
                            "lastname": None,
                            "company": "Harrow & Pike",
                            "phone": None,
                            "mobilephone": "07700 900052",
                        },
                    }
                ]
            },
        )

    crm = read("hubspot", "https://api.hubapi.com", handler, {"HUBSPOT_TOKEN": "pat-eu1-secret"})
    assert names_and_numbers(crm) == [
        ("51", "Amelia Hartley", ["0113 496 0101"]),
        ("52", "Harrow & Pike", ["07700 900052"]),
    ]
    assert len(seen) == 2


def test_pipedrive() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-api-token"] == "pd-secret"
        assert request.url.path == "/api/v2/persons"
        person = {
            "id": 7,
            "name": "Chidi Okafor",
            "first_name": "Chidi",
            "last_name": "Okafor",
            "update_time": "2024-05-01T10:00:00Z",
            "phones": [
                {"value": "07700 900107", "primary": False, "label": "mobile"},
                {"value": "020 7946 0107", "primary": True, "label": "work"},
            ],
        }
        if "cursor" not in request.url.params:
            return httpx.Response(
                200,
                json={
                    "success": True,
                    "data": [person],
                    "additional_data": {"next_cursor": "eyJpZCI6N30"},
                },
            )
        return httpx.Response(
            200,
            json={
                "success": True,
                "data": [dict(person, id=8)],
                "additional_data": {"next_cursor": None},
            },
        )

    crm = read(
        "pipedrive", "https://acme.pipedrive.com", handler, {"PIPEDRIVE_API_TOKEN": "pd-secret"}
    )
    rows = names_and_numbers(crm)
    assert rows[0] == ("7", "Chidi Okafor", ["020 7946 0107", "07700 900107"])
    assert [r[0] for r in rows] == ["7", "8"]
    assert crm.read[0].phones[0].label == "work"  # type: ignore[attr-defined]


ZOHO_ENV = {
    "ZOHO_CLIENT_ID": "1000.CID",
    "ZOHO_CLIENT_SECRET": "zs-secret",
    "ZOHO_REFRESH_TOKEN": "1000.rt-secret",
    "ZOHO_ACCOUNTS_URL": "http://127.0.0.1:1",
}


@pytest.mark.parametrize("tokens", [False, True], ids=["page-numbers", "page-tokens"])
def test_zoho_fetches_a_token_from_the_accounts_server_it_is_given(tokens: bool) -> None:
    asked: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "127.0.0.1":
            assert request.url.path == "/oauth/v2/token"
            assert request.url.params["grant_type"] == "refresh_token"
            assert request.url.params["refresh_token"] == "1000.rt-secret"
            return httpx.Response(
                200,
                json={
                    "access_token": "1000.at",
                    "expires_in": 3600,
                    "api_domain": "https://www.zohoapis.eu",
                },
            )
        assert request.headers["authorization"] == "Zoho-oauthtoken 1000.at"
        assert request.url.path == "/crm/v8/Contacts"
        assert "Phone" in request.url.params["fields"].split(",")
        params = dict(request.url.params)
        asked.append({k: v for k, v in params.items() if k in ("page", "page_token")})
        page = int(params["page_token"][1:]) if "page_token" in params else int(params["page"])
        record = {
            "id": f"55{page}",
            "First_Name": "Siobhan",
            "Last_Name": "Murphy",
            "Full_Name": "Siobhan Murphy",
            "Account_Name": {"name": "Acme", "id": "9"},
            "Phone": "0117 496 0155",
            "Mobile": None,
        }
        return httpx.Response(
            200,
            json={
                "data": [record],
                "info": {
                    "per_page": 1,
                    "count": 1,
                    "page": page,
                    "more_records": page < 3,
                    **({"next_page_token": f"p{page + 1}" if page < 3 else None} if tokens else {}),
                },
            },
        )

    crm = read("zoho", "https://www.zohoapis.eu", handler, ZOHO_ENV)
    assert [r[0] for r in names_and_numbers(crm)] == ["551", "552", "553"]
    # Page numbers, or (Zoho's numbers stop at 2,000 records) the token it gives instead.
    if tokens:
        assert asked == [{"page": "1"}, {"page_token": "p2"}, {"page_token": "p3"}]
    else:
        assert asked == [{"page": "1"}, {"page": "2"}, {"page": "3"}]


def test_zoho_no_content_is_an_empty_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "127.0.0.1":
            return httpx.Response(200, json={"access_token": "1000.at", "expires_in": 3600})
        return httpx.Response(204)

    assert read("zoho", "https://www.zohoapis.eu", handler, ZOHO_ENV).read == []  # type: ignore[attr-defined]


def test_salesforce_follows_next_records_url_and_waits_out_the_limit_answer() -> None:
    sleeps: list[float] = []
    answers = iter([None, "limit", None])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer 00D-secret"
        if request.url.path == "/services/data/v62.0/query":
            assert request.url.params["q"].startswith("SELECT Id, Name, Phone, MobilePhone")
            return httpx.Response(
                200,
                json={
                    "totalSize": 2,
                    "done": False,
                    "nextRecordsUrl": "/services/data/v62.0/query/01gD0000002HU6KIAW-2000",
                    "records": [
                        {
                            "attributes": {"type": "Contact"},
                            "Id": "0031",
                            "Name": "Rajesh Patel",
                            "Phone": "0121 496 0131",
                            "MobilePhone": None,
                            "HomePhone": None,
                            "OtherPhone": None,
                            "Account": {"Name": "Acme"},
                        }
                    ],
                },
            )
        assert request.url.path == "/services/data/v62.0/query/01gD0000002HU6KIAW-2000"
        if next(answers) == "limit":
            return httpx.Response(
                403,
                json=[
                    {
                        "message": "TotalRequests Limit exceeded.",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
            )
        return httpx.Response(
            200,
            json={
                "totalSize": 2,
                "done": True,
                "records": [
                    {
                        "attributes": {"type": "Contact"},
                        "Id": "0032",
                        "Name": None,
                        "Phone": None,
                        "MobilePhone": "07700 900132",
                        "HomePhone": None,
                        "OtherPhone": None,
                        "Account": {"Name": "Harrow & Pike"},
                    }
                ],
            },
        )

    next(answers)
    crm = CrmSource(
        "https://acme.my.salesforce.com",
        mapping="salesforce",
        environ={"SALESFORCE_TOKEN": "00D-secret"},
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
    )
    rows = [(r.key, r.name, [p.value for p in r.phones]) for r in crm.records()]
    assert rows == [
        ("0031", "Rajesh Patel", ["0121 496 0131"]),
        ("0032", "Harrow & Pike", ["07700 900132"]),
    ]
    assert sleeps == [10.0]


def test_dynamics_uses_client_credentials_and_the_odata_next_link() -> None:
    env = {
        "DYNAMICS_TENANT_ID": "tenant-1",
        "DYNAMICS_CLIENT_ID": "app-1",
        "DYNAMICS_CLIENT_SECRET": "dyn-secret",
        "DYNAMICS_URL": "https://acme.crm11.dynamics.com",
        "DYNAMICS_LOGIN_URL": "http://127.0.0.1:1",
    }
    org = "https://acme.crm11.dynamics.com"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "127.0.0.1":
            assert request.url.path == "/tenant-1/oauth2/v2.0/token"
            form = dict(httpx.QueryParams(request.content.decode()))
            assert form["grant_type"] == "client_credentials"
            assert form["scope"] == f"{org}/.default"
            return httpx.Response(
                200, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0-dyn"}
            )
        assert request.headers["authorization"] == "Bearer eyJ0-dyn"
        assert request.headers["prefer"] == "odata.maxpagesize=500"
        if "$skiptoken" not in request.url.params:
            assert request.url.params["$select"] == (
                "fullname,telephone1,telephone2,telephone3,mobilephone"
            )
            return httpx.Response(
                200,
                json={
                    "@odata.context": f"{org}/api/data/v9.2/$metadata#contacts",
                    "value": [
                        {
                            "@odata.etag": 'W/"1"',
                            "fullname": "Emily Dawson",
                            "telephone1": "0117 496 0141",
                            "mobilephone": None,
                            "contactid": "49b0be2e",
                        }
                    ],
                    "@odata.nextLink": f"{org}/api/data/v9.2/contacts?$select=fullname"
                    "&$skiptoken=%3Ccookie%3E",
                },
            )
        return httpx.Response(
            200,
            json={
                "value": [
                    {
                        "fullname": "Ruth Ashworth",
                        "telephone1": None,
                        "mobilephone": "07700 900142",
                        "contactid": "70bf4d48",
                    }
                ]
            },
        )

    crm = read("dynamics", org, handler, env)
    assert names_and_numbers(crm) == [
        ("49b0be2e", "Emily Dawson", ["0117 496 0141"]),
        ("70bf4d48", "Ruth Ashworth", ["07700 900142"]),
    ]


def test_a_preset_without_its_variables_says_which_before_any_request() -> None:
    def never(request: httpx.Request) -> Any:
        raise AssertionError("no request")

    with pytest.raises(ConfigError) as caught:
        CrmSource(
            "https://www.zohoapis.eu",
            mapping="zoho",
            environ={},
            transport=httpx.MockTransport(never),
        )
    assert str(caught.value) == (
        "preset zoho:15: client.auth.client_id: environment variable ZOHO_CLIENT_ID is not set "
        "(or write ${ZOHO_CLIENT_ID:-default}); also not set: ZOHO_CLIENT_SECRET, "
        "ZOHO_REFRESH_TOKEN"
    )


def test_a_refused_hubspot_token_names_the_variable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"status": "error", "category": "INVALID_AUTHENTICATION"})

    with pytest.raises(IncompleteRead) as caught:
        read("hubspot", "https://api.hubapi.com", handler, {"HUBSPOT_TOKEN": "pat-bad-secret"})
    assert str(caught.value).endswith("the credentials were refused; check HUBSPOT_TOKEN")
    assert "pat-bad-secret" not in str(caught.value)
