"""What a rule does to a unit price: percent off, amount off, or a fixed price."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from crm_pricing.domain.money import HUNDRED, format_eur, format_percent, not_negative


class EffectKind(enum.Enum):
    PERCENT_OFF = "percent_off"
    AMOUNT_OFF = "amount_off"
    FIXED_PRICE = "fixed_price"


@dataclass(frozen=True)
class Effect:
    kind: EffectKind
    value: Decimal

    def apply(self, price: Decimal) -> Decimal:
        """The unrounded unit price after this effect (percentages compound on the unrounded
        price the step before left); never below zero."""
        if self.kind is EffectKind.PERCENT_OFF:
            return not_negative(price * (HUNDRED - self.value) / HUNDRED)
        if self.kind is EffectKind.AMOUNT_OFF:
            return not_negative(price - self.value)
        return not_negative(self.value)

    def describe(self) -> str:
        """``7 %``, ``€0.50 off``, ``fixed price €2.10``."""
        if self.kind is EffectKind.PERCENT_OFF:
            return format_percent(self.value)
        if self.kind is EffectKind.AMOUNT_OFF:
            return f"{format_eur(self.value)} off"
        return f"fixed price {format_eur(self.value)}"


def percent_off(value: Decimal | int | str) -> Effect:
    return Effect(EffectKind.PERCENT_OFF, Decimal(value))


def amount_off(value: Decimal | int | str) -> Effect:
    return Effect(EffectKind.AMOUNT_OFF, Decimal(value))


def fixed_price(value: Decimal | int | str) -> Effect:
    return Effect(EffectKind.FIXED_PRICE, Decimal(value))
