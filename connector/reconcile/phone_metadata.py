"""What libphonenumber's metadata says about a region, in the forms the normaliser needs.

:class:`~connector.reconcile.phones.PhoneNormaliser` asks these questions once per region
or country code and keeps the answers: the national prefix it may strip without asking
libphonenumber, the prefix that turns a national significant number into the national
form, and a validity check compiled from the metadata's own patterns. Each gives what
libphonenumber itself would answer (``tests/test_phones.py`` checks its verdicts against
libphonenumber's), only quicker: a phonebook holds many thousands of distinct numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers

__all__ = ["home_form_prefix", "make_validator", "simple_national_prefix"]

# The number types whose patterns together make a number valid (libphonenumber's
# is_valid_number is "some type matches"; its general pattern alone is broader).
_TYPE_DESCS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def simple_national_prefix(metadata: phonenumbers.PhoneMetadata) -> str | None:
    """The national prefix when stripping it is unconditional (GB's ``0``), else None.

    Regions with transform rules (Argentina's mobile ``15``) are left to libphonenumber.
    """
    prefix = metadata.national_prefix
    if not prefix or metadata.national_prefix_transform_rule:
        return None
    return prefix


def home_form_prefix(metadata: phonenumbers.PhoneMetadata) -> str | None:
    """The prefix that, put before the national significant number, gives the national
    form of every home number (GB: ``0``); None when formats differ and only
    ``format_number(NATIONAL)`` knows."""
    prefix = simple_national_prefix(metadata)
    if prefix is None:
        return None
    rules = {fmt.national_prefix_formatting_rule for fmt in metadata.number_format}
    return prefix if rules == {prefix + "\\1"} else None


def make_validator(country_code: int) -> Callable[[str], bool]:
    """A fast ``is_valid_number`` on the national significant number for one country code.

    Mirrors libphonenumber (region chosen by leading digits, else by a matching type; then
    general pattern and some type pattern must match) with each region's type patterns
    compiled into one expression, which is several times quicker than the library call.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    checks: list[tuple[re.Pattern[str] | None, re.Pattern[str], re.Pattern[str]]] = []
    for region in regions:
        if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            metadata = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(country_code)
        else:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None or metadata.general_desc is None:
            continue
        patterns = [
            desc.national_number_pattern
            for desc in (getattr(metadata, name) for name in _TYPE_DESCS)
            if desc is not None and desc.national_number_pattern
        ]
        if not patterns:
            continue
        leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
        general = re.compile(metadata.general_desc.national_number_pattern or "(?!)")
        types = re.compile("|".join(f"(?:{p})" for p in patterns))
        checks.append((leading, general, types))

    def is_valid(nsn: str) -> bool:
        for leading, general, types in checks:
            matches = bool(general.fullmatch(nsn) and types.fullmatch(nsn))
            if leading is not None:
                if leading.match(nsn):
                    return matches
            elif matches:
                return True
        return False

    return is_valid
