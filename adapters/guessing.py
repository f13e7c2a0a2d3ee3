"""Header guessing: a mapping from a header row's common column names, when none is given.

:func:`adapters.tabular.find_layout` tries a shipped preset first
(:func:`adapters.mapping.detect_preset`); failing that, :func:`guess_mapping` recognises
common headers (Name, First Name, Company, Mobile, Phone 1, ...) and builds a
:class:`~adapters.mapping.Mapping` from them. Fax and pager columns are never guessed as
phones (:func:`non_voice_columns` names them for a message): a PBX phonebook is for
calling. Nor is a header that mentions a phone but is about something else: money
(``Monthly Phone Bill``), a date (``Mobile Contract End``), a kind (``Phone Type``), a count
(``Number of Phones``); :func:`left_out_columns` names those and why.

A guess is only a guess, so the values have the last word: before a guessed phone column
is used, most of its filled values among the first :data:`VALUE_CHECK_ROWS` rows must
pass :func:`reads_as_phone_number` (:func:`unreadable_phone_columns` does the counting).
Columns named by a mapping, given or preset, are never judged: the user said so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adapters.mapping import Mapping, PhoneColumn, as_template
from connector.phonetext import EXTENSION_MARKER, FLOAT_NUMBER, digit_count, not_a_phone_reason

#: How many data rows under the header are read to judge a guessed phone column.
#: Enough to outvote a few odd cells, few enough to cost nothing on a big file.
VALUE_CHECK_ROWS = 200

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
        "telephones",
        "tel",
        "mobile",
        "mobiles",
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
# Columns about phones that do not hold a number to dial, by what they are about (the
# topic is the message's reason). Fax and pager come first: they have their own message.
_NON_VOICE = "fax or pager"
_NOT_PHONE_TOPICS: tuple[tuple[str, frozenset[str]], ...] = (
    (_NON_VOICE, frozenset({"fax", "pager"})),
    (
        "money",
        frozenset(
            {
                "bill", "bills", "billing", "billed", "cost", "costs", "price", "prices",
                "charge", "charges", "tariff", "tariffs", "allowance", "spend", "spent",
                "amount", "fee", "fees", "rental", "rent", "budget", "invoice", "payment",
                "expense", "expenses", "gbp", "usd", "eur", "vat",
            }
        ),
    ),
    (
        "a date or time",
        frozenset(
            {
                "end", "ends", "ended", "start", "starts", "started", "date", "dates",
                "expiry", "expires", "expiration", "renewal", "renewed", "renews", "since",
                "contract", "until", "time", "updated", "created", "modified",
            }
        ),
    ),
    (
        "a kind or label",
        frozenset(
            {
                "type", "kind", "label", "model", "make", "brand", "provider", "carrier",
                "network", "plan", "handset", "device",
            }
        ),
    ),
    (
        "a count or usage",
        frozenset(
            {"count", "minutes", "mins", "calls", "usage", "data", "total", "qty", "quantity",
             "texts"}
        ),
    ),
    ("an extension", frozenset({"ext", "extn", "extension"})),
    ("a code", frozenset({"country", "code"})),
    ("email", frozenset({"email", "mail"})),
)  # fmt: skip
# "Number of Phones", "No. of Mobiles", "# of lines": a count, whatever words follow.
_COUNT_PHRASE = re.compile(r"(?:\b(?:number|no|num)\b\.?|#)\s*of\b", re.IGNORECASE)
# Money and percentages by their signs: "Mobile (£)", "Usage %".
_MONEY_SIGN = re.compile(r"[£$€¥]")
_PERCENT_SIGN = "%"

# What a phone value may hold besides its digits: "+", the punctuation numbers are written
# with, and the separators of several numbers in one cell (":::" is Google's).
_PHONE_PUNCTUATION = re.compile(r"[\s+\-.()\[\]/;,|]|:::")
# An extension marker ("ext. 12", "x204", "#204", ";ext=204") or a tel: URI prefix.
_EXTENSION_OR_URI = re.compile(rf"\btel:|{EXTENSION_MARKER}\s*[:.=]?", re.IGNORECASE)
# What a spreadsheet writes for a long number in a General cell (7.7009E+09): a phone
# number whose digits are lost, in a phone column; the reader explains it on the record.
_SCIENTIFIC = re.compile(r"\d(?:[.,]\d+)?E\+\d+", re.IGNORECASE)
# How much of an example value a message shows.
_SHOWN_CHARS = 40
# The fewest digits a value needs to read as a number: a two-digit value is a count or a
# day far more often than a phone.
_MIN_DIGITS = 3


def guess_mapping(headers: Sequence[str]) -> Mapping | None:
    """A mapping from common header names, or ``None`` without a name and a phone column.

    Fax and pager columns, and columns about a phone's money, dates, kind or counts, are
    left out on purpose (:func:`left_out_columns`): a PBX phonebook is for calling.
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
    return [h for h in headers if _topic(h) == _NON_VOICE]


