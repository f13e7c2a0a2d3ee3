"""Splitting a value that holds several phone numbers, and never one that holds one.

:data:`SPLIT_CASES` is the one table of the rule; ``test_phones`` checks the normaliser
against it too.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.phonetext import split_numbers

#: Value as written -> the numbers in it, as written.
SPLIT_CASES = [
    # Several numbers, with every separator people and exporters use.
    ("07700 900123 / 0161 496 0000", ["07700 900123", "0161 496 0000"]),
    ("01491 833000, 07852 902011", ["01491 833000", "07852 902011"]),
    ("01491 833000; 07852 902011", ["01491 833000", "07852 902011"]),
    ("01491 833000 | 07852 902011", ["01491 833000", "07852 902011"]),
    ("01491 833000\n07852 902011", ["01491 833000", "07852 902011"]),
    ("1009\n1010", ["1009", "1010"]),
    ("0800 123 4567\r\n204", ["0800 123 4567", "204"]),
    ("07700 900123,\r\n07700 900456", ["07700 900123", "07700 900456"]),
    ("07700 900123;;07700 900456", ["07700 900123", "07700 900456"]),  # not a dial pause
    ("01491 833000 or 07852 902011", ["01491 833000", "07852 902011"]),
    ("01491 833000 AND 07852 902011", ["01491 833000", "07852 902011"]),
    ("07700 900123 ::: 07700 900456", ["07700 900123", "07700 900456"]),  # Google
    ("home: 01491 833000, mobile: 07852 902011", ["home: 01491 833000", "mobile: 07852 902011"]),
    ("030/1234567, 030/7654321", ["030/1234567", "030/7654321"]),
    ("07700 900123, 01632 960123 / 960124", ["07700 900123", "01632 960123 / 960124"]),
    ("0161 496 0000, ext 12, 0161 496 0001", ["0161 496 0000, ext 12", "0161 496 0001"]),
    ("020 7946 0123 x204, 07700 900123", ["020 7946 0123 x204", "07700 900123"]),
    # Extensions and short codes in a list are entries of their own.
    ("1009; 1010", ["1009", "1010"]),
    ("1009, 10100", ["1009", "10100"]),
    ("0161 496 0000, 1234", ["0161 496 0000", "1234"]),
    # One number holding a separator.
    ("030/1234567", ["030/1234567"]),  # a German area code
    ("310/246-1501", ["310/246-1501"]),
    ("1009/1010", ["1009/1010"]),
    ("01491 833000/833001", ["01491 833000/833001"]),  # a variant ending, not two numbers
    ("07700 900123 / 030/1234567", ["07700 900123 / 030/1234567"]),  # "/" both ways: unsure
    ("020 7946 0123, ext 4", ["020 7946 0123, ext 4"]),
    ("020 7946 0123, ext. 204", ["020 7946 0123, ext. 204"]),
    ("020 7946 0123; ext 204", ["020 7946 0123; ext 204"]),
    ("020 7946 0123, #204", ["020 7946 0123, #204"]),
    ("tel:+44-20-7946-0123;ext=204", ["tel:+44-20-7946-0123;ext=204"]),
    ("tel:+441491833000;phone-context=+44", ["tel:+441491833000;phone-context=+44"]),
    ("+1 212 555 1234,,204", ["+1 212 555 1234,,204"]),  # a dial pause, then an extension
    # Labels stay with their number.
    ("07852 902011, mobile", ["07852 902011, mobile"]),
    ("mobile, 07852 902011", ["mobile, 07852 902011"]),
    ("Marks & Spencer 0161 496 0000", ["Marks & Spencer 0161 496 0000"]),
    # Two numbers with only spaces between: left whole; the normaliser cuts them where
    # both halves are possible numbers, which takes libphonenumber.
    ("01491 833000 07852 902011", ["01491 833000 07852 902011"]),
    # Nothing separates inside an amount, a date or a time: it is judged whole.
    ("1,234", ["1,234"]),
    ("12,5", ["12,5"]),
    ("0906 123 4567 £1,100", ["0906 123 4567 £1,100"]),
    ("01/02/2024", ["01/02/2024"]),
    ("£25.00, £30.00", ["£25.00", "£30.00"]),
    ("07700 900123, 12%", ["07700 900123", "12%"]),
    # Debris and blanks.
    ("07700 900123;", ["07700 900123"]),
    ("/ 0161 496 0000 ", ["0161 496 0000"]),
    ("  ", []),
    ("", []),
]


@pytest.mark.parametrize(("value", "numbers"), SPLIT_CASES)
def test_split_cases(value: str, numbers: list[str]) -> None:
    assert split_numbers(value) == numbers


# -- properties ------------------------------------------------------------------------------

PLAUSIBLE_NUMBERS = st.one_of(
    st.from_regex(r"07700 900\d{3}", fullmatch=True),
    st.from_regex(r"\+44 \(0\)20 7946 0\d{3}", fullmatch=True),
    st.from_regex(r"0161 496 0\d{3}", fullmatch=True),
    st.from_regex(r"\+447700900\d{3}", fullmatch=True),
    st.from_regex(r"\(0113\) 496 0\d{3}", fullmatch=True),
    st.from_regex(r"0117-496-0\d{3}", fullmatch=True),
    st.from_regex(r"030/\d{7}", fullmatch=True),
    st.from_regex(r"0131 496 0\d{3} ext\. \d{1,4}", fullmatch=True),
)
SEPARATORS = st.sampled_from(
    [";", "; ", ",", ", ", "/", " / ", "\n", "\r\n", " ::: ", " | ", " or ", " and "]
)

# Single numbers in which a separator character is part of the number.
SINGLE_NUMBERS_WITH_SEPARATORS = st.one_of(
    st.from_regex(r"0\d{2,4}/\d{5,8}", fullmatch=True),  # German area code / subscriber
    st.from_regex(r"\d{3}/\d{3}-\d{4}", fullmatch=True),  # US 310/246-1501
    st.from_regex(r"0\d{4}/\d{4,6}", fullmatch=True),  # small-town area code, short number
    st.from_regex(r"0\d{3} \d{3} \d{4}, ?ext\.? ?\d{1,4}", fullmatch=True),
    st.from_regex(r"\+1 \d{3} \d{3} \d{4},,\d{1,4}", fullmatch=True),  # dial pauses
    st.from_regex(r"07700 900\d{3}/\d", fullmatch=True),  # "or ...4": an alternative ending
)
SINGLE_NUMBERS = st.one_of(PLAUSIBLE_NUMBERS, SINGLE_NUMBERS_WITH_SEPARATORS)

# Anything a phone cell may hold: digits, the separators, labels, extensions, debris.
CELLS = st.text(alphabet="0123456789 +-().:/,;|\n\r#extmobilandr&=٠١", max_size=40)


@settings(max_examples=200)
@given(st.lists(PLAUSIBLE_NUMBERS, min_size=2, max_size=4), SEPARATORS)
def test_numbers_joined_by_a_separator_split_back(numbers: list[str], separator: str) -> None:
    if separator.strip() == "/":  # "030/1234567 / 030/7654321" is read as one number
        numbers = [n for n in numbers if "/" not in n] or ["07700 900123", "0161 496 0123"]
        numbers += ["0113 496 0000"] * (len(numbers) < 2)
    assert split_numbers(separator.join(numbers)) == numbers


@settings(max_examples=300)
@given(SINGLE_NUMBERS)
def test_a_single_well_formed_number_comes_back_unchanged(number: str) -> None:
    assert split_numbers(number) == [number]
    assert split_numbers(f"  {number}  ") == [number]


@settings(max_examples=500)
@given(CELLS)
def test_splitting_never_loses_a_digit(value: str) -> None:
    digits = [c for c in "".join(split_numbers(value)) if c.isdecimal()]
    assert digits == [c for c in value if c.isdecimal()]


@settings(max_examples=500)
@given(CELLS)
def test_a_piece_does_not_split_again(value: str) -> None:
    for piece in split_numbers(value):
        assert split_numbers(piece) == [piece]


def test_every_currency_sign_unicode_knows_is_one() -> None:
    """The written-out signs are those of category Sc (the basic plane) in the Unicode of
    this Python; a newer Unicode may only add some."""
    import unicodedata

    from connector.phonetext import _CURRENCY_SIGNS

    known = {chr(code) for code in range(0x10000) if unicodedata.category(chr(code)) == "Sc"}
    assert set(_CURRENCY_SIGNS) <= known
    if unicodedata.unidata_version == "14.0.0":
        assert set(_CURRENCY_SIGNS) == known
    assert len(set(_CURRENCY_SIGNS)) == len(_CURRENCY_SIGNS)
