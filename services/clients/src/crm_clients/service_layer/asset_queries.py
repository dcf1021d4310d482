"""Read side of the advertising inventory: asset types, assets, placements, audits, material
issued, the value placed per client and the audits due per rep.

Access (DESIGN §6, one rule in ``visibility``): managers and admins see everything; anyone else
sees what hangs off the clients they see: the placements, audits and material at those clients
(through ``visible_clients``), and an asset while it is placed at one of them
(``visible_assets``). Asset types are read by everyone.

Each function checks out its own connection from the autocommit reader, so that DataLoaders
running concurrently never share one; the batched ones take their ids as one array parameter
(``IDS``) and cost one statement whatever their number.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, Select, and_, any_, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_clients.adapters.tables import (
    asset_types,
    assets,
    audit_lines,
    audits,
    clients,
    material_issues,
    placements,
)
from crm_clients.service_layer.visibility import visible_assets, visible_clients
from crm_common.auth import Principal
from crm_common.paging import IDS, Page, keyset_page, pages_by_parent

Row = RowMapping

#: at most this many asset types are listed (a catalogue, not a ledger)
MAX_TYPES = 500
#: open placements listed per client in ``Client.inventory``
MAX_OPEN_PER_CLIENT = 500
#: placements and audit lines listed per asset, newest first
MAX_PER_ASSET = 100

_TYPES_BY_IDS = select(asset_types).where(asset_types.c.id == any_(IDS))
_LINES_BY_AUDIT = select(audit_lines).where(audit_lines.c.audit_id == any_(IDS)).order_by(
    audit_lines.c.audit_id, audit_lines.c.position)
#: the latest audit line of each placement
_LAST_LINE = (select(audit_lines).where(audit_lines.c.placement_id == any_(IDS))
              .ext(distinct_on(audit_lines.c.placement_id))
              .order_by(audit_lines.c.placement_id, audit_lines.c.audited_at.desc(),
                        audit_lines.c.id.desc()))
_OPEN = placements.c.returned_on.is_(None)
#: an asset's value: its purchase value, else its type's value
ASSET_VALUE = func.coalesce(assets.c.purchase_value, asset_types.c.value)
_PLACED_VALUE = (
    select(placements.c.client_id, func.count().label("assets"),
           func.coalesce(func.sum(ASSET_VALUE), 0).label("value"))
    .join(assets, assets.c.id == placements.c.asset_id)
    .join(asset_types, asset_types.c.id == assets.c.type_id)
    .where(_OPEN, placements.c.client_id == any_(IDS))
    .group_by(placements.c.client_id))


async def _rows(reader: AsyncEngine, statement: Select[Any], ids: Sequence[uuid.UUID]
                ) -> list[Row]:
    async with reader.connect() as conn:
        return list((await conn.execute(statement, {"ids": list(ids)})).mappings())


def _by(rows: Sequence[Row], key: str, ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for r in rows:
        grouped[r[key]].append(r)
    return [grouped.get(i, []) for i in ids]


# --- asset types ---------------------------------------------------------------------------------

async def list_asset_types(reader: AsyncEngine, *, include_inactive: bool) -> list[Row]:
    stmt = select(asset_types).order_by(func.lower(asset_types.c.name)).limit(MAX_TYPES)
    if not include_inactive:
        stmt = stmt.where(asset_types.c.active)
    async with reader.connect() as conn:
        return list((await conn.execute(stmt)).mappings())


async def types_by_ids(reader: AsyncEngine, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    found = {r["id"]: r for r in await _rows(reader, _TYPES_BY_IDS, ids)}
    return [found.get(i) for i in ids]


# --- assets --------------------------------------------------------------------------------------

async def assets_by_ids(reader: AsyncEngine, principal: Principal, ids: Sequence[uuid.UUID], *,
                        grace: dt.timedelta) -> list[Row | None]:
    stmt = select(assets).where(assets.c.id == any_(IDS), visible_assets(principal, grace=grace))
    found = {r["id"]: r for r in await _rows(reader, stmt, ids)}
    return [found.get(i) for i in ids]


@dataclass(frozen=True)
class AssetFilter:
    status: str | None = None
    type_id: uuid.UUID | None = None
    #: placed at this client now
    client_id: uuid.UUID | None = None
    #: placed now at a client of this group
    client_group_id: uuid.UUID | None = None
    #: the start of an inventory number or tag code, any case
    number: str | None = None


async def list_assets(reader: AsyncEngine, principal: Principal, flt: AssetFilter, *,
                      first: int, after: str | None, grace: dt.timedelta) -> Page:
    """Assets the principal may see, keyset-paged by inventory number. Raises
    ``InvalidCursor``."""
    a = assets.c
    stmt = select(assets).where(visible_assets(principal, grace=grace))
    if flt.status is not None:
        stmt = stmt.where(a.status == flt.status)
    if flt.type_id is not None:
        stmt = stmt.where(a.type_id == flt.type_id)
    if flt.client_id is not None or flt.client_group_id is not None:
        where = [placements.c.asset_id == a.id, _OPEN]
        if flt.client_id is not None:
            where.append(placements.c.client_id == flt.client_id)
        if flt.client_group_id is not None:
            where += [clients.c.id == placements.c.client_id,
                      clients.c.group_id == flt.client_group_id]
        stmt = stmt.where(select(placements.c.id).where(and_(*where)).exists())
    if flt.number:
        prefix = flt.number.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(a.inventory_number).startswith(prefix, autoescape=False)
                          | func.lower(a.tag_code).startswith(prefix, autoescape=False))
    return await keyset_page(reader, stmt, key=a.inventory_number, key_type=str, id_col=a.id,
                             first=first, after=after)


# --- placements ----------------------------------------------------------------------------------

async def placements_by_ids(reader: AsyncEngine, principal: Principal,
                            ids: Sequence[uuid.UUID], *, grace: dt.timedelta
                            ) -> list[Row | None]:
    """Placements at clients the principal sees (others read as not found)."""
    stmt = (select(placements).join(clients, clients.c.id == placements.c.client_id)
            .where(placements.c.id == any_(IDS), visible_clients(principal, grace=grace)))
    found = {r["id"]: r for r in await _rows(reader, stmt, ids)}
    return [found.get(i) for i in ids]


async def open_placements_by_client(reader: AsyncEngine,
                                    client_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    """Callers pass only ids of clients the principal sees. Oldest placement first."""
    stmt = (select(placements).where(_OPEN, placements.c.client_id == any_(IDS))
            .order_by(placements.c.client_id, placements.c.placed_on, placements.c.id))
    rows = _by(await _rows(reader, stmt, client_ids), "client_id", client_ids)
    return [r[:MAX_OPEN_PER_CLIENT] for r in rows]


async def placements_by_asset(reader: AsyncEngine, principal: Principal,
                              asset_ids: Sequence[uuid.UUID], *, grace: dt.timedelta
                              ) -> list[list[Row]]:
    """Each asset's placements, newest first, at the clients the principal sees."""
    stmt = (select(placements).join(clients, clients.c.id == placements.c.client_id)
            .where(visible_clients(principal, grace=grace))
            .order_by(placements.c.placed_on.desc(), placements.c.id.desc()))
    pages = await pages_by_parent(reader, asset_ids, placements.c.asset_id, stmt,
                                  MAX_PER_ASSET, "placed_on")
    return [list(p.rows) for p in pages]


