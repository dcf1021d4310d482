"""The access rule of DESIGN §6 as SQL over the clients table: managers and admins see every
client; a rep sees the clients they own and those they have a standing meeting grant for.

Every read of anything hanging off a client (addresses, contacts, bank accounts, contracts,
history) goes through the client first, so this is the one place the rule is applied.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement

from crm_clients.adapters.tables import access, clients
from crm_common.auth import Principal
from crm_common.client_access import visible_client_condition


def visible_clients(principal: Principal, now: dt.datetime | None = None,
                    grace: dt.timedelta = dt.timedelta(hours=24)) -> ColumnElement[bool]:
    """A condition on ``clients``: the row is visible to ``principal`` at ``now``."""
    return visible_client_condition(
        access, principal, clients.c.id, now or dt.datetime.now(dt.UTC), grace,
        owner_id=clients.c.owner_id,
    )
