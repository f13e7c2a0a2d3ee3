"""A fake Dynamics 365 / Dataverse environment: contacts through the Web API, with a
Microsoft identity platform token endpoint for the client-credentials grant.

Follows (Microsoft Learn):
- "Page results using OData" (Dataverse Web API): ``Prefer: odata.maxpagesize=N``
  (default and maximum 5,000; larger values are ignored), answered with
  ``Preference-Applied``; ``{"@odata.context", "value": [...], "@odata.nextLink"}``,
  the next link an absolute URL carrying ``$skiptoken=<cookie pagenumber=... />``; each
  row carries ``@odata.etag`` and the primary key ``contactid`` besides the ``$select``
  columns; ``$skip`` is not supported.
- "Query data using the Web API" / "Select columns" and "Compose HTTP requests and handle
  errors" (``OData-Version: 4.0``; errors ``{"error": {"code", "message"}}``, e.g.
  ``0x80060888`` "Could not find a property named ...").
- "Service protection API limits": 429 with ``Retry-After`` and
  ``{"error": {"code": "0x80072322", "message": "Number of requests exceeded ..."}}``.
- "Microsoft identity platform and the OAuth 2.0 client credentials flow":
  ``POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`` with
  ``client_id``, ``client_secret``, ``grant_type=client_credentials`` and
  ``scope={environment URL}/.default`` (form body), answered
  ``{"token_type": "Bearer", "expires_in", "ext_expires_in", "access_token"}``; errors
  ``{"error", "error_description": "AADSTS...", "error_codes", "timestamp", "trace_id",
  "correlation_id"}`` (``invalid_client`` is 401, the rest 400).
- A Web API call without a valid token is 401 with an empty body and a
  ``WWW-Authenticate: Bearer authorization_uri=..., resource_id=...`` header.

Simplifies: only ``contacts`` with columns ``contactid``, ``fullname``, ``firstname``,
``lastname``, ``telephone1`` (business), ``telephone2`` (home), ``telephone3``,
``mobilephone``, ``emailaddress1``, ``jobtitle``, ``_parentcustomerid_value``,
``createdon``, ``modifiedon``; ``$filter``, ``$orderby``, ``$top``, ``$expand``,
``$count`` and ``$apply`` are documented but not implemented (400 naming the fake), any
other query parameter is refused. The identity platform and the environment are the same
fake, so the token URL is ``{server}/{tenant}/oauth2/v2.0/token`` and the scope
``{server}/.default`` (the server URL as the client sees it; ``org_url=`` overrides).
A company-only contact has the company as its (mandatory) ``lastname``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakecrm.base import Context, Expected, FakeCRM, Faults

CONTACTS_PATH = "/api/data/{version}/contacts"
TOKEN_PATH = "/{tenant}/oauth2/v2.0/token"
VERSIONS = frozenset({"v9.0", "v9.1", "v9.2"})
MAX_PAGE = 5000
COLUMNS = (
    "fullname", "firstname", "lastname", "telephone1", "telephone2", "telephone3",
    "mobilephone", "emailaddress1", "jobtitle", "_parentcustomerid_value", "createdon",
    "modifiedon", "contactid",
)  # fmt: skip
PHONE_COLUMNS = {"work": "telephone1", "home": "telephone2", "other": "telephone3"}
PHONE_ORDER = ("telephone1", "telephone2", "telephone3", "mobilephone")
NOT_IMPLEMENTED = frozenset({"$filter", "$orderby", "$top", "$expand", "$count", "$apply"})
EPOCH = datetime(2024, 4, 8, 7, 45, tzinfo=timezone.utc)


def _guid(*parts: object) -> str:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _skiptoken(page: int, last: str | None, first: str | None) -> str:
    cookie = f'<cookie page="{page - 1}">'
    if last and first:
        cookie += f'<contactid last="{{{last.upper()}}}" first="{{{first.upper()}}}" />'
    cookie += "</cookie>"
    paging = quote(quote(cookie, safe=""), safe="")
    return f'<cookie pagenumber="{page}" pagingcookie="{paging}" istracking="False" />'


def _parse_skiptoken(token: str) -> tuple[int, str | None] | None:
    number = re.search(r'pagenumber="(\d+)"', token)
    paging = re.search(r'pagingcookie="([^"]*)"', token)
    if not number or not paging:
        return None
    last = re.search(r'last="\{([0-9A-Fa-f-]{36})\}"', unquote(unquote(paging.group(1))))
    return int(number.group(1)), last.group(1).lower() if last else None


class FakeDynamics(FakeCRM):
    """A Dataverse environment's contacts. Environment URL: the server URL.

    Auth: ``POST /{tenant}/oauth2/v2.0/token`` (form: :attr:`client_id`,
    :attr:`client_secret`, ``grant_type=client_credentials``, ``scope={url}/.default``),
    then ``Authorization: Bearer <access_token>``.
    """

    vendor = "dynamics"
    token_prefix = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake"
    login_title = "Sign in to your account"

    def __init__(
        self,
        contacts: int = 25,
        *,
        seed: int = 1,
        faults: Faults | None = None,
        org_url: str | None = None,
    ):
        super().__init__(contacts, seed=seed, faults=faults)
        self.tenant = _guid("tenant", seed)
        self.client_id = _guid("client", seed)
        self.client_secret = "Qx8Q~" + hashlib.sha256(f"secret:{seed}".encode()).hexdigest()[:35]
        self.org_url = org_url.rstrip("/") if org_url else None
        companies = sorted({person.company for person in self.people if person.company})
        self._account_ids = {c: _guid("account", seed, c) for c in companies}
        self.records = [self._record(person.index) for person in self.people]

    def routes(self) -> list[BaseRoute]:
        return [
            Route(CONTACTS_PATH, self.logged(self.list_contacts), methods=["GET"]),
            Route(TOKEN_PATH, self.logged(self.token), methods=["POST"]),
        ]

    def _record(self, index: int) -> dict[str, Any]:
        person = self.people[index]
        last = person.last or person.company
        phones = {phone.kind: phone.value for phone in person.phones}
        created = EPOCH + timedelta(minutes=95 * index)
        return {
            "@odata.etag": f'W/"{7_200_000 + 37 * index}"',
            "fullname": " ".join(p for p in (person.first, last) if p),
            "firstname": person.first,
            "lastname": last,
            **{column: phones.get(kind) for kind, column in PHONE_COLUMNS.items()},
            "mobilephone": phones.get("mobile"),
            "emailaddress1": person.email,
            "jobtitle": None,
            "_parentcustomerid_value": self._account_ids.get(person.company or ""),
            "createdon": _stamp(created),
            "modifiedon": _stamp(created + timedelta(days=2)),
            "contactid": _guid("contact", self.seed, index),
        }

    def expected(self) -> list[Expected]:
        """Name: ``fullname``. Phones: telephone1, telephone2, telephone3, mobilephone."""
        return [
            Expected(r["contactid"], r["fullname"], tuple(r[c] for c in PHONE_ORDER if r[c]))
            for r in self.records
        ]

    # -- answers ---------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
        body = {"error": {"code": code, "message": message}}
        return JSONResponse(body, status, headers={"OData-Version": "4.0", **headers})

    def rate_limited(self) -> Response:
        message = "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
        return self._error(429, "0x80072322", message, **self.retry_after())

    def server_error(self) -> Response:
        return self._error(500, "0x80040216", "An unexpected error occurred.")

    def not_found(self) -> Response:
        return self._error(404, "0x80060888", "Resource not found for the segment.")

    def _environment(self, request: Request) -> str:
        return self.org_url or str(request.base_url).rstrip("/")

    # -- the token endpoint ----------------------------------------------------------

    async def token(self, request: Request, ctx: Context) -> Response:
        """The client-credentials grant, in the identity platform's words."""
        fields = dict(ctx.form)
        environment = self._environment(request)

        def refuse(status: int, error: str, code: int, description: str) -> JSONResponse:
            body = {
                "error": error,
                "error_description": f"AADSTS{code}: {description}\r\nTrace ID: "
                f"{self.request_id()}\r\nCorrelation ID: {self.request_id()}\r\n"
                "Timestamp: 2024-05-01 10:00:00Z",
                "error_codes": [code],
                "timestamp": "2024-05-01 10:00:00Z",
                "trace_id": self.request_id(),
                "correlation_id": self.request_id(),
                "error_uri": f"https://login.microsoftonline.com/error?code={code}",
            }
            return JSONResponse(body, status)

        if request.path_params["tenant"] != self.tenant:
            tenant = request.path_params["tenant"]
            return refuse(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if "grant_type" not in fields:
            return refuse(
                400, "invalid_request", 900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )  # fmt: skip
        if fields["grant_type"] != "client_credentials":
            return refuse(
                400, "unsupported_grant_type", 70003,
                "The app requested an unsupported grant type.",
            )  # fmt: skip
        if fields.get("client_id") != self.client_id:
            return refuse(
                400, "unauthorized_client", 700016,
                f"Application with identifier '{fields.get('client_id')}' was not found in the "
                f"directory '{self.tenant}'.",
            )  # fmt: skip
        if fields.get("client_secret") != self.client_secret:
            return refuse(
                401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID.",
            )  # fmt: skip
        scope = fields.get("scope", "")
        if not scope.endswith("/.default"):
            return refuse(
                400, "invalid_scope", 1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )  # fmt: skip
        if scope not in (f"{environment}/.default", f"{environment}//.default"):
            return refuse(
                400, "invalid_resource", 500011,
                f"The resource principal named {scope[: -len('/.default')]} was not found in "
                f"the tenant named {self.tenant}.",
            )  # fmt: skip
        return JSONResponse(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": self.issue_token(),
            }
        )

    # -- the endpoint ----------------------------------------------------------------

    async def list_contacts(self, request: Request, ctx: Context) -> Response:
        version = request.path_params["version"]
        if version not in VERSIONS:
            return self.not_found()
        environment = self._environment(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.check_token(token.strip(), ctx) != "ok":
            challenge = (
                f"Bearer authorization_uri=https://login.microsoftonline.com/{self.tenant}"
                f"/oauth2/authorize, resource_id={environment}/"
            )
            return Response(status_code=401, headers={"WWW-Authenticate": challenge})
        params = request.query_params
        unknown = sorted(set(params.keys()) - NOT_IMPLEMENTED - {"$select", "$skiptoken"})
        if unknown:
            return self._error(400, "0x0", f"The query parameter {unknown[0]} is not supported")
        blocked = sorted(NOT_IMPLEMENTED & set(params.keys()))
        if blocked:
            return self._error(400, "0x0", f"fakecrm: {blocked[0]} is not implemented by this fake")
        select = [c.strip() for c in params.get("$select", "").split(",") if c.strip()]
        missing = [c for c in select if c not in COLUMNS]
        if missing:
            return self._error(
                400, "0x80060888",
                f"Could not find a property named '{missing[0]}' on type "
                "'Microsoft.Dynamics.CRM.contact'.",
            )  # fmt: skip
        page, offset = 1, 0
        if "$skiptoken" in params:
            parsed = _parse_skiptoken(params["$skiptoken"])
            ids = [record["contactid"] for record in self.records]
            if parsed is None or (parsed[1] is not None and parsed[1] not in ids):
                return self._error(400, "0x80040203", "Invalid skip token.")
            page = parsed[0]
            offset = ids.index(parsed[1]) + 1 if parsed[1] else 0
        size, applied = self._page_size(request)
        fault = self.page_fault(page, ctx)
        if fault is not None:
            return fault
        columns = select or [c for c in COLUMNS if c != "contactid"]
        chunk = self.records[offset : offset + size]
        body: dict[str, Any] = {
            "@odata.context": f"{environment}/api/data/{version}/$metadata#contacts"
            + (f"({','.join(select)})" if select else ""),
            "value": [
                {
                    "@odata.etag": r["@odata.etag"],
                    **{c: r[c] for c in columns},
                    "contactid": r["contactid"],
                }
                for r in chunk
            ],
        }
        if self.repeats_cursor(page, ctx):
            previous = self.records[offset - 1]["contactid"] if offset else None
            token_ = _skiptoken(page, previous, self.records[0]["contactid"])
            body["@odata.nextLink"] = self._link(environment, version, select, token_)
        elif offset + size < len(self.records):
            token_ = _skiptoken(page + 1, chunk[-1]["contactid"], chunk[0]["contactid"])
            body["@odata.nextLink"] = self._link(environment, version, select, token_)
        headers = {"OData-Version": "4.0"}
        if applied:
            headers["Preference-Applied"] = f"odata.maxpagesize={size}"
        response = JSONResponse(
            body, headers=headers, media_type="application/json; odata.metadata=minimal"
        )
        return self.finish(page, ctx, response)

    @staticmethod
    def _page_size(request: Request) -> tuple[int, bool]:
        match = re.search(r"odata\.maxpagesize\s*=\s*(\d+)", request.headers.get("prefer", ""))
        if not match or not 1 <= int(match.group(1)) <= MAX_PAGE:
            return MAX_PAGE, False
        return int(match.group(1)), True

    @staticmethod
    def _link(environment: str, version: str, select: list[str], skiptoken: str) -> str:
        query = f"$select={','.join(select)}&" if select else ""
        return (
            f"{environment}/api/data/{version}/contacts?{query}"
            f"$skiptoken={quote(skiptoken, safe='')}"
        )
