"""Spreadsheet formula injection: the one rule that defuses a CSV cell, and its inverse.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or
a tab or carriage return, which some strip first) as a formula: a contact named
``=HYPERLINK("http://evil.test","click")`` becomes a live link, and worse. Every CSV the
tool writes (``contacts list``, ``calls list``, the plan's CSV preview) passes each cell
through :func:`escape_formula`, which puts an apostrophe in front of such a cell, as
OWASP advises; the full-width forms (``＝＋－＠``), which some locales also run, are
treated alike.

A phone number such as ``+44 1632 960001`` is left as it is: made of a leading ``+``,
digits, spaces and ``( ) . / -`` only, it has no letters, so it can name no function,
no cell and no link; at worst a spreadsheet shows it as a number. Keeping it unescaped
keeps it readable everywhere (a text editor, another tool, a spreadsheet) and exact.

:func:`unescape_formula` takes one apostrophe off again, so what was written reads back
to the original value. A cell that itself starts with apostrophes before a formula
character gets one more on the way out, so ``'=x`` survives the round trip as well.
"""

from __future__ import annotations

import re

__all__ = ["FORMULA_PREFIXES", "escape_formula", "unescape_formula"]

#: Leading characters a spreadsheet may run as the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

#: The mark put in front of a formula-like cell.
ESCAPE = "'"

# A phone number as people write it: no letter, so nothing a formula could call or reach.
_PHONE_NUMBER = re.compile(r"\+[0-9 ()./-]*[0-9][0-9 ()./-]*")


def _formula_like(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def escape_formula(text: str) -> str:
    """``text`` made safe to open in a spreadsheet; :func:`unescape_formula` undoes it.

    ``=SUM(A1)`` -> ``'=SUM(A1)``; ``'=x`` -> ``''=x``; ``+44 1632 960001``, ``Bob`` and
    ``'t Hooft`` are left as they are.
    """
    rest = text.lstrip(ESCAPE)
    if not _formula_like(rest):
        return text
    if not text.startswith(ESCAPE) and _PHONE_NUMBER.fullmatch(text):
        return text
    return ESCAPE + text


def unescape_formula(text: str) -> str:
    """The value :func:`escape_formula` was given: one apostrophe off a formula-like cell.

    Also takes the apostrophe off a phone number a spreadsheet user protected by hand
    (``'+44 1632 960001``).
    """
    if text.startswith(ESCAPE) and _formula_like(text.lstrip(ESCAPE)):
        return text[1:]
    return text
