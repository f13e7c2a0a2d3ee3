"""Phone numbers: from what people type to the form Sipalto stores.

Sipalto holds UK numbers as national digits without spaces (``01491833000``) and, by the
same rule generalised, numbers of the home region (``--region``, default GB) in national
form; every other country is stored in E.164 (``+35312345678``). Internal extensions and
short codes (2-6 digits such as ``1009``) are real phonebook entries on a PBX and are kept
verbatim, in every region; only a short code starting with the national prefix the region
writes (GB ``0161``, not the US ``1`` of ``1009``) is a cut-off number.

Real data is messy, so a value goes through these steps:

0. *Not a number at all* (:func:`connector.phonetext.not_a_phone_reason`): an amount of
   money, a percentage, a date, a time or a decimal number (``12.5``, ``£25.00``,
   ``10:30``) is rejected with the reason, never read as the digits it holds; one
   written beside a number (``020 7946 0123 (9:00-17:00)``) is left out of it, with a
   warning.
1. *Split and clean* (:meth:`PhoneNormaliser.parse_value`): ``tel:`` URIs, several numbers
   in one value (split by the tool's one rule, :func:`connector.phonetext.split_numbers`,
   then two numbers written one after the other with only spaces between, cut where both
   halves are possible numbers), labels stuck to a number (``07730 885627 (mobile)``,
   ``Mum 0773...``), vanity letters (``0800 FLOWERS``), extensions (``ext 204``,
   ``x204``) and dial sequences (``p123``, ``,,204``), ``+44 (0)``.
2. *Cheap canonical key* (``_canonical_key``): the digits with a leading ``+`` in a
   single spelling, so ``+44 1491 833000``, ``0044 1491 833000``, ``01491-833000`` and a
   lost leading zero ``1491833000`` share one cache entry and cost one parse.
3. *No invented prefix*: digits written with no prefix (no ``+``, international or
   national prefix) and fewer than a whole national number has (GB ``496 0101``, US
   ``555-1234``) are a local number without its area code: rejected, not given a zero.
4. *libphonenumber* decides, once per key: ``is_possible_number`` decides what is usable;
   a possible but not valid number is kept with a warning (the metadata lags real
   allocations); an impossible one is reported and dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from connector.frozen import quick_init
from connector.model import MAX_PHONES, RawPhone, preferred_first
from connector.phonetext import (
    DIAL_PAUSE,
    EXTENSION_MARKER,
    not_a_phone_reason,
    remove_not_dialled,
    split_numbers,
)
from connector.reconcile.phone_metadata import (
    home_form_prefix,
    local_only_lengths,
    make_validator,
    shortest_national_length,
    simple_national_prefix,
    written_national_prefix,
)

__all__ = [
    "NormalisedPhones",
    "PhoneNormaliser",
    "PhoneResult",
]

#: Internal extensions and short codes: this many digits, no ``+``, kept verbatim.
SHORT_CODE_LENGTHS = range(2, 7)

# A value holding two numbers written one after the other ("01491 833000 07852 902011")
# is too long for one number; E.164 allows at most 15 digits after the country code.
_MAX_DIGITS = 15

_TEL_URI = re.compile(r"tel:([^;,\s]+)((?:;[^;,\s]*)*)", re.IGNORECASE)
_TEL_EXT_PARAM = re.compile(r";ext=(\d+)", re.IGNORECASE)

# An extension follows the digits of the main number: "ext 204", "ext. 204", "extn 204",
# "extension: 204", "x204", "#204", "(ext 204)".
_EXTENSION = re.compile(
    rf"(?<=\d)[\s,;.)(\-]*\(?\s*{EXTENSION_MARKER}\s*[:.=]?\s*(\d{{1,7}})\)?",
    re.IGNORECASE,
)
# Pause/wait dial strings ("01491833000p123", "+1 212 555 1234,,204"): DTMF sent after the
# call connects.
_DIAL_SUFFIX = re.compile(rf"(?<=\d)\s*([pw][\dpw]*\d|{DIAL_PAUSE}[\dpw,;]*\d)", re.IGNORECASE)

# Vanity numbers: digits first, then capital letters ("0800 FLOWERS", "0800-DENTIST").
_VANITY = re.compile(r"\+?[\d\s().\-]*\d[\d\s().\-]*[A-Z][A-Z\d\s.\-]*")
_MIN_VANITY_LETTERS = 3
# A vanity number's digits before the letters are never a whole number by themselves;
# "07730 885627 MOB" has a whole number before its label.
_FULL_NUMBER_DIGITS = 10

_MIN_NSN, _MAX_NSN = 2, 17  # libphonenumber's bounds on a national significant number
_NON_DIGIT = re.compile(r"\D")
# Digits and the punctuation of one number only: no labels, separators or extensions. A
# line break separates numbers, so a value holding one is never plain.
_PLAIN = re.compile(r"\s*(\+?)[\d\s().\-]*")
_LINE_BREAK = re.compile(r"[\r\n]")
# The commonest plain values: digits and spaces, perhaps after a plus.
_SPACED = re.compile(r" *(\+?)[\d ]*")
_LETTER = re.compile(r"[^\W\d_]")
_NATIONAL_ZERO = re.compile(r"\(\s*0\s*\)")  # "+44 (0)1491 833000"

_IMPOSSIBLE_REASONS = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "no area code",
}
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_COUNTRY_NAMES = {"GB": "UK"}


class PhoneResult(NamedTuple):
    """One number found in a raw value.

    ``text`` is the part of the value it came from, as written (for messages). ``number``
    is the Sipalto form, ``""`` when the number was dropped, in which case ``error`` says
    why. ``kind`` is ``"number"``, ``"short"`` (an extension or short code, kept verbatim),
    ``"dropped"`` (digits that are not a possible number) or ``"rejected"`` (not a number
    to dial at all: ``error`` is the whole sentence, ``12.5 looks like a decimal number,
    not a phone number``). ``warnings`` are kept-but-worth-saying facts (an extension dropped,
    a number libphonenumber does not know as valid).

    A named tuple, as :class:`NormalisedPhones`: made for every value of a plan.
    """

    text: str
    number: str
    kind: str
    warnings: tuple[str, ...] = ()
    error: str | None = None

    @property
    def usable(self) -> bool:
        """True when the result carries a number Sipalto can store."""
        return bool(self.number)


class NormalisedPhones(NamedTuple):
    """A record's numbers ready for Sipalto.

    ``numbers`` holds at most :data:`MAX_PHONES` distinct numbers in Sipalto form, in
    priority order. ``warnings`` are things kept with a remark or left out for lack of room;
    ``errors`` are numbers dropped as impossible and values that are not phone numbers
    (``12.5``, ``£25.00``). ``ignored`` are raw values with no usable digits at all
    (``n/a``, ``tbc``, ``-``).

    A named tuple (made for every record and every contact of a plan, three times as fast
    as a frozen dataclass).
    """

    numbers: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class _Parsed:
    """libphonenumber's verdict on one canonical key (cached, shared by every spelling)."""

    number: str  # Sipalto form, "" when impossible
    valid: bool
    country: str  # region code of the number, for messages
    error: str | None


