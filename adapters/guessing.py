"""Header guessing: a mapping from a header row's common column names, when none is given.

:func:`adapters.tabular.find_layout` tries a shipped preset first
(:func:`adapters.mapping.detect_preset`); failing that, :func:`guess_mapping` recognises
common headers (Name, First Name, Company, Mobile, Phone 1, ...) and builds a
:class:`~adapters.mapping.Mapping` from them. Fax and pager columns are never guessed as
phones (:func:`non_voice_columns` names them for a message): a PBX phonebook is for
calling.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from adapters.mapping import Mapping, PhoneColumn, as_template

# Headers recognised without a mapping, compared as their words (see _words).
_KEY_HEADERS = frozenset(
    {"id", "contact id", "contactid", "uid", "guid", "external id", "record id", "customer id"}
)
_FULL_NAME_HEADERS = frozenset(
    {"name", "full name", "fullname", "display name", "displayname", "contact name", "contact"}
)
_FIRST_NAME_HEADERS = frozenset({"first name", "firstname", "first", "given name", "forename"})
_MIDDLE_NAME_HEADERS = frozenset({"middle name", "middlename", "middle", "additional name"})
_LAST_NAME_HEADERS = frozenset(
    {"last name", "lastname", "last", "surname", "family name", "familyname"}
)
_COMPANY_HEADERS = frozenset(
    {
        "company",
        "company name",
        "organisation",
        "organization",
        "organisation name",
        "organization name",
        "org",
        "business",
        "business name",
    }
)
_PHONE_WORDS = frozenset(
    {
        "phone",
        "phones",
        "telephone",
        "tel",
        "mobile",
        "mob",
        "cell",
        "cellphone",
        "landline",
        "ddi",
        "switchboard",
    }
)
# Whole headers that name a phone column without using a phone word.
_PHONE_HEADERS = frozenset({"direct line", "direct dial", "phone line", "contact number"})
# A header that is just one of these words (perhaps numbered) names a phone column
# in a phone list ("Mobile, Work, Home"); inside longer headers they mean other things.
_BARE_PHONE_WORDS = frozenset({"work", "home", "office", "private", "direct", "main", "number"})
# Columns about phones that do not hold a callable number.
_NOT_PHONE_WORDS = frozenset(
    {"fax", "pager", "type", "label", "email", "mail", "ext", "extension", "country", "code"}
)


def guess_mapping(headers: Sequence[str]) -> Mapping | None:
    """A mapping from common header names, or ``None`` without a name and a phone column.

    Fax and pager columns are left out on purpose: a PBX phonebook is for calling.
    """
    kinds: dict[str, list[str]] = {}
    for header in headers:
        kind = _header_kind(header)
        if kind and header not in kinds.get(kind, []):
            kinds.setdefault(kind, []).append(header)
    names: list[str] = []
    if "full" in kinds:
        names.append(as_template(kinds["full"][0]))
    person = [kinds[k][0] for k in ("first", "middle", "last") if k in kinds]
    if person:
        names.append(" ".join(as_template(col) for col in person))
    if "company" in kinds:
        names.append(as_template(kinds["company"][0]))
    if not names or "phone" not in kinds:
        return None
    key = kinds.get("key", [None])[0]
    return Mapping(
        name="(recognised headers)",
        names=tuple(names),
        phones=tuple(PhoneColumn(col) for col in kinds["phone"]),
        key=as_template(key) if key else None,
        origin="recognised headers",
    )


def non_voice_columns(headers: Sequence[str]) -> list[str]:
    """Header names that look like fax or pager columns (worth a message when skipped)."""
    return [h for h in headers if {"fax", "pager"} & set(_words(h))]


def _header_kind(header: str) -> str | None:
    norm = " ".join(_words(header))
    for kind, names in (
        ("key", _KEY_HEADERS),
        ("full", _FULL_NAME_HEADERS),
        ("first", _FIRST_NAME_HEADERS),
        ("middle", _MIDDLE_NAME_HEADERS),
        ("last", _LAST_NAME_HEADERS),
        ("company", _COMPANY_HEADERS),
    ):
        if norm in names:
            return kind
    words = [w for w in _words(header) if not w.isdigit()]
    if not words or set(words) & _NOT_PHONE_WORDS:
        return None
    if (
        " ".join(words) in _PHONE_HEADERS
        or set(words) & _PHONE_WORDS
        or (len(words) == 1 and words[0] in _BARE_PHONE_WORDS)
    ):
        return "phone"
    return None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+|\d+", text.casefold())
