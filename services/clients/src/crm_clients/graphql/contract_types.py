"""GraphQL object types of contracts; thin mappings of service-layer rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_clients.domain import contract as domain
from crm_clients.service_layer import contract_queries
from crm_common.auth import Principal
from crm_common.graphql.context import batch_loader

# The domain's enums, exposed as they are (SALES, DRAFT, ...).
ContractKind = domain.ContractKind
ContractStatus = domain.ContractStatus
strawberry.enum(ContractKind, description="sales, distribution, service, framework or other.")
strawberry.enum(ContractStatus, description=(
    "DRAFT → ACTIVE | TERMINATED; ACTIVE → SUSPENDED | TERMINATED | EXPIRED (daily job); "
    "SUSPENDED → ACTIVE | TERMINATED | EXPIRED (daily job). EXPIRED and TERMINATED are final."))


@strawberry.type(description="A negotiated discount: a product group or a product, a percentage, "
                             "optionally limited in time.")
class ContractDiscount:
    id: strawberry.ID
    product_group_code: str | None
    product_code: str | None
    percent: Decimal = strawberry.field(description="0 < percent ≤ 100, two decimals.")
    valid_from: date | None
    valid_until: date | None

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> ContractDiscount:
        return cls(id=strawberry.ID(str(r["id"])), product_group_code=r["product_group_code"],
                   product_code=r["product_code"], percent=r["percent"],
                   valid_from=r["valid_from"], valid_until=r["valid_until"])


@strawberry.type
class ContractFields:
    """A contract's own fields. The GraphQL type ``Contract`` (in :mod:`client_types`, beside
    ``Client``, as the two refer to each other) adds its client, discounts and history."""

    id: strawberry.ID
    client_id: strawberry.ID
    number: str = strawberry.field(description="Unique, whatever the letter case.")
    kind: ContractKind
    title: str
    status: ContractStatus
    signed_on: date | None
    valid_from: date
    valid_until: date | None = strawberry.field(description="Last day of validity; null: "
                                                            "open-ended.")
    payment_term_days: int | None
    currency: str
    price_terms: str | None
    other_terms: str | None
    auto_renew: bool
    renewal_term_months: int = strawberry.field(description="How long each renewal extends it.")
    notice_period_days: int = strawberry.field(
        description="Auto-renewal can be cancelled until this many days before validUntil.")
    client_signatory: str | None = strawberry.field(description="Who signed for the client.")
    our_signatory_id: strawberry.ID | None = strawberry.field(
        description="The employee who signed for us.")
    activated_on: date | None = strawberry.field(description="First day it was activated.")
    terminated_on: date | None = strawberry.field(description="Last day in force, if terminated.")
    termination_reason: str | None
    version: int = strawberry.field(
        description="Optimistic-concurrency version: send it back with a change.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Self:
        signatory = r["our_signatory_id"]
        return cls(
            id=strawberry.ID(str(r["id"])), client_id=strawberry.ID(str(r["client_id"])),
            number=r["number"], kind=ContractKind(r["kind"]), title=r["title"],
            status=ContractStatus(r["status"]), signed_on=r["signed_on"],
            valid_from=r["valid_from"], valid_until=r["valid_until"],
            payment_term_days=r["payment_term_days"], currency=r["currency"],
            price_terms=r["price_terms"], other_terms=r["other_terms"],
            auto_renew=r["auto_renew"], renewal_term_months=r["renewal_term_months"],
            notice_period_days=r["notice_period_days"], client_signatory=r["client_signatory"],
            our_signatory_id=strawberry.ID(str(signatory)) if signatory else None,
            activated_on=r["activated_on"], terminated_on=r["terminated_on"],
            termination_reason=r["termination_reason"], version=r["version"],
            created_at=r["created_at"], updated_at=r["updated_at"],
        )


def contract_loaders(reader: AsyncEngine, principal: Principal,
                     grace: timedelta) -> dict[str, Callable[[], Any]]:
    """The factories of the per-request DataLoaders of contracts (loaders of the context's
    ``Loaders``, made when first asked for)."""
    return {
        "contract": lambda: batch_loader(partial(contract_queries.contracts_by_ids, reader,
                                                 principal, grace=grace)),
        "contracts_by_client": lambda: batch_loader(partial(contract_queries.contracts_by_client,
                                                            reader)),
        "contract_discounts": lambda: batch_loader(partial(contract_queries.discounts_by_contract,
                                                           reader)),
    }