class PhoneNormaliser:
    """Turns raw phone values into Sipalto's form, memoised.

    One instance holds two caches: raw text to results, and canonical key to
    libphonenumber's verdict, so the same number written several ways is parsed once.
    Build one per plan (the caches grow with the distinct values seen).
    """

    def __init__(self, region: str = "GB") -> None:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
        if metadata is None:
            raise ValueError(f"unknown region {region!r}")
        self.region = region.upper()
        self._country_code = metadata.country_code
        self._cc_text = str(metadata.country_code)
        self._home_plus = "+" + self._cc_text
        prefix_for_parsing = metadata.national_prefix_for_parsing
        self._strippable = re.compile(prefix_for_parsing) if prefix_for_parsing else None
        self._national_prefix = simple_national_prefix(metadata)
        self._written_prefix = written_national_prefix(metadata)
        self._shortest_national = shortest_national_length(metadata)
        self._local_lengths = local_only_lengths(metadata)
        self._home_prefix = home_form_prefix(metadata)
        general = metadata.general_desc
        self._national_lengths = frozenset(general.possible_length if general else ())
        self._international_prefix = re.compile(metadata.international_prefix or "00")
        # Raw text to its results; one clean number is kept as its Sipalto form alone
        # (most values: a result and a tuple each cost 140 bytes at 300k values).
        self._values: dict[str, str | tuple[PhoneResult, ...]] = {}
        self._keys: dict[str, _Parsed] = {}
        self._validators: dict[int, Callable[[str], bool]] = {}
        self._home_valid = self._validator(self._country_code or 0)

    # -- public API ---------------------------------------------------------------------

    def parse_value(self, text: str) -> list[PhoneResult]:
        """Every number in one raw value, in the order written (memoised).

        A value with no usable digits (``n/a``, ``tbc``, ``-``) gives an empty list.
        """
        return list(self._results(text))

    def canonical(self, number: str) -> str:
        """A value's first number in Sipalto form, for comparing numbers from both sides.

        ``07852 902011`` and ``+447852902011`` give the same string. A value with no usable
        number gives its own trimmed text, so junk compares equal only to the same junk.
        """
        cached = self._cached(number)
        if isinstance(cached, str):
            return cached
        for result in cached:
            if result.number:
                return result.number
        return number.strip()

    def numbers_in(self, value: str) -> tuple[str, ...]:
        """Every usable number in one raw value, in Sipalto form, each once."""
        results = self._cached(value)
        if isinstance(results, str):  # most values
            return (results,)
        if len(results) == 1:
            number = results[0].number
            return (number,) if number else ()
        return tuple(dict.fromkeys(result.number for result in results if result.number))

    def numbers_of(self, values: Sequence[str]) -> tuple[str, ...]:
        """Every usable number in several raw values (a contact's slots), deduplicated."""
        if len(values) == 1:  # most contacts: one slot
            return self.numbers_in(values[0])
        seen: dict[str, None] = {}
        for value in values:
            if value:  # an empty slot, as Sipalto sends it
                seen.update(dict.fromkeys(self.numbers_in(value)))
        return tuple(seen)

    def normalise_record_phones(self, raw: Sequence[RawPhone]) -> NormalisedPhones:
        """A record's numbers in Sipalto form, at most three, with what was left out.

        Order is the source's priority order, except that a number flagged ``preferred``
        (vCard ``TYPE=pref``) comes first. Equal numbers count once, whatever their
        spelling.
        """
        if len(raw) == 1:
            # The commonest record: one value holding one clean number, nothing to say.
            cached = self._cached(raw[0].value)
            if isinstance(cached, str):
                return NormalisedPhones((cached,))
            if len(cached) == 1 and cached[0].kind == "number" and not cached[0].warnings:
                return NormalisedPhones((cached[0].number,))  # a labelled value, say
        ordered = raw
        if any(phone.preferred for phone in raw[1:]):
            ordered = preferred_first(raw)
        numbers: list[str] = []
        warnings: list[str] = []
        errors: list[str] = []
        ignored: list[str] = []
        for phone in ordered:
            results = self._cached(phone.value)
            if isinstance(results, str):  # one clean number: only room to think of
                if results not in numbers:
                    if len(numbers) >= MAX_PHONES:
                        warnings.append(_did_not_fit(len(numbers), _shown(phone.value)))
                    numbers.append(results)
                continue
            if not results and phone.value.strip():
                ignored.append(phone.value.strip())
            for result in results:
                if result.kind == "rejected":
                    errors.append(result.error or "")
                elif result.error:
                    errors.append(f"{result.text}: {result.error}, dropped")
                    warnings.extend(result.warnings)
                elif result.number in numbers:
                    continue  # the same number again: nothing new to say about it
                elif len(numbers) < MAX_PHONES:
                    warnings.extend(result.warnings)
                    numbers.append(result.number)
                else:
                    warnings.append(_did_not_fit(len(numbers), result.text))
                    numbers.append(result.number)  # counted so the next one is "5th"
        return NormalisedPhones(
            numbers=tuple(numbers[:MAX_PHONES]),
            warnings=tuple(dict.fromkeys(warnings)) if warnings else (),
            errors=tuple(dict.fromkeys(errors)) if errors else (),
            ignored=tuple(ignored) if ignored else (),
        )

    # -- splitting and cleaning ---------------------------------------------------------

    def _cached(self, text: str) -> str | tuple[PhoneResult, ...]:
        """The value's results, or the Sipalto form alone for one clean number (a
        ``"number"`` result without warnings, whose text is the whole value)."""
        cached = self._values.get(text)
        if cached is None:
            cached = self._values[text] = self._parse_value(text)
        return cached

    def _results(self, text: str) -> tuple[PhoneResult, ...]:
        """The value's results, whatever the cache keeps."""
        cached = self._cached(text)
        if isinstance(cached, str):
            return (PhoneResult(_shown(text), cached, "number"),)
        return cached

    def _parse_value(self, text: str) -> str | tuple[PhoneResult, ...]:
        if not text.isascii():
            text = _ascii_digits(text)
        if text.isdigit():  # already bare digits, as Sipalto stores numbers
            digits, international = text, False
        elif spaced := _SPACED.fullmatch(text):
            # Digits and spaces after an optional plus: no remark, label or date to look
            # for ("07852 902011", "+44 7852 902011").
            digits, international = text.replace(" ", "").lstrip("+"), bool(spaced.group(1))
            if not digits:
                return ()
            if len(digits) > _MAX_DIGITS:
                return self._parse_pieces(text)
        else:
            # The common case, digits and punctuation only: skip the label work. A value
            # with an amount, a date or a time in it ("12.5", "01.02.2024") is judged
            # piece by piece.
            plain = _PLAIN.fullmatch(text) if not _LINE_BREAK.search(text) else None
            if not plain or remove_not_dialled(text)[1]:
                return self._parse_pieces(text)
            body = _NATIONAL_ZERO.sub("", text) if "(" in text else text
            digits = _NON_DIGIT.sub("", body)
            if not digits:
                return ()
            if len(digits) > _MAX_DIGITS:
                return self._parse_pieces(text)
            international = bool(plain.group(1))
        number = self._valid_home_number(digits, international)
        if number is not None:
            return number
        result = self._result(text, digits, international, ())
        return result.number if result.kind == "number" and not result.warnings else (result,)

    def _parse_pieces(self, text: str) -> tuple[PhoneResult, ...]:
        """A value that is not one plain number: labels, remarks, several numbers."""
        value = _TEL_URI.sub(_untel, text)
        results: list[PhoneResult] = []
        for piece in split_numbers(value):
            rejected = _rejected(piece)
            results.extend([rejected] if rejected else self._parse_piece(piece))
        return tuple(results)

    def _valid_home_number(self, digits: str, international: bool) -> str | None:
        """The Sipalto form of a valid home number written with its national prefix
        (``07852902011``) or its country code (``+447852902011``, ``00447852902011``);
        None for anything else, which :meth:`_result` judges.

        Most values of a phonebook and of a source are such numbers: this is the verdict
        :meth:`_result` reaches for them (its short-code, local-number and key steps do
        not apply to so many digits after a prefix), without the steps in between. The
        property tests pin it against :meth:`_result`.
        """
        home = self._home_prefix
        if home is None or len(digits) < self._shortest_national:
            return None
        if not international:
            idd = self._international_prefix.match(digits)
            if idd and idd.end() > 0:
                digits, international = digits[idd.end() :], True
        if international:
            if not digits.startswith(self._cc_text):
                return None
            nsn = digits[len(self._cc_text) :]
        else:
            prefix = self._national_prefix
            if not prefix or not digits.startswith(prefix):
                return None
            nsn = digits[len(prefix) :]
        return home + nsn if self._is_bare_nsn(nsn) and self._home_valid(nsn) else None

    def _parse_piece(self, piece: str, *, split: bool = True) -> list[PhoneResult]:
        warnings: list[str] = []
        body, remarks = remove_not_dialled(piece) if split else (piece, ())
        if remarks:
            ignored = ", ".join(remarks)
            warnings.append(f"{ignored} ignored in {piece.strip()}: not part of a phone number")
        extension = _EXTENSION.search(body)
        if extension:
            body = body[: extension.start()] + body[extension.end() :]
            warnings.append(f"extension {extension.group(1)} dropped from {piece}")
        suffix = _DIAL_SUFFIX.search(body)
        if suffix:
            body = body[: suffix.start()] + body[suffix.end() :]
            warnings.append(f"dial sequence {suffix.group(1)} dropped from {piece}")
        body = _NATIONAL_ZERO.sub("", body)
        if _is_vanity(body):
            body = phonenumbers.convert_alpha_characters_in_number(body)
        else:
            body = _LETTER.sub(" ", body)  # labels: "(mobile)", "Mum", "tel."
        digits = _NON_DIGIT.sub("", body)
        if not digits:
            return []
        plus = body.find("+")
        international = plus != -1 and plus < body.find(digits[0])
        if len(digits) > _MAX_DIGITS and not extension and split:
            halves = self._split_run(body)
            if halves:
                return halves
        return [self._result(piece, digits, international, tuple(warnings))]

    def _split_run(self, body: str) -> list[PhoneResult] | None:
        """Two numbers separated only by spaces: the first split where both are possible.

        Each half is one number or nothing, so a half is never split again (that made a
        run of short groups cost exponential time), and only cuts leaving both halves
        short enough to be a number are tried.
        """
        groups = body.split()
        digits = [len(_NON_DIGIT.sub("", group)) for group in groups]
        total = sum(digits)
        left_digits = 0
        for cut in range(1, len(groups)):
            left_digits += digits[cut - 1]
            if left_digits > _MAX_DIGITS:
                break
            if total - left_digits > _MAX_DIGITS:
                continue
            left, right = " ".join(groups[:cut]), " ".join(groups[cut:])
            results = self._parse_piece(left, split=False) + self._parse_piece(right, split=False)
            if len(results) == 2 and all(r.usable for r in results):
                return results
        return None

    def _result(
        self, piece: str, digits: str, international: bool, warnings: tuple[str, ...]
    ) -> PhoneResult:
        text = piece.strip()
        if not international and self._is_short_code(digits):
            return PhoneResult(text=text, number=digits, kind="short", warnings=warnings)
        if not international and self._is_local_number(digits):
            reason = "no area code" if len(digits) in self._local_lengths else "too short"
            error = f"not a possible phone number ({reason})"
            return PhoneResult(text=text, number="", kind="dropped", warnings=warnings, error=error)
        parsed = self._parse_key(self._canonical_key(digits, international))
        if parsed.error:
            return PhoneResult(
                text=text, number="", kind="dropped", warnings=warnings, error=parsed.error
            )
        if not parsed.valid:
            country = _COUNTRY_NAMES.get(parsed.country, parsed.country)
            warnings += (f"{text} kept though not a valid {country} number",)
        return PhoneResult(text=text, number=parsed.number, kind="number", warnings=warnings)

    def _is_short_code(self, digits: str) -> bool:
        # A leading national prefix as the region writes it ("0800" in GB) is a cut-off
        # number; where the prefix is only dialled (the US "1"), "1009" is an extension.
        prefix = self._written_prefix
        return len(digits) in SHORT_CODE_LENGTHS and not (prefix and digits.startswith(prefix))

    def _is_local_number(self, digits: str) -> bool:
        """Too few digits for a whole national number, and no prefix to say otherwise.

        The one rule for numbers without their area code: ``496 0101`` in GB is a local
        number, and putting a ``0`` before it (as for a lost leading zero, ``7852902011``)
        would invent a number nobody has. Digits after an international or national prefix
        are left to libphonenumber, which knows how long they may be.
        """
        if len(digits) >= self._shortest_national:
            return False
        idd = self._international_prefix.match(digits)
        if idd and idd.end() > 0:
            return False
        national = self._strippable.match(digits) if self._strippable else None
        return not (national and national.end() > 0)

    # -- the cached libphonenumber step ---------------------------------------------------

    def _canonical_key(self, digits: str, international: bool) -> str:
        """One spelling per number: ``+<country code><national number>`` where that is
        certain from the digits alone, else the digits as written (parsed as national).

        Only a cache key: what it means is still decided by libphonenumber, and a key that
        is not a number gives an error like any other.
        """
        if international:
            return "+" + digits
        idd = self._international_prefix.match(digits)
        if idd and idd.end() < len(digits):
            return "+" + digits[idd.end() :]
        prefix = self._national_prefix
        if prefix and digits.startswith(prefix):
            return "+" + self._cc_text + digits[len(prefix) :]
        if len(digits) in self._national_lengths:
            if digits.startswith(self._cc_text):
                return digits  # "4412345678": ambiguous, libphonenumber decides
            return "+" + self._cc_text + digits  # a lost leading zero: "7852902011"
        rest = digits[len(self._cc_text) :]
        if digits.startswith(self._cc_text) and len(rest) in self._national_lengths:
            return "+" + digits  # the country code without its plus: "441491833000"
        return digits

    def _parse_key(self, key: str) -> _Parsed:
        parsed = self._keys.get(key)
        if parsed is None:
            parsed = self._keys[key] = self._parse_uncached(key)
        return parsed

    def _parse_uncached(self, key: str) -> _Parsed:
        nsn = self._home_nsn(key)
        home = self._home_prefix
        home_valid = self._validator(self._country_code or 0)  # always set for a region
        if nsn is not None and home is not None and home_valid(nsn):
            # What the steps below give a valid home number, without building the
            # PhoneNumber: most keys are such numbers, each read once.
            return _Parsed(home + nsn, True, "", None)
        try:
            number = self._read_key(key)
        except NumberParseException as exc:
            reason = _PARSE_ERRORS.get(exc.error_type, "not a phone number")
            return _Parsed("", False, "", f"not a possible phone number ({reason})")
        country_code = number.country_code or 0  # always set by parse
        nsn = phonenumbers.national_significant_number(number)
        valid = self._validator(country_code)(nsn)
        # A valid number has a length its type allows, so it is possible: only the others
        # need asking (the common case is valid, and the question costs as much again).
        possible = ValidationResult.IS_POSSIBLE
        if not valid:
            possible = phonenumbers.is_possible_number_with_reason(number)
        if possible != ValidationResult.IS_POSSIBLE:
            reason = _IMPOSSIBLE_REASONS.get(possible, "impossible")
            return _Parsed("", False, "", f"not a possible phone number ({reason})")
        # The region is only named in the "not valid" warning.
        country = "" if valid else phonenumbers.region_code_for_country_code(country_code)
        if country_code != self._country_code:
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            return _Parsed(e164, valid, country, None)
        if self._home_prefix is not None:
            return _Parsed(self._home_prefix + nsn, valid, country, None)
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        return _Parsed(_NON_DIGIT.sub("", national), valid, country, None)

    def _read_key(self, key: str) -> phonenumbers.PhoneNumber:
        """The ``PhoneNumber`` a canonical key stands for, as ``phonenumbers.parse`` gives it.

        A home number's key is already what parse would work out: the country code, then a
        national number with no leading zero and no national prefix to strip. For those the
        number is built directly, which is what parse would return (the property tests pin
        this against parse itself) at a tenth of the cost: most keys of a phonebook are
        home numbers, and parse is the planner's largest single cost. Every other key is
        parsed. Possibility, validity and formatting stay libphonenumber's either way.
        """
        nsn = self._home_nsn(key)
        if nsn is not None:
            return phonenumbers.PhoneNumber(
                country_code=self._country_code, national_number=int(nsn)
            )
        return phonenumbers.parse(key, self.region)

    def _home_nsn(self, key: str) -> str | None:
        """The national significant number of a home number's key, when the key holds it
        as it is (no leading zero, no national prefix to strip); None for any other key."""
        rest = key[len(self._home_plus) :] if key.startswith(self._home_plus) else ""
        return rest if self._is_bare_nsn(rest) else None

    def _is_bare_nsn(self, digits: str) -> bool:
        """Whether ``digits`` are a national significant number as they stand: a possible
        length, no leading zero, no national prefix to strip."""
        return (
            _MIN_NSN <= len(digits) <= _MAX_NSN
            and digits[0] != "0"
            and digits.isascii()
            and not (self._strippable and self._strippable.match(digits))
        )

    def _validator(self, country_code: int) -> Callable[[str], bool]:
        validator = self._validators.get(country_code)
        if validator is None:
            validator = self._validators[country_code] = make_validator(country_code)
        return validator


