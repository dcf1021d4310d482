"""The reporting read model (DESIGN §12, docs/reports.md): the other services' events kept as
the rows reports read, so that no report reads another service's database.

One handler per event family, each an upsert that keeps the newest ``version`` (an older or a
repeated event changes nothing; the kit's inbox drops exact duplicates before that). Events that
carry no version (``activity.logged``, ``competitor.observation.recorded``: recorded once, never
changed) are inserted once. A payload without what a projection needs is a ``MalformedEvent``
and goes to the dead-letter queue after the consumer's retries.

The inventory (``crm.clients.asset.*``) is projected from the clients service's asset events
(placed, returned, written off, audited, missing), as the catalogue describes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_analytics.adapters.tables import (
    rm_asset_audits,
    rm_assets,
    rm_client_groups,
    rm_clients,
    rm_competitor_observations,
    rm_contacts,
    rm_contracts,
    rm_tasks,
    rm_watermarks,
)
from crm_common.client_access import (
    MalformedEvent,
    event_moment,
    event_snapshot,
    event_uuid,
    event_version,
    upsert_newer,
)

GROUP_EVENTS = "crm.clients.group.*"
CONTRACT_EVENTS = "crm.clients.contract.*"
MEETING_EVENTS = "crm.activities.meeting.*"
ACTIVITY_EVENTS = "crm.activities.activity.*"
OBSERVATION_EVENTS = "crm.activities.competitor.#"
TASK_EVENTS = "crm.tasks.task.*"
ASSET_EVENTS = "crm.clients.asset.*"

#: the routing keys of the ``<prefix>analytics.reporting`` queue (the clients' own events come
#: through ``analytics.clients``, which keeps ``rm_clients`` beside the access projection)
REPORTING_EVENTS = [GROUP_EVENTS, CONTRACT_EVENTS, MEETING_EVENTS, ACTIVITY_EVENTS,
                    OBSERVATION_EVENTS, TASK_EVENTS, ASSET_EVENTS]

def _data(envelope: dict[str, Any]) -> dict[str, Any]:
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent(f"{envelope.get('type')} carries no data")
    return data


def _text(data: dict[str, Any], key: str, *, optional: bool = False) -> str | None:
    raw = data.get(key)
    if raw is None and optional:
        return None
    if not isinstance(raw, str) or (not raw and not optional):
        raise MalformedEvent(f"{key} is not a text: {raw!r}"[:200])
    return raw


def _date(data: dict[str, Any], key: str, *, optional: bool = False) -> dt.date | None:
    raw = data.get(key)
    if raw is None and optional:
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as exc:
        raise MalformedEvent(f"{key} is not a date: {raw!r}"[:200]) from exc


def _event_time(envelope: dict[str, Any]) -> dt.datetime:
    moment = event_moment(envelope, "time", optional=True)
    return moment or dt.datetime.now(dt.UTC)


async def _mark(session: AsyncSession, part: str, envelope: dict[str, Any]) -> None:
    """Move the part's "data as of" to this event's time (never back)."""
    statement = insert(rm_watermarks).values(part=part, as_of=_event_time(envelope))
    await session.execute(statement.on_conflict_do_update(
        index_elements=["part"], set_={"as_of": sa.func.greatest(
            rm_watermarks.c.as_of, statement.excluded.as_of)}))


async def _insert_once(session: AsyncSession, table: sa.Table, values: dict[str, Any]) -> None:
    await session.execute(insert(table).values(**values).on_conflict_do_nothing())


def _city(client: dict[str, Any]) -> str | None:
    """The city of the client's default address (else the registered one, else the first)."""
    addresses = [a for a in client.get("addresses") or [] if isinstance(a, dict)]
    chosen = next((a for a in addresses if a.get("isDefault")), None) \
        or next((a for a in addresses if a.get("kind") == "registered"), None) \
        or (addresses[0] if addresses else None)
    city = chosen.get("city") if chosen else None
    return city.strip() or None if isinstance(city, str) else None


async def apply_client(session: AsyncSession, envelope: dict[str, Any]) -> None:
    """``crm.clients.client.*``: the client with its group, owner, city and status."""
    client = event_snapshot(envelope, "client")
    name = client.get("tradeName") or client.get("legalName")
    if not isinstance(name, str) or not isinstance(client.get("code"), str):
        raise MalformedEvent("client snapshot lacks code or name")
    await upsert_newer(session, rm_clients, "client_id", {
        "client_id": event_uuid(client, "id"), "code": client["code"], "name": name,
        "kind": str(client.get("kind") or "company"),
        "status": str(client.get("status") or "active"),
        "owner_id": event_uuid(client, "ownerId", optional=True),
        "group_id": event_uuid(client, "groupId", optional=True),
        "city": _city(client), "created_at": event_moment(client, "createdAt", optional=True),
        "version": event_version(client)})
    await _mark(session, "clients", envelope)


