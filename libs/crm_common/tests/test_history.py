"""The history kit: one table definition, one writer (against the real database), one diff,
and the API's spelling of ``changes`` (camelCase keys, enum names) on every shape an entry has."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm_common.correlation import correlation_id
from crm_common.graphql.history import history_entry
from crm_common.history import (
    HISTORY_OF,
    EnumKeys,
    HistoryLoader,
    HistoryWriter,
    api_changes,
    define_history_table,
    diff,
    record_history,
)


class Status(enum.Enum):
    ACTIVE = "active"
    IN_PROGRESS = "in_progress"


class Kind(enum.Enum):
    OFFICE = "office"


class Doc(enum.Enum):
    DELIVERY_NOTE = "delivery_note"


SPELLING = {"status": Status, "documents": EnumKeys(Doc), "addresses": {"kind": Kind}}


def test_diff_lists_the_changed_fields_with_old_and_new_values() -> None:
    old = {"name": "A", "status": "active", "limit": Decimal("1.0"), "other": 1}
    assert diff(old, {"name": "B", "status": "active", "limit": Decimal("2.5")}) == {
        "name": ["A", "B"], "limit": [Decimal("1.0"), Decimal("2.5")]}
    assert diff(old, {}) == {}


def test_update_changes_get_camel_case_keys_enum_names_and_json_values() -> None:
    owner = uuid.uuid4()
    changes = {"status": ["active", "in_progress"], "owner_id": [None, owner],
               "valid_until": [dt.date(2026, 1, 2), None], "reason": "moved",
               "credit_limit": [Decimal("10.50"), Decimal("11")],
               "activated_on": [None, dt.datetime(2026, 1, 2, 3, tzinfo=dt.UTC)]}
    assert api_changes(changes, SPELLING) == {
        "status": ["ACTIVE", "IN_PROGRESS"], "ownerId": [None, str(owner)],
        "validUntil": ["2026-01-02", None], "reason": "moved",
        "creditLimit": ["10.50", "11"], "activatedOn": [None, "2026-01-02T03:00:00.000000Z"]}


def test_new_and_old_snapshots_and_nested_entities_are_spelled_too() -> None:
    snapshot = {"status": "active", "bank_name": "ОББ", "tags": ["active"],
                "addresses": [{"kind": "office", "postal_code": "1000", "status": "x"}],
                "documents": {"delivery_note": "ЕН", "unknown_kind": "?"}}
    spelled = {"status": "ACTIVE", "bankName": "ОББ", "tags": ["active"],
               "addresses": [{"kind": "OFFICE", "postalCode": "1000", "status": "x"}],
               "documents": {"DELIVERY_NOTE": "ЕН", "unknown_kind": "?"}}
    assert api_changes({"new": snapshot}, SPELLING) == {"new": spelled}
    assert api_changes({"old": snapshot}, SPELLING) == {"old": spelled}
    # a pair of nested values (an update of a list of entities)
    assert api_changes({"addresses": [[{"kind": "office"}], []]}, SPELLING) == {
        "addresses": [[{"kind": "OFFICE"}], []]}


def test_values_outside_the_spelling_stay_as_they_are_and_enum_members_use_their_name() -> None:
    assert api_changes({"status": ["gone", None], "kind": "office"}, SPELLING) == {
        "status": ["gone", None], "kind": "office"}  # not a Status value; kind is not spelled
    assert api_changes({"state": Status.IN_PROGRESS, "camelKey": 1}) == {
        "state": "IN_PROGRESS", "camelKey": 1}
    with pytest.raises(TypeError):
        api_changes({"x": object()})


def test_the_table_has_the_common_columns_and_a_single_entity_history_its_own(h: Any) -> None:
    history, thing_history = h.history, h.thing_history
    common = {"id", "operation", "actor_id", "correlation_id", "at", "changes"}
    assert set(history.c.keys()) == common | {"entity_type", "entity_id", "client_id"}
    assert set(thing_history.c.keys()) == common | {"thing_id", "note"}
    assert thing_history.info[HISTORY_OF] == ("thing", "thing_id")
    assert define_history_table(history.metadata) is history  # defined once per metadata


async def test_the_writer_appends_an_entry_in_the_callers_transaction(db: AsyncEngine,
                                                                      h: Any) -> None:
    history = h.history
    entity, client, actor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    token = correlation_id.set("corr-1")
    try:
        async with AsyncSession(db) as session, session.begin():
            await record_history(session, history, actor=actor, entity_type="contract",
                                 entity_id=entity, client_id=client, operation="activate",
                                 changes={"status": ["active", "in_progress"],
                                          "activated_on": [None, dt.date(2026, 1, 2)]},
                                 spelling=SPELLING)
        async with AsyncSession(db) as session:
            await record_history(session, history, actor=None, entity_type="contract",
                                 entity_id=entity, operation="expire", changes={})
            await session.rollback()  # not committed: not written
    finally:
        correlation_id.reset(token)
    async with db.connect() as conn:
        rows = (await conn.execute(sa.select(history).where(history.c.entity_id == entity))
                ).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    assert (row["entity_type"], row["client_id"], row["actor_id"], row["operation"],
            row["correlation_id"]) == ("contract", client, actor, "activate", "corr-1")
    assert row["changes"] == {"status": ["ACTIVE", "IN_PROGRESS"],
                              "activatedOn": [None, "2026-01-02"]}
    assert row["at"].tzinfo is not None
    entry = history_entry(row)
    assert (entry.entity_type, entry.entity_id, entry.actor_id) == (
        "contract", str(entity), str(actor))


async def test_a_bound_writer_spells_by_entity_type_and_fills_the_own_columns(
        db: AsyncEngine, h: Any) -> None:
    thing_history, thing = h.thing_history, uuid.uuid4()
    write = HistoryWriter(thing_history, {"thing": {"status": Status}})
    async with AsyncSession(db) as session, session.begin():
        await write(session, actor=None, entity_type="thing", entity_id=thing,
                    operation="status_changed", changes={"status": ["active", "in_progress"]},
                    note="why")
        with pytest.raises(ValueError):  # a single-entity history refuses other entities
            await write(session, actor=None, entity_type="other", entity_id=thing,
                        operation="x", changes={})
    loader = HistoryLoader(db, thing_history, "thing_id")
    page = await loader.load((thing, 10, None))
    (row,) = page.rows
    assert (row["thing_id"], row["note"], row["changes"]) == (
        thing, "why", {"status": ["ACTIVE", "IN_PROGRESS"]})
    entry = history_entry(row, entity=thing_history.info[HISTORY_OF])
    assert (entry.entity_type, entry.entity_id, entry.actor_id) == ("thing", str(thing), None)
