"""Connection settings: environment variables, overridden by command-line options.

``SIPALTO_BASE_URL`` (default ``https://app-api.sipalto.com``), ``SIPALTO_USERNAME``,
``SIPALTO_PASSWORD``, ``SIPALTO_TIMEOUT`` (seconds per request) and ``SIPALTO_TIMEZONE``
(the PBX's clock, in which the API writes and reads call times; default
``Europe/London``). The password is held in a field that never shows in a repr, so
settings can be logged safely.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from connector.api.client import DEFAULT_BASE_URL, SipaltoClient
from connector.api.times import DEFAULT_TIMEZONE, zone_named
from connector.errors import ConfigError

#: The shortest and longest per-request timeouts accepted, in seconds: below a tenth of a
#: second not even a login answers; past an hour a hung server is never noticed.
MIN_TIMEOUT = 0.1
MAX_TIMEOUT = 3600.0


def parse_timeout(text: str, option: str = "SIPALTO_TIMEOUT") -> float:
    """Seconds from what a user typed; :class:`ConfigError` naming ``option`` otherwise.

    ``nan``, ``inf``, ``1e400`` (which is ``inf``), zero and negatives are refused.
    """
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:  # also false for nan
        raise ConfigError(_timeout_rule(option, text))
    return seconds


def _timeout_rule(option: str, value: object) -> str:
    return (
        f"{option} must be a number of seconds from {MIN_TIMEOUT:g} to {MAX_TIMEOUT:g}, "
        f"not {value!r}"
    )


@dataclass(frozen=True)
class ConnectionSettings:
    """Where the Sipalto API is, who we are there, and the clock its call times are on."""

    base_url: str = DEFAULT_BASE_URL
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConnectionSettings:
        """Read ``SIPALTO_*`` variables (from ``os.environ`` unless given)."""
        env = os.environ if environ is None else environ
        timezone = env.get("SIPALTO_TIMEZONE") or DEFAULT_TIMEZONE
        zone_named(timezone, option="SIPALTO_TIMEZONE")
        return cls(
            base_url=env.get("SIPALTO_BASE_URL") or DEFAULT_BASE_URL,
            username=env.get("SIPALTO_USERNAME", ""),
            password=env.get("SIPALTO_PASSWORD", ""),
            timeout=parse_timeout(env.get("SIPALTO_TIMEOUT", "30")),
            timezone=timezone,
        ).validated()

    def with_overrides(self, **values: object) -> ConnectionSettings:
        """A copy with every non-``None`` value replaced."""
        given = {k: v for k, v in values.items() if v is not None}
        return replace(self, **given).validated()  # type: ignore[arg-type]

    def validated(self) -> ConnectionSettings:
        """Check the URL, timeout and time zone; raise :class:`ConfigError` with what to fix."""
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"base URL {self.base_url!r} is not an http(s) URL, e.g. {DEFAULT_BASE_URL}"
            )
        if not MIN_TIMEOUT <= self.timeout <= MAX_TIMEOUT:
            raise ConfigError(_timeout_rule("the timeout", self.timeout))
        zone_named(self.timezone, option="the time zone")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The PBX's clock, on which the API writes and reads call times."""
        return zone_named(self.timezone)

    def client(self, **kwargs: object) -> SipaltoClient:
        """A :class:`SipaltoClient` for these settings (extra keyword arguments pass through)."""
        return SipaltoClient(
            self.base_url,
            self.username,
            self.password,
            timeout=self.timeout,
            **kwargs,  # type: ignore[arg-type]
        )


def clean_server(url: str) -> str:
    """The base URL ``url`` as the store keeps it: as given, minus userinfo, query, fragment.

    Raises :class:`ConfigError` for anything but an http(s) URL with a host; the message
    never repeats a URL that holds userinfo (it may hold a password).
    """
    try:
        parts = urlsplit(url.strip())
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:  # a bad port, or brackets that hold no IPv6 address
        valid = False
    if not valid:
        shown = "the server URL" if "@" in url else f"server {url!r}"
        raise ConfigError(f"{shown} is not an http(s) base URL such as https://app-api.sipalto.com")
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
