"""Splitting a cell that holds several phone numbers, and never one that holds one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.splitting import split_numbers

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
SEPARATORS = st.sampled_from([";", "; ", ",", ", ", "/", " / ", "\n", "\r\n", " ::: ", " | "])

# Single numbers in which a separator character is part of the number.
SINGLE_NUMBERS_WITH_SEPARATORS = st.one_of(
    st.from_regex(r"0\d{2,4}/\d{5,8}", fullmatch=True),  # German area code / subscriber
    st.from_regex(r"\d{3}/\d{3}-\d{4}", fullmatch=True),  # US 310/246-1501
    st.from_regex(r"0\d{4}/\d{4,6}", fullmatch=True),  # small-town area code, short number
    st.from_regex(r"0\d{3} \d{3} \d{4}, ?ext\.? ?\d{1,4}", fullmatch=True),
    st.from_regex(r"\+1 \d{3} \d{3} \d{4},,\d{1,4}", fullmatch=True),  # dial pauses
    st.from_regex(r"07700 900\d{3}/\d", fullmatch=True),  # "or ...4": an alternative ending
)


@settings(max_examples=200)
@given(st.lists(PLAUSIBLE_NUMBERS, min_size=2, max_size=4), SEPARATORS)
def test_numbers_joined_by_a_separator_split_back(numbers: list[str], separator: str) -> None:
    if separator.strip() == "/":  # "030/1234567 / 030/7654321" is read as one number
        numbers = [n for n in numbers if "/" not in n] or ["07700 900123", "0161 496 0123"]
        numbers += ["0113 496 0000"] * (len(numbers) < 2)
    assert split_numbers(separator.join(numbers)) == numbers


@settings(max_examples=200)
@given(SINGLE_NUMBERS_WITH_SEPARATORS)
def test_a_single_number_holding_a_separator_is_never_split(number: str) -> None:
    assert split_numbers(number) == [number]


@settings(max_examples=100)
@given(PLAUSIBLE_NUMBERS)
def test_a_single_number_comes_back_unchanged(number: str) -> None:
    assert split_numbers(f"  {number}  ") == [number]


@pytest.mark.parametrize(
    ("cell", "numbers"),
    [
        ("07700 900123 / 0161 496 0000", ["07700 900123", "0161 496 0000"]),
        ("030/1234567, 030/7654321", ["030/1234567", "030/7654321"]),
        ("310/246-1501", ["310/246-1501"]),
        ("020 7946 0123, ext 4", ["020 7946 0123, ext 4"]),
        ("07700 900123 ::: 07700 900456", ["07700 900123", "07700 900456"]),
        ("1009; 1010", ["1009", "1010"]),
        ("1009/1010", ["1009/1010"]),
        ("07700 900123;", ["07700 900123"]),
        ("07700 900123, 01632 960123 / 960124", ["07700 900123", "01632 960123 / 960124"]),
        ("  ", []),
        ("", []),
    ],
)
def test_examples(cell: str, numbers: list[str]) -> None:
    assert split_numbers(cell) == numbers
