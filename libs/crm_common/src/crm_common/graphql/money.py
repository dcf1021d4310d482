"""``Money``: the one GraphQL type of an amount (DESIGN §4: ``Decimal`` with an ISO 4217
currency, EUR by default), shared by every subgraph that shows amounts (analytics, pricing)."""

from __future__ import annotations

from decimal import Decimal

import strawberry

EUR = "EUR"
CENT = Decimal("0.01")


@strawberry.federation.type(shareable=True, description="An amount of money: a decimal string "
                                                        "and its ISO 4217 currency.")
class Money:
    amount: Decimal
    currency: str = EUR

    @classmethod
    def eur(cls, amount: Decimal) -> Money:
        """Euros, to the cent."""
        return cls(amount=amount.quantize(CENT), currency=EUR)

    @classmethod
    def exact(cls, amount: Decimal, currency: str = EUR) -> Money:
        """An amount to the cent, or with the further decimals it has (a unit price of
        €0.1234 stays four places; €0.8400 shows as 0.84)."""
        cents = amount.quantize(CENT)
        return cls(amount=cents if cents == amount else amount.normalize(), currency=currency)
