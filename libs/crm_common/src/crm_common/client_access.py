"""Who may see which client, as every service keeps it (DESIGN §6), built from events.

The rule: admins and managers see every client; a sales rep sees a client they own, or one with
which they have a meeting that is scheduled (from the moment the scheduling event arrives until
the meeting's end plus a grace period; cancelling revokes it at once). Anything else reads as not
found. The clients service owns clients and their owners; the activities service owns meetings.
Each service keeps the projections it needs, in its own database:

``access_clients``
    one row per client (id, code, name, owner, status, version) from ``crm.clients.client.*``
    events (every such event carries the full ``client`` snapshot). Used by services that do not
    own clients (activities, tasks) to check that a client exists and who owns it.
``access_meeting_grants``
    one row per meeting (client, employee, start, end, status, version) from
    ``crm.activities.meeting.*`` events. Used by every service, the clients service included.
``access_employees``
    one row per employee (name, e-mail, role, manager, active, version) from
    ``crm.clients.employee.*`` events, for services that check assignees.

Events may arrive out of order or twice (the inbox drops exact duplicates); every upsert here
keeps the row with the highest ``version``, so a late, older event changes nothing.

Wiring, in a service's ``app.py``::

    tables = define_client_access_tables(metadata)      # in adapters/tables.py (and a migration)
    register_client_access(runner, tables)              # in setup_consumers

and in queries, ``visible_client_condition(tables, principal, client_col, now, grace)`` (or
:func:`can_see_client`) applies the rule in SQL.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, overload

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from crm_common.auth import Principal
from crm_common.columns import timestamptz, version_columns
from crm_common.db import fetch_rows
from crm_common.paging import IDS

CLIENT_EVENTS = "crm.clients.client.*"
MEETING_EVENTS = "crm.activities.meeting.*"
EMPLOYEE_EVENTS = "crm.clients.employee.*"

#: meeting statuses as the activities service publishes them; only ``cancelled`` revokes
MEETING_CANCELLED = "cancelled"


@dataclass(frozen=True)
class ClientAccessTables:
    grants: sa.Table
    #: absent in the clients service, which owns clients and employees
    clients: sa.Table | None = None
    employees: sa.Table | None = None

    def require_clients(self) -> sa.Table:
        if self.clients is None:
            raise RuntimeError("this service keeps no access_clients projection")
        return self.clients

    def require_employees(self) -> sa.Table:
        if self.employees is None:
            raise RuntimeError("this service keeps no access_employees projection")
        return self.employees


def define_client_access_tables(
    metadata: sa.MetaData, *, clients: bool = True, employees: bool = True
) -> ClientAccessTables:
    """Add (or return the already defined) projection tables to ``metadata``: always the meeting
    grants; the client and employee projections unless the service owns those.

    A service's Alembic migration must create the same tables; copy the DDL from here (the
    migration tests compare ``tables.py`` with the migrated schema).
    """
    if "access_meeting_grants" in metadata.tables:
        return ClientAccessTables(
            metadata.tables["access_meeting_grants"],
            metadata.tables.get("access_clients"),
            metadata.tables.get("access_employees"),
        )
    return ClientAccessTables(
        _grants_table(metadata),
        _clients_table(metadata) if clients else None,
        _employees_table(metadata) if employees else None,
    )


def _clients_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "access_clients",
        metadata,
        sa.Column("client_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        *version_columns(),
        sa.Index("ix_access_clients_owner", "owner_id"),
    )


def _grants_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "access_meeting_grants",
        metadata,
        sa.Column("meeting_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("client_id", UUID(as_uuid=True), nullable=False),
        sa.Column("employee_id", UUID(as_uuid=True), nullable=False),
        sa.Column("starts_at", timestamptz(), nullable=False),
        sa.Column("ends_at", timestamptz(), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        *version_columns(),
        sa.Index("ix_access_meeting_grants_employee", "employee_id", "client_id"),
    )


def _employees_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "access_employees",
        metadata,
        sa.Column("employee_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("manager_id", UUID(as_uuid=True), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        *version_columns(),
    )


# -- applying events ---------------------------------------------------------------------------


class MalformedEvent(ValueError):
    """An event whose payload lacks what the projection needs (it goes to the DLQ)."""


def event_snapshot(envelope: dict[str, Any], key: str) -> dict[str, Any]:
    """The snapshot object ``data.<key>`` of an event (``client``, ``employee``, ``group``,
    ``contract``); ``MalformedEvent`` when it has none."""
    data = envelope.get("data")
    snapshot = data.get(key) if isinstance(data, dict) else None
    if not isinstance(snapshot, dict):
        raise MalformedEvent(f"{envelope.get('type')} carries no {key} snapshot")
    return snapshot


def event_uuid(data: dict[str, Any], key: str, *, optional: bool = False) -> uuid.UUID | None:
    """``data[key]`` as a UUID (None when absent and ``optional``); ``MalformedEvent`` else."""
    raw = data.get(key)
    if raw is None and optional:
        return None
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError) as exc:
        raise MalformedEvent(f"{key} is not a UUID: {raw!r}"[:200]) from exc


@overload
def event_moment(data: dict[str, Any], key: str, *,
                 optional: Literal[False] = False) -> dt.datetime: ...


@overload
def event_moment(data: dict[str, Any], key: str, *, optional: bool) -> dt.datetime | None: ...


def event_moment(data: dict[str, Any], key: str, *,
                 optional: bool = False) -> dt.datetime | None:
    """``data[key]`` as a timezone-aware moment (RFC 3339; None when absent and ``optional``);
    ``MalformedEvent`` else."""
    raw = data.get(key)
    if raw is None and optional:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedEvent(f"{key} is not a timestamp: {raw!r}") from exc
    if moment.tzinfo is None:
        raise MalformedEvent(f"{key} has no time zone: {raw!r}")
    return moment


def event_version(data: dict[str, Any]) -> int:
    """``data["version"]``, a positive integer; ``MalformedEvent`` else."""
    raw = data.get("version")
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise MalformedEvent(f"version is not a positive integer: {raw!r}"[:200])
    return raw


async def upsert_newer(
    session: AsyncSession, table: sa.Table, key: str, values: dict[str, Any]
) -> bool:
    """Insert, or overwrite only when the incoming version is higher than the stored one;
    whether the row was written (False: an older or repeated version, nothing changed)."""
    values = {**values, "updated_at": sa.func.now()}
    statement = insert(table).values(**values)
    upsert = statement.on_conflict_do_update(
        index_elements=[key],
        set_={name: statement.excluded[name] for name in values if name != key},
        where=table.c.version < statement.excluded.version,
    ).returning(table.c[key])
    return (await session.execute(upsert)).first() is not None


async def apply_client_event(
    session: AsyncSession, tables: ClientAccessTables, envelope: dict[str, Any]
) -> None:
    """Any ``crm.clients.client.*`` event: keep the client's code, name, owner and status."""
    client = event_snapshot(envelope, "client")
    name = client.get("tradeName") or client.get("legalName")
    if not isinstance(name, str) or not isinstance(client.get("code"), str):
        raise MalformedEvent("client snapshot lacks code or name")
    await upsert_newer(session, tables.require_clients(), "client_id", {
        "client_id": event_uuid(client, "id"),
        "code": client["code"],
        "name": name,
        "owner_id": event_uuid(client, "ownerId", optional=True),
        "status": str(client.get("status", "active")),
        "version": event_version(client),
    })


