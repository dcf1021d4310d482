"""Free text as users type it: one cleaning rule for every service, and the error every value
rule raises.

Every value function of the kit (here, :mod:`crm_common.identifiers`, :mod:`crm_common.parsing`)
takes the raw value as it arrived in an input and either returns the normalised value that is
stored, or raises :class:`InvalidValue` with a machine-readable ``code`` and a ``message`` written
for the person who typed the value (never Python's own exception text, never the value itself: it
may be huge or hostile). :class:`crm_common.validation.Collector` turns an :class:`InvalidValue`
into a ``FieldProblem`` at the field's path. Pure functions: no I/O.

Decisions worth knowing (asserted by ``libs/crm_common/tests/test_text.py``):

* **Bidirectional-text controls** (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C -- the
  Unicode ``Bidi_Control`` set) are refused as ``CONTROL_CHARACTERS``. Cyrillic and Latin text
  never needs them, and U+202E (RIGHT-TO-LEFT OVERRIDE) is the classic way to make a name or a
  file name display differently from what is stored ("Trojan Source" spoofing).
* NUL and every other ``Cc`` control character are refused (multiline text keeps ``\\n`` and
  ``\\t``); so are unpaired surrogates (JSON ``\\ud800`` escapes can smuggle them into a
  ``str``): they cannot be stored as UTF-8.
* Emoji and other symbols are ordinary text, **including the zero-width joiner (U+200D)** that
  composes emoji sequences (👩‍💻) and the zero-width non-joiner that Persian and Indic scripts
  need. (The tasks service used to refuse them; text that passes in one service passes in all.)
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["InvalidValue", "clean_text", "control_character"]

# Unicode Bidi_Control characters (PropList.txt): ALM, LRM, RLM, LRE..RLO, LRI..PDI.
_BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_LINE_SEPARATORS: Final = frozenset("\u2028\u2029")
# Unicode Cc (U+0000..U+001F, U+007F..U+009F) but tab, LF and CR; surrogates (Cs)
_REFUSED_EVERYWHERE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def control_character(value: str) -> str | None:
    """The first character of ``value`` that no text of any field may hold, or ``None``: a
    Unicode ``Cc`` control character other than tab, line feed and carriage return (NUL above
    all: PostgreSQL cannot store it), or an unpaired surrogate (not encodable as UTF-8). The
    check every GraphQL argument goes through (``crm_common.graphql.text_arguments``); a
    field's own rule (:func:`clean_text`) may refuse more."""
    found = _REFUSED_EVERYWHERE.search(value)
    return found.group(0) if found else None


class InvalidValue(ValueError):
    """A value the user typed is not acceptable.

    Attributes:
        code: machine-readable reason in SCREAMING_SNAKE case (``INVALID_EIK``, ``TOO_LONG``, ...);
            it becomes the ``code`` of the GraphQL ``userError``.
        message: an English sentence telling the user what is wrong and what is expected.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"InvalidValue(code={self.code!r}, message={self.message!r})"


def clean_text(
    value: object, *, max_length: int, required: bool = False, multiline: bool = False
) -> str | None:
    """Clean a free-text value (a name, a street, a note) for storage.

    Steps, in order:

    0. anything but a ``str`` or ``None`` is ``INVALID_TYPE``;
    1. surrounding whitespace is stripped; an empty result is ``None``, or ``REQUIRED`` when
       ``required`` (``None`` is treated as empty);
    2. the text is NFC-normalised (so a decomposed "й" equals the composed one for search);
    3. in ``multiline`` text, ``\\r\\n``, ``\\r``, U+2028 and U+2029 become ``\\n``;
    4. control characters are rejected (``CONTROL_CHARACTERS``): every Unicode ``Cc`` character
       except ``\\n`` and ``\\t`` in multiline text, bidirectional-text controls such as U+202E
       RIGHT-TO-LEFT OVERRIDE (they make text display differently from what is stored), unpaired
       surrogates, and line/paragraph separators in single-line text;
    5. more than ``max_length`` characters (code points, after normalisation) is ``TOO_LONG``.

    Emoji, Cyrillic, Latin and every other printable character are allowed.

    Raises:
        InvalidValue: ``INVALID_TYPE``, ``REQUIRED``, ``CONTROL_CHARACTERS`` or ``TOO_LONG``.
    """
    if max_length < 1:
        raise ValueError("max_length must be positive")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidValue("INVALID_TYPE", "This value must be text.")
    stripped = value.strip()
    if not stripped:
        if required:
            raise InvalidValue("REQUIRED", "This field is required; enter a value.")
        return None
    # A hostile megabyte is refused before normalisation; NFC never shrinks text by more than a
    # factor of a few, so this bound cannot reject a value that would fit after normalisation.
    if len(stripped) > 4 * max_length + 64:
        raise InvalidValue(
            "TOO_LONG", f"This text is too long: at most {max_length} characters are allowed."
        )
    try:
        text = unicodedata.normalize("NFC", stripped)
    except UnicodeError:  # pragma: no cover - normalize tolerates surrogates; defensive only
        raise InvalidValue(
            "CONTROL_CHARACTERS", "This text contains characters that cannot be stored."
        ) from None
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc":
            if multiline and ch in "\n\t":
                continue
            if ch in "\n\r\t":
                raise InvalidValue(
                    "CONTROL_CHARACTERS",
                    "This field is a single line: remove the line breaks and tabs.",
                )
            raise InvalidValue(
                "CONTROL_CHARACTERS",
                f"This text contains an invisible control character (U+{ord(ch):04X}); "
                "remove it and try again.",
            )
        if ch in _BIDI_CONTROLS:
            raise InvalidValue(
                "CONTROL_CHARACTERS",
                f"This text contains a text-direction control character (U+{ord(ch):04X}) "
                "that can make it display differently from what is stored; remove it.",
            )
        if category == "Cs":
            raise InvalidValue(
                "CONTROL_CHARACTERS", "This text contains characters that cannot be stored."
            )
        if ch in _LINE_SEPARATORS:  # only reachable in single-line text
            raise InvalidValue(
                "CONTROL_CHARACTERS",
                "This field is a single line: remove the line breaks.",
            )
    if len(text) > max_length:
        raise InvalidValue(
            "TOO_LONG",
            f"This text is too long: at most {max_length} characters are allowed, "
            f"it has {len(text)}.",
        )
    return text
