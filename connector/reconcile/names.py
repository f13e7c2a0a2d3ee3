"""Names: what to show, and what to compare.

A contact's *display name* is what the source says, tidied only where the difference is
invisible (surrounding and repeated whitespace, Unicode composition): it is what Sipalto
will show on a ringing phone. Its *key* is for comparison only and forgives what people do
to names: case, accents, punctuation and apostrophes, ``Surname, Forename``, titles
(``Dr``, ``Mrs``) and company suffixes (``Ltd``, ``Limited``, ``PLC``)::

    display_name("  José   Álvarez ")   -> "José Álvarez"
    name_key("Álvarez, José")           -> "jose alvarez"
    name_key("Dr. J. O'Brien")          -> "j obrien"
    name_key("ACME Trading Limited")    -> "acme trading"
    name_key("Marks & Spencer PLC")     -> "marks and spencer"
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["display_name", "name_key", "name_tokens"]

# Letters that Unicode decomposition does not reduce to ASCII.
_FOLD = str.maketrans(
    {"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "æ": "ae", "Æ": "ae"}
    | {"œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "ı": "i"}
)
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_DOTTED = re.compile(r"\b(?:[^\W\d_]\.){2,}")  # "L.L.P.", "J.R.R."
_NON_WORD = re.compile(r"[\W_]+")
_WHITESPACE = re.compile(r"\s+")

# Word lists read better as one string each than as a column of quoted words.
#: Leading words dropped for comparison: "Dr John Smith" is John Smith.
TITLES = frozenset(
    "mr mrs ms miss mx dr doctor prof professor sir dame rev revd reverend fr father "  # noqa: SIM905
    "lord lady capt captain cllr hon".split()
)
#: Trailing words dropped for comparison: "Acme Ltd" is "ACME Limited".
COMPANY_SUFFIXES = frozenset(
    "ltd limited plc llp lp llc inc incorporated corp corporation co company "  # noqa: SIM905
    "gmbh ag bv nv sa sarl srl spa pty pte cic".split()
)
#: Trailing honours dropped for comparison ("Jr" and "Sr" stay: they tell people apart).
POST_NOMINALS = frozenset("phd mbe obe cbe kbe dbe qc kc esq".split())  # noqa: SIM905

_TRAILING = COMPANY_SUFFIXES | POST_NOMINALS
# "Smith, John" is a person written surname first when both sides are short plain names.
_MAX_SURNAME_WORDS = 2
_MAX_FORENAME_WORDS = 4


def display_name(text: str) -> str:
    """The name as the source says it: trimmed, inner whitespace collapsed, NFC composed."""
    if text.isascii() and text.isprintable() and "  " not in text:
        return text.strip()  # the common case, already tidy inside
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def name_key(text: str) -> str:
    """The comparison key: casefolded, accent-free, punctuation-free words, titles and
    company suffixes dropped, ``Surname, Forename`` turned round. Never shown to users."""
    return " ".join(name_tokens(text))


@lru_cache(maxsize=1 << 18)
def name_tokens(text: str) -> tuple[str, ...]:
    """The words of :func:`name_key`, in order (memoised: names repeat across both sides)."""
    folded = _fold(text)
    if "," not in folded:
        return _strip_affixes(_words(folded))
    parts = [words for words in map(_words, folded.split(",")) if words]
    # "Smith, John, MBE": a part of honours or suffixes only is no part of the name.
    parts = [words for words in parts if not set(words) <= _TRAILING] or parts
    if len(parts) == 2 and _is_surname_first(parts[0], parts[1]):
        return _strip_affixes(parts[1] + parts[0])
    return _strip_affixes([word for words in parts for word in words])


def _fold(text: str) -> str:
    """Casefold, drop accents and apostrophes; ``&`` is ``and``."""
    text = text.casefold()  # first: upper and lower case must fold to the same letters
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        # Compatibility forms ("𝐴", "𝚤") decompose to letters that need folding again.
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
        text = text.translate(_FOLD)
    text = _APOSTROPHES.sub("", text)
    if "." in text:
        text = _DOTTED.sub(_undot, text)
    return text.replace("&", " and ")


def _undot(match: re.Match[str]) -> str:
    """'L.L.P.' is the suffix LLP; 'J.R.R.' stays three initials."""
    word = match.group().replace(".", "")
    return word if word in _TRAILING else " ".join(word)


def _words(text: str) -> list[str]:
    return _NON_WORD.sub(" ", text).split()


def _is_surname_first(left: list[str], right: list[str]) -> bool:
    if not 1 <= len(left) <= _MAX_SURNAME_WORDS or not 1 <= len(right) <= _MAX_FORENAME_WORDS:
        return False
    words = left + right
    return not any(word in COMPANY_SUFFIXES or any(ch.isdigit() for ch in word) for word in words)


def _strip_affixes(words: list[str]) -> tuple[str, ...]:
    """Drop leading titles and trailing suffixes, but never every word ("Dr", "Ltd")."""
    start, end = 0, len(words)
    while end - start > 1 and (words[start] in TITLES or words[start] == "and"):
        start += 1  # "and" too: "Mr & Mrs Smith"
    while end - start > 1 and (words[end - 1] in _TRAILING or words[end - 1] == "and"):
        end -= 1  # "and" too: "Smith & Co" leaves a dangling "and"
    return tuple(words[start:end])
