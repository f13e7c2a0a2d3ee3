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
* Nothing separates inside an amount, a date or a time (:func:`not_a_phone_reason`): the
  comma of ``1,234``, ``12,5`` or ``£1,100`` and the ``/`` of ``01/02/2024`` are part of
  it, so it is judged whole instead of being cut into pieces that look like extensions.

It also holds the tool's one rule for values that hold digits but are not phone numbers
at all (:func:`not_a_phone_reason`): amounts of money, percentages, dates, times and
decimal numbers, which people export from the wrong column or type into a phone column
(``12.5``, ``£25.00``, ``10:30``, ``1 Feb 2024``, ``12%``). Read as digits they would
be extensions (``125``, ``2500``, ``1030``): a wrong write that nobody asked for.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "DIAL_PAUSE",
    "EXTENSION_MARKER",
    "MIN_NUMBER_DIGITS",
    "digit_count",
    "has_separator",
    "not_a_phone_reason",
    "remove_not_dialled",
    "split_numbers",
]

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

# -- values that are not phone numbers ----------------------------------------------------
# Each token below is a quantity that is never dialled. A value is "not a phone number" when
# its digits all belong to such tokens; a phone number with a remark beside it
# ("020 7946 0123 (9:00-17:00)") keeps its own digits outside them: it is read without
# the remark's digits (remove_not_dialled), never rejected for it.

