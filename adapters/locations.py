"""What a source's location names: a file, or a CRM's web address.

Apart from :mod:`adapters.crm` so that telling the two apart does not load the CRM
reader (its mapping schema and HTTP machinery) for a file.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["URL_SCHEMES", "is_url"]

#: The URL schemes a CRM source is read from.
URL_SCHEMES = ("http", "https")


def is_url(path: str | Path) -> bool:
    """Whether a source is a CRM's web address (``http://`` or ``https://``), not a file."""
    return (
        isinstance(path, str) and path.split(":", 1)[0].lower() in URL_SCHEMES and ("://" in path)
    )