async def apply_group(session: AsyncSession, envelope: dict[str, Any]) -> None:
    group = event_snapshot(envelope, "group")
    await upsert_newer(session, rm_client_groups, "group_id", {
        "group_id": event_uuid(group, "id"), "code": _text(group, "code"),
        "name": _text(group, "name"), "archived": group.get("archivedAt") is not None,
        "version": event_version(group)})
    await _mark(session, "clients", envelope)


async def apply_contract(session: AsyncSession, envelope: dict[str, Any]) -> None:
    if envelope.get("type") == "crm.clients.contract.expiring":
        return  # a notice, not a change of the contract
    c = event_snapshot(envelope, "contract")
    await upsert_newer(session, rm_contracts, "contract_id", {
        "contract_id": event_uuid(c, "id"), "client_id": event_uuid(c, "clientId"),
        "number": _text(c, "number"), "kind": _text(c, "kind"), "title": _text(c, "title"),
        "status": _text(c, "status"), "signed_on": _date(c, "signedOn", optional=True),
        "valid_from": _date(c, "validFrom"), "valid_until": _date(c, "validUntil", optional=True),
        "terminated_on": _date(c, "terminatedOn", optional=True),
        "auto_renew": bool(c.get("autoRenew")), "currency": str(c.get("currency") or "EUR"),
        "value": None, "version": event_version(c)})
    await _mark(session, "contracts", envelope)