# Every currency sign Unicode knows (category Sc: $ £ € ¥ ₹ ₽ ...); none is ever in a number.
# Written out (those of Unicode 14, Python 3.11's; a test holds them to unicodedata's):
# looking them up among 65,536 characters took a hundredth of a second at every start.
_CURRENCY_SIGNS = (
    "$\u00a2\u00a3\u00a4\u00a5\u058f\u060b\u07fe\u07ff\u09f2\u09f3\u09fb\u0af1\u0bf9"
    "\u0e3f\u17db" + "".join(map(chr, range(0x20A0, 0x20C1))) + "\ua838\ufdfc\ufe69\uff04"
    "\uffe0\uffe1\uffe5\uffe6"
)
# ISO 4217 codes of the currencies a phone list is likely to meet. Codes that are also
# words or labels (ALL, TOP, MOP, CUP, TRY) are left out: "TOP 0161 496 0000" is a label.
_CURRENCY_CODES = (
    "GBP|USD|EUR|CHF|JPY|CAD|AUD|NZD|SEK|NOK|DKK|ISK|PLN|CZK|HUF|RON|BGN|RUB|UAH|INR|CNY|"
    "RMB|HKD|SGD|KRW|ZAR|BRL|MXN|ARS|AED|SAR|ILS|NGN|KES"
)
_AMOUNT = r"\d+(?:[.,]\d+)*"  # 25, 25.00, 1,234.56, 12,50: no spaces, which separate numbers
# 25, or 10-20 before a % or a code; no spaces, or the last group of "0161 496 0000 - 20%"
# would be taken for the start of a range.
_AMOUNTS = rf"{_AMOUNT}(?:[-\u2013]{_AMOUNT})?"
_CURRENCY = rf"(?:[{re.escape(_CURRENCY_SIGNS)}]|(?<![A-Za-z])(?:{_CURRENCY_CODES})(?![A-Za-z]))"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH_NUMBER = r"(?:0?[1-9]|1[0-2])"
_MONTH_NAME = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![a-z])"
)
_ORDINAL = r"(?i:st|nd|rd|th)?"
_AM_PM = r"\s*(?i:[ap]\.?m\.?)(?![a-z])"
_CLOCK = rf"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:{_AM_PM})?"
_TOKENS = {
    # £25.00, $5, 12,50 €, GBP 25, 25 USD; a sign on its own (€) too. A sign between two
    # numbers is the second's: in "0906 123 4567 £1.50" the 4567 is the phone number's.
    "money": rf"{_CURRENCY}\s*-?(?:{_AMOUNT})?|{_AMOUNTS}\s*{_CURRENCY}(?!\s*-?\d)",
    "percentage": rf"{_AMOUNTS}\s*%(?![0-9A-Fa-f]{{2}})",  # not tel: URI escapes (%20)
    # 2024-02-01, 01/02/2024, 1.2.24, 1 Feb 2024, 1-Feb-2024, Feb 1st, 2024, Feb 2024.
    "date": (
        "|".join(
            rf"(?:19|20)\d\d{sep}{_MONTH_NUMBER}{sep}{_DAY}|{_DAY}{sep}{_DAY}{sep}(?:19|20)?\d\d"
            for sep in ("-", "/", r"\.")  # the same separator twice
        )
        + rf"|{_DAY}{_ORDINAL}[\s-]*{_MONTH_NAME}(?:[\s,-]+(?:19|20)?\d\d)?"
        rf"|{_MONTH_NAME}[\s-]*{_DAY}{_ORDINAL}(?:,?\s+(?:19|20)\d\d)?"
        rf"|{_MONTH_NAME}\s*(?:19|20)\d\d"
    ),
    # 10:30, 10:30:00, 9.30am, 9 pm.
    "time": rf"{_CLOCK}|(?:[01]?\d|2[0-3])(?:[.:][0-5]\d)?{_AM_PM}",
    "scientific": r"\d(?:[.,]\d+)?[eE][-+]?\d{1,3}",  # 1.5e-05, 7.7009E+09
    "thousands": r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+,\d+",  # 1,234 1.234,5
    # A decimal point or comma: 12.5, 45.50, 12,5, 0.333333, 1009.5. Dots also group the
    # digits of a phone number (020.7946.0123, 07700.900123), so one dot with three or more
    # digits after it is a decimal only after 0 or in a number too short to dial (at most
    # six digits). A comma also lists numbers (1009,1010; 0,07700 900123 after "ext."), so
    # it is a decimal comma only before one or two digits.
    "decimal": r"\d+[.,]\d{1,2}|0\.\d+|(?=[\d.]{3,7}(?![\d.,]))\d+\.\d+",
}
# A token may be a range (9:00-17:00, £10-£20, 12.5-13.5). It stands alone: not a piece of
# a longer run of digits and separators (the "0.79" inside 020.7946.0123, the "07-12-34"
# inside 07-12-34-56-78, the "23:00" inside a Google ":::" run). It starts with a digit, a
# currency sign or a word (the first lookahead only saves time: no token starts elsewhere).
_NOT_DIALLED = re.compile(
    rf"(?=[\d{re.escape(_CURRENCY_SIGNS)}]|(?<![A-Za-z])[A-Za-z])(?<![\d.,:/])(?<!\d-)(?:"
    + "|".join(
        rf"(?P<{kind}>(?:{pattern})(?:\s*[-\u2013]\s*(?:{pattern}))?)"
        for kind, pattern in _TOKENS.items()
    )
    + r")(?!\d|[-.,:/]\d)"
)
# Every token holds a currency sign, one of "%:.,/", a letter (a month, am/pm, a currency
# code, the e of 1e5) or a date's two dashes: a value with none, as most phone numbers are,
# needs no scan with the expression above, which costs as much as parsing the number.
_TOKEN_CHAR = re.compile(rf"[{re.escape(_CURRENCY_SIGNS)}%:.,/A-Za-z]")
_DASHED_DATE = re.compile(r"-\d\d?-")
_LOOKS_LIKE = {
    "money": "an amount of money",
    "percentage": "a percentage",
    "date": "a date",
    "time": "a time",
    "scientific": "a number in scientific notation",
    "thousands": "a number with thousands separators",
    "decimal": "a decimal number",
}


#: A number that went through a float on its way here (pandas, some exporters):
#: ``7700900123.0``. Not a decimal: the sources read it back as its digits, with a note.
FLOAT_NUMBER = re.compile(r"^(\+?\d{5,})\.0+$")


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
    if separators and _may_hold_tokens(text):
        tokens = [match.span() for match in _NOT_DIALLED.finditer(text)]
        separators = [s for s in separators if not _overlaps(s.span(), tokens)]
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


