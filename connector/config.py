"""Connection settings: environment variables, overridden by command-line options.

``SIPALTO_BASE_URL`` (default ``https://app-api.sipalto.com``), ``SIPALTO_USERNAME``,
``SIPALTO_PASSWORD`` and ``SIPALTO_TIMEOUT`` (seconds). The password is held in a field
that never shows in a repr, so settings can be logged safely.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from connector.api.client import DEFAULT_BASE_URL, SipaltoClient
from connector.errors import ConfigError


@dataclass(frozen=True)
class ConnectionSettings:
    """Where the Sipalto API is and who we are there."""

    base_url: str = DEFAULT_BASE_URL
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConnectionSettings:
        """Read ``SIPALTO_*`` variables (from ``os.environ`` unless given)."""
        env = os.environ if environ is None else environ
        timeout_text = env.get("SIPALTO_TIMEOUT", "30")
        try:
            timeout = float(timeout_text)
        except ValueError:
            raise ConfigError(
                f"SIPALTO_TIMEOUT={timeout_text!r} is not a number of seconds"
            ) from None
        return cls(
            base_url=env.get("SIPALTO_BASE_URL") or DEFAULT_BASE_URL,
            username=env.get("SIPALTO_USERNAME", ""),
            password=env.get("SIPALTO_PASSWORD", ""),
            timeout=timeout,
        ).validated()

    def with_overrides(self, **values: object) -> ConnectionSettings:
        """A copy with every non-``None`` value replaced."""
        given = {k: v for k, v in values.items() if v is not None}
        return replace(self, **given).validated()  # type: ignore[arg-type]

    def validated(self) -> ConnectionSettings:
        """Check the URL and timeout; raise :class:`ConfigError` with what to fix."""
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"base URL {self.base_url!r} is not an http(s) URL, e.g. {DEFAULT_BASE_URL}"
            )
        if self.timeout <= 0:
            raise ConfigError("the timeout must be a positive number of seconds")
        return self

    def client(self, **kwargs: object) -> SipaltoClient:
        """A :class:`SipaltoClient` for these settings (extra keyword arguments pass through)."""
        return SipaltoClient(
            self.base_url,
            self.username,
            self.password,
            timeout=self.timeout,
            **kwargs,  # type: ignore[arg-type]
        )
