"""Identifiers a user types (EIK/BULSTAT, VAT, IBAN, BIC, phone, e-mail, website, country,
postal code, currency): checked through the well-kept libraries, returned in their stored form.

python-stdnum (EIK/VAT, IBAN, BIC), phonenumbers and email-validator do the checking (DESIGN §3:
no hand-written checksums where a library has one; the 13-digit BULSTAT of a branch is the one
rule stdnum lacks). Every function takes the raw string as it arrived in an input and either
returns the normalised value or raises :class:`crm_common.text.InvalidValue`. Pure: no I/O, no
database, no network (e-mail deliverability is *not* checked).

Conventions shared by all functions:

* surrounding whitespace is ignored;
* a blank identifier raises ``REQUIRED`` -- callers skip optional fields the user left out before
  calling (free text is :func:`crm_common.text.clean_text`, which returns ``None`` for blank
  optional text);
* the length of the raw input is bounded before any expensive work, so a megabyte of garbage is
  rejected cheaply;
* messages never echo the offending value back (it may be huge or hostile); they say what is
  expected instead.

Decisions worth knowing (also asserted by the unit tests):

* Foreign EU VAT numbers are accepted when ``stdnum.eu.vat`` validates them (clients abroad exist);
  VAT numbers of non-EU countries (GB, CH, NO, ...) are rejected, because no checked validator is
  used for them here.
* A phone number with an extension is rejected rather than silently losing the extension, because
  E.164 has no place for it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.bg import vat as stdnum_bg_vat
from stdnum.eu import vat as stdnum_eu_vat
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from crm_common.text import InvalidValue

__all__ = [
    "COUNTRY_CODES",
    "CURRENCIES",
    "EMAIL_MAX_LENGTH",
    "URL_MAX_LENGTH",
    "bulstat_check_digit",
    "eik_check_digit",
    "normalize_bic",
    "normalize_country",
    "normalize_currency",
    "normalize_eik",
    "normalize_email",
    "normalize_iban",
    "normalize_phone",
    "normalize_postal_code",
    "normalize_url",
    "normalize_vat",
]

EMAIL_MAX_LENGTH: Final = 254
"""Longest e-mail address accepted (RFC 5321 path limit minus the angle brackets)."""

URL_MAX_LENGTH: Final = 2048
"""Longest website address accepted."""

# Raw inputs longer than these cannot possibly be valid; they are rejected before any parsing.
_IDENTIFIER_RAW_MAX: Final = 64
_PHONE_RAW_MAX: Final = 64

# --------------------------------------------------------------------------------------------------
# helpers


def _strip_all_whitespace(value: str) -> str:
    """Remove every whitespace character (ASCII and Unicode, e.g. NO-BREAK SPACE) from ``value``."""
    return "".join(ch for ch in value if not ch.isspace())


def _require(value: object, what: str) -> str:
    """Return ``value`` stripped of surrounding whitespace; raise ``REQUIRED`` when it is blank
    (or ``None``) and ``INVALID_TYPE`` when it is not text at all."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidValue("INVALID_TYPE", f"Enter the {what} as text.")
    stripped = value.strip()
    if not stripped:
        raise InvalidValue("REQUIRED", f"Enter the {what}.")
    return stripped


# --------------------------------------------------------------------------------------------------
# EIK / BULSTAT

_EIK9_WEIGHTS_1: Final = (1, 2, 3, 4, 5, 6, 7, 8)
_EIK9_WEIGHTS_2: Final = (3, 4, 5, 6, 7, 8, 9, 10)
_EIK13_WEIGHTS_1: Final = (2, 7, 3, 5)
_EIK13_WEIGHTS_2: Final = (4, 9, 5, 7)


def _mod11_two_pass(digits: str, first: tuple[int, ...], second: tuple[int, ...]) -> str:
    """The BULSTAT check-digit rule: weighted sum mod 11; on 10 retry with the second weights;
    on 10 again the check digit is 0."""
    remainder = sum(int(d) * w for d, w in zip(digits, first, strict=True)) % 11
    if remainder == 10:
        remainder = sum(int(d) * w for d, w in zip(digits, second, strict=True)) % 11
        if remainder == 10:
            remainder = 0
    return str(remainder)


