"""The quote: every line priced with its explanation, totals and next-tier hints.

NOT BUILT YET (in progress on issue 11)."""

from __future__ import annotations

import strawberry


@strawberry.type
class QuoteQuery:
    @strawberry.field(description="Placeholder while quotes are built.")
    def pricing_quote_ready(self) -> bool:
        return False