# -- helpers --------------------------------------------------------------------------------


def _shown(value: str) -> str:
    """A value as its result's ``text`` shows it: trimmed, digits in ASCII."""
    return (value if value.isascii() else _ascii_digits(value)).strip()


def _did_not_fit(count: int, text: str) -> str:
    """The warning for a number beyond Sipalto's slots, ``count`` numbers before it."""
    return f"{_ordinal(count + 1)} number {text} did not fit (Sipalto holds {MAX_PHONES})"


def _ascii_digits(text: str) -> str:
    """Fullwidth and other scripts' digits (``０７８``, ``٠٧٨``) as ASCII, ``＋`` as ``+``."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def _rejected(text: str) -> PhoneResult | None:
    """A ``rejected`` result when ``text`` is not a number to dial (``12.5``, ``£25``)."""
    reason = not_a_phone_reason(text)
    if reason is None:
        return None
    return PhoneResult(text=text.strip(), number="", kind="rejected", error=reason)


def _untel(match: re.Match[str]) -> str:
    """``tel:+44-20-7946-0123;ext=204;phone-context=...`` to ``+44-20-7946-0123 ext 204``."""
    extension = _TEL_EXT_PARAM.search(match.group(2))
    return match.group(1) + (f" ext {extension.group(1)}" if extension else "")


def _is_vanity(body: str) -> bool:
    stripped = body.strip()
    if not _VANITY.fullmatch(stripped):
        return False
    letters = sum(ch.isalpha() for ch in stripped)
    leading_digits = len(_NON_DIGIT.sub("", re.split(r"[A-Z]", stripped, maxsplit=1)[0]))
    return letters >= _MIN_VANITY_LETTERS and leading_digits < _FULL_NUMBER_DIGITS


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