def eik_check_digit(first_eight: str) -> str:
    """Return the 9th (check) digit of a 9-digit EIK/BULSTAT given its first eight digits.

    This is the same algorithm as ``stdnum.bg.vat.calc_check_digit_legal`` (weights 1..8, then
    3..10, a remainder of 10 twice gives 0).
    """
    if not re.fullmatch(r"[0-9]{8}", first_eight):
        raise ValueError("eik_check_digit needs exactly eight ASCII digits")
    return _mod11_two_pass(first_eight, _EIK9_WEIGHTS_1, _EIK9_WEIGHTS_2)


def bulstat_check_digit(first_twelve: str) -> str:
    """Return the 13th (check) digit of a 13-digit BULSTAT (the code of a branch).

    python-stdnum has no validator for 13-digit codes, so the published algorithm of the BULSTAT
    register is implemented here: digits 9 to 12 are weighted 2, 7, 3, 5; the sum mod 11 is the
    check digit; if it is 10 the weights 4, 9, 5, 7 are used instead; if that is 10 too, it is 0.
    The first nine digits are the parent's EIK and must be valid on their own (checked by
    :func:`normalize_eik`, not here).
    """
    if not re.fullmatch(r"[0-9]{12}", first_twelve):
        raise ValueError("bulstat_check_digit needs exactly twelve ASCII digits")
    return _mod11_two_pass(first_twelve[8:12], _EIK13_WEIGHTS_1, _EIK13_WEIGHTS_2)


def normalize_eik(value: str) -> str:
    """Validate a Bulgarian EIK/BULSTAT (ЕИК/БУЛСТАТ) and return it as a string of digits.

    Accepts 9 digits (a legal entity) or 13 digits (a branch: the parent's 9-digit EIK followed by
    four digits). Whitespace anywhere is ignored (``"175 074 752"``); anything else that is not an
    ASCII digit is rejected. The 9-digit check digit is verified with python-stdnum
    (``stdnum.bg.vat``, whose legal-entity rule is the EIK rule); the 13-digit one with
    :func:`bulstat_check_digit`, after the first nine digits are checked as an EIK.

    Raises:
        InvalidValue: ``REQUIRED`` when blank, ``INVALID_EIK`` otherwise.
    """
    stripped = _require(value, "EIK")
    if len(stripped) > _IDENTIFIER_RAW_MAX:
        raise InvalidValue("INVALID_EIK", "An EIK has 9 digits, or 13 digits for a branch.")
    digits = _strip_all_whitespace(stripped)
    if not re.fullmatch(r"[0-9]+", digits):
        raise InvalidValue(
            "INVALID_EIK", "An EIK contains digits only; remove any letters or punctuation."
        )
    if len(digits) not in (9, 13):
        raise InvalidValue(
            "INVALID_EIK",
            f"An EIK has 9 digits, or 13 digits for a branch; this one has {len(digits)}.",
        )
    if not stdnum_bg_vat.is_valid(digits[:9]):
        raise InvalidValue(
            "INVALID_EIK", "This EIK is not valid: its check digit does not match. Check for typos."
        )
    if len(digits) == 13 and digits[12] != bulstat_check_digit(digits[:12]):
        raise InvalidValue(
            "INVALID_EIK",
            "This 13-digit BULSTAT is not valid: its last check digit does not match. "
            "Check for typos.",
        )
    return digits


# --------------------------------------------------------------------------------------------------
# VAT


