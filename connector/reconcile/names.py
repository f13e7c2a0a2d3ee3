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

For the rule that one name may hold another (``Kestrel`` / ``Kestrel Joinery Ltd``), a
name's *core words* also set a bracketed qualifier after the rest (``Harbour Dental
(Leeds)``), drop the article at either end (``Old Bakery, The``), and know common
abbreviations (``Deli``, ``St``, ``Bros``); :func:`containment` says whether one name's
core words lead the other's::

    core_words("The Crown (Wells)")                     -> ("crown", "wells")
    containment("Kestrel", "Kestrel Joinery Ltd")        -> Containment("contained", ...)
    containment("Mill Race Deli", "Mill Race Delicatessen") -> Containment("abbreviated", ...)
    containment("Reception", "Harbour Dental Reception") -> None  (no distinctive word)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "GENERATIONS",
    "GENERIC_WORDS",
    "Containment",
    "carries",
    "containment",
    "core_words",
    "display_name",
    "distinctive_words",
    "name_key",
    "name_tokens",
]

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
#: Words that tell parent from child: never contained across them ("John Smith Jr").
GENERATIONS = frozenset("jr jnr junior sr snr senior ii iii iv".split())  # noqa: SIM905
#: Words that name no business or person by themselves: a name made only of these (and
#: initials, numbers, titles, suffixes) holds nothing another name could contain.
GENERIC_WORDS = frozenset(
    "the a an and of at on in by for to de la le les el il du des da di "  # noqa: SIM905
    "reception office offices main head desk switchboard enquiries enquiry sales accounts "
    "admin support service services team department dept branch unit main mobile work home "
    "landline fax direct line restaurant cafe bar grill pub inn hotel diner bistro kitchen "
    "shop store stores house surgery practice clinic centre center group holdings trading "
    "international uk north south east west new old city st saint street road rd lane".split()
)
# Words people shorten, each with what its forms stand for: two words are the same word
# for containment when their meanings meet ("St" is Saint in "St Anne's", Street in "High
# St"; both meet "st").
_ABBREVIATIONS: dict[str, frozenset[str]] = {
    "deli": frozenset({"delicatessen"}),
    "st": frozenset({"saint", "street"}),
    "bros": frozenset({"brothers"}),
    "co": frozenset({"company"}),
    "ltd": frozenset({"limited"}),
    "intl": frozenset({"international"}),
    "assoc": frozenset({"associates"}),
    "ctr": frozenset({"centre", "center"}),
    "centre": frozenset({"center"}),
    "mt": frozenset({"mount"}),
    "rd": frozenset({"road"}),
    "ave": frozenset({"avenue"}),
    "sq": frozenset({"square"}),
    "dept": frozenset({"department"}),
    "mgmt": frozenset({"management"}),
    "svcs": frozenset({"services"}),
    "grp": frozenset({"group"}),
    "hosp": frozenset({"hospital"}),
    "univ": frozenset({"university"}),
}
_MEANINGS: dict[str, frozenset[str]] = {}
for _short, _longs in _ABBREVIATIONS.items():
    for _word in (_short, *_longs):
        _MEANINGS[_word] = _MEANINGS.get(_word, frozenset({_word})) | {_short, *_longs}
# "St" stands for both Saint and Street, but Saint is never Street.
_MEANINGS["saint"] = frozenset({"saint", "st"})
_MEANINGS["street"] = frozenset({"street", "st"})
_ARTICLES = frozenset({"the", "a", "an"})
_BRACKETED = re.compile(r"[(\[]([^()\[\]]*)[)\]]")
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


# -- one name holding another -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Containment:
    """How the core words of ``shorter`` sit in those of ``longer`` (display names).

    ``how`` is ``"contained"`` (the longer name adds words: ``Kestrel`` / ``Kestrel
    Joinery Ltd``), ``"abbreviated"`` (as many words, some shortened: ``Mill Race Deli`` /
    ``Mill Race Delicatessen``) or ``"article"`` (only an article differs: ``Old Bakery
    The`` / ``The Old Bakery``). ``distinctive`` are the shorter name's words that are
    not generic, which any other name must carry to be as good a candidate.
    """

    how: str
    shorter: str
    longer: str
    distinctive: tuple[str, ...]


@lru_cache(maxsize=1 << 16)
def core_words(text: str) -> tuple[str, ...]:
    """The words compared for containment: :func:`name_tokens` of the name outside
    brackets, without an article at either end, then those of each bracketed qualifier
    ("Palm, The (Los Angeles)" -> palm los angeles)."""
    qualifiers = _BRACKETED.findall(text) if "(" in text or "[" in text else []
    main = _BRACKETED.sub(" ", text) if qualifiers else text
    words = list(name_tokens(main))
    while len(words) > 1 and words[0] in _ARTICLES:
        del words[0]
    while len(words) > 1 and words[-1] == "the":
        del words[-1]
    for qualifier in qualifiers:
        words.extend(name_tokens(qualifier))
    return tuple(words)


def distinctive_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """The words that could name someone on their own: not generic, not an initial, a
    number, a title, a suffix or a generation."""
    return tuple(
        word
        for word in words
        if len(word) > 1
        and not word.isdigit()
        and word not in GENERIC_WORDS
        and word not in TITLES
        and word not in _TRAILING
        and word not in GENERATIONS
    )


def carries(words: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Whether every word of ``wanted`` is among ``words`` (abbreviations understood)."""
    return all(any(_same_word(word, have) for have in words) for word in wanted)


def containment(a: str, b: str) -> Containment | None:
    """Whether the core words of one name lead those of the other: the same words, in
    order, at the start of the longer name, or at its end after generic words only
    ("Katsu" / "Restaurant Katsu"). None unless the shorter name has a distinctive word
    and both names have the same generation words ("John Smith" is not in "John Smith
    Jr")."""
    words_a, words_b = core_words(a), core_words(b)
    if len(words_a) > len(words_b) or (len(words_a) == len(words_b) and len(a) > len(b)):
        a, b, words_a, words_b = b, a, words_b, words_a
    distinctive = distinctive_words(words_a)
    if not distinctive or GENERATIONS.intersection(words_a) != GENERATIONS.intersection(words_b):
        return None
    # A comma may turn a name round ("Smith, John") or add a place ("The Heron, Frome"):
    # the words as written are tried too.
    found = next(
        (
            (short, long)
            for short in _orders(a, words_a)
            for long in _orders(b, words_b)
            if _within(short, long)
        ),
        None,
    )
    if found is None:
        return None
    short, long = found
    if len(long) > len(short):
        how = "contained"
    elif short == long:
        how = "article"
    else:
        how = "abbreviated"
    return Containment(how, a, b, distinctive)


def _orders(text: str, words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    if "," not in text:
        return (words,)
    return (words, core_words(text.replace(",", " ")))


def _within(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """``short`` leads ``long``, or ends it after generic words only."""
    extra = len(long) - len(short)
    if extra < 0:
        return False
    if _leads(short, long[: len(short)]):
        return True
    return bool(extra) and set(long[:extra]) <= GENERIC_WORDS and _leads(short, long[extra:])


def _leads(short: tuple[str, ...], part: tuple[str, ...]) -> bool:
    return all(_same_word(x, y) for x, y in zip(short, part, strict=True))


def _same_word(x: str, y: str) -> bool:
    if x == y:
        return True
    meanings = _MEANINGS.get(x)
    return meanings is not None and y in meanings
