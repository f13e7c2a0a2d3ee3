"""A fake Zoho CRM: the Contacts module through the REST API, OAuth refresh-token grant.

Follows (Zoho CRM developer docs, API v2-v8):
- "Get Records" (``GET {api-domain}/crm/{version}/{module_api_name}``): header
  ``Authorization: Zoho-oauthtoken <access token>``; ``fields`` (comma-separated field API
  names, at most 50, mandatory when listing records from v3 on), ``page`` (default 1),
  ``per_page`` (default and maximum 200), ``page_token``; the answer
  ``{"data": [...], "info": {"per_page", "count", "page", "sort_by", "sort_order",
  "more_records", "next_page_token", "previous_page_token", "page_token_expiry"}}``;
  204 No Content when there is nothing to return; ``page``/``per_page`` reach only the
  first 2,000 records (beyond them, ``page_token``). A lookup (``Account_Name``) is
  ``{"name", "id"}`` or ``null``.
- "Status codes" and the Kaizen post "Zoho CRM API - Common errors and error handling":
  error bodies ``{"code", "details", "message", "status": "error"}``; 401
  ``AUTHENTICATION_FAILURE`` / ``INVALID_TOKEN``, 400 ``REQUIRED_PARAM_MISSING``,
  ``INVALID_DATA``, 404 ``INVALID_URL_PATTERN``, 429 ``TOO_MANY_REQUESTS``.
- Zoho OAuth "Refresh access token" (``POST {accounts-url}/oauth/v2/token`` with
  ``refresh_token``, ``client_id``, ``client_secret``, ``grant_type=refresh_token``, in
  the query string or the form body): ``{"access_token", "scope", "api_domain",
  "token_type": "Bearer", "expires_in": 3600}``; failures answer HTTP 200 with
  ``{"error": "invalid_code" | "invalid_client" | ...}``.

Simplifies: only ``Contacts``, with a fixed field list (``id``, ``First_Name``,
``Last_Name``, ``Full_Name``, ``Account_Name``, ``Phone``, ``Mobile``, ``Home_Phone``,
``Other_Phone``, ``Email``, ``Title``, ``Owner``, ``Created_Time``, ``Modified_Time``);
an unknown field name is a 400 ``INVALID_DATA``; ``per_page`` above 200 is refused with
400 (not clamped); query parameters outside the documented list are refused; ``cvid``,
``ids``, ``sort_by``, ``sort_order``, ``converted``, ``approved``, ``territory_id`` and
``If-Modified-Since`` are not implemented. A company-only contact has the company as its
(mandatory) ``Last_Name``. The accounts server and the API domain are the same fake: the
token answer's ``api_domain`` is the fake's own URL. The ``repeat_cursor`` fault repeats
``info.next_page_token`` (page numbers cannot repeat).
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakecrm.base import Context, Expected, FakeCRM, Faults, request_fields

CONTACTS_PATH = "/crm/{version}/Contacts"
TOKEN_PATH = "/oauth/v2/token"
VERSIONS = frozenset({"v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"})
DEFAULT_PER_PAGE = 200
MAX_PER_PAGE = 200
MAX_FIELDS = 50
DISCRETE_LIMIT = 2000
FIELDS = (
    "id", "Owner", "First_Name", "Last_Name", "Full_Name", "Account_Name", "Email", "Title",
    "Phone", "Mobile", "Home_Phone", "Other_Phone", "Asst_Phone", "Fax", "Created_Time",
    "Modified_Time",
)  # fmt: skip
PHONE_FIELDS = {"work": "Phone", "mobile": "Mobile", "home": "Home_Phone", "other": "Other_Phone"}
NOT_IMPLEMENTED = frozenset(
    {"cvid", "ids", "sort_by", "sort_order", "converted", "approved", "territory_id"}
)
DOCUMENTED_PARAMS = frozenset({"fields", "page", "per_page", "page_token"}) | NOT_IMPLEMENTED
EPOCH = datetime(2024, 2, 5, 10, 15, tzinfo=timezone.utc)
SCOPE = "ZohoCRM.modules.contacts.READ"
#: Fields to return, records per page, and the offset of the page's first record.
Checked = tuple[list[str], int, int]


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class FakeZoho(FakeCRM):
    """Zoho CRM's Contacts. API domain and accounts URL: both the server URL.

    Auth: ``POST /oauth/v2/token`` with :attr:`client_id`, :attr:`client_secret`,
    :attr:`refresh_token` and ``grant_type=refresh_token``; then
    ``Authorization: Zoho-oauthtoken <access_token>``.
    """

    vendor = "zoho"
    token_prefix = "1000."
    login_title = "Zoho Accounts"

    def __init__(self, contacts: int = 25, *, seed: int = 1, faults: Faults | None = None):
        super().__init__(contacts, seed=seed, faults=faults)
        digest = hashlib.sha256(f"zoho-client:{seed}".encode()).hexdigest()
        self.client_id = f"1000.{digest[:30].upper()}"
        self.client_secret = digest[30:62]
        self.refresh_token = f"1000.{digest[:32]}.{digest[32:64]}"
        companies = sorted({person.company for person in self.people if person.company})
        self._account_ids = {c: f"4876876000000{410001 + n:06d}" for n, c in enumerate(companies)}
        self.records = [self._record(person.index) for person in self.people]

    def routes(self) -> list[BaseRoute]:
        return [
            Route(CONTACTS_PATH, self.logged(self.list_contacts), methods=["GET"]),
            Route(TOKEN_PATH, self.logged(self.token), methods=["POST"]),
        ]

    def _record(self, index: int) -> dict[str, Any]:
        person = self.people[index]
        created = EPOCH + timedelta(minutes=47 * index)
        phones = {PHONE_FIELDS[phone.kind]: phone.value for phone in person.phones}
        last = person.last or person.company
        account = (
            {"name": person.company, "id": self._account_ids[person.company]}
            if person.company
            else None
        )
        return {
            "id": f"4876876000000{624001 + 2 * index:06d}",
            "Owner": {
                "name": "Sam Okafor",
                "id": "4876876000000333001",
                "email": "sam.okafor@example.co.uk",
            },
            "First_Name": person.first,
            "Last_Name": last,
            "Full_Name": " ".join(p for p in (person.first, last) if p),
            "Account_Name": account,
            "Email": person.email,
            "Title": None,
            **{name: phones.get(name) for name in PHONE_FIELDS.values()},
            "Asst_Phone": None,
            "Fax": None,
            "Created_Time": _stamp(created),
            "Modified_Time": _stamp(created + timedelta(days=9)),
        }

    def expected(self) -> list[Expected]:
        """Name: First_Name + Last_Name, else the account's name. Phones: Phone, Mobile,
        Home_Phone, Other_Phone."""
        out = []
        for record in self.records:
            name = " ".join(p for p in (record["First_Name"], record["Last_Name"]) if p)
            if not name and record["Account_Name"]:
                name = record["Account_Name"]["name"]
            phones = tuple(record[f] for f in PHONE_FIELDS.values() if record[f])
            out.append(Expected(record["id"], name, phones))
        return out

    # -- answers ---------------------------------------------------------------------

    @staticmethod
    def _error(
        status: int, code: str, message: str, headers: dict[str, str] | None = None, **details: Any
    ) -> JSONResponse:
        body = {"code": code, "details": details, "message": message, "status": "error"}
        return JSONResponse(body, status, headers=headers)

    def rate_limited(self) -> Response:
        return self._error(
            429, "TOO_MANY_REQUESTS", "too many requests", headers=self.retry_after()
        )

    def server_error(self) -> Response:
        return self._error(500, "INTERNAL_ERROR", "Internal Server Error")

    def not_found(self) -> Response:
        return self._error(
            404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
        )

    # -- the token endpoint ----------------------------------------------------------

    async def token(self, request: Request, ctx: Context) -> Response:
        """Refresh-token grant; Zoho answers its failures with HTTP 200 and an ``error``."""
        fields = request_fields(request, ctx)
        grant = fields.get("grant_type")
        if grant is None:
            return JSONResponse({"error": "invalid_request"})
        if grant != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"})
        if fields.get("client_id") != self.client_id:
            return JSONResponse({"error": "invalid_client"})
        if fields.get("client_secret") != self.client_secret:
            return JSONResponse({"error": "invalid_client_secret"})
        if fields.get("refresh_token") != self.refresh_token:
            return JSONResponse({"error": "invalid_code"})
        return JSONResponse(
            {
                "access_token": self.issue_token(),
                "scope": SCOPE,
                "api_domain": str(request.base_url).rstrip("/"),
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        )

    # -- the endpoint ----------------------------------------------------------------

    async def list_contacts(self, request: Request, ctx: Context) -> Response:
        version = request.path_params["version"]
        if version not in VERSIONS:
            return self.not_found()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Zoho-oauthtoken" or not token.strip():
            return self._error(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        if self.check_token(token.strip(), ctx) != "ok":
            return self._error(401, "INVALID_TOKEN", "invalid oauth token")
        checked = self._check_params(request, version)
        if isinstance(checked, Response):
            return checked
        fields, per_page, offset = checked
        page = offset // per_page + 1
        fault = self.page_fault(page, ctx)
        if fault is not None:
            return fault
        chunk = self.records[offset : offset + per_page]
        if not chunk:
            return Response(status_code=204)
        repeat = self.repeats_cursor(page, ctx)
        more = repeat or offset + per_page < len(self.records)
        info = {
            "per_page": per_page,
            "next_page_token": _page_token(offset if repeat else offset + per_page)
            if more
            else None,
            "count": len(chunk),
            "sort_by": "id",
            "page": page,
            "previous_page_token": _page_token(offset - per_page) if offset else None,
            "page_token_expiry": "2030-01-01T00:00:00+00:00" if more else None,
            "sort_order": "desc",
            "more_records": more,
        }
        data = [{"id": r["id"], **{f: r[f] for f in fields if f != "id"}} for r in chunk]
        return self.finish(page, ctx, JSONResponse({"data": data, "info": info}))

    def _check_params(
        self, request: Request, version: str
    ) -> tuple[list[str], int, int] | Response:
        params = request.query_params
        unknown = sorted(set(params.keys()) - DOCUMENTED_PARAMS)
        if unknown:
            return self._error(400, "INVALID_REQUEST", "unknown parameter", param_name=unknown[0])
        blocked = sorted(NOT_IMPLEMENTED & set(params.keys()))
        if blocked:
            return self._error(
                400, "INVALID_REQUEST", f"fakecrm: {blocked[0]} is not implemented by this fake"
            )
        fields = [name.strip() for name in params.get("fields", "").split(",") if name.strip()]
        if not fields and version not in ("v2", "v2.1"):
            return self._error(
                400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                param="fields",
            )  # fmt: skip
        if len(fields) > MAX_FIELDS:
            return self._error(400, "LIMIT_EXCEEDED", "fields limit exceeded", limit=MAX_FIELDS)
        unknown_fields = [name for name in fields if name not in FIELDS]
        if unknown_fields:
            return self._error(
                400, "INVALID_DATA", "invalid field api name", api_name=unknown_fields[0]
            )
        try:
            per_page = int(params.get("per_page", DEFAULT_PER_PAGE))
            page = int(params.get("page", 1))
        except ValueError:
            return self._error(400, "INVALID_DATA", "invalid data", param="page/per_page")
        if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
            return self._error(
                400, "INVALID_DATA", "invalid data", param="per_page", maximum=MAX_PER_PAGE
            )
        if "page_token" in params:
            if "page" in params:
                return self._error(400, "INVALID_DATA", "page and page_token cannot be combined")
            offset = _offset_of(params["page_token"])
            if offset is None:
                return self._error(400, "INVALID_DATA", "invalid page_token", param="page_token")
        else:
            offset = (page - 1) * per_page
            if offset >= DISCRETE_LIMIT:
                return self._error(
                    400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "Cannot fetch more than 2000 records using page; use page_token",
                )  # fmt: skip
        return fields or list(FIELDS), per_page, offset


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"zcrm-offset:{offset}".encode()).decode()


def _offset_of(token: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        return None
    match = re.fullmatch(r"zcrm-offset:(\d+)", raw)
    return int(match.group(1)) if match else None
