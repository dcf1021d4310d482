"""Free text and file names as input: trimmed, bounded, without control characters."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_SINGLE_LINE = re.compile(r"[\n\t]")
#: characters never kept in a stored file name (paths, quotes, shell and header metacharacters)
_FILENAME_UNSAFE = re.compile(
    r'[\\/:*?"<>|;\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]')
MAX_FILE_NAME = 255
DEFAULT_FILE_NAME = "file"


class InvalidText(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def clean_text(value: str | None, *, max_length: int, required: bool = False,
               multiline: bool = False) -> str | None:
    """Trimmed text, NFC-normalised; control characters are refused (not silently dropped),
    as are texts longer than ``max_length`` characters. Empty text is None (or REQUIRED)."""
    if value is None or value.strip() == "":
        if required:
            raise InvalidText("REQUIRED", "a value is required")
        return None
    if len(value) > max_length * 4:  # do not even normalise a huge value
        raise InvalidText("TOO_LONG", f"at most {max_length} characters")
    text = unicodedata.normalize("NFC", value.strip())
    if _CONTROL.search(text) or (not multiline and _CONTROL_SINGLE_LINE.search(text)):
        raise InvalidText("CONTROL_CHARACTERS", "control characters are not allowed")
    if len(text) > max_length:
        raise InvalidText("TOO_LONG", f"at most {max_length} characters")
    return text


def safe_file_name(value: str | None) -> str:
    """A file name safe to store and to send back in a header: the last path segment only,
    without control, path or quoting characters, at most 255 characters (the extension kept),
    never empty, never a dot name."""
    raw = unicodedata.normalize("NFC", value or "")[: MAX_FILE_NAME * 16]
    last = re.split(r"[\\/]", raw)[-1]
    name = _FILENAME_UNSAFE.sub("_", last).strip().strip(".").strip()
    if not name.strip("_. "):  # nothing but what was unsafe
        return DEFAULT_FILE_NAME
    if len(name) > MAX_FILE_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            name = stem[: MAX_FILE_NAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILE_NAME]
    return name


def ascii_fallback(name: str) -> str:
    """The file name as plain ASCII for the ``filename=`` parameter of Content-Disposition."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    folded = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", folded).strip() or DEFAULT_FILE_NAME
    return folded
