"""Cleaning and checking the values users type: free text, EIK, web addresses, moments.

Pure functions: no I/O. Each raises :class:`InvalidValue` with a machine-readable code and an
English message; the service layer turns it into a ``userError`` naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from urllib.parse import urlsplit


class InvalidValue(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# text-direction controls (they make text display differently from what is stored)
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_SEPARATORS = frozenset("\u2028\u2029")


def clean_text(value: object, *, max_length: int, required: bool = False,
               multiline: bool = False) -> str | None:
    """Strip, NFC-normalise and check free text (as the clients service does): an empty value is
    ``None`` (``REQUIRED`` when required); control and text-direction characters are refused
    (``CONTROL_CHARACTERS``; multiline text keeps ``\\n`` and ``\\t``); more than ``max_length``
    characters is ``TOO_LONG``."""
    if value is not None and not isinstance(value, str):
        raise InvalidValue("INVALID_TYPE", "This value must be text.")
    stripped = (value or "").strip()
    if not stripped:
        if required:
            raise InvalidValue("REQUIRED", "This field is required; enter a value.")
        return None
    if len(stripped) > 4 * max_length + 64:  # a hostile megabyte is refused before normalising
        raise InvalidValue("TOO_LONG", f"At most {max_length} characters are allowed.")
    text = unicodedata.normalize("NFC", stripped)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc" and not (multiline and ch in "\n\t"):
            raise InvalidValue("CONTROL_CHARACTERS",
                               f"This text contains a control character (U+{ord(ch):04X}).")
        if ch in _BIDI_CONTROLS or category == "Cs" or ch in _LINE_SEPARATORS:
            raise InvalidValue("CONTROL_CHARACTERS",
                               f"This text contains a character that cannot be stored "
                               f"(U+{ord(ch):04X}).")
    if len(text) > max_length:
        raise InvalidValue("TOO_LONG",
                           f"At most {max_length} characters are allowed; this has {len(text)}.")
    return text


def _mod11(digits: str, first: tuple[int, ...], second: tuple[int, ...]) -> str:
    total = sum(int(d) * w for d, w in zip(digits, first, strict=True)) % 11
    if total == 10:
        total = sum(int(d) * w for d, w in zip(digits, second, strict=True)) % 11
    return "0" if total == 10 else str(total)


def eik_check_digit(first_eight: str) -> str:
    return _mod11(first_eight, (1, 2, 3, 4, 5, 6, 7, 8), (3, 4, 5, 6, 7, 8, 9, 10))


def normalize_eik(value: object) -> str:
    """A Bulgarian EIK/BULSTAT: 9 digits, or 13 for a branch, check digits verified."""
    if not isinstance(value, str):
        raise InvalidValue("INVALID_TYPE", "An EIK is text.")
    digits = re.sub(r"\s+", "", value[:64])
    if not re.fullmatch(r"[0-9]{9}|[0-9]{13}", digits) or len(value) > 64:
        raise InvalidValue("INVALID_EIK", "An EIK has 9 digits, or 13 digits for a branch.")
    if eik_check_digit(digits[:8]) != digits[8]:
        raise InvalidValue("INVALID_EIK", "This EIK's check digit is wrong; check for a typo.")
    if len(digits) == 13 and \
            _mod11(digits[8:12], (2, 7, 3, 5), (4, 9, 5, 7)) != digits[12]:
        raise InvalidValue("INVALID_EIK", "This BULSTAT's check digit is wrong.")
    return digits


URL_MAX_LENGTH = 2048


def normalize_url(value: object) -> str:
    """A web address: ``http``/``https`` only (``example.bg`` becomes ``https://example.bg``), a
    host with a dot and an alphabetic top-level domain, no user name or password."""
    text = clean_text(value, max_length=URL_MAX_LENGTH, required=True)
    assert text is not None
    if any(ch.isspace() for ch in text):
        raise InvalidValue("INVALID_URL", "A website address cannot contain spaces.")
    candidate = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise InvalidValue("INVALID_URL", "This is not a website address.") from None
    del port
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidValue("INVALID_URL", "A website address must start with http:// or https://.")
    if parts.username or parts.password or "." not in host or \
            not host.rsplit(".", 1)[-1].isalpha():
        raise InvalidValue("INVALID_URL", "This is not a website address.")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}" + (
        f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def parse_uuid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidValue("INVALID_ID", "This is not a valid id.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidValue("INVALID_ID", "This is not a valid id.") from None


#: moments before this are typing mistakes (year 0001, 1970 from an unset clock)
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def aware_moment(value: object) -> dt.datetime:
    """A timezone-aware date and time between 2000 and 2100, returned in UTC."""
    if not isinstance(value, dt.datetime):
        raise InvalidValue("INVALID_TYPE", "This must be a date and time.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue("TIMEZONE_REQUIRED",
                           "Give the time with its UTC offset, e.g. 2026-03-02T10:00:00+02:00.")
    moment = value.astimezone(dt.UTC)
    if not EARLIEST <= moment < LATEST:
        raise InvalidValue("OUT_OF_RANGE", "The date must be between 2000 and 2100.")
    return moment