def normalize_vat(value: str) -> str:
    """Validate a VAT identification number and return it compact and upper case with its prefix.

    Bulgarian numbers are ``BG`` followed by 9 digits (legal entities; the EIK) or 10 digits
    (individuals and others), checked with ``stdnum.bg.vat``. Lower case, spaces, dots and hyphens
    are accepted: ``"bg 175 074 752"`` → ``"BG175074752"``.

    VAT numbers of the other EU member states (and ``XI``, Northern Ireland) are accepted when
    ``stdnum.eu.vat`` validates them, because clients abroad exist; they are returned in the compact
    form stdnum produces, e.g. ``"DE136695976"`` (Greece keeps its VIES prefix ``EL``). Numbers of
    non-EU countries are rejected. The country prefix is required: a bare ``"175074752"`` is
    rejected with a message suggesting ``BG``, rather than guessed.

    Raises:
        InvalidValue: ``REQUIRED`` when blank, ``INVALID_VAT`` otherwise.
    """
    stripped = _require(value, "VAT number")
    if len(stripped) > _IDENTIFIER_RAW_MAX:
        raise InvalidValue(
            "INVALID_VAT", "A VAT number is a country code followed by at most 12 characters."
        )
    compact = re.sub(r"[\s.\-]", "", stripped)
    if not compact.isascii() or not compact.isalnum():
        raise InvalidValue(
            "INVALID_VAT",
            "A VAT number contains only Latin letters and digits, e.g. BG175074752.",
        )
    compact = compact.upper()
    if compact.isdigit():
        raise InvalidValue(
            "INVALID_VAT",
            "Start the VAT number with its country code, e.g. BG followed by the 9-digit EIK.",
        )
    if compact.startswith("BG"):
        number = compact[2:]
        if not number.isdigit() or len(number) not in (9, 10):
            raise InvalidValue(
                "INVALID_VAT", "A Bulgarian VAT number is BG followed by 9 or 10 digits."
            )
        if not stdnum_bg_vat.is_valid(number):
            raise InvalidValue(
                "INVALID_VAT",
                "This Bulgarian VAT number is not valid: its check digit does not match. "
                "Check for typos.",
            )
        return "BG" + number
    try:
        return str(stdnum_eu_vat.validate(compact))
    except InvalidComponent:
        raise InvalidValue(
            "INVALID_VAT",
            "Only VAT numbers of EU member states are accepted; start the number with the "
            "country code, e.g. BG, DE or EL.",
        ) from None
    except ValidationError:
        raise InvalidValue(
            "INVALID_VAT",
            f"This is not a valid {compact[:2]} VAT number; check the digits and the country code.",
        ) from None


# --------------------------------------------------------------------------------------------------
# IBAN

_BG_IBAN_LENGTH: Final = 22


def normalize_iban(value: str) -> str:
    """Validate an IBAN and return it in compact upper-case form (``BG80BNBG96611020345678``).

    Spaces (and any other whitespace) and lower case are accepted. The MOD-97 check digits, the
    country and the country's length and structure are checked with ``stdnum.iban``. Bulgarian
    IBANs have 22 characters and get a specific message when the length is wrong.

    Raises:
        InvalidValue: ``REQUIRED`` when blank, ``INVALID_IBAN`` otherwise.
    """
    stripped = _require(value, "IBAN")
    if len(stripped) > 2 * _IDENTIFIER_RAW_MAX:
        raise InvalidValue("INVALID_IBAN", "An IBAN has at most 34 characters.")
    compact = _strip_all_whitespace(stripped)
    if not compact.isascii() or not compact.isalnum():
        raise InvalidValue(
            "INVALID_IBAN", "An IBAN contains only Latin letters and digits (spaces are ignored)."
        )
    compact = compact.upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", compact):
        raise InvalidValue(
            "INVALID_IBAN",
            "An IBAN starts with a two-letter country code and two check digits, e.g. BG80 BNBG.",
        )
    if len(compact) > 34:
        raise InvalidValue(
            "INVALID_IBAN", f"An IBAN has at most 34 characters; this one has {len(compact)}."
        )
    if compact.startswith("BG") and len(compact) != _BG_IBAN_LENGTH:
        raise InvalidValue(
            "INVALID_IBAN",
            f"A Bulgarian IBAN has {_BG_IBAN_LENGTH} characters; this one has {len(compact)}.",
        )
    try:
        return str(stdnum_iban.validate(compact))
    except InvalidChecksum:
        raise InvalidValue(
            "INVALID_IBAN",
            "This IBAN is not valid: its check digits do not match. Check for typos.",
        ) from None
    except InvalidComponent:
        raise InvalidValue(
            "INVALID_IBAN", f"IBANs with the country code {compact[:2]} are not known."
        ) from None
    except (InvalidFormat, InvalidLength, ValidationError):
        raise InvalidValue(
            "INVALID_IBAN",
            f"This IBAN does not have the length or structure used for {compact[:2]} accounts.",
        ) from None


# --------------------------------------------------------------------------------------------------
# phone


