"""Money as the ERP sends it (DESIGN §4 and §9): amounts in EUR, or in BGN before the euro
changeover of 2026-01-01, converted at the fixed 1 EUR = 1.95583 BGN. Pure."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from crm_common.erp.contract import ContractError, quote

__all__ = ["BGN", "BGN_PER_EUR", "CENT", "EUR", "read_currency", "to_eur", "to_eur_cents"]

EUR: Final = "EUR"
BGN: Final = "BGN"
#: the fixed conversion rate of the Bulgarian lev: 1 EUR = 1.95583 BGN
BGN_PER_EUR: Final = Decimal("1.95583")
CENT: Final = Decimal("0.01")


def _no_rate(currency: Any, what: str = "currency") -> ContractError:
    return ContractError(f"{what} {quote(currency, 10)} has no fixed rate to the euro "
                         "(EUR and BGN only)")


def read_currency(raw: Any, what: str = "currency") -> str:
    """A currency of a message: ``EUR`` or ``BGN``, as the contract spells them (upper case);
    ``what`` names the field in the reason."""
    if raw != EUR and raw != BGN:
        raise _no_rate(raw, what)
    return str(raw)


def to_eur(amount: Decimal, currency: str) -> Decimal:
    """``amount`` in euros, unrounded (the rate is exact; round where the result is kept or
    shown). ``currency`` EUR or BGN, in any case."""
    code = currency.upper()
    if code == EUR:
        return amount
    if code == BGN:
        return amount / BGN_PER_EUR
    raise _no_rate(currency)


def to_eur_cents(amount: Decimal, currency: str) -> Decimal:
    """``amount`` in euros rounded half-up to the cent; an EUR amount of at most two places is
    returned as it is (the common case, checked first: documents convert line by line)."""
    if currency == EUR:
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and -2 <= exponent <= 0:
            return amount
        return amount.quantize(CENT, ROUND_HALF_UP)
    if currency == BGN:
        return (amount / BGN_PER_EUR).quantize(CENT, ROUND_HALF_UP)
    return to_eur(amount, currency).quantize(CENT, ROUND_HALF_UP)