async def apply_meeting(session: AsyncSession, envelope: dict[str, Any]) -> None:
    """A meeting is a contact while scheduled or cancelled; once completed, the activity it
    became is the contact (``activity.logged``), so the meeting's row says completed and the
    contacts dataset leaves it out."""
    data = _data(envelope)
    starts = event_moment(data, "startsAt")
    ends = event_moment(data, "endsAt")
    assert starts is not None and ends is not None
    minutes = max(0, min(1440, int((ends - starts).total_seconds() // 60)))
    await upsert_newer(session, rm_contacts, "contact_id", {
        "contact_id": event_uuid(data, "meetingId"), "source": "meeting",
        "client_id": event_uuid(data, "clientId"), "employee_id": event_uuid(data, "employeeId"),
        "kind": "meeting", "direction": None, "status": _text(data, "status"),
        "occurred_at": starts, "duration_minutes": minutes, "meeting_id": None,
        "version": event_version(data)})
    await _mark(session, "contacts", envelope)


async def apply_activity(session: AsyncSession, envelope: dict[str, Any]) -> None:
    a = event_snapshot(envelope, "activity")
    minutes = a.get("durationMinutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= 1440:
        raise MalformedEvent(f"durationMinutes is not 0..1440: {minutes!r}"[:200])
    await _insert_once(session, rm_contacts, {
        "contact_id": event_uuid(a, "id"), "source": "activity",
        "client_id": event_uuid(a, "clientId"), "employee_id": event_uuid(a, "employeeId"),
        "kind": _text(a, "kind"), "direction": _text(a, "direction", optional=True),
        "status": "done", "occurred_at": event_moment(a, "occurredAt"),
        "duration_minutes": minutes,
        "meeting_id": event_uuid(a, "meetingId", optional=True), "version": 1})
    await _mark(session, "contacts", envelope)


async def apply_observation(session: AsyncSession, envelope: dict[str, Any]) -> None:
    o = event_snapshot(envelope, "observation")
    competitor = event_snapshot(envelope, "competitor")
    await _insert_once(session, rm_competitor_observations, {
        "observation_id": event_uuid(o, "id"), "competitor_id": event_uuid(o, "competitorId"),
        "competitor_name": _text(competitor, "name"), "observed_on": _date(o, "observedOn"),
        "kind": _text(o, "kind"), "impact": _text(o, "impact"),
        "client_id": event_uuid(o, "clientId", optional=True),
        "product_group": _text(o, "productGroup", optional=True),
        "reported_by": event_uuid(o, "reportedBy"), "created_at": event_moment(o, "createdAt")})
    await _mark(session, "competitor_observations", envelope)


async def apply_task(session: AsyncSession, envelope: dict[str, Any]) -> None:
    if envelope.get("type") in ("crm.tasks.task.due_soon", "crm.tasks.task.overdue"):
        return  # reminders: the task's state is unchanged (overdue is worked out on read)
    t = event_snapshot(envelope, "task")
    await upsert_newer(session, rm_tasks, "task_id", {
        "task_id": event_uuid(t, "id"), "number": _text(t, "number"), "title": _text(t, "title"),
        "kind": _text(t, "kind"), "commitment_type": _text(t, "commitmentType", optional=True),
        "client_id": event_uuid(t, "clientId", optional=True),
        "assignee_id": event_uuid(t, "assigneeId"), "status": _text(t, "status"),
        "outcome": _text(t, "outcome", optional=True), "priority": _text(t, "priority"),
        "due_date": _date(t, "dueDate"), "created_at": event_moment(t, "createdAt"),
        "closed_at": event_moment(t, "closedAt", optional=True), "version": event_version(t)})
    await _mark(session, "tasks", envelope)


def _start_of(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else dt.datetime.combine(day, dt.time(), dt.UTC)


async def apply_asset(session: AsyncSession, envelope: dict[str, Any]) -> None:
    """The advertising inventory, as the clients service publishes it (events/asyncapi.yaml):

    * ``.placed`` / ``.returned`` / ``.written_off``: ``data.asset`` (the asset's state: id,
      type name, inventory number, status, last audit, ``version``) and, but for a write-off,
      ``data.placement`` (client, placed on, next audit due, returned on);
    * ``.audited`` / ``.missing``: one audit line (``auditId``, ``assetId``, ``inventoryNumber``,
      ``assetTypeName``, ``clientId``, ``placementId``, ``result``, ``condition``,
      ``auditedBy``, ``auditedAt``, ``version``), kept once per (audit, asset) and as the
      asset's last audit; the asset's status is the one its own events say.
    """
    data = _data(envelope)
    verb = str(envelope.get("type", "")).rsplit(".", 1)[-1]
    keep: tuple[str, ...] = ()
    if verb in ("audited", "missing"):
        asset_id = event_uuid(data, "assetId")
        version = event_version(data)
        audited_at = event_moment(data, "auditedAt")
        result = _text(data, "result")
        client_id = event_uuid(data, "clientId")
        placement_id = event_uuid(data, "placementId", optional=True)
        inventory_number = _text(data, "inventoryNumber")
        type_name = _text(data, "assetTypeName")
        await _insert_once(session, rm_asset_audits, {
            "audit_id": event_uuid(data, "auditId"), "asset_id": asset_id,
            "inventory_number": inventory_number, "asset_type_name": type_name,
            "client_id": client_id, "placement_id": placement_id, "result": result,
            "condition": _text(data, "condition", optional=True),
            "audited_by": event_uuid(data, "auditedBy", optional=True),
            "audited_at": audited_at, "version": version})
        values: dict[str, Any] = {
            "asset_id": asset_id, "inventory_number": inventory_number,
            "asset_type_name": type_name, "client_id": client_id, "placement_id": placement_id,
            "status": "placed", "last_audit_at": audited_at, "last_audit_result": result,
            "version": version}
        keep = ("status",)  # an audit line does not change the asset's status
    elif verb in ("placed", "returned", "written_off"):
        asset = event_snapshot(envelope, "asset")
        values = {
            "asset_id": event_uuid(asset, "id"),
            "inventory_number": _text(asset, "inventoryNumber"),
            "asset_type_name": _text(asset, "assetTypeName"), "status": _text(asset, "status"),
            "last_audit_at": event_moment(asset, "lastAuditedAt", optional=True),
            "version": event_version(asset)}
        if verb != "written_off":
            placement = event_snapshot(envelope, "placement")
            values.update(
                client_id=event_uuid(placement, "clientId"),
                placement_id=event_uuid(placement, "id"),
                placed_at=_start_of(_date(placement, "placedOn")),
                next_audit_due=_date(placement, "nextAuditDue", optional=True),
                returned_at=_start_of(_date(placement, "returnedOn", optional=True)))
    else:
        return  # another asset event: nothing the reports keep
    await _upsert_asset(session, values, keep=keep)
    await _mark(session, "inventory", envelope)


async def _upsert_asset(session: AsyncSession, values: dict[str, Any], *,
                        keep: tuple[str, ...] = ()) -> None:
    """Newest version wins; the fields an event does not name, and ``keep``, keep their stored
    value (``keep`` is written only when the asset is new)."""
    t = rm_assets
    values = {**values, "updated_at": sa.func.now()}
    statement = insert(t).values(**values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["asset_id"],
        set_={name: statement.excluded[name]
              for name in values if name != "asset_id" and name not in keep},
        where=t.c.version <= statement.excluded.version))


Apply = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]

_BY_PREFIX: list[tuple[str, Apply]] = [
    ("crm.clients.group.", apply_group),
    ("crm.clients.contract.", apply_contract),
    ("crm.clients.asset.", apply_asset),
    ("crm.activities.meeting.", apply_meeting),
    ("crm.activities.activity.", apply_activity),
    ("crm.activities.competitor.", apply_observation),
    ("crm.tasks.task.", apply_task),
]


async def apply_reporting_event(session: AsyncSession, envelope: dict[str, Any]) -> None:
    """Any event of the ``analytics.reporting`` queue, to its projection."""
    type_ = str(envelope.get("type", ""))
    for prefix, apply in _BY_PREFIX:
        if type_.startswith(prefix):
            await apply(session, envelope)
            return