async def apply_meeting_event(
    session: AsyncSession, tables: ClientAccessTables, envelope: dict[str, Any]
) -> None:
    """Any ``crm.activities.meeting.*`` event: keep who meets which client, when, and whether
    the meeting still stands (``status`` ``cancelled`` revokes the grant)."""
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent(f"{envelope.get('type')} carries no data")
    starts_at, ends_at = event_moment(data, "startsAt"), event_moment(data, "endsAt")
    status = data.get("status")
    if not isinstance(status, str):
        raise MalformedEvent(f"status is not a string: {status!r}")
    await upsert_newer(session, tables.grants, "meeting_id", {
        "meeting_id": event_uuid(data, "meetingId"),
        "client_id": event_uuid(data, "clientId"),
        "employee_id": event_uuid(data, "employeeId"),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "status": status,
        "version": event_version(data),
    })


async def apply_employee_event(
    session: AsyncSession, tables: ClientAccessTables, envelope: dict[str, Any]
) -> None:
    """Any ``crm.clients.employee.*`` event: keep the employee's name, role and whether active."""
    employee = event_snapshot(envelope, "employee")
    if not isinstance(employee.get("fullName"), str) or not isinstance(employee.get("role"), str):
        raise MalformedEvent("employee snapshot lacks fullName or role")
    await upsert_newer(session, tables.require_employees(), "employee_id", {
        "employee_id": event_uuid(employee, "id"),
        "full_name": employee["fullName"],
        "email": employee.get("email"),
        "role": employee["role"],
        "manager_id": event_uuid(employee, "managerId", optional=True),
        "active": bool(employee.get("active", True)),
        "version": event_version(employee),
    })


Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]


