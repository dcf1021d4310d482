"""Commands on price lists (managers and admins; DESIGN §6) and the event every change of a
price list publishes.

Every change — a list created, its fields changed, archived, its prices set, or the ERP's base
prices moved (``service_layer.catalogue``) — bumps the list's ``version``, writes a history entry
(entity type ``price_list``) and records ``crm.pricing.price_list.updated`` in the same
transaction. Making a list the default un-defaults the previous one in the same transaction (the
partial unique index ``ux_price_lists_default`` keeps at most one), which is a change of that
list too: its own version, history entry and event.

The ERP's list (``source = 'erp'``): its prices come from the ERP only, it cannot be archived
and has no validity (it is the fallback of every quote); its name and default flag may change.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY, TEXT
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.history import HistoryWriter
from crm_common.jsonvalues import snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.problems import FieldProblem, Problems, problem
from crm_common.uow import UnitOfWork
from crm_common.versioning import lock_versioned
from crm_pricing.adapters.tables import history, price_list_items, price_lists, products
from crm_pricing.domain.price_list import validate_price_list, validate_prices
from crm_pricing.service_layer.visibility import Access

EVENT_PRICE_LIST_UPDATED = "crm.pricing.price_list.updated"
ENTITY = "price_list"
#: the product codes an event names at most (``changedProductCount`` says how many changed)
MAX_EVENT_CODES = 100

FIELDS = ("id", "code", "name", "currency", "valid_from", "valid_until", "is_default", "source",
          "archived_at", "version", "updated_at")
#: the fields a history entry of a create shows (the rest are bookkeeping)
CREATE_FIELDS = ("code", "name", "currency", "valid_from", "valid_until", "is_default")

record_history = HistoryWriter(history)

_CODES = bindparam("codes", type_=ARRAY(TEXT))


def price_list_state(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A price list as the event carries it (camelCase, JSON values)."""
    return snapshot(row, FIELDS)


def price_list_event(row: Mapping[Any, Any], change: str,
                     codes: Sequence[str] = ()) -> DomainEvent:
    """``crm.pricing.price_list.updated``: the list's state after the change, what kind of change
    (``created``, ``updated``, ``archived``, ``prices_set``, ``erp_prices``, ``undefaulted``) and
    which product codes' prices changed (at most :data:`MAX_EVENT_CODES`, sorted)."""
    ordered = sorted(codes)
    return DomainEvent(type=EVENT_PRICE_LIST_UPDATED, subject=str(row["id"]), data={
        "priceList": price_list_state(row), "change": change,
        "changedProductCodes": ordered[:MAX_EVENT_CODES],
        "changedProductCount": len(ordered),
        "changedProductCodesTruncated": len(ordered) > MAX_EVENT_CODES})


def price_changes(changes: Mapping[str, list[Any]]) -> dict[str, Any]:
    """A history entry's ``changes`` for prices: ``{"prices": [{productCode, old, new}]}`` (a
    list rather than a map keyed by code, so that codes are never re-spelt as field names)."""
    return {"prices": [{"product_code": code, "old": old, "new": new}
                       for code, (old, new) in sorted(changes.items())]}


async def load_row(session: AsyncSession, price_list_id: uuid.UUID) -> RowMapping:
    row: RowMapping = (await session.execute(
        select(price_lists).where(price_lists.c.id == price_list_id))).mappings().one()
    return row


async def _duplicate_code(session: AsyncSession, code: str) -> None:
    other = await session.scalar(select(price_lists.c.id).where(price_lists.c.code == code))
    if other is not None:
        raise problem(("input", "code"), "DUPLICATE",
                      f"a price list with code {code} already exists")


