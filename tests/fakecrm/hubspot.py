"""A fake HubSpot CRM: contacts through the CRM v3 objects API, private-app token.

Follows (HubSpot developer docs):
- "Contacts" / "Retrieve contacts" (``GET /crm/v3/objects/contacts``): query parameters
  ``limit`` (default 10, at most 100 per page), ``after`` (the cursor from
  ``paging.next.after``), ``properties`` (comma-separated; properties a record lacks come
  back ``null``, unknown names are ignored), ``archived``; answer
  ``{"results": [{"id", "properties", "createdAt", "updatedAt", "archived"}],
  "paging": {"next": {"after", "link"}}}`` with ``paging`` absent on the last page;
  ``createdate``, ``lastmodifieddate`` and ``hs_object_id`` always returned; every
  property value a string.
- "API error responses" and the v3 authentication errors (developer changelog
  "Improvements to authentication errors for V3 endpoints"): 401 with
  ``{"status": "error", "message": "Authentication credentials not found. ...",
  "correlationId", "category": "INVALID_AUTHENTICATION"}``.
- "API usage guidelines and limits": 429 with ``{"status": "error", "message": "You have
  reached your secondly limit.", "errorType": "RATE_LIMIT", "correlationId",
  "policyName": "SECONDLY", "requestId"}`` and the ``X-HubSpot-RateLimit-*`` headers.

Simplifies: only contacts; query parameters outside the documented list are refused with a
400 ``VALIDATION_ERROR`` (HubSpot ignores them; refusing makes a wrong preset fail
loudly), as is a ``limit`` above 100; ``propertiesWithHistory`` and ``associations`` are
documented but not implemented (400 naming the fake). ``after`` is the next record's id.
A private-app token never expires; the ``token_expires_after`` knob makes it answer 401
``EXPIRED_AUTHENTICATION`` after N requests, as a revoked or rotated token would.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakecrm.base import Context, Expected, FakeCRM, Faults, bearer

CONTACTS_PATH = "/crm/v3/objects/contacts"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
ALWAYS = ("createdate", "hs_object_id", "lastmodifieddate")
DEFAULT_PROPERTIES = ("firstname", "lastname", "email")
KNOWN_PROPERTIES = frozenset(
    {"firstname", "lastname", "company", "phone", "mobilephone", "email", "jobtitle", *ALWAYS}
)
DOCUMENTED_PARAMS = frozenset(
    {"limit", "after", "properties", "propertiesWithHistory", "associations", "archived"}
)
NOT_IMPLEMENTED = ("propertiesWithHistory", "associations")
EPOCH = datetime(2024, 1, 2, 9, 0, tzinfo=timezone.utc)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class FakeHubSpot(FakeCRM):
    """HubSpot's contacts list. Base URL: the server URL (``https://api.hubapi.com``).

    Auth: ``Authorization: Bearer <token>`` with :attr:`token` (a private-app token).
    """

    vendor = "hubspot"
    phone_kinds = ("work", "mobile")
    token_prefix = "pat-eu1-"
    login_title = "HubSpot Login"

    def __init__(self, contacts: int = 25, *, seed: int = 1, faults: Faults | None = None):
        super().__init__(contacts, seed=seed, faults=faults)
        self.token = self.issue_token()
        self.records = [self._record(person.index) for person in self.people]

    def routes(self) -> list[BaseRoute]:
        return [Route(CONTACTS_PATH, self.logged(self.list_contacts), methods=["GET"])]

    def _record(self, index: int) -> dict[str, Any]:
        person = self.people[index]
        record_id = str(1001 + 2 * index)
        created = EPOCH + timedelta(hours=index, milliseconds=137 * index)
        modified = created + timedelta(days=30, minutes=index)
        phones = {phone.kind: phone.value for phone in person.phones}
        properties = {
            "company": person.company,
            "createdate": _stamp(created),
            "email": person.email,
            "firstname": person.first,
            "hs_object_id": record_id,
            "jobtitle": None,
            "lastmodifieddate": _stamp(modified),
            "lastname": person.last,
            "mobilephone": phones.get("mobile"),
            "phone": phones.get("work"),
        }
        return {
            "id": record_id,
            "properties": properties,
            "createdAt": _stamp(created),
            "updatedAt": _stamp(modified),
            "archived": False,
        }

    def expected(self) -> list[Expected]:
        """Name: first + last, else company. Phones: ``phone`` then ``mobilephone``."""
        out = []
        for record in self.records:
            props = record["properties"]
            name = " ".join(p for p in (props["firstname"], props["lastname"]) if p)
            phones = tuple(props[key] for key in ("phone", "mobilephone") if props[key])
            out.append(Expected(record["id"], name or props["company"], phones))
        return out

    # -- answers ---------------------------------------------------------------------

    def _error(self, status: int, message: str, category: str, **extra: Any) -> JSONResponse:
        body = {"status": "error", "message": message, "correlationId": self.request_id()}
        body.update(category=category, **extra)
        return JSONResponse(body, status, headers=self._limit_headers())

    def _limit_headers(self, remaining: int = 189) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": "190",
            "X-HubSpot-RateLimit-Remaining": str(remaining),
        }

    def unauthorised(self, status: str) -> JSONResponse:
        """401 for a missing, unknown or expired token."""
        if status == "expired":
            return self._error(
                401,
                "The OAuth token used to make this call expired 1 minute(s) ago.",
                "EXPIRED_AUTHENTICATION",
            )
        return self._error(
            401,
            "Authentication credentials not found. This API supports OAuth 2.0 authentication "
            "and you can find more details at "
            "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            "INVALID_AUTHENTICATION",
        )

    def rate_limited(self) -> Response:
        body = {
            "status": "error",
            "message": "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": self.request_id(),
            "policyName": "SECONDLY",
            "requestId": self.request_id(),
        }
        headers = {**self._limit_headers(remaining=0), **self.retry_after()}
        return JSONResponse(body, 429, headers=headers)

    def server_error(self) -> Response:
        return self._error(500, "internal error", "INTERNAL_ERROR")

    def not_found(self) -> Response:
        return self._error(404, "Resource not found", "OBJECT_NOT_FOUND")

    # -- the endpoint ----------------------------------------------------------------

    async def list_contacts(self, request: Request, ctx: Context) -> Response:
        auth = self.check_token(bearer(request), ctx)
        if auth != "ok":
            return self.unauthorised(auth)
        params = request.query_params
        unknown = sorted(set(params.keys()) - DOCUMENTED_PARAMS)
        if unknown:
            return self._error(
                400, f"Unrecognized query parameter(s): {', '.join(unknown)}", "VALIDATION_ERROR"
            )
        for name in NOT_IMPLEMENTED:
            if name in params:
                return self._error(
                    400, f"fakecrm: {name} is documented but not implemented by this fake",
                    "VALIDATION_ERROR",
                )  # fmt: skip
        try:
            limit = int(params.get("limit", DEFAULT_LIMIT))
        except ValueError:
            return self._error(400, "limit must be an integer", "VALIDATION_ERROR")
        if not 1 <= limit <= MAX_LIMIT:
            return self._error(
                400, f"limit must be between 1 and {MAX_LIMIT}, got {limit}", "VALIDATION_ERROR"
            )
        archived = params.get("archived", "false").lower()
        if archived not in ("true", "false"):
            return self._error(400, "archived must be true or false", "VALIDATION_ERROR")
        records = [] if archived == "true" else self.records
        offset = 0
        if "after" in params:
            ids = [record["id"] for record in records]
            if params["after"] not in ids:
                message = f"Invalid after value: {params['after']}"
                return self._error(400, message, "VALIDATION_ERROR")
            offset = ids.index(params["after"])
        page = offset // limit + 1
        fault = self.page_fault(page, ctx)
        if fault is not None:
            return fault
        wanted = self._properties(params.getlist("properties"))
        body: dict[str, Any] = {
            "results": [self._shape(record, wanted) for record in records[offset : offset + limit]]
        }
        next_offset = offset if self.repeats_cursor(page, ctx) else offset + limit
        if next_offset < len(records):
            after = records[next_offset]["id"]
            link = request.url.include_query_params(after=after)
            body["paging"] = {"next": {"after": after, "link": str(link)}}
        return self.finish(page, ctx, JSONResponse(body, headers=self._limit_headers()))

    @staticmethod
    def _properties(values: list[str]) -> list[str]:
        names = [name.strip() for value in values for name in value.split(",") if name.strip()]
        chosen = names or list(DEFAULT_PROPERTIES)
        return sorted({name for name in chosen if name in KNOWN_PROPERTIES} | set(ALWAYS))

    @staticmethod
    def _shape(record: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        return {**record, "properties": {name: record["properties"][name] for name in wanted}}