class Registrar(Protocol):
    """What :func:`register_client_access` needs of a ``ConsumerRunner``."""

    def register(self, name: str, routing_keys: list[str], handler: Handler) -> str: ...


def register_client_access(
    runner: Registrar,
    tables: ClientAccessTables,
    *,
    clients: bool = True,
    meetings: bool = True,
    employees: bool = True,
) -> list[str]:
    """Register the projection handlers on a ``ConsumerRunner``; return the queue names.

    Queues: ``<service>.access-clients``, ``<service>.access-meetings``,
    ``<service>.access-employees``.
    """
    queues: list[str] = []

    def bind(apply: Callable[[AsyncSession, ClientAccessTables, dict[str, Any]], Awaitable[None]]
             ) -> Handler:
        async def handle(session: AsyncSession, envelope: dict[str, Any]) -> None:
            await apply(session, tables, envelope)
        return handle

    if clients and tables.clients is not None:
        queues.append(runner.register("access-clients", [CLIENT_EVENTS], bind(apply_client_event)))
    if meetings:
        queues.append(
            runner.register("access-meetings", [MEETING_EVENTS], bind(apply_meeting_event))
        )
    if employees and tables.employees is not None:
        queues.append(
            runner.register("access-employees", [EMPLOYEE_EVENTS], bind(apply_employee_event))
        )
    return queues


# -- the rule ----------------------------------------------------------------------------------

#: the rule's values as bind parameters, for statements built once and run with
#: :func:`rule_params` (who asks, at which moment, with which grace period)
ME = sa.bindparam("visible_me", type_=UUID(as_uuid=True))
NOW = sa.bindparam("visible_now", type_=timestamptz())
GRACE = sa.bindparam("visible_grace", type_=sa.Interval())


def rule_params(principal: Principal, now: dt.datetime, grace: dt.timedelta) -> dict[str, Any]:
    """The values of :data:`ME`, :data:`NOW` and :data:`GRACE` for one request."""
    return {ME.key: principal.subject, NOW.key: now, GRACE.key: grace}


def standing_grant(grants: sa.FromClause, employee_id: Any, now: Any,
                   grace: Any) -> sa.ColumnElement[bool]:
    """A condition on ``grants``: the row is a grant of ``employee_id`` that stands at ``now``
    (not cancelled, and ``now`` before the meeting's end plus ``grace``). The arguments are
    values or bind parameters."""
    return sa.and_(grants.c.employee_id == employee_id,
                   grants.c.status != MEETING_CANCELLED,
                   grants.c.ends_at + grace > now)


def granted_client_ids(
    tables: ClientAccessTables, employee_id: uuid.UUID, now: dt.datetime, grace: dt.timedelta
) -> sa.Select[tuple[uuid.UUID]]:
    """The clients ``employee_id`` has a standing meeting grant for at ``now``."""
    g = tables.grants
    return sa.select(g.c.client_id).where(standing_grant(g, employee_id, now, grace))


def rep_client_condition(
    tables: ClientAccessTables,
    client_id: sa.ColumnElement[Any],
    me: Any,
    now: Any,
    grace: Any,
    *,
    owner_id: sa.ColumnElement[Any] | None = None,
) -> sa.ColumnElement[bool]:
    """A sales rep's half of the rule: the row whose client is ``client_id`` is owned by ``me``
    or granted to ``me`` by a meeting that stands at ``now``. ``me``, ``now`` and ``grace`` are
    values or bind parameters (a statement built once takes them as parameters).

    Both halves are correlated ``EXISTS`` probes (a primary-key probe of ``access_clients``, an
    index probe of ``access_meeting_grants``), not ``client_id IN (SELECT … WHERE owner_id =
    :me)``: inside the ``OR`` PostgreSQL cannot turn the ``IN`` into a join and hashes the rep's
    whole portfolio (thousands of clients) in every statement, even one that looks at five rows
    (issue 15: 6.7–7.3 ms → 0.16–0.20 ms for the tasks of a rep's agenda). For an ``EXISTS`` it
    plans both a per-row probe and a hashed subplan and keeps the cheaper for the rows at hand.
    The answers are the same (``tests/test_client_access.py`` compares both forms).
    """
    g = tables.grants.alias("access_grant")
    granted = sa.exists().where(g.c.client_id == client_id, standing_grant(g, me, now, grace))
    if owner_id is not None:
        return sa.or_(owner_id == me, granted)
    c = tables.require_clients().alias("access_owner")
    owned = sa.exists().where(c.c.client_id == client_id, c.c.owner_id == me)
    return sa.or_(owned, granted)


