"""What the pricing service consumes.

From the ERP (``erp.events``, DESIGN §9), queue ``<prefix>pricing.erp-catalog``: products and
product groups, and the ERP's base prices into the price list of ``source = 'erp'``
(``service_layer.catalogue``). Orders, invoices and payments are not pricing's: analytics turns
them into turnover.

From the platform (``crm.events``):

- ``pricing.turnover``: ``crm.analytics.client.turnover.updated`` (DESIGN §10), the latest per
  client, then the client's tiers (``client_tier.changed``);
- ``pricing.clients``: client snapshots (the shared access projection, and the client group);
- ``pricing.client-groups``: group names and archiving;
- ``pricing.contracts``: contracts and their negotiated discounts;
- ``pricing.access-meetings`` and ``pricing.access-employees``: the shared access rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.client_access import CLIENT_EVENTS, apply_client_event, register_client_access
from crm_common.messaging.consumer import ConsumerRunner
from crm_pricing.adapters.tables import access
from crm_pricing.service_layer import projections
from crm_pricing.service_layer.catalogue import apply_product
from crm_pricing.service_layer.pricing_inputs import RuleBook
from crm_pricing.service_layer.tiers import refresh_client_tiers

ERP_ROUTING_KEYS = ["erp.catalog.#"]
TURNOVER_EVENTS = "crm.analytics.client.turnover.updated"
GROUP_EVENTS = "crm.clients.group.*"
CONTRACT_EVENTS = "crm.clients.contract.*"


async def handle_client(session: AsyncSession, envelope: dict[str, Any]) -> None:
    await apply_client_event(session, access, envelope)
    await projections.apply_client(session, envelope)


def register_consumers(runner: ConsumerRunner, *, erp_exchange: str, source: str,
                       book: RuleBook) -> None:
    """``book``: the process's parsed rules, shared with the GraphQL requests."""
    async def after_turnover(session: AsyncSession, client_id: Any, version: int) -> None:
        await refresh_client_tiers(session, client_id, version, source=source, book=book)

    async def handle_turnover(session: AsyncSession, envelope: dict[str, Any]) -> None:
        await projections.apply_turnover(session, envelope, after=after_turnover)

    runner.register("erp-catalog", ERP_ROUTING_KEYS, apply_product, exchange=erp_exchange)
    runner.register("turnover", [TURNOVER_EVENTS], handle_turnover)
    runner.register("clients", [CLIENT_EVENTS], handle_client)
    runner.register("client-groups", [GROUP_EVENTS], projections.apply_group)
    runner.register("contracts", [CONTRACT_EVENTS], projections.apply_contract)
    register_client_access(runner, access, clients=False)
