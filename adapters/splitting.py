"""Split a cell that holds several phone numbers, without splitting one that holds one.

People type several numbers into one spreadsheet cell (``07700 900123 / 0161 496 0000``),
and Google's CSV export joins them with ``" ::: "``. But the same separators also sit
inside single numbers: ``030/1234567`` (German area code), ``310/246-1501`` (US style),
``020 7946 0123, ext 4``. The rule is therefore: split at a separator only where every
part reads as a number on its own.

"Reads as a number" is a digit count, deliberately not a ``phonenumbers`` parse: the
reconciler owns number validation, and this module must stay a cheap text heuristic
that never guesses a country. A part counts when it has at least
:data:`MIN_NUMBER_DIGITS` digits; short parts (extensions such as ``1009; 1010``) count
only when every part is plain digits-and-punctuation of the same length, and never
across ``/`` (``0201/2345`` is one German number).
"""

from __future__ import annotations

import re

#: The fewest digits a part needs to count as a phone number on its own.
#: Seven covers a local number without its area code (US ``555-1234``); every area
#: code prefix (``030``, ``0161``, ``310``) is shorter, so it never splits off.
MIN_NUMBER_DIGITS = 7

#: The fewest digits for a short code (an internal extension) in a list of short codes.
MIN_SHORT_DIGITS = 3

#: Google's multi-value separator: unambiguous, always split.
GOOGLE_SEPARATOR = " ::: "

# Tried in this order: the separators least likely to sit inside one number first,
# so "030/1234567, 030/7654321" splits at the comma and then keeps each part whole.
_SEPARATORS = ("\n", ";", "|", ",", "/")

# Separators that never join the parts of one short code list: "/" does (0201/2345).
_SHORT_LIST_SEPARATORS = frozenset({"\n", ";", "|", ","})

_PHONE_CHARS = re.compile(r"^[\d\s+().\-]+$")


def digit_count(text: str) -> int:
    """How many decimal digits ``text`` holds (any script: ``٠١٢`` count too)."""
    return sum(ch.isdecimal() for ch in text)


def split_numbers(text: str) -> list[str]:
    """The phone numbers written in ``text``, each stripped, in their written order.

    ``text`` that reads as one number comes back as a one-item list (stripped, not
    otherwise changed); blank text gives ``[]``. Never normalises a number.

    >>> split_numbers("07700 900123 / 0161 496 0000")
    ['07700 900123', '0161 496 0000']
    >>> split_numbers("030/1234567")
    ['030/1234567']
    >>> split_numbers("020 7946 0123, ext 4")
    ['020 7946 0123, ext 4']
    """
    result: list[str] = []
    for chunk in text.split(GOOGLE_SEPARATOR):
        result.extend(_split_chunk(chunk, _SEPARATORS))
    return result


def _split_chunk(text: str, separators: tuple[str, ...]) -> list[str]:
    stripped = _strip_separators(text)
    if not stripped:
        return []
    for index, separator in enumerate(separators):
        parts = [p for p in (_strip_separators(x) for x in stripped.split(separator)) if p]
        if len(parts) < 2 or not _all_numbers(parts, separator):
            continue
        rest = separators[index + 1 :]
        return [number for part in parts for number in _split_chunk(part, rest)]
    return [stripped]


def _strip_separators(text: str) -> str:
    # A trailing "07700 900123;" or a leading "/ 0161..." is debris, not part of a number.
    return text.strip().strip("".join(_SEPARATORS)).strip()


def _all_numbers(parts: list[str], separator: str) -> bool:
    counts = [digit_count(p) for p in parts]
    if all(c >= MIN_NUMBER_DIGITS for c in counts):
        return True
    return (
        separator in _SHORT_LIST_SEPARATORS
        and len(set(counts)) == 1
        and counts[0] >= MIN_SHORT_DIGITS
        and all(_PHONE_CHARS.match(p) for p in parts)
    )
