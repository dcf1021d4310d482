"""What the analytics service consumes.

From the ERP (``erp.events``, DESIGN §9), queue ``<prefix>analytics.erp-feed``: products,
orders, invoices, credit notes, payments, applied to the ledger (``service_layer.ledger``) in
batches: what arrives within 50 ms, up to 500 messages, in one transaction (a failing batch is
retried message by message, so a poison message is dead-lettered alone).

From the platform (``crm.events``): queue ``analytics.clients`` — the client snapshots, kept in
the shared access projection (owner, status) and in ``client_profiles`` (EIK, group, payment
term), in the reporting read model's ``rm_clients`` (group, owner, city, status), and matching the
unmatched ERP documents that name the client; ``analytics.access-meetings`` and
``analytics.access-employees`` — the shared projections of the access rule (the employees are
the reports' staff directory too); ``analytics.reporting`` — the rest of the reporting read
model (client groups, contracts, meetings, activities, competitor observations, tasks, the
advertising inventory; ``service_layer.reporting_projections``, docs/reports.md);
``analytics.pricing-tiers`` — the pricing tiers clients reach (``service_layer.client_tiers``,
for the client brief).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_analytics.adapters.tables import access
from crm_analytics.service_layer.client_profiles import apply_client_snapshot
from crm_analytics.service_layer.client_tiers import TIER_CHANGED, apply_tier_changed
from crm_analytics.service_layer.ledger import apply_envelopes
from crm_analytics.service_layer.reporting_projections import (
    REPORTING_EVENTS,
    apply_client,
    apply_reporting_event,
)
from crm_common.client_access import CLIENT_EVENTS, apply_client_event, register_client_access
from crm_common.messaging.consumer import ConsumerRunner

ERP_ROUTING_KEYS = ["erp.catalog.#", "erp.sales.#"]


#: ERP messages applied per transaction (what arrived within BATCH_WAIT_SECONDS, at most this)
BATCH_SIZE = 500
BATCH_WAIT_SECONDS = 0.05
#: messages delivered ahead: while one batch waits on the database, the next ones arrive and
#: are decoded
BATCH_PREFETCH = 4 * BATCH_SIZE


async def handle_erp(session: AsyncSession, envelopes: list[dict[str, Any]]) -> None:
    await apply_envelopes(session, envelopes, source="feed")


async def handle_client(session: AsyncSession, envelope: dict[str, Any]) -> None:
    await apply_client_event(session, access, envelope)
    await apply_client_snapshot(session, envelope)
    await apply_client(session, envelope)


def register_consumers(runner: ConsumerRunner, *, erp_exchange: str) -> None:
    runner.register_batch("erp-feed", ERP_ROUTING_KEYS, handle_erp, exchange=erp_exchange,
                          max_size=BATCH_SIZE, max_wait_seconds=BATCH_WAIT_SECONDS,
                          prefetch=BATCH_PREFETCH)
    runner.register("clients", [CLIENT_EVENTS], handle_client)
    register_client_access(runner, access, clients=False)
    runner.register("reporting", REPORTING_EVENTS, apply_reporting_event)
    runner.register("pricing-tiers", [TIER_CHANGED], apply_tier_changed)
