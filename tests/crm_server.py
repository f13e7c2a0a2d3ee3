"""A small generic CRM on a loopback port, for end-to-end tests of the CRM source.

Not any vendor: one ``/contacts`` list endpoint that pages its records in the style the
test picks (``cursor``, ``json_link``, ``header_link``, ``page_number``, ``offset``), checks
the credentials the test picks (bearer, api key in a header or the query, HTTP basic, or
an OAuth token from its own ``/token`` endpoint), and answers a page with the faults the
test queues for it (``429``, ``500``, ``html``, ``truncated``, ``401``, ``403limit``,
``repeat``), each once. Every request is recorded. Tests point a CRM mapping file at it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fakecrm.server import FakeServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

STYLES = ("cursor", "json_link", "header_link", "page_number", "offset")


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)


class CrmServer:
    """Serve ``records`` ``page_size`` at a time; see the module docstring.

    ``auth`` is ``("bearer", TOKEN)``, ``("header", NAME, KEY)``, ``("query", NAME, KEY)``,
    ``("basic", USER, PASSWORD)``, ``("oauth", CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)``
    (access tokens from ``POST /token``, valid ``token_ttl`` seconds) or ``None``.
    ``faults`` maps a page number (from 1) to the faults its next requests get, in order.
    """

    def __init__(
        self,
        records: Sequence[dict[str, Any]],
        *,
        style: str = "cursor",
        page_size: int = 2,
        auth: tuple[str, ...] | None = ("bearer", "test-token-abc123"),
        faults: dict[int, list[str]] | None = None,
        token_ttl: int = 3600,
    ) -> None:
        assert style in STYLES
        self.records = list(records)
        self.style = style
        self.page_size = page_size
        self.auth = auth
        self.faults = {page: list(queued) for page, queued in (faults or {}).items()}
        self.token_ttl = token_ttl
        self.seen: list[Seen] = []
        self.tokens_issued: list[str] = []
        app = Starlette(
            routes=[
                Route("/contacts", self._contacts, methods=["GET"]),
                Route("/token", self._token, methods=["POST"]),
            ]
        )
        self._server = FakeServer(app)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self._server.url

    def __enter__(self) -> CrmServer:
        self._server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop()

    @property
    def page_requests(self) -> list[Seen]:
        """The requests for pages (not for tokens)."""
        return [seen for seen in self.seen if seen.path == "/contacts"]

    # -- endpoints ---------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.seen.append(self._seen(request, form))
        assert self.auth is not None and self.auth[0] == "oauth"
        _, client_id, secret, refresh = self.auth
        fields = {**dict(request.query_params), **form}
        good = fields.get("client_id") == client_id and fields.get("client_secret") == secret
        if fields.get("grant_type") == "refresh_token":
            good = good and fields.get("refresh_token") == refresh
        if not good:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        token = f"access-{len(self.tokens_issued) + 1}-zz9"
        self.tokens_issued.append(token)
        return JSONResponse(
            {"access_token": token, "expires_in": self.token_ttl, "token_type": "Bearer"}
        )

    async def _contacts(self, request: Request) -> Response:
        self.seen.append(self._seen(request))
        if not self._authorised(request):
            return JSONResponse({"message": "authentication failed"}, status_code=401)
        page, start = self._position(request)
        fault = self.faults.get(page, []).pop(0) if self.faults.get(page) else None
        if fault is not None:
            answer = self._fault(fault, request)
            if answer is not None:
                return answer
        chunk = self.records[start : start + self.page_size]
        end = start + len(chunk)
        more = end < len(self.records)
        body: dict[str, Any] = {"data": chunk}
        headers: dict[str, str] = {}
        next_start = end if fault != "repeat" else start
        if self.style == "cursor" and more:
            body["next"] = {"cursor": f"c{next_start}"}
        elif self.style == "json_link" and more:
            body["next_url"] = f"/contacts?start={next_start}"
        elif self.style == "header_link" and more:
            headers["Link"] = f'<{self.url}/contacts?start={next_start}>; rel="next"'
        elif self.style == "page_number":
            body["info"] = {"more_records": more}
        elif self.style == "offset":
            body["total"] = len(self.records)
        return JSONResponse(body, headers=headers)

    # -- helpers ------------------------------------------------------------------------------

    def _seen(self, request: Request, form: dict[str, str] | None = None) -> Seen:
        return Seen(request.method, request.url.path, dict(request.query_params),
                    dict(request.headers), form or {})  # fmt: skip

    def _authorised(self, request: Request) -> bool:
        if self.auth is None:
            return True
        kind = self.auth[0]
        given = request.headers.get("authorization", "")
        if kind == "bearer":
            return given == f"Bearer {self.auth[1]}"
        if kind == "header":
            return request.headers.get(self.auth[1]) == self.auth[2]
        if kind == "query":
            return request.query_params.get(self.auth[1]) == self.auth[2]
        if kind == "basic":
            pair = base64.b64encode(f"{self.auth[1]}:{self.auth[2]}".encode()).decode()
            return given == f"Basic {pair}"
        return bool(self.tokens_issued) and given == f"Bearer {self.tokens_issued[-1]}"

    def _position(self, request: Request) -> tuple[int, int]:
        """``(page number from 1, index of its first record)`` of a request."""
        query = request.query_params
        if self.style == "cursor":
            start = int(query.get("cursor", "c0")[1:])
        elif self.style in ("json_link", "header_link"):
            start = int(query.get("start", "0"))
        elif self.style == "page_number":
            start = (int(query.get("page", "1")) - 1) * self.page_size
        else:
            assert int(query.get("limit", "0")) == self.page_size, "the limit is the page size"
            start = int(query.get("offset", "0"))
        return start // self.page_size + 1, start

    def _fault(self, fault: str, request: Request) -> Response | None:
        if fault == "429":
            return JSONResponse({"message": "slow down"}, status_code=429,
                                headers={"Retry-After": "1"})  # fmt: skip
        if fault == "500":
            return JSONResponse({"message": "internal error"}, status_code=500)
        if fault == "401":
            return JSONResponse({"message": "token expired"}, status_code=401)
        if fault == "403limit":
            return JSONResponse(
                [
                    {
                        "message": "TotalRequests Limit exceeded.",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
                status_code=403,
            )
        if fault == "html":
            return Response("<!DOCTYPE html><html><body>Sign in</body></html>",
                            media_type="text/html")  # fmt: skip
        if fault == "truncated":
            text = json.dumps({"data": self.records[: self.page_size]})
            return Response(text[: len(text) // 2], media_type="application/json")
        assert fault == "repeat", fault
        return None
