"""GraphQL input types of contracts (converted to plain dicts with ``to_raw``, in
``crm_common.graphql.inputs``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from crm_clients.graphql.contract_types import ContractKind, ContractStatus


@strawberry.input(description="A product-group code or a product code (exactly one).")
class ContractDiscountInput:
    percent: Decimal = strawberry.field(description="More than 0, at most 100, two decimals.")
    product_group_code: str | None = strawberry.UNSET
    product_code: str | None = strawberry.UNSET
    valid_from: date | None = strawberry.UNSET
    valid_until: date | None = strawberry.UNSET


@strawberry.input
class CreateContractInput:
    client_id: strawberry.ID
    number: str
    kind: ContractKind
    title: str
    valid_from: date
    valid_until: date | None = strawberry.UNSET
    signed_on: date | None = strawberry.UNSET
    payment_term_days: int | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    price_terms: str | None = strawberry.UNSET
    other_terms: str | None = strawberry.UNSET
    auto_renew: bool | None = strawberry.UNSET
    renewal_term_months: int | None = strawberry.UNSET
    notice_period_days: int | None = strawberry.UNSET
    client_signatory: str | None = strawberry.UNSET
    our_signatory_id: strawberry.ID | None = strawberry.UNSET
    discounts: list[ContractDiscountInput] | None = strawberry.UNSET


@strawberry.input(description="Fields left out stay as they are; null clears an optional field. "
                              "discounts, when given, replace the whole list.")
class UpdateContractInput:
    id: strawberry.ID
    version: int
    number: str | None = strawberry.UNSET
    kind: ContractKind | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    valid_from: date | None = strawberry.UNSET
    valid_until: date | None = strawberry.UNSET
    signed_on: date | None = strawberry.UNSET
    payment_term_days: int | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    price_terms: str | None = strawberry.UNSET
    other_terms: str | None = strawberry.UNSET
    auto_renew: bool | None = strawberry.UNSET
    renewal_term_months: int | None = strawberry.UNSET
    notice_period_days: int | None = strawberry.UNSET
    client_signatory: str | None = strawberry.UNSET
    our_signatory_id: strawberry.ID | None = strawberry.UNSET
    discounts: list[ContractDiscountInput] | None = strawberry.UNSET


@strawberry.input
class ActivateContractInput:
    id: strawberry.ID
    version: int


@strawberry.input
class SuspendContractInput:
    id: strawberry.ID
    version: int
    reason: str | None = None


@strawberry.input
class TerminateContractInput:
    id: strawberry.ID
    version: int
    terminated_on: date = strawberry.field(description="The last day the contract is in force.")
    reason: str


@strawberry.input
class ContractFilterInput:
    client_id: strawberry.ID | None = None
    status: ContractStatus | None = None
    in_force_on: date | None = strawberry.field(
        default=None, description="Activated, valid on that day, not terminated before it, "
                                  "not suspended.")
    expiring_within_days: int | None = strawberry.field(
        default=None, description="Active or suspended, ending between today and today + N "
                                  "days (0..3650).")


@strawberry.input
class RunContractMaintenanceInput:
    today: date | None = strawberry.field(
        default=None, description="The day to run for; default today (Sofia).")
