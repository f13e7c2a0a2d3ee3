"""A fake Salesforce org: Contacts through the REST API's SOQL query resource.

Follows (Salesforce REST API Developer Guide):
- "Query" (``GET /services/data/vXX.X/query?q=<SOQL>``, ``Authorization: Bearer``):
  ``{"totalSize", "done", "nextRecordsUrl", "records"}``; up to 2,000 records a batch,
  possibly fewer; ``nextRecordsUrl`` only while ``done`` is false.
- "Execute a SOQL Query" / "Query More Results": ``nextRecordsUrl`` looks like
  ``/services/data/v68.0/query/01gD0000002HU6KIAW-2000`` and is requested with no
  parameters; each record carries ``attributes: {"type", "url"}``, a parent relationship
  (``Account.Name``) comes back as a nested ``{"attributes", "Name"}`` or ``null``.
- "Query Options Header" (``Sforce-Query-Options: batchSize=N``, 200 to 2,000, not
  guaranteed) and "Limit Info Header" (``Sforce-Limit-Info: api-usage=n/15000``).
- "Status Codes and Error Responses": errors are a JSON list of
  ``{"errorCode", "message"}``: 401 ``INVALID_SESSION_ID`` "Session expired or invalid",
  400 ``MALFORMED_QUERY`` / ``INVALID_FIELD`` / ``INVALID_TYPE`` /
  ``INVALID_QUERY_LOCATOR``, 403 ``REQUEST_LIMIT_EXCEEDED`` (the org's API request limit:
  Salesforce's throttling answer, with no ``Retry-After``), 404 ``NOT_FOUND``,
  500 ``UNKNOWN_EXCEPTION``.
- OAuth 2.0 "Client Credentials Flow" and "Refresh Token Flow"
  (``POST /services/oauth2/token``): ``{"access_token", "signature", "scope",
  "instance_url", "id", "token_type": "Bearer", "issued_at"}``; 400 with
  ``{"error", "error_description"}`` (``invalid_client_id``, ``invalid_client``,
  ``invalid_grant``, ``unsupported_grant_type``).

Simplifies: SOQL is only ``SELECT <fields> FROM Contact [LIMIT n]`` (no WHERE/ORDER BY:
``MALFORMED_QUERY``); fields come back under their API names whatever case the query
used; the known Contact fields are ``Id``, ``Name``, ``FirstName``, ``LastName``,
``Phone``, ``MobilePhone``, ``HomePhone``, ``OtherPhone``, ``Email``, ``Title``,
``AccountId``, ``Account.Name``, ``CreatedDate``, ``LastModifiedDate``. The server's
batch size is a constructor knob (``batch_size``, default 2,000) standing in for "the
returned batch can include fewer records", so small data sets span pages. A company-only
contact has the company as its (mandatory) ``LastName``. :attr:`token` is a session id
issued up front, for a preset that takes a bearer token from the environment; the
``token_expires_after`` fault applies to every token.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakecrm.base import Context, Expected, FakeCRM, Faults, request_fields

QUERY_PATH = "/services/data/{version}/query"
MORE_PATH = "/services/data/{version}/query/{locator}"
TOKEN_PATH = "/services/oauth2/token"
MIN_BATCH, MAX_BATCH = 200, 2000
FIELDS = (
    "Id", "Name", "FirstName", "LastName", "Phone", "MobilePhone", "HomePhone", "OtherPhone",
    "Email", "Title", "AccountId", "Account.Name", "CreatedDate", "LastModifiedDate",
)  # fmt: skip
PHONE_FIELDS = {
    "work": "Phone",
    "mobile": "MobilePhone",
    "home": "HomePhone",
    "other": "OtherPhone",
}
SOQL = re.compile(
    r"\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)(?P<rest>.*?)\s*", re.I | re.S
)
LIMIT = re.compile(r"\s+LIMIT\s+(\d+)", re.I)
EPOCH = datetime(2023, 11, 20, 14, 5, tzinfo=timezone.utc)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _sf_id(prefix: str, number: int) -> str:
    return f"{prefix}8d000000{number:05d}AAA"[:18].ljust(18, "A")


class FakeSalesforce(FakeCRM):
    """A Salesforce org's Contacts. Instance URL: the server URL.

    Auth: ``Authorization: Bearer <token>`` with :attr:`token`, or a token from
    ``POST /services/oauth2/token`` (client credentials with :attr:`client_id` and
    :attr:`client_secret`, or ``grant_type=refresh_token`` with :attr:`refresh_token`).
    """

    vendor = "salesforce"
    token_prefix = "00D8d000000FAKE!AQ"
    login_title = "Login | Salesforce"

    def __init__(
        self,
        contacts: int = 25,
        *,
        seed: int = 1,
        faults: Faults | None = None,
        batch_size: int = MAX_BATCH,
    ):
        super().__init__(contacts, seed=seed, faults=faults)
        digest = hashlib.sha256(f"salesforce-client:{seed}".encode()).hexdigest()
        self.client_id = f"3MVG9{digest[:40]}"
        self.client_secret = digest[40:64].upper()
        self.refresh_token = f"5Aep861{digest[:48]}"
        self.batch_size = batch_size
        self.token = self.issue_token()
        self._queries: dict[str, tuple[list[str], int]] = {}
        self._api_usage = 0
        companies = sorted({person.company for person in self.people if person.company})
        self._account_ids = {c: _sf_id("001", n + 1) for n, c in enumerate(companies)}
        self.records = [self._record(person.index) for person in self.people]

    def routes(self) -> list[BaseRoute]:
        return [
            Route(QUERY_PATH, self.logged(self.query), methods=["GET"]),
            Route(MORE_PATH, self.logged(self.query_more), methods=["GET"]),
            Route(TOKEN_PATH, self.logged(self.oauth_token), methods=["POST"]),
        ]

    def _record(self, index: int) -> dict[str, Any]:
        person = self.people[index]
        last = person.last or person.company
        phones = {PHONE_FIELDS[phone.kind]: phone.value for phone in person.phones}
        created = EPOCH + timedelta(hours=5 * index)
        return {
            "Id": _sf_id("003", index + 1),
            "Name": " ".join(p for p in (person.first, last) if p),
            "FirstName": person.first,
            "LastName": last,
            **{name: phones.get(name) for name in PHONE_FIELDS.values()},
            "Email": person.email,
            "Title": None,
            "AccountId": self._account_ids.get(person.company or ""),
            "Account.Name": person.company,
            "CreatedDate": _stamp(created),
            "LastModifiedDate": _stamp(created + timedelta(days=3)),
        }

    def expected(self) -> list[Expected]:
        """Name: ``Name``, else ``Account.Name``. Phones: Phone, MobilePhone, HomePhone,
        OtherPhone."""
        return [
            Expected(
                r["Id"],
                r["Name"] or r["Account.Name"],
                tuple(r[f] for f in PHONE_FIELDS.values() if r[f]),
            )
            for r in self.records
        ]

    # -- answers ---------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self._api_usage}/15000"}

    def _error(self, status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse([{"message": message, "errorCode": code}], status, self._headers())

    def rate_limited(self) -> Response:
        return self._error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")

    def server_error(self) -> Response:
        return self._error(
            500,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact "
            "support: 1234567890-12345 (-1234567890)",
        )

    def not_found(self) -> Response:
        return self._error(404, "NOT_FOUND", "The requested resource does not exist")

    # -- OAuth -----------------------------------------------------------------------

    async def oauth_token(self, request: Request, ctx: Context) -> Response:
        """Client-credentials and refresh-token grants."""
        fields = request_fields(request, ctx)

        def refuse(error: str, description: str) -> JSONResponse:
            return JSONResponse({"error": error, "error_description": description}, 400)

        grant = fields.get("grant_type")
        if grant not in ("client_credentials", "refresh_token"):
            return refuse("unsupported_grant_type", "grant type not supported")
        if fields.get("client_id") != self.client_id:
            return refuse("invalid_client_id", "client identifier invalid")
        if fields.get("client_secret") != self.client_secret:
            return refuse("invalid_client", "invalid client credentials")
        if grant == "refresh_token" and fields.get("refresh_token") != self.refresh_token:
            return refuse("invalid_grant", "expired access/refresh token")
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "access_token": self.issue_token(),
                "signature": hashlib.sha256(base.encode()).hexdigest()[:43] + "=",
                "scope": "api",
                "instance_url": base,
                "id": f"{base}/id/00D8d000000FAKEEAA/0058d000000FAKEAAA",
                "token_type": "Bearer",
                "issued_at": "1700000000000",
            }
        )

    # -- queries ---------------------------------------------------------------------

    def _authorised(self, request: Request, version: str, ctx: Context) -> Response | None:
        if not re.fullmatch(r"v\d{2}\.0", version) or not 20 <= int(version[1:3]) <= 66:
            return self.not_found()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        known = scheme in ("Bearer", "OAuth") and self.check_token(token.strip(), ctx) == "ok"
        if not known:
            return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        self._api_usage += 1
        return None

    def _batch(self, request: Request) -> int:
        option = request.headers.get("sforce-query-options", "")
        match = re.search(r"batchSize\s*=\s*(\d+)", option)
        asked = min(max(int(match.group(1)), MIN_BATCH), MAX_BATCH) if match else MAX_BATCH
        return min(asked, self.batch_size)

    async def query(self, request: Request, ctx: Context) -> Response:
        version = request.path_params["version"]
        refused = self._authorised(request, version, ctx)
        if refused is not None:
            return refused
        extra = sorted(set(request.query_params.keys()) - {"q"})
        if extra:
            return self._error(400, "MALFORMED_QUERY", f"fakecrm: unknown parameter {extra[0]}")
        soql = request.query_params.get("q")
        if not soql:
            return self._error(400, "MALFORMED_QUERY", "A query string has to be specified")
        parsed = self._parse(soql)
        if isinstance(parsed, Response):
            return parsed
        fields, limit = parsed
        locator = (
            "01g8d"
            + hashlib.sha256(f"{soql}:{len(self._queries)}".encode()).hexdigest()[:10].upper()
            + "AAA"
        )
        self._queries[locator] = (fields, limit)
        return self._page(request, ctx, version, locator, 0)

    async def query_more(self, request: Request, ctx: Context) -> Response:
        version = request.path_params["version"]
        refused = self._authorised(request, version, ctx)
        if refused is not None:
            return refused
        locator, _, offset = request.path_params["locator"].rpartition("-")
        if locator not in self._queries or not offset.isdigit() or request.query_params:
            return self._error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(request, ctx, version, locator, int(offset))

    def _parse(self, soql: str) -> tuple[list[str], int] | Response:
        match = SOQL.fullmatch(soql)
        if not match:
            return self._error(400, "MALFORMED_QUERY", f"unexpected token: '{soql.split()[0]}'")
        if match["object"].lower() != "contact":
            return self._error(
                400, "INVALID_TYPE",
                f"sObject type '{match['object']}' is not supported. If you are attempting to "
                "use a custom object, be sure to append the '__c' after the entity name.",
            )  # fmt: skip
        rest = match["rest"]
        limit_match = LIMIT.fullmatch(rest) if rest.strip() else None
        if rest.strip() and not limit_match:
            return self._error(
                400, "MALFORMED_QUERY", f"fakecrm: unsupported SOQL: '{rest.strip()}'"
            )
        by_lower = {name.lower(): name for name in FIELDS}
        fields = []
        for raw in (name.strip() for name in match["fields"].split(",")):
            if raw.lower() not in by_lower:
                return self._error(
                    400, "INVALID_FIELD",
                    f"\n{soql}\nERROR at Row:1:Column:8\nNo such column '{raw}' on entity "
                    "'Contact'. If you are attempting to use a custom field, be sure to append "
                    "the '__c' after the custom field name. Please reference your WSDL or the "
                    "describe call for the appropriate names.",
                )  # fmt: skip
            fields.append(by_lower[raw.lower()])
        limit = int(limit_match.group(1)) if limit_match else len(self.records)
        return fields, limit

    def _page(
        self, request: Request, ctx: Context, version: str, locator: str, offset: int
    ) -> Response:
        fields, limit = self._queries[locator]
        batch = self._batch(request)
        page = offset // batch + 1
        fault = self.page_fault(page, ctx)
        if fault is not None:
            return fault
        total = min(limit, len(self.records))
        chunk = self.records[offset : min(offset + batch, total)]
        next_offset = offset if self.repeats_cursor(page, ctx) else offset + batch
        body: dict[str, Any] = {"totalSize": total, "done": next_offset >= total}
        if not body["done"]:
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{next_offset}"
        body["records"] = [self._shape(record, fields, version) for record in chunk]
        return self.finish(page, ctx, JSONResponse(body, headers=self._headers()))

    def _shape(self, record: dict[str, Any], fields: list[str], version: str) -> dict[str, Any]:
        shaped: dict[str, Any] = {
            "attributes": {
                "type": "Contact",
                "url": f"/services/data/{version}/sobjects/Contact/{record['Id']}",
            }
        }
        for name in fields:
            if name == "Account.Name":
                account_id = record["AccountId"]
                shaped["Account"] = (
                    {
                        "attributes": {
                            "type": "Account",
                            "url": f"/services/data/{version}/sobjects/Account/{account_id}",
                        },
                        "Name": record["Account.Name"],
                    }
                    if account_id
                    else None
                )
            else:
                shaped[name] = record[name]
        return shaped
