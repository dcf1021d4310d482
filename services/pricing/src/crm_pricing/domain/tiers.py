"""Tiers: the ordered thresholds of one condition, each with the effect it earns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from crm_pricing.domain.effect import Effect


@dataclass(frozen=True)
class Tier:
    """Reached when the value is at least ``threshold``. ``effect`` None: the rule's own effect."""

    threshold: Decimal
    effect: Effect | None = None


def reached(tiers: Sequence[Tier], value: Decimal) -> Tier | None:
    """The highest tier whose threshold the value reaches (thresholds are ascending)."""
    found = None
    for tier in tiers:
        if value >= tier.threshold:
            found = tier
    return found


def next_above(tiers: Sequence[Tier], value: Decimal) -> Tier | None:
    """The lowest tier the value has not reached yet."""
    return next((tier for tier in tiers if value < tier.threshold), None)