def visible_client_condition(
    tables: ClientAccessTables,
    principal: Principal,
    client_id: sa.ColumnElement[Any],
    now: dt.datetime,
    grace: dt.timedelta,
    *,
    owner_id: sa.ColumnElement[Any] | None = None,
) -> sa.ColumnElement[bool]:
    """A SQL condition: the row whose client is ``client_id`` is visible to ``principal``.
    ``grace`` is the settings' ``access_grace`` (its one source: no default here).

    ``owner_id`` is the owner column where the caller has it (the clients service); otherwise the
    owner comes from ``access_clients``. A rep's condition is :func:`rep_client_condition`.
    """
    if principal.sees_all_clients:
        return sa.true()
    return rep_client_condition(tables, client_id, principal.subject, now, grace,
                                owner_id=owner_id)


async def visible_client_ids(
    conn: AsyncConnection | AsyncSession,
    tables: ClientAccessTables,
    principal: Principal,
    client_ids: Sequence[uuid.UUID],
    now: dt.datetime,
    grace: dt.timedelta,
) -> set[uuid.UUID]:
    """Which of ``client_ids`` ``principal`` may see, in one statement: all of them for admins
    and managers (known to the projection or not), else those the projection shows the rep
    owns or has a standing meeting grant for."""
    if principal.sees_all_clients:
        return set(client_ids)
    if not client_ids:
        return set()
    c = tables.require_clients().c
    rows = await conn.execute(sa.select(c.client_id).where(
        c.client_id.in_(list(client_ids)),
        visible_client_condition(tables, principal, c.client_id, now, grace)))
    return set(rows.scalars())


async def can_see_client(
    conn: AsyncConnection | AsyncSession,
    tables: ClientAccessTables,
    principal: Principal,
    client_id: uuid.UUID,
    now: dt.datetime | None,
    grace: dt.timedelta,
) -> bool:
    """True if the client is known to the projection and visible to ``principal``."""
    now = now or dt.datetime.now(dt.UTC)
    c = tables.require_clients()
    statement = sa.select(sa.literal(1)).where(
        c.c.client_id == client_id,
        visible_client_condition(tables, principal, c.c.client_id, now, grace),
    )
    return (await conn.execute(statement)).first() is not None


@dataclass(frozen=True)
class ClientAccess:
    """Who asks, and the moment and grace period the access rule is evaluated with: the
    ``Access`` of a service's ``service_layer/visibility.py`` subclasses it, naming its access
    projection (``tables = access``) and adding what else its rule says."""

    principal: Principal
    now: dt.datetime
    grace: dt.timedelta
    #: the service's access projection (set by the subclass)
    tables: ClassVar[ClientAccessTables]

    @property
    def sees_all(self) -> bool:
        return self.principal.sees_all_clients

    @property
    def params(self) -> dict[str, Any]:
        """The values of the rule's bind parameters (:func:`rule_params`), for statements built
        once over :data:`ME`, :data:`NOW` and :data:`GRACE`."""
        return rule_params(self.principal, self.now, self.grace)

    async def visible_among(self, conn: AsyncConnection | AsyncSession,
                            client_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these clients the principal may see (one statement)."""
        return await visible_client_ids(conn, self.tables, self.principal, client_ids,
                                        self.now, self.grace)


async def active_employee(
    conn: AsyncConnection | AsyncSession, tables: ClientAccessTables, employee_id: uuid.UUID
) -> bool:
    """True if the staff directory projection knows ``employee_id`` as an active employee."""
    e = tables.require_employees()
    statement = sa.select(e.c.active).where(e.c.employee_id == employee_id)
    return bool((await conn.execute(statement)).scalar())


@functools.cache
def _projected_employees_statement(employees: sa.Table) -> sa.Select[Any]:
    return sa.select(employees).where(employees.c.employee_id == sa.any_(IDS))


async def projected_employees(reader: AsyncEngine, tables: ClientAccessTables,
                              ids: Sequence[uuid.UUID]) -> list[sa.RowMapping | None]:
    """The staff directory projection's rows for these employees (one statement; ``None`` for
    one it does not know), in the order asked: a DataLoader's function. The rows are as the
    last ``crm.clients.employee.*`` event left them, so a rename shows here once its event is
    consumed (the clients service's ``Employee`` has it at once)."""
    rows = await fetch_rows(reader, _projected_employees_statement(tables.require_employees()),
                            {"ids": list(ids)})
    found = {r["employee_id"]: r for r in rows}
    return [found.get(i) for i in ids]