async def _undefault_others(uow: UnitOfWork, actor: uuid.UUID | None,
                            keep: uuid.UUID) -> None:
    """The current default (other than ``keep``) stops being the default: its own change."""
    session = uow.session
    rows = (await session.execute(
        update(price_lists)
        .where(price_lists.c.is_default, price_lists.c.archived_at.is_(None),
               price_lists.c.id != keep)
        .values(is_default=False, version=price_lists.c.version + 1, updated_at=func.now(),
                updated_by=actor)
        .returning(*price_lists.c))).mappings().all()
    for row in rows:
        await record_history(session, actor=actor, entity_type=ENTITY, entity_id=row["id"],
                             operation="update", changes={"is_default": [True, False]})
        uow.record(price_list_event(row, "undefaulted"))


async def _store(session: AsyncSession, statement: Any) -> None:
    """Run the insert or update; another list made default at the same moment is a
    DUPLICATE_DEFAULT userError rather than a fault."""
    try:
        async with session.begin_nested():
            await session.execute(statement)
    except IntegrityError as exc:
        if "ux_price_lists_default" in str(exc.orig):
            raise problem(("input", "isDefault"), "DUPLICATE_DEFAULT",
                          "another price list was made the default at the same moment; "
                          "reload and try again") from None
        if "price_lists_code_key" in str(exc.orig):
            raise problem(("input", "code"), "DUPLICATE",
                          "a price list with this code already exists") from None
        raise


async def create_price_list(uow: UnitOfWork, who: Access, raw: Mapping[str, Any]) -> uuid.UUID:
    who.require_manager("keep price lists")
    values = validate_price_list(raw, creating=True)
    session, actor = uow.session, who.principal.subject
    await _duplicate_code(session, values["code"])
    price_list_id = uuid.uuid4()
    if values["is_default"]:
        await _undefault_others(uow, actor, price_list_id)
    await _store(session, insert(price_lists).values(
        id=price_list_id, source="manual", created_by=actor, updated_by=actor, **values))
    row = await load_row(session, price_list_id)
    await record_history(session, actor=actor, entity_type=ENTITY, entity_id=price_list_id,
                         operation="create", changes={"new": snapshot(row, CREATE_FIELDS)})
    uow.record(price_list_event(row, "created"))
    await uow.commit()
    return price_list_id


def _writable(row: RowMapping) -> None:
    if row["archived_at"] is not None:
        raise problem(("input", "id"), "ARCHIVED", "the price list is archived")


async def update_price_list(uow: UnitOfWork, who: Access, price_list_id: uuid.UUID,
                            version: Any, raw: Mapping[str, Any]) -> uuid.UUID:
    who.require_manager("keep price lists")
    session, actor = uow.session, who.principal.subject
    row = await lock_versioned(session, price_lists, price_list_id, version, what="price list",
                               allowed=_writable)
    values = validate_price_list(raw, creating=False, stored=row)
    if row["source"] == "erp":
        for key, name in (("valid_from", "validFrom"), ("valid_until", "validUntil")):
            if values.get(key) is not None:
                raise problem(("input", name), "NOT_APPLICABLE",
                              "the ERP's price list has no validity: it is every quote's "
                              "fallback")
    changes = {k: [row[k], v] for k, v in values.items() if row[k] != v}
    if not changes:
        return price_list_id
    if changes.get("is_default") == [False, True]:
        await _undefault_others(uow, actor, price_list_id)
    await _store(session, update(price_lists).where(price_lists.c.id == price_list_id).values(
        **{k: v[1] for k, v in changes.items()}, version=price_lists.c.version + 1,
        updated_at=func.now(), updated_by=actor))
    await record_history(session, actor=actor, entity_type=ENTITY, entity_id=price_list_id,
                         operation="update", changes=changes)
    uow.record(price_list_event(await load_row(session, price_list_id), "updated"))
    await uow.commit()
    return price_list_id


