"""The quote: every line priced with its explanation, totals and next-tier hints (a query: pure
calculation, nothing is stored; bad input is a ``userError`` naming the field)."""

from __future__ import annotations

import strawberry

from crm_common.graphql.errors import user_errors
from crm_common.graphql.inputs import to_raw
from crm_common.problems import Problems
from crm_pricing.graphql.quote_types import Quote, QuoteInput, QuotePayload
from crm_pricing.service_layer.quote import price_quote

SERVICE = "pricing"


@strawberry.type
class QuoteQuery:
    @strawberry.field(description="Price an order for a client: per line the base price, the "
                                  "final unit price, the discount and the explanation (every "
                                  "rule applied with its step, every rule considered and not "
                                  "applied with the reason), the totals and the next-tier "
                                  "hints. Nothing is stored.")
    async def quote(self, info: strawberry.Info, input: QuoteInput) -> QuotePayload:
        ctx = info.context
        raw = to_raw(input)
        raw["lines"] = [to_raw(line) for line in input.lines]
        try:
            priced = await price_quote(ctx.runtime.reader, ctx.rules, ctx.access, raw,
                                       today=ctx.today,
                                       contract_priority=ctx.config.contract_priority)
        except Problems as exc:
            return QuotePayload(quote=None, user_errors=user_errors(exc.problems, SERVICE))
        return QuotePayload(quote=Quote.of(priced), user_errors=[])
