"""The one exception tree of sipalto-sync.

Every error the library raises on purpose derives from :class:`SipaltoSyncError`,
so the CLI can turn any of them into one clear line (``cli.handle_errors``) and a
library user can catch the lot with one ``except``. Errors carry their facts as
attributes (file, line, HTTP status, ``retry_after``) so callers decide without
parsing messages::

    SipaltoSyncError
    ├── ConfigError                  bad option, missing credentials, bad mapping/config file
    ├── SourceError                  a source file cannot be read at all (file, line)
    │   ├── UnsupportedFormat        wrong or unknown format (.xls, binary junk)
    │   └── IncompleteRead           a CRM's web API failed part-way: nothing read is used
    ├── PlanError                    a plan file is unreadable or was made for another server
    ├── AlreadyRunning               another process is applying the same plan to the same server
    ├── ApiError                     the Sipalto API answered, and the answer is an error
    │   ├── BadRequest               400
    │   ├── Unauthorized             401 (bad credentials, or a token refused after re-login)
    │   ├── Forbidden                403
    │   ├── NotFound                 404
    │   ├── MethodNotAllowed         405
    │   ├── NotAcceptable            406
    │   ├── RateLimited              429, with ``retry_after`` seconds
    │   ├── ServerError              500 and any other 5xx but 503
    │   ├── Unavailable              503
    │   ├── Rejected                 HTTP 200 whose body says ``"success": false``
    │   └── BadResponse              a body that is not the documented JSON (HTML, proxy page)
    ├── NetworkError                 no usable HTTP answer
    │   └── RequestNotSent           the request certainly never reached the server
    └── OutcomeUnknown               a write (add/update/delete) may or may not have happened;
                                     ``cause`` says why (5xx, timeout, lost connection)

Which errors mean "safe to try again" is said by the class, not by the caller:
``RequestNotSent`` and ``RateLimited`` were not processed; ``OutcomeUnknown`` must
be verified by reading the phonebook before anything is repeated.
"""

from __future__ import annotations

from pathlib import Path


class SipaltoSyncError(Exception):
    """Root of every error sipalto-sync raises on purpose."""

    #: The process exit code the CLI uses for this error. Every error is 1: exit code 2
    #: means "changes present" for ``plan --detailed-exitcode``, as in terraform.
    exit_code: int = 1


class ConfigError(SipaltoSyncError):
    """A bad option, missing credentials, or an invalid configuration/mapping file.

    For a mistake in a file, ``path``, ``line`` (1-based) and ``key`` (the setting's path,
    ``phones[0].preferred``) locate it when known; the message already names them.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
    ):
        self.path = str(path) if path is not None else None
        self.line = line
        self.key = key
        super().__init__(message)


class SourceError(SipaltoSyncError):
    """A source file cannot be read at all.

    ``path`` and ``line`` (1-based, when known) locate the problem; the message
    already names them, so ``str(exc)`` is ready to show a user.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            where += ": "
        super().__init__(f"{where}{message}")


class UnsupportedFormat(SourceError):
    """The file is not in a format sipalto-sync reads (or not in the one it was told)."""


class PlanError(SipaltoSyncError):
    """A plan file is unreadable, of an unknown version, or made for another server."""


class AlreadyRunning(SipaltoSyncError):
    """Another process holds the lock of this plan on this server (see ``apply.lock``).

    ``holder`` says who, as written in the lock file (pid, host, since), or is empty when
    the holder has not written it yet; ``path`` is the lock file.
    """

    def __init__(self, message: str, *, path: str | Path, holder: dict[str, str]):
        self.path = str(path)
        self.holder = holder
        super().__init__(message)


class ApiError(SipaltoSyncError):
    """The Sipalto API answered with an error.

    ``status`` is the HTTP status (200 for a ``"success": false`` body), ``method`` and
    ``endpoint`` say which call failed; ``detail`` is a short excerpt of the body.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        endpoint: str | None = None,
        detail: str | None = None,
    ):
        self.status = status
        self.method = method
        self.endpoint = endpoint
        self.detail = detail
        super().__init__(message)


class BadRequest(ApiError):
    """400: the request is invalid (for example a required field is missing)."""


class Unauthorized(ApiError):
    """401: bad credentials, or an access token the server refused even after re-login."""


class Forbidden(ApiError):
    """403: the account is not allowed to do this."""


class NotFound(ApiError):
    """404: no such contact, call or endpoint."""


class MethodNotAllowed(ApiError):
    """405: wrong HTTP method for the endpoint."""


class NotAcceptable(ApiError):
    """406: the server refuses the request's format."""


class RateLimited(ApiError):
    """429: too many requests; ``retry_after`` is the wait the server asked for, in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class ServerError(ApiError):
    """500 or another 5xx (but 503): the server had a problem."""


class Unavailable(ApiError):
    """503: the service is temporarily offline."""


class Rejected(ApiError):
    """HTTP 200 whose body says ``"success": false``."""


class BadResponse(ApiError):
    """The answer is not the documented JSON: an HTML error page, a proxy page, garbage."""


class NetworkError(SipaltoSyncError):
    """No usable HTTP answer: connection refused, reset, timed out, DNS failure."""


class RequestNotSent(NetworkError):
    """The request certainly never reached the server (the connection was never made)."""


class OutcomeUnknown(SipaltoSyncError):
    """A write may or may not have been carried out.

    Raised for add/update/delete when the request was sent but no trustworthy answer
    came back (a 5xx, a read timeout, a dropped connection). Never repeat the write
    blindly: read the phonebook to see whether it landed. ``cause`` is the underlying
    error (an :class:`ApiError` or :class:`NetworkError`).
    """

    def __init__(self, message: str, *, cause: SipaltoSyncError):
        self.cause = cause
        super().__init__(message)


class IncompleteRead(SourceError):
    """A read of a CRM's web API that failed part-way: the records read before it are not
    a source, and nothing may be planned or deleted from them.

    ``source`` names the CRM (its preset or mapping), ``page`` the page being read (from
    1), ``request`` the method and URL (secrets removed), ``status`` the HTTP status when
    there was an answer, ``records`` how many records had been read. The message says all
    of it, and what to check, on one line.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str,
        page: int,
        request: str,
        status: int | None = None,
        records: int = 0,
    ):
        self.source = source
        self.page = page
        self.request = request
        self.status = status
        self.records = records
        super().__init__(message)
