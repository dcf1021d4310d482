"""An attachment's file name as input: the last path segment, bounded, without control or
quoting characters; and its plain-ASCII form for the ``filename=`` of a download.

(Free text is :func:`crm_common.text.clean_text`, the same rule in every service.)
"""

from __future__ import annotations

import re
import unicodedata

#: characters never kept in a stored file name (paths, quotes, shell and header metacharacters)
_FILENAME_UNSAFE = re.compile(
    r'[\\/:*?"<>|;\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]')
MAX_FILE_NAME = 255
DEFAULT_FILE_NAME = "file"


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
