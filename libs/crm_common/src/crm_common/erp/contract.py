"""What every ERP message shares (DESIGN §9): the error of a message that breaks the contract,
the ``version`` it carries, and a value quoted in a reason without echoing a huge one. Pure."""

from __future__ import annotations

import reprlib
from typing import Any, Final

from crm_common.client_access import MalformedEvent

__all__ = ["MAX_VERSION", "ContractError", "quote", "read_version"]

#: the contract's ``version`` has no upper bound; a BIGINT column holds this much
MAX_VERSION: Final = 2**63 - 1

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4
_REPR.maxlevel = 2


class ContractError(MalformedEvent):
    """The message breaks the ERP contract; the text says how (an operator reads it). No retry
    mends it: pricing's consumer dead-letters it, analytics parks it."""


def quote(raw: Any, limit: int = 40) -> str:
    """``raw`` for a reason: a string's first ``limit`` characters, other values' short repr
    (a million-item list, a ten-thousand-digit number: a few dozen characters, at once)."""
    if isinstance(raw, str):
        return repr(raw[:limit])
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() > 128:
        return f"an integer of {raw.bit_length()} bits"
    return _REPR.repr(raw)[:limit + 10]


def read_version(raw: Any, *, maximum: int = MAX_VERSION) -> int:
    """A message's ``version``: an integer from 1 to ``maximum`` (what the reader's table holds;
    JSON ``true`` and ``"3"`` are not integers)."""
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ContractError(f"version is not a positive integer: {quote(raw)}")
    if raw > maximum:
        raise ContractError(f"version is larger than {maximum}, the most this service keeps: "
                            f"{quote(raw)}")
    return raw
