"""Money in the pricing domain: ``Decimal`` euros, rounded half-up to the cent once, never below
zero; amounts spelt for sentences. BGN history converts at the fixed rate (DESIGN §4) through the
kit's ``crm_common.erp.money.to_eur``."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def not_negative(amount: Decimal) -> Decimal:
    """A price never goes below zero."""
    return amount if amount > ZERO else ZERO


def round_cents(amount: Decimal) -> Decimal:
    """Half-up to the cent (0.005 → 0.01), never below zero. The one rounding of a unit price."""
    return not_negative(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def format_eur(amount: Decimal) -> str:
    """``€38,200`` for whole euros, ``€38,200.50`` otherwise; rounded half-up to the cent."""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "−" if cents < ZERO else ""
    cents = abs(cents)
    if cents == cents.to_integral_value():
        return f"{sign}€{int(cents):,}"
    return f"{sign}€{cents:,.2f}"


def format_number(value: Decimal) -> str:
    """A quantity or a percentage without trailing zeros: ``12``, ``12.5``, ``1,200``."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    text = f"{value.normalize():f}"
    head, _, tail = text.partition(".")
    return f"{int(head):,}.{tail}" if head.lstrip("-") else text


def format_percent(value: Decimal) -> str:
    """``7 %``, ``2.5 %``."""
    return f"{format_number(value)} %"


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def format_date(day: dt.date) -> str:
    """``31 March 2027``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