async def placed_value_by_client(reader: AsyncEngine, client_ids: Sequence[uuid.UUID]
                                 ) -> list[tuple[int, Decimal]]:
    """(assets placed, their value in EUR) per client: the purchase value of each asset, or its
    type's value when the purchase value is not known."""
    found = {r["client_id"]: (r["assets"], Decimal(r["value"]))
             for r in await _rows(reader, _PLACED_VALUE, client_ids)}
    return [found.get(i, (0, Decimal("0.00"))) for i in client_ids]


@dataclass(frozen=True)
class DueFilter:
    #: the rep whose clients' audits are listed (the client's owner)
    owner_id: uuid.UUID | None
    #: due on or before this day
    due_by: dt.date


async def audits_due(reader: AsyncEngine, principal: Principal, flt: DueFilter, *, first: int,
                     after: str | None, grace: dt.timedelta) -> Page:
    """Open placements whose next audit is due by ``due_by`` at clients the principal sees
    (optionally those a given rep owns), the most overdue first. Raises ``InvalidCursor``."""
    p = placements.c
    stmt = (select(placements).join(clients, clients.c.id == p.client_id)
            .where(_OPEN, p.next_audit_due <= flt.due_by, visible_clients(principal, grace=grace)))
    if flt.owner_id is not None:
        stmt = stmt.where(clients.c.owner_id == flt.owner_id)
    return await keyset_page(reader, stmt, key=p.next_audit_due, key_type=dt.date, id_col=p.id,
                             first=first, after=after)


