"""Keeping a CRM's secrets out of every message, log line and URL shown.

A mapping's secrets (tokens, client secrets, api keys, passwords, refresh tokens, and any
header value that comes from an environment variable) are known once the mapping is
resolved; a :class:`Redactor` holds them all, and everything the CRM source says passes
through it: error messages, the request shown in them, excerpts of answers, progress,
and the ``httpx`` log lines of ``-vv``. A secret is also found in its URL-encoded and
Base64 (HTTP basic) forms, as it travels in a query string or an ``Authorization`` header.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

#: What a secret is replaced with.
MASK = "***"
# Shorter values are not hidden inside other text (a one-letter "secret" would mangle every
# message), but are still hidden where they stand whole, as a query value.
_SHORTEST_HIDDEN = 3


class Redactor:
    """Replaces every known secret in a text with :data:`MASK`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._whole: set[str] = set()
        self._forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Know ``secret`` (and its encoded forms) from now on; an empty text is ignored."""
        if not secret or secret in self._whole:
            return
        self._whole.add(secret)
        if len(secret) < _SHORTEST_HIDDEN:
            return
        encoded = base64.b64encode(secret.encode("utf-8")).decode("ascii")
        forms = {secret, quote(secret, safe=""), quote_plus(secret), encoded}
        # Longest first, so a secret holding another is hidden whole.
        self._forms = sorted({*self._forms, *forms}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def is_secret(self, value: str) -> bool:
        """Whether ``value`` is one of the secrets, whole."""
        return value in self._whole

    def url(self, url: str) -> str:
        """``url`` fit to show: no user or password, query values that are secrets masked,
        and any secret left anywhere else masked too."""
        try:
            parts = urlsplit(url)
            netloc = parts.hostname or ""
            if parts.port is not None:
                netloc += f":{parts.port}"
        except ValueError:  # not a URL at all (a junk Location header): hide what is known
            return self(url)
        query = [
            (name, MASK if self.is_secret(value) else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        shown = urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*$,"), ""))
        return self(shown)


class RedactingFilter(logging.Filter):
    """A logging filter that passes each record's text through a :class:`Redactor`
    (``httpx`` logs every request's URL at INFO, which ``-vv`` shows)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        return True
