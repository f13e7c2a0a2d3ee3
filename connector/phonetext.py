"""Phone text: cutting a value that holds several phone numbers into one piece per number.

The one splitting rule of the tool, used where numbers are read (:mod:`adapters.base`, for
every cell and vCard ``TEL``) and where they are normalised
(:mod:`connector.reconcile.phones`, for every value, the phonebook's own included). It
lives in connector's core because both need it and the adapters may not import the
reconciler.

It is a text heuristic, deliberately not a ``phonenumbers`` parse: it never guesses a
country and never changes a piece, and validating each piece is the reconciler's job.
People type several numbers into one cell (``07700 900123 / 0161 496 0000``,
``01491 833000 or 07852 902011``, one per line) and Google's CSV export joins them with
``" ::: "``; but the same characters sit inside single numbers and their extras:
``030/1234567`` (a German area code), ``310/246-1501``, ``020 7946 0123, ext 4``,
``+1 212 555 1234,,204`` (dial pauses). So each separator is judged by the text on either
side of it, up to the neighbouring separators:

* ``:::`` always separates.
* A list separator (a line break, ``;``, ``|``, ``,``, or a run of them; `` or ``,
  `` and ``, `` & ``) separates when both sides hold digits, except before an extension
  (``ext 4``, ``x204``, ``#204``) or a ``tel:`` URI parameter (``;phone-context=+44``),
  and except as a dial pause (``,,`` or ``;;`` straight after the number, then fewer than
  :data:`MIN_NUMBER_DIGITS` digits and no label: those are dialled once the call
  connects). A side with no digits is a label (``07852 902011, mobile``) and stays with
  its number.
* ``/`` separates two whole numbers only, each side with at least
  :data:`MIN_NUMBER_DIGITS` digits: never ``030/1234567``, ``01491 833000/833001`` or
  ``1009/1010``.
"""

from __future__ import annotations

import re

__all__ = ["DIAL_PAUSE", "EXTENSION_MARKER", "MIN_NUMBER_DIGITS", "digit_count", "split_numbers"]

#: The fewest digits each side of a ``/`` needs for the ``/`` to separate two numbers.
#: Seven covers a local number without its area code (US ``555-1234``); every area code
#: (``030``, ``0161``, ``310``) is shorter, so it never splits off.
MIN_NUMBER_DIGITS = 7

#: How an extension is introduced: ``ext``, ``ext.``, ``extn``, ``extension``, ``x``, ``#``.
EXTENSION_MARKER = r"(?:e?xt(?:ension|n)?\.?|x|#)"
#: A dial pause or wait (``,,``, ``;;``): what follows is dialled once the call connects.
DIAL_PAUSE = r"[,;]{2}"

_SEPARATOR = re.compile(
    r"\s*:::\s*"  # Google's multi-value separator
    r"|[\s;|,/]*[\n;|,][\s;|,/]*"  # a list separator, or a run of them
    r"|\s+(?:or|and|&)\s+"
    r"|\s*/\s*",
    re.IGNORECASE,
)
# What a side that is not a number of its own starts with: an extension or a URI parameter.
_NOT_A_NUMBER = re.compile(rf"\(?\s*{EXTENSION_MARKER}\s*[:.=]?\s*\d|[a-z][\w-]*=", re.IGNORECASE)
_PAUSE = re.compile(DIAL_PAUSE)
# What is dialled after a pause: a few digits (an extension, a PIN), no label.
_DIALLED = re.compile(r"[\d\s#*pw]+", re.IGNORECASE)
_EDGES = " \t\r\n\f\v;|,/"


def digit_count(text: str) -> int:
    """How many decimal digits ``text`` holds (any script: ``٠١٢`` count too)."""
    return sum(ch.isdecimal() for ch in text)


def split_numbers(text: str) -> list[str]:
    """The phone numbers written in ``text``, each stripped, in their written order.

    ``text`` that reads as one number comes back as a one-item list (stripped of spaces
    and stray separators, not otherwise changed); blank text gives ``[]``. Never
    normalises a number, never drops a digit.

    >>> split_numbers("07700 900123 / 0161 496 0000")
    ['07700 900123', '0161 496 0000']
    >>> split_numbers("030/1234567")
    ['030/1234567']
    >>> split_numbers("020 7946 0123, ext 4")
    ['020 7946 0123, ext 4']
    """
    separators = list(_SEPARATOR.finditer(text))
    if not separators:
        stripped = text.strip(_EDGES)
        return [stripped] if stripped else []
    sides = _between(text, separators)
    pieces: list[str] = []
    start = 0
    for index, separator in enumerate(separators):
        if _separates(separator.group(), sides[index], sides[index + 1]):
            pieces.append(text[start : separator.start()])
            start = separator.end()
    pieces.append(text[start:])
    return [piece for piece in (p.strip(_EDGES) for p in pieces) if piece]


def _between(text: str, separators: list[re.Match[str]]) -> list[str]:
    """The text before the first separator, between each two, and after the last."""
    bounds = [0]
    for separator in separators:
        bounds.extend((separator.start(), separator.end()))
    bounds.append(len(text))
    return [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]


def _separates(separator: str, left: str, right: str) -> bool:
    mark = separator.strip()
    if mark == ":::":
        return True
    if mark == "/":
        return digit_count(left) >= MIN_NUMBER_DIGITS and digit_count(right) >= MIN_NUMBER_DIGITS
    if _PAUSE.match(separator) and _dialled_after_pause(right):
        return False
    return (
        digit_count(left) > 0 and digit_count(right) > 0 and not _NOT_A_NUMBER.match(right.lstrip())
    )


def _dialled_after_pause(text: str) -> bool:
    return bool(_DIALLED.fullmatch(text)) and digit_count(text) < MIN_NUMBER_DIGITS
