"""The access rule of DESIGN §6 as SQL over the clients table: managers and admins see every
client; a rep sees the clients they own and those they have a standing meeting grant for (from
the meeting's scheduling until its end plus the grace period; cancelling revokes it); anyone
else sees none.

This is the one place the rule is stated: :func:`client_rule` decides it, and everything calls
it: the list and by-ids queries (:mod:`client_queries`, :mod:`contract_queries`), the loaders and
the federation references (through ``client_queries.clients_by_ids``) and the commands
(:func:`can_see_client` in :mod:`client`, :func:`client_for_command` in :mod:`contract` and
the inventory's commands). Every read
of anything hanging off a client (addresses, contacts, bank accounts, contracts, history) goes
through the client first.

The rep's condition is built once, over bind parameters (:data:`ME`, :data:`NOW`,
:data:`GRACE`): statements that use it as it is (``client_queries._VISIBLE_CLIENTS_BY_IDS``) are
built and compiled once and take the rule's values as parameters (``rule.params``). The grace period
has one source, the settings (``ACCESS_GRACE_HOURS``); every function takes it explicitly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Interval,
    RowMapping,
    bindparam,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import assets, clients, meeting_grants, placements
from crm_common.auth import Principal
from crm_common.client_access import standing_grant

#: the rule's parameters: who asks, at which moment, with which grace period
ME = bindparam("visible_me", type_=UUID(as_uuid=True))
NOW = bindparam("visible_now", type_=DateTime(timezone=True))
GRACE = bindparam("visible_grace", type_=Interval())

#: every client (managers, admins)
EVERY_CLIENT: ColumnElement[bool] = true()
#: no client (a principal with no role that sees clients)
NO_CLIENT: ColumnElement[bool] = false()


def _owned_or_granted(me: Any, now: Any, grace: Any) -> ColumnElement[bool]:
    return or_(
        clients.c.owner_id == me,
        exists().where(meeting_grants.c.client_id == clients.c.id,
                       standing_grant(meeting_grants, me, now, grace)),
    )


#: a rep's: owned, or granted by a standing meeting
OWNED_OR_GRANTED = _owned_or_granted(ME, NOW, GRACE)


@dataclass(frozen=True)
class ClientRule:
    """The rule for one principal: a condition on ``clients`` (one of the three above, the same
    object every time) and the values of its parameters."""

    condition: ColumnElement[bool]
    params: dict[str, Any] = field(default_factory=dict)

    def bound(self) -> ColumnElement[bool]:
        """The condition with its values in it, for a statement built per call."""
        if self.condition is not OWNED_OR_GRANTED:
            return self.condition
        return _owned_or_granted(*(bindparam(p.key, self.params[p.key], type_=p.type)
                                   for p in (ME, NOW, GRACE)))


def client_rule(principal: Principal, now: dt.datetime | None = None, *,
                grace: dt.timedelta) -> ClientRule:
    """The access rule: which clients ``principal`` sees at ``now`` (default: now)."""
    if principal.sees_all_clients:
        return ClientRule(EVERY_CLIENT)
    if "sales_rep" not in principal.roles:
        return ClientRule(NO_CLIENT)
    if grace < dt.timedelta(0):
        raise ValueError("the grace period cannot be negative")
    return ClientRule(OWNED_OR_GRANTED, {
        ME.key: principal.subject, NOW.key: now or dt.datetime.now(dt.UTC), GRACE.key: grace})


def visible_clients(principal: Principal, now: dt.datetime | None = None, *,
                    grace: dt.timedelta) -> ColumnElement[bool]:
    """A condition on ``clients``: the row is visible to ``principal`` at ``now``."""
    return client_rule(principal, now, grace=grace).bound()


_SEEN = select(exists().where(clients.c.id == bindparam("client_id", type_=UUID(as_uuid=True)),
                              OWNED_OR_GRANTED))


async def can_see_client(session: AsyncSession, principal: Principal, client_id: uuid.UUID, *,
                         grace: dt.timedelta, now: dt.datetime | None = None) -> bool:
    """May ``principal`` see this client now (a command's check; no statement for a manager)?"""
    rule = client_rule(principal, now, grace=grace)
    if rule.condition is not OWNED_OR_GRANTED:
        return rule.condition is EVERY_CLIENT
    return bool(await session.scalar(_SEEN, {"client_id": client_id, **rule.params}))


async def client_for_command(session: AsyncSession, principal: Principal, client_id: uuid.UUID,
                             grace: dt.timedelta, *, lock: bool
                             ) -> tuple[RowMapping | None, bool]:
    """The client row a command on its dossier needs (id, owner, status; locked ``FOR UPDATE``
    when ``lock``) and whether the principal may see it, in one statement."""
    stmt = select(clients.c.id, clients.c.owner_id, clients.c.status,
                  visible_clients(principal, grace=grace).label("visible")
                  ).where(clients.c.id == client_id)
    if lock:
        stmt = stmt.with_for_update(of=clients)
    row = (await session.execute(stmt)).mappings().one_or_none()
    return row, bool(row and row["visible"])


def visible_assets(principal: Principal, now: dt.datetime | None = None, *,
                   grace: dt.timedelta) -> ColumnElement[bool]:
    """A condition on ``assets``: managers and admins see every asset (stock included); anyone
    else sees an asset while it is placed at a client they see (DESIGN §6: the inventory is
    part of the client's dossier)."""
    rule = client_rule(principal, now, grace=grace)
    if rule.condition is EVERY_CLIENT:
        return EVERY_CLIENT
    return exists().where(placements.c.asset_id == assets.c.id,
                          placements.c.returned_on.is_(None),
                          clients.c.id == placements.c.client_id, rule.bound())