# --- audits --------------------------------------------------------------------------------------

async def audits_by_ids(reader: AsyncEngine, principal: Principal, ids: Sequence[uuid.UUID], *,
                        grace: dt.timedelta) -> list[Row | None]:
    stmt = (select(audits).join(clients, clients.c.id == audits.c.client_id)
            .where(audits.c.id == any_(IDS), visible_clients(principal, grace=grace)))
    found = {r["id"]: r for r in await _rows(reader, stmt, ids)}
    return [found.get(i) for i in ids]


async def lines_by_audit(reader: AsyncEngine, audit_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    """Callers pass only ids of audits read through the access rule."""
    return _by(await _rows(reader, _LINES_BY_AUDIT, audit_ids), "audit_id", audit_ids)


async def last_line_by_placement(reader: AsyncEngine, placement_ids: Sequence[uuid.UUID]
                                 ) -> list[Row | None]:
    """Callers pass only ids of placements read through the access rule."""
    found = {r["placement_id"]: r for r in await _rows(reader, _LAST_LINE, placement_ids)}
    return [found.get(i) for i in placement_ids]


async def lines_by_asset(reader: AsyncEngine, principal: Principal,
                         asset_ids: Sequence[uuid.UUID], *, grace: dt.timedelta
                         ) -> list[list[Row]]:
    """Each asset's audit lines, newest first, of audits at clients the principal sees."""
    stmt = (select(audit_lines).join(audits, audits.c.id == audit_lines.c.audit_id)
            .join(clients, clients.c.id == audits.c.client_id)
            .where(visible_clients(principal, grace=grace))
            .order_by(audit_lines.c.audited_at.desc(), audit_lines.c.id.desc()))
    pages = await pages_by_parent(reader, asset_ids, audit_lines.c.asset_id, stmt,
                                  MAX_PER_ASSET, "audited_at")
    return [list(p.rows) for p in pages]


async def unrecorded_findings(reader: AsyncEngine, principal: Principal, *, first: int,
                              after: str | None, grace: dt.timedelta) -> Page:
    """Audit lines that found an asset where it is not recorded (``unrecorded``), at clients the
    principal sees, newest first: what a manager looks at to decide. Raises ``InvalidCursor``."""
    line = audit_lines.c
    stmt = (select(audit_lines).join(audits, audits.c.id == line.audit_id)
            .join(clients, clients.c.id == audits.c.client_id)
            .where(line.result == "unrecorded", visible_clients(principal, grace=grace)))
    return await keyset_page(reader, stmt, key=line.audited_at, key_type=dt.datetime,
                             id_col=line.id, first=first, after=after, descending=True)


# --- bulk material ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ClientMaterialKey:
    client_id: uuid.UUID
    first: int


async def material_by_client(reader: AsyncEngine, keys: Sequence[ClientMaterialKey]
                             ) -> list[Page]:
    """Callers pass only ids of clients the principal sees. The latest issues first."""
    stmt = select(material_issues).order_by(material_issues.c.issued_on.desc(),
                                            material_issues.c.id.desc())
    found: dict[ClientMaterialKey, Page] = {}
    for first in {k.first for k in keys}:
        ids = [k.client_id for k in keys if k.first == first]
        pages = await pages_by_parent(reader, ids, material_issues.c.client_id, stmt, first,
                                      "issued_on")
        found.update({ClientMaterialKey(i, first): p for i, p in zip(ids, pages, strict=True)})
    return [found[k] for k in keys]


async def material_issue(reader: AsyncEngine, issue_id: uuid.UUID) -> Row | None:
    """One issue, for the payload of the command that just made it."""
    async with reader.connect() as conn:
        return (await conn.execute(select(material_issues).where(
            material_issues.c.id == issue_id))).mappings().one_or_none()


__all__ = [
    "ASSET_VALUE", "AssetFilter", "ClientMaterialKey", "DueFilter", "assets_by_ids", "audits_due",
    "audits_by_ids", "last_line_by_placement", "lines_by_asset", "lines_by_audit",
    "list_asset_types", "list_assets", "material_by_client", "material_issue",
    "open_placements_by_client", "unrecorded_findings",
    "placed_value_by_client", "placements_by_asset", "placements_by_ids", "types_by_ids",
]
