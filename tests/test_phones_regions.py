"""Local numbers without their area code, and extensions in every region: no leading zero
is invented for a number shorter than a national number, and a short code is an extension
unless it starts with the national prefix as the region writes it."""

from __future__ import annotations

import pytest

from connector.model import RawPhone
from connector.reconcile.phones import PhoneNormaliser, PhoneResult

REGIONS = {region: PhoneNormaliser(region) for region in ("GB", "US", "CA", "DE", "FR", "IE")}
GB = REGIONS["GB"]


def only(text: str, normaliser: PhoneNormaliser = GB) -> PhoneResult:
    (result,) = normaliser.parse_value(text)
    return result


def numbers(text: str, normaliser: PhoneNormaliser = GB) -> list[str]:
    return [result.number for result in normaliser.parse_value(text) if result.usable]


# -- local numbers without their area code --------------------------------------------------


def test_local_seven_digit_number_is_rejected_no_area_code_not_04960101() -> None:
    result = only("496 0101")
    assert not result.usable
    assert result.error == "not a possible phone number (no area code)"
    got = GB.normalise_record_phones([RawPhone("496 0101")])
    assert got.errors == ("496 0101: not a possible phone number (no area code), dropped",)


@pytest.mark.parametrize("text", ["4960101", "496 0101", "496-0101", "4960 1010", "49601010"])
def test_seven_and_eight_digit_local_numbers_share_one_rule(text: str) -> None:
    assert only(text).error == "not a possible phone number (no area code)"


def test_a_lost_leading_zero_is_still_restored_on_a_whole_national_number() -> None:
    assert numbers("7852902011") == ["07852902011"]  # ten digits: a mobile, its 0 lost
    assert numbers("169 772 345") == ["0169772345"]  # nine: GB's shortest whole number


def test_us_local_number_without_area_code_is_rejected() -> None:
    assert only("555-1234", REGIONS["US"]).error == "not a possible phone number (no area code)"


def test_french_number_too_short_for_a_national_number_gets_no_zero() -> None:
    assert only("4960101", REGIONS["FR"]).error == "not a possible phone number (too short)"


# -- extensions in every region -------------------------------------------------------------


def test_us_extension_1009_is_kept_not_dropped_as_a_cut_off_number() -> None:
    result = only("1009", REGIONS["US"])
    assert (result.kind, result.number, result.error) == ("short", "1009", None)


@pytest.mark.parametrize("region", sorted(REGIONS))
@pytest.mark.parametrize("text", ["1009", "100", "12", "1999", "123456", "204"])
def test_short_codes_are_extensions_in_every_region(region: str, text: str) -> None:
    result = only(text, REGIONS[region])
    assert (result.kind, result.number) == ("short", text)


@pytest.mark.parametrize(
    ("region", "text"),
    [("GB", "0800"), ("GB", "0161"), ("DE", "030"), ("FR", "0123"), ("IE", "01")],
)
def test_a_short_code_starting_with_the_written_national_prefix_is_a_cut_off_number(
    region: str, text: str
) -> None:
    result = only(text, REGIONS[region])
    assert result.kind == "dropped"
    assert result.error is not None and result.error.startswith("not a possible phone number")


@pytest.mark.parametrize(
    "text", ["+1 212 555 1234", "(212) 555-1234", "1 212 555 1234", "212.555.1234"]
)
def test_us_numbers_with_their_prefix_one_are_still_read(text: str) -> None:
    assert numbers(text, REGIONS["US"]) == ["2125551234"]
