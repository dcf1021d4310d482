"""Snapshots of a client as events and history carry them (plain JSON values)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import addresses, bank_accounts, clients, contact_persons
from crm_common.jsonvalues import snapshot

CLIENT_FIELDS = (
    "id", "code", "kind", "legal_name", "trade_name", "eik", "vat_number", "status", "owner_id",
    "phones", "emails", "website", "notes", "tags", "version", "created_at", "updated_at",
    "archived_at", "group_id", "payment_term_days", "currency", "credit_limit",
    "document_descriptions",
)
ADDRESS_FIELDS = ("id", "kind", "country", "city", "postal_code", "street", "is_default", "version")
BANK_ACCOUNT_FIELDS = ("id", "iban", "bic", "bank_name", "currency", "is_default", "version")
CONTACT_FIELDS = ("id", "name", "position", "phones", "emails", "is_primary", "notes", "version")


async def client_snapshot(session: AsyncSession, client_id: uuid.UUID) -> dict[str, Any]:
    """The client's full state, camelCase, as the clients.* events publish it."""
    row = (await session.execute(select(clients).where(clients.c.id == client_id))).mappings().one()
    addr = (await session.execute(
        select(addresses).where(addresses.c.client_id == client_id)
        .order_by(addresses.c.created_at, addresses.c.id)
    )).mappings().all()
    contacts = (await session.execute(
        select(contact_persons).where(contact_persons.c.client_id == client_id)
        .order_by(contact_persons.c.created_at, contact_persons.c.id)
    )).mappings().all()
    accounts = (await session.execute(
        select(bank_accounts).where(bank_accounts.c.client_id == client_id)
        .order_by(bank_accounts.c.created_at, bank_accounts.c.id)
    )).mappings().all()
    snap = snapshot(row, CLIENT_FIELDS)
    snap["bankAccounts"] = [snapshot(b, BANK_ACCOUNT_FIELDS) for b in accounts]
    snap["addresses"] = [snapshot(a, ADDRESS_FIELDS) for a in addr]
    snap["contactPersons"] = [snapshot(c, CONTACT_FIELDS) for c in contacts]
    return snap
