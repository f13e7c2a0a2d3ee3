"""Delimited text: which delimiter a CSV-like file uses.

The one sniffer for every delimited file the tool reads: contact sources
(:mod:`adapters.csvfile`) and filled-in decision files
(:mod:`connector.reconcile.decisions`), so both accept the same spreadsheet dialects.

Excel's ``sep=;`` first line, when present, settles it. Otherwise the delimiter is the
one of ``,`` ``;`` tab ``|`` that splits the most sample rows into the same number of
fields: counting on one line alone is fooled by a header or a name holding commas
(``Müller, Hans;030 1234567``), and a consistent width over many rows is not.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator

__all__ = ["DELIMITERS", "DELIMITER_NAMES", "sniff_delimiter"]

#: Delimiters tried, in order of preference when they score the same.
DELIMITERS = (",", ";", "\t", "|")
#: How messages name each delimiter ("semicolon-separated").
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

_SNIFF_LINES = 50
# Excel writes this first line to say which delimiter follows.
_SEP_LINE = re.compile(r'^"?sep=(.)"?\s*$')


def sniff_delimiter(sample: str) -> tuple[bool, str]:
    """``(has a sep= line, delimiter)`` for the text at the start of a file.

    When the first item is true, the first line is Excel's ``sep=`` line and not data.
    """
    lines = sample.splitlines()
    match = _SEP_LINE.match(lines[0]) if lines else None
    if match and match.group(1) in DELIMITERS:
        return True, match.group(1)
    text = "\n".join(lines[:_SNIFF_LINES])
    best, best_score = DELIMITERS[0], (0, 0)
    for delimiter in DELIMITERS:
        rows = _readable(csv.reader(io.StringIO(text), delimiter=delimiter))
        widths = Counter(len(row) for row in rows if len(row) > 1)
        if not widths:
            continue
        width, count = max(widths.items(), key=lambda item: (item[1], item[0]))
        if (count, width) > best_score:
            best, best_score = delimiter, (count, width)
    return False, best


def _readable(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    """The rows up to the first the csv module cannot read (a huge field): enough to
    judge a delimiter by, and the reader reports that row in its place."""
    with contextlib.suppress(csv.Error):
        yield from rows
