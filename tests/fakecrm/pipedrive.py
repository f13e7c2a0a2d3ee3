"""A fake Pipedrive: persons through API v2, API token in the ``x-api-token`` header.

Follows (Pipedrive developer docs):
- API v2 reference "Persons" / "Get all persons" (``GET /api/v2/persons``): ``limit``
  (default 100, at most 500), ``cursor``; the answer
  ``{"success": true, "data": [...], "additional_data": {"next_cursor": ...}}`` with
  ``next_cursor`` ``null`` on the last page; a person has ``id``, ``name``,
  ``first_name``, ``last_name``, ``owner_id``, ``org_id``, ``add_time``, ``update_time``,
  ``emails`` and ``phones`` (lists of ``{"value", "primary", "label"}``), ``is_deleted``,
  ``visible_to``, ``label_ids``, ``picture_id``.
- "Core API concepts: pagination" (cursor pagination of all v2 list endpoints).
- "Core API concepts: authentication" (``x-api-token`` header or ``api_token`` query
  parameter) and "Core API concepts: responses" (error body
  ``{"success": false, "error", "error_info", "data": null, "additional_data": null}``).
- "Core API concepts: rate limiting": 429 with ``x-ratelimit-limit``,
  ``x-ratelimit-remaining``, ``x-ratelimit-reset`` (every answer carries them).

Simplifies: a person's ``name`` is split at its first space into ``first_name`` and
``last_name`` (as Pipedrive does for a name typed whole); a company with no person is a
person named after the company, linked to an organisation. ``updated_since`` (RFC 3339)
returns the persons whose ``update_time`` is that or later. Other filters and sorting
(``filter_id``, ``ids``, ``owner_id``, ``org_id``, ``updated_until``, ``sort_by``,
``sort_direction``, ``include_fields``, ``custom_fields``) are documented but not
implemented (400 naming the fake); undocumented parameters are refused with 400.
The cursor is opaque (base64 of the next person's id). An API token does not expire; the
``token_expires_after`` knob makes it answer 401 after N requests, as a revoked one would.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fakecrm.base import Context, Expected, FakeCRM, Faults

PERSONS_PATH = "/api/v2/persons"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
NOT_IMPLEMENTED = frozenset(
    {
        "filter_id", "ids", "owner_id", "org_id", "updated_until",
        "sort_by", "sort_direction", "include_fields", "custom_fields",
    }
)  # fmt: skip
DOCUMENTED_PARAMS = frozenset({"limit", "cursor", "api_token", "updated_since"}) | NOT_IMPLEMENTED
ERROR_INFO = "Please check developers.pipedrive.com for more information about Pipedrive API."
LABELS = {"work": "work", "mobile": "mobile", "home": "home", "other": "other"}
EPOCH = datetime(2024, 3, 4, 8, 30, tzinfo=timezone.utc)


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode_cursor(person_id: int) -> str:
    raw = json.dumps({"field": "id", "fieldValue": person_id, "sortDirection": "asc"})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)["fieldValue"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, int) else None


class FakePipedrive(FakeCRM):
    """Pipedrive's persons list. Base URL: the server URL (``https://{company}.pipedrive.com``).

    Auth: ``x-api-token: <token>`` (or ``?api_token=``) with :attr:`token`.
    """

    vendor = "pipedrive"
    token_prefix = "pd"
    login_title = "Log in - Pipedrive"

    def __init__(self, contacts: int = 25, *, seed: int = 1, faults: Faults | None = None):
        super().__init__(contacts, seed=seed, faults=faults)
        self.token = self.issue_token()
        companies = sorted({person.company for person in self.people if person.company})
        self._org_ids = {company: 7001 + n for n, company in enumerate(companies)}
        self.records = [self._record(person.index) for person in self.people]

    def routes(self) -> list[BaseRoute]:
        return [Route(PERSONS_PATH, self.logged(self.list_persons), methods=["GET"])]

    def _record(self, index: int) -> dict[str, Any]:
        person = self.people[index]
        name = person.full_name or person.company or ""
        first, _, last = name.partition(" ")
        added = EPOCH + timedelta(hours=3 * index)
        return {
            "id": 201 + index,
            "name": name,
            "first_name": first,
            "last_name": last or None,
            "owner_id": 13579,
            "org_id": self._org_ids.get(person.company or ""),
            "add_time": _stamp(added),
            "update_time": _stamp(added + timedelta(days=11)),
            "emails": (
                [{"value": person.email, "primary": True, "label": "work"}] if person.email else []
            ),
            "phones": [
                {"value": phone.value, "primary": position == 0, "label": LABELS[phone.kind]}
                for position, phone in enumerate(person.phones)
            ],
            "is_deleted": False,
            "visible_to": 3,
            "label_ids": [],
            "picture_id": None,
        }

    def expected(self) -> list[Expected]:
        """Name: ``name``. Phones: ``phones[*].value`` in list order (primary first)."""
        return [
            Expected(str(r["id"]), r["name"], tuple(p["value"] for p in r["phones"]))
            for r in self.records
        ]

    # -- answers ---------------------------------------------------------------------

    def _limit_headers(self, remaining: int = 39) -> dict[str, str]:
        return {
            "x-ratelimit-limit": "40",
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": "2",
        }

    def _error(self, status: int, error: str, **extra: Any) -> JSONResponse:
        body: dict[str, Any] = {"success": False, "error": error, "error_info": ERROR_INFO}
        body.update(data=None, additional_data=None, **extra)
        return JSONResponse(body, status, headers=self._limit_headers())

    def unauthorised(self) -> JSONResponse:
        """401 for a missing, unknown or revoked token."""
        return JSONResponse(
            {
                "success": False,
                "error": "unauthorized access",
                "errorCode": 401,
                "error_info": ERROR_INFO,
            },
            401,
        )

    def rate_limited(self) -> Response:
        headers = {**self._limit_headers(remaining=0), **self.retry_after()}
        body = {"success": False, "error": "Request over limit", "errorCode": 429}
        return JSONResponse({**body, "error_info": ERROR_INFO}, 429, headers=headers)

    def server_error(self) -> Response:
        return self._error(500, "Internal server error", errorCode=500)

    def not_found(self) -> Response:
        return self._error(404, "Unknown method .")

    # -- the endpoint ----------------------------------------------------------------

    async def list_persons(self, request: Request, ctx: Context) -> Response:
        params = request.query_params
        token = request.headers.get("x-api-token") or params.get("api_token")
        if self.check_token(token, ctx) != "ok":
            return self.unauthorised()
        unknown = sorted(set(params.keys()) - DOCUMENTED_PARAMS)
        if unknown:
            return self._error(400, f"Validation failed: unknown parameter(s) {unknown}")
        blocked = sorted(NOT_IMPLEMENTED & set(params.keys()))
        if blocked:
            return self._error(400, f"fakecrm: {blocked[0]} is documented but not implemented")
        try:
            limit = int(params.get("limit", DEFAULT_LIMIT))
        except ValueError:
            return self._error(400, "Validation failed: limit: Expected number")
        if not 1 <= limit <= MAX_LIMIT:
            return self._error(400, f"Validation failed: limit: Must be between 1 and {MAX_LIMIT}")
        # updated_since (RFC 3339): only persons whose update_time is that or later.
        since = params.get("updated_since")
        if since is not None and not _RFC3339.fullmatch(since):
            return self._error(400, "Validation failed: updated_since: Expected RFC 3339 time")
        records = [r for r in self.records if since is None or r["update_time"] >= since]
        offset = 0
        if "cursor" in params:
            ids = [record["id"] for record in records]
            person_id = _decode_cursor(params["cursor"])
            if person_id not in ids:
                return self._error(400, "Validation failed: cursor: Invalid cursor")
            offset = ids.index(person_id)
        page = offset // limit + 1
        fault = self.page_fault(page, ctx)
        if fault is not None:
            return fault
        next_offset = offset if self.repeats_cursor(page, ctx) else offset + limit
        next_cursor = (
            _encode_cursor(records[next_offset]["id"]) if next_offset < len(records) else None
        )
        body = {
            "success": True,
            "data": records[offset : offset + limit],
            "additional_data": {"next_cursor": next_cursor},
        }
        return self.finish(page, ctx, JSONResponse(body, headers=self._limit_headers()))