async def archive_price_list(uow: UnitOfWork, who: Access, price_list_id: uuid.UUID,
                             version: Any) -> uuid.UUID:
    """Archived: no longer offered, no longer the default, kept with its prices and history."""
    who.require_manager("keep price lists")
    session, actor = uow.session, who.principal.subject

    def allowed(row: RowMapping) -> None:
        _writable(row)
        if row["source"] == "erp":
            raise problem(("input", "id"), "NOT_APPLICABLE",
                          "the ERP's price list cannot be archived: it is every quote's "
                          "fallback")

    row = await lock_versioned(session, price_lists, price_list_id, version, what="price list",
                               allowed=allowed)
    await session.execute(update(price_lists).where(price_lists.c.id == price_list_id).values(
        archived_at=func.now(), is_default=False, version=price_lists.c.version + 1,
        updated_at=func.now(), updated_by=actor))
    changes: dict[str, Any] = {"archived": [False, True]}
    if row["is_default"]:
        changes["is_default"] = [True, False]
    await record_history(session, actor=actor, entity_type=ENTITY, entity_id=price_list_id,
                         operation="archive", changes=changes)
    uow.record(price_list_event(await load_row(session, price_list_id), "archived"))
    await uow.commit()
    return price_list_id


async def write_prices(session: AsyncSession, price_list_id: uuid.UUID,
                       prices: Mapping[str, Decimal | None]) -> dict[str, list[Any]]:
    """Set (or, for None, remove) these products' prices in the list; ``{code: [old, new]}``
    of the ones that changed (a price set to what it was is no change)."""
    if not prices:
        return {}
    items = price_list_items.c
    old = {r.product_code: r.price for r in await session.execute(
        select(items.product_code, items.price).where(
            items.price_list_id == price_list_id, items.product_code == any_(_CODES))
        .with_for_update(), {"codes": list(prices)})}
    changes = {code: [old.get(code), new] for code, new in prices.items()
               if old.get(code) != new}
    removed = [code for code, (_before, new) in changes.items() if new is None]
    upserts = sorted((code, new) for code, (_before, new) in changes.items() if new is not None)
    if removed:
        await session.execute(delete(price_list_items).where(
            items.price_list_id == price_list_id, items.product_code == any_(_CODES)),
            {"codes": removed})
    if upserts:
        statement = pg_insert(price_list_items).values(
            [{"price_list_id": price_list_id, "product_code": code, "price": price}
             for code, price in upserts])
        await session.execute(statement.on_conflict_do_update(
            index_elements=["price_list_id", "product_code"],
            set_={"price": statement.excluded.price, "updated_at": func.now()}))
    return changes


async def set_prices(uow: UnitOfWork, who: Access, price_list_id: uuid.UUID, version: Any,
                     raw_prices: Any) -> uuid.UUID:
    """Upsert (``price: null``: remove) up to 5,000 prices of a manager's list at once."""
    who.require_manager("keep price lists")
    changes_in = validate_prices(raw_prices)
    session, actor = uow.session, who.principal.subject

    def allowed(row: RowMapping) -> None:
        _writable(row)
        if row["source"] == "erp":
            raise problem(("input", "priceListId"), "NOT_APPLICABLE",
                          "the ERP's prices come from the ERP and are not edited here")

    await lock_versioned(session, price_lists, price_list_id, version, what="price list",
                         allowed=allowed, field=("input", "price_list_id"))
    known = set((await session.execute(
        select(products.c.code).where(products.c.code == any_(_CODES)),
        {"codes": [c.product_code for c in changes_in]})).scalars())
    unknown = [FieldProblem(("input", "prices", str(c.index), "product_code"), "NOT_FOUND",
                            f"no product {c.product_code} in the catalogue")
               for c in changes_in if c.product_code not in known]
    if unknown:
        raise Problems(unknown)
    changes = await write_prices(session, price_list_id,
                                 {c.product_code: c.price for c in changes_in})
    if not changes:
        return price_list_id
    await session.execute(update(price_lists).where(price_lists.c.id == price_list_id).values(
        version=price_lists.c.version + 1, updated_at=func.now(), updated_by=actor))
    await record_history(session, actor=actor, entity_type=ENTITY, entity_id=price_list_id,
                         operation="set_prices", changes=price_changes(changes))
    uow.record(price_list_event(await load_row(session, price_list_id), "prices_set",
                                list(changes)))
    await uow.commit()
    return price_list_id