def left_out_columns(headers: Sequence[str]) -> list[tuple[str, str]]:
    """``(header, topic)`` of each column that mentions a phone but holds no number to dial.

    The topic (``money``, ``a date or time``, ``a kind or label``, ``a count or usage``,
    ``an extension``, ``a code``, ``email``) is the reason for a message. Fax and pager
    columns are not listed: :func:`non_voice_columns` names them.
    """
    left_out = []
    for header in headers:
        topic = _topic(header)
        if topic and topic != _NON_VOICE and _names_a_phone(_plain_words(header)):
            left_out.append((header, topic))
    return left_out


def reads_as_phone_number(value: str) -> bool:
    """True when ``value`` is written like a phone number: at least 3 digits, and else
    only ``+``, phone punctuation (spaces, ``-``, ``.``, brackets, ``/``), separators of
    several numbers (``;``, ``,``, ``:::``), extension markers (``ext``, ``x``, ``#``) and
    ``tel:``; and not shaped like an amount (``45.50``) or a date (``31/03/2025``).

    A deliberately small test for judging a guessed column by its values, not a verdict
    on one number: ``07700 900101 (mobile)`` is a number the reader keeps, yet not
    written like one. Amounts, dates, times and percentages are what the reader itself
    refuses (:func:`connector.phonetext.not_a_phone_reason`). A number a spreadsheet wrote
    in scientific notation (``7.7009E+09``) or through a float (``7852902011.0``) counts as
    one: its column is a phone column, and the reader explains it on the record.
    """
    text = value.strip()
    if _SCIENTIFIC.fullmatch(text) or FLOAT_NUMBER.match(text):
        return True
    # The reader's own rule says what is an amount, a date, a time (one rule, in phonetext).
    if digit_count(text) < _MIN_DIGITS or not_a_phone_reason(text) is not None:
        return False
    rest = _PHONE_PUNCTUATION.sub("", _EXTENSION_OR_URI.sub("", text))
    return rest.isdecimal()


@dataclass(frozen=True, slots=True)
class UnreadableColumn:
    """A guessed phone column whose values mostly do not read as numbers."""

    header: str
    unreadable: int
    filled: int
    example: str

    def reason(self) -> str:
        """Why it is left out, for a message: ``column 'X' left out: 7 of 9 values ...``."""
        return (
            f"column {self.header!r} left out: {self.unreadable} of {self.filled} values do "
            f"not read as phone numbers (such as {self.example!r})"
        )


def unreadable_phone_columns(
    headers: Sequence[str], columns: Iterable[str], rows: Iterable[Sequence[str]]
) -> list[UnreadableColumn]:
    """The ``columns`` (phone headers) more than half of whose filled values in ``rows``
    do not read as phone numbers (:func:`reads_as_phone_number`).

    ``rows`` are the data rows under the header; the first :data:`VALUE_CHECK_ROWS` are
    read. The header already points at phones, so the values must outvote it: a tie keeps
    the column, and so does a column with no filled value among those rows. A header
    repeated in several columns is judged on all of their values together.
    """
    wanted = list(dict.fromkeys(columns))
    indexes = {c: [i for i, h in enumerate(headers) if h == c] for c in wanted}
    filled = dict.fromkeys(wanted, 0)
    unreadable = dict.fromkeys(wanted, 0)
    examples: dict[str, str] = {}
    for count, cells in enumerate(rows):
        if count >= VALUE_CHECK_ROWS:
            break
        for column in wanted:
            for index in indexes[column]:
                value = cells[index].strip() if index < len(cells) else ""
                if not value:
                    continue
                filled[column] += 1
                if not reads_as_phone_number(value):
                    unreadable[column] += 1
                    examples.setdefault(column, " ".join(value.split())[:_SHOWN_CHARS])
    return [
        UnreadableColumn(c, unreadable[c], filled[c], examples.get(c, ""))
        for c in wanted
        if unreadable[c] * 2 > filled[c]
    ]


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
    if _topic(header) is not None:
        return None
    return "phone" if _names_a_phone(_plain_words(header)) else None


def _names_a_phone(words: list[str]) -> bool:
    return bool(
        words
        and (
            " ".join(words) in _PHONE_HEADERS
            or set(words) & _PHONE_WORDS
            or (len(words) == 1 and words[0] in _BARE_PHONE_WORDS)
        )
    )


def _topic(header: str) -> str | None:
    """What a header is about when that is not a number to dial, else ``None``."""
    words = set(_plain_words(header))
    for topic, topic_words in _NOT_PHONE_TOPICS:
        if words & topic_words:
            return topic
    if _COUNT_PHRASE.search(header) or _PERCENT_SIGN in header:
        return "a count or usage"
    if _MONEY_SIGN.search(header):
        return "money"
    return None


def _plain_words(header: str) -> list[str]:
    """The header's words without numbers (``Phone 2`` is a phone header like ``Phone``)."""
    return [w for w in _words(header) if not w.isdigit()]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+|\d+", text.casefold())