def has_separator(text: str) -> bool:
    """Whether ``text`` holds anything that may separate two numbers.

    Text without one is a single number to :func:`split_numbers` (stripped of its edges):
    most phone values, which so need no closer look.
    """
    return _SEPARATOR.search(text) is not None


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


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


def not_a_phone_reason(text: str) -> str | None:
    """Why ``text`` is not a number to dial, or None when it may be one.

    Not a number: a value whose digits all belong to an amount of money (``£25.00``,
    ``GBP 25``), a percentage (``12%``), a date (``01/02/2024``, ``1 Feb 2024``), a time
    (``10:30``, ``9.30am``), a number in scientific notation, or a decimal number
    (``12.5``, ``1,234``), or a range of one of them (``9:00-17:00``, ``£10-£20``). A
    currency sign on its own (``€``) is money too.

    A decimal point is told from dots grouping a phone number's digits (``020.7946.0123``)
    by the digits: a single dot is a decimal point when one or two digits follow it, when
    the number before it is 0, or when the whole has at most six digits; two or more dots
    group a number. A comma between digits with no space is a thousands separator in
    ``1,234`` (one to three digits, then groups of three) and a decimal comma before one or
    two digits (``12,5``); otherwise it separates numbers (``1009,1010``). A run of three
    numbers joined by the same ``-``, ``/`` or ``.`` is a date only if it stands alone: in
    ``01.23.45.67.89`` it is part of a number.

    Everything else is left to the phone number reader, which decides what is possible:
    ``None`` does not mean the value is a valid number.

    >>> not_a_phone_reason("12.5")
    '12.5 looks like a decimal number, not a phone number'
    >>> not_a_phone_reason("020.7946.0123") is None
    True
    """
    kind = _not_dialled(text)
    if kind is None:
        return None
    return f"{text.strip()} looks like {_LOOKS_LIKE[kind]}, not a phone number"


def _not_dialled(text: str) -> str | None:
    """The kind of the first token when every digit of ``text`` is in such a token."""
    tokens = _tokens(text)
    if not tokens:
        return None
    end = 0
    for start, stop, _, _ in tokens:
        if digit_count(text[end:start]):
            return None
        end = stop
    kind = next((kind for _, _, _, kind in tokens if kind is not None), None)
    return None if kind is None or digit_count(text[end:]) else kind


def remove_not_dialled(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with its amounts, percentages, dates, times and decimal numbers blanked out,
    and those, as written.

    What a remark next to a number holds (``020 7946 0123 (9:00-17:00)``,
    ``0906 123 4567 (£1.50/min)``) is never part of the number: reading its digits too
    would give a number nobody has. Text with none gives ``(text, ())``.

    >>> remove_not_dialled("07700 900123 from 1 Feb 2024")
    ('07700 900123 from  ', ('1 Feb 2024',))
    """
    tokens = _tokens(text)
    if not tokens:
        return text, ()
    kept, end = [], 0
    for start, stop, _, _ in tokens:
        kept.append(text[end:start])
        end = stop
    kept.append(text[end:])
    return " ".join(kept), tuple(token for _, _, token, _ in tokens)


@lru_cache(maxsize=16)
def _tokens(text: str) -> tuple[tuple[int, int, str, str | None], ...]:
    """The amounts, percentages, dates, times and decimal numbers in ``text``: each one's
    start, end, text and kind, in order. The phone reader asks twice of a value's piece
    (is it a number at all, then what does its remark hold): one scan serves both."""
    if not _may_hold_tokens(text):
        return ()
    return tuple(
        (match.start(), match.end(), match.group(), match.lastgroup)
        for match in _NOT_DIALLED.finditer(text)
    )


def _may_hold_tokens(text: str) -> bool:
    if _TOKEN_CHAR.search(text):
        return True
    return "-" in text and _DASHED_DATE.search(text) is not None