def normalize_phone(value: str, default_region: str = "BG") -> str:
    """Validate a phone number and return it in E.164 form.

    ``"0888 123 456"`` becomes ``"+359888123456"``. Numbers without an international prefix are
    read as numbers of ``default_region`` (Bulgaria by default). The number must be a valid,
    assigned-range number according to ``phonenumbers`` (``is_valid_number``), not merely of a
    plausible length. Numbers with an extension are rejected, because E.164 cannot hold the
    extension and it would be lost silently.

    Raises:
        InvalidValue: ``REQUIRED`` when blank, ``INVALID_PHONE`` otherwise.
    """
    stripped = _require(value, "phone number")
    if len(stripped) > _PHONE_RAW_MAX:
        raise InvalidValue("INVALID_PHONE", "This is too long to be a phone number.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in stripped):
        raise InvalidValue(
            "INVALID_PHONE", "A phone number may contain digits, spaces, +, -, ( and ) only."
        )
    try:
        parsed = phonenumbers.parse(stripped, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidValue(
            "INVALID_PHONE",
            "This is not a phone number. Enter it as 0888 123 456 or with the country code, "
            "e.g. +359 888 123 456.",
        ) from None
    if parsed.extension:
        raise InvalidValue(
            "INVALID_PHONE",
            "Extensions cannot be stored with a phone number; enter the number without the "
            "extension and put the extension in the notes.",
        )
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidValue(
            "INVALID_PHONE",
            "This phone number is not valid: check the number of digits and the area or mobile "
            "code, and add the country code for numbers outside Bulgaria.",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# --------------------------------------------------------------------------------------------------
# e-mail


def normalize_email(value: str) -> str:
    """Validate an e-mail address and return its normalised form.

    Uses ``email_validator.validate_email(..., check_deliverability=False)`` (no DNS look-up): the
    domain is lower-cased and Unicode-normalised, the local part keeps its case. Internationalised
    addresses (``иван@пример.бг``) are accepted. Addresses longer than 254 characters are rejected
    with ``TOO_LONG`` before parsing.

    Raises:
        InvalidValue: ``REQUIRED`` when blank, ``TOO_LONG`` over 254 characters, ``INVALID_EMAIL``
            otherwise.
    """
    stripped = _require(value, "e-mail address")
    if len(stripped) > EMAIL_MAX_LENGTH:
        raise InvalidValue(
            "TOO_LONG",
            f"An e-mail address can have at most {EMAIL_MAX_LENGTH} characters; "
            f"this one has {len(stripped)}.",
        )
    try:
        result = validate_email(stripped, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue("INVALID_EMAIL", f"This e-mail address is not valid. {exc}") from None
    return str(result.normalized)


# --------------------------------------------------------------------------------------------------
# website

_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")


def normalize_url(value: str) -> str:
    """Validate a website address and return it with an explicit scheme.

    ``"example.bg"`` becomes ``"https://example.bg"``; ``http`` and ``https`` are the only schemes
    accepted. The host must be a domain name with at least one dot and an alphabetic top-level
    domain (IP addresses, ``localhost`` and user names/passwords in the address are rejected).
    Internationalised domain names (``пример.бг``) are accepted and kept as typed, lower-cased.
    The scheme and the host are lower-cased; path, query and fragment are kept as typed.
    At most 2048 characters.

    Raises:
        InvalidValue: ``REQUIRED`` when blank, ``TOO_LONG`` over 2048 characters, ``INVALID_URL``
            otherwise.
    """
    stripped = _require(value, "website address")
    if len(stripped) > URL_MAX_LENGTH:
        raise InvalidValue(
            "TOO_LONG",
            f"A website address can have at most {URL_MAX_LENGTH} characters; "
            f"this one has {len(stripped)}.",
        )
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in stripped):
        raise InvalidValue(
            "INVALID_URL", "A website address cannot contain spaces or invisible characters."
        )
    candidate = stripped
    if "://" not in candidate:
        if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:(?!\d)", candidate):
            # "mailto:...", "javascript:..." and other non-web schemes without "//"
            raise InvalidValue(
                "INVALID_URL", "A website address must start with http:// or https://."
            )
        candidate = "https://" + candidate
    try:
        parts = urlsplit(candidate)
        port = parts.port  # validates the port number
    except ValueError:
        raise InvalidValue("INVALID_URL", "This is not a valid website address.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidValue("INVALID_URL", "A website address must start with http:// or https://.")
    if parts.username is not None or parts.password is not None:
        raise InvalidValue(
            "INVALID_URL", "A website address cannot contain a user name or password."
        )
    host = (parts.hostname or "").rstrip(".")
    try:
        ascii_host = host.encode("idna").decode("ascii").lower() if host else ""
    except UnicodeError:
        raise InvalidValue(
            "INVALID_URL", "The domain name of this website address is not valid."
        ) from None
    labels = ascii_host.split(".")
    if (
        len(labels) < 2
        or len(ascii_host) > 253
        or not all(_HOST_LABEL.fullmatch(label) for label in labels)
        or not _TLD.fullmatch(labels[-1])
    ):
        raise InvalidValue(
            "INVALID_URL",
            "A website address needs a domain name such as example.bg.",
        )
    netloc = host.lower() if port is None else f"{host.lower()}:{port}"
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


# --------------------------------------------------------------------------------------------------
# country and postal code

COUNTRY_CODES: Final = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
    BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET
    FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
    HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT
    JE JM JO JP
    KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ
    OM
    PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA
    RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
    TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
    UA UG UM US UY UZ
    VA VC VE VG VI VN VU
    WF WS
    XK
    YE YT
    ZA ZM ZW
    """.split()
)
"""The 249 officially assigned ISO 3166-1 alpha-2 codes, plus ``XK`` (Kosovo), a user-assigned code
used by the European Commission and most registries for a neighbouring market."""


def normalize_country(value: str) -> str:
    """Validate an ISO 3166-1 alpha-2 country code and return it upper case (``"bg"`` → ``"BG"``).

    The code is checked against the embedded list :data:`COUNTRY_CODES` (officially assigned codes
    plus ``XK``); country names are not accepted.

    Raises:
        InvalidValue: ``REQUIRED`` when blank, ``INVALID_COUNTRY`` otherwise.
    """
    stripped = _require(value, "country code")
    code = stripped.upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise InvalidValue(
            "INVALID_COUNTRY",
            "Enter the country as a two-letter ISO 3166 code, e.g. BG for Bulgaria.",
        )
    if code not in COUNTRY_CODES:
        raise InvalidValue(
            "INVALID_COUNTRY",
            f"{code} is not an ISO 3166 country code; use e.g. BG for Bulgaria.",
        )
    return code


def normalize_postal_code(value: str, country: str) -> str:
    """Validate a postal code for ``country`` and return it normalised.

    For Bulgaria (``BG``) a postal code is exactly four ASCII digits (``" 1000 "`` → ``"1000"``).
    For other countries it is 2 to 10 characters of Latin letters, digits, spaces and hyphens,
    starting and ending with a letter or digit; letters are upper-cased and runs of spaces
    collapsed (``"sw1a 1aa"`` → ``"SW1A 1AA"``). ``country`` is normalised with
    :func:`normalize_country` first.

    Raises:
        InvalidValue: ``INVALID_COUNTRY`` for a bad country; ``REQUIRED`` when blank;
            ``INVALID_POSTAL_CODE`` otherwise.
    """
    country_code = normalize_country(country)
    stripped = _require(value, "postal code")
    code = re.sub(r" +", " ", stripped).upper()
    if country_code == "BG":
        if not re.fullmatch(r"[0-9]{4}", code):
            raise InvalidValue(
                "INVALID_POSTAL_CODE", "A Bulgarian postal code has exactly 4 digits, e.g. 1000."
            )
        return code
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9 \-]{0,8}[A-Z0-9]", code):
        raise InvalidValue(
            "INVALID_POSTAL_CODE",
            "A postal code has 2 to 10 characters: Latin letters, digits, spaces and hyphens.",
        )
    return code


# ISO 4217 codes the platform accepts for accounts and money (active codes; extend as needed).
CURRENCIES: Final = frozenset(
    "AED AUD BAM BGN BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF ILS INR ISK JPY KRW MDL MKD MXN "
    "NOK NZD PLN RON RSD RUB SEK SGD TRY UAH USD ZAR".split()
)


def normalize_currency(value: str) -> str:
    """ISO 4217 alphabetic code, upper case; only the codes in :data:`CURRENCIES`.

    Raises:
        InvalidValue: ``REQUIRED`` when blank, ``INVALID_CURRENCY`` otherwise.
    """
    code = _require(value, "currency").upper()
    if len(code) != 3 or code not in CURRENCIES:
        raise InvalidValue(
            "INVALID_CURRENCY", "Use a three-letter ISO 4217 currency code such as EUR."
        )
    return code


def normalize_bic(value: str) -> str:
    """SWIFT/BIC code (8 or 11 characters, ISO 9362), upper case, spaces removed.

    Raises:
        InvalidValue: ``REQUIRED`` when blank, ``INVALID_BIC`` otherwise.
    """
    stripped = _require(value, "BIC")
    if len(stripped) > _IDENTIFIER_RAW_MAX:
        raise InvalidValue("INVALID_BIC", "A BIC has 8 or 11 characters.")
    try:
        return str(stdnum_bic.validate(stripped))
    except ValidationError:
        raise InvalidValue(
            "INVALID_BIC",
            "This BIC is not valid: it has 8 or 11 letters and digits, e.g. UNCRBGSF.",
        ) from None
