"""Unit tests of crm_common.identifiers (and the free-text rule they share the error of,
crm_common.text.clean_text): known-good and known-bad values, exact outputs."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable

import pytest
from stdnum.bg import vat as stdnum_bg_vat

from crm_common.identifiers import (
    COUNTRY_CODES,
    bulstat_check_digit,
    eik_check_digit,
    normalize_country,
    normalize_eik,
    normalize_email,
    normalize_iban,
    normalize_phone,
    normalize_postal_code,
    normalize_url,
    normalize_vat,
)
from crm_common.text import InvalidValue, clean_text

ONE_MB = "9" * (1024 * 1024)


def _code(exc: pytest.ExceptionInfo[InvalidValue]) -> str:
    return exc.value.code


# ------------------------------------------------------------------------------------------------
# InvalidValue


def test_invalid_value_is_a_value_error_with_code_and_message() -> None:
    err = InvalidValue("INVALID_EIK", "Bad.")
    assert isinstance(err, ValueError)
    assert err.code == "INVALID_EIK"
    assert err.message == "Bad."
    assert str(err) == "Bad."


# ------------------------------------------------------------------------------------------------
# EIK / BULSTAT

# 9-digit EIKs: publicly cited values, each also verified against python-stdnum in
# test_known_eiks_agree_with_stdnum below (175074752 is stdnum's own doctest example;
# 203445228 etc. are the fixtures of the mirovit/eik-validator project).
GOOD_EIKS_9 = ["121759222", "175074752", "000694286", "203445228", "202322728", "835014925"]
# 13-digit BULSTAT of a branch, cited as valid by two independent validators
# (mirovit/eik-validator tests, st0yanov/eik_validator README).
GOOD_BULSTAT_13 = "1213961230342"


@pytest.mark.parametrize("eik", GOOD_EIKS_9)
def test_known_eiks_agree_with_stdnum(eik: str) -> None:
    assert stdnum_bg_vat.is_valid(eik)
    assert normalize_eik(eik) == eik


def test_eik_check_digit_matches_stdnum_for_many_bases() -> None:
    for base in range(10_000_000, 99_999_999, 1_234_567):
        first_eight = f"{base:08d}"
        assert eik_check_digit(first_eight) == stdnum_bg_vat.calc_check_digit_legal(first_eight)


def test_eik_check_digit_known_values() -> None:
    assert eik_check_digit("17507475") == "2"
    assert eik_check_digit("12175922") == "2"
    assert eik_check_digit("00069428") == "6"


def test_bulstat_13_digit_known_good() -> None:
    assert bulstat_check_digit("121396123034") == "2"
    assert normalize_eik(GOOD_BULSTAT_13) == GOOD_BULSTAT_13
    assert normalize_eik("121396123 0342") == GOOD_BULSTAT_13


def test_bulstat_check_digit_second_pass_and_zero_rule() -> None:
    # digits 9..12 = 0,0,0,5: 5*5 = 25 -> 25 % 11 = 3
    assert bulstat_check_digit("000000000005") == "3"
    # digits 9..12 = 0,0,0,2: 2*5 = 10 -> first pass 10; second pass 2*7 = 14 % 11 = 3
    assert bulstat_check_digit("000000000002") == "3"
    # digits 9..12 = 1,1,1,0: 2+7+3 = 12 % 11 = 1
    assert bulstat_check_digit("000000001110") == "1"


def test_eik_check_digit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        eik_check_digit("1234567")
    with pytest.raises(ValueError):
        bulstat_check_digit("12345678901")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 175 074 752 ", "175074752"),
        ("175\u00a0074\u00a0752", "175074752"),  # NO-BREAK SPACE pasted from a web page
        ("\t121759222\n", "121759222"),
    ],
)
def test_eik_whitespace_is_ignored(raw: str, expected: str) -> None:
    assert normalize_eik(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "175074751",  # bad check digit
        "121759223",  # bad check digit
        "831635455",  # suggested as an example, but its check digit does not verify
        "1213961230341",  # 13 digits, bad 13th check digit
        "1213961240342",  # 13 digits, parent EIK (first nine) invalid
        "17507475",  # 8 digits
        "1750747520",  # 10 digits
        "12345678901",  # 11 digits
        "17507475A",  # letter
        "BG175074752",  # a VAT number is not an EIK
        "175-074-752",  # punctuation
        "\uff11\uff17\uff15\uff10\uff17\uff14\uff17\uff15\uff12",  # full-width digits
        "\u0661\u0667\u0665\u0660\u0667\u0664\u0667\u0665\u0662",  # Arabic-Indic digits
        "175074752\x00",  # NUL
    ],
)
def test_eik_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_eik(raw)
    assert _code(exc) == "INVALID_EIK"


def test_eik_messages_are_actionable() -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_eik("1750747520")
    assert exc.value.message == "An EIK has 9 digits, or 13 digits for a branch; this one has 10."
    with pytest.raises(InvalidValue) as exc:
        normalize_eik("175074751")
    assert "check digit" in exc.value.message


@pytest.mark.parametrize("raw", ["", "   ", "\n\t"])
def test_eik_blank_is_required(raw: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_eik(raw)
    assert _code(exc) == "REQUIRED"


# ------------------------------------------------------------------------------------------------
# VAT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BG175074752", "BG175074752"),
        ("bg175074752", "BG175074752"),
        ("BG 175 074 752", "BG175074752"),
        (" bg 121-759-222 ", "BG121759222"),
        ("BG7523169263", "BG7523169263"),  # 10 digits (an individual; stdnum.bg.egn doctest value)
        ("DE136695976", "DE136695976"),  # foreign EU VAT, accepted via stdnum.eu.vat
        ("de 136 695 976", "DE136695976"),
        ("EL094259216", "EL094259216"),  # Greece uses EL in VIES
        ("FR40303265045", "FR40303265045"),
    ],
)
def test_vat_accepted(raw: str, expected: str) -> None:
    assert normalize_vat(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "BG175074751",  # bad check digit
        "BG1750747520",  # 10 digits, bad check digit
        "BG17507475",  # 8 digits
        "BG17507475200",  # 11 digits
        "BG17507475A",  # letter
        "175074752",  # no country prefix
        "DE136695977",  # bad German check digit
        "GB980780684",  # not an EU member state
        "XX123456789",  # unknown prefix
        "БГ175074752",  # Cyrillic prefix
        "BG175074752\x00",
    ],
)
def test_vat_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_vat(raw)
    assert _code(exc) == "INVALID_VAT"


def test_vat_without_prefix_suggests_bg() -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_vat("175074752")
    assert "BG" in exc.value.message


# ------------------------------------------------------------------------------------------------
# IBAN


@pytest.mark.parametrize(
    "raw",
    [
        "BG80 BNBG 9661 1020 3456 78",
        "bg80 bnbg 9661 1020 3456 78",
        "BG80BNBG96611020345678",
        "  bg80bnbg96611020345678\n",
    ],
)
def test_bulgarian_iban_normalised(raw: str) -> None:
    assert normalize_iban(raw) == "BG80BNBG96611020345678"


def test_foreign_iban_accepted() -> None:
    assert normalize_iban("DE89 3704 0044 0532 0130 00") == "DE89370400440532013000"


def test_iban_bad_checksum() -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_iban("BG81 BNBG 9661 1020 3456 78")
    assert _code(exc) == "INVALID_IBAN"
    assert "check digits" in exc.value.message


@pytest.mark.parametrize("raw", ["BG80BNBG9661102034567", "BG80BNBG966110203456789"])
def test_bulgarian_iban_wrong_length(raw: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_iban(raw)
    assert _code(exc) == "INVALID_IBAN"
    assert exc.value.message == (f"A Bulgarian IBAN has 22 characters; this one has {len(raw)}.")


@pytest.mark.parametrize(
    "raw",
    [
        "DE89 3704 0044 0532 0130 0",  # German IBAN one digit short
        "BG80-BNBG-9661-1020-3456-78",  # hyphens are not accepted
        "80BG BNBG 9661 1020 3456 78",  # no country first
        "БГ80 BNBG 9661 1020 3456 78",  # Cyrillic letters
        "BG80",
        "X" * 40,
    ],
)
def test_iban_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_iban(raw)
    assert _code(exc) == "INVALID_IBAN"


# ------------------------------------------------------------------------------------------------
# phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0888 123 456", "+359888123456"),  # Bulgarian mobile (A1)
        ("0878123456", "+359878123456"),  # Bulgarian mobile (Vivacom)
        ("089 812 3456", "+359898123456"),  # Bulgarian mobile (Yettel)
        ("+359 88 812 3456", "+359888123456"),
        ("00359888123456", "+359888123456"),  # international prefix from Bulgaria
        ("02 987 6543", "+35929876543"),  # Sofia landline
        ("+359 (2) 987-65-43", "+35929876543"),
        ("032 123 456", "+35932123456"),  # Plovdiv landline
        ("052 600 000", "+35952600000"),  # Varna landline
        ("+44 20 7946 0958", "+442079460958"),  # London
        ("+49 30 901820", "+4930901820"),  # Berlin
    ],
)
def test_phone_normalised_to_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


def test_phone_default_region_is_used() -> None:
    assert normalize_phone("030 901820", default_region="DE") == "+4930901820"


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        "0888 123 45",  # too short
        "0888 123 4567 8",  # too long
        "123",
        "+999 888 123 456",  # no such country code
        "1-800-FLOWERS",
        "0888 123 456 ext. 12",  # extension would be lost
        "0888\x00123456",
        "0888\u202e123456",
        "9" * 65,
    ],
)
def test_phone_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_phone(raw)
    assert _code(exc) == "INVALID_PHONE"


def test_phone_extension_message() -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_phone("02 987 6543 ext 12")
    assert "extension" in exc.value.message.lower()


# ------------------------------------------------------------------------------------------------
# e-mail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ivan.petrov@agropolis.bg", "ivan.petrov@agropolis.bg"),
        ("  Ivan.Petrov@Agropolis.BG ", "Ivan.Petrov@agropolis.bg"),  # domain lower-cased only
        ("office+crm@abv.bg", "office+crm@abv.bg"),
        ("иван@пример.бг", "иван@пример.бг"),  # internationalised address
    ],
)
def test_email_accepted(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "ivan",
        "ivan@",
        "@abv.bg",
        "ivan@abv",  # no dot in the domain
        "ivan petrov@abv.bg",
        "ivan@@abv.bg",
        "ivan@localhost",
        "ivan@abv..bg",
        "ivan@abv.bg\x00",
        "ivan\u202e@abv.bg",
    ],
)
def test_email_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_email(raw)
    assert _code(exc) == "INVALID_EMAIL"


def test_email_300_characters_too_long() -> None:
    raw = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "c" * 50 + ".bg"
    assert len(raw) > 254
    with pytest.raises(InvalidValue) as exc:
        normalize_email("x" * 290 + "@abv.bg")
    assert _code(exc) == "TOO_LONG"
    assert "254" in exc.value.message
    with pytest.raises(InvalidValue) as exc:
        normalize_email(raw)
    assert _code(exc) == "TOO_LONG"


def test_email_blank_is_required() -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_email("  ")
    assert _code(exc) == "REQUIRED"


# ------------------------------------------------------------------------------------------------
# URL


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.bg", "https://example.bg"),
        ("www.agropolis.bg", "https://www.agropolis.bg"),
        ("Example.BG/Products?id=5#top", "https://example.bg/Products?id=5#top"),
        ("http://example.bg", "http://example.bg"),
        ("HTTPS://WWW.Example.com/", "https://www.example.com/"),
        ("example.bg:8080/shop", "https://example.bg:8080/shop"),
        ("пример.бг", "https://пример.бг"),
    ],
)
def test_url_accepted(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "mailto:office@example.bg",
        "ftp://example.bg",
        "file:///etc/passwd",
        "localhost",
        "http://localhost:8000",
        "example",
        "http://192.168.1.1",
        "https://user:secret@example.bg",
        "https://exa mple.bg",
        "https://example.bg/\x00",
        "https://example.bg\u202e",
        "https://-bad-.bg",
        "https://example.bg:99999",
        "https://",
        "https://.bg",
    ],
)
def test_url_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_url(raw)
    assert _code(exc) == "INVALID_URL"


def test_url_length_limit() -> None:
    base = "https://example.bg/"
    ok = base + "a" * (2048 - len(base))
    assert normalize_url(ok) == ok
    with pytest.raises(InvalidValue) as exc:
        normalize_url(ok + "a")
    assert _code(exc) == "TOO_LONG"
    assert "2048" in exc.value.message


# ------------------------------------------------------------------------------------------------
# clean_text


def test_clean_text_strips_and_keeps_inner_text() -> None:
    assert clean_text("  Агрополис ЕООД \n", max_length=200) == "Агрополис ЕООД"


def test_clean_text_blank_is_none_unless_required() -> None:
    assert clean_text("   ", max_length=10) is None
    assert clean_text("", max_length=10) is None
    assert clean_text(None, max_length=10) is None
    with pytest.raises(InvalidValue) as exc:
        clean_text(" \t ", max_length=10, required=True)
    assert _code(exc) == "REQUIRED"


def test_clean_text_nfc_normalises() -> None:
    decomposed = "\u0438\u0306"  # и + COMBINING BREVE
    assert clean_text(f"Николай{decomposed}", max_length=20) == "Николай\u0439"
    assert unicodedata.is_normalized("NFC", clean_text("Cafe\u0301", max_length=10) or "")
    assert clean_text("Cafe\u0301", max_length=4) == "Café"  # length counted after NFC


def test_clean_text_length_limit_names_the_limit() -> None:
    assert clean_text("x" * 10, max_length=10) == "x" * 10
    with pytest.raises(InvalidValue) as exc:
        clean_text("x" * 11, max_length=10)
    assert _code(exc) == "TOO_LONG"
    assert (
        exc.value.message == "This text is too long: at most 10 characters are allowed, it has 11."
    )


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u202e", "\u202d", "\u2066", "\u200f", "\u061c"],
)
@pytest.mark.parametrize("multiline", [False, True])
def test_clean_text_rejects_control_and_bidi_characters(char: str, multiline: bool) -> None:
    with pytest.raises(InvalidValue) as exc:
        clean_text(f"Агро{char}полис", max_length=100, multiline=multiline)
    assert _code(exc) == "CONTROL_CHARACTERS"
    assert f"U+{ord(char):04X}" in exc.value.message


def test_clean_text_rtl_override_spoof_rejected() -> None:
    # "invoice<RLO>fdp.exe" displays as "invoiceexe.pdf"
    with pytest.raises(InvalidValue) as exc:
        clean_text("invoice\u202efdp.exe", max_length=100, multiline=True)
    assert _code(exc) == "CONTROL_CHARACTERS"


def test_clean_text_rejects_unpaired_surrogate() -> None:
    with pytest.raises(InvalidValue) as exc:
        clean_text("abc\ud800def", max_length=100)
    assert _code(exc) == "CONTROL_CHARACTERS"


@pytest.mark.parametrize("text", ["ред 1\nред 2", "колона\tстойност", "a\u2028b"])
def test_single_line_rejects_line_breaks_and_tabs(text: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        clean_text(text, max_length=100)
    assert _code(exc) == "CONTROL_CHARACTERS"


def test_multiline_keeps_newlines_and_tabs_and_normalises_line_endings() -> None:
    assert (
        clean_text("ред 1\r\nред 2\rред 3\u2028ред\t4", max_length=100, multiline=True)
        == "ред 1\nред 2\nред 3\nред\t4"
    )


def test_emoji_allowed_in_notes() -> None:
    note = "Среща мина добре 👍 — доставка в петък 🚚; семейство 👨\u200d👩\u200d👧"
    assert clean_text(note, max_length=500, multiline=True) == note


def test_clean_text_rejects_bad_max_length() -> None:
    with pytest.raises(ValueError):
        clean_text("x", max_length=0)


# ------------------------------------------------------------------------------------------------
# country and postal code


@pytest.mark.parametrize(("raw", "expected"), [("BG", "BG"), ("bg", "BG"), (" de ", "DE")])
def test_country_accepted(raw: str, expected: str) -> None:
    assert normalize_country(raw) == expected


@pytest.mark.parametrize("raw", ["BGR", "B", "XX", "ZZ", "UK", "EL", "Bulgaria", "Б Г", "1G"])
def test_country_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_country(raw)
    assert _code(exc) == "INVALID_COUNTRY"


def test_country_list_is_iso_3166_plus_kosovo() -> None:
    assert len(COUNTRY_CODES) == 250  # 249 assigned ISO 3166-1 alpha-2 codes + XK
    assert {"BG", "RO", "GR", "MK", "RS", "TR", "DE", "XK"} <= COUNTRY_CODES


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("1000", "BG", "1000"),
        (" 4000 ", "bg", "4000"),
        ("9010", "BG", "9010"),
        ("10115", "DE", "10115"),
        ("sw1a  1aa", "GB", "SW1A 1AA"),
        ("01-234", "PL", "01-234"),
        ("11000", "RS", "11000"),
    ],
)
def test_postal_code_accepted(raw: str, country: str, expected: str) -> None:
    assert normalize_postal_code(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("100", "BG"),
        ("10000", "BG"),
        ("1ООО", "BG"),  # Cyrillic О instead of zero
        ("A000", "BG"),
        ("1", "DE"),
        ("12345678901", "DE"),
        ("-1234", "DE"),
        ("12_34", "DE"),
        ("1234\x00", "DE"),
    ],
)
def test_postal_code_rejected(raw: str, country: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_postal_code(raw, country)
    assert _code(exc) == "INVALID_POSTAL_CODE"


def test_postal_code_with_bad_country() -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_postal_code("1000", "XX")
    assert _code(exc) == "INVALID_COUNTRY"


# ------------------------------------------------------------------------------------------------
# hostile input: a megabyte is rejected quickly, with the expected code


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda v: normalize_eik(v), "INVALID_EIK"),
        (lambda v: normalize_vat(v), "INVALID_VAT"),
        (lambda v: normalize_iban(v), "INVALID_IBAN"),
        (lambda v: normalize_phone(v), "INVALID_PHONE"),
        (lambda v: normalize_email(v), "TOO_LONG"),
        (lambda v: normalize_url(v), "TOO_LONG"),
        (lambda v: clean_text(v, max_length=200), "TOO_LONG"),
        (lambda v: clean_text(v, max_length=10_000, multiline=True), "TOO_LONG"),
        (lambda v: normalize_country(v), "INVALID_COUNTRY"),
        (lambda v: normalize_postal_code(v, "BG"), "INVALID_POSTAL_CODE"),
    ],
)
@pytest.mark.parametrize("payload", [ONE_MB, "\x00" * (1024 * 1024), "а" * (1024 * 1024)])
def test_one_megabyte_is_rejected_fast(
    call: Callable[[str], object], code: str, payload: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidValue) as exc:
        call(payload)
    assert _code(exc) == code
    assert time.perf_counter() - started < 1.0
    assert len(exc.value.message) < 300  # the value is never echoed back
