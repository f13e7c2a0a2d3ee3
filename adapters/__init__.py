"""Source adapters: each turns one kind of file into SourceRecords.

Use :func:`open_source` to open any supported file; :mod:`adapters.mapping` holds the
mapping format and the shipped presets, :mod:`adapters.guessing` the recognition of
common headers when no mapping is given; :mod:`adapters.crm` reads a CRM's REST API.
"""

from typing import TYPE_CHECKING, Any

from adapters.base import Source, build_record
from adapters.guessing import guess_mapping
from adapters.locations import is_url
from adapters.mapping import (
    Mapping,
    PhoneColumn,
    detect_preset,
    list_presets,
    load_mapping,
    preset_text,
)
from adapters.registry import ADAPTERS, EXTENSIONS, detect_format, format_names, open_source
from connector.phonetext import split_numbers

if TYPE_CHECKING:
    from adapters.crm import CrmSource

__all__ = [
    "ADAPTERS",
    "EXTENSIONS",
    "CrmSource",
    "Mapping",
    "PhoneColumn",
    "Source",
    "build_record",
    "detect_format",
    "detect_preset",
    "format_names",
    "guess_mapping",
    "is_url",
    "list_presets",
    "load_mapping",
    "open_source",
    "preset_text",
    "split_numbers",
]


def __getattr__(name: str) -> Any:
    # The CRM reader is loaded when asked for: reading a file has no need of it.
    if name == "CrmSource":
        from adapters.crm import CrmSource

        return CrmSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
