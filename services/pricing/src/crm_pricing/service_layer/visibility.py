"""Who may do what in pricing (DESIGN §6, issue 11), the one place it is stated:

- admins and managers manage price lists and rules and see everything;
- a sales rep reads rules and price lists, and quotes and reads the personal price list and
  tiers of the clients they may see (owned, or a standing meeting grant: the shared rule over
  this service's access projection); any other client reads as not found.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from crm_common.client_access import ClientAccess
from crm_common.problems import forbidden
from crm_pricing.adapters.tables import access


class Access(ClientAccess):
    """Who asks, and the moment and grace period the access rule is evaluated with."""

    tables = access

    @property
    def manages_pricing(self) -> bool:
        """Admins and managers keep price lists and rules (DESIGN §6: pricing policy)."""
        return self.principal.sees_all_clients

    def require_manager(self, what: str) -> None:
        """A ``FORBIDDEN`` userError unless the principal manages pricing."""
        if not self.manages_pricing:
            raise forbidden(f"only managers and admins {what}")

    async def may_see(self, conn: AsyncConnection, client_id: uuid.UUID) -> bool:
        return client_id in await self.visible_among(conn, [client_id])
