"""What libphonenumber's metadata says about a region, in the forms the normaliser needs.

:class:`~connector.reconcile.phones.PhoneNormaliser` asks these questions once per region
or country code and keeps the answers: the national prefix it may strip without asking
libphonenumber, the prefix that turns a national significant number into the national
form, the prefix people write before a national number (which tells a cut-off number
from an extension), how long a whole national number is (which tells a local number
without its area code from one that lost its leading zero), and a validity check
compiled from the metadata's own patterns. Each gives what
libphonenumber itself would answer (``tests/test_phones.py`` checks its verdicts against
libphonenumber's), only quicker: a phonebook holds many thousands of distinct numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers

__all__ = [
    "FICTIONAL_RANGES",
    "home_form_prefix",
    "local_only_lengths",
    "make_validator",
    "shortest_national_length",
    "simple_national_prefix",
    "written_national_prefix",
]

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

#: Ofcom's numbers reserved for drama (TV, film, fiction, examples: never assigned to
#: anyone), as national significant numbers by country code. libphonenumber does not know
#: some of them (07700 900xxx, 01632 960xxx, 0115 496 0xxx); they are valid here, so that
#: sample data, demos and documentation do not warn on every line.
FICTIONAL_RANGES: dict[int, re.Pattern[str]] = {
    44: re.compile(
        r"1(?:1[3-8]4960|[2-5]14960|614960|914980)\d{3}"  # 0113-0118, 0121-0151, 0161, 0191
        r"|2079460\d{3}"  # 020 7946 0xxx, London
        r"|2896496\d{3}"  # 028 9649 6xxx, Belfast
        r"|2920180\d{3}"  # 029 2018 0xxx, Cardiff
        r"|1632960\d{3}"  # 01632 960xxx, no area
        r"|7700900\d{3}"  # 07700 900xxx, mobile
        r"|8081570\d{3}"  # 08081 570xxx, freephone
        r"|9098790\d{3}"  # 0909 879 0xxx, premium rate
        r"|3069990\d{3}"  # 03069 990xxx, UK-wide
    ),
}


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


def written_national_prefix(metadata: phonenumbers.PhoneMetadata) -> str | None:
    """The national prefix when the region writes its national numbers with it, else None.

    GB writes ``01491 833000``, DE ``030 1234567``, FR ``01 23 45 67 89``, RU
    ``8 (812) 123-45-67``: there a short code starting with the prefix (``0161``) is the
    beginning of a number, cut off. The US and Canada write ``(212) 555-1234``: their
    prefix ``1`` is only dialled, so ``1009`` is an extension like any other. Regions
    sharing a country code and no formats of their own (Canada) write as the main region.
    """
    prefix = metadata.national_prefix
    if not prefix:
        return None
    formats = metadata.number_format
    if not formats and metadata.country_code:
        main = phonenumbers.region_code_for_country_code(metadata.country_code)
        main_metadata = phonenumbers.PhoneMetadata.metadata_for_region(main)
        formats = main_metadata.number_format if main_metadata else []
    for fmt in formats:
        rule = (fmt.national_prefix_formatting_rule or "").replace("\\1", "")
        if prefix in rule:
            return prefix
    return None


def shortest_national_length(metadata: phonenumbers.PhoneMetadata) -> int:
    """How many digits the shortest whole national significant number has (GB 9, US 10).

    Counted over fixed-line and mobile numbers, the numbers people keep in a phonebook; a
    few service numbers are shorter (GB's ``0800 1111``) but are always written with
    their prefix. Fewer digits and no prefix make a local number, not a lost leading zero.
    """
    lengths = [
        length
        for desc in (metadata.fixed_line, metadata.mobile)
        if desc is not None
        for length in desc.possible_length
        if length > 0  # -1 marks "no numbers of this type"
    ]
    if not lengths and metadata.general_desc is not None:
        lengths = [n for n in metadata.general_desc.possible_length if n > 0]
    return min(lengths, default=0)


def local_only_lengths(metadata: phonenumbers.PhoneMetadata) -> frozenset[int]:
    """The lengths of numbers dialled only locally, without their area code (GB 4-8, US 7)."""
    descs = (metadata.general_desc, metadata.fixed_line, metadata.mobile)
    return frozenset(
        length for desc in descs if desc is not None for length in desc.possible_length_local_only
    )


def make_validator(country_code: int) -> Callable[[str], bool]:
    """A fast ``is_valid_number`` on the national significant number for one country code.

    Ofcom's drama numbers (:data:`FICTIONAL_RANGES`) are valid too. Otherwise mirrors
    libphonenumber (region chosen by leading digits, else by a matching type; then
    general pattern and some type pattern must match) with each region's type patterns
    compiled into one expression, which is several times quicker than the library call.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    checks: list[tuple[re.Pattern[str] | None, re.Pattern[str]]] = []
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
        general = metadata.general_desc.national_number_pattern or "(?!)"
        types = "|".join(f"(?:{p})" for p in patterns)
        # The general pattern and some type's, as one expression: fullmatch the whole
        # number against both, for the price of one call.
        checks.append((leading, re.compile(f"(?=(?:{general})\\Z)(?:{types})")))

    fictional = FICTIONAL_RANGES.get(country_code)

    def is_fictional(nsn: str) -> bool:
        return fictional is not None and fictional.fullmatch(nsn) is not None

    def is_valid(nsn: str) -> bool:
        # Most numbers are valid: the drama ranges are asked about only when not.
        for leading, pattern in checks:
            if leading is not None:
                if leading.match(nsn):
                    return pattern.fullmatch(nsn) is not None or is_fictional(nsn)
            elif pattern.fullmatch(nsn):
                return True
        return is_fictional(nsn)

    return is_valid
